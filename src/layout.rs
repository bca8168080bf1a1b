//! What every page's frame needs: who is signed in, the session's form token for the
//! sign-out button, and a one-time message.

use std::future::{Ready, ready};

use actix_session::{Session, SessionExt as _};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};

use crate::auth::{CurrentUser, SessionState};

#[derive(Default)]
pub struct Layout {
    pub user: Option<CurrentUser>,
    pub csrf_token: String,
    pub flash: Option<&'static str>,
    session: Option<Session>,
}

impl Layout {
    /// The frame of a page rendered without a request, such as an error page.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// Makes sure the session has a form token and returns it; pages with forms call
    /// this, so anonymous visitors of other pages get no cookie at all.
    pub fn form_token(&mut self) -> String {
        if self.csrf_token.is_empty()
            && let Some(session) = &self.session
        {
            self.csrf_token = SessionState::load(session).ensure_csrf_token(session);
        }
        self.csrf_token.clone()
    }
}

impl FromRequest for Layout {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let mut state = SessionState::load(&session);
        let flash = state.flash.take().map(|flash| flash.message());
        if flash.is_some() {
            state.save(&session);
        }
        let mut layout = Layout {
            user: req.extensions().get::<CurrentUser>().cloned(),
            csrf_token: state.csrf_token.unwrap_or_default(),
            flash,
            session: Some(session),
        };
        if layout.user.is_some() {
            layout.form_token();
        }
        ready(Ok(layout))
    }
}
