//! The batching writer behind `POST /api/event`.
//!
//! Handlers queue pageviews and answer at once; one thread writes them in batches, one
//! transaction each, together with the roll-ups the site dashboard reads, so the
//! roll-ups are exact: a batch lands entirely or not at all. When the queue is full the
//! handler answers 503 rather than dropping the event silently. On shutdown the queue
//! drains.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike as _, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::schema::{
    site_daily_pages, site_daily_referrers, site_events, site_hourly, site_recent_visitors,
    site_visitors, sites,
};
use crate::db::{AnyConnection, DbError, Pool};
use crate::on_backend;

/// A pageview, ready to be written; the visitor is already a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The normalised domain the script reported.
    pub domain: String,
    pub at: DateTime<Utc>,
    pub visitor_id: i64,
    pub path: String,
    /// Referring host; empty for direct or same-site.
    pub referrer: String,
}

/// Events waiting before new ones are refused with 503.
const QUEUE_CAPACITY: usize = 20_000;
/// How long the writer gathers events before writing them.
const GATHER_FOR: Duration = Duration::from_millis(100);
/// Most events written in one transaction.
const BATCH_MAX: usize = 5_000;
/// Pause between attempts while the database refuses writes.
const RETRY_AFTER: Duration = Duration::from_millis(500);
/// Rows per multi-row insert: well under SQLite's limit of bound values.
const ROWS_PER_INSERT: usize = 500;
/// How long a visitor stays in `site_recent_visitors`: twice what "right now" reads.
const RECENT_FOR: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

enum Message {
    Event(Event),
    Stop,
}

/// Counters of what the writer did, for tests, benchmarks and logs.
#[derive(Debug, Default)]
pub struct EventStats {
    pub accepted: AtomicU64,
    /// Refused because the queue was full (answered 503).
    pub refused: AtomicU64,
    /// Stored for a known site.
    pub written: AtomicU64,
    /// Dropped because no site has the domain.
    pub unknown_site: AtomicU64,
    pub batches_written: AtomicU64,
    pub batches_failed: AtomicU64,
}

impl EventStats {
    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Events accepted but not yet written or dropped.
    pub fn in_flight(&self) -> u64 {
        Self::get(&self.accepted)
            .saturating_sub(Self::get(&self.written) + Self::get(&self.unknown_site))
    }

    pub fn written(&self) -> u64 {
        Self::get(&self.written)
    }

    pub fn accepted(&self) -> u64 {
        Self::get(&self.accepted)
    }
}

/// The queue is full; the client should try again shortly.
#[derive(Debug, thiserror::Error)]
#[error("the event queue is full")]
pub struct QueueFull;

/// The sending side: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct EventWriter {
    sender: SyncSender<Message>,
    stats: Arc<EventStats>,
}

/// The writer thread; [`EventWriterWorker::shutdown`] drains it.
#[derive(Debug)]
pub struct EventWriterWorker {
    sender: SyncSender<Message>,
    thread: Option<JoinHandle<()>>,
}

impl EventWriter {
    /// Starts the writer thread.
    pub fn start(pool: Pool) -> (EventWriter, EventWriterWorker) {
        let (sender, receiver) = sync_channel(QUEUE_CAPACITY);
        let stats = Arc::new(EventStats::default());
        let thread = Thread {
            pool,
            receiver,
            stats: stats.clone(),
            pending: Vec::new(),
            failing: false,
        };
        let thread = std::thread::Builder::new()
            .name("pulse-events".into())
            .spawn(move || thread.run())
            .ok();
        if thread.is_none() {
            tracing::error!("the event writer thread could not start; pageviews are not stored");
        }
        let worker = EventWriterWorker {
            sender: sender.clone(),
            thread,
        };
        (EventWriter { sender, stats }, worker)
    }

    /// Queues an event without waiting.
    pub fn send(&self, event: Event) -> Result<(), QueueFull> {
        match self.sender.try_send(Message::Event(event)) {
            Ok(()) => {
                self.stats.accepted.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                let refused = self.stats.refused.fetch_add(1, Ordering::Relaxed);
                if refused.is_power_of_two() {
                    tracing::warn!(events.refused = refused + 1, "event queue is full");
                }
                Err(QueueFull)
            }
        }
    }

