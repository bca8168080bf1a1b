//! Accounts and signed-in sessions in the database.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::{user_sessions, users};
use crate::db::{AnyConnection, DbError};

/// The signed-in user of a request, loaded once by [`super::load_user`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
    /// The `user_sessions` row this request is signed in with.
    pub session_id: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_seen: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account with this email already exists")]
    Duplicate,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Inserts an account and returns it. The first account ever created becomes an
/// administrator, even when several are created at the same instant.
pub fn create(
    conn: &mut AnyConnection,
    email: &str,
    password_hash: &str,
    admin: bool,
    now: DateTime<Utc>,
) -> Result<User, CreateUserError> {
    let row = NewUser {
        email,
        password_hash,
        is_admin: admin,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    let id: i64 = diesel::insert_into(users::table)
        .values(&row)
        .returning(users::id)
        .get_result(conn)
        .map_err(|err| match err {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                CreateUserError::Duplicate
            }
            other => CreateUserError::Db(other.into()),
        })?;

    // The row with the smallest id is the first account; it becomes the administrator
    // unless one exists already. Racing registrations all pick the same row.
    diesel::sql_query(
        "UPDATE users SET is_admin = TRUE \
         WHERE id = (SELECT MIN(id) FROM users) \
           AND NOT EXISTS (SELECT 1 FROM users WHERE is_admin)",
    )
    .execute(conn)
    .map_err(DbError::from)?;

    Ok(find_by_id(conn, id)?)
}

pub fn find_by_id(conn: &mut AnyConnection, id: i64) -> Result<User, DbError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)?)
}

pub fn find_by_email(conn: &mut AnyConnection, email: &str) -> Result<Option<User>, DbError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Makes an account an administrator; false when there is no such account.
pub fn promote(conn: &mut AnyConnection, email: &str, now: DateTime<Utc>) -> Result<bool, DbError> {
    let changed = diesel::update(users::table.filter(users::email.eq(email)))
        .set((
            users::is_admin.eq(true),
            users::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

pub fn set_password_hash(
    conn: &mut AnyConnection,
    user_id: i64,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(password_hash),
            users::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Opens a session that ends at `now + lifetime`, and clears out expired ones.
pub fn start_session(
    conn: &mut AnyConnection,
    user_id: i64,
    now: DateTime<Utc>,
    lifetime: TimeDelta,
) -> Result<String, DbError> {
    let id = new_session_id();
    diesel::delete(user_sessions::table.filter(user_sessions::expires_at.le(now.naive_utc())))
        .execute(conn)?;
    diesel::insert_into(user_sessions::table)
        .values((
            user_sessions::id.eq(&id),
            user_sessions::user_id.eq(user_id),
            user_sessions::created_at.eq(now.naive_utc()),
            user_sessions::expires_at.eq((now + lifetime).naive_utc()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The user signed in with `session_id`, if that session still exists and has not expired.
pub fn session_user(
    conn: &mut AnyConnection,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<CurrentUser>, DbError> {
    let found = user_sessions::table
        .inner_join(users::table)
        .filter(user_sessions::id.eq(session_id))
        .filter(user_sessions::expires_at.gt(now.naive_utc()))
        .select((users::id, users::email, users::is_admin))
        .first::<(i64, String, bool)>(conn)
        .optional()?;
    Ok(found.map(|(id, email, is_admin)| CurrentUser {
        id,
        email,
        is_admin,
        session_id: session_id.to_owned(),
    }))
}

pub fn end_session(conn: &mut AnyConnection, session_id: &str) -> Result<(), DbError> {
    diesel::delete(user_sessions::table.find(session_id)).execute(conn)?;
    Ok(())
}

/// Ends every session of the user except `keep`.
pub fn end_other_sessions(
    conn: &mut AnyConnection,
    user_id: i64,
    keep: Option<&str>,
) -> Result<(), DbError> {
    let of_user = user_sessions::table.filter(user_sessions::user_id.eq(user_id));
    match keep {
        Some(keep) => diesel::delete(of_user.filter(user_sessions::id.ne(keep))).execute(conn)?,
        None => diesel::delete(of_user).execute(conn)?,
    };
    Ok(())
}

fn new_session_id() -> String {
    super::csrf::new_token()
}
