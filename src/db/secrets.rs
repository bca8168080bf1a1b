//! Secrets generated once and shared through the database by every instance.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::app_secrets;
use super::{AnyConnection, DbError};
use crate::on_backend;

/// Returns the secret called `name`, storing `generate()` first if there is none.
///
/// Two instances starting at once may both generate one; the insert keeps the first and
/// both read back the same value.
pub fn get_or_create(
    conn: &mut AnyConnection,
    name: &str,
    now: DateTime<Utc>,
    generate: impl FnOnce() -> String,
) -> Result<String, DbError> {
    let existing = app_secrets::table
        .select(app_secrets::value)
        .filter(app_secrets::name.eq(name))
        .first::<String>(conn)
        .optional()?;
    if let Some(value) = existing {
        return Ok(value);
    }

    let row = (
        app_secrets::name.eq(name),
        app_secrets::value.eq(generate()),
        app_secrets::created_at.eq(now.naive_utc()),
    );
    on_backend!(conn, c => diesel::insert_into(app_secrets::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;

    let value = app_secrets::table
        .select(app_secrets::value)
        .filter(app_secrets::name.eq(name))
        .first::<String>(conn)?;
    Ok(value)
}
