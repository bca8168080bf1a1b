//! The batching writer behind the last-seen middleware.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;

use crate::db::schema::{user_visits, users};
use crate::db::{AnyConnection, DbError, Pool};
use crate::on_backend;

/// A user seen at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    pub user_id: i64,
    pub at: DateTime<Utc>,
}

/// Touches waiting in the queue before new ones are refused.
const QUEUE_CAPACITY: usize = 10_000;
/// How long the writer gathers touches before writing them: well under the one second
/// within which a touch must reach the database.
const GATHER_FOR: Duration = Duration::from_millis(200);
/// Most touches written in one transaction.
const BATCH_MAX: usize = 1_000;
/// Pause between attempts while the database refuses writes.
const RETRY_AFTER: Duration = Duration::from_millis(500);
/// A write stuck longer than this (a lock held elsewhere) counts as failed and is retried.
const STATEMENT_TIMEOUT_MS: u32 = 5_000;

enum Message {
    Touch(Touch),
    Stop,
}

/// Counters of what the recorder did, for tests, benchmarks and logs.
#[derive(Debug, Default)]
pub struct RecorderStats {
    pub touches_accepted: AtomicU64,
    pub touches_refused: AtomicU64,
    pub batches_written: AtomicU64,
    pub batches_failed: AtomicU64,
    /// `users` rows whose `last_seen` changed.
    pub last_seen_writes: AtomicU64,
    /// `user_visits` rows inserted.
    pub visit_rows_written: AtomicU64,
    /// Touches that have been written (or found to change nothing).
    pub touches_settled: AtomicU64,
}

impl RecorderStats {
    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Touches accepted but not yet written.
    pub fn in_flight(&self) -> u64 {
        Self::get(&self.touches_accepted).saturating_sub(Self::get(&self.touches_settled))
    }
}

#[derive(Debug, Default)]
struct Shared {
    /// Set while writes fail; sessions are then left unstamped so they offer again.
    failing: AtomicBool,
    stats: RecorderStats,
}

/// The sending side: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct Recorder {
    sender: SyncSender<Message>,
    shared: Arc<Shared>,
}

/// The writer thread; [`RecorderWorker::shutdown`] drains it.
#[derive(Debug)]
pub struct RecorderWorker {
    sender: SyncSender<Message>,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    /// Starts the writer thread.
    pub fn start(pool: Pool, interval: TimeDelta) -> (Recorder, RecorderWorker) {
        let (sender, receiver) = sync_channel(QUEUE_CAPACITY);
        let shared = Arc::new(Shared::default());
        let writer = Writer {
            pool,
            interval,
            receiver,
            shared: shared.clone(),
            pending: Pending::default(),
        };
        let thread = std::thread::Builder::new()
            .name("pulse-last-seen".into())
            .spawn(move || writer.run())
            .ok();
        if thread.is_none() {
            tracing::error!("the last-seen writer thread could not start; visits are not recorded");
        }
        let worker = RecorderWorker {
            sender: sender.clone(),
            thread,
        };
        (Recorder { sender, shared }, worker)
    }

    /// Queues a touch. True when the session may be stamped: the touch is queued and
    /// the last writes succeeded.
    pub fn record(&self, touch: Touch) -> bool {
        let stats = &self.shared.stats;
        match self.sender.try_send(Message::Touch(touch)) {
            Ok(()) => {
                stats.touches_accepted.fetch_add(1, Ordering::Relaxed);
                !self.shared.failing.load(Ordering::Relaxed)
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                let refused = stats.touches_refused.fetch_add(1, Ordering::Relaxed);
                if refused.is_power_of_two() {
                    tracing::warn!(touches.refused = refused + 1, "last-seen queue is full");
                }
                false
            }
        }
    }

    pub fn stats(&self) -> &RecorderStats {
        &self.shared.stats
    }
}

impl RecorderWorker {
    /// Writes what is queued and stops the thread.
    pub fn shutdown(mut self) {
        let _ = self.sender.send(Message::Stop);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the last-seen writer panicked");
        }
    }
}

/// Touches not yet written, merged: the latest time per user and each (user, day).
#[derive(Debug, Default)]
struct Pending {
    latest: BTreeMap<i64, DateTime<Utc>>,
    days: BTreeSet<(i64, NaiveDate)>,
    touches: u64,
}

impl Pending {
    fn add(&mut self, touch: Touch) {
        self.touches += 1;
        let latest = self.latest.entry(touch.user_id).or_insert(touch.at);
        *latest = (*latest).max(touch.at);
        self.days.insert((touch.user_id, touch.at.date_naive()));
    }

    fn len(&self) -> usize {
        self.latest.len() + self.days.len()
    }

    fn is_empty(&self) -> bool {
        self.latest.is_empty() && self.days.is_empty()
    }
}

