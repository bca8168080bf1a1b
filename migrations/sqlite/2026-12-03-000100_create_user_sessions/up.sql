-- Signed-in sessions. The session cookie carries only the id; a session ends when its
-- row is gone (sign out, sign out everywhere, password change) or expired.
CREATE TABLE user_sessions (
    -- Random 128-bit id, base64url; the cookie's reference to this row.
    id TEXT PRIMARY KEY NOT NULL,
    -- The signed-in user.
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- When the user signed in (UTC).
    created_at TIMESTAMP NOT NULL,
    -- The absolute end of the session (UTC), however active it is.
    expires_at TIMESTAMP NOT NULL
);

CREATE INDEX user_sessions_user_id_idx ON user_sessions (user_id);
CREATE INDEX user_sessions_expires_at_idx ON user_sessions (expires_at);
