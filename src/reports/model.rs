//! The engagement report as SPEC.md fixes it; serialized as `/admin/report.json`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::stats::Bucket;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub generated_at: DateTime<Utc>,
    pub users: UserCounts,
    pub active: Active,
    pub frequency: Frequency,
    pub segments: Segments,
    /// 90 days, oldest first.
    pub daily_active: Vec<DayCount>,
    /// 12 weekly signup cohorts, newest last.
    pub cohorts: Vec<Cohort>,
    /// At-risk and rotting users, most engaged first; at most 100.
    pub rotting_users: Vec<RottingUser>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UserCounts {
    pub total: i64,
    pub signups_7d: i64,
    pub signups_30d: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Active {
    pub day: i64,
    pub week: i64,
    pub month: i64,
    pub stickiness: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frequency {
    pub window_days: i64,
    pub active_users: i64,
    pub mean_active_days: f64,
    pub median_active_days: f64,
    pub histogram: Vec<Bucket>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segments {
    pub active: i64,
    pub at_risk: i64,
    pub rotting: i64,
    pub lost: i64,
    pub never_seen: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayCount {
    pub day: NaiveDate,
    pub users: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    /// The Monday that starts the signup week.
    pub week: NaiveDate,
    pub size: i64,
    /// `retained[k]`: the share of the cohort seen in week k after the signup week;
    /// only weeks that have begun are listed, so the newest cohort has one entry.
    pub retained: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RottingUser {
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub idle_days: i64,
    pub visit_days: i64,
}
