//! Fills one site with synthetic pageviews through the real batch writer, for the
//! dashboard latency measurement in notes/sites-measurements.md. Not part of `pulse`.
//!
//! cargo run --release --example bench-fill -- DATABASE_URL OWNER_EMAIL DOMAIN EVENTS DAYS

use std::time::Instant;

use anyhow::{Context as _, bail};
use chrono::{TimeDelta, Utc};
use pulse::db::{self, DatabaseUrl};
use pulse::sites::store;
use pulse::sites::writer::{Event, write_events};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// Events written per transaction, as the live writer's largest batch.
const CHUNK: usize = 5_000;
/// Distinct paths and sources, so the top lists group real variety.
const PATHS: u32 = 200;
const SOURCES: &[&str] = &[
    "",
    "",
    "",
    "google.com",
    "news.ycombinator.com",
    "github.com",
    "t.co",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, email, domain, events, days] = args.as_slice() else {
        bail!("usage: bench-fill DATABASE_URL OWNER_EMAIL DOMAIN EVENTS DAYS");
    };
    let total: u64 = events.parse().context("EVENTS is a number")?;
    let days: i64 = days.parse().context("DAYS is a number")?;

    let pool = db::connect(&DatabaseUrl::parse(url)?, 2)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    let owner =
        pulse::auth::user::find_by_email(&mut conn, email)?.context("register the owner first")?;
    let now = Utc::now();
    if store::find(&mut conn, domain)?.is_none() {
        store::add(&mut conn, owner.id, domain, now).map_err(|e| anyhow::anyhow!("{e}"))?;
    }

    let mut rng = StdRng::seed_from_u64(2026);
    let hours = days * 24;
    let per_hour = total / hours as u64;
    let per_day_visitors = (per_hour * 24 / 3).max(1);
    let started = Instant::now();
    let mut written = 0u64;
    for hour in 0..hours {
        let start = now - TimeDelta::hours(hours - hour);
        let day_index = (hour / 24) as u64;
        let mut batch: Vec<Event> = (0..per_hour)
            .map(|_| {
                let visitor = rng.random_range(0..per_day_visitors);
                Event {
                    domain: domain.clone(),
                    at: start + TimeDelta::microseconds(rng.random_range(0..3_600_000_000)),
                    visitor_id: (day_index << 40 | visitor) as i64,
                    path: format!("/page/{}", rng.random_range(0..PATHS)),
                    referrer: SOURCES[rng.random_range(0..SOURCES.len())].to_owned(),
                }
            })
            .collect();
        batch.sort_by_key(|e| e.at);
        for chunk in batch.chunks(CHUNK) {
            written += write_events(&mut conn, chunk)?;
        }
        if hour % 24 == 23 {
            eprintln!("{written} events after {:?}", started.elapsed());
        }
    }
    println!("{written} events written in {:.0?}", started.elapsed());
    Ok(())
}
