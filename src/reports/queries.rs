//! The SQL behind the report. Every query answers with a handful of rows however many
//! users there are: the database counts, Rust only arranges the answers.
//!
//! Plain SQL with `$n` placeholders runs on both backends (SQLite numbers named
//! parameters by first appearance, so each placeholder appears once, in order). Only the
//! week arithmetic of the cohorts differs between the two and is written per backend.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamp};

use crate::db::schema::user_visits;
use crate::db::{AnyConnection, Kind};

/// Everything the report counts over `users`, in one pass so the segments add up.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct UserTotals {
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = BigInt)]
    pub signups_7d: i64,
    #[diesel(sql_type = BigInt)]
    pub signups_30d: i64,
    #[diesel(sql_type = BigInt)]
    pub active: i64,
    #[diesel(sql_type = BigInt)]
    pub at_risk: i64,
    #[diesel(sql_type = BigInt)]
    pub rotting: i64,
    #[diesel(sql_type = BigInt)]
    pub lost: i64,
    #[diesel(sql_type = BigInt)]
    pub never_seen: i64,
}

/// The instants the user counts compare with: created after the first two, last seen
/// after (or at and before) the other three.
#[derive(Debug, Clone, Copy)]
pub struct Cutoffs {
    pub signups_7d: NaiveDateTime,
    pub signups_30d: NaiveDateTime,
    pub at_risk: NaiveDateTime,
    pub rotting: NaiveDateTime,
    pub lost: NaiveDateTime,
}

const USER_TOTALS: &str = "\
SELECT COUNT(*) AS total,
  COALESCE(SUM(CASE WHEN created_at > $1 THEN 1 ELSE 0 END), 0) AS signups_7d,
  COALESCE(SUM(CASE WHEN created_at > $2 THEN 1 ELSE 0 END), 0) AS signups_30d,
  COALESCE(SUM(CASE WHEN last_seen > $3 THEN 1 ELSE 0 END), 0) AS active,
  COALESCE(SUM(CASE WHEN last_seen <= $4 AND last_seen > $5 THEN 1 ELSE 0 END), 0) AS at_risk,
  COALESCE(SUM(CASE WHEN last_seen <= $6 AND last_seen > $7 THEN 1 ELSE 0 END), 0) AS rotting,
  COALESCE(SUM(CASE WHEN last_seen <= $8 THEN 1 ELSE 0 END), 0) AS lost,
  COALESCE(SUM(CASE WHEN last_seen IS NULL THEN 1 ELSE 0 END), 0) AS never_seen
FROM users";

pub fn user_totals(conn: &mut AnyConnection, cut: &Cutoffs) -> QueryResult<UserTotals> {
    diesel::sql_query(USER_TOTALS)
        .bind::<Timestamp, _>(cut.signups_7d)
        .bind::<Timestamp, _>(cut.signups_30d)
        .bind::<Timestamp, _>(cut.at_risk)
        .bind::<Timestamp, _>(cut.at_risk)
        .bind::<Timestamp, _>(cut.rotting)
        .bind::<Timestamp, _>(cut.rotting)
        .bind::<Timestamp, _>(cut.lost)
        .bind::<Timestamp, _>(cut.lost)
        .get_result(conn)
}

/// Users seen in the 30-day window, grouped by how many of the last 28 days they were
/// seen on and whether they were seen in the last 7.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct RecentRow {
    #[diesel(sql_type = BigInt)]
    pub days: i64,
    #[diesel(sql_type = BigInt)]
    pub in_week: i64,
    #[diesel(sql_type = BigInt)]
    pub users: i64,
}

/// The first day of each window the recent activity looks at; all end today.
#[derive(Debug, Clone, Copy)]
pub struct Windows {
    pub week: NaiveDate,
    pub frequency: NaiveDate,
    pub month: NaiveDate,
    pub today: NaiveDate,
}

const RECENT_ACTIVITY: &str = "\
SELECT CAST(w.recent AS BIGINT) AS days,
  CAST(CASE WHEN w.last_day >= $1 THEN 1 ELSE 0 END AS BIGINT) AS in_week,
  COUNT(*) AS users
FROM (SELECT user_id, MAX(visited_on) AS last_day,
        SUM(CASE WHEN visited_on >= $2 THEN 1 ELSE 0 END) AS recent
      FROM user_visits
      WHERE visited_on >= $3 AND visited_on <= $4
      GROUP BY user_id) w
GROUP BY 1, 2";

pub fn recent_activity(conn: &mut AnyConnection, w: &Windows) -> QueryResult<Vec<RecentRow>> {
    diesel::sql_query(RECENT_ACTIVITY)
        .bind::<Date, _>(w.week)
        .bind::<Date, _>(w.frequency)
        .bind::<Date, _>(w.month)
        .bind::<Date, _>(w.today)
        .load(conn)
}

