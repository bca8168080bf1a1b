//! What holds when things go wrong: the database going away, SIGTERM, and kill -9.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use pulse::db::schema::users;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{Browser, TEST_PASSWORD, TestContext};

/// A TCP proxy in front of PostgreSQL that can cut every connection and refuse new
/// ones, as a database server that went away would.
struct FlakyProxy {
    port: u16,
    down: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl FlakyProxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (accept_down, accept_links) = (down.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if accept_down.load(Ordering::SeqCst) {
                    continue;
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                accept_links.lock().unwrap().push(link);
            }
        });
        Self { port, down, links }
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            for link in self.links.lock().unwrap().drain(..) {
                link.abort();
            }
        }
    }
}

/// How long the database stays away: 8 s by default, `PULSE_OUTAGE_SECONDS` to change
/// it (the documented long run uses 20).
fn outage_length() -> Duration {
    let seconds = std::env::var("PULSE_OUTAGE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());
    Duration::from_secs(seconds.unwrap_or(8))
}

/// PostgreSQL goes away under load from 8 clients: `/health` and pages answer 503 (with
/// a page) within the pool's 5 s checkout bound (250 ms once the outage is known), never
/// hang, and everything recovers on its own.
pub async fn pages_answer_503_while_postgres_is_away_and_recover(ctx: TestContext) {
    let direct = url::Url::parse(&ctx.new_database().await).unwrap();
    let target: SocketAddr = format!(
        "{}:{}",
        direct.host_str().unwrap().replace("localhost", "127.0.0.1"),
        direct.port().unwrap_or(5432)
    )
    .parse()
    .unwrap();
    let proxy = FlakyProxy::start(target).await;
    let mut through_proxy = direct.clone();
    through_proxy.set_port(Some(proxy.port)).unwrap();
    let app = ctx.spawn_app_on(through_proxy.as_str(), &[]).await;
    let browser = app.signed_in_user("ada@example.com").await;
    app.settle().await;

    proxy.set_down(true);
    let outage_ends = Instant::now() + outage_length();
    let clients: Vec<_> = (0..8)
        .map(|n| {
            let browser = browser.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while Instant::now() < outage_ends {
                    let path = if n % 2 == 0 { "/health" } else { "/dashboard" };
                    let started = Instant::now();
                    let response = browser.get(path).await;
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap();
                    seen.push((path, status, started.elapsed(), body));
                }
                seen
            })
        })
        .collect();
    let mut seen = Vec::new();
    for client in clients {
        seen.extend(client.await.unwrap());
    }
    proxy.set_down(false);
    let recovery_started = Instant::now();
    while app.get("/health").await.status() != 200 {
        assert!(
            recovery_started.elapsed() < Duration::from_secs(15),
            "never recovered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered_in = recovery_started.elapsed();
    let after = browser.get("/dashboard").await.status();
    let slowest = seen
        .iter()
        .map(|(_, _, took, _)| *took)
        .max()
        .unwrap_or_default();
    eprintln!(
        "outage of {:?}: {} requests, slowest answer {slowest:?}; healthy {recovered_in:?} \
         after the database came back",
        outage_length(),
        seen.len()
    );

    for (path, status, took, body) in &seen {
        assert_eq!(
            *status, 503,
            "{path} answered {status} while the database was away"
        );
        assert!(*took < Duration::from_secs(7), "{path} took {took:?}");
        if *path == "/dashboard" {
            assert!(body.contains("Temporarily unavailable"), "{body}");
        }
    }
    assert!(seen.len() >= 8, "{} requests during the outage", seen.len());
    let mut took: Vec<Duration> = seen.iter().map(|(_, _, took, _)| *took).collect();
    took.sort();
    assert!(
        took[took.len() / 2] < Duration::from_secs(1),
        "median answer {took:?}"
    );
    assert_eq!(after, 200, "the session did not survive the outage");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs the `pulse` binary with `args` on `database_url` and the given extra settings.
fn pulse_command(database_url: &str, args: &[&str], settings: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pulse"));
    command
        .args(args)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("PULSE_PASSWORD", TEST_PASSWORD)
        .env("RUST_LOG", "warn");
    for (name, value) in settings {
        command.env(name, value);
    }
    command
}

/// Starts `pulse serve` and waits until `/health` answers.
async fn serve(database_url: &str, port: u16, settings: &[(&str, &str)]) -> Child {
    let bind = format!("127.0.0.1:{port}");
    let mut all = vec![("PULSE_BIND", bind.as_str())];
    all.extend_from_slice(settings);
    let child = pulse_command(database_url, &["serve"], &all)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let client = reqwest::Client::new();
    while client
        .get(format!("http://{bind}/health"))
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "pulse serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

async fn create_user(database_url: &str, email: &str) {
    let mut command = pulse_command(database_url, &["user", "create", email], &[]);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn stored_events(database_url: &str) -> u64 {
    let url = pulse::db::DatabaseUrl::parse(database_url).unwrap();
    tokio::task::spawn_blocking(move || {
        use pulse::db::schema::site_events;
        let mut conn = pulse::db::open(&url).unwrap();
        site_events::table
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap() as u64
    })
    .await
    .unwrap()
}

async fn last_seen_of(database_url: &str) -> Vec<Option<NaiveDateTime>> {
    let url = pulse::db::DatabaseUrl::parse(database_url).unwrap();
    tokio::task::spawn_blocking(move || {
        let pool = pulse::db::connect(&url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        users::table
            .select(users::last_seen)
            .order(users::id)
            .load(&mut conn)
            .unwrap()
    })
    .await
    .unwrap()
}

/// SIGTERM: a request in flight is answered, queued visits are written, exit code 0.
pub async fn sigterm_finishes_requests_and_drains_the_recorder(ctx: TestContext) {
    let url = ctx.new_database().await;
    create_user(&url, "ada@example.com").await;
    let port = free_port();
    let mut server = serve(&url, port, &[]).await;
    let address = format!("http://127.0.0.1:{port}");
    let browser = Browser::new(&address);
    let token = browser.csrf_token("/login").await;
    let body =
        format!("email=ada%40example.com&password=correct+horse+battery+staple&csrf_token={token}");
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {address}\r\n\
         Cookie: pulse_session={}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        browser.cookie().unwrap(),
        body.len()
    );

    let mut in_flight = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    in_flight.write_all(head.as_bytes()).await.unwrap();
    in_flight.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    tokio::time::sleep(Duration::from_millis(300)).await;
    in_flight.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut response = String::new();
    in_flight.read_to_string(&mut response).await.unwrap();
    let exit = tokio::task::spawn_blocking(move || server.wait().unwrap())
        .await
        .unwrap();

    assert!(terminated.unwrap().success());
    assert!(response.starts_with("HTTP/1.1 303"), "{response}");
    assert!(exit.success(), "pulse exited with {exit:?}");
    assert!(
        last_seen_of(&url).await[0].is_some(),
        "the sign-in's visit was not drained"
    );
}

/// kill -9 during writes on SQLite: the file is intact after a restart, and what was
/// lost is at most the recorder's in-flight window (about a second of touches).
pub async fn kill_9_under_load_leaves_sqlite_intact_and_loses_at_most_a_second(ctx: TestContext) {
    let url = ctx.new_database().await;
    let emails: Vec<String> = (0..4).map(|n| format!("user{n}@example.com")).collect();
    for email in &emails {
        create_user(&url, email).await;
    }
    let port = free_port();
    let settings = [("PULSE_LAST_SEEN_INTERVAL", "0s")];
    let mut server = serve(&url, port, &settings).await;
    let address = format!("http://127.0.0.1:{port}");
    let running = Arc::new(AtomicBool::new(true));
    let mut clients = Vec::new();
    for email in &emails {
        let browser = Browser::new(&address);
        browser.login(email, TEST_PASSWORD).await;
        let running = running.clone();
        clients.push(tokio::spawn(async move {
            while running.load(Ordering::Relaxed) {
                let request = reqwest::Client::new().get(format!("{}/dashboard", browser.address));
                if browser.try_send(request).await.is_err() {
                    break;
                }
            }
        }));
    }
    let owner = Browser::new(&address);
    owner.login(&emails[0], TEST_PASSWORD).await;
    owner
        .submit("/dashboard", "/sites", &[("domain", "kill.example")])
        .await;
    let accepted = Arc::new(AtomicU64::new(0));
    let sender = {
        let (running, accepted, address) = (running.clone(), accepted.clone(), address.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let event = r#"{"domain":"kill.example","url":"https://kill.example/","referrer":""}"#;
            while running.load(Ordering::Relaxed) {
                let sent = client
                    .post(format!("{address}/api/event"))
                    .header("content-type", "application/json")
                    .header(
                        "user-agent",
                        "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
                    )
                    .body(event)
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == 202 => {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        })
    };

    tokio::time::sleep(Duration::from_secs(3)).await;
    server.kill().unwrap();
    let killed_at = Utc::now().naive_utc();
    server.wait().unwrap();
    running.store(false, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    sender.await.unwrap();
    let mut restarted = serve(&url, port, &settings).await;
    let integrity = {
        let path = url.trim_start_matches("sqlite://").to_owned();
        tokio::task::spawn_blocking(move || {
            #[derive(QueryableByName)]
            struct Check {
                #[diesel(sql_type = diesel::sql_types::Text)]
                integrity_check: String,
            }
            let mut conn = diesel::SqliteConnection::establish(&path).unwrap();
            diesel::sql_query("PRAGMA integrity_check")
                .get_result::<Check>(&mut conn)
                .unwrap()
                .integrity_check
        })
        .await
        .unwrap()
    };
    let last_seen = last_seen_of(&url).await;
    let stored = stored_events(&url).await;
    restarted.kill().unwrap();
    restarted.wait().unwrap();

    assert_eq!(integrity, "ok");
    // The event writer gathers for 100 ms and writes in one transaction: what a kill
    // can take is the batch being gathered or written, well under a second's worth.
    let accepted = accepted.load(Ordering::Relaxed);
    let per_second = accepted / 3;
    eprintln!("events: {accepted} accepted, {stored} stored after kill -9");
    assert!(stored <= accepted, "{stored} stored of {accepted} accepted");
    assert!(
        accepted - stored <= per_second,
        "lost {} of {accepted}",
        accepted - stored
    );
    assert!(stored > 0);
    for seen in last_seen {
        let seen = seen.expect("a user's visits were all lost");
        let lost = killed_at - seen;
        assert!(lost.num_milliseconds() < 1_500, "lost {lost} of visits");
    }
}
