//! The last-seen middleware and its recorder, counted in writes rather than seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta, TimeZone as _, Utc};
use diesel::prelude::*;
use pulse::clock::Clock as _;
use pulse::db::schema::{user_visits, users};
use pulse::tracking::Touch;

use crate::helpers::{Backend, TEST_PASSWORD, TestApp, TestContext};

async fn last_seen(app: &TestApp, email: &'static str) -> Option<NaiveDateTime> {
    app.db(move |conn| {
        users::table
            .filter(users::email.eq(email))
            .select(users::last_seen)
            .first(conn)
            .unwrap()
    })
    .await
}

async fn visit_days(app: &TestApp, email: &'static str) -> Vec<NaiveDate> {
    app.db(move |conn| {
        user_visits::table
            .inner_join(users::table)
            .filter(users::email.eq(email))
            .select(user_visits::visited_on)
            .order(user_visits::visited_on)
            .load(conn)
            .unwrap()
    })
    .await
}

pub async fn signing_in_writes_and_the_interval_holds_back_every_other_request(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let browser = app.signed_in_user("ada@example.com").await;
    app.settle().await;
    let writes_after_sign_in = app.last_seen_writes();
    let seen_at_sign_in = last_seen(&app, "ada@example.com").await;
    browser.get("/dashboard").await;

    let mut cookie_rewrites = 0;
    for _ in 0..20 {
        app.clock.advance(TimeDelta::minutes(2));
        let response = browser.get("/dashboard").await;
        assert_eq!(response.status(), 200);
        cookie_rewrites += response.headers().get_all("set-cookie").iter().count();
    }
    app.settle().await;
    let touches_within_interval = app.touches();
    let writes_within_interval = app.last_seen_writes();

    app.clock.advance(TimeDelta::minutes(20));
    browser.get("/dashboard").await;
    app.settle().await;

    assert_eq!(writes_after_sign_in, 1);
    assert_eq!(
        seen_at_sign_in,
        Some(app.clock.now().naive_utc() - TimeDelta::minutes(60))
    );
    assert_eq!(
        touches_within_interval, 1,
        "requests within the interval queued touches"
    );
    assert_eq!(writes_within_interval, 1);
    assert_eq!(
        cookie_rewrites, 0,
        "the cookie was rewritten within the interval"
    );
    assert_eq!(app.last_seen_writes(), 2);
    assert_eq!(
        last_seen(&app, "ada@example.com").await,
        Some(app.clock.now().naive_utc())
    );
}

pub async fn two_devices_within_the_interval_write_once(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let laptop = app.signed_in_user("ada@example.com").await;
    let phone = app.browser();
    phone.login("ada@example.com", TEST_PASSWORD).await;
    app.settle().await;
    let writes_after_two_sign_ins = app.last_seen_writes();

    app.clock.advance(TimeDelta::hours(1));
    laptop.get("/dashboard").await;
    phone.get("/dashboard").await;
    app.settle().await;

    assert_eq!(writes_after_two_sign_ins, 1);
    assert_eq!(
        app.touches(),
        4,
        "each device offers a touch once per interval"
    );
    assert_eq!(app.last_seen_writes(), 2);
}

pub async fn short_visits_on_several_days_leave_one_row_per_day(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let browser = app.signed_in_user("ada@example.com").await;
    let first_day = app.clock.now().date_naive();

    for day in 1..=4 {
        let morning = Utc.from_utc_datetime(&(first_day + TimeDelta::days(day)).into());
        app.clock.set(morning + TimeDelta::hours(8));
        for _ in 0..3 {
            assert_eq!(browser.get("/dashboard").await.status(), 200);
            app.clock.advance(TimeDelta::minutes(3));
        }
    }
    app.settle().await;

    let expected: Vec<NaiveDate> = (0..=4).map(|d| first_day + TimeDelta::days(d)).collect();
    assert_eq!(visit_days(&app, "ada@example.com").await, expected);
    let last_morning = first_day + TimeDelta::days(4);
    assert_eq!(
        last_seen(&app, "ada@example.com").await,
        Some(last_morning.and_hms_opt(8, 0, 0).unwrap())
    );
}

