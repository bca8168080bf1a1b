//! The SQL behind the report. Every query answers with a handful of rows however many
//! users there are: the database counts, Rust only arranges the answers.
//!
//! Plain SQL with `$n` placeholders runs on both backends (SQLite numbers named
//! parameters by first appearance, so each placeholder appears once, in order). The
//! visits are read a slice of users at a time and counted in [`super::tally`].

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{max, min};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::AnyConnection;
use crate::db::schema::{user_visits, users};

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

/// The lowest and highest user ids, both `None` when there are no users.
pub fn id_range(conn: &mut AnyConnection) -> QueryResult<(Option<i64>, Option<i64>)> {
    users::table
        .select((min(users::id), max(users::id)))
        .get_result(conn)
}

/// The id of the `count`th user from `low` on, in id order; `None` past the last.
pub fn slice_end(conn: &mut AnyConnection, low: i64, count: i64) -> QueryResult<Option<i64>> {
    users::table
        .filter(users::id.ge(low))
        .order(users::id)
        .select(users::id)
        .limit(1)
        .offset(count - 1)
        .first(conn)
        .optional()
}

/// Users with an id in `low..=high` who signed up from `since` to `now`.
pub fn signups(
    conn: &mut AnyConnection,
    (low, high): (i64, i64),
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<Vec<(i64, NaiveDateTime)>> {
    users::table
        .filter(users::id.between(low, high))
        .filter(users::created_at.ge(since))
        .filter(users::created_at.le(now))
        .select((users::id, users::created_at))
        .load(conn)
}

/// Visits from `first` to `last` of users with an id in `low..=high`, in key order.
pub fn visits(
    conn: &mut AnyConnection,
    (low, high): (i64, i64),
    first: NaiveDate,
    last: NaiveDate,
) -> QueryResult<Vec<(i64, NaiveDate)>> {
    user_visits::table
        .filter(user_visits::user_id.between(low, high))
        .filter(user_visits::visited_on.ge(first))
        .filter(user_visits::visited_on.le(last))
        .order((user_visits::user_id, user_visits::visited_on))
        .select((user_visits::user_id, user_visits::visited_on))
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
