//! The database: one connection type over SQLite and PostgreSQL, its pool, and migrations.
//!
//! Everything above this module speaks [`AnyConnection`]. Queries that diesel's
//! `MultiBackend` can not express (`ON CONFLICT`, backend-only pragmas) run the same
//! diesel expression on the concrete connection through [`on_backend!`].

mod migrate;
pub mod schema;
pub mod secrets;
mod url;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, SqliteConnection};

pub use migrate::{MigrationError, run_migrations};
pub use url::{DatabaseUrl, DatabaseUrlError};

/// A connection to either backend, chosen by `DATABASE_URL`.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs one expression against the concrete connection inside an [`AnyConnection`].
///
/// The expression is compiled once per backend, so a query that only one of them
/// accepts fails to build instead of failing at run time.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Postgresql($c) => $body,
            $crate::db::AnyConnection::Sqlite($c) => $body,
        }
    };
}

pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// How long a request waits for a pooled connection before the database counts as down.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);
/// While the database is known to be down, requests give up this much sooner, so an
/// outage costs each request a fraction of a second instead of the full timeout.
const CHECKOUT_TIMEOUT_WHILE_DOWN: Duration = Duration::from_millis(250);

/// The connection pool, which remembers when the database last failed to hand out a
/// connection.
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    down: Arc<AtomicBool>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("state", &self.inner.state())
            .finish()
    }
}

impl Pool {
    /// A connection, waiting at most 5 s, or 250 ms while the database is known to be down.
    pub fn get(&self) -> Result<PooledConnection, r2d2::PoolError> {
        let down = self.down.load(Ordering::Relaxed);
        let timeout = if down {
            CHECKOUT_TIMEOUT_WHILE_DOWN
        } else {
            CHECKOUT_TIMEOUT
        };
        let checkout = self.inner.get_timeout(timeout);
        if checkout.is_ok() == down {
            self.down.store(!down, Ordering::Relaxed);
            if down {
                tracing::info!("the database answers again");
            } else {
                tracing::warn!("no database connection within {timeout:?}; failing fast");
            }
        }
        checkout
    }

    pub fn state(&self) -> r2d2::State {
        self.inner.state()
    }
}

/// Which database a URL names, for logs and for the few places that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Sqlite => "SQLite",
            Kind::Postgres => "PostgreSQL",
        })
    }
}

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("database unavailable")]
    Pool(#[from] r2d2::PoolError),
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
    #[error("database task was cancelled")]
    Cancelled,
}

impl DbError {
    /// True when the database is down or overloaded rather than the query wrong.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Connect { .. } | DbError::Pool(_) | DbError::Cancelled => true,
            DbError::Query(err) => matches!(
                err,
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ClosedConnection
                        | diesel::result::DatabaseErrorKind::UnableToSendCommand,
                    _
                ) | diesel::result::Error::BrokenTransactionManager
            ),
        }
    }
}

/// Opens connections of the one kind the URL names.
///
/// diesel's own `ConnectionManager<AnyConnection>` tries every backend in turn and
/// reports only that none worked; this one reports the real reason.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    fn open(&self) -> Result<AnyConnection, DbError> {
        let failed = |reason: String| DbError::Connect {
            target: self.url.describe(),
            reason,
        };
        match &self.url {
            DatabaseUrl::Sqlite { path } => {
                let path = path
                    .to_str()
                    .ok_or_else(|| failed("path is not UTF-8".into()))?;
                let mut conn =
                    SqliteConnection::establish(path).map_err(|e| failed(e.to_string()))?;
                apply_sqlite_pragmas(&mut conn).map_err(|e| failed(e.to_string()))?;
                Ok(AnyConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres { .. } => {
                let url = self.url.connection_string();
                let conn = PgConnection::establish(&url).map_err(|e| failed(pg_reason(&e)))?;
                Ok(AnyConnection::Postgresql(conn))
            }
        }
    }
}

/// libpq's messages span several lines; the first names the cause.
fn pg_reason(err: &diesel::ConnectionError) -> String {
    let text = err.to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("; ")
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = DbError;

    fn connect(&self) -> Result<AnyConnection, DbError> {
        self.open()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::Query)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::connection::{TransactionManager, TransactionManagerStatus};
        on_backend!(conn, c => matches!(
            diesel::connection::AnsiTransactionManager::transaction_manager_status_mut(c),
            TransactionManagerStatus::InError
        ))
    }
}

/// Sets the pragmas every SQLite connection needs under concurrent use; the pool calls
/// this for each connection it opens.
///
/// `busy_timeout` comes first and alone: it does not apply to a statement already
/// running. WAL lets readers work beside the single writer; `foreign_keys` is off
/// by default in SQLite.
fn apply_sqlite_pragmas(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("PRAGMA busy_timeout = 5000;")?;
    conn.batch_execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
}

/// One connection outside any pool, for short-lived commands: a pool's background
/// threads could still be opening connections while such a process exits.
pub fn open(url: &DatabaseUrl) -> Result<AnyConnection, DbError> {
    Manager::new(url.clone()).open()
}

/// Checks the database once, then builds the pool.
///
/// Connecting once first means a bad URL stops the start with the real reason at once,
/// instead of after the pool's timeout.
pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<Pool, DbError> {
    let manager = Manager::new(url.clone());
    drop(manager.open()?);

    // FIXME: r2d2 tests every checked-out connection with `SELECT 1`, an extra round
    // trip per query on PostgreSQL. Without it, each connection that died in an outage
    // costs one failed request after the database returns (tried: /health answered 503
    // after recovery, and recovery took 2.3 s instead of 0.1 s), so the test stays.
    let inner = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(CHECKOUT_TIMEOUT)
        .build(manager)
        .map_err(DbError::Pool)?;
    Ok(Pool {
        inner,
        down: Arc::new(AtomicBool::new(false)),
    })
}

/// Runs blocking database work on the blocking pool, inside the caller's tracing span.
pub async fn run<T, F>(pool: &Pool, work: F) -> Result<T, DbError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<T, DbError> + Send + 'static,
{
    let pool = pool.clone();
    let span = tracing::Span::current();
    actix_web::web::block(move || {
        span.in_scope(|| {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
    })
    .await
    .map_err(|_| DbError::Cancelled)?
}

impl AnyConnection {
    pub fn kind(&self) -> Kind {
        match self {
            AnyConnection::Postgresql(_) => Kind::Postgres,
            AnyConnection::Sqlite(_) => Kind::Sqlite,
        }
    }
}
