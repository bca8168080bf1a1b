CREATE TABLE sites (
    id BIGSERIAL PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    domain TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

COMMENT ON TABLE sites IS 'Sites whose traffic Pulse counts.';
COMMENT ON COLUMN sites.id IS 'Surrogate key.';
COMMENT ON COLUMN sites.owner_id IS 'The account that added the site; its traffic goes with it.';
COMMENT ON COLUMN sites.domain IS
    'Host name, lower-case, without scheme, port, path or trailing dot; unique.';
COMMENT ON COLUMN sites.created_at IS 'When the site was added (UTC).';

CREATE INDEX sites_owner_id_idx ON sites (owner_id);

CREATE TABLE site_salts (
    day DATE PRIMARY KEY,
    salt TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

COMMENT ON TABLE site_salts IS
    'One secret salt per UTC day for the visitor hash; deleted once the day is over.';
COMMENT ON COLUMN site_salts.day IS 'The UTC day this salt hashes visitors for.';
COMMENT ON COLUMN site_salts.salt IS '32 random bytes, base64; the key of the visitor hash.';
COMMENT ON COLUMN site_salts.created_at IS 'When it was generated (UTC).';
