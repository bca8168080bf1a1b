//! What every handler shares: the application state and rendering a page.

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use crate::auth::password::Passwords;
use crate::auth::throttle::LoginThrottle;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{Kind, Pool};
use crate::reports::ReportCache;
use crate::tracking::Recorder;

/// State shared by every worker.
#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: Pool,
    pub db_kind: Kind,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub passwords: Passwords,
    pub login_throttle: Arc<LoginThrottle>,
    pub recorder: Recorder,
    /// The latest engagement report, refreshed in the background.
    pub reports: ReportCache,
}

impl AppState {
    /// The client's address: the connection's peer.
    pub fn client_address(&self, req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
        req.peer_addr().map(|addr| addr.ip())
    }
}

/// Renders a page with the given status; a template that fails to render is a bug,
/// logged here and answered with a plain 500.
pub fn render(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(err) => {
            tracing::error!(error = %err, "a page failed to render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Something went wrong on our side. Please try again.")
        }
    }
}
