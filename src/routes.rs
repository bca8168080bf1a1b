//! Every route of the application, in one table.
//!
//! Health and static files sit outside the session: they never read a cookie, touch
//! the database for a user, or count as a visit. Everything a person browses sits in
//! the one scope below, behind (outermost first) the session, the cross-site check,
//! the user loader and the last-seen recorder.

use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::middleware::from_fn;
use actix_web::web;

use crate::{admin, assets, auth, dashboard, home, tracking};

pub fn configure(cfg: &mut web::ServiceConfig, sessions: SessionMiddleware<CookieSessionStore>) {
    cfg.route("/health", web::get().to(home::health))
        .route("/static/{name}", web::get().to(assets::serve))
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
