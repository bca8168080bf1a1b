//! The landing page, the health check and the page for unknown addresses.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::connection::SimpleConnection;

use crate::error::ErrorPage;
use crate::layout::Layout;
use crate::web::{AppState, render, see_other};

#[derive(Template)]
#[template(path = "home/landing.html")]
struct Landing {
    layout: Layout,
}

/// Signed-in users go straight to their dashboard.
pub async fn landing(layout: Layout) -> HttpResponse {
    if layout.user.is_some() {
        return see_other("/dashboard");
    }
    render(StatusCode::OK, &Landing { layout })
}

/// 200 when a pooled connection answers `SELECT 1`, 503 when not.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let probe = crate::db::run(&state.pool, |conn| {
        conn.batch_execute("SELECT 1").map_err(Into::into)
    })
    .await;
    let database = state.db_kind.to_string();
    match probe {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({
            "status": "ok",
            "database": database,
        })),
        Err(err) => {
            tracing::warn!(error = %crate::error::error_chain(&err), "health check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({
                "status": "unavailable",
                "database": database,
            }))
        }
    }
}

/// Every unknown address.
pub async fn not_found(layout: Layout) -> HttpResponse {
    let page = ErrorPage {
        layout,
        ..ErrorPage::not_found()
    };
    render(StatusCode::NOT_FOUND, &page)
}