// FIXME: the event writer in src/sites/writer.rs repeats this gather-and-retry loop; a
// generic batch writer (a queue, a merge step and a write step) would serve both. They
// grew apart in what they merge and count, so they stay separate until a third appears.
struct Writer {
    pool: Pool,
    interval: TimeDelta,
    receiver: Receiver<Message>,
    shared: Arc<Shared>,
    pending: Pending,
}

impl Writer {
    fn run(mut self) {
        loop {
            let stop = self.gather();
            if !self.pending.is_empty() {
                self.write_pending();
            }
            if stop {
                break;
            }
        }
        if !self.pending.is_empty() {
            tracing::warn!(
                touches.lost = self.pending.latest.len(),
                "stopping with unwritten visits: the database refused them"
            );
        }
    }

    /// Waits for touches and gathers them for a moment. True when asked to stop or when
    /// every sender is gone.
    fn gather(&mut self) -> bool {
        let first = if self.pending.is_empty() {
            self.receiver
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            self.receiver.recv_timeout(RETRY_AFTER)
        };
        match first {
            Ok(Message::Touch(touch)) => self.pending.add(touch),
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return true,
            Err(RecvTimeoutError::Timeout) => return false,
        }
        let deadline = Instant::now() + GATHER_FOR;
        while self.pending.len() < BATCH_MAX {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.receiver.recv_timeout(wait) {
                Ok(Message::Touch(touch)) => self.pending.add(touch),
                Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return true,
                Err(RecvTimeoutError::Timeout) => break,
            }
        }
        false
    }

    fn write_pending(&mut self) {
        let started = Instant::now();
        let outcome = self
            .pool
            .get()
            .map_err(DbError::from)
            .and_then(|mut conn| write_batch(&mut conn, &self.pending, self.interval));
        let stats = &self.shared.stats;
        match outcome {
            Ok((last_seen, visits)) => {
                stats.batches_written.fetch_add(1, Ordering::Relaxed);
                stats
                    .last_seen_writes
                    .fetch_add(last_seen, Ordering::Relaxed);
                stats
                    .visit_rows_written
                    .fetch_add(visits, Ordering::Relaxed);
                stats
                    .touches_settled
                    .fetch_add(self.pending.touches, Ordering::Relaxed);
                if self.shared.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("last-seen writes succeed again");
                }
                tracing::debug!(
                    users = self.pending.latest.len(),
                    last_seen.writes = last_seen,
                    visits.written = visits,
                    duration_ms = started.elapsed().as_millis() as u64,
                    "visits written"
                );
                self.pending = Pending::default();
            }
            Err(err) => {
                stats.batches_failed.fetch_add(1, Ordering::Relaxed);
                if !self.shared.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %crate::error::error_chain(&err),
                        users = self.pending.latest.len(),
                        "last-seen writes failing; keeping the visits and retrying"
                    );
                }
            }
        }
    }
}

/// Writes one batch in one transaction; returns (last_seen writes, visit rows).
fn write_batch(
    conn: &mut AnyConnection,
    pending: &Pending,
    interval: TimeDelta,
) -> Result<(u64, u64), DbError> {
    conn.transaction(|conn| {
        if let AnyConnection::Postgresql(pg) = conn {
            pg.batch_execute(&format!(
                "SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"
            ))?;
        }
        let mut last_seen_writes = 0;
        for (&user_id, &at) in &pending.latest {
            let older_than = (at - interval).naive_utc();
            let changed = diesel::update(
                users::table.find(user_id).filter(
                    users::last_seen
                        .is_null()
                        .or(users::last_seen.le(older_than)),
                ),
            )
            .filter(
                users::last_seen
                    .is_null()
                    .or(users::last_seen.lt(at.naive_utc())),
            )
            .set(users::last_seen.eq(at.naive_utc()))
            .execute(conn)?;
            last_seen_writes += changed as u64;
        }

        // An account deleted since its touch would fail the whole batch on the foreign
        // key, forever; its visits are dropped instead.
        let ids: Vec<i64> = pending.latest.keys().copied().collect();
        let existing: BTreeSet<i64> = users::table
            .filter(users::id.eq_any(&ids))
            .select(users::id)
            .load::<i64>(conn)?
            .into_iter()
            .collect();
        let rows: Vec<_> = pending
            .days
            .iter()
            .filter(|(user_id, _)| existing.contains(user_id))
            .map(|(user_id, day)| {
                (
                    user_visits::user_id.eq(*user_id),
                    user_visits::visited_on.eq(*day),
                )
            })
            .collect();
        let mut visits = 0;
        for chunk in rows.chunks(500) {
            visits += on_backend!(conn, c => diesel::insert_into(user_visits::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(c))? as u64;
        }
        Ok((last_seen_writes, visits))
    })
    .map_err(|err: diesel::result::Error| DbError::from(err))
}
