//! The engagement report against known populations, every figure checked.
//!
//! The test clock stands at Monday 2026-03-16 09:30 UTC unless a test moves it.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta, TimeZone as _, Utc};
use diesel::prelude::*;
use pulse::clock::Clock as _;
use pulse::config::Thresholds;
use pulse::db::schema::{user_visits, users};
use pulse::reports;
use serde_json::{Value, json};

use pulse::auth::password::Password;

use crate::helpers::{Browser, TEST_PASSWORD, TestApp, TestContext};

/// A user to insert, with the days they were seen.
#[derive(Clone)]
struct Person {
    email: String,
    created_at: NaiveDateTime,
    last_seen: Option<NaiveDateTime>,
    visits: Vec<NaiveDate>,
}

fn now(app: &TestApp) -> NaiveDateTime {
    app.clock.now().naive_utc()
}

/// Signed up 100 days ago, never seen.
fn person(app: &TestApp, email: &str) -> Person {
    Person {
        email: email.to_owned(),
        created_at: now(app) - TimeDelta::days(100),
        last_seen: None,
        visits: Vec::new(),
    }
}

impl Person {
    /// Seen on each of these days before today (0 is today), last seen at the latest
    /// one, at midnight.
    fn seen_days_ago(mut self, app: &TestApp, days: &[i64]) -> Self {
        let today = now(app).date();
        self.visits = days.iter().map(|d| today - TimeDelta::days(*d)).collect();
        self.last_seen = self
            .visits
            .iter()
            .max()
            .map(|d| d.and_hms_opt(0, 0, 0).unwrap());
        self
    }

    fn last_seen_ago(mut self, app: &TestApp, idle: TimeDelta) -> Self {
        self.last_seen = Some(now(app) - idle);
        self
    }

    fn created_ago(mut self, app: &TestApp, age: TimeDelta) -> Self {
        self.created_at = now(app) - age;
        self
    }

    fn created_at(mut self, at: NaiveDateTime) -> Self {
        self.created_at = at;
        self
    }
}

/// Settings for apps whose report is read over HTTP: the administrator who reads it
/// must not count as a visitor.
const UNTRACKED: &[(&str, &str)] = &[("PULSE_LAST_SEEN_INTERVAL", "off")];

/// Signs in an administrator created long before the report's windows and cohorts, so
/// it adds exactly one account, never seen, to the figures.
async fn admin(app: &TestApp) -> Browser {
    let created_at = now(app) - TimeDelta::days(1000);
    let hash = pulse::auth::password::hash_now(&Password::new(TEST_PASSWORD)).unwrap();
    app.db(move |conn| {
        diesel::insert_into(users::table)
            .values((
                users::email.eq("admin@example.test"),
                users::password_hash.eq(hash),
                users::is_admin.eq(true),
                users::created_at.eq(created_at),
                users::updated_at.eq(created_at),
            ))
            .execute(conn)
            .unwrap();
    })
    .await;
    let browser = app.browser();
    assert_eq!(
        browser
            .login("admin@example.test", TEST_PASSWORD)
            .await
            .status(),
        303
    );
    // The report computed at start-up may predate the administrator; a minute later the
    // cache must compute a new one.
    app.clock.advance(TimeDelta::seconds(61));
    browser
}

async fn insert(app: &TestApp, people: Vec<Person>) {
    app.db(move |conn| {
        for p in people {
            let id: i64 = diesel::insert_into(users::table)
                .values((
                    users::email.eq(&p.email),
                    users::password_hash.eq("!test"),
                    users::is_admin.eq(false),
                    users::created_at.eq(p.created_at),
                    users::updated_at.eq(p.created_at),
                    users::last_seen.eq(p.last_seen),
                ))
                .returning(users::id)
                .get_result(conn)
                .unwrap();
            for day in p.visits {
                diesel::insert_into(user_visits::table)
                    .values((user_visits::user_id.eq(id), user_visits::visited_on.eq(day)))
                    .execute(conn)
                    .unwrap();
            }
        }
    })
    .await;
}

fn default_thresholds() -> Thresholds {
    Thresholds {
        at_risk: TimeDelta::days(7),
        rotting: TimeDelta::days(30),
        lost: TimeDelta::days(90),
    }
}

