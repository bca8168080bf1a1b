//! Pure date arithmetic for the report: UTC days, Monday weeks, idle time and segments.

use chrono::{Datelike as _, NaiveDate, NaiveDateTime, TimeDelta};

use crate::config::Thresholds;

/// Where a user stands by idle time (`now - last_seen`); every user is in exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    Active,
    AtRisk,
    Rotting,
    Lost,
    NeverSeen,
}

impl Segment {
    /// The name used in the JSON report and the CSV export.
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Active => "active",
            Segment::AtRisk => "at_risk",
            Segment::Rotting => "rotting",
            Segment::Lost => "lost",
            Segment::NeverSeen => "never_seen",
        }
    }
}

/// The segment of a user last seen at `last_seen`. An idle time exactly at a threshold
/// belongs to the older segment, as in the SQL that counts them.
pub fn segment_of(
    now: NaiveDateTime,
    last_seen: Option<NaiveDateTime>,
    thresholds: &Thresholds,
) -> Segment {
    let Some(last_seen) = last_seen else {
        return Segment::NeverSeen;
    };
    let idle = now - last_seen;
    if idle < thresholds.at_risk {
        Segment::Active
    } else if idle < thresholds.rotting {
        Segment::AtRisk
    } else if idle < thresholds.lost {
        Segment::Rotting
    } else {
        Segment::Lost
    }
}

/// Whole days between `last_seen` and `now`, rounded down; never negative.
pub fn idle_days(now: NaiveDateTime, last_seen: NaiveDateTime) -> i64 {
    (now - last_seen).num_days().max(0)
}

/// The Monday that starts the week holding `day`.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The first day of a window of `days` days that ends with `today`, both included.
pub fn window_start(today: NaiveDate, days: i64) -> NaiveDate {
    today - TimeDelta::days(days - 1)
}

/// Whole weeks from `from` to `day`, rounded down (negative when `day` is earlier).
pub fn weeks_between(from: NaiveDate, day: NaiveDate) -> i64 {
    (day - from).num_days().div_euclid(7)
}

/// Midnight at the start of `day`.
pub fn day_start(day: NaiveDate) -> NaiveDateTime {
    day.and_time(chrono::NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn thresholds() -> Thresholds {
        Thresholds {
            at_risk: TimeDelta::days(7),
            rotting: TimeDelta::days(30),
            lost: TimeDelta::days(90),
        }
    }

    #[test]
    fn an_idle_time_exactly_at_a_threshold_falls_in_the_older_segment() {
        let now = date(2026, 3, 16).and_hms_opt(9, 30, 0).unwrap();
        let t = thresholds();

        let at = |idle: TimeDelta| segment_of(now, Some(now - idle), &t);

        assert_eq!(at(TimeDelta::zero()), Segment::Active);
        assert_eq!(
            at(TimeDelta::days(7) - TimeDelta::microseconds(1)),
            Segment::Active
        );
        assert_eq!(at(TimeDelta::days(7)), Segment::AtRisk);
        assert_eq!(at(TimeDelta::days(30)), Segment::Rotting);
        assert_eq!(at(TimeDelta::days(90)), Segment::Lost);
        assert_eq!(segment_of(now, None, &t), Segment::NeverSeen);
    }

    #[test]
    fn idle_days_are_whole_days_rounded_down() {
        let now = date(2026, 3, 16).and_hms_opt(9, 30, 0).unwrap();

        assert_eq!(idle_days(now, now - TimeDelta::hours(47)), 1);
        assert_eq!(idle_days(now, now - TimeDelta::hours(48)), 2);
        assert_eq!(idle_days(now, now + TimeDelta::hours(1)), 0);
    }

    #[test]
    fn weeks_start_on_monday() {
        assert_eq!(week_start(date(2026, 3, 16)), date(2026, 3, 16), "a Monday");
        assert_eq!(week_start(date(2026, 3, 22)), date(2026, 3, 16), "a Sunday");
        assert_eq!(
            week_start(date(2026, 3, 1)),
            date(2026, 2, 23),
            "across a month"
        );
    }

    #[test]
    fn windows_include_today() {
        assert_eq!(window_start(date(2026, 3, 16), 7), date(2026, 3, 10));
        assert_eq!(window_start(date(2026, 3, 1), 30), date(2026, 1, 31));
        assert_eq!(window_start(date(2026, 3, 16), 1), date(2026, 3, 16));
    }

    #[test]
    fn weeks_between_counts_whole_weeks_either_way() {
        let monday = date(2026, 3, 2);

        assert_eq!(weeks_between(monday, date(2026, 3, 8)), 0);
        assert_eq!(weeks_between(monday, date(2026, 3, 9)), 1);
        assert_eq!(weeks_between(monday, date(2026, 3, 1)), -1);
    }
}
