//! `DATABASE_URL`: which backend, and where.

use std::path::PathBuf;

/// A database location that has been checked for its scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://FILE`: a file, relative to the working directory unless absolute.
    Sqlite { path: PathBuf },
    /// `postgres://...` or `postgresql://...`, passed to libpq.
    Postgres { url: url::Url },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DatabaseUrlError {
    #[error("accepts sqlite://FILE or postgres://USER@HOST/DATABASE, got an empty value")]
    Empty,
    #[error("accepts sqlite://FILE or postgres://USER@HOST/DATABASE, got the scheme `{0}`")]
    UnknownScheme(String),
    #[error("sqlite://FILE needs a file name; in-memory databases are not shared by a pool")]
    NoSqliteFile,
    #[error("is not a valid PostgreSQL URL: {0}")]
    InvalidPostgres(String),
}

/// libpq waits this long for a server that does not answer, so a start never hangs.
const PG_CONNECT_TIMEOUT_SECS: &str = "3";

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, DatabaseUrlError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(DatabaseUrlError::Empty);
        }
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            let file = rest.strip_prefix("//").unwrap_or(rest);
            if file.is_empty() || file == ":memory:" {
                return Err(DatabaseUrlError::NoSqliteFile);
            }
            return Ok(DatabaseUrl::Sqlite {
                path: PathBuf::from(file),
            });
        }
        let scheme = raw.split_once("://").map_or(raw, |(scheme, _)| scheme);
        if scheme != "postgres" && scheme != "postgresql" {
            return Err(DatabaseUrlError::UnknownScheme(scheme.to_owned()));
        }
        let url =
            url::Url::parse(raw).map_err(|e| DatabaseUrlError::InvalidPostgres(e.to_string()))?;
        Ok(DatabaseUrl::Postgres { url })
    }

    pub fn kind(&self) -> super::Kind {
        match self {
            DatabaseUrl::Sqlite { .. } => super::Kind::Sqlite,
            DatabaseUrl::Postgres { .. } => super::Kind::Postgres,
        }
    }

    /// Where the database is, safe to log: never the password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { path } => format!("SQLite database {}", path.display()),
            DatabaseUrl::Postgres { url } => {
                let host = url.host_str().unwrap_or("localhost");
                let port = url.port().unwrap_or(5432);
                let db = url.path().trim_start_matches('/');
                format!("PostgreSQL database `{db}` at {host}:{port}")
            }
        }
    }

    /// The string handed to the driver; PostgreSQL gets a connect timeout unless the URL
    /// sets one.
    pub fn connection_string(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { path } => path.display().to_string(),
            DatabaseUrl::Postgres { url } => {
                let mut url = url.clone();
                if !url.query_pairs().any(|(k, _)| k == "connect_timeout") {
                    url.query_pairs_mut()
                        .append_pair("connect_timeout", PG_CONNECT_TIMEOUT_SECS);
                }
                url.to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_a_file() {
        let url = DatabaseUrl::parse("sqlite://pulse.db").unwrap();
        assert_eq!(
            url,
            DatabaseUrl::Sqlite {
                path: "pulse.db".into()
            }
        );

        let url = DatabaseUrl::parse("sqlite:///var/lib/pulse.db").unwrap();
        assert_eq!(
            url,
            DatabaseUrl::Sqlite {
                path: "/var/lib/pulse.db".into()
            }
        );
    }

    #[test]
    fn in_memory_sqlite_is_refused() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://:memory:"),
            Err(DatabaseUrlError::NoSqliteFile)
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://"),
            Err(DatabaseUrlError::NoSqliteFile)
        );
    }

    #[test]
    fn other_schemes_are_refused_by_name() {
        let err = DatabaseUrl::parse("mysql://root@localhost/pulse").unwrap_err();
        assert_eq!(err, DatabaseUrlError::UnknownScheme("mysql".into()));
    }

    #[test]
    fn the_description_never_contains_the_password() {
        let url = DatabaseUrl::parse("postgres://pulse:hunter2@db.internal:6543/pulse").unwrap();

        let described = url.describe();

        assert!(!described.contains("hunter2"), "{described}");
        assert!(described.contains("db.internal:6543"), "{described}");
    }

    #[test]
    fn postgres_gets_a_connect_timeout_unless_it_has_one() {
        let url = DatabaseUrl::parse("postgres://u@h/db").unwrap();
        assert!(url.connection_string().ends_with("?connect_timeout=3"));

        let url = DatabaseUrl::parse("postgres://u@h/db?connect_timeout=9").unwrap();
        assert!(url.connection_string().ends_with("?connect_timeout=9"));
    }
}