/// The report as of the app's clock, computed straight from the database.
async fn report(app: &TestApp) -> Value {
    let now = app.clock.now();
    let report = app
        .db(move |conn| reports::compute(conn, now, &default_thresholds()))
        .await
        .unwrap();
    serde_json::to_value(report).unwrap()
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, min, 0)
        .unwrap()
}

pub async fn an_empty_database_reports_zeros_over_http(ctx: TestContext) {
    let app = ctx.spawn_app_with(UNTRACKED).await;
    let admin = admin(&app).await;

    let response = admin.get("/admin/report.json").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["generated_at"], "2026-03-16T09:31:01Z");
    assert_eq!(
        report["users"],
        json!({"total": 1, "signups_7d": 0, "signups_30d": 0})
    );
    assert_eq!(
        report["active"],
        json!({"day": 0, "week": 0, "month": 0, "stickiness": 0.0})
    );
    let histogram: Vec<Value> = ["1", "2-3", "4-7", "8-14", "15-28"]
        .iter()
        .map(|days| json!({"days": days, "users": 0}))
        .collect();
    assert_eq!(
        report["frequency"],
        json!({"window_days": 28, "active_users": 0, "mean_active_days": 0.0,
               "median_active_days": 0.0, "histogram": histogram})
    );
    assert_eq!(
        report["segments"],
        json!({"active": 0, "at_risk": 0, "rotting": 0, "lost": 0, "never_seen": 1})
    );
    let daily = report["daily_active"].as_array().unwrap();
    assert_eq!(daily.len(), 90);
    assert_eq!(daily[0], json!({"day": "2025-12-17", "users": 0}));
    assert_eq!(daily[89], json!({"day": "2026-03-16", "users": 0}));
    let cohorts = report["cohorts"].as_array().unwrap();
    assert_eq!(cohorts.len(), 12);
    assert_eq!(
        cohorts[0],
        json!({"week": "2025-12-29", "size": 0, "retained": vec![0.0; 12]})
    );
    assert_eq!(
        cohorts[11],
        json!({"week": "2026-03-16", "size": 0, "retained": [0.0]})
    );
    assert_eq!(report["rotting_users"], json!([]));
}

pub async fn rows_written_straight_into_the_tables_show_after_a_restart(ctx: TestContext) {
    let app = ctx.spawn_app_with(UNTRACKED).await;
    let ada = person(&app, "ada@example.test").seen_days_ago(&app, &[0, 1, 9]);
    insert(&app, vec![ada]).await;

    let restarted = ctx.spawn_app_on(&app.database_url, UNTRACKED).await;
    let admin = admin(&restarted).await;
    let report: Value = admin.get("/admin/report.json").await.json().await.unwrap();

    assert_eq!(report["users"]["total"], 2, "ada and the administrator");
    assert_eq!(
        report["active"],
        json!({"day": 1, "week": 1, "month": 1, "stickiness": 1.0})
    );
    assert_eq!(report["frequency"]["median_active_days"], 3.0);
    assert_eq!(
        report["daily_active"][88],
        json!({"day": "2026-03-15", "users": 1})
    );
}

pub async fn activity_windows_end_exactly_at_their_boundaries(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let people = [0, 6, 7, 27, 28, 29, 30]
        .iter()
        .map(|d| person(&app, &format!("d{d}@example.test")).seen_days_ago(&app, &[*d]))
        .collect();
    insert(&app, people).await;

    let report = report(&app).await;

    assert_eq!(report["active"]["day"], 1, "D only");
    assert_eq!(report["active"]["week"], 2, "D and D-6, not D-7");
    assert_eq!(report["active"]["month"], 6, "D-29 in, D-30 out");
    assert_eq!(report["active"]["stickiness"], 1.0 / 6.0);
    assert_eq!(report["frequency"]["active_users"], 4, "D-27 in, D-28 out");
    assert_eq!(report["daily_active"][89]["users"], 1);
    assert_eq!(
        report["daily_active"][83],
        json!({"day": "2026-03-10", "users": 1})
    );
    assert_eq!(
        report["daily_active"][60],
        json!({"day": "2026-02-15", "users": 1})
    );
}

