//! The site pages: adding and removing sites, a site's dashboard, and the script.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::chart::{self, Chart};
use super::domain;
use super::stats::{self, Range, SiteStats};
use super::store::{self, AddSiteError};
use crate::auth::{CurrentUser, SecureForm};
use crate::dashboard;
use crate::error::AppError;
use crate::layout::Layout;
use crate::web::{AppState, render, see_other};

/// The tracking script, compiled into the binary.
const SCRIPT: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/static/script.js"));

/// `GET /js/script.js`.
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .body(SCRIPT)
}

/// `POST /sites`: adds a site, or shows the dashboard again with what went wrong.
pub async fn add(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    layout: Layout,
    form: SecureForm,
) -> Result<HttpResponse, AppError> {
    let typed = form.required("domain")?.to_owned();
    let refused = match try_add(&state, user.id, &typed).await? {
        Ok(domain) => return Ok(see_other(&format!("/sites/{domain}"))),
        Err(refused) => refused,
    };

    let form = dashboard::Form {
        typed,
        error: Some(refused.1),
    };
    dashboard::render_page(&state, &req, user, layout, refused.0, form).await
}

/// The stored domain, or the status and message to show on the form.
async fn try_add(
    state: &AppState,
    owner: i64,
    typed: &str,
) -> Result<Result<String, (StatusCode, String)>, AppError> {
    let domain = match domain::normalise(typed) {
        Ok(domain) => domain,
        Err(err) => return Ok(Err((StatusCode::UNPROCESSABLE_ENTITY, err.to_string()))),
    };
    let now = state.clock.now();
    let wanted = domain.clone();
    let added = crate::db::run(&state.pool, move |conn| {
        Ok(store::add(conn, owner, &wanted, now))
    })
    .await?;
    match added {
        Ok(_) => Ok(Ok(domain)),
        Err(AddSiteError::Taken) => Ok(Err((
            StatusCode::CONFLICT,
            format!("{domain} is already tracked on this Pulse."),
        ))),
        Err(AddSiteError::Db(err)) => Err(err.into()),
    }
}

/// `POST /sites/{domain}/delete`: removes one of the user's sites and its traffic.
pub async fn remove(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    _form: SecureForm,
) -> Result<HttpResponse, AppError> {
    let domain = domain::normalise(&path).map_err(|_| AppError::NotFound)?;
    let owner = user.id;
    let removed =
        crate::db::run(&state.pool, move |conn| store::remove(conn, owner, &domain)).await?;
    if !removed {
        return Err(AppError::NotFound);
    }
    Ok(see_other("/dashboard"))
}

#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    range: Option<String>,
}

/// A range link on the page.
pub struct RangeLink {
    pub key: &'static str,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "sites/show.html")]
struct SitePage {
    layout: Layout,
    domain: String,
    range_label: &'static str,
    ranges: Vec<RangeLink>,
    stats: SiteStats,
    chart: Chart,
    hourly: bool,
    /// Only the owner may remove the site; administrators only look.
    is_owner: bool,
}

/// `GET /sites/{domain}`: the owner's and administrators' view of a site's traffic.
pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    mut layout: Layout,
    path: web::Path<String>,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    let range = Range::parse(query.range.as_deref())
        .ok_or_else(|| AppError::BadRequest("The range must be day, 7d or 30d.".into()))?;
    let domain = domain::normalise(&path).map_err(|_| AppError::NotFound)?;
    let now = state.clock.now();
    let user_id = user.id;
    let found = crate::db::run(&state.pool, move |conn| {
        let Some(site) = store::find(conn, &domain)? else {
            return Ok(None);
        };
        // Anyone but the owner and administrators gets the same 404 as for no site.
        if site.owner_id != user.id && !user.is_admin {
            return Ok(None);
        }
        let stats = stats::site_stats(conn, site.id, range, now)?;
        Ok(Some((site, stats)))
    })
    .await?;
    let (site, stats) = found.ok_or(AppError::NotFound)?;

    layout.form_token();
    let page = SitePage {
        layout,
        is_owner: site.owner_id == user_id,
        domain: site.domain,
        range_label: range_label(range),
        ranges: range_links(range),
        chart: chart::pageview_chart(&stats.buckets),
        stats,
        hourly: range == Range::Day,
    };
    Ok(render(StatusCode::OK, &page))
}

fn range_label(range: Range) -> &'static str {
    match range {
        Range::Day => "Today (UTC)",
        Range::Week => "Last 7 days",
        Range::Month => "Last 30 days",
    }
}

fn range_links(current: Range) -> Vec<RangeLink> {
    [Range::Day, Range::Week, Range::Month]
        .into_iter()
        .map(|range| RangeLink {
            key: range.key(),
            label: range_label(range),
            current: range == current,
        })
        .collect()
}
