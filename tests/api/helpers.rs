//! The test harness: one trial per test and backend, each with its own database.
//!
//! Every test runs on SQLite. It runs again on PostgreSQL when `PULSE_TEST_DATABASE_URL`
//! names a server; otherwise the PostgreSQL trials are listed as ignored and a line says
//! why, so a green run never hides that half the suite did not run.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use chrono::{TimeZone as _, Utc};
use diesel::{Connection as _, PgConnection, RunQueryDsl as _};
use libtest_mimic::{Arguments, Failed, Trial};
use pulse::clock::ManualClock;
use pulse::config::Config;
use pulse::db::{self, Pool};
use pulse::startup::Application;

pub const POSTGRES_ENV: &str = "PULSE_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Which backends a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Applies {
    Both,
    SqliteOnly,
    PostgresOnly,
    /// Needs no database of its own; runs once.
    Once,
    /// Runs once on SQLite in a real browser, when one is installed.
    Browser,
}

type TestFn = fn(TestContext) -> Pin<Box<dyn Future<Output = ()> + Send>>;

pub struct TestCase {
    pub name: &'static str,
    pub applies: Applies,
    pub run: TestFn,
}

/// Lists tests as `kind path::to::test`, where kind is `both`, `sqlite`, `postgres`
/// or `once`.
#[macro_export]
macro_rules! tests {
    ($($kind:ident $($segment:ident)::+),* $(,)?) => {
        vec![$(
            $crate::helpers::TestCase {
                name: stringify!($($segment)::+),
                applies: $crate::tests!(@applies $kind),
                run: |ctx| Box::pin($($segment)::+(ctx)),
            }
        ),*]
    };
    (@applies both) => { $crate::helpers::Applies::Both };
    (@applies sqlite) => { $crate::helpers::Applies::SqliteOnly };
    (@applies postgres) => { $crate::helpers::Applies::PostgresOnly };
    (@applies once) => { $crate::helpers::Applies::Once };
    (@applies browser) => { $crate::helpers::Applies::Browser };
}

pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// Builds the trials and runs them; the process exit code is the verdict.
pub fn run(cases: Vec<TestCase>) -> std::process::ExitCode {
    let args = Arguments::from_args();
    let postgres = postgres_url();
    if postgres.is_none() {
        eprintln!(
            "PostgreSQL tests SKIPPED: {POSTGRES_ENV} is not set. They are listed as \
             ignored below; set it (for example postgres://postgres@127.0.0.1:5432/test) \
             to run them."
        );
    }

    let browser_missing = crate::browser::unavailable();
    if let Some(reason) = &browser_missing {
        eprintln!("Browser tests SKIPPED: {reason}. They are listed as ignored below.");
    }

    let mut trials = Vec::new();
    for case in cases {
        let backends: &[Backend] = match case.applies {
            Applies::Both => &[Backend::Sqlite, Backend::Postgres],
            Applies::SqliteOnly | Applies::Once | Applies::Browser => &[Backend::Sqlite],
            Applies::PostgresOnly => &[Backend::Postgres],
        };
        let path: String = case.name.split_whitespace().collect();
        for &backend in backends {
            let name = match (case.applies, backend) {
                (Applies::Once, _) => path.clone(),
                (Applies::Browser, _) => path.clone(),
                (_, Backend::Sqlite) => format!("sqlite::{path}"),
                (_, Backend::Postgres) => format!("postgres::{path}"),
            };
            let run = case.run;
            let skipped = (backend == Backend::Postgres && postgres.is_none())
                || (matches!(case.applies, Applies::Browser) && browser_missing.is_some());
            trials.push(
                Trial::test(name, move || run_trial(run, backend)).with_ignored_flag(skipped),
            );
        }
    }
    libtest_mimic::run(&args, trials).exit_code()
}

fn run_trial(run: TestFn, backend: Backend) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("no runtime: {e}")))?;
    runtime.block_on(async move {
        let ctx = TestContext::new(backend);
        let outcome = tokio::spawn(run(ctx.clone())).await;
        ctx.clean_up().await;
        outcome.map_err(|err| match err.try_into_panic() {
            Ok(panic) => Failed::from(panic_message(panic.as_ref())),
            Err(err) => Failed::from(err.to_string()),
        })
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "the test panicked".to_owned()
    }
}

/// What a test gets: its backend, and fresh databases and apps that are cleaned up
/// when it ends, pass or fail.
#[derive(Clone)]
pub struct TestContext {
    pub backend: Backend,
    servers: Arc<Mutex<Vec<ServerHandle>>>,
    databases: Arc<Mutex<Vec<TestDatabase>>>,
}

impl TestContext {
    fn new(backend: Backend) -> Self {
        Self {
            backend,
            servers: Arc::default(),
            databases: Arc::default(),
        }
    }

