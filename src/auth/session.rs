//! The session cookie's contents, as one typed value.
//!
//! The cookie is encrypted by actix-session and kept well under 512 bytes: a reference
//! to the server-side session row, the CSRF token, the last-seen stamp and at most one
//! flash message. Everything that must be revocable lives in the database, not here.

use actix_session::Session;
use serde::{Deserialize, Serialize};

/// The one key under which Pulse stores its state in the session.
const STATE_KEY: &str = "pulse";

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionState {
    /// Id of the `user_sessions` row when signed in.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The token every form of this session must carry.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    /// When this session last recorded a visit (Unix seconds); see `tracking`.
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub seen_at: Option<i64>,
    /// A one-time message for the next page.
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub flash: Option<Flash>,
}

/// The outcome messages a page can show once, by code, so the cookie stays small.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Flash {
    #[serde(rename = "w")]
    Welcome,
    #[serde(rename = "i")]
    SignedIn,
    #[serde(rename = "o")]
    SignedOut,
    #[serde(rename = "e")]
    SignedOutEverywhere,
    #[serde(rename = "p")]
    PasswordChanged,
}

impl Flash {
    pub fn message(self) -> &'static str {
        match self {
            Flash::Welcome => "Welcome to Pulse! Your account is ready.",
            Flash::SignedIn => "You are signed in.",
            Flash::SignedOut => "You are signed out.",
            Flash::SignedOutEverywhere => "You are signed out on every device.",
            Flash::PasswordChanged => {
                "Your password was changed; your other sessions were signed out."
            }
        }
    }
}

impl SessionState {
    /// Reads the state; anything unreadable (an old or foreign format) counts as empty.
    pub fn load(session: &Session) -> Self {
        session
            .get::<SessionState>(STATE_KEY)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Writes the state back; the cookie is rewritten only when something changed.
    pub fn save(&self, session: &Session) {
        if let Err(err) = session.insert(STATE_KEY, self) {
            tracing::error!(error = %err, "session state could not be stored");
        }
    }

    /// The session's CSRF token, created (and saved) on first use.
    pub fn ensure_csrf_token(&mut self, session: &Session) -> String {
        match &self.csrf_token {
            Some(token) => token.clone(),
            None => {
                let token = super::csrf::new_token();
                self.csrf_token = Some(token.clone());
                self.save(session);
                token
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_state_stays_small() {
        let state = SessionState {
            session_id: Some("x".repeat(22)),
            csrf_token: Some("y".repeat(22)),
            seen_at: Some(4_102_444_800),
            flash: Some(Flash::PasswordChanged),
        };

        let json = serde_json::to_string(&state).unwrap();

        assert!(json.len() < 120, "{json}");
    }
}
