//! The visit figures (daily active, the 7/28/30-day windows, weekly cohorts) counted in
//! one pass over the last 90 days of visits, fed a range of user ids at a time.
//!
//! Grouping per user and per week in SQL made both databases sort millions of rows;
//! reading the visits in key order and counting here is several times faster and keeps
//! the arithmetic in plain, tested Rust, identical on both backends.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use super::calendar::{week_start, weeks_between, window_start};
use super::stats::Distribution;
use super::{COHORT_WEEKS, DAILY_DAYS, FREQUENCY_DAYS};

const WEEKS: usize = COHORT_WEEKS as usize;
const DAYS: usize = DAILY_DAYS as usize;

/// Running counts; see [`Tally::add`].
#[derive(Debug, Clone)]
pub struct Tally {
    today: NaiveDate,
    /// The first day of the 90-day series: the oldest visit that matters.
    pub first_day: NaiveDate,
    /// The Monday of the oldest cohort.
    pub first_monday: NaiveDate,
    daily: [i64; DAYS],
    week: i64,
    month: i64,
    /// Users seen in the frequency window, by how many days they were seen.
    frequency: HashMap<i64, i64>,
    cohort_sizes: [i64; WEEKS],
    /// `[cohort][week]`: cohort users seen in that week, both counted from `first_monday`.
    cohort_seen: [[i64; WEEKS]; WEEKS],
}

impl Tally {
    pub fn new(today: NaiveDate) -> Self {
        let first_monday = week_start(today) - TimeDelta::weeks(COHORT_WEEKS - 1);
        Self {
            today,
            first_day: window_start(today, DAILY_DAYS).min(first_monday),
            first_monday,
            daily: [0; DAYS],
            week: 0,
            month: 0,
            frequency: HashMap::new(),
            cohort_sizes: [0; WEEKS],
            cohort_seen: [[0; WEEKS]; WEEKS],
        }
    }

    /// The sign-up instant from which users belong to a cohort.
    pub fn first_signup(&self) -> NaiveDateTime {
        super::calendar::day_start(self.first_monday)
    }

    /// Counts one slice of users: `signups` are those of them who signed up since
    /// [`Tally::first_signup`], `visits` all their visits since `first_day`, ordered
    /// by user and day, one row per user and day.
    pub fn add(&mut self, signups: &[(i64, NaiveDateTime)], visits: &[(i64, NaiveDate)]) {
        let mut cohorts = HashMap::with_capacity(signups.len());
        for &(id, created_at) in signups {
            if let Some(cohort) = self.cohort_of(created_at.date()) {
                self.cohort_sizes[cohort] += 1;
                cohorts.insert(id, cohort);
            }
        }

        for user in visits.chunk_by(|a, b| a.0 == b.0) {
            let cohort = cohorts.get(&user[0].0).copied();
            self.add_user(cohort, user.iter().map(|&(_, day)| day));
        }
    }

    fn cohort_of(&self, day: NaiveDate) -> Option<usize> {
        usize::try_from(weeks_between(self.first_monday, day))
            .ok()
            .filter(|week| *week < WEEKS)
    }

    fn add_user(&mut self, cohort: Option<usize>, days: impl Iterator<Item = NaiveDate>) {
        let week_from = window_start(self.today, 7);
        let frequency_from = window_start(self.today, FREQUENCY_DAYS);
        let month_from = window_start(self.today, 30);
        let daily_from = window_start(self.today, DAILY_DAYS);
        let (mut in_week, mut in_month, mut recent) = (false, false, 0);
        let mut weeks_seen = [false; WEEKS];

        for day in days.filter(|d| *d <= self.today) {
            if day >= daily_from {
                self.daily[(day - daily_from).num_days() as usize] += 1;
            }
            in_week |= day >= week_from;
            in_month |= day >= month_from;
            recent += i64::from(day >= frequency_from);
            if let Some(week) = self.cohort_of(day) {
                weeks_seen[week] = true;
            }
        }

        self.week += i64::from(in_week);
        self.month += i64::from(in_month);
        if recent > 0 {
            *self.frequency.entry(recent).or_default() += 1;
        }
        if let Some(cohort) = cohort {
            for (week, seen) in weeks_seen.iter().enumerate().skip(cohort) {
                self.cohort_seen[cohort][week] += i64::from(*seen);
            }
        }
    }

    /// Users seen on each of the 90 days, oldest first.
    pub fn daily(&self) -> Vec<(NaiveDate, i64)> {
        let first = window_start(self.today, DAILY_DAYS);
        (0..DAILY_DAYS)
            .map(|offset| (first + TimeDelta::days(offset), self.daily[offset as usize]))
            .collect()
    }

    /// Users seen in the last 7 and the last 30 days.
    pub fn week_and_month(&self) -> (i64, i64) {
        (self.week, self.month)
    }

    pub fn frequency(&self) -> Distribution {
        Distribution::new(self.frequency.iter().map(|(days, users)| (*days, *users)))
    }

    /// Cohort sizes, and how many of each cohort were seen in each week since.
    pub fn cohorts(&self) -> (&[i64; WEEKS], &[[i64; WEEKS]; WEEKS]) {
        (&self.cohort_sizes, &self.cohort_seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn visits_count_in_every_window_that_holds_them() {
        let today = date(2026, 3, 16);
        let mut tally = Tally::new(today);
        let ago = |n: i64| today - TimeDelta::days(n);

        tally.add(
            &[],
            &[
                (1, ago(6)),
                (1, ago(0)),
                (2, ago(7)),
                (3, ago(28)),
                (4, ago(30)),
            ],
        );

        assert_eq!(tally.week_and_month(), (1, 3));
        assert_eq!(tally.frequency(), Distribution::new([(2, 1), (1, 1)]));
        let daily = tally.daily();
        assert_eq!(daily[89], (today, 1));
        assert_eq!(daily[83], (ago(6), 1));
        assert_eq!(daily[59], (ago(30), 1));
    }

    #[test]
    fn a_user_seen_several_days_in_a_week_counts_once_for_the_cohort() {
        let today = date(2026, 3, 16);
        let mut tally = Tally::new(today);
        let signed_up = date(2026, 3, 9).and_hms_opt(10, 0, 0).unwrap();
        let older = date(2025, 12, 1).and_hms_opt(10, 0, 0).unwrap();

        tally.add(
            &[(1, signed_up), (2, older)],
            &[
                (1, date(2026, 3, 9)),
                (1, date(2026, 3, 10)),
                (1, today),
                (2, today),
            ],
        );

        let (sizes, seen) = tally.cohorts();
        assert_eq!(tally.first_monday, date(2025, 12, 29));
        assert_eq!(sizes[10], 1);
        assert_eq!(
            sizes.iter().sum::<i64>(),
            1,
            "the older user is in no cohort"
        );
        assert_eq!(seen[10][10], 1);
        assert_eq!(seen[10][11], 1);
    }
}
