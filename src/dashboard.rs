//! The signed-in home: the user's sites and their traffic.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::layout::Layout;
use crate::sites::store::{self, SiteSummary};
use crate::web::{AppState, render};

#[derive(Template)]
#[template(path = "dashboard/index.html")]
struct DashboardPage {
    layout: Layout,
    email: String,
    sites: Vec<SiteSummary>,
    form: Form,
    /// Where this Pulse serves the tracking script, as the request reached it.
    script_url: String,
    /// The domain the snippet shows: the user's first site, or an example.
    snippet_domain: String,
}

/// The add-a-site form: what was typed and why it was refused.
#[derive(Debug, Default)]
pub struct Form {
    pub typed: String,
    pub error: Option<String>,
}

pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    layout: Layout,
) -> Result<HttpResponse, AppError> {
    render_page(&state, &req, user, layout, StatusCode::OK, Form::default()).await
}

/// Renders the dashboard with the given status and form state.
pub async fn render_page(
    state: &AppState,
    req: &HttpRequest,
    user: CurrentUser,
    mut layout: Layout,
    status: StatusCode,
    form: Form,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let owner = user.id;
    let sites = crate::db::run(&state.pool, move |conn| store::summaries(conn, owner, now)).await?;
    let info = req.connection_info();
    let script_url = format!("{}://{}/js/script.js", info.scheme(), info.host());
    let snippet_domain = sites
        .first()
        .map_or_else(|| "example.com".to_owned(), |site| site.domain.clone());
    layout.form_token();
    Ok(render(
        status,
        &DashboardPage {
            layout,
            email: user.email,
            sites,
            form,
            script_url,
            snippet_domain,
        },
    ))
}
