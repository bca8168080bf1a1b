//! The latest report, kept in memory and recomputed in the background.
//!
//! Nothing is stored in the database: a restart computes from `users` and `user_visits`
//! again, so rows written straight into them always show after one.

use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use chrono::TimeDelta;

use super::{Report, compute};
use crate::clock::Clock;
use crate::config::Thresholds;
use crate::db::{self, DbError, Pool};

/// The oldest report a request may be answered with.
pub const MAX_AGE: TimeDelta = TimeDelta::seconds(60);

/// The longest pause between two background computations.
const LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// The least room left for a computation that runs slower than the one before it.
const SAFETY_MARGIN: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the engagement report could not be computed")]
    Database(#[from] DbError),
    #[error("the engagement report could not be serialized")]
    Json(#[from] serde_json::Error),
}

/// A computed report with its JSON, serialized once for every request that reads it.
#[derive(Debug)]
pub struct Snapshot {
    pub report: Report,
    pub json: Bytes,
    pub took: Duration,
}

// FIXME: every instance computes its own report, so N instances on one PostgreSQL do the
// work N times, and the first request after a start waits for a full computation
// (about 10 s at a million users). Sharing one computed report through the database
// would fix both; at one or two instances the cost is acceptable.
/// Shared by every worker; cloning is cheap.
#[derive(Clone)]
pub struct ReportCache {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    clock: Arc<dyn Clock>,
    thresholds: Thresholds,
    latest: RwLock<Option<Arc<Snapshot>>>,
    /// Held while computing, so concurrent requests wait for one computation.
    computing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ReportCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportCache").finish_non_exhaustive()
    }
}

impl ReportCache {
    pub fn new(pool: Pool, clock: Arc<dyn Clock>, thresholds: Thresholds) -> Self {
        let inner = Inner {
            pool,
            clock,
            thresholds,
            latest: RwLock::new(None),
            computing: tokio::sync::Mutex::new(()),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// A report no older than [`MAX_AGE`], computed now if the cache has none.
    pub async fn current(&self) -> Result<Arc<Snapshot>, ReportError> {
        if let Some(snapshot) = self.fresh() {
            return Ok(snapshot);
        }

        let _computing = self.inner.computing.lock().await;
        if let Some(snapshot) = self.fresh() {
            return Ok(snapshot);
        }
        self.recompute().await
    }

    /// Computes a new report, whatever the age of the cached one.
    pub async fn refresh(&self) -> Result<Arc<Snapshot>, ReportError> {
        let _computing = self.inner.computing.lock().await;
        self.recompute().await
    }

    /// Recomputes from now on, often enough that the cached report never reaches
    /// [`MAX_AGE`], until the cache is dropped.
    pub fn spawn_refresher(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(refresh_while_alive(weak));
    }

    fn fresh(&self) -> Option<Arc<Snapshot>> {
        let latest = self
            .inner
            .latest
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()?;
        let age = self.inner.clock.now() - latest.report.generated_at;
        // A clock set back (in tests) makes a report from the "future" stale too.
        (age >= TimeDelta::zero() && age < MAX_AGE).then_some(latest)
    }

    async fn recompute(&self) -> Result<Arc<Snapshot>, ReportError> {
        let now = self.inner.clock.now();
        let thresholds = self.inner.thresholds;
        let started = Instant::now();

        let report = db::run(&self.inner.pool, move |conn| {
            compute(conn, now, &thresholds).map_err(DbError::from)
        })
        .await?;
        let json = Bytes::from(serde_json::to_vec(&report)?);
        let took = started.elapsed();

        tracing::info!(
            duration_ms = took.as_millis() as u64,
            users.total = report.users.total,
            "engagement report computed in {} ms",
            took.as_millis()
        );
        let snapshot = Arc::new(Snapshot { report, json, took });
        *self
            .inner
            .latest
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(snapshot.clone());
        Ok(snapshot)
    }
}

async fn refresh_while_alive(weak: Weak<Inner>) {
    loop {
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let cache = ReportCache { inner };
        let pause = match cache.refresh().await {
            Ok(snapshot) => pause_after(snapshot.took),
            Err(err) => {
                tracing::warn!(
                    error = %crate::error::error_chain(&err),
                    "the engagement report could not be refreshed"
                );
                LONGEST_PAUSE
            }
        };
        drop(cache);

        tokio::time::sleep(pause).await;
    }
}

/// How long to wait before the next computation, given that the last one took `took`.
///
/// A report is served until the next one is ready, so the oldest served is about two
/// computations and one pause old. The pause keeps that under [`MAX_AGE`] even if the
/// next computation takes twice as long (a busy machine), with at least 10 s to spare.
fn pause_after(took: Duration) -> Duration {
    let max_age = MAX_AGE.to_std().unwrap_or(LONGEST_PAUSE);
    max_age
        .saturating_sub(took * 2)
        .saturating_sub(took.max(SAFETY_MARGIN))
        .clamp(Duration::from_secs(1), LONGEST_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slower_computation_makes_a_shorter_pause() {
        assert_eq!(pause_after(Duration::from_millis(100)), LONGEST_PAUSE);
        assert_eq!(pause_after(Duration::from_secs(5)), LONGEST_PAUSE);
        assert_eq!(
            pause_after(Duration::from_secs(12)),
            Duration::from_secs(24)
        );
        assert_eq!(pause_after(Duration::from_secs(40)), Duration::from_secs(1));
    }
}
