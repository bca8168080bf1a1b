DROP TABLE site_daily_referrers;
DROP TABLE site_daily_pages;
DROP TABLE site_hourly;
DROP TABLE site_visitors;
DROP TABLE site_events;
