CREATE TABLE site_recent_visitors (
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    visitor_id BIGINT NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    PRIMARY KEY (site_id, visitor_id)
);

COMMENT ON TABLE site_recent_visitors IS
    'Visitors of the last minutes, one row each, for "visitors right now"; rows older than '
    'ten minutes are deleted by the batch writer.';
COMMENT ON COLUMN site_recent_visitors.site_id IS 'The site visited.';
COMMENT ON COLUMN site_recent_visitors.visitor_id IS
    'The visitor''s id of the day (see site_events.visitor_id).';
COMMENT ON COLUMN site_recent_visitors.last_seen IS 'The visitor''s latest pageview (UTC).';

CREATE INDEX site_recent_visitors_site_seen_idx ON site_recent_visitors (site_id, last_seen);
CREATE INDEX site_recent_visitors_seen_idx ON site_recent_visitors (last_seen);