    /// A new, empty database of this test's backend; returns its `DATABASE_URL`.
    pub async fn new_database(&self) -> String {
        let backend = self.backend;
        let database = tokio::task::spawn_blocking(move || TestDatabase::create(backend))
            .await
            .unwrap();
        let url = database.url.clone();
        self.databases.lock().unwrap().push(database);
        url
    }

    /// An app on a fresh database with the default settings.
    pub async fn spawn_app(&self) -> TestApp {
        self.spawn_app_with(&[]).await
    }

    /// An app on a fresh database; `settings` override the defaults.
    pub async fn spawn_app_with(&self, settings: &[(&str, &str)]) -> TestApp {
        let database_url = self.new_database().await;
        self.spawn_app_on(&database_url, settings).await
    }

    /// An app on an existing database, as a second instance or after a restart.
    pub async fn spawn_app_on(&self, database_url: &str, settings: &[(&str, &str)]) -> TestApp {
        let clock = ManualClock::starting_at(Utc.with_ymd_and_hms(2026, 3, 16, 9, 30, 0).unwrap());
        self.spawn_instance(database_url, settings, clock).await
    }

    /// An app on an existing database reading the given clock: one of several instances
    /// behind a load balancer.
    pub async fn spawn_instance(
        &self,
        database_url: &str,
        settings: &[(&str, &str)],
        clock: ManualClock,
    ) -> TestApp {
        let config = test_config(database_url, settings);
        let app = Application::build_with_clock(config, Arc::new(clock.clone()))
            .await
            .expect("the app failed to start");
        self.start(app, database_url, clock)
    }

    /// Takes over an app built by the test, so that it is stopped when the test ends.
    pub fn adopt(&self, app: Application) {
        self.servers.lock().unwrap().push(app.handle());
        tokio::spawn(app.run_until_stopped());
    }

    fn start(&self, app: Application, database_url: &str, clock: ManualClock) -> TestApp {
        let port = app.port();
        let recorder = app.recorder();
        let events = app.events();
        let migrations_applied = app.migrations_applied().to_vec();
        self.servers.lock().unwrap().push(app.handle());
        tokio::spawn(app.run_until_stopped());

        let url = pulse::db::DatabaseUrl::parse(database_url).unwrap();
        let pool = db::connect(&url, 2).unwrap();
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            database_url: database_url.to_owned(),
            pool,
            clock,
            recorder,
            events,
            migrations_applied,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(IDLE_CONNECTION_TIMEOUT)
                .build()
                .unwrap(),
        }
    }

    async fn clean_up(&self) {
        let servers: Vec<ServerHandle> = std::mem::take(&mut *self.servers.lock().unwrap());
        for server in servers {
            server.stop(false).await;
        }
        let databases: Vec<TestDatabase> = std::mem::take(&mut *self.databases.lock().unwrap());
        tokio::task::spawn_blocking(move || drop(databases))
            .await
            .unwrap();
    }
}

/// Settings for a test app: port 0, a small pool, and the test's overrides.
pub fn test_config(database_url: &str, settings: &[(&str, &str)]) -> Config {
    let mut env: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), database_url.into()),
        ("PULSE_BIND".into(), "127.0.0.1:0".into()),
        ("PULSE_DB_POOL_SIZE".into(), "4".into()),
    ]);
    for (name, value) in settings {
        env.insert((*name).into(), (*value).into());
    }
    Config::from_lookup(|name| env.get(name).cloned()).expect("invalid test settings")
}

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    /// A pool of the test's own, for arranging and checking rows directly.
    pub pool: Pool,
    /// The app's clock; tests move it instead of sleeping.
    pub clock: ManualClock,
    /// The app's last-seen recorder, whose counters tell what it wrote.
    pub recorder: pulse::tracking::Recorder,
    /// The app's pageview writer, whose counters tell what it stored.
    pub events: pulse::sites::EventWriter,
    pub migrations_applied: Vec<String>,
    pub client: reqwest::Client,
}

