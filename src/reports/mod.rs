//! The engagement figures: who is active, how often they come back, who is going quiet.
//!
//! [`compute`] asks the database for a few counts and the last 90 days of visits (read
//! a slice of users at a time and counted in Rust) and arranges them into a [`Report`]
//! exactly as SPEC.md defines it. [`ReportCache`] keeps the latest report,
//! recomputed in the background, so that requests never wait for a full computation.

mod cache;
pub mod calendar;
mod model;
mod queries;
pub mod stats;
mod tally;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use diesel::Connection as _;
use diesel::QueryResult;
use diesel::connection::SimpleConnection as _;

pub use cache::{ReportCache, ReportError, Snapshot};
pub use calendar::Segment;
pub use model::{Active, Cohort, DayCount, Frequency, Report, RottingUser, Segments, UserCounts};

use crate::config::Thresholds;
use crate::db::{AnyConnection, Kind};
use calendar::{idle_days, window_start};
use queries::{Cutoffs, UserTotals};
use stats::ratio;
use tally::Tally;

/// Days in the frequency window.
pub const FREQUENCY_DAYS: i64 = 28;
/// Days in the daily-active series.
pub const DAILY_DAYS: i64 = 90;
/// Weekly signup cohorts in the grid.
pub const COHORT_WEEKS: i64 = 12;
/// Most users listed as rotting.
pub const ROTTING_LIMIT: i64 = 100;

/// Users per slice when reading the visits; bounds the rows held at once.
pub const SLICE_USERS: i64 = 50_000;

/// Computes the report as of `now`, from one consistent view of the database.
pub fn compute(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    thresholds: &Thresholds,
) -> QueryResult<Report> {
    compute_in_slices(conn, now, thresholds, SLICE_USERS)
}

