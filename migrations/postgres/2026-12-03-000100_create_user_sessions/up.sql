CREATE TABLE user_sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

COMMENT ON TABLE user_sessions IS
    'Signed-in sessions; the cookie carries only the id, and a session ends with its row.';
COMMENT ON COLUMN user_sessions.id IS 'Random 128-bit id, base64url.';
COMMENT ON COLUMN user_sessions.user_id IS 'The signed-in user.';
COMMENT ON COLUMN user_sessions.created_at IS 'When the user signed in (UTC).';
COMMENT ON COLUMN user_sessions.expires_at IS 'The absolute end of the session (UTC).';

CREATE INDEX user_sessions_user_id_idx ON user_sessions (user_id);
CREATE INDEX user_sessions_expires_at_idx ON user_sessions (expires_at);