pub async fn a_visit_just_after_midnight_counts_for_the_new_day(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let day = app.clock.now().date_naive();
    app.clock
        .set(Utc.from_utc_datetime(&day.and_hms_opt(23, 50, 0).unwrap()));
    let browser = app.signed_in_user("ada@example.com").await;

    app.clock.advance(TimeDelta::minutes(15));
    browser.get("/dashboard").await;
    app.settle().await;

    assert_eq!(
        visit_days(&app, "ada@example.com").await,
        vec![day, day + TimeDelta::days(1)]
    );
    assert_eq!(
        app.last_seen_writes(),
        1,
        "last_seen keeps its one-interval precision"
    );
}

pub async fn updated_at_never_changes_and_last_seen_never_goes_back(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let browser = app.signed_in_user("ada@example.com").await;
    let updated_at = || {
        app.db(|conn| {
            users::table
                .filter(users::email.eq("ada@example.com"))
                .select((users::id, users::updated_at))
                .first::<(i64, NaiveDateTime)>(conn)
                .unwrap()
        })
    };
    let (user_id, updated_before) = updated_at().await;

    app.clock.advance(TimeDelta::hours(3));
    browser.get("/dashboard").await;
    app.settle().await;
    let seen = last_seen(&app, "ada@example.com").await;
    let earlier = app.clock.now() - TimeDelta::hours(2);
    assert!(app.recorder.record(Touch {
        user_id,
        at: earlier
    }));
    app.settle().await;

    let (_, updated_after) = updated_at().await;
    assert_eq!(updated_before, updated_after);
    assert_eq!(last_seen(&app, "ada@example.com").await, seen);
    assert_eq!(seen, Some(app.clock.now().naive_utc()));
}

pub async fn static_files_and_health_never_count_as_a_visit(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let browser = app.signed_in_user("ada@example.com").await;
    app.settle().await;
    app.clock.advance(TimeDelta::hours(2));
    let before = app.touches();

    browser.get("/static/style.css").await;
    browser.get("/static/favicon.svg").await;
    browser.get("/health").await;
    let after_non_pages = app.touches();
    browser.get("/dashboard").await;

    assert_eq!(after_non_pages, before);
    assert_eq!(app.touches(), before + 1);
}

pub async fn nothing_is_recorded_when_tracking_is_off(ctx: TestContext) {
    let app = ctx
        .spawn_app_with(&[("PULSE_LAST_SEEN_INTERVAL", "off")])
        .await;
    let browser = app.signed_in_user("ada@example.com").await;

    for _ in 0..3 {
        app.clock.advance(TimeDelta::hours(2));
        browser.get("/dashboard").await;
    }

    assert_eq!(app.touches(), 0);
    assert_eq!(last_seen(&app, "ada@example.com").await, None);
    assert!(visit_days(&app, "ada@example.com").await.is_empty());
}

pub async fn a_zero_interval_writes_on_every_request(ctx: TestContext) {
    let app = ctx
        .spawn_app_with(&[("PULSE_LAST_SEEN_INTERVAL", "0s")])
        .await;
    let browser = app.signed_in_user("ada@example.com").await;
    app.settle().await;

    for _ in 0..5 {
        app.clock.advance(TimeDelta::seconds(1));
        browser.get("/dashboard").await;
        app.settle().await;
    }

    assert_eq!(app.last_seen_writes(), 6);
}