pub async fn signups_count_the_last_7_and_30_times_24_hours(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let second = TimeDelta::seconds(1);
    let ages = [
        TimeDelta::zero(),
        TimeDelta::days(7) - second,
        TimeDelta::days(7),
        TimeDelta::days(30) - second,
        TimeDelta::days(30),
    ];
    let people = ages
        .iter()
        .enumerate()
        .map(|(i, age)| person(&app, &format!("u{i}@example.test")).created_ago(&app, *age))
        .collect();
    insert(&app, people).await;

    let report = report(&app).await;

    assert_eq!(
        report["users"],
        json!({"total": 5, "signups_7d": 2, "signups_30d": 4})
    );
    assert_eq!(report["segments"]["never_seen"], 5);
}

pub async fn an_idle_time_at_a_threshold_falls_in_the_older_segment(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let second = TimeDelta::seconds(1);
    let idles = [
        TimeDelta::zero(),
        TimeDelta::days(7) - second,
        TimeDelta::days(7),
        TimeDelta::days(30) - second,
        TimeDelta::days(30),
        TimeDelta::days(90) - second,
        TimeDelta::days(90),
        TimeDelta::days(400),
    ];
    let mut people: Vec<Person> = idles
        .iter()
        .enumerate()
        .map(|(i, idle)| person(&app, &format!("u{i}@example.test")).last_seen_ago(&app, *idle))
        .collect();
    people.push(person(&app, "new@example.test").created_ago(&app, TimeDelta::minutes(5)));
    people.push(person(&app, "old@example.test"));
    insert(&app, people).await;

    let report = report(&app).await;

    assert_eq!(
        report["segments"],
        json!({"active": 2, "at_risk": 2, "rotting": 2, "lost": 2, "never_seen": 2})
    );
    assert_eq!(report["users"]["total"], 10);
    assert_eq!(report["users"]["signups_7d"], 1, "signed up today");
}

pub async fn frequency_gives_the_histogram_mean_and_median(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let days = |n: i64| (0..n).collect::<Vec<i64>>();
    let counts = [1, 2, 3, 4, 8, 15, 28];
    let mut people: Vec<Person> = counts
        .iter()
        .map(|n| person(&app, &format!("f{n}@example.test")).seen_days_ago(&app, &days(*n)))
        .collect();
    // Seen on D-28 and D-29: in the month, outside the frequency window.
    people.push(person(&app, "old@example.test").seen_days_ago(&app, &[28, 29]));
    insert(&app, people).await;

    let odd = report(&app).await;
    insert(
        &app,
        vec![person(&app, "f5@example.test").seen_days_ago(&app, &[27, 20, 5, 4, 1])],
    )
    .await;
    let even = report(&app).await;

    assert_eq!(odd["frequency"]["active_users"], 7);
    assert_eq!(odd["frequency"]["mean_active_days"], 61.0 / 7.0);
    assert_eq!(odd["frequency"]["median_active_days"], 4.0);
    let users: Vec<&Value> = odd["frequency"]["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["users"])
        .collect();
    assert_eq!(
        users,
        [&json!(1), &json!(2), &json!(1), &json!(1), &json!(2)]
    );
    assert_eq!(odd["active"]["month"], 8);
    assert_eq!(even["frequency"]["active_users"], 8);
    assert_eq!(even["frequency"]["median_active_days"], 4.5);
    assert_eq!(even["frequency"]["mean_active_days"], 66.0 / 8.0);
    assert_eq!(
        even["frequency"]["histogram"][2],
        json!({"days": "4-7", "users": 2})
    );
}

pub async fn a_month_boundary_is_counted_in_calendar_days(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 1, 0, 30, 0).unwrap());
    let people = [0, 6, 7, 29, 30]
        .iter()
        .map(|d| person(&app, &format!("d{d}@example.test")).seen_days_ago(&app, &[*d]))
        .chain([person(&app, "sat@example.test").created_at(at(2026, 2, 28, 23, 59))])
        .collect();
    insert(&app, people).await;

    let report = report(&app).await;

    assert_eq!(report["generated_at"], "2026-03-01T00:30:00Z");
    assert_eq!(
        report["active"],
        json!({"day": 1, "week": 2, "month": 4, "stickiness": 0.25})
    );
    assert_eq!(report["daily_active"][0]["day"], "2025-12-02");
    assert_eq!(
        report["daily_active"][89],
        json!({"day": "2026-03-01", "users": 1})
    );
    assert_eq!(
        report["daily_active"][88],
        json!({"day": "2026-02-28", "users": 0})
    );
    assert_eq!(report["users"]["signups_7d"], 1);
    let newest = &report["cohorts"][11];
    assert_eq!(newest["week"], "2026-02-23");
    assert_eq!(newest["size"], 1);
    assert_eq!(report["cohorts"][0]["week"], "2025-12-08");
}

