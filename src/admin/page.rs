//! `GET /admin`: the engagement report as a page, arranged to answer three questions
//! (how many are active, how often they come back, who is going quiet).

use askama::Template;
use chrono::{DateTime, TimeDelta, Utc};

use super::charts::{BarChart, bar_chart};
use crate::config::Thresholds;
use crate::layout::Layout;
use crate::reports::{Report, RottingUser};

#[derive(Template)]
#[template(path = "admin/report.html")]
pub struct ReportPage<'a> {
    pub layout: Layout,
    pub report: &'a Report,
    pub generated: String,
    pub figures: Vec<(&'static str, String)>,
    pub daily_chart: BarChart,
    pub daily_scale: String,
    pub daily_rows: Vec<(String, String)>,
    pub frequency_chart: BarChart,
    pub frequency_scale: String,
    pub histogram_rows: Vec<(&'static str, String)>,
    pub active_users: String,
    pub mean: String,
    pub median: String,
    pub segments: Vec<SegmentLine>,
    pub cohort_weeks: Vec<i64>,
    pub cohorts: Vec<CohortLine>,
    pub rotting: Vec<RottingLine<'a>>,
}

pub struct SegmentLine {
    pub name: &'static str,
    pub rule: String,
    pub users: String,
    pub share: String,
}

pub struct CohortLine {
    pub week: String,
    pub size: String,
    pub cells: Vec<CohortCell>,
}

pub struct CohortCell {
    pub percent: String,
    /// 0 (none) to 5 (all of the cohort), a CSS class suffix.
    pub shade: u8,
}

pub struct RottingLine<'a> {
    pub email: &'a str,
    pub last_seen: String,
    pub idle_days: i64,
    pub visit_days: i64,
    pub created: String,
}

impl<'a> ReportPage<'a> {
    pub fn new(report: &'a Report, thresholds: &Thresholds, layout: Layout) -> Self {
        let frequency = &report.frequency;
        let daily_chart = daily_chart(report);
        let daily_scale = count(daily_chart.scale_max);
        let frequency_chart = frequency_chart(report);
        let frequency_scale = count(frequency_chart.scale_max);
        Self {
            layout,
            generated: minute(report.generated_at),
            figures: figures(report),
            daily_chart,
            daily_scale,
            daily_rows: report
                .daily_active
                .iter()
                .map(|d| (d.day.to_string(), count(d.users)))
                .collect(),
            frequency_chart,
            frequency_scale,
            histogram_rows: frequency
                .histogram
                .iter()
                .map(|b| (b.days, count(b.users)))
                .collect(),
            active_users: count(frequency.active_users),
            mean: number(frequency.mean_active_days),
            median: number(frequency.median_active_days),
            segments: segment_lines(report, thresholds),
            cohort_weeks: (0..crate::reports::COHORT_WEEKS).collect(),
            cohorts: cohort_lines(report),
            rotting: report.rotting_users.iter().map(rotting_line).collect(),
            report,
        }
    }
}

fn figures(report: &Report) -> Vec<(&'static str, String)> {
    let (a, u) = (&report.active, &report.users);
    vec![
        ("Active today", count(a.day)),
        ("Active, last 7 days", count(a.week)),
        ("Active, last 30 days", count(a.month)),
        ("Stickiness (today / 30 days)", percent(a.stickiness)),
        ("Accounts", count(u.total)),
        ("Sign-ups, last 7 days", count(u.signups_7d)),
        ("Sign-ups, last 30 days", count(u.signups_30d)),
    ]
}

fn daily_chart(report: &Report) -> BarChart {
    let values: Vec<(String, i64)> = report
        .daily_active
        .iter()
        .map(|d| (d.day.format("%b %-d").to_string(), d.users))
        .collect();
    bar_chart(720, 200, &values, 30, |day, users| {
        format!("{day}: {} active", count(users))
    })
}

