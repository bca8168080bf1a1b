//! Errors as the browser sees them.
//!
//! Handlers return [`AppError`]; its `ResponseError` turns each kind into a page with
//! the right status. Causes are logged once, here, and never shown to the user.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::db::DbError;
use crate::web::render;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("page not found")]
    NotFound,
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

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: &'static str,
    pub message: &'static str,
}

impl ErrorPage {
    pub fn not_found() -> Self {
        Self {
            title: "Page not found",
            message: "There is nothing at this address. Check the link, or start again \
                      from the home page.",
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let page = match self {
            AppError::NotFound => ErrorPage::not_found(),
            AppError::Unavailable(cause) => {
                tracing::warn!(error = %error_chain(cause), "database unavailable");
                ErrorPage {
                    title: "Temporarily unavailable",
                    message: "Pulse can not reach its database right now. Nothing you \
                              entered was saved; please try again in a minute.",
                }
            }
            AppError::Internal(cause) => {
                tracing::error!(error = %error_chain(cause.as_ref()), "request failed");
                ErrorPage {
                    title: "Something went wrong",
                    message: "An unexpected error stopped this request. It has been \
                              logged; please try again.",
                }
            }
        };
        let mut response = render(self.status_code(), &page);
        if matches!(self, AppError::Unavailable(_)) {
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from_static("30"),
            );
        }
        response
    }
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
