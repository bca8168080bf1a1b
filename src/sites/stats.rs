//! The figures on a site's dashboard, read from the roll-ups the writer keeps.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike as _, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::schema::{
    site_daily_pages, site_daily_referrers, site_hourly, site_recent_visitors,
};
use crate::db::{AnyConnection, DbError};

/// How many rows the top pages and top sources show.
const TOP: i64 = 10;
/// Visitors "right now" are those seen in this last stretch.
pub const RIGHT_NOW: TimeDelta = TimeDelta::minutes(5);

/// The period a site's dashboard shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// Today (UTC), by hour.
    Day,
    /// Today and the six days before, by day.
    Week,
    /// Today and the 29 days before, by day.
    Month,
}

impl Range {
    /// `day`, `7d` or `30d`; anything else is `None`.
    pub fn parse(value: Option<&str>) -> Option<Range> {
        match value {
            None | Some("day") => Some(Range::Day),
            Some("7d") => Some(Range::Week),
            Some("30d") => Some(Range::Month),
            Some(_) => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Range::Day => "day",
            Range::Week => "7d",
            Range::Month => "30d",
        }
    }

    pub fn days(self) -> i64 {
        match self {
            Range::Day => 1,
            Range::Week => 7,
            Range::Month => 30,
        }
    }

    /// The first and the last UTC day the range covers at `now`.
    pub fn days_at(self, now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
        let today = now.date_naive();
        (today - TimeDelta::days(self.days() - 1), today)
    }
}

/// One bar of the chart: an hour or a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// "14:00" or "2026-03-16".
    pub label: String,
    /// Visitors first seen in this hour (day range) or unique that day (longer ranges).
    pub visitors: i64,
    pub pageviews: i64,
}

/// A row of a top list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    pub name: String,
    pub pageviews: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteStats {
    /// Sum of each day's unique visitors.
    pub visitors: i64,
    pub pageviews: i64,
    pub right_now: i64,
    pub buckets: Vec<Bucket>,
    pub top_pages: Vec<Ranked>,
    pub top_sources: Vec<Ranked>,
}

/// Every figure of a site's dashboard for `range` at `now`.
pub fn site_stats(
    conn: &mut AnyConnection,
    site_id: i64,
    range: Range,
    now: DateTime<Utc>,
) -> Result<SiteStats, DbError> {
    let buckets = buckets(conn, site_id, range, now)?;
    Ok(SiteStats {
        visitors: buckets.iter().map(|b| b.visitors).sum(),
        pageviews: buckets.iter().map(|b| b.pageviews).sum(),
        right_now: right_now(conn, site_id, now)?,
        buckets,
        top_pages: top_pages(conn, site_id, range, now)?,
        top_sources: top_sources(conn, site_id, range, now)?,
    })
}

fn start_of(day: NaiveDate) -> NaiveDateTime {
    day.and_time(NaiveTime::MIN)
}

fn buckets(
    conn: &mut AnyConnection,
    site_id: i64,
    range: Range,
    now: DateTime<Utc>,
) -> Result<Vec<Bucket>, DbError> {
    let (first, last) = range.days_at(now);
    let rows: Vec<(NaiveDateTime, i64, i64)> = site_hourly::table
        .filter(site_hourly::site_id.eq(site_id))
        .filter(site_hourly::hour.ge(start_of(first)))
        .filter(site_hourly::hour.lt(start_of(last) + TimeDelta::days(1)))
        .select((
            site_hourly::hour,
            site_hourly::visitors,
            site_hourly::pageviews,
        ))
        .load(conn)?;

    let mut buckets: Vec<Bucket> = match range {
        Range::Day => (0..24)
            .map(|h| empty_bucket(format!("{h:02}:00")))
            .collect(),
        Range::Week | Range::Month => (0..range.days())
            .map(|d| empty_bucket((first + TimeDelta::days(d)).to_string()))
            .collect(),
    };
    for (hour, visitors, pageviews) in rows {
        let index = match range {
            Range::Day => hour.hour() as usize,
            Range::Week | Range::Month => (hour.date() - first).num_days() as usize,
        };
        if let Some(bucket) = buckets.get_mut(index) {
            bucket.visitors += visitors;
            bucket.pageviews += pageviews;
        }
    }
    Ok(buckets)
}

fn empty_bucket(label: String) -> Bucket {
    Bucket {
        label,
        visitors: 0,
        pageviews: 0,
    }
}

fn right_now(conn: &mut AnyConnection, site_id: i64, now: DateTime<Utc>) -> Result<i64, DbError> {
    let since = (now - RIGHT_NOW).naive_utc();
    let visitors: i64 = site_recent_visitors::table
        .filter(site_recent_visitors::site_id.eq(site_id))
        .filter(site_recent_visitors::last_seen.ge(since))
        .count()
        .get_result(conn)?;
    Ok(visitors)
}

fn top_pages(
    conn: &mut AnyConnection,
    site_id: i64,
    range: Range,
    now: DateTime<Utc>,
) -> Result<Vec<Ranked>, DbError> {
    let (first, last) = range.days_at(now);
    let rows: Vec<(String, i64)> = site_daily_pages::table
        .filter(site_daily_pages::site_id.eq(site_id))
        .filter(site_daily_pages::day.between(first, last))
        .group_by(site_daily_pages::path)
        .select((
            site_daily_pages::path,
            sql::<BigInt>("CAST(SUM(pageviews) AS BIGINT)"),
        ))
        .order((
            sql::<BigInt>("SUM(pageviews)").desc(),
            site_daily_pages::path,
        ))
        .limit(TOP)
        .load(conn)?;
    Ok(ranked(rows))
}

fn top_sources(
    conn: &mut AnyConnection,
    site_id: i64,
    range: Range,
    now: DateTime<Utc>,
) -> Result<Vec<Ranked>, DbError> {
    let (first, last) = range.days_at(now);
    let rows: Vec<(String, i64)> = site_daily_referrers::table
        .filter(site_daily_referrers::site_id.eq(site_id))
        .filter(site_daily_referrers::day.between(first, last))
        .group_by(site_daily_referrers::referrer)
        .select((
            site_daily_referrers::referrer,
            sql::<BigInt>("CAST(SUM(pageviews) AS BIGINT)"),
        ))
        .order((
            sql::<BigInt>("SUM(pageviews)").desc(),
            site_daily_referrers::referrer,
        ))
        .limit(TOP)
        .load(conn)?;
    Ok(ranked(rows))
}

fn ranked(rows: Vec<(String, i64)>) -> Vec<Ranked> {
    rows.into_iter()
        .map(|(name, pageviews)| Ranked { name, pageviews })
        .collect()
}