pub async fn cohorts_group_signups_by_monday_weeks_and_count_returns(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let seen = |p: Person, days: Vec<NaiveDate>| Person {
        last_seen: days.iter().max().map(|d| d.and_hms_opt(1, 0, 0).unwrap()),
        visits: days,
        ..p
    };
    let people = vec![
        seen(
            person(&app, "sunday@example.test").created_at(at(2026, 3, 15, 23, 0)),
            vec![day(2026, 3, 15), day(2026, 3, 16)],
        ),
        seen(
            person(&app, "monday@example.test").created_at(at(2026, 3, 9, 0, 0)),
            vec![day(2026, 3, 9)],
        ),
        person(&app, "today@example.test").created_at(at(2026, 3, 16, 8, 0)),
        seen(
            person(&app, "first@example.test").created_at(at(2025, 12, 29, 12, 0)),
            vec![day(2025, 12, 29), day(2026, 1, 14), day(2026, 1, 15)],
        ),
        seen(
            person(&app, "before@example.test").created_at(at(2025, 12, 28, 12, 0)),
            vec![day(2026, 1, 14)],
        ),
    ];
    insert(&app, people).await;

    let report = report(&app).await;

    let cohorts = report["cohorts"].as_array().unwrap();
    let sizes: Vec<i64> = cohorts
        .iter()
        .map(|c| c["size"].as_i64().unwrap())
        .collect();
    assert_eq!(sizes, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1]);
    assert_eq!(cohorts[0]["week"], "2025-12-29");
    let mut first = vec![0.0; 12];
    first[0] = 1.0;
    first[2] = 1.0;
    assert_eq!(cohorts[0]["retained"], json!(first));
    assert_eq!(
        cohorts[10],
        json!({"week": "2026-03-09", "size": 2, "retained": [1.0, 0.5]})
    );
    assert_eq!(
        cohorts[11],
        json!({"week": "2026-03-16", "size": 1, "retained": [0.0]})
    );
}

pub async fn rotting_users_list_the_most_engaged_first_then_the_longest_idle(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let with_visits = |p: Person, n: i64, idle: i64| Person {
        visits: (idle..idle + n)
            .map(|d| now(&app).date() - TimeDelta::days(d))
            .collect(),
        last_seen: Some(now(&app) - TimeDelta::days(idle)),
        ..p
    };
    let people = vec![
        with_visits(person(&app, "ten@example.test"), 5, 10),
        with_visits(person(&app, "twenty@example.test"), 5, 20),
        with_visits(person(&app, "forty@example.test"), 9, 40),
        with_visits(person(&app, "active@example.test"), 20, 1),
        with_visits(person(&app, "lost@example.test"), 30, 95),
        person(&app, "never@example.test"),
    ];
    insert(&app, people).await;

    let report = report(&app).await;

    assert_eq!(
        report["rotting_users"],
        json!([
            {"email": "forty@example.test", "created_at": "2025-12-06T09:30:00Z",
             "last_seen": "2026-02-04T09:30:00Z", "idle_days": 40, "visit_days": 9},
            {"email": "twenty@example.test", "created_at": "2025-12-06T09:30:00Z",
             "last_seen": "2026-02-24T09:30:00Z", "idle_days": 20, "visit_days": 5},
            {"email": "ten@example.test", "created_at": "2025-12-06T09:30:00Z",
             "last_seen": "2026-03-06T09:30:00Z", "idle_days": 10, "visit_days": 5},
        ])
    );
}

