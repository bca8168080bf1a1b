//! Sites and their traffic: adding sites, the tracking script, `/api/event`, and the
//! site dashboard's figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::TimeDelta;
use diesel::prelude::*;
use pulse::clock::Clock as _;
use pulse::db::schema::{site_events, site_salts, sites};

use crate::helpers::{Browser, TestApp, TestContext};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                      (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

fn event(domain: &str, url: &str, referrer: &str) -> Vec<u8> {
    serde_json::json!({ "domain": domain, "url": url, "referrer": referrer })
        .to_string()
        .into_bytes()
}

/// Posts an event the way `sendBeacon` does (text/plain, cross-origin).
async fn send_raw(
    app: &TestApp,
    content_type: Option<&str>,
    user_agent: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/api/event", app.address))
        .header("user-agent", user_agent)
        .header("origin", "https://example.com")
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.unwrap()
}

async fn pageview(app: &TestApp, user_agent: &str, url: &str) -> u16 {
    let body = event("example.com", url, "");
    send_raw(app, Some("text/plain;charset=UTF-8"), user_agent, body)
        .await
        .status()
        .as_u16()
}

/// Signs up an owner and adds `domain` through the dashboard's form.
async fn owner_with_site(app: &TestApp, email: &str, domain: &str) -> Browser {
    let owner = app.signed_in_user(email).await;
    let response = owner
        .submit("/dashboard", "/sites", &[("domain", domain)])
        .await;
    assert_eq!(response.status(), 303, "adding {domain} failed");
    owner
}

/// (visitors, pageviews) as the site's page states them in its title.
async fn figures(browser: &Browser, path: &str) -> (i64, i64) {
    let response = browser.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let page = response.text().await.unwrap();
    let title = page
        .split("<title>")
        .nth(1)
        .and_then(|rest| rest.split("</title>").next())
        .and_then(|title| title.split(": ").nth(1))
        .unwrap();
    let numbers: Vec<i64> = title
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

async fn stored_events(app: &TestApp) -> i64 {
    app.db(|conn| site_events::table.count().get_result(conn).unwrap())
        .await
}

pub async fn an_event_from_a_page_with_the_script_shows_on_the_site_dashboard(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let owner = owner_with_site(&app, "ada@example.com", "https://Example.com/").await;
    let script = app.get("/js/script.js").await.text().await.unwrap();
    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/event", app.address),
        )
        .header("origin", "https://example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();

    let first = send_raw(
        &app,
        Some("application/json"),
        FIREFOX,
        event("example.com", "https://example.com/", "https://news.test/x"),
    )
    .await;
    let second = pageview(&app, FIREFOX, "https://example.com/pricing").await;
    let third = pageview(&app, FIREFOX, "https://www.example.com/pricing?plan=pro").await;
    app.settle_events().await;

    assert!(script.contains("/api/event") && script.contains("sendBeacon"));
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    assert_eq!(first.status(), 202);
    assert_eq!(first.headers()["access-control-allow-origin"], "*");
    assert_eq!((second, third), (202, 202));
    assert_eq!(figures(&owner, "/sites/example.com").await, (1, 3));
    let page = owner.get("/sites/example.com").await.text().await.unwrap();
    assert!(page.contains("/pricing") && page.contains("news.test"));
    assert!(page.contains("Direct / none"));
    let dashboard = owner.get("/dashboard").await.text().await.unwrap();
    assert!(
        dashboard.contains("data-domain=\"example.com\""),
        "{dashboard}"
    );
    assert!(dashboard.contains(&format!("src=\"{}/js/script.js\"", app.address)));
}

pub async fn the_same_visitor_counts_once_a_day_and_again_the_next_day(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let owner = owner_with_site(&app, "ada@example.com", "example.com").await;

    for _ in 0..3 {
        assert_eq!(pageview(&app, FIREFOX, "https://example.com/").await, 202);
    }
    assert_eq!(pageview(&app, CHROME, "https://example.com/").await, 202);
    app.settle_events().await;
    let first_day = figures(&owner, "/sites/example.com").await;

    app.clock.advance(TimeDelta::days(1));
    assert_eq!(pageview(&app, FIREFOX, "https://example.com/").await, 202);
    assert_eq!(pageview(&app, FIREFOX, "https://example.com/").await, 202);
    app.settle_events().await;
    let salts: i64 = app
        .db(|conn| site_salts::table.count().get_result(conn).unwrap())
        .await;

    assert_eq!(first_day, (2, 4));
    assert_eq!(figures(&owner, "/sites/example.com").await, (1, 2));
    assert_eq!(figures(&owner, "/sites/example.com?range=7d").await, (3, 6));
    assert_eq!(
        figures(&owner, "/sites/example.com?range=30d").await,
        (3, 6)
    );
    assert_eq!(salts, 1, "the previous day's salt was kept");
}

/// (what it is, content type, user agent, body, expected status)
type BadEvent = (
    &'static str,
    Option<&'static str>,
    &'static str,
    Vec<u8>,
    u16,
);

pub async fn bad_events_get_their_documented_answer_and_nothing_is_stored(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    owner_with_site(&app, "ada@example.com", "example.com").await;
    let good = || event("example.com", "https://example.com/", "");
    let json = Some("application/json");
    let mut oversized = good();
    oversized.truncate(oversized.len() - 1);
    oversized.extend(format!(", \"pad\": \"{}\"}}", "x".repeat(5000)).bytes());
    let cases: Vec<BadEvent> = vec![
        ("not JSON", json, FIREFOX, b"{\"domain\": ".to_vec(), 400),
        ("empty body", json, FIREFOX, Vec::new(), 400),
        ("a JSON array", json, FIREFOX, b"[1, 2]".to_vec(), 400),
        (
            "no url",
            json,
            FIREFOX,
            b"{\"domain\":\"example.com\"}".to_vec(),
            400,
        ),
        (
            "a number as url",
            json,
            FIREFOX,
            b"{\"domain\":\"example.com\",\"url\":5}".to_vec(),
            400,
        ),
        (
            "invalid UTF-8",
            json,
            FIREFOX,
            b"{\"domain\":\"example.com\",\"url\":\"https://example.com/\xff\xfe\"}".to_vec(),
            400,
        ),
        (
            "a javascript: url",
            json,
            FIREFOX,
            event("example.com", "javascript:alert(1)", ""),
            400,
        ),
        (
            "a garbage domain",
            json,
            FIREFOX,
            event("<b>x</b>", "https://example.com/", ""),
            400,
        ),
        (
            "a garbage referrer",
            json,
            FIREFOX,
            event("example.com", "https://example.com/", "not a url"),
            400,
        ),
        ("over 4 KB", json, FIREFOX, oversized, 413),
        (
            "a form body",
            Some("application/x-www-form-urlencoded"),
            FIREFOX,
            good(),
            415,
        ),
        ("no content type", None, FIREFOX, good(), 415),
        (
            "an unknown domain",
            json,
            FIREFOX,
            event("unknown.test", "https://unknown.test/", ""),
            202,
        ),
        (
            "a crawler",
            json,
            "Mozilla/5.0 (compatible; Googlebot/2.1)",
            good(),
            202,
        ),
        ("no user agent", json, "", good(), 202),
        (
            "another domain's page",
            json,
            FIREFOX,
            event("example.com", "https://evil.test/", ""),
            202,
        ),
        (
            "a look-alike domain's page",
            json,
            FIREFOX,
            event("example.com", "https://notexample.com/", ""),
            202,
        ),
    ];

    let mut answers = Vec::new();
    for (name, content_type, user_agent, body, _) in &cases {
        let response = send_raw(&app, *content_type, user_agent, body.clone()).await;
        answers.push((*name, response.status().as_u16()));
    }
    app.settle_events().await;

    let expected: Vec<(&str, u16)> = cases.iter().map(|c| (c.0, c.4)).collect();
    assert_eq!(answers, expected);
    assert_eq!(stored_events(&app).await, 0);
    assert_eq!(app.events.stats().written(), 0);
}

pub async fn another_users_site_answers_404_and_an_administrator_sees_it(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let admin = app.signed_in_user("admin@example.com").await;
    let owner = owner_with_site(&app, "ada@example.com", "example.com").await;
    let stranger = app.signed_in_user("eve@example.com").await;
    assert_eq!(pageview(&app, FIREFOX, "https://example.com/").await, 202);
    app.settle_events().await;

    let strangers_view = stranger.get("/sites/example.com").await.status();
    let missing = stranger.get("/sites/missing.test").await.status();
    let anonymous = app.get("/sites/example.com").await;

    assert_eq!(strangers_view, 404);
    assert_eq!(missing, 404);
    assert_eq!(anonymous.status(), 303);
    assert!(
        anonymous.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    assert_eq!(figures(&owner, "/sites/example.com").await, (1, 1));
    assert_eq!(figures(&admin, "/sites/example.com").await, (1, 1));
}

pub async fn a_taken_domain_is_409_and_garbage_is_422_keeping_what_was_typed(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let ada = owner_with_site(&app, "ada@example.com", "example.com").await;
    let bob = app.signed_in_user("bob@example.com").await;

    let again = ada
        .submit("/dashboard", "/sites", &[("domain", "example.com")])
        .await;
    let other_case = bob
        .submit("/dashboard", "/sites", &[("domain", "http://EXAMPLE.com.")])
        .await;
    let other_case_page = other_case.text().await.unwrap();
    let garbage = bob
        .submit("/dashboard", "/sites", &[("domain", "not a <domain>")])
        .await;
    let garbage_status = garbage.status();
    let garbage_page = garbage.text().await.unwrap();
    let count: i64 = app
        .db(|conn| sites::table.count().get_result(conn).unwrap())
        .await;

    assert_eq!(again.status(), 409);
    assert!(
        other_case_page.contains("already tracked"),
        "{other_case_page}"
    );
    assert_eq!(garbage_status, 422);
    assert!(
        garbage_page.contains("without a path, port or query"),
        "{garbage_page}"
    );
    assert!(
        garbage_page.contains("value=\"not a &#60;domain&#62;\""),
        "{garbage_page}"
    );
    assert_eq!(count, 1);
}

pub async fn concurrent_adds_of_one_domain_make_one_site(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(app.signed_in_user(&format!("user{i}@example.com")).await);
    }
    let mut tokens = Vec::new();
    for user in &users {
        tokens.push(user.csrf_token("/dashboard").await);
    }

    let adds = users.iter().zip(&tokens).map(|(user, token)| async move {
        let fields = [("domain", "Example.com"), ("csrf_token", token.as_str())];
        user.post_form("/sites", &fields).await
    });
    let statuses: Vec<u16> = futures_util::future::join_all(adds)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let count: i64 = app
        .db(|conn| sites::table.count().get_result(conn).unwrap())
        .await;

    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(count, 1);
}

pub async fn removing_a_site_needs_the_form_token_and_deletes_its_traffic(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let owner = owner_with_site(&app, "ada@example.com", "example.com").await;
    let stranger = app.signed_in_user("eve@example.com").await;
    assert_eq!(pageview(&app, FIREFOX, "https://example.com/").await, 202);
    app.settle_events().await;

    let without_token = owner.post_form("/sites/example.com/delete", &[]).await;
    let by_stranger = stranger
        .submit("/dashboard", "/sites/example.com/delete", &[])
        .await;
    let still_there = owner.get("/sites/example.com").await.status();
    let removed = owner
        .submit("/sites/example.com", "/sites/example.com/delete", &[])
        .await;

    assert_eq!(without_token.status(), 403);
    assert_eq!(by_stranger.status(), 404);
    assert_eq!(still_there, 200);
    assert_eq!(removed.status(), 303);
    assert_eq!(owner.get("/sites/example.com").await.status(), 404);
    assert_eq!(stored_events(&app).await, 0);
}

pub async fn a_range_other_than_day_7d_or_30d_is_a_400_page(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let owner = owner_with_site(&app, "ada@example.com", "example.com").await;

    let bad = owner.get("/sites/example.com?range=year").await;
    let default = owner.get("/sites/example.com").await.status();

    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("day, 7d or 30d"));
    assert_eq!(default, 200);
}

pub async fn the_script_is_small_cached_and_keeps_nothing_in_the_browser(ctx: TestContext) {
    let app = ctx.spawn_app().await;

    let response = app.get("/js/script.js").await;
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap().to_lowercase();

    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert!(body.len() < 1500, "{} bytes", body.len());
    for word in ["cookie", "localstorage", "sessionstorage", "indexeddb"] {
        assert!(!text.contains(word), "the script mentions {word}");
    }
    for needed in ["pushstate", "replacestate", "popstate", "keepalive"] {
        assert!(text.contains(needed), "the script lacks {needed}");
    }
}

pub async fn forwarded_addresses_count_only_when_the_proxy_is_trusted(ctx: TestContext) {
    let trusting = ctx.spawn_app_with(&[("PULSE_TRUST_PROXY", "true")]).await;
    let direct = ctx.spawn_app().await;
    let mut owners = Vec::new();
    for app in [&trusting, &direct] {
        owners.push(owner_with_site(app, "ada@example.com", "example.com").await);
    }

    for app in [&trusting, &direct] {
        for address in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
            let status = app
                .client
                .post(format!("{}/api/event", app.address))
                .header("content-type", "text/plain")
                .header("user-agent", FIREFOX)
                .header("x-forwarded-for", format!("10.9.9.9, {address}"))
                .body(event("example.com", "https://example.com/", ""))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 202);
        }
        app.settle_events().await;
    }

    assert_eq!(figures(&owners[0], "/sites/example.com").await, (3, 3));
    assert_eq!(figures(&owners[1], "/sites/example.com").await, (1, 3));
}

