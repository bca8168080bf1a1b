//! The signed-in home: the user's sites and their traffic.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use crate::auth::CurrentUser;
use crate::layout::Layout;
use crate::web::render;

#[derive(Template)]
#[template(path = "dashboard/index.html")]
struct DashboardPage {
    layout: Layout,
    email: String,
}

pub async fn show(user: CurrentUser, layout: Layout) -> HttpResponse {
    render(
        StatusCode::OK,
        &DashboardPage {
            layout,
            email: user.email,
        },
    )
}
