//! Sites in the database: adding, removing, finding, and the dashboard's list.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::{site_hourly, sites};
use crate::db::{AnyConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = sites)]
pub struct Site {
    pub id: i64,
    pub owner_id: i64,
    pub domain: String,
    pub created_at: NaiveDateTime,
}

/// A site on the dashboard with today's unique visitors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSummary {
    pub domain: String,
    pub visitors_today: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum AddSiteError {
    #[error("a site with this domain already exists")]
    Taken,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Adds a site; the unique index decides between concurrent adds of one domain.
pub fn add(
    conn: &mut AnyConnection,
    owner_id: i64,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<Site, AddSiteError> {
    let inserted = diesel::insert_into(sites::table)
        .values((
            sites::owner_id.eq(owner_id),
            sites::domain.eq(domain),
            sites::created_at.eq(now.naive_utc()),
        ))
        .returning(sites::id)
        .get_result::<i64>(conn);
    match inserted {
        Ok(id) => Ok(sites::table
            .find(id)
            .select(Site::as_select())
            .first(conn)
            .map_err(DbError::from)?),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(AddSiteError::Taken)
        }
        Err(err) => Err(AddSiteError::Db(err.into())),
    }
}

/// Removes the owner's site and, through the foreign keys, its traffic. False when the
/// user owns no site with that domain.
///
/// FIXME: a site with millions of pageviews is deleted in one statement, which holds
/// SQLite's write lock (and so the event writer) for seconds; deleting in slices would
/// keep ingestion flowing.
pub fn remove(conn: &mut AnyConnection, owner_id: i64, domain: &str) -> Result<bool, DbError> {
    let removed = diesel::delete(
        sites::table
            .filter(sites::owner_id.eq(owner_id))
            .filter(sites::domain.eq(domain)),
    )
    .execute(conn)?;
    Ok(removed > 0)
}

pub fn find(conn: &mut AnyConnection, domain: &str) -> Result<Option<Site>, DbError> {
    Ok(sites::table
        .filter(sites::domain.eq(domain))
        .select(Site::as_select())
        .first(conn)
        .optional()?)
}

/// The user's sites, by domain, with the unique visitors of `now`'s UTC day.
pub fn summaries(
    conn: &mut AnyConnection,
    owner_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<SiteSummary>, DbError> {
    let owned: Vec<(i64, String)> = sites::table
        .filter(sites::owner_id.eq(owner_id))
        .order(sites::domain)
        .select((sites::id, sites::domain))
        .load(conn)?;
    let ids: Vec<i64> = owned.iter().map(|(id, _)| *id).collect();
    let day_start = now.date_naive().and_time(chrono::NaiveTime::MIN);
    let hours: Vec<(i64, i64)> = site_hourly::table
        .filter(site_hourly::site_id.eq_any(&ids))
        .filter(site_hourly::hour.ge(day_start))
        .filter(site_hourly::hour.lt(day_start + TimeDelta::days(1)))
        .select((site_hourly::site_id, site_hourly::visitors))
        .load(conn)?;

    let mut today: HashMap<i64, i64> = HashMap::new();
    for (site_id, visitors) in hours {
        *today.entry(site_id).or_default() += visitors;
    }
    Ok(owned
        .into_iter()
        .map(|(id, domain)| SiteSummary {
            domain,
            visitors_today: today.get(&id).copied().unwrap_or(0),
        })
        .collect())
}