    pub fn stats(&self) -> &EventStats {
        &self.stats
    }
}

impl EventWriterWorker {
    /// Writes what is queued and stops the thread.
    pub fn shutdown(mut self) {
        let _ = self.sender.send(Message::Stop);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the event writer panicked");
        }
    }
}

struct Thread {
    pool: Pool,
    receiver: Receiver<Message>,
    stats: Arc<EventStats>,
    pending: Vec<Event>,
    failing: bool,
}

impl Thread {
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
        // One more try each for what is left, so a short outage at shutdown loses less.
        for _ in 0..3 {
            if self.pending.is_empty() {
                return;
            }
            std::thread::sleep(RETRY_AFTER);
            self.write_pending();
        }
        tracing::warn!(
            events.lost = self.pending.len(),
            "stopping with unwritten pageviews: the database refused them"
        );
    }

    /// Waits for events and gathers them for a moment. True when asked to stop.
    fn gather(&mut self) -> bool {
        let first = if self.pending.is_empty() {
            self.receiver
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            self.receiver.recv_timeout(RETRY_AFTER)
        };
        match first {
            Ok(Message::Event(event)) => self.pending.push(event),
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return true,
            Err(RecvTimeoutError::Timeout) => return false,
        }
        let deadline = Instant::now() + GATHER_FOR;
        while self.pending.len() < BATCH_MAX {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.receiver.recv_timeout(wait) {
                Ok(Message::Event(event)) => self.pending.push(event),
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
            .and_then(|mut conn| write_events(&mut conn, &self.pending));
        match outcome {
            Ok(written) => {
                let unknown = self.pending.len() as u64 - written;
                self.stats.written.fetch_add(written, Ordering::Relaxed);
                self.stats
                    .unknown_site
                    .fetch_add(unknown, Ordering::Relaxed);
                self.stats.batches_written.fetch_add(1, Ordering::Relaxed);
                if std::mem::take(&mut self.failing) {
                    tracing::info!("pageview writes succeed again");
                }
                tracing::debug!(
                    events.written = written,
                    events.unknown_site = unknown,
                    duration_ms = started.elapsed().as_millis() as u64,
                    "pageviews written"
                );
                self.pending.clear();
            }
            Err(err) => {
                self.stats.batches_failed.fetch_add(1, Ordering::Relaxed);
                if !std::mem::replace(&mut self.failing, true) {
                    tracing::warn!(
                        error = %crate::error::error_chain(&err),
                        events = self.pending.len(),
                        "pageview writes failing; keeping them and retrying"
                    );
                }
            }
        }
    }
}

/// Writes events and their roll-ups in one transaction; events of unknown domains are
/// dropped. Returns how many were stored.
pub fn write_events(conn: &mut AnyConnection, events: &[Event]) -> Result<u64, DbError> {
    conn.transaction(|conn| {
        take_write_lock(conn)?;
        let site_ids = resolve_sites(conn, events)?;
        let known: Vec<(i64, &Event)> = events
            .iter()
            .filter_map(|e| site_ids.get(&e.domain).map(|id| (*id, e)))
            .collect();
        insert_events(conn, &known)?;
        let first_visits = insert_visitors(conn, &known)?;
        upsert_hourly(conn, &known, &first_visits)?;
        upsert_pages(conn, &known)?;
        upsert_referrers(conn, &known)?;
        upsert_recent(conn, &known)?;
        Ok(known.len() as u64)
    })
    .map_err(|err: diesel::result::Error| DbError::from(err))
}

/// SQLite upgrades a read transaction to a write one without waiting for the busy
/// timeout; writing first makes the transaction wait for the lock like any writer.
fn take_write_lock(conn: &mut AnyConnection) -> QueryResult<()> {
    if let AnyConnection::Sqlite(_) = conn {
        diesel::sql_query("DELETE FROM site_salts WHERE 1 = 0").execute(conn)?;
    }
    Ok(())
}

fn resolve_sites(conn: &mut AnyConnection, events: &[Event]) -> QueryResult<HashMap<String, i64>> {
    let domains: BTreeSet<&str> = events.iter().map(|e| e.domain.as_str()).collect();
    let mut found = HashMap::new();
    let domains: Vec<&str> = domains.into_iter().collect();
    for chunk in domains.chunks(ROWS_PER_INSERT) {
        let rows: Vec<(i64, String)> = sites::table
            .filter(sites::domain.eq_any(chunk))
            .select((sites::id, sites::domain))
            .load(conn)?;
        found.extend(rows.into_iter().map(|(id, domain)| (domain, id)));
    }
    Ok(found)
}

fn insert_events(conn: &mut AnyConnection, known: &[(i64, &Event)]) -> QueryResult<()> {
    let rows: Vec<_> = known
        .iter()
        .map(|(site_id, e)| {
            (
                site_events::site_id.eq(*site_id),
                site_events::occurred_at.eq(e.at.naive_utc()),
                site_events::visitor_id.eq(e.visitor_id),
                site_events::path.eq(e.path.as_str()),
                site_events::referrer.eq(e.referrer.as_str()),
            )
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        on_backend!(conn, c => diesel::insert_into(site_events::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

type VisitorDay = (i64, NaiveDate, i64);

/// Records each (site, day, visitor) once; returns the ones new to the database with
/// the hour of their first pageview in this batch.
fn insert_visitors(
    conn: &mut AnyConnection,
    known: &[(i64, &Event)],
) -> QueryResult<BTreeMap<VisitorDay, NaiveDateTime>> {
    let mut first_seen: BTreeMap<VisitorDay, NaiveDateTime> = BTreeMap::new();
    for (site_id, e) in known {
        let hour = hour_of(e.at);
        let key = (*site_id, e.at.date_naive(), e.visitor_id);
        let entry = first_seen.entry(key).or_insert(hour);
        *entry = (*entry).min(hour);
    }
    let keys: Vec<VisitorDay> = first_seen.keys().copied().collect();
    let mut new = BTreeSet::new();
    for chunk in keys.chunks(ROWS_PER_INSERT) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(site_id, day, visitor_id)| {
                (
                    site_visitors::site_id.eq(*site_id),
                    site_visitors::day.eq(*day),
                    site_visitors::visitor_id.eq(*visitor_id),
                )
            })
            .collect();
        let inserted: Vec<VisitorDay> = on_backend!(conn, c => diesel::insert_into(
            site_visitors::table
        )
        .values(&rows)
        .on_conflict_do_nothing()
        .returning((site_visitors::site_id, site_visitors::day, site_visitors::visitor_id))
        .get_results(c))?;
        new.extend(inserted);
    }
    first_seen.retain(|key, _| new.contains(key));
    Ok(first_seen)
}

/// Keeps each visitor's latest pageview, and forgets visitors gone for a while.
fn upsert_recent(conn: &mut AnyConnection, known: &[(i64, &Event)]) -> QueryResult<()> {
    let Some(newest) = known.iter().map(|(_, e)| e.at).max() else {
        return Ok(());
    };
    let mut latest: BTreeMap<(i64, i64), NaiveDateTime> = BTreeMap::new();
    for (site_id, e) in known {
        let seen = latest
            .entry((*site_id, e.visitor_id))
            .or_insert(e.at.naive_utc());
        *seen = (*seen).max(e.at.naive_utc());
    }
    let rows: Vec<_> = latest
        .into_iter()
        .map(|((site_id, visitor_id), last_seen)| {
            (
                site_recent_visitors::site_id.eq(site_id),
                site_recent_visitors::visitor_id.eq(visitor_id),
                site_recent_visitors::last_seen.eq(last_seen),
            )
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        on_backend!(conn, c => diesel::insert_into(site_recent_visitors::table)
            .values(chunk)
            .on_conflict((site_recent_visitors::site_id, site_recent_visitors::visitor_id))
            .do_update()
            .set(site_recent_visitors::last_seen.eq(excluded(site_recent_visitors::last_seen)))
            .execute(c))?;
    }

    let gone = (newest - RECENT_FOR).naive_utc();
    diesel::delete(site_recent_visitors::table.filter(site_recent_visitors::last_seen.lt(gone)))
        .execute(conn)?;
    Ok(())
}

/// The start of the UTC hour of `at`.
pub fn hour_of(at: DateTime<Utc>) -> NaiveDateTime {
    let naive = at.naive_utc();
    naive
        .date()
        .and_hms_opt(naive.hour(), 0, 0)
        .unwrap_or(naive)
}

fn upsert_hourly(
    conn: &mut AnyConnection,
    known: &[(i64, &Event)],
    first_visits: &BTreeMap<VisitorDay, NaiveDateTime>,
) -> QueryResult<()> {
    let mut counts: BTreeMap<(i64, NaiveDateTime), (i64, i64)> = BTreeMap::new();
    for (site_id, e) in known {
        counts.entry((*site_id, hour_of(e.at))).or_default().1 += 1;
    }
    for ((site_id, _, _), hour) in first_visits {
        counts.entry((*site_id, *hour)).or_default().0 += 1;
    }
    for ((site_id, hour), (visitors, pageviews)) in counts {
        let row = (
            site_hourly::site_id.eq(site_id),
            site_hourly::hour.eq(hour),
            site_hourly::visitors.eq(visitors),
            site_hourly::pageviews.eq(pageviews),
        );
        on_backend!(conn, c => diesel::insert_into(site_hourly::table)
            .values(row)
            .on_conflict((site_hourly::site_id, site_hourly::hour))
            .do_update()
            .set((
                site_hourly::visitors.eq(site_hourly::visitors + excluded(site_hourly::visitors)),
                site_hourly::pageviews
                    .eq(site_hourly::pageviews + excluded(site_hourly::pageviews)),
            ))
            .execute(c))?;
    }
    Ok(())
}

fn upsert_pages(conn: &mut AnyConnection, known: &[(i64, &Event)]) -> QueryResult<()> {
    let mut counts: BTreeMap<(i64, NaiveDate, &str), i64> = BTreeMap::new();
    for (site_id, e) in known {
        *counts
            .entry((*site_id, e.at.date_naive(), e.path.as_str()))
            .or_default() += 1;
    }
    for ((site_id, day, path), pageviews) in counts {
        let row = (
            site_daily_pages::site_id.eq(site_id),
            site_daily_pages::day.eq(day),
            site_daily_pages::path.eq(path),
            site_daily_pages::pageviews.eq(pageviews),
        );
        on_backend!(conn, c => diesel::insert_into(site_daily_pages::table)
            .values(row)
            .on_conflict((
                site_daily_pages::site_id,
                site_daily_pages::day,
                site_daily_pages::path,
            ))
            .do_update()
            .set(
                site_daily_pages::pageviews
                    .eq(site_daily_pages::pageviews + excluded(site_daily_pages::pageviews)),
            )
            .execute(c))?;
    }
    Ok(())
}

fn upsert_referrers(conn: &mut AnyConnection, known: &[(i64, &Event)]) -> QueryResult<()> {
    let mut counts: BTreeMap<(i64, NaiveDate, &str), i64> = BTreeMap::new();
    for (site_id, e) in known {
        *counts
            .entry((*site_id, e.at.date_naive(), e.referrer.as_str()))
            .or_default() += 1;
    }
    for ((site_id, day, referrer), pageviews) in counts {
        let row = (
            site_daily_referrers::site_id.eq(site_id),
            site_daily_referrers::day.eq(day),
            site_daily_referrers::referrer.eq(referrer),
            site_daily_referrers::pageviews.eq(pageviews),
        );
        on_backend!(conn, c => diesel::insert_into(site_daily_referrers::table)
            .values(row)
            .on_conflict((
                site_daily_referrers::site_id,
                site_daily_referrers::day,
                site_daily_referrers::referrer,
            ))
            .do_update()
            .set(site_daily_referrers::pageviews.eq(
                site_daily_referrers::pageviews + excluded(site_daily_referrers::pageviews),
            ))
            .execute(c))?;
    }
    Ok(())
}
