//! Pulse in a real browser: headless Chromium driven over WebDriver.
//!
//! These run when `chromedriver` (Debian's `chromium-driver`) and axe-core (from npm,
//! installed by `.ci/run` into `target/axe`) are present; otherwise they are listed as
//! ignored with a line saying why. They save screenshots into `docs/screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use pulse::clock::Clock as _;
use serde_json::json;

use crate::helpers::{TEST_PASSWORD, TestContext};

fn chromedriver() -> Option<PathBuf> {
    let configured = std::env::var_os("PULSE_CHROMEDRIVER").map(PathBuf::from);
    configured
        .or_else(|| Some(PathBuf::from("/usr/bin/chromedriver")))
        .filter(|p| p.exists())
}

fn chromium_binary() -> String {
    std::env::var("PULSE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn axe_script_path() -> PathBuf {
    std::env::var_os("PULSE_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/axe/node_modules/axe-core/axe.min.js")
        })
}

/// Why the browser tests can not run here, if they can not.
pub fn unavailable() -> Option<String> {
    if chromedriver().is_none() {
        return Some(
            "chromedriver not found (apt-get install chromium chromium-driver)".to_owned(),
        );
    }
    let axe = axe_script_path();
    if !axe.exists() {
        return Some(format!(
            "axe-core not found at {} (npm install --prefix target/axe axe-core@4)",
            axe.display()
        ));
    }
    None
}

const PERSON_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

/// A headless Chromium and its driver, stopped on drop.
pub struct Chrome {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Chrome {
    pub async fn start(width: u32) -> Chrome {
        Self::start_with(width, &[]).await
    }

