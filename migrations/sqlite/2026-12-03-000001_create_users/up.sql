-- Accounts and the history of when each one was seen.
-- SQLite has no COMMENT ON; the PostgreSQL twin of this migration carries the same
-- documentation as column comments. Times are UTC, stored as TIMESTAMP text with
-- microsecond precision.

CREATE TABLE users (
    -- Surrogate key; INTEGER PRIMARY KEY is SQLite's 64-bit rowid.
    id INTEGER PRIMARY KEY NOT NULL,
    -- Sign-in address, stored trimmed and lower-cased; unique.
    email TEXT NOT NULL UNIQUE,
    -- Argon2id hash in PHC string format; never the password itself.
    password_hash TEXT NOT NULL,
    -- Administrators can open /admin; the first account ever created is one.
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    -- When the account was created (UTC).
    created_at TIMESTAMP NOT NULL,
    -- When the account's own data last changed (UTC); recording a visit never touches it.
    updated_at TIMESTAMP NOT NULL,
    -- Last time the user was seen (UTC), precise to the last-seen interval; NULL until the
    -- first visit.
    last_seen TIMESTAMP
);

-- The engagement report's segments scan by idle time, its signups and cohorts by creation.
CREATE INDEX users_last_seen_idx ON users (last_seen);
CREATE INDEX users_created_at_idx ON users (created_at);

CREATE TABLE user_visits (
    -- The user who was seen.
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The UTC calendar day on which they were seen; one row per user per day.
    visited_on DATE NOT NULL,
    PRIMARY KEY (user_id, visited_on)
) WITHOUT ROWID;

-- Daily, weekly and monthly active counts read a range of days across all users.
CREATE INDEX user_visits_visited_on_idx ON user_visits (visited_on, user_id);

CREATE TABLE app_secrets (
    -- What the secret is for, for example 'session_key'.
    name TEXT PRIMARY KEY NOT NULL,
    -- The secret, base64-encoded. Shared by every instance on this database.
    value TEXT NOT NULL,
    -- When it was generated (UTC).
    created_at TIMESTAMP NOT NULL
);
