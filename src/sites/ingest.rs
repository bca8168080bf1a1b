//! `POST /api/event`: pageviews from the tracking script on other sites.
//!
//! The endpoint answers every well-formed event with 202, stored or not (unknown
//! domain, bot, a page of another domain), so it reveals nothing about which sites
//! exist. Malformed input is a 400, a body over 4 KB a 413, a content type other than
//! JSON or plain text (what `sendBeacon` sends) a 415, a full queue a 503.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, RETRY_AFTER, USER_AGENT};
use actix_web::web::{self, BytesMut};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use futures_util::StreamExt as _;
use serde::Deserialize;

use super::domain;
use super::visitor;
use super::writer::Event;
use crate::web::AppState;

/// Largest event body accepted.
pub const EVENT_LIMIT: usize = 4 * 1024;

/// User-agent fragments of crawlers, monitors, previews and scripted clients.
const BOT_MARKERS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "headless",
    "lighthouse",
    "preview",
    "monitor",
    "curl/",
    "wget",
    "python-",
    "go-http-client",
    "java/",
    "okhttp",
    "scrapy",
    "phantomjs",
    "selenium",
    "facebookexternalhit",
    "httpclient",
    "axios/",
    "node-fetch",
    "apache-",
];

#[derive(Debug, Deserialize)]
struct EventBody {
    domain: String,
    url: String,
    #[serde(default)]
    referrer: Option<String>,
}

/// Why an event was refused; each maps to one status.
#[derive(Debug, thiserror::Error)]
enum EventError {
    #[error("{0}")]
    Malformed(String),
    #[error("the event is larger than 4 KB")]
    TooLarge,
    #[error("send the event as application/json or text/plain")]
    WrongType,
    #[error("the event queue is full; try again in a second")]
    Busy,
    #[error("the database is unavailable")]
    Unavailable,
}