    /// A browser that also resolves each of `hosts` to 127.0.0.1, so a test page can
    /// live on a site's own domain without leaving this machine.
    pub async fn start_with(width: u32, hosts: &[&str]) -> Chrome {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver().unwrap())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--hide-scrollbars",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
        // Headless Chromium says so in its user agent, and Pulse drops bots' pageviews;
        // these tests play a person's browser.
        args.push(format!("--user-agent={PERSON_USER_AGENT}"));
        args.push(format!("--window-size={width},900"));
        args.push(format!("--user-data-dir={}", profile.path().display()));
        if !hosts.is_empty() {
            let rules: Vec<String> = hosts.iter().map(|h| format!("MAP {h} 127.0.0.1")).collect();
            args.push(format!("--host-resolver-rules={}", rules.join(",")));
        }
        let options = json!({
            "binary": chromium_binary(),
            "args": args,
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let started = Instant::now();
        let client = loop {
            let attempt = ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
            match attempt {
                Ok(client) => break client,
                Err(err) if started.elapsed() > Duration::from_secs(20) => {
                    panic!("chromedriver did not start: {err}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Chrome {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn text_of(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn fill(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits up to 10 s for the browser to arrive at `expected`; returns where it is.
    pub async fn wait_for_path(&self, expected: &str) -> String {
        let started = Instant::now();
        loop {
            let path = self.path().await;
            if path == expected || started.elapsed() > Duration::from_secs(10) {
                return path;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a full-page screenshot as `docs/screenshots/NAME-WIDTH.png`.
    pub async fn screenshot(&self, name: &str, width: u32) {
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight;", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(900) as u32;
        let height = (height + 140).clamp(600, 8000);
        self.client.set_window_size(width, height).await.unwrap();
        let png = self.client.screenshot().await.unwrap();
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(format!("{name}-{width}.png")), png).unwrap();
        self.client.set_window_size(width, 900).await.unwrap();
    }

    /// Runs axe-core in the page and fails on any serious or critical violation.
    pub async fn assert_accessible(&self, page: &str) {
        let axe = std::fs::read_to_string(axe_script_path()).unwrap();
        self.client.execute(&axe, vec![]).await.unwrap();
        let violations = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document).then(result => done(result.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ': ' + v.help + ' at ' +
                         v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))));",
                vec![],
            )
            .await
            .unwrap();
        let violations = violations.as_array().cloned().unwrap_or_default();
        assert!(violations.is_empty(), "{page}: {violations:#?}");
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A visitor registers, finds the dashboard, signs out and back in; every page on the
/// way passes axe-core and the landing page is photographed at both widths.
pub async fn a_visitor_registers_signs_out_and_signs_back_in(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let chrome = Chrome::start(1440).await;

    chrome.goto(&app.address).await;
    let headline = chrome.text_of("h1").await;
    chrome.assert_accessible("landing").await;
    chrome.screenshot("landing", 1440).await;
    chrome.click("a.button[href='/register']").await;
    chrome.assert_accessible("register").await;
    chrome.fill("#email", "ada@example.com").await;
    chrome.fill("#password", TEST_PASSWORD).await;
    chrome.click("form.stacked button[type=submit]").await;
    let after_register = chrome.wait_for_path("/dashboard").await;
    let greeting = chrome.text_of("main").await;
    chrome.assert_accessible("dashboard").await;
    chrome.goto(&format!("{}/account", app.address)).await;
    chrome.assert_accessible("account").await;
    chrome.click("nav button[type=submit]").await;
    let after_sign_out = chrome.wait_for_path("/").await;
    chrome.goto(&format!("{}/login", app.address)).await;
    chrome.assert_accessible("login").await;
    chrome.fill("#email", "ada@example.com").await;
    chrome.fill("#password", TEST_PASSWORD).await;
    chrome.click("form.stacked button[type=submit]").await;
    let after_sign_in = chrome.wait_for_path("/dashboard").await;
    chrome.goto(&format!("{}/no/such/page", app.address)).await;
    chrome.assert_accessible("404").await;
    chrome.close().await;

    let phone = Chrome::start(390).await;
    phone.goto(&app.address).await;
    phone.assert_accessible("landing at 390 px").await;
    phone.screenshot("landing", 390).await;
    phone.close().await;

    assert_eq!(headline, "Know your traffic. Know your users.");
    assert_eq!(after_register, "/dashboard");
    assert!(
        greeting.contains("Signed in as ada@example.com"),
        "{greeting}"
    );
    assert_eq!(after_sign_out, "/");
    assert_eq!(after_sign_in, "/dashboard");
}

/// An administrator opens the engagement report of a believable population: both
/// charts are drawn, the cohort grid and the rotting list are there, and the page
/// passes axe-core at both widths.
pub async fn the_administrator_sees_the_engagement_report_with_its_charts(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    app.signed_in_user("admin@example.com").await;
    let now = app.clock.now().naive_utc();
    app.db(move |conn| {
        let options = pulse::demo::Options {
            users: 3_000,
            days: 120,
            seed: 7,
        };
        pulse::demo::run(conn, options, now, &mut |_, _| {}).unwrap();
    })
    .await;
    app.clock.advance(chrono::TimeDelta::seconds(61));

    let mut seen = Vec::new();
    for width in [1440, 390] {
        let chrome = Chrome::start(width).await;
        sign_in(&chrome, &app.address, "admin@example.com").await;
        chrome.goto(&format!("{}/admin", app.address)).await;
        let charts = chrome
            .client
            .find_all(Locator::Css("figure.chart svg rect"))
            .await
            .unwrap();
        let cohort_rows = chrome
            .client
            .find_all(Locator::Css("#quiet-heading ~ * table tr"))
            .await;
        let headings = chrome.text_of("main").await;
        chrome
            .assert_accessible(&format!("admin report at {width} px"))
            .await;
        chrome.screenshot("admin-report", width).await;
        chrome.close().await;
        seen.push((
            charts.len(),
            cohort_rows.map(|rows| rows.len()).unwrap_or(0),
            headings,
        ));
    }

    for (bars, rows, text) in seen {
        assert!(bars > 90, "the charts have {bars} bars");
        assert!(rows > 5, "the going-quiet tables have {rows} rows");
        for heading in [
            "How many are active",
            "How often they come back",
            "Who is going quiet",
        ] {
            assert!(text.contains(heading), "{heading} missing");
        }
    }
}

async fn sign_in(chrome: &Chrome, address: &str, email: &str) {
    chrome.goto(&format!("{address}/login")).await;
    chrome.fill("#email", email).await;
    chrome.fill("#password", TEST_PASSWORD).await;
    chrome.click("form.stacked button[type=submit]").await;
    assert_eq!(chrome.wait_for_path("/dashboard").await, "/dashboard");
}

/// Serves one HTML page, whatever the path, on a port of its own: a customer's website.
async fn serve_page(html: String) -> u16 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let html = html.clone();
            tokio::spawn(async move {
                let mut request = vec![0u8; 4096];
                let _ = stream.read(&mut request).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{html}",
                    html.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

/// A user adds a site, a page of that site carrying the script is opened, and its
/// pageview shows on the site's dashboard; a demo site's dashboard, with traffic, is
/// photographed at both widths and passes axe-core.
pub async fn a_pageview_from_a_page_with_the_script_shows_on_the_site_dashboard(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let chrome = Chrome::start_with(1440, &["shop.example"]).await;
    chrome.goto(&format!("{}/register", app.address)).await;
    chrome.fill("#email", "owner@example.com").await;
    chrome.fill("#password", TEST_PASSWORD).await;
    chrome.click("form.stacked button[type=submit]").await;
    chrome.wait_for_path("/dashboard").await;
    chrome.fill("#domain", "https://Shop.example/").await;
    chrome
        .click("form[action='/sites'] button[type=submit]")
        .await;
    let after_adding = chrome.wait_for_path("/sites/shop.example").await;
    chrome.goto(&format!("{}/dashboard", app.address)).await;
    let listed = chrome.text_of("main").await;
    chrome.assert_accessible("dashboard with a site").await;
    chrome.screenshot("dashboard", 1440).await;
    let page = format!(
        "<!doctype html><html lang=en><title>Shop</title><h1>Welcome to the shop</h1>\
         <script defer data-domain=\"shop.example\" src=\"{}/js/script.js\"></script>",
        app.address
    );
    let shop = serve_page(page).await;

    chrome
        .goto(&format!("http://shop.example:{shop}/pricing"))
        .await;
    let started = Instant::now();
    while app.events.stats().written() == 0 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.settle_events().await;
    chrome
        .goto(&format!("{}/sites/shop.example", app.address))
        .await;
    let figures = chrome.text_of("dl.figures").await;
    let top_pages = chrome.text_of("main").await;
    chrome.close().await;

    assert_eq!(after_adding, "/sites/shop.example");
    assert!(
        listed.contains("shop.example"),
        "the new site is not listed: {listed}"
    );
    assert!(figures.contains("Unique visitors\n1"), "{figures}");
    assert!(figures.contains("Pageviews\n1"), "{figures}");
    assert!(top_pages.contains("/pricing"), "{top_pages}");

    let owner_id: i64 = app
        .db(|conn| {
            use diesel::prelude::*;
            use pulse::db::schema::users;
            users::table.select(users::id).first(conn).unwrap()
        })
        .await;
    let now = app.clock.now();
    let demo = app
        .db(move |conn| pulse::sites::demo::add_demo_sites(conn, &[owner_id], 30, 11, now))
        .await
        .unwrap();
    let domain = demo.sites[0].clone();
    for width in [1440, 390] {
        let chrome = Chrome::start(width).await;
        sign_in(&chrome, &app.address, "owner@example.com").await;
        chrome
            .goto(&format!("{}/sites/{domain}?range=30d", app.address))
            .await;
        let bars = chrome
            .client
            .find_all(Locator::Css("svg.chart rect"))
            .await
            .unwrap();
        chrome
            .assert_accessible(&format!("site dashboard at {width} px"))
            .await;
        chrome.screenshot("site-dashboard", width).await;
        if width == 390 {
            chrome.goto(&format!("{}/dashboard", app.address)).await;
            chrome.screenshot("dashboard", 390).await;
        }
        chrome.close().await;
        assert!(bars.len() >= 30, "the chart has {} bars", bars.len());
    }
}
