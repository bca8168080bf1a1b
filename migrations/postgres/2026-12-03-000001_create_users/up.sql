-- Accounts and the history of when each one was seen. Times are UTC in TIMESTAMP
-- (without time zone) columns, microsecond precision.

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_seen TIMESTAMP
);

COMMENT ON TABLE users IS 'Accounts of people who sign in to Pulse.';
COMMENT ON COLUMN users.id IS 'Surrogate key.';
COMMENT ON COLUMN users.email IS 'Sign-in address, stored trimmed and lower-cased; unique.';
COMMENT ON COLUMN users.password_hash IS 'Argon2id hash in PHC string format.';
COMMENT ON COLUMN users.is_admin IS 'Administrators can open /admin; the first account is one.';
COMMENT ON COLUMN users.created_at IS 'When the account was created (UTC).';
COMMENT ON COLUMN users.updated_at IS
    'When the account''s own data last changed (UTC); recording a visit never touches it.';
COMMENT ON COLUMN users.last_seen IS
    'Last time the user was seen (UTC), precise to the last-seen interval; NULL until the first visit.';

CREATE INDEX users_last_seen_idx ON users (last_seen);
CREATE INDEX users_created_at_idx ON users (created_at);

CREATE TABLE user_visits (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    visited_on DATE NOT NULL,
    PRIMARY KEY (user_id, visited_on)
);

COMMENT ON TABLE user_visits IS 'One row per user per UTC day on which the user was seen.';
COMMENT ON COLUMN user_visits.user_id IS 'The user who was seen.';
COMMENT ON COLUMN user_visits.visited_on IS 'The UTC calendar day on which they were seen.';

CREATE INDEX user_visits_visited_on_idx ON user_visits (visited_on, user_id);

CREATE TABLE app_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

COMMENT ON TABLE app_secrets IS 'Secrets generated once and shared by every instance.';
COMMENT ON COLUMN app_secrets.name IS 'What the secret is for, for example session_key.';
COMMENT ON COLUMN app_secrets.value IS 'The secret, base64-encoded.';
COMMENT ON COLUMN app_secrets.created_at IS 'When it was generated (UTC).';
