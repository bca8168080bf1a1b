//! Cross-site request forgery: a random token per session in every form, and a check
//! of `Origin` / `Sec-Fetch-Site` on every state-changing request.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, ORIGIN};
use actix_web::middleware::Next;
use base64::Engine as _;
use rand::RngCore as _;

use crate::error::AppError;

/// What the 403 page says when a form's token is missing or stale.
pub const STALE_FORM: &str = "This form has expired or did not come from Pulse itself, so \
     nothing was changed. Go back, reload the page and try again.";

/// What the 403 page says when another site tried to submit a form.
pub const FOREIGN_ORIGIN: &str = "This request came from another website, so nothing was \
     changed. If you meant to do this, open Pulse directly and try again.";

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// A new random token: 128 bits, base64url.
pub fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares in time that does not depend on where the strings first differ.
pub fn tokens_match(expected: Option<&str>, given: &str) -> bool {
    let Some(expected) = expected else {
        return false;
    };
    if expected.len() != given.len() || expected.is_empty() {
        return false;
    }
    let difference = expected
        .bytes()
        .zip(given.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    difference == 0
}

/// Refuses state-changing requests that a browser says came from another site.
pub async fn check_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !same_site(&req) {
        tracing::warn!(http.path = %req.path(), "cross-site request refused");
        return Err(AppError::Forbidden(FOREIGN_ORIGIN).into());
    }
    next.call(req).await
}

fn same_site(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get(SEC_FETCH_SITE).and_then(|v| v.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return false;
    }
    match headers.get(ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = req.connection_info().host().to_ascii_lowercase();
            let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
            origin_host.eq_ignore_ascii_case(&host)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_be_present_and_equal() {
        assert!(tokens_match(Some("abc"), "abc"));
        assert!(!tokens_match(Some("abc"), "abd"));
        assert!(!tokens_match(Some("abc"), ""));
        assert!(!tokens_match(None, ""));
        assert!(!tokens_match(Some(""), ""));
    }

    #[test]
    fn new_tokens_differ() {
        assert_ne!(new_token(), new_token());
        assert_eq!(new_token().len(), 22);
    }
}
