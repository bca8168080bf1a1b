//! Accounts: registration, sign-in, sessions that really end, CSRF, and who is asking.
//!
//! The session cookie (actix-session's encrypted cookie store) carries a reference to a
//! `user_sessions` row, never the authority itself: deleting the row ends the session
//! for every copy of the cookie, which a cookie alone can not do. [`load_user`] resolves
//! the row once per request and leaves a [`CurrentUser`] in the request's extensions;
//! handlers take it as an extractor, and `/admin` is guarded by [`require_admin`].

pub mod csrf;
pub mod form;
pub mod pages;
pub mod password;
pub mod session;
pub mod throttle;
pub mod user;
pub mod validate;

use std::future::{Ready, ready};

use actix_session::SessionExt as _;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, web};

pub use form::SecureForm;
pub use session::{Flash, SessionState};
pub use user::CurrentUser;

use crate::error::AppError;
use crate::web::AppState;

/// Resolves the session cookie to a signed-in user, once per request.
pub async fn load_user(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let session = req.get_session();
    let mut state = SessionState::load(&session);
    if let Some(session_id) = state.session_id.clone() {
        let app = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(missing_state)?;
        let now = app.clock.now();
        let found = crate::db::run(&app.pool, move |conn| {
            user::session_user(conn, &session_id, now)
        })
        .await
        .map_err(AppError::from)?;
        match found {
            Some(user) => {
                tracing::Span::current().record("user.id", user.id);
                req.extensions_mut().insert(user);
            }
            None => {
                state.session_id = None;
                state.seen_at = None;
                state.save(&session);
            }
        }
    }
    next.call(req).await
}

/// Lets administrators through; sends anonymous visitors to sign in and answers 404 to
/// everyone else, so the admin area's existence is not revealed.
pub async fn require_admin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let is_admin = req
        .extensions()
        .get::<CurrentUser>()
        .map(|user| user.is_admin);
    match is_admin {
        Some(true) => next.call(req).await,
        Some(false) => Err(AppError::NotFound.into()),
        None => Err(AppError::SignInRequired {
            next: local_target(&req),
        }
        .into()),
    }
}

fn local_target(req: &ServiceRequest) -> String {
    req.uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned()
}

fn missing_state() -> AppError {
    AppError::Internal("application state is not registered".into())
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = req.extensions().get::<CurrentUser>().cloned();
        ready(user.ok_or_else(|| {
            AppError::SignInRequired {
                next: req
                    .uri()
                    .path_and_query()
                    .map_or("/", |pq| pq.as_str())
                    .to_owned(),
            }
        }))
    }
}

/// `next` as given, if it is a path on this site; otherwise the dashboard.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/dashboard",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_only_ever_a_local_path() {
        assert_eq!(
            safe_next(Some("/sites/a.test?range=7d")),
            "/sites/a.test?range=7d"
        );
        for outside in [
            "https://evil.test/",
            "//evil.test",
            "/\\evil.test",
            "evil",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(outside)), "/dashboard", "{outside:?}");
        }
        assert_eq!(safe_next(None), "/dashboard");
    }
}
