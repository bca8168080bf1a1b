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
use crate::sites::{EventWriter, Salts};
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
    /// Queues pageviews for the batch writer.
    pub events: EventWriter,
    /// The visitor hash's salt of the day.
    pub salts: Arc<Salts>,
}

impl AppState {
    /// The client's address: the connection's peer, or, when `PULSE_TRUST_PROXY` says
    /// a proxy stands in front, the address that proxy saw.
    pub fn client_address(&self, req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
        let peer = req.peer_addr().map(|addr| addr.ip());
        if !self.config.trust_proxy {
            return peer;
        }
        forwarded_for(req.headers()).or(peer)
    }
}

/// The last address in `X-Forwarded-For`: the one our own proxy appended. Earlier
/// entries come from the client and can be anything.
pub fn forwarded_for(headers: &actix_web::http::header::HeaderMap) -> Option<std::net::IpAddr> {
    let last = headers
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .next_back()?;
    last.trim().parse().ok()
}

/// `303 See Other` to `location`: where a form's outcome is shown.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
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

/// The request's media type without parameters, lower-cased (`""` when absent).
pub fn media_type(req: &actix_web::HttpRequest) -> String {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("");
    essence.trim().to_ascii_lowercase()
}
