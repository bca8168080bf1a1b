//! The administrators' area: the engagement report as a page, as JSON, and every user
//! as CSV. Access control is the `/admin` scope's middleware; handlers assume it.

mod charts;
pub mod csv;
mod page;

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::layout::Layout;
use crate::reports::ReportError;
use crate::web::{AppState, render};

/// `GET /admin`.
pub async fn report_page(
    state: web::Data<AppState>,
    layout: Layout,
) -> Result<HttpResponse, AppError> {
    let snapshot = state.reports.current().await.map_err(report_failed)?;
    let page = page::ReportPage::new(&snapshot.report, &state.config.thresholds, layout);
    let mut response = render(StatusCode::OK, &page);
    response.headers_mut().insert(CACHE_CONTROL, no_store());
    Ok(response)
}

/// `GET /admin/report.json`.
pub async fn report_json(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let snapshot = state.reports.current().await.map_err(report_failed)?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, no_store()))
        .body(snapshot.json.clone()))
}

/// `GET /admin/users.csv`: streamed page by page; an error half-way ends the stream,
/// which the client sees as a broken download rather than a short file.
pub async fn users_csv(state: web::Data<AppState>) -> HttpResponse {
    let export = csv::Export {
        pool: state.pool.clone(),
        thresholds: state.config.thresholds,
        now: state.clock.now().naive_utc(),
        after: 0,
    };
    let header = futures_util::stream::once(async {
        Ok::<_, crate::db::DbError>(web::Bytes::from_static(csv::HEADER.as_bytes()))
    });
    let rows = futures_util::stream::try_unfold(export, |mut export| async move {
        let page = export.next_page().await.inspect_err(|err| {
            tracing::error!(error = %crate::error::error_chain(err), "users.csv stopped");
        })?;
        Ok(page.map(|bytes| (bytes, export)))
    });
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            CONTENT_DISPOSITION,
            "attachment; filename=\"pulse-users.csv\"",
        ))
        .insert_header((CACHE_CONTROL, no_store()))
        .streaming(futures_util::StreamExt::chain(header, rows))
}

fn no_store() -> actix_web::http::header::HeaderValue {
    actix_web::http::header::HeaderValue::from_static("no-store")
}

fn report_failed(err: ReportError) -> AppError {
    match err {
        ReportError::Database(db) => AppError::from(db),
        other => AppError::Internal(Box::new(other)),
    }
}
