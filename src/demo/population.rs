//! Synthetic users with believable habits, from a seeded generator so that one seed
//! always makes the same population (relative to the same "now").

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use rand::{Rng, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use crate::reports::calendar::day_start;

/// How a demo user behaves from the day they sign up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Habit {
    /// Comes most days.
    Daily,
    /// Two or so days a week.
    Weekly,
    /// A day or two a month.
    Monthly,
    /// Signs up, looks around once, never returns.
    OneVisit,
    /// Regular for a while, then stops.
    Churned { after_days: i64 },
    /// Regular, a long pause, then back.
    Comeback { pause_from: i64, pause_days: i64 },
    /// Signed up but never signed in.
    NeverSeen,
}

/// One generated user: the row and the days they were seen, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub created_at: NaiveDateTime,
    pub last_seen: Option<NaiveDateTime>,
    pub visits: Vec<NaiveDate>,
}

pub struct Generator {
    rng: ChaCha8Rng,
    now: NaiveDateTime,
    days: i64,
}

impl Generator {
    pub fn new(seed: u64, now: NaiveDateTime, days: i64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            now,
            days,
        }
    }

    pub fn next_user(&mut self) -> DemoUser {
        let created_at = self.signup();
        let habit = self.habit();
        let visits = self.visits(created_at.date(), habit);
        let last_seen = visits.last().map(|day| self.time_on(*day, created_at));
        DemoUser {
            created_at,
            last_seen,
            visits,
        }
    }

    /// Sign-ups grow over time: more of them are recent.
    fn signup(&mut self) -> NaiveDateTime {
        let u: f64 = self.rng.random();
        let days_ago = ((1.0 - u.sqrt()) * self.days as f64).floor() as i64;
        let day = self.now.date() - TimeDelta::days(days_ago.clamp(0, self.days - 1));
        let start = day_start(day);
        let latest = (self.now - start).num_seconds().clamp(0, 86_399);
        start + TimeDelta::seconds(self.rng.random_range(0..=latest))
    }

    fn habit(&mut self) -> Habit {
        let roll: f64 = self.rng.random();
        match roll {
            r if r < 0.07 => Habit::Daily,
            r if r < 0.29 => Habit::Weekly,
            r if r < 0.44 => Habit::Monthly,
            r if r < 0.60 => Habit::OneVisit,
            r if r < 0.80 => Habit::Churned {
                after_days: self.rng.random_range(3..=90),
            },
            r if r < 0.88 => Habit::Comeback {
                pause_from: self.rng.random_range(5..=40),
                pause_days: self.rng.random_range(14..=60),
            },
            _ => Habit::NeverSeen,
        }
    }

    /// Whether a user of `habit` comes back on the `age`th day after signing up.
    fn comes_on(&mut self, habit: Habit, age: i64) -> bool {
        let chance = match habit {
            Habit::Daily => 0.75,
            Habit::Weekly => 0.27,
            Habit::Monthly => 0.05,
            Habit::OneVisit | Habit::NeverSeen => 0.0,
            Habit::Churned { after_days } if age < after_days => 0.35,
            Habit::Churned { .. } => 0.0,
            Habit::Comeback {
                pause_from,
                pause_days,
            } if (pause_from..pause_from + pause_days).contains(&age) => 0.0,
            Habit::Comeback { .. } => 0.3,
        };
        chance > 0.0 && self.rng.random_bool(chance)
    }

    fn visits(&mut self, signup: NaiveDate, habit: Habit) -> Vec<NaiveDate> {
        if habit == Habit::NeverSeen {
            return Vec::new();
        }
        let today = self.now.date();
        let mut days = vec![signup];
        let mut day = signup + TimeDelta::days(1);
        let mut age = 1;
        while day <= today {
            if self.comes_on(habit, age) {
                days.push(day);
            }
            day += TimeDelta::days(1);
            age += 1;
        }
        days
    }

    /// A moment on `day` no earlier than the sign-up and no later than now.
    fn time_on(&mut self, day: NaiveDate, created_at: NaiveDateTime) -> NaiveDateTime {
        let earliest = day_start(day).max(created_at);
        let latest = (day_start(day) + TimeDelta::seconds(86_399)).min(self.now);
        let spread = (latest - earliest).num_seconds().max(0);
        earliest + TimeDelta::seconds(self.rng.random_range(0..=spread))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 16)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap()
    }

    #[test]
    fn the_same_seed_makes_the_same_users() {
        let mut a = Generator::new(7, now(), 180);
        let mut b = Generator::new(7, now(), 180);

        let first: Vec<DemoUser> = (0..50).map(|_| a.next_user()).collect();
        let second: Vec<DemoUser> = (0..50).map(|_| b.next_user()).collect();

        assert_eq!(first, second);
    }

    #[test]
    fn every_user_is_consistent_with_their_visits() {
        let mut generator = Generator::new(1, now(), 30);

        for _ in 0..2_000 {
            let user = generator.next_user();

            assert!(user.created_at <= now());
            assert!(user.created_at.date() > now().date() - TimeDelta::days(30));
            assert_eq!(
                user.last_seen.map(|t| t.date()),
                user.visits.last().copied()
            );
            if let Some(last_seen) = user.last_seen {
                assert!(last_seen >= user.created_at && last_seen <= now());
                assert_eq!(user.visits.first(), Some(&user.created_at.date()));
            }
            assert!(user.visits.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
