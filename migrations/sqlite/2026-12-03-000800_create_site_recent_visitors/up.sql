-- Who was on each site in the last minutes, for "visitors right now": one row per
-- visitor, so the count costs as many rows as there are visitors, not pageviews. The
-- batch writer keeps it and deletes rows older than ten minutes.
CREATE TABLE site_recent_visitors (
    -- The site visited.
    site_id INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    -- The visitor's id of the day (see site_events.visitor_id).
    visitor_id INTEGER NOT NULL,
    -- The visitor's latest pageview (UTC).
    last_seen TIMESTAMP NOT NULL,
    PRIMARY KEY (site_id, visitor_id)
) WITHOUT ROWID;

-- The count reads one site's latest rows; the clean-up reads the oldest of all sites.
CREATE INDEX site_recent_visitors_site_seen_idx ON site_recent_visitors (site_id, last_seen);
CREATE INDEX site_recent_visitors_seen_idx ON site_recent_visitors (last_seen);
