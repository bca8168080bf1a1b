//! `pulse demo`: a deterministic, self-consistent synthetic population.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use pulse::clock::Clock as _;
use pulse::db::schema::{user_visits, users};
use pulse::demo::{self, DemoError, Options};

use crate::helpers::{TestApp, TestContext};

type UserRow = (i64, String, String, NaiveDateTime, Option<NaiveDateTime>);

async fn fill(app: &TestApp, seed: u64) -> Result<demo::Summary, DemoError> {
    let now = app.clock.now().naive_utc();
    let options = Options {
        users: 300,
        days: 60,
        seed,
    };
    app.db(move |conn| demo::run(conn, options, now, &mut |_, _| {}))
        .await
}

async fn rows(app: &TestApp) -> (Vec<UserRow>, Vec<(i64, NaiveDate)>) {
    app.db(|conn| {
        let people = users::table
            .order(users::id)
            .select((
                users::id,
                users::email,
                users::password_hash,
                users::created_at,
                users::last_seen,
            ))
            .load(conn)
            .unwrap();
        let visits = user_visits::table
            .order((user_visits::user_id, user_visits::visited_on))
            .select((user_visits::user_id, user_visits::visited_on))
            .load(conn)
            .unwrap();
        (people, visits)
    })
    .await
}

pub async fn the_same_seed_makes_the_same_rows(ctx: TestContext) {
    let first = ctx.spawn_app().await;
    let second = ctx.spawn_app().await;

    fill(&first, 42).await.unwrap();
    fill(&second, 42).await.unwrap();

    let (people, visits) = rows(&first).await;
    assert_eq!(people.len(), 300);
    assert!(visits.len() > 300, "{} visits", visits.len());
    assert_eq!(rows(&second).await, (people, visits));
}

pub async fn another_seed_makes_another_population(ctx: TestContext) {
    let first = ctx.spawn_app().await;
    let second = ctx.spawn_app().await;

    fill(&first, 1).await.unwrap();
    fill(&second, 2).await.unwrap();

    assert_ne!(rows(&first).await.1, rows(&second).await.1);
}

pub async fn demo_users_are_consistent_and_can_not_sign_in(ctx: TestContext) {
    let app = ctx.spawn_app().await;

    let summary = fill(&app, 7).await.unwrap();

    let (people, visits) = rows(&app).await;
    assert_eq!(summary.visits, visits.len() as u64);
    assert_eq!(people[0].1, "demo-000001@example.test");
    assert_eq!(people[299].1, "demo-000300@example.test");
    let now = app.clock.now().naive_utc();
    for (id, _, hash, created_at, last_seen) in &people {
        let days: Vec<NaiveDate> = visits
            .iter()
            .filter(|(user, _)| user == id)
            .map(|(_, day)| *day)
            .collect();
        assert_eq!(hash, "!demo");
        assert_eq!(last_seen.map(|t| t.date()), days.last().copied());
        assert!(*created_at <= now && last_seen.is_none_or(|t| t >= *created_at && t <= now));
    }
}

pub async fn the_demo_refuses_a_database_that_already_has_demo_users(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    fill(&app, 1).await.unwrap();

    let again = fill(&app, 1).await;

    assert!(
        matches!(again, Err(DemoError::AlreadyFilled(300))),
        "{again:?}"
    );
    assert_eq!(rows(&app).await.0.len(), 300);
}
