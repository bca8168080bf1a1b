//! Every route of the application, in one table.
//!
//! Health, static files, the tracking script and its events sit outside the session:
//! they never read a cookie, touch the database for a user, or count as a visit.
//! Everything a person browses sits in the one scope below, behind (outermost first)
//! the session, the cross-site check, the user loader and the last-seen recorder.

use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::middleware::from_fn;
use actix_web::web;

use crate::{admin, assets, auth, dashboard, home, sites, tracking};

pub fn configure(cfg: &mut web::ServiceConfig, sessions: SessionMiddleware<CookieSessionStore>) {
    cfg.route("/health", web::get().to(home::health))
        .route("/static/{name}", web::get().to(assets::serve))
        .route("/js/script.js", web::get().to(sites::pages::script))
        .route("/api/event", web::post().to(sites::ingest::receive))
        .route(
            "/api/event",
            web::method(actix_web::http::Method::OPTIONS).to(sites::ingest::preflight),
        )
        .service(
            web::scope("")
                .wrap(from_fn(tracking::record_visit))
                .wrap(from_fn(auth::load_user))
                .wrap(from_fn(auth::csrf::check_origin))
                .wrap(sessions)
                .route("/", web::get().to(home::landing))
                .route("/register", web::get().to(auth::pages::register_form))
                .route("/register", web::post().to(auth::pages::register))
                .route("/login", web::get().to(auth::pages::login_form))
                .route("/login", web::post().to(auth::pages::login))
                .route("/logout", web::post().to(auth::pages::logout))
                .route("/account", web::get().to(auth::pages::account))
                .route(
                    "/account/password",
                    web::post().to(auth::pages::change_password),
                )
                .route(
                    "/account/sign-out-everywhere",
                    web::post().to(auth::pages::sign_out_everywhere),
                )
                .route("/dashboard", web::get().to(dashboard::show))
                .route("/sites", web::post().to(sites::pages::add))
                .route("/sites/{domain}", web::get().to(sites::pages::show))
                .route(
                    "/sites/{domain}/delete",
                    web::post().to(sites::pages::remove),
                )
                .service(
                    web::scope("/admin")
                        .wrap(from_fn(auth::require_admin))
                        .route("", web::get().to(admin::report_page))
                        .route("/report.json", web::get().to(admin::report_json))
                        .route("/users.csv", web::get().to(admin::users_csv)),
                )
                .default_service(web::to(home::not_found)),
        );
}
