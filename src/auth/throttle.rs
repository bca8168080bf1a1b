//! Sign-in throttling: after 10 failures for one email, or 50 from one address, within
//! 15 minutes, further attempts are refused until the window has passed.
//!
//! The counts live in this instance's memory, bounded in size. Several instances behind
//! a load balancer each keep their own, so the effective limit grows with their number.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

pub const WINDOW: TimeDelta = TimeDelta::minutes(15);
pub const MAX_FAILURES_PER_EMAIL: u32 = 10;
pub const MAX_FAILURES_PER_ADDRESS: u32 = 50;
/// Entries kept per kind before the oldest are dropped.
const CAPACITY: usize = 10_000;

// FIXME: the counts are per instance, so N instances behind a load balancer allow N
// times the attempts. A shared count needs a table (or a cache server) and a write per
// failed attempt; the per-email limit still makes guessing slow, so it waits.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    by_email: Mutex<Counter<String>>,
    by_address: Mutex<Counter<IpAddr>>,
}

/// Refused: retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub i64);

impl LoginThrottle {
    /// Whether a sign-in attempt may go ahead now.
    pub fn check(
        &self,
        email: &str,
        address: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<(), RetryAfter> {
        lock(&self.by_email).check(email, MAX_FAILURES_PER_EMAIL, now)?;
        if let Some(address) = address {
            lock(&self.by_address).check(&address, MAX_FAILURES_PER_ADDRESS, now)?;
        }
        Ok(())
    }

    pub fn record_failure(&self, email: &str, address: Option<IpAddr>, now: DateTime<Utc>) {
        lock(&self.by_email).record(email.to_owned(), now);
        if let Some(address) = address {
            lock(&self.by_address).record(address, now);
        }
    }

    /// A successful sign-in clears the email's failures (not the address's).
    pub fn record_success(&self, email: &str) {
        lock(&self.by_email).entries.remove(email);
    }

    pub fn len(&self) -> usize {
        lock(&self.by_email).entries.len() + lock(&self.by_address).entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug)]
struct Counter<K> {
    /// Failures since the window started.
    entries: HashMap<K, (DateTime<Utc>, u32)>,
}

impl<K> Default for Counter<K> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash + Clone> Counter<K> {
    fn check<Q>(&self, key: &Q, limit: u32, now: DateTime<Utc>) -> Result<(), RetryAfter>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        match self.entries.get(key) {
            Some((started, count)) if *count >= limit && now < *started + WINDOW => {
                Err(RetryAfter((*started + WINDOW - now).num_seconds().max(1)))
            }
            _ => Ok(()),
        }
    }

    fn record(&mut self, key: K, now: DateTime<Utc>) {
        if !self.entries.contains_key(&key) && self.entries.len() >= CAPACITY {
            self.make_room(now);
        }
        let entry = self.entries.entry(key).or_insert((now, 0));
        if now >= entry.0 + WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Drops expired windows; if none have expired, drops the oldest one.
    fn make_room(&mut self, now: DateTime<Utc>) {
        self.entries
            .retain(|_, (started, _)| now < *started + WINDOW);
        if self.entries.len() < CAPACITY {
            return;
        }
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, (started, _))| *started)
            .map(|(key, _)| key.clone());
        if let Some(oldest) = oldest {
            self.entries.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + TimeDelta::minutes(minutes)
    }

    #[test]
    fn the_eleventh_attempt_for_an_email_is_refused_until_the_window_ends() {
        let throttle = LoginThrottle::default();
        for _ in 0..10 {
            assert!(throttle.check("a@x.test", None, at(0)).is_ok());
            throttle.record_failure("a@x.test", None, at(0));
        }

        assert_eq!(
            throttle.check("a@x.test", None, at(1)),
            Err(RetryAfter(14 * 60))
        );
        assert!(throttle.check("b@x.test", None, at(1)).is_ok());
        assert!(throttle.check("a@x.test", None, at(15)).is_ok());
    }

    #[test]
    fn fifty_failures_from_one_address_block_it_for_every_email() {
        let throttle = LoginThrottle::default();
        let address: IpAddr = "192.0.2.7".parse().unwrap();
        for n in 0..50 {
            throttle.record_failure(&format!("u{n}@x.test"), Some(address), at(0));
        }

        assert!(throttle.check("new@x.test", Some(address), at(1)).is_err());
        assert!(throttle.check("new@x.test", None, at(1)).is_ok());
    }

    #[test]
    fn success_resets_the_email() {
        let throttle = LoginThrottle::default();
        for _ in 0..10 {
            throttle.record_failure("a@x.test", None, at(0));
        }

        throttle.record_success("a@x.test");

        assert!(throttle.check("a@x.test", None, at(0)).is_ok());
    }

    #[test]
    fn memory_stays_bounded() {
        let throttle = LoginThrottle::default();

        for n in 0..(CAPACITY + 500) {
            throttle.record_failure(&format!("u{n}@x.test"), None, at(0));
        }

        assert!(throttle.len() <= CAPACITY);
    }
}
