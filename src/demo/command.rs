//! The `pulse demo` command: options, progress on stderr, a summary on stdout.

use std::io::Write as _;

use anyhow::Context as _;

use super::{Options, progress_line, run};
use crate::clock::{Clock as _, SystemClock};
use crate::config::Config;
use crate::sites::demo::add_demo_sites;
use crate::startup::open_migrated;

/// How many demo users get a site with traffic.
const DEMO_SITE_OWNERS: u64 = 5;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many users to create.
    #[arg(long, default_value_t = 10_000)]
    users: u64,
    /// Days of visit history, ending today (UTC).
    #[arg(long, default_value_t = 180)]
    days: u32,
    /// Seed of the generator: the same seed makes the same population.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Migrates, then writes the population, drawing a progress bar on stderr.
pub fn execute(config: &Config, args: DemoArgs) -> anyhow::Result<()> {
    let options = Options {
        users: args.users,
        days: args.days,
        seed: args.seed,
    };
    options.validate()?;

    let (mut conn, _) = open_migrated(config)?;
    let now = SystemClock.now().naive_utc();

    let mut stderr = std::io::stderr();
    let mut draw = |done: u64, total: u64| {
        // A progress bar that can not be drawn is no reason to stop.
        let _ = write!(stderr, "\r{}", progress_line(done, total));
    };
    let summary = run(&mut conn, options, now, &mut draw).context("pulse demo")?;
    eprintln!();

    // A few of the demo users own a site each, so the site dashboards have traffic too.
    let owners: Vec<i64> = (0..summary.users.min(DEMO_SITE_OWNERS))
        .map(|n| summary.first_id + n as i64)
        .collect();
    let traffic = add_demo_sites(
        &mut conn,
        &owners,
        options.days,
        options.seed,
        now.and_utc(),
    )
    .context("pulse demo: sites")?;

    println!(
        "{}: created {} demo users (ids {} to {}) with {} visit days over {} days \
         (seed {}) in {:.1} s; their password hash is \"!demo\", so they can not sign in",
        config.database_url.describe(),
        summary.users,
        summary.first_id,
        summary.first_id + summary.users as i64 - 1,
        summary.visits,
        options.days,
        options.seed,
        summary.took.as_secs_f64(),
    );
    println!(
        "and {} sites ({}) with {} pageviews from {} daily visitors",
        traffic.sites.len(),
        traffic.sites.join(", "),
        traffic.pageviews,
        traffic.visitors,
    );
    Ok(())
}
