//! Demo traffic: sites with believable, reproducible pageviews for a demo instance.
//!
//! Everything goes through the same batch writer as live events, so the roll-ups the
//! dashboards read agree with the raw events exactly.

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use super::store::{self, AddSiteError};
use super::writer::{Event, write_events};
use crate::db::{AnyConnection, DbError};

/// Events written per transaction.
const CHUNK: usize = 5_000;

const NAMES: &[&str] = &[
    "bakery",
    "field-notes",
    "tinyshop",
    "runbook",
    "garden-club",
];
/// Paths with weights: the home page and a few popular posts take most views.
const PATHS: &[(&str, u32)] = &[
    ("/", 40),
    ("/pricing", 12),
    ("/blog/", 10),
    ("/blog/launch-week", 9),
    ("/blog/why-we-left-the-cloud", 7),
    ("/docs/getting-started", 8),
    ("/about", 5),
    ("/contact", 4),
    ("/changelog", 5),
];
/// Referrers of a visit's first page, with weights; "" is direct.
const SOURCES: &[(&str, u32)] = &[
    ("", 40),
    ("google.com", 25),
    ("duckduckgo.com", 6),
    ("news.ycombinator.com", 8),
    ("t.co", 6),
    ("github.com", 7),
    ("reddit.com", 5),
    ("lobste.rs", 3),
];

/// What [`add_demo_sites`] created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoTraffic {
    /// Domains added, in the order of `owner_ids`.
    pub sites: Vec<String>,
    /// Pageviews written.
    pub pageviews: u64,
    /// Visitors written, each counted once per day.
    pub visitors: u64,
}

/// Gives each owner one site with `days` days of traffic up to `now`; the same seed
/// gives the same sites and pageviews. An owner whose demo domain is taken is skipped.
pub fn add_demo_sites(
    conn: &mut AnyConnection,
    owner_ids: &[i64],
    days: u32,
    seed: u64,
    now: DateTime<Utc>,
) -> Result<DemoTraffic, DbError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut traffic = DemoTraffic::default();
    for (&owner_id, i) in owner_ids.iter().zip(0usize..) {
        let domain = format!("{}-{owner_id}.example.com", NAMES[i % NAMES.len()]);
        match store::add(conn, owner_id, &domain, now) {
            Ok(_) => {}
            Err(AddSiteError::Taken) => continue,
            Err(AddSiteError::Db(err)) => return Err(err),
        }
        let daily_base = rng.random_range(20..200u32);
        let events = site_events(&mut rng, &domain, daily_base, days, now, &mut traffic);
        for chunk in events.chunks(CHUNK) {
            traffic.pageviews += write_events(conn, chunk)?;
        }
        traffic.sites.push(domain);
    }
    Ok(traffic)
}

/// A site's pageviews, day by day: more on weekdays, more by day than by night.
fn site_events(
    rng: &mut StdRng,
    domain: &str,
    daily_base: u32,
    days: u32,
    now: DateTime<Utc>,
    traffic: &mut DemoTraffic,
) -> Vec<Event> {
    let mut events = Vec::new();
    for back in (0..i64::from(days)).rev() {
        let day = now.date_naive() - TimeDelta::days(back);
        let midnight = day.and_time(NaiveTime::MIN).and_utc();
        let weekend = matches!(day.format("%a").to_string().as_str(), "Sat" | "Sun");
        let scale = if weekend { 0.6 } else { 1.0 };
        let visitors = (f64::from(daily_base) * scale * rng.random_range(0.7..1.3)) as u32;
        for _ in 0..visitors {
            let arrival = midnight + TimeDelta::seconds(daytime_second(rng));
            if arrival > now {
                continue;
            }
            traffic.visitors += 1;
            visit(rng, domain, arrival, now, &mut events);
        }
    }
    events.sort_by_key(|e| e.at);
    events
}

/// One visitor's pageviews: a first page with its source, then a few more on the site.
fn visit(
    rng: &mut StdRng,
    domain: &str,
    arrival: DateTime<Utc>,
    now: DateTime<Utc>,
    events: &mut Vec<Event>,
) {
    let visitor_id: i64 = rng.random();
    let pages = 1 + (rng.random_range(0.0..1.0f64).powi(2) * 5.0) as i64;
    let mut at = arrival;
    for page in 0..pages {
        if at > now || at.date_naive() != arrival.date_naive() {
            break;
        }
        events.push(Event {
            domain: domain.to_owned(),
            at,
            visitor_id,
            path: pick(rng, PATHS).to_owned(),
            referrer: if page == 0 { pick(rng, SOURCES) } else { "" }.to_owned(),
        });
        at += TimeDelta::seconds(rng.random_range(15..600));
    }
}

/// A second of the day, weighted towards working hours.
fn daytime_second(rng: &mut StdRng) -> i64 {
    let hour = if rng.random_bool(0.8) {
        rng.random_range(8..22)
    } else {
        rng.random_range(0..24)
    };
    hour * 3600 + rng.random_range(0..3600)
}

fn pick<'a>(rng: &mut StdRng, weighted: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut ticket = rng.random_range(0..total.max(1));
    for (value, weight) in weighted {
        if ticket < *weight {
            return value;
        }
        ticket -= weight;
    }
    weighted.first().map_or("", |(value, _)| value)
}