pub async fn users_csv_lists_every_user_with_visit_days_and_segment(ctx: TestContext) {
    let app = ctx.spawn_app_with(UNTRACKED).await;
    let admin = admin(&app).await;
    let people = vec![
        person(&app, "ada@example.test").seen_days_ago(&app, &[0, 3]),
        person(&app, "=cmd@example.test").seen_days_ago(&app, &[40]),
        person(&app, "never@example.test"),
    ];
    insert(&app, people).await;

    let response = admin.get("/admin/users.csv").await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        response.text().await.unwrap(),
        "email,created_at,last_seen,visit_days,segment\r\n\
         admin@example.test,2023-06-20T09:30:00Z,,0,never_seen\r\n\
         ada@example.test,2025-12-06T09:31:01Z,2026-03-16T00:00:00Z,2,active\r\n\
         '=cmd@example.test,2025-12-06T09:31:01Z,2026-02-04T00:00:00Z,1,rotting\r\n\
         never@example.test,2025-12-06T09:31:01Z,,0,never_seen\r\n"
    );
}

pub async fn the_admin_page_answers_the_three_questions(ctx: TestContext) {
    let app = ctx.spawn_app_with(UNTRACKED).await;
    let people = vec![
        person(&app, "<b>bold</b>@example.test").seen_days_ago(&app, &[10, 11, 12]),
        person(&app, "ada@example.test").seen_days_ago(&app, &[0, 1, 2]),
    ];
    insert(&app, people).await;
    let restarted = ctx.spawn_app_on(&app.database_url, UNTRACKED).await;
    let admin = admin(&restarted).await;

    let response = admin.get("/admin").await;

    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("How many are active"), "{page}");
    assert!(page.contains("A typical active user comes back on <strong>3 days out of"));
    assert!(page.contains("<svg"));
    assert!(page.contains("<title>Mar 16: 1 active</title>"));
    assert!(page.contains("Weekly retention"));
    assert!(page.contains("idle 7 days to 30 days"));
    assert!(
        page.contains("&#60;b&#62;bold&#60;/b&#62;@example.test"),
        "{page}"
    );
    assert!(!page.contains("<b>bold</b>"));
}

pub async fn rotting_users_are_at_risk_or_rotting_and_at_most_100(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let second = TimeDelta::seconds(1);
    let with = |email: &str, idle: TimeDelta, visits: &[i64]| Person {
        last_seen: Some(now(&app) - idle),
        ..person(&app, email).seen_days_ago(&app, visits)
    };
    let mut people = vec![
        with(
            "active@example.test",
            TimeDelta::days(7) - second,
            &[100, 101, 102, 103, 104],
        ),
        with("at-risk@example.test", TimeDelta::days(7), &[60, 61]),
        with("rotting@example.test", TimeDelta::days(90) - second, &[95]),
        with(
            "lost@example.test",
            TimeDelta::days(90),
            &[100, 101, 102, 103, 104],
        ),
    ];
    people.extend((0..99).map(|i| {
        with(
            &format!("quiet{i:02}@example.test"),
            TimeDelta::days(10) + TimeDelta::hours(i),
            &[],
        )
    }));
    insert(&app, people).await;

    let report = report(&app).await;

    let listed = report["rotting_users"].as_array().unwrap();
    let emails: Vec<&str> = listed
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 100);
    assert_eq!(
        emails[..3],
        [
            "at-risk@example.test",
            "rotting@example.test",
            "quiet98@example.test"
        ]
    );
    assert_eq!(
        emails[99], "quiet01@example.test",
        "the least idle one is left out"
    );
    assert_eq!(listed[1]["idle_days"], 89);
    assert_eq!(report["segments"]["at_risk"], 100);
    assert_eq!(report["segments"]["rotting"], 1);
}

pub async fn the_figures_do_not_depend_on_how_the_visits_are_sliced(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let now = app.clock.now();
    let options = pulse::demo::Options {
        users: 500,
        days: 120,
        seed: 3,
    };
    app.db(move |conn| {
        pulse::demo::run(conn, options, now.naive_utc(), &mut |_, _| {}).unwrap();
        // Gaps in the ids, as deletions leave them.
        diesel::delete(users::table.filter(users::id.gt(100).and(users::id.lt(180))))
            .execute(conn)
            .unwrap();
    })
    .await;

    let (whole, sliced) = app
        .db(move |conn| {
            let t = default_thresholds();
            let whole = reports::compute(conn, now, &t).unwrap();
            let sliced = reports::compute_in_slices(conn, now, &t, 7).unwrap();
            (whole, sliced)
        })
        .await;

    assert_eq!(whole.users.total, 421);
    assert!(whole.active.month > 0 && whole.cohorts.iter().any(|c| c.size > 0));
    assert_eq!(sliced, whole);
}
