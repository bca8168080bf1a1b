-- Sites whose traffic Pulse counts. SQLite has no COMMENT ON; the PostgreSQL twin of
-- this migration carries the same documentation as column comments.
CREATE TABLE sites (
    -- Surrogate key; INTEGER PRIMARY KEY is SQLite's 64-bit rowid.
    id INTEGER PRIMARY KEY NOT NULL,
    -- The account that added the site; its traffic goes with it.
    owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Host name, lower-case, without scheme, port, path or trailing dot; unique across
    -- the instance, so one event names exactly one site.
    domain TEXT NOT NULL UNIQUE,
    -- When the site was added (UTC).
    created_at TIMESTAMP NOT NULL
);

-- The dashboard lists a user's sites.
CREATE INDEX sites_owner_id_idx ON sites (owner_id);

CREATE TABLE site_salts (
    -- The UTC day this salt hashes visitors for; one salt per day, shared by every
    -- instance, deleted once the day is over so visitor ids can not be linked across days.
    day DATE PRIMARY KEY NOT NULL,
    -- 32 random bytes, base64; the key of the visitor hash.
    salt TEXT NOT NULL,
    -- When it was generated (UTC).
    created_at TIMESTAMP NOT NULL
);