/// Users seen on each day from `first` to `last`; days nobody was seen are missing.
pub fn daily_active(
    conn: &mut AnyConnection,
    first: NaiveDate,
    last: NaiveDate,
) -> QueryResult<Vec<(NaiveDate, i64)>> {
    user_visits::table
        .filter(user_visits::visited_on.ge(first))
        .filter(user_visits::visited_on.le(last))
        .group_by(user_visits::visited_on)
        .select((user_visits::visited_on, count_star()))
        .order(user_visits::visited_on)
        .load(conn)
}

/// `users` of signup week `cohort` (weeks counted from the first cohort's Monday) seen in
/// week `week`; for the sizes, `week` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct CohortRow {
    #[diesel(sql_type = BigInt)]
    pub cohort: i64,
    #[diesel(sql_type = BigInt)]
    pub week: i64,
    #[diesel(sql_type = BigInt)]
    pub users: i64,
}

/// Whole weeks from `first_monday` to the day in `day_sql`, in the backend's dialect.
/// The date is one the report formats itself, never user input.
fn week_index(kind: Kind, day_sql: &str, first_monday: NaiveDate) -> String {
    let first = first_monday.format("%Y-%m-%d");
    match kind {
        Kind::Postgres => format!("CAST((({day_sql}) - DATE '{first}') / 7 AS BIGINT)"),
        Kind::Sqlite => {
            format!(
                "CAST(CAST(julianday({day_sql}) - julianday('{first}') AS INTEGER) / 7 AS BIGINT)"
            )
        }
    }
}

fn signup_day_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => "CAST(u.created_at AS DATE)",
        Kind::Sqlite => "substr(u.created_at, 1, 10)",
    }
}

/// How many users signed up in each week since `first_monday` (until `now`).
pub fn cohort_sizes(
    conn: &mut AnyConnection,
    first_monday: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<Vec<CohortRow>> {
    let kind = conn.kind();
    let cohort = week_index(kind, signup_day_sql(kind), first_monday);
    let sql = format!(
        "SELECT {cohort} AS cohort, CAST(0 AS BIGINT) AS week, COUNT(*) AS users \
         FROM users u WHERE u.created_at >= $1 AND u.created_at <= $2 GROUP BY 1"
    );
    diesel::sql_query(sql)
        .bind::<Timestamp, _>(crate::reports::calendar::day_start(first_monday))
        .bind::<Timestamp, _>(now)
        .load(conn)
}

/// For each signup week since `first_monday` and each later week, how many of that
/// week's users were seen in it.
pub fn cohort_visits(
    conn: &mut AnyConnection,
    first_monday: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<Vec<CohortRow>> {
    let kind = conn.kind();
    let cohort = week_index(kind, signup_day_sql(kind), first_monday);
    let week = week_index(kind, "v.visited_on", first_monday);
    let sql = format!(
        "SELECT {cohort} AS cohort, {week} AS week, COUNT(DISTINCT v.user_id) AS users \
         FROM users u JOIN user_visits v ON v.user_id = u.id \
         WHERE u.created_at >= $1 AND u.created_at <= $2 \
           AND v.visited_on >= $3 AND v.visited_on <= $4 \
         GROUP BY 1, 2"
    );
    diesel::sql_query(sql)
        .bind::<Timestamp, _>(crate::reports::calendar::day_start(first_monday))
        .bind::<Timestamp, _>(now)
        .bind::<Date, _>(first_monday)
        .bind::<Date, _>(now.date())
        .load(conn)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct RottingRow {
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Timestamp)]
    pub created_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    pub last_seen: NaiveDateTime,
    #[diesel(sql_type = BigInt)]
    pub visit_days: i64,
}

const ROTTING_USERS: &str = "\
SELECT u.email AS email, u.created_at AS created_at, u.last_seen AS last_seen,
  (SELECT COUNT(*) FROM user_visits v WHERE v.user_id = u.id) AS visit_days
FROM users u
WHERE u.last_seen <= $1 AND u.last_seen > $2
ORDER BY visit_days DESC, u.last_seen ASC, u.id ASC
LIMIT $3";

/// Users last seen in `(lost, at_risk]`, most visit days first, then longest idle.
pub fn rotting_users(
    conn: &mut AnyConnection,
    at_risk: NaiveDateTime,
    lost: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<RottingRow>> {
    diesel::sql_query(ROTTING_USERS)
        .bind::<Timestamp, _>(at_risk)
        .bind::<Timestamp, _>(lost)
        .bind::<BigInt, _>(limit)
        .load(conn)
}
