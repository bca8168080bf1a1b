DROP TABLE site_salts;
DROP TABLE sites;
