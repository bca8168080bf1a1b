//! Embedded migrations, one set per backend, applied at start and by `pulse migrate`.

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::AnyConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any number serves, as long as every instance uses the same one; it spells "pulse".
const POSTGRES_MIGRATION_LOCK: i64 = 0x70_75_6c_73_65;

#[derive(Debug, thiserror::Error)]
#[error("applying migrations failed: {0}")]
pub struct MigrationError(String);

/// Applies pending migrations and returns the versions it applied, oldest first.
///
/// On PostgreSQL the work happens under a session-level advisory lock: instances that
/// start together queue on it, and each one after the first finds nothing to do.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, MigrationError> {
    match conn {
        AnyConnection::Sqlite(c) => apply(c, SQLITE),
        AnyConnection::Postgresql(c) => {
            let lock = format!("SELECT pg_advisory_lock({POSTGRES_MIGRATION_LOCK})");
            c.batch_execute(&lock)
                .map_err(|e| MigrationError(e.to_string()))?;
            let applied = apply(c, POSTGRES);
            let unlock = format!("SELECT pg_advisory_unlock({POSTGRES_MIGRATION_LOCK})");
            c.batch_execute(&unlock)
                .map_err(|e| MigrationError(e.to_string()))?;
            applied
        }
    }
}

fn apply<C, S>(conn: &mut C, source: S) -> Result<Vec<String>, MigrationError>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
    S: MigrationSource<C::Backend>,
{
    let versions = conn
        .run_pending_migrations(source)
        .map_err(|e| MigrationError(e.to_string()))?;
    Ok(versions.iter().map(ToString::to_string).collect())
}
