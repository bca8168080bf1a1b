//! Every route of the application, in one table.

use actix_web::web;

use crate::{admin, assets, home};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::landing))
        .route("/health", web::get().to(home::health))
        .route("/static/{name}", web::get().to(assets::serve))
        .service(
            web::scope("/admin")
                .route("", web::get().to(admin::report_page))
                .route("/report.json", web::get().to(admin::report_json))
                .route("/users.csv", web::get().to(admin::users_csv)),
        )
        .default_service(web::to(home::not_found));
}