impl TestApp {
    /// Waits until every accepted last-seen touch has been written (at most 15 s).
    pub async fn settle(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while self.recorder.stats().in_flight() > 0 {
            assert!(std::time::Instant::now() < deadline, "touches never landed");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Waits until every accepted pageview has been written or dropped (at most 30 s).
    pub async fn settle_events(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.events.stats().in_flight() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "pageviews never landed"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// How many times the recorder changed a `last_seen`.
    pub fn last_seen_writes(&self) -> u64 {
        let stats = self.recorder.stats();
        stats
            .last_seen_writes
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many touches the middleware (or sign-in) handed to the recorder.
    pub fn touches(&self) -> u64 {
        let stats = self.recorder.stats();
        stats
            .touches_accepted
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A new browser with an empty cookie jar.
    pub fn browser(&self) -> Browser {
        Browser {
            address: self.address.clone(),
            client: self.client.clone(),
            cookie: Arc::new(Mutex::new(None)),
        }
    }

    /// Registers an account through the form and returns a browser signed in to it.
    pub async fn signed_in_user(&self, email: &str) -> Browser {
        let browser = self.browser();
        let response = browser.register(email, TEST_PASSWORD).await;
        assert_eq!(response.status(), 303, "registration failed");
        browser
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    /// Runs `work` on a connection of the test's own pool.
    pub async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut db::AnyConnection) -> T + Send + 'static,
    ) -> T {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || work(&mut pool.get().unwrap()))
            .await
            .unwrap()
    }
}

/// A database that exists for one test: a file in a temporary folder, or a PostgreSQL
/// database created on the test server and dropped (with its connections) afterwards.
pub struct TestDatabase {
    pub url: String,
    _folder: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let folder = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", folder.path().join("pulse.db").display());
                Self {
                    url,
                    _folder: Some(folder),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin_url = postgres_url().expect("PostgreSQL trial without a server");
                let name = format!("pulse_test_{:016x}", rand::random::<u64>());
                let mut admin = PgConnection::establish(&admin_url).unwrap();
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .unwrap();
                let mut url = url::Url::parse(&admin_url).unwrap();
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    _folder: None,
                    postgres: Some((admin_url, name)),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = &self.postgres else {
            return;
        };
        let dropped = PgConnection::establish(admin_url).and_then(|mut admin| {
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
        });
        if let Err(err) = dropped {
            eprintln!("could not drop test database {name}: {err}");
        }
    }
}

/// Test clients drop idle connections before the server's 5 s keep-alive does, so a
/// request never races the server closing the connection it reuses.
const IDLE_CONNECTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The password every test account gets unless a test says otherwise.
pub const TEST_PASSWORD: &str = "correct horse battery staple";

/// The session cookie's name.
pub const COOKIE: &str = "pulse_session";

/// A browser: a client with a one-cookie jar that tests can read, save and replace.
#[derive(Clone)]
pub struct Browser {
    pub address: String,
    client: reqwest::Client,
    cookie: Arc<Mutex<Option<String>>>,
}

impl Browser {
    /// A browser for a Pulse that is not a `TestApp`, such as the binary itself.
    pub fn new(address: &str) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(IDLE_CONNECTION_TIMEOUT)
            .build()
            .unwrap();
        Browser {
            address: address.to_owned(),
            client,
            cookie: Arc::new(Mutex::new(None)),
        }
    }

    /// The current session cookie's value.
    pub fn cookie(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    /// The same browser (sharing its cookie) talking to another instance.
    pub fn at(&self, app: &TestApp) -> Browser {
        Browser {
            address: app.address.clone(),
            ..self.clone()
        }
    }

    /// Replaces the session cookie, as a copied or forged cookie would.
    pub fn set_cookie(&self, value: Option<String>) {
        *self.cookie.lock().unwrap() = value;
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let request = self.client.get(format!("{}{path}", self.address));
        self.send(request).await
    }

    /// Posts a form as a browser on this site would, with the given fields only.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.post_raw(path, "application/x-www-form-urlencoded", body.into_bytes())
            .await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let request = self
            .client
            .post(format!("{}{path}", self.address))
            .header("content-type", content_type)
            .header("origin", self.address.clone())
            .body(body);
        self.send(request).await
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> reqwest::Response {
        self.try_send(request).await.unwrap()
    }

    /// Like [`Browser::send`], for a server that may have gone away.
    pub async fn try_send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> reqwest::Result<reqwest::Response> {
        let request = match self.cookie() {
            Some(value) => request.header("cookie", format!("{COOKIE}={value}")),
            None => request,
        };
        let response = request.send().await?;
        for header in response.headers().get_all("set-cookie") {
            let text = header.to_str().unwrap();
            let Some(rest) = text.strip_prefix(&format!("{COOKIE}=")) else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or("");
            let removed = value.is_empty() || text.contains("Max-Age=0");
            self.set_cookie((!removed).then(|| value.to_owned()));
        }
        Ok(response)
    }

    /// The form token on the page at `path`.
    pub async fn csrf_token(&self, path: &str) -> String {
        let page = self.get(path).await.text().await.unwrap();
        extract_csrf_token(&page).unwrap_or_else(|| panic!("no csrf_token on {path}: {page}"))
    }

    /// Posts a form with this session's token added.
    pub async fn submit(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf_token(form_page).await;
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_form(action, &all).await
    }

    pub async fn register(&self, email: &str, password: &str) -> reqwest::Response {
        self.submit(
            "/register",
            "/register",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.submit(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn logout(&self) -> reqwest::Response {
        self.submit("/account", "/logout", &[]).await
    }

    /// Whether `/dashboard` shows a signed-in page (rather than sending to sign-in).
    pub async fn is_signed_in(&self) -> bool {
        let response = self.get("/dashboard").await;
        match response.status().as_u16() {
            200 => true,
            303 => false,
            other => panic!("/dashboard answered {other}"),
        }
    }
}

pub fn extract_csrf_token(page: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_owned())
}
