-- Pageviews, and the exact roll-ups the site dashboard reads. The batch writer keeps
-- every table here in step, in one transaction per batch. Times are UTC.

CREATE TABLE site_events (
    -- Surrogate key; INTEGER PRIMARY KEY is SQLite's 64-bit rowid.
    id INTEGER PRIMARY KEY NOT NULL,
    -- The site that was viewed.
    site_id INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    -- When the pageview arrived (UTC).
    occurred_at TIMESTAMP NOT NULL,
    -- Keyed hash of the day's salt, the site, the address and the user agent; the same
    -- visitor has another id the next day. The address itself is never stored.
    visitor_id INTEGER NOT NULL,
    -- The page's path, without query string or fragment.
    path TEXT NOT NULL,
    -- The referring host; empty for none or for the site itself.
    referrer TEXT NOT NULL
);

-- "Visitors right now" reads the last minutes of one site.
CREATE INDEX site_events_site_time_idx ON site_events (site_id, occurred_at);

CREATE TABLE site_visitors (
    -- The site visited.
    site_id INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    -- The UTC day of the visit.
    day DATE NOT NULL,
    -- The visitor's id that day; a row means the visitor was already counted.
    visitor_id INTEGER NOT NULL,
    PRIMARY KEY (site_id, day, visitor_id)
) WITHOUT ROWID;

CREATE TABLE site_hourly (
    -- The site.
    site_id INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    -- The start of the UTC hour.
    hour TIMESTAMP NOT NULL,
    -- Visitors first seen that day in this hour; a day's unique visitors are its sum.
    visitors INTEGER NOT NULL,
    -- Pageviews in this hour.
    pageviews INTEGER NOT NULL,
    PRIMARY KEY (site_id, hour)
) WITHOUT ROWID;

CREATE TABLE site_daily_pages (
    -- The site.
    site_id INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    -- The UTC day.
    day DATE NOT NULL,
    -- The page's path.
    path TEXT NOT NULL,
    -- Pageviews of this path on this day.
    pageviews INTEGER NOT NULL,
    PRIMARY KEY (site_id, day, path)
) WITHOUT ROWID;

CREATE TABLE site_daily_referrers (
    -- The site.
    site_id INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    -- The UTC day.
    day DATE NOT NULL,
    -- The referring host; empty for none or for the site itself.
    referrer TEXT NOT NULL,
    -- Pageviews from this referrer on this day.
    pageviews INTEGER NOT NULL,
    PRIMARY KEY (site_id, day, referrer)
) WITHOUT ROWID;
