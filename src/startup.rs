//! Building the server: database first, then the HTTP listener.
//!
//! [`Application::build`] does everything that can fail before a request is served and
//! returns the bound port, so tests bind port 0 and run many instances at once.

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::PersistentSession;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use base64::Engine as _;
use chrono::TimeDelta;
use rand::RngCore as _;

use crate::auth::password::Passwords;
use crate::auth::throttle::LoginThrottle;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, LastSeenInterval, SESSION_KEY_MIN_BYTES};
use crate::db::{self, DbError, MigrationError, Pool};
use crate::error::AppError;
use crate::reports::ReportCache;
use crate::sites::{EventWriter, EventWriterWorker, Salts};
use crate::tracking::{Recorder, RecorderWorker};
use crate::web::AppState;
use crate::{routes, telemetry};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "pulse_session";

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Migrations(#[from] MigrationError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("start-up was interrupted")]
    Interrupted,
    #[error(transparent)]
    Passwords(#[from] crate::auth::password::PasswordError),
}

/// A database that is connected, migrated and holds the session key.
pub struct PreparedDatabase {
    pub pool: Pool,
    pub migrations_applied: Vec<String>,
    session_key: Key,
}

/// Connects, applies pending migrations and loads the session key.
pub fn prepare_database(
    config: &Config,
    clock: &dyn Clock,
) -> Result<PreparedDatabase, StartupError> {
    let pool = db::connect(&config.database_url, config.db_pool_size)?;
    let mut conn = pool.get().map_err(DbError::Pool)?;

    let migrations_applied = db::run_migrations(&mut conn)?;

    let key_bytes = match &config.session_key {
        Some(key) => key.0.clone(),
        None => stored_session_key(&mut conn, clock)?,
    };
    let session_key = Key::try_from(key_bytes.as_slice()).map_err(|_| DbError::Connect {
        target: "the stored session key".into(),
        reason: "it is shorter than 64 bytes; delete the row from app_secrets".into(),
    })?;
    drop(conn);

    Ok(PreparedDatabase {
        pool,
        migrations_applied,
        session_key,
    })
}

/// One migrated connection, for the commands that do one job and exit.
pub fn open_migrated(config: &Config) -> Result<(db::AnyConnection, Vec<String>), StartupError> {
    let mut conn = db::open(&config.database_url)?;
    let applied = db::run_migrations(&mut conn)?;
    Ok((conn, applied))
}

/// The key kept in the database, generated on first use, so that every instance on the
/// database and every restart accept the same cookies.
fn stored_session_key(conn: &mut db::AnyConnection, clock: &dyn Clock) -> Result<Vec<u8>, DbError> {
    let encoded = db::secrets::get_or_create(conn, "session_key", clock.now(), || {
        let mut bytes = [0u8; SESSION_KEY_MIN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        base64::engine::general_purpose::STANDARD.encode(bytes)
    })?;
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| DbError::Connect {
            target: "the stored session key".into(),
            reason: "it is not base64; delete the row from app_secrets".into(),
        })
}

pub struct Application {
    port: u16,
    server: Server,
    migrations_applied: Vec<String>,
    recorder: Recorder,
    recorder_worker: RecorderWorker,
    events: EventWriter,
    events_worker: EventWriterWorker,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Like [`Application::build`], with the clock the application will read.
    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        let prepared = {
            let config = config.clone();
            let clock = clock.clone();
            tokio::task::spawn_blocking(move || prepare_database(&config, clock.as_ref()))
                .await
                .map_err(|_| StartupError::Interrupted)??
        };
        let db_kind = config.database_url.kind();
        tracing::info!(
            database.kind = %db_kind,
            database = %config.database_url.describe(),
            migrations.applied = prepared.migrations_applied.len(),
            "database ready: {}; {} migration(s) applied{}",
            config.database_url.describe(),
            prepared.migrations_applied.len(),
            list_suffix(&prepared.migrations_applied),
        );

        let listener = TcpListener::bind(config.bind).map_err(|source| StartupError::Bind {
            address: config.bind,
            source,
        })?;
        let address = listener.local_addr().map_err(|source| StartupError::Bind {
            address: config.bind,
            source,
        })?;

        let passwords = Passwords::new(password_workers())?;
        let interval = match config.last_seen_interval {
            LastSeenInterval::Every(interval) => interval,
            LastSeenInterval::Off => TimeDelta::zero(),
        };
        let (recorder, recorder_worker) = Recorder::start(prepared.pool.clone(), interval);
        let reports = ReportCache::new(prepared.pool.clone(), clock.clone(), config.thresholds);
        reports.spawn_refresher();
        let (events, events_worker) = EventWriter::start(prepared.pool.clone());
        let state = web::Data::new(AppState {
            pool: prepared.pool,
            db_kind,
            clock,
            config: Arc::new(config),
            passwords,
            login_throttle: Arc::new(LoginThrottle::default()),
            recorder: recorder.clone(),
            reports,
            events: events.clone(),
            salts: Arc::new(Salts::default()),
        });
        let server = build_server(listener, state, prepared.session_key)
            .map_err(|source| StartupError::Bind { address, source })?;
        tracing::info!(address = %address, "listening on http://{address}");

        Ok(Self {
            port: address.port(),
            server,
            migrations_applied: prepared.migrations_applied,
            recorder,
            recorder_worker,
            events,
            events_worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Versions of the migrations this start applied (empty when there were none).
    pub fn migrations_applied(&self) -> &[String] {
        &self.migrations_applied
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The last-seen recorder, whose counters tell what it wrote.
    pub fn recorder(&self) -> Recorder {
        self.recorder.clone()
    }

    /// The pageview writer, whose counters tell what it stored.
    pub fn events(&self) -> EventWriter {
        self.events.clone()
    }

    /// Serves until the server is stopped or receives SIGINT or SIGTERM, then writes
    /// the visits still queued.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        let worker = self.recorder_worker;
        let drained = tokio::task::spawn_blocking(move || worker.shutdown()).await;
        if drained.is_err() {
            tracing::error!("draining the last-seen queue failed");
        }
        let events = self.events_worker;
        if tokio::task::spawn_blocking(move || events.shutdown())
            .await
            .is_err()
        {
            tracing::error!("draining the pageview queue failed");
        }
        tracing::info!("stopped");
        served
    }
}

fn list_suffix(versions: &[String]) -> String {
    if versions.is_empty() {
        String::new()
    } else {
        format!(" ({})", versions.join(", "))
    }
}

/// Argon2 runs at most this many hashes at once: one per core keeps sign-ins from
/// starving everything else of CPU.
fn password_workers() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// Headers on every response. The policy allows nothing but Pulse's own origin: no
/// inline script or style, no other host, no framing.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
}

fn build_server(
    listener: TcpListener,
    state: web::Data<AppState>,
    session_key: Key,
) -> std::io::Result<Server> {
    let server = HttpServer::new(move || {
        // The cookie lasts as long as a sign-in may; the server ends it earlier when the
        // session row goes.
        let lifetime = CookieDuration::seconds(state.config.session_lifetime.num_seconds());
        let sessions =
            SessionMiddleware::builder(CookieSessionStore::default(), session_key.clone())
                .session_lifecycle(PersistentSession::default().session_ttl(lifetime))
                .cookie_name(SESSION_COOKIE.to_owned())
                .cookie_secure(true)
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .build();
        App::new()
            .app_data(state.clone())
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                AppError::BadRequest(format!("The address has an invalid query: {err}")).into()
            }))
            .wrap(security_headers())
            .wrap(from_fn(telemetry::log_request))
            .configure(|cfg| routes::configure(cfg, sessions))
    })
    .listen(listener)?
    .run();
    Ok(server)
}
