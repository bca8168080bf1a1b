DROP TABLE app_secrets;
DROP TABLE user_visits;
DROP TABLE users;
