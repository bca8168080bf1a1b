//! Every route of the application, in one table.

use actix_web::web;

use crate::{assets, home};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::landing))
        .route("/health", web::get().to(home::health))
        .route("/static/{name}", web::get().to(assets::serve))
        .default_service(web::to(home::not_found));
}
