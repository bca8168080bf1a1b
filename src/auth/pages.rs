//! The account pages: register, sign in, sign out, and the account settings.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::password::Password;
use super::session::{Flash, SessionState};
use super::user::{self, CreateUserError, CurrentUser};
use super::{SecureForm, csrf, safe_next, validate};
use crate::config::LastSeenInterval;
use crate::error::AppError;
use crate::layout::Layout;
use crate::tracking::Touch;
use crate::web::{AppState, render, see_other};

#[derive(Template)]
#[template(path = "auth/register.html")]
struct RegisterPage {
    layout: Layout,
    email: String,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    next: String,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "auth/account.html")]
struct AccountPage {
    layout: Layout,
    error: Option<&'static str>,
}

pub async fn register_form(mut layout: Layout) -> HttpResponse {
    if layout.user.is_some() {
        return see_other("/dashboard");
    }
    layout.form_token();
    render(
        StatusCode::OK,
        &RegisterPage {
            layout,
            email: String::new(),
            error: None,
        },
    )
}

pub async fn register(
    state: web::Data<AppState>,
    session: Session,
    mut layout: Layout,
    form: SecureForm,
) -> Result<HttpResponse, AppError> {
    let typed_email = form.required("email")?.to_owned();
    let password = form.required("password")?.to_owned();
    let refuse = |mut layout: Layout, status, error| {
        layout.form_token();
        render(
            status,
            &RegisterPage {
                layout,
                email: typed_email.clone(),
                error: Some(error),
            },
        )
    };

    let email = match validate::normalize_email(&typed_email) {
        Ok(email) => email,
        Err(problem) => return Ok(refuse(layout, StatusCode::UNPROCESSABLE_ENTITY, problem)),
    };
    if let Err(problem) = validate::check_password(&password) {
        return Ok(refuse(layout, StatusCode::UNPROCESSABLE_ENTITY, problem));
    }

    let hash = state.passwords.hash(Password::new(password)).await?;
    let now = state.clock.now();
    let created = crate::db::run(&state.pool, move |conn| {
        Ok(user::create(conn, &email, &hash, false, now))
    })
    .await?;
    let account = match created {
        Ok(account) => account,
        Err(CreateUserError::Duplicate) => {
            let problem = "An account with this email address already exists. Sign in instead.";
            return Ok(refuse(layout, StatusCode::CONFLICT, problem));
        }
        Err(CreateUserError::Db(err)) => return Err(err.into()),
    };
    tracing::info!(
        user.id = account.id,
        user.is_admin = account.is_admin,
        "account created"
    );

    layout.user = None;
    sign_in(&state, &session, account.id, Flash::Welcome).await?;
    Ok(see_other("/dashboard"))
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(mut layout: Layout, query: web::Query<NextQuery>) -> HttpResponse {
    let next = safe_next(query.next.as_deref()).to_owned();
    if layout.user.is_some() {
        return see_other(&next);
    }
    layout.form_token();
    render(
        StatusCode::OK,
        &LoginPage {
            layout,
            email: String::new(),
            next,
            error: None,
        },
    )
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    mut layout: Layout,
    form: SecureForm,
) -> Result<HttpResponse, AppError> {
    let typed_email = form.required("email")?.to_owned();
    let password = form.required("password")?.to_owned();
    let next = safe_next(form.optional("next")).to_owned();
    let refuse = |mut layout: Layout, status, error| {
        layout.form_token();
        let page = LoginPage {
            layout,
            email: typed_email.clone(),
            next: next.clone(),
            error: Some(error),
        };
        render(status, &page)
    };

    let Ok(email) = validate::normalize_email(&typed_email) else {
        let problem = "Enter the email address of your account.";
        return Ok(refuse(layout, StatusCode::UNPROCESSABLE_ENTITY, problem));
    };
    if password.is_empty() {
        return Ok(refuse(
            layout,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your password.",
        ));
    }
    let address = state.client_address(&req);
    let now = state.clock.now();
    state
        .login_throttle
        .check(&email, address, now)
        .map_err(AppError::TooManyRequests)?;

    let lookup = email.clone();
    let account =
        crate::db::run(&state.pool, move |conn| user::find_by_email(conn, &lookup)).await?;
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let matches = state
        .passwords
        .verify(Password::new(password), stored)
        .await?;
    let Some(account) = account.filter(|_| matches) else {
        state.login_throttle.record_failure(&email, address, now);
        tracing::info!("sign-in refused: unknown email or wrong password");
        let problem = "That email address and password do not match an account.";
        return Ok(refuse(layout, StatusCode::UNAUTHORIZED, problem));
    };

    state.login_throttle.record_success(&email);
    layout.user = None;
    sign_in(&state, &session, account.id, Flash::SignedIn).await?;
    tracing::info!(user.id = account.id, "signed in");
    Ok(see_other(&next))
}

/// Opens a server-side session and gives the browser a new cookie for it, with a new
/// form token, so nothing from before sign-in carries over.
async fn sign_in(
    state: &AppState,
    session: &Session,
    user_id: i64,
    flash: Flash,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let lifetime = state.config.session_lifetime;
    let session_id = crate::db::run(&state.pool, move |conn| {
        user::start_session(conn, user_id, now, lifetime)
    })
    .await?;

    // Signing in is a visit: recorded now, so even a one-page visit is seen.
    let recorded = match state.config.last_seen_interval {
        LastSeenInterval::Every(_) => state.recorder.record(Touch { user_id, at: now }),
        LastSeenInterval::Off => false,
    };

    session.renew();
    let signed_in = SessionState {
        session_id: Some(session_id),
        csrf_token: Some(csrf::new_token()),
        seen_at: recorded.then(|| now.timestamp()),
        flash: Some(flash),
    };
    signed_in.save(session);
    Ok(())
}

pub async fn logout(
    state: web::Data<AppState>,
    session: Session,
    user: Option<CurrentUser>,
    _form: SecureForm,
) -> Result<HttpResponse, AppError> {
    if let Some(user) = user {
        crate::db::run(&state.pool, move |conn| {
            user::end_session(conn, &user.session_id)
        })
        .await?;
        tracing::info!(user.id = user.id, "signed out");
    }
    session.purge();
    Ok(see_other("/"))
}

pub async fn account(_user: CurrentUser, layout: Layout) -> HttpResponse {
    render(
        StatusCode::OK,
        &AccountPage {
            layout,
            error: None,
        },
    )
}

pub async fn change_password(
    state: web::Data<AppState>,
    session: Session,
    user: CurrentUser,
    layout: Layout,
    form: SecureForm,
) -> Result<HttpResponse, AppError> {
    let current = form.required("current_password")?.to_owned();
    let new = form.required("new_password")?.to_owned();
    let refuse = |layout, error| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AccountPage {
                layout,
                error: Some(error),
            },
        )
    };

    if let Err(problem) = validate::check_password(&new) {
        return Ok(refuse(layout, problem));
    }
    let user_id = user.id;
    let account = crate::db::run(&state.pool, move |conn| user::find_by_id(conn, user_id)).await?;
    let matches = state
        .passwords
        .verify(Password::new(current), Some(account.password_hash))
        .await?;
    if !matches {
        return Ok(refuse(layout, "Your current password is not right."));
    }

    let hash = state.passwords.hash(Password::new(new)).await?;
    let now = state.clock.now();
    let keep = user.session_id.clone();
    crate::db::run(&state.pool, move |conn| {
        user::set_password_hash(conn, user_id, &hash, now)?;
        user::end_other_sessions(conn, user_id, Some(&keep))
    })
    .await?;
    tracing::info!(user.id = user_id, "password changed; other sessions ended");

    session.renew();
    let mut state = SessionState::load(&session);
    state.flash = Some(Flash::PasswordChanged);
    state.save(&session);
    Ok(see_other("/account"))
}

pub async fn sign_out_everywhere(
    state: web::Data<AppState>,
    session: Session,
    user: CurrentUser,
    _form: SecureForm,
) -> Result<HttpResponse, AppError> {
    let user_id = user.id;
    crate::db::run(&state.pool, move |conn| {
        user::end_other_sessions(conn, user_id, None)
    })
    .await?;
    tracing::info!(user.id = user_id, "signed out everywhere");
    session.purge();
    Ok(see_other("/login"))
}