fn frequency_chart(report: &Report) -> BarChart {
    let values: Vec<(String, i64)> = report
        .frequency
        .histogram
        .iter()
        .map(|b| (format!("{} d", b.days), b.users))
        .collect();
    bar_chart(360, 180, &values, 1, |days, users| {
        format!("{} users on {days}", count(users))
    })
}

fn segment_lines(report: &Report, t: &Thresholds) -> Vec<SegmentLine> {
    let s = &report.segments;
    let total = report.users.total;
    let (risk, rot, lost) = (span(t.at_risk), span(t.rotting), span(t.lost));
    let line = |name, rule: String, users: i64| SegmentLine {
        name,
        rule,
        users: count(users),
        share: percent(crate::reports::stats::ratio(users, total)),
    };
    vec![
        line("Active", format!("seen within {risk}"), s.active),
        line("At risk", format!("idle {risk} to {rot}"), s.at_risk),
        line("Rotting", format!("idle {rot} to {lost}"), s.rotting),
        line("Lost", format!("idle {lost} or more"), s.lost),
        line(
            "Never seen",
            "signed up, never came".to_owned(),
            s.never_seen,
        ),
    ]
}

fn cohort_lines(report: &Report) -> Vec<CohortLine> {
    report
        .cohorts
        .iter()
        .map(|c| CohortLine {
            week: c.week.format("%b %-d").to_string(),
            size: count(c.size),
            cells: c
                .retained
                .iter()
                .map(|share| CohortCell {
                    percent: percent(*share),
                    shade: shade(*share),
                })
                .collect(),
        })
        .collect()
}

fn rotting_line(user: &RottingUser) -> RottingLine<'_> {
    RottingLine {
        email: &user.email,
        last_seen: minute(user.last_seen),
        idle_days: user.idle_days,
        visit_days: user.visit_days,
        created: user.created_at.format("%Y-%m-%d").to_string(),
    }
}

/// 0 for none, then 1 to 5 by fifths.
pub fn shade(share: f64) -> u8 {
    if share <= 0.0 {
        0
    } else {
        (share * 5.0).ceil().clamp(1.0, 5.0) as u8
    }
}

fn minute(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "7 days", "1 day", "36 hours", "90 minutes".
pub fn span(delta: TimeDelta) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    let seconds = delta.num_seconds();
    if seconds % 86_400 == 0 {
        plural(seconds / 86_400, "day")
    } else if seconds % 3_600 == 0 {
        plural(seconds / 3_600, "hour")
    } else if seconds % 60 == 0 {
        plural(seconds / 60, "minute")
    } else {
        plural(seconds, "second")
    }
}

/// "12%", or "0.5%" under one percent.
pub fn percent(share: f64) -> String {
    let value = share * 100.0;
    if value > 0.0 && value < 1.0 {
        format!("{value:.1}%")
    } else {
        format!("{value:.0}%")
    }
}

/// A figure with at most one decimal, without a trailing ".0".
pub fn number(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

/// "1,234,567".
pub fn count(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-1_000), "-1,000");
    }

    #[test]
    fn spans_use_the_largest_whole_unit() {
        assert_eq!(span(TimeDelta::days(7)), "7 days");
        assert_eq!(span(TimeDelta::days(1)), "1 day");
        assert_eq!(span(TimeDelta::hours(36)), "36 hours");
        assert_eq!(span(TimeDelta::seconds(90)), "90 seconds");
    }

    #[test]
    fn shares_read_as_percentages_and_shades() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.004), "0.4%");
        assert_eq!(percent(0.5), "50%");
        assert_eq!(shade(0.0), 0);
        assert_eq!(shade(0.01), 1);
        assert_eq!(shade(0.41), 3);
        assert_eq!(shade(1.0), 5);
    }

    #[test]
    fn numbers_drop_a_trailing_zero() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(3.5), "3.5");
        assert_eq!(number(2.25), "2.2");
    }
}
