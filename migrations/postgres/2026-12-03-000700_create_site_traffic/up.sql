CREATE TABLE site_events (
    id BIGSERIAL PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    occurred_at TIMESTAMP NOT NULL,
    visitor_id BIGINT NOT NULL,
    path TEXT NOT NULL,
    referrer TEXT NOT NULL
);

COMMENT ON TABLE site_events IS 'Every pageview; the roll-ups below can be rebuilt from it.';
COMMENT ON COLUMN site_events.id IS 'Surrogate key.';
COMMENT ON COLUMN site_events.site_id IS 'The site that was viewed.';
COMMENT ON COLUMN site_events.occurred_at IS 'When the pageview arrived (UTC).';
COMMENT ON COLUMN site_events.visitor_id IS
    'Keyed hash of the day''s salt, site, address and user agent; never the address.';
COMMENT ON COLUMN site_events.path IS 'The page''s path, without query string or fragment.';
COMMENT ON COLUMN site_events.referrer IS 'The referring host; empty for none or the site itself.';

CREATE INDEX site_events_site_time_idx ON site_events (site_id, occurred_at);

CREATE TABLE site_visitors (
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    visitor_id BIGINT NOT NULL,
    PRIMARY KEY (site_id, day, visitor_id)
);

COMMENT ON TABLE site_visitors IS 'Each visitor once per site and UTC day.';
COMMENT ON COLUMN site_visitors.site_id IS 'The site visited.';
COMMENT ON COLUMN site_visitors.day IS 'The UTC day of the visit.';
COMMENT ON COLUMN site_visitors.visitor_id IS
    'The visitor''s id that day; a row means the visitor was already counted.';

CREATE TABLE site_hourly (
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    hour TIMESTAMP NOT NULL,
    visitors BIGINT NOT NULL,
    pageviews BIGINT NOT NULL,
    PRIMARY KEY (site_id, hour)
);

COMMENT ON TABLE site_hourly IS 'Visitors and pageviews per site and UTC hour.';
COMMENT ON COLUMN site_hourly.site_id IS 'The site.';
COMMENT ON COLUMN site_hourly.hour IS 'The start of the UTC hour.';
COMMENT ON COLUMN site_hourly.visitors IS
    'Visitors first seen that day in this hour; a day''s unique visitors are its sum.';
COMMENT ON COLUMN site_hourly.pageviews IS 'Pageviews in this hour.';

CREATE TABLE site_daily_pages (
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    path TEXT NOT NULL,
    pageviews BIGINT NOT NULL,
    PRIMARY KEY (site_id, day, path)
);

COMMENT ON TABLE site_daily_pages IS 'Pageviews per site, UTC day and path.';
COMMENT ON COLUMN site_daily_pages.site_id IS 'The site.';
COMMENT ON COLUMN site_daily_pages.day IS 'The UTC day.';
COMMENT ON COLUMN site_daily_pages.path IS 'The page''s path.';
COMMENT ON COLUMN site_daily_pages.pageviews IS 'Pageviews of this path on this day.';

CREATE TABLE site_daily_referrers (
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    referrer TEXT NOT NULL,
    pageviews BIGINT NOT NULL,
    PRIMARY KEY (site_id, day, referrer)
);

COMMENT ON TABLE site_daily_referrers IS 'Pageviews per site, UTC day and referring host.';
COMMENT ON COLUMN site_daily_referrers.site_id IS 'The site.';
COMMENT ON COLUMN site_daily_referrers.day IS 'The UTC day.';
COMMENT ON COLUMN site_daily_referrers.referrer IS
    'The referring host; empty for none or the site itself.';
COMMENT ON COLUMN site_daily_referrers.pageviews IS 'Pageviews from this referrer on this day.';