/// [`compute`], reading the visits `slice_users` users at a time (at least one);
/// tests use small slices to prove the figures do not depend on them.
pub fn compute_in_slices(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    thresholds: &Thresholds,
    slice_users: i64,
) -> QueryResult<Report> {
    conn.transaction(|conn| {
        if conn.kind() == Kind::Postgres {
            // One snapshot for every query, so the figures agree with each other.
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        compute_in(conn, now, thresholds, slice_users.max(1))
    })
}

fn compute_in(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    thresholds: &Thresholds,
    slice_users: i64,
) -> QueryResult<Report> {
    let at = now.naive_utc();
    let today = at.date();

    let totals = queries::user_totals(conn, &cutoffs(at, thresholds))?;
    let tally = tally_visits(conn, at, slice_users)?;
    let first_day = window_start(today, DAILY_DAYS);
    let daily_active = fill_days(first_day, DAILY_DAYS, &tally.daily());
    let (sizes, seen) = tally.cohorts();
    let cohorts = build_cohorts(tally.first_monday, sizes, seen);
    let rotting = queries::rotting_users(
        conn,
        at - thresholds.at_risk,
        at - thresholds.lost,
        ROTTING_LIMIT,
    )?;

    Ok(Report {
        generated_at: now,
        users: user_counts(&totals),
        active: active(&tally, &daily_active),
        frequency: frequency(&tally),
        segments: segments(&totals),
        daily_active,
        cohorts,
        rotting_users: rotting
            .into_iter()
            .map(|row| rotting_user(at, row))
            .collect(),
    })
}

/// Feeds every user's recent visits to a [`Tally`], one slice of users at a time.
///
/// Slices are cut by counting users, not ids, so gaps in the ids cost nothing.
fn tally_visits(
    conn: &mut AnyConnection,
    at: NaiveDateTime,
    slice_users: i64,
) -> QueryResult<Tally> {
    let mut tally = Tally::new(at.date());
    let (lowest, highest) = queries::id_range(conn)?;
    let (Some(lowest), Some(highest)) = (lowest, highest) else {
        return Ok(tally);
    };

    let mut low = lowest;
    while low <= highest {
        let high = queries::slice_end(conn, low, slice_users)?.unwrap_or(highest);
        let signups = queries::signups(conn, (low, high), tally.first_signup(), at)?;
        let visits = queries::visits(conn, (low, high), tally.first_day, at.date())?;
        tally.add(&signups, &visits);
        match high.checked_add(1) {
            Some(next) => low = next,
            None => break,
        }
    }
    Ok(tally)
}

fn cutoffs(at: NaiveDateTime, thresholds: &Thresholds) -> Cutoffs {
    Cutoffs {
        signups_7d: at - TimeDelta::days(7),
        signups_30d: at - TimeDelta::days(30),
        at_risk: at - thresholds.at_risk,
        rotting: at - thresholds.rotting,
        lost: at - thresholds.lost,
    }
}

fn user_counts(totals: &UserTotals) -> UserCounts {
    UserCounts {
        total: totals.total,
        signups_7d: totals.signups_7d,
        signups_30d: totals.signups_30d,
    }
}

fn segments(totals: &UserTotals) -> Segments {
    Segments {
        active: totals.active,
        at_risk: totals.at_risk,
        rotting: totals.rotting,
        lost: totals.lost,
        never_seen: totals.never_seen,
    }
}

fn active(tally: &Tally, daily: &[DayCount]) -> Active {
    let day = daily.last().map_or(0, |d| d.users);
    let (week, month) = tally.week_and_month();
    Active {
        day,
        week,
        month,
        stickiness: ratio(day, month),
    }
}

fn frequency(tally: &Tally) -> Frequency {
    let distribution = tally.frequency();
    Frequency {
        window_days: FREQUENCY_DAYS,
        active_users: distribution.users(),
        mean_active_days: distribution.mean(),
        median_active_days: distribution.median(),
        histogram: distribution.histogram(),
    }
}

/// One entry per day from `first`, `days` long, with 0 where `counts` has none.
pub fn fill_days(first: NaiveDate, days: i64, counts: &[(NaiveDate, i64)]) -> Vec<DayCount> {
    (0..days)
        .map(|offset| {
            let day = first + TimeDelta::days(offset);
            let users = counts
                .iter()
                .find(|(d, _)| *d == day)
                .map_or(0, |(_, n)| *n);
            DayCount { day, users }
        })
        .collect()
}

/// Arranges the cohort counts: cohort `i` has one retention figure per week that has
/// begun since its signup week.
pub fn build_cohorts(
    first_monday: NaiveDate,
    sizes: &[i64; COHORT_WEEKS as usize],
    seen: &[[i64; COHORT_WEEKS as usize]; COHORT_WEEKS as usize],
) -> Vec<Cohort> {
    (0..COHORT_WEEKS as usize)
        .map(|cohort| Cohort {
            week: first_monday + TimeDelta::weeks(cohort as i64),
            size: sizes[cohort],
            retained: seen[cohort][cohort..]
                .iter()
                .map(|n| ratio(*n, sizes[cohort]))
                .collect(),
        })
        .collect()
}

fn rotting_user(at: NaiveDateTime, row: queries::RottingRow) -> RottingUser {
    RottingUser {
        idle_days: idle_days(at, row.last_seen),
        email: row.email,
        created_at: row.created_at.and_utc(),
        last_seen: row.last_seen.and_utc(),
        visit_days: row.visit_days,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn missing_days_are_filled_with_zero() {
        let first = date(2026, 2, 27);

        let days = fill_days(first, 3, &[(date(2026, 3, 1), 4)]);

        let users: Vec<i64> = days.iter().map(|d| d.users).collect();
        assert_eq!(users, [0, 0, 4]);
        assert_eq!(days[2].day, date(2026, 3, 1));
    }

    #[test]
    fn each_cohort_lists_the_weeks_that_have_begun() {
        let first = date(2026, 1, 5);
        let mut sizes = [0; 12];
        let mut seen = [[0; 12]; 12];
        (sizes[0], sizes[11]) = (4, 2);
        (seen[0][0], seen[0][2], seen[11][11]) = (4, 1, 1);

        let cohorts = build_cohorts(first, &sizes, &seen);

        assert_eq!(cohorts.len(), 12);
        assert_eq!(cohorts[0].week, first);
        assert_eq!(cohorts[0].retained.len(), 12);
        assert_eq!(&cohorts[0].retained[..3], [1.0, 0.0, 0.25]);
        assert_eq!(cohorts[11].week, date(2026, 3, 23));
        assert_eq!(cohorts[11].retained, [0.5]);
        assert_eq!(cohorts[5].size, 0);
        assert!(cohorts[5].retained.iter().all(|r| *r == 0.0));
    }
}