/// 32 senders post for 30 s as distinct visitors; every 202 must be stored exactly once.
pub async fn thirty_two_senders_for_thirty_seconds_lose_and_double_nothing(ctx: TestContext) {
    const SENDERS: usize = 32;
    let app = Arc::new(ctx.spawn_app_with(&[("PULSE_DB_POOL_SIZE", "8")]).await);
    let owner = owner_with_site(&app, "ada@example.com", "example.com").await;
    let running = Arc::new(AtomicBool::new(true));
    let (accepted, other) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));

    let senders: Vec<_> = (0..SENDERS)
        .map(|i| {
            let (app, running) = (app.clone(), running.clone());
            let (accepted, other) = (accepted.clone(), other.clone());
            tokio::spawn(async move {
                let user_agent = format!("{FIREFOX} sender/{i}");
                let mut n = 0u64;
                while running.load(Ordering::Relaxed) {
                    let url = format!("https://example.com/page/{}", n % 20);
                    let body = event("example.com", &url, "https://news.test/");
                    let response = send_raw(&app, Some("text/plain"), &user_agent, body).await;
                    match response.status().as_u16() {
                        202 => accepted.fetch_add(1, Ordering::Relaxed),
                        _ => other.fetch_add(1, Ordering::Relaxed),
                    };
                    n += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(30)).await;
    running.store(false, Ordering::Relaxed);
    for sender in senders {
        sender.await.unwrap();
    }
    app.settle_events().await;

    let accepted = accepted.load(Ordering::Relaxed);
    let stored = stored_events(&app).await;
    eprintln!("{accepted} events accepted, {stored} stored");
    assert!(accepted > 1_000, "only {accepted} events in 30 s");
    assert_eq!(other.load(Ordering::Relaxed), 0);
    assert_eq!(stored, accepted as i64);
    assert_eq!(app.events.stats().written(), accepted);
    assert_eq!(
        figures(&owner, "/sites/example.com").await,
        (SENDERS as i64, accepted as i64)
    );
}

type EventRow = (i64, chrono::NaiveDateTime, i64, String, String);

async fn all_events(app: &TestApp) -> Vec<EventRow> {
    app.db(|conn| {
        site_events::table
            .select((
                site_events::site_id,
                site_events::occurred_at,
                site_events::visitor_id,
                site_events::path,
                site_events::referrer,
            ))
            .order(site_events::id)
            .load(conn)
            .unwrap()
    })
    .await
}

pub async fn demo_traffic_is_deterministic_and_its_roll_ups_are_exact(ctx: TestContext) {
    use pulse::db::schema::{site_daily_pages, site_daily_referrers, site_hourly, site_visitors};
    let first = ctx.spawn_app().await;
    let second = ctx.spawn_app().await;
    let mut owners = Vec::new();
    for app in [&first, &second] {
        owners.push(app.signed_in_user("ada@example.com").await);
        app.signed_in_user("bob@example.com").await;
    }
    let now = first.clock.now();

    let mut made = Vec::new();
    for app in [&first, &second] {
        let demo = app
            .db(move |conn| pulse::sites::demo::add_demo_sites(conn, &[1, 2], 14, 7, now).unwrap())
            .await;
        made.push(demo);
    }
    let events = all_events(&first).await;
    let sums: (i64, i64, i64, i64) = first
        .db(|conn| {
            let hourly: Vec<(i64, i64)> = site_hourly::table
                .select((site_hourly::visitors, site_hourly::pageviews))
                .load(conn)
                .unwrap();
            let pages: Vec<i64> = site_daily_pages::table
                .select(site_daily_pages::pageviews)
                .load(conn)
                .unwrap();
            let sources: Vec<i64> = site_daily_referrers::table
                .select(site_daily_referrers::pageviews)
                .load(conn)
                .unwrap();
            let visitors: i64 = site_visitors::table.count().get_result(conn).unwrap();
            assert_eq!(pages.iter().sum::<i64>(), sources.iter().sum::<i64>());
            (
                hourly.iter().map(|h| h.0).sum(),
                hourly.iter().map(|h| h.1).sum(),
                pages.iter().sum(),
                visitors,
            )
        })
        .await;
    let distinct_visits: std::collections::BTreeSet<(i64, chrono::NaiveDate, i64)> =
        events.iter().map(|e| (e.0, e.1.date(), e.2)).collect();

    assert_eq!(made[0], made[1]);
    assert_eq!(made[0].sites.len(), 2);
    assert_eq!(
        events,
        all_events(&second).await,
        "the same seed gave other events"
    );
    assert!(made[0].pageviews > 500, "{:?}", made[0]);
    assert_eq!(events.len() as u64, made[0].pageviews);
    assert_eq!(sums.0, distinct_visits.len() as i64);
    assert_eq!(sums.3, distinct_visits.len() as i64);
    assert_eq!(sums.1, made[0].pageviews as i64);
    assert_eq!(sums.2, made[0].pageviews as i64);
    let path = format!("/sites/{}?range=30d", made[0].sites[0]);
    let (_, pageviews) = figures(&owners[0], &path).await;
    let first_site = events.iter().filter(|e| e.0 == events[0].0).count();
    assert_eq!(pageviews, first_site as i64);
}

async fn right_now(browser: &Browser) -> i64 {
    let page = browser
        .get("/sites/example.com")
        .await
        .text()
        .await
        .unwrap();
    let marker = "<dt>Visitors right now</dt><dd>";
    let start = page.find(marker).unwrap() + marker.len();
    page[start..].split('<').next().unwrap().parse().unwrap()
}

pub async fn visitors_right_now_are_those_of_the_last_five_minutes(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let owner = owner_with_site(&app, "ada@example.com", "example.com").await;
    assert_eq!(pageview(&app, FIREFOX, "https://example.com/").await, 202);
    app.clock.advance(TimeDelta::minutes(3));
    assert_eq!(pageview(&app, CHROME, "https://example.com/").await, 202);
    assert_eq!(
        pageview(&app, CHROME, "https://example.com/docs").await,
        202
    );
    app.settle_events().await;

    let both = right_now(&owner).await;
    app.clock.advance(TimeDelta::minutes(3));
    let one_left = right_now(&owner).await;
    app.clock.advance(TimeDelta::minutes(3));
    let none_left = right_now(&owner).await;

    assert_eq!((both, one_left, none_left), (2, 1, 0));
}

pub async fn pageviews_still_queued_at_shutdown_are_written(ctx: TestContext) {
    let database_url = ctx.new_database().await;
    let app = ctx.spawn_app_on(&database_url, &[]).await;
    owner_with_site(&app, "ada@example.com", "example.com").await;
    let config = crate::helpers::test_config(&database_url, &[]);
    let clock = pulse::clock::ManualClock::starting_at(app.clock.now());
    let second = pulse::startup::Application::build_with_clock(config, Arc::new(clock))
        .await
        .unwrap();
    let (address, events, handle) = (
        format!("http://127.0.0.1:{}", second.port()),
        second.events(),
        second.handle(),
    );
    let running = tokio::spawn(second.run_until_stopped());

    let sends = (0..200).map(|i| {
        let request = app
            .client
            .post(format!("{address}/api/event"))
            .header("content-type", "text/plain")
            .header("user-agent", format!("{FIREFOX} tab/{i}"))
            .body(event("example.com", "https://example.com/", ""));
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures_util::future::join_all(sends).await;
    let queued_at_stop = events.stats().in_flight();
    handle.stop(true).await;
    running.await.unwrap().unwrap();

    assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");
    eprintln!("{queued_at_stop} pageviews were still queued at the stop");
    assert_eq!(events.stats().in_flight(), 0);
    assert_eq!(stored_events(&app).await, 200);
}
