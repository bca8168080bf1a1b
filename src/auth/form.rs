//! Form bodies, decoded strictly, with the CSRF token checked before a handler sees them.
//!
//! actix's own `web::Form` replaces invalid UTF-8 with U+FFFD and lets the handler run;
//! [`SecureForm`] refuses it, refuses duplicate fields, and refuses a body whose
//! `csrf_token` does not match the session's, so no state-changing handler can forget.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_session::SessionExt as _;
use actix_web::dev::Payload;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt as _;

use super::session::SessionState;
use crate::error::AppError;

/// Larger forms than this are refused with 413; Pulse's largest is a few hundred bytes.
pub const FORM_LIMIT: usize = 16 * 1024;

/// A decoded form whose CSRF token matched the session's.
#[derive(Debug)]
pub struct SecureForm {
    fields: HashMap<String, String>,
}

impl SecureForm {
    /// A field's value; a missing field is a 400 that names it.
    pub fn required(&self, name: &str) -> Result<&str, AppError> {
        self.fields
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| AppError::BadRequest(format!("The form is missing the field `{name}`.")))
    }

    /// A field that may be absent.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

impl FromRequest for SecureForm {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            check_content_type(&req)?;
            let body = read_limited(&mut payload).await?;
            let fields = decode(&body)?;
            let expected = SessionState::load(&req.get_session()).csrf_token;
            let given = fields.get("csrf_token").map(String::as_str).unwrap_or("");
            if !super::csrf::tokens_match(expected.as_deref(), given) {
                return Err(AppError::Forbidden(super::csrf::STALE_FORM));
            }
            Ok(SecureForm { fields })
        })
    }
}

fn check_content_type(req: &HttpRequest) -> Result<(), AppError> {
    if crate::web::media_type(req) == "application/x-www-form-urlencoded" {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType(
            "This address accepts HTML form submissions (application/x-www-form-urlencoded).",
        ))
    }
}

async fn read_limited(payload: &mut Payload) -> Result<Bytes, AppError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest("The form was cut off.".into()))?;
        if body.len() + chunk.len() > FORM_LIMIT {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Decodes `application/x-www-form-urlencoded`, refusing invalid UTF-8 and duplicates.
fn decode(body: &[u8]) -> Result<HashMap<String, String>, AppError> {
    let mut fields = HashMap::new();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &b""[..]),
        };
        let name = decode_component(name)?;
        let value = decode_component(value)?;
        if fields.insert(name.clone(), value).is_some() {
            return Err(AppError::BadRequest(format!(
                "The form has the field `{name}` more than once."
            )));
        }
    }
    Ok(fields)
}

fn decode_component(raw: &[u8]) -> Result<String, AppError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| AppError::BadRequest("The form contains text that is not valid UTF-8.".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_percent_and_plus_decoded() {
        let fields = decode(b"email=a%40b.test&password=two+words&empty=").unwrap();

        assert_eq!(fields["email"], "a@b.test");
        assert_eq!(fields["password"], "two words");
        assert_eq!(fields["empty"], "");
    }

    #[test]
    fn invalid_utf8_and_duplicates_are_refused() {
        assert!(matches!(
            decode(b"email=%FF%FE"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(decode(b"a=1&a=2"), Err(AppError::BadRequest(_))));
    }
}