impl EventError {
    fn status(&self) -> StatusCode {
        match self {
            EventError::Malformed(_) => StatusCode::BAD_REQUEST,
            EventError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            EventError::WrongType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            EventError::Busy | EventError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn response(&self) -> HttpResponse {
        let mut response = cors(HttpResponse::build(self.status()));
        if matches!(self, EventError::Busy | EventError::Unavailable) {
            response.insert_header((RETRY_AFTER, "1"));
        }
        response
            .content_type("text/plain; charset=utf-8")
            .body(self.to_string())
    }
}

/// Any site may send events; no credentials are involved, so `*` is safe.
fn cors(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder.insert_header(("Access-Control-Allow-Origin", "*"));
    builder
}

/// `OPTIONS /api/event`: the CORS preflight a JSON `fetch` triggers.
pub async fn preflight() -> HttpResponse {
    cors(HttpResponse::NoContent())
        .insert_header(("Access-Control-Allow-Methods", "POST, OPTIONS"))
        .insert_header(("Access-Control-Allow-Headers", "Content-Type"))
        .insert_header(("Access-Control-Max-Age", "86400"))
        .finish()
}

/// `POST /api/event`.
pub async fn receive(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    match accept(&state, &req, payload).await {
        Ok(()) => cors(HttpResponse::Accepted()).finish(),
        Err(err) => err.response(),
    }
}

async fn accept(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(), EventError> {
    check_content_type(req)?;
    let body = read_limited(req, payload).await?;
    let parsed: EventBody = serde_json::from_slice(&body)
        .map_err(|_| EventError::Malformed("the body is not the expected JSON event".into()))?;
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");

    let Some(page) = Pageview::from_body(&parsed)? else {
        return Ok(());
    };
    if is_bot(user_agent) {
        return Ok(());
    }

    let now = state.clock.now();
    let salt = salt_for(state, now).await?;
    let address = state.client_address(req);
    let event = Event {
        visitor_id: visitor::visitor_id(&salt, &page.domain, address, user_agent),
        domain: page.domain,
        at: now,
        path: page.path,
        referrer: page.referrer,
    };
    state.events.send(event).map_err(|_| EventError::Busy)
}

fn check_content_type(req: &HttpRequest) -> Result<(), EventError> {
    // sendBeacon sends text/plain, which needs no CORS preflight.
    if matches!(
        crate::web::media_type(req).as_str(),
        "application/json" | "text/plain"
    ) {
        Ok(())
    } else {
        Err(EventError::WrongType)
    }
}

async fn read_limited(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<BytesMut, EventError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > EVENT_LIMIT) {
        return Err(EventError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| EventError::Malformed("the body was cut off".into()))?;
        if body.len() + chunk.len() > EVENT_LIMIT {
            return Err(EventError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The day's salt, from this instance's memory or, once a day, from the database.
async fn salt_for(
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u8>, EventError> {
    let day = now.date_naive();
    if let Some(salt) = state.salts.cached(day) {
        return Ok(salt);
    }
    let salt = crate::db::run(&state.pool, move |conn| visitor::salt_of_the_day(conn, now))
        .await
        .map_err(|err| {
            tracing::warn!(error = %crate::error::error_chain(&err), "no visitor salt");
            EventError::Unavailable
        })?;
    state.salts.remember(day, salt.clone());
    Ok(salt)
}

/// What is kept of a valid event.
#[derive(Debug, PartialEq, Eq)]
struct Pageview {
    domain: String,
    path: String,
    referrer: String,
}

impl Pageview {
    /// The pageview, `None` when it is well-formed but belongs to no page of the domain.
    fn from_body(body: &EventBody) -> Result<Option<Pageview>, EventError> {
        let domain = domain::normalise(&body.domain)
            .map_err(|_| EventError::Malformed("`domain` is not a domain name".into()))?;
        let url = parse_web_url(&body.url)
            .ok_or_else(|| EventError::Malformed("`url` is not an http(s) address".into()))?;
        let host = url.host_str().unwrap_or("");
        if !domain::belongs_to(host, &domain) {
            return Ok(None);
        }
        let referrer = match body.referrer.as_deref().map(str::trim) {
            None | Some("") => String::new(),
            Some(text) => referrer_source(text, &domain)?,
        };
        Ok(Some(Pageview {
            path: url.path().to_owned(),
            domain,
            referrer,
        }))
    }
}

fn parse_web_url(text: &str) -> Option<url::Url> {
    let url = url::Url::parse(text).ok()?;
    let web = matches!(url.scheme(), "http" | "https") && url.host_str().is_some();
    web.then_some(url)
}

/// The referring host without `www.`; empty when the visitor came from the site itself.
fn referrer_source(text: &str, domain: &str) -> Result<String, EventError> {
    let url = url::Url::parse(text)
        .map_err(|_| EventError::Malformed("`referrer` is not an address".into()))?;
    let host = url.host_str().unwrap_or("").trim_end_matches('.');
    if host.is_empty() || domain::belongs_to(host, domain) {
        return Ok(String::new());
    }
    Ok(host.strip_prefix("www.").unwrap_or(host).to_owned())
}

/// Obvious automated clients, and clients that send no user agent at all.
pub fn is_bot(user_agent: &str) -> bool {
    let lower = user_agent.trim().to_ascii_lowercase();
    lower.is_empty() || BOT_MARKERS.iter().any(|marker| lower.contains(marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(domain: &str, url: &str, referrer: Option<&str>) -> EventBody {
        EventBody {
            domain: domain.into(),
            url: url.into(),
            referrer: referrer.map(Into::into),
        }
    }

    #[test]
    fn a_page_of_the_site_or_a_subdomain_is_kept_with_its_path() {
        let page = Pageview::from_body(&body(
            "Example.com",
            "https://blog.example.com/post/1?utm=x#top",
            Some("https://www.news.test/item"),
        ))
        .unwrap()
        .unwrap();

        assert_eq!(page.domain, "example.com");
        assert_eq!(page.path, "/post/1");
        assert_eq!(page.referrer, "news.test");
    }

    #[test]
    fn same_site_and_empty_referrers_are_direct() {
        for referrer in [None, Some(""), Some("https://example.com/other")] {
            let page = Pageview::from_body(&body("example.com", "https://example.com/", referrer))
                .unwrap()
                .unwrap();

            assert_eq!(page.referrer, "", "{referrer:?}");
        }
    }

    #[test]
    fn a_page_of_another_domain_is_dropped_and_garbage_refused() {
        let other = Pageview::from_body(&body("example.com", "https://evil.test/", None));
        let bad_url = Pageview::from_body(&body("example.com", "javascript:alert(1)", None));
        let bad_domain = Pageview::from_body(&body("not a domain", "https://x.test/", None));

        assert!(matches!(other, Ok(None)));
        assert!(matches!(bad_url, Err(EventError::Malformed(_))));
        assert!(matches!(bad_domain, Err(EventError::Malformed(_))));
    }

    #[test]
    fn crawlers_and_scripts_are_bots_and_browsers_are_not() {
        assert!(is_bot("Mozilla/5.0 (compatible; Googlebot/2.1)"));
        assert!(is_bot("curl/8.5.0"));
        assert!(is_bot(""));
        assert!(!is_bot(
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        ));
    }
}