/// Holds the write lock of the app's database from another connection for `hold`.
async fn block_writes_for(app: &TestApp, backend: Backend, hold: Duration) {
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::connection::SimpleConnection as _;
        match backend {
            Backend::Sqlite => {
                let path = url.trim_start_matches("sqlite://");
                let mut conn = diesel::SqliteConnection::establish(path).unwrap();
                conn.batch_execute("BEGIN EXCLUSIVE").unwrap();
                std::thread::sleep(hold);
                conn.batch_execute("ROLLBACK").unwrap();
            }
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&url).unwrap();
                conn.batch_execute("BEGIN; LOCK TABLE users, user_visits IN EXCLUSIVE MODE")
                    .unwrap();
                std::thread::sleep(hold);
                conn.batch_execute("ROLLBACK").unwrap();
            }
        }
    })
    .await
    .unwrap();
}

pub async fn pages_answer_while_writes_fail_and_the_visit_lands_afterwards(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let browser = app.signed_in_user("ada@example.com").await;
    app.settle().await;
    app.clock.advance(TimeDelta::hours(1));

    let lock = block_writes_for(&app, ctx.backend, Duration::from_secs(8));
    let pages = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut statuses = vec![browser.get("/dashboard").await.status().as_u16()];
        while app.recorder.stats().batches_failed.load(Ordering::Relaxed) == 0 {
            statuses.push(browser.get("/dashboard").await.status().as_u16());
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        app.clock.advance(TimeDelta::hours(1));
        let touches_before = app.touches();
        statuses.push(browser.get("/dashboard").await.status().as_u16());
        statuses.push(browser.get("/dashboard").await.status().as_u16());
        (statuses, app.touches() - touches_before)
    };
    let ((), (statuses, touches_while_failing)) = tokio::join!(lock, pages);
    app.settle().await;

    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        touches_while_failing, 2,
        "a session was stamped while writes failed"
    );
    assert_eq!(
        last_seen(&app, "ada@example.com").await,
        Some(app.clock.now().naive_utc())
    );
}

/// 8 users with 4 devices each browse for 30 s while the clock moves an hour every
/// 2.5 s: each user must cost exactly one `last_seen` write per hour.
pub async fn thirty_two_clients_for_thirty_seconds_write_once_per_user_per_interval(
    ctx: TestContext,
) {
    const USERS: usize = 8;
    const DEVICES: usize = 4;
    const STEPS: u64 = 12;
    let app = Arc::new(ctx.spawn_app_with(&[("PULSE_DB_POOL_SIZE", "8")]).await);
    let mut clients = Vec::new();
    for user in 0..USERS {
        let email = format!("user{user}@example.com");
        clients.push(app.signed_in_user(&email).await);
        for _ in 1..DEVICES {
            let device = app.browser();
            device.login(&email, TEST_PASSWORD).await;
            clients.push(device);
        }
    }
    let running = Arc::new(AtomicBool::new(true));
    let (requests, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));

    let workers: Vec<_> = clients
        .into_iter()
        .map(|client| {
            let (running, requests, errors) = (running.clone(), requests.clone(), errors.clone());
            tokio::spawn(async move {
                while running.load(Ordering::Relaxed) {
                    let status = client.get("/dashboard").await.status();
                    requests.fetch_add(1, Ordering::Relaxed);
                    if status != 200 {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for _ in 0..STEPS {
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        app.clock.advance(TimeDelta::hours(1));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.store(false, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    app.settle().await;

    let now = app.clock.now().naive_utc();
    let last_seen: Vec<Option<NaiveDateTime>> = app
        .db(|conn| users::table.select(users::last_seen).load(conn).unwrap())
        .await;
    eprintln!(
        "{} requests, {} touches, {} last_seen writes",
        requests.load(Ordering::Relaxed),
        app.touches(),
        app.last_seen_writes()
    );
    assert_eq!(errors.load(Ordering::Relaxed), 0);
    assert_eq!(app.last_seen_writes(), USERS as u64 * (STEPS + 1));
    assert!(
        last_seen.iter().all(|seen| *seen == Some(now)),
        "{last_seen:?}"
    );
}
