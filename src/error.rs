//! Errors as the browser sees them.
//!
//! Handlers return [`AppError`]; its `ResponseError` turns each kind into a page with
//! the right status and a message a person understands. Causes of server-side failures
//! are logged once, here, and never shown to the user.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, LOCATION, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::auth::throttle::RetryAfter;
use crate::db::DbError;
use crate::layout::Layout;
use crate::web::render;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("sign-in required")]
    SignInRequired { next: String },
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("page not found")]
    NotFound,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType(&'static str),
    #[error("too many attempts")]
    TooManyRequests(RetryAfter),
    #[error("the database is unavailable")]
    Unavailable(#[source] DbError),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<DbError> for AppError {
    fn from(err: DbError) -> Self {
        if err.is_unavailable() {
            AppError::Unavailable(err)
        } else {
            AppError::Internal(Box::new(err))
        }
    }
}

impl From<crate::auth::password::PasswordError> for AppError {
    fn from(err: crate::auth::password::PasswordError) -> Self {
        AppError::Internal(Box::new(err))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub title: &'static str,
    pub message: String,
}

impl ErrorPage {
    pub fn new(title: &'static str, message: impl Into<String>) -> Self {
        Self {
            layout: Layout::anonymous(),
            title,
            message: message.into(),
        }
    }

    pub fn not_found() -> Self {
        Self::new(
            "Page not found",
            "There is nothing at this address. Check the link, or start again from the \
             home page.",
        )
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::SignInRequired { next } = self {
            return sign_in_redirect(next);
        }
        let mut response = render(self.status_code(), &self.page());
        let retry_after = match self {
            AppError::Unavailable(_) => Some(30),
            AppError::TooManyRequests(RetryAfter(seconds)) => Some(*seconds),
            _ => None,
        };
        if let Some(seconds) = retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        response
    }
}

impl AppError {
    fn page(&self) -> ErrorPage {
        match self {
            AppError::BadRequest(message) => ErrorPage::new("That did not work", message.clone()),
            AppError::Forbidden(message) => ErrorPage::new("Request refused", *message),
            AppError::NotFound | AppError::SignInRequired { .. } => ErrorPage::not_found(),
            AppError::PayloadTooLarge => ErrorPage::new(
                "Too much data",
                "What was sent is larger than this page accepts. Shorten it and try again.",
            ),
            AppError::UnsupportedMediaType(message) => {
                ErrorPage::new("Unsupported format", *message)
            }
            AppError::TooManyRequests(RetryAfter(seconds)) => ErrorPage::new(
                "Too many attempts",
                format!(
                    "There were too many failed sign-ins. For your account's safety, wait \
                     {} minute(s) and try again.",
                    (seconds + 59) / 60
                ),
            ),
            AppError::Unavailable(cause) => {
                tracing::warn!(error = %error_chain(cause), "database unavailable");
                ErrorPage::new(
                    "Temporarily unavailable",
                    "Pulse can not reach its database right now. Nothing you entered was \
                     saved; please try again in a minute.",
                )
            }
            AppError::Internal(cause) => {
                tracing::error!(error = %error_chain(cause.as_ref()), "request failed");
                ErrorPage::new(
                    "Something went wrong",
                    "An unexpected error stopped this request. It has been logged; please \
                     try again.",
                )
            }
        }
    }
}

fn sign_in_redirect(next: &str) -> HttpResponse {
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    HttpResponse::SeeOther()
        .insert_header((LOCATION, format!("/login?next={next}")))
        .finish()
}

/// "outer: inner: innermost", for one log line that keeps the whole cause.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
