DROP TABLE site_recent_visitors;
