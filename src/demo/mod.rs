//! `pulse demo`: fills a database with a synthetic population and its visit history,
//! so the engagement report has something believable to show.
//!
//! Rows go in by batches: multi-row inserts inside one transaction per batch on SQLite,
//! `COPY` on PostgreSQL. Demo accounts can not sign in (their hash is not a hash).

mod command;
mod population;

use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{user_visits, users};
pub use command::{DemoArgs, execute};
pub use population::{DemoUser, Generator};

/// Marks a demo account; no password hashes to it.
pub const DEMO_PASSWORD_HASH: &str = "!demo";

/// Users generated and written per transaction.
const BATCH_USERS: usize = 20_000;
/// Rows per multi-row insert on SQLite, under its 32,766 bound parameters.
const SQLITE_USER_ROWS: usize = 32_766 / 7;
const SQLITE_VISIT_ROWS: usize = 32_766 / 2;

pub const MAX_USERS: u64 = 10_000_000;
pub const MAX_DAYS: u32 = 3_650;

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub users: u64,
    pub days: u32,
    pub seed: u64,
}

/// What a run wrote.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub users: u64,
    pub visits: u64,
    pub first_id: i64,
    pub took: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("--users must be between 1 and {MAX_USERS}, got {0}")]
    Users(u64),
    #[error("--days must be between 1 and {MAX_DAYS}, got {0}")]
    Days(u32),
    #[error(
        "this database already holds {0} demo users (demo-NNNNNN@example.test); \
         run the demo on an empty database, or delete them first"
    )]
    AlreadyFilled(i64),
    #[error("writing the demo population failed")]
    Database(#[from] diesel::result::Error),
}

impl Options {
    pub fn validate(&self) -> Result<(), DemoError> {
        if self.users == 0 || self.users > MAX_USERS {
            return Err(DemoError::Users(self.users));
        }
        if self.days == 0 || self.days > MAX_DAYS {
            return Err(DemoError::Days(self.days));
        }
        Ok(())
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
#[diesel(treat_none_as_default_value = false)]
struct NewDemoUser {
    id: i64,
    email: String,
    password_hash: &'static str,
    is_admin: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    last_seen: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = user_visits)]
#[diesel(treat_none_as_default_value = false)]
struct NewVisit {
    user_id: i64,
    visited_on: NaiveDate,
}

/// Writes `options.users` demo users with history up to `now`; `progress` hears how many
/// users are written so far after each batch.
pub fn run(
    conn: &mut AnyConnection,
    options: Options,
    now: NaiveDateTime,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Summary, DemoError> {
    options.validate()?;
    let started = Instant::now();

    let existing = existing_demo_users(conn)?;
    if existing > 0 {
        return Err(DemoError::AlreadyFilled(existing));
    }
    let first_id = next_user_id(conn)?;

    let mut generator = Generator::new(options.seed, now, i64::from(options.days));
    let mut written = 0u64;
    let mut visits = 0u64;
    while written < options.users {
        let size = (options.users - written).min(BATCH_USERS as u64);
        let (people, days) = batch(&mut generator, first_id, written, size);
        visits += days.len() as u64;
        write_batch(conn, &people, &days)?;
        written += size;
        progress(written, options.users);
    }
    finish(conn)?;

    Ok(Summary {
        users: written,
        visits,
        first_id,
        took: started.elapsed(),
    })
}

fn existing_demo_users(conn: &mut AnyConnection) -> QueryResult<i64> {
    users::table
        .filter(users::email.like("demo-%@example.test"))
        .filter(users::password_hash.eq(DEMO_PASSWORD_HASH))
        .count()
        .get_result(conn)
}

fn next_user_id(conn: &mut AnyConnection) -> QueryResult<i64> {
    let max: Option<i64> = users::table
        .select(diesel::dsl::max(users::id))
        .get_result(conn)?;
    Ok(max.unwrap_or(0) + 1)
}

/// Users number `done + 1` to `done + size` and their visits.
fn batch(
    generator: &mut Generator,
    first_id: i64,
    done: u64,
    size: u64,
) -> (Vec<NewDemoUser>, Vec<NewVisit>) {
    let mut people = Vec::with_capacity(size as usize);
    let mut days = Vec::with_capacity(size as usize * 12);
    for n in done..done + size {
        let user = generator.next_user();
        let id = first_id + n as i64;
        days.extend(user.visits.iter().map(|&visited_on| NewVisit {
            user_id: id,
            visited_on,
        }));
        people.push(NewDemoUser {
            id,
            email: format!("demo-{:06}@example.test", n + 1),
            password_hash: DEMO_PASSWORD_HASH,
            is_admin: false,
            created_at: user.created_at,
            updated_at: user.created_at,
            last_seen: user.last_seen,
        });
    }
    (people, days)
}

fn write_batch(
    conn: &mut AnyConnection,
    people: &[NewDemoUser],
    days: &[NewVisit],
) -> QueryResult<()> {
    match conn {
        AnyConnection::Sqlite(c) => c.immediate_transaction(|c| {
            for chunk in people.chunks(SQLITE_USER_ROWS) {
                diesel::insert_into(users::table).values(chunk).execute(c)?;
            }
            for chunk in days.chunks(SQLITE_VISIT_ROWS) {
                diesel::insert_into(user_visits::table)
                    .values(chunk)
                    .execute(c)?;
            }
            Ok(())
        }),
        AnyConnection::Postgresql(c) => c.transaction(|c| {
            diesel::copy_from(users::table)
                .from_insertable(people)
                .execute(c)?;
            diesel::copy_from(user_visits::table)
                .from_insertable(days)
                .execute(c)?;
            Ok(())
        }),
    }
}

/// Moves PostgreSQL's id sequence past the ids written here, and refreshes the
/// planner's statistics on both backends.
///
/// On PostgreSQL a VACUUM also marks the new pages all-visible, so the report's
/// index-only scans need not visit the table (twice as fast at a million users) before
/// autovacuum would get to it. It must be a statement of its own: VACUUM can not run
/// inside the implicit transaction of a multi-statement batch.
fn finish(conn: &mut AnyConnection) -> QueryResult<()> {
    match conn {
        AnyConnection::Sqlite(c) => c.batch_execute("PRAGMA analysis_limit = 1000; ANALYZE;"),
        AnyConnection::Postgresql(c) => {
            c.batch_execute(
                "SELECT setval(pg_get_serial_sequence('users', 'id'), \
                    (SELECT MAX(id) FROM users))",
            )?;
            c.batch_execute("VACUUM (ANALYZE) users, user_visits")
        }
    }
}

/// A one-line progress bar for stderr: "[=====>    ]  45%  450,000 / 1,000,000 users".
pub fn progress_line(done: u64, total: u64) -> String {
    const WIDTH: u64 = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH) as usize;
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    format!(
        "[{:<width$}] {percent:>3}%  {done} / {total} users",
        "=".repeat(filled),
        width = WIDTH as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_users_or_days_are_refused_with_the_option_name() {
        let zero_users = Options {
            users: 0,
            days: 10,
            seed: 1,
        }
        .validate();
        let zero_days = Options {
            users: 10,
            days: 0,
            seed: 1,
        }
        .validate();

        assert!(zero_users.unwrap_err().to_string().contains("--users"));
        assert!(zero_days.unwrap_err().to_string().contains("--days"));
    }

    #[test]
    fn the_progress_line_fills_with_the_share_done() {
        assert_eq!(
            progress_line(15, 30),
            format!("[{:<30}]  50%  15 / 30 users", "=".repeat(15))
        );
        assert!(progress_line(0, 0).contains("100%"));
    }
}
