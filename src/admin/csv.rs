//! `GET /admin/users.csv`: every user, streamed a page at a time so that a million
//! accounts never sit in memory at once.

use std::borrow::Cow;

use actix_web::web::Bytes;
use chrono::{NaiveDateTime, SecondsFormat};
use diesel::dsl::count_star;
use diesel::prelude::*;

use crate::config::Thresholds;
use crate::db::schema::{user_visits, users};
use crate::db::{self, AnyConnection, DbError, Pool};
use crate::reports::calendar::segment_of;

/// Users per database round trip.
const PAGE_SIZE: i64 = 5_000;

pub const HEADER: &str = "email,created_at,last_seen,visit_days,segment\r\n";

/// One user as exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    pub id: i64,
    pub email: String,
    pub created_at: NaiveDateTime,
    pub last_seen: Option<NaiveDateTime>,
    pub visit_days: i64,
}

/// Where an export stands between pages.
#[derive(Debug, Clone)]
pub struct Export {
    pub pool: Pool,
    pub thresholds: Thresholds,
    pub now: NaiveDateTime,
    /// The last id written; pages continue after it.
    pub after: i64,
}

impl Export {
    /// The next page as CSV lines, or `None` once every user has been written.
    pub async fn next_page(&mut self) -> Result<Option<Bytes>, DbError> {
        let after = self.after;
        let rows = db::run(&self.pool, move |conn| Ok(page(conn, after, PAGE_SIZE)?)).await?;
        let Some(last) = rows.last() else {
            return Ok(None);
        };
        self.after = last.id;

        let mut text = String::with_capacity(rows.len() * 96);
        for row in &rows {
            write_row(&mut text, row, self.now, &self.thresholds);
        }
        Ok(Some(Bytes::from(text)))
    }
}

/// Up to `limit` users with an id above `after`, in id order, with their visit days.
pub fn page(conn: &mut AnyConnection, after: i64, limit: i64) -> QueryResult<Vec<ExportRow>> {
    let people: Vec<(i64, String, NaiveDateTime, Option<NaiveDateTime>)> = users::table
        .filter(users::id.gt(after))
        .order(users::id)
        .limit(limit)
        .select((users::id, users::email, users::created_at, users::last_seen))
        .load(conn)?;
    let (Some(first), Some(last)) = (people.first(), people.last()) else {
        return Ok(Vec::new());
    };

    let counts: Vec<(i64, i64)> = user_visits::table
        .filter(user_visits::user_id.between(first.0, last.0))
        .group_by(user_visits::user_id)
        .select((user_visits::user_id, count_star()))
        .load(conn)?;
    let counts: std::collections::HashMap<i64, i64> = counts.into_iter().collect();

    Ok(people
        .into_iter()
        .map(|(id, email, created_at, last_seen)| ExportRow {
            visit_days: counts.get(&id).copied().unwrap_or(0),
            id,
            email,
            created_at,
            last_seen,
        })
        .collect())
}

/// Appends one CSV line for `row`.
pub fn write_row(out: &mut String, row: &ExportRow, now: NaiveDateTime, t: &Thresholds) {
    let segment = segment_of(now, row.last_seen, t);
    let last_seen = row.last_seen.map(timestamp).unwrap_or_default();
    let fields = [
        cell(&row.email),
        Cow::Owned(timestamp(row.created_at)),
        Cow::Owned(last_seen),
        Cow::Owned(row.visit_days.to_string()),
        Cow::Borrowed(segment.as_str()),
    ];
    out.push_str(&fields.join(","));
    out.push_str("\r\n");
}

fn timestamp(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A CSV field for untrusted text: quoted when it holds a separator, a quote or a line
/// break, and prefixed with `'` when a spreadsheet would read it as a formula.
pub fn cell(value: &str) -> Cow<'_, str> {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let needs_quotes = value.contains([',', '"', '\n', '\r']);
    if !formula && !needs_quotes {
        return Cow::Borrowed(value);
    }

    let value = if formula {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    };
    if needs_quotes {
        Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeDelta};

    use super::*;

    #[test]
    fn plain_text_is_left_alone() {
        assert_eq!(cell("ada@example.test"), "ada@example.test");
    }

    #[test]
    fn separators_quotes_and_line_breaks_are_quoted() {
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("+33"), "'+33");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            cell("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
    }

    #[test]
    fn a_row_carries_its_segment_and_an_empty_last_seen_when_never_seen() {
        let now = NaiveDate::from_ymd_opt(2026, 3, 16)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap();
        let thresholds = Thresholds {
            at_risk: TimeDelta::days(7),
            rotting: TimeDelta::days(30),
            lost: TimeDelta::days(90),
        };
        let row = ExportRow {
            id: 1,
            email: "ada@example.test".into(),
            created_at: now - TimeDelta::days(40),
            last_seen: None,
            visit_days: 0,
        };
        let seen = ExportRow {
            last_seen: Some(now - TimeDelta::days(8)),
            visit_days: 3,
            ..row.clone()
        };

        let mut out = String::new();
        write_row(&mut out, &row, now, &thresholds);
        write_row(&mut out, &seen, now, &thresholds);

        assert_eq!(
            out,
            "ada@example.test,2026-02-04T09:30:00Z,,0,never_seen\r\n\
             ada@example.test,2026-02-04T09:30:00Z,2026-03-08T09:30:00Z,3,at_risk\r\n"
        );
    }
}
