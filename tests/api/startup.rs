use std::time::{Duration, Instant};

use diesel::RunQueryDsl as _;
use diesel::prelude::*;
use pulse::db::schema::app_secrets;
use pulse::startup::Application;

use crate::helpers::{TestContext, postgres_url, test_config};

fn migration_count() -> usize {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
    std::fs::read_dir(folder)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count()
}

async fn stored_session_keys(app: &crate::helpers::TestApp) -> Vec<String> {
    app.db(|conn| {
        app_secrets::table
            .select(app_secrets::value)
            .filter(app_secrets::name.eq("session_key"))
            .load::<String>(conn)
            .unwrap()
    })
    .await
}

pub async fn a_restart_applies_no_migrations_and_keeps_the_session_key(ctx: TestContext) {
    let first = ctx.spawn_app().await;
    let key_before = stored_session_keys(&first).await;

    let second = ctx.spawn_app_on(&first.database_url, &[]).await;
    let key_after = stored_session_keys(&second).await;

    assert_eq!(first.migrations_applied.len(), migration_count());
    assert!(
        second.migrations_applied.is_empty(),
        "{:?}",
        second.migrations_applied
    );
    assert_eq!(key_before.len(), 1);
    assert_eq!(key_before, key_after);
}

pub async fn a_configured_session_key_is_not_stored(ctx: TestContext) {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD.encode([42u8; 64]);

    let app = ctx.spawn_app_with(&[("PULSE_SESSION_KEY", &key)]).await;

    assert!(stored_session_keys(&app).await.is_empty());
}

pub async fn three_instances_starting_at_once_migrate_exactly_once(ctx: TestContext) {
    let url = ctx.new_database().await;

    let starts: Vec<_> = (0..3)
        .map(|_| tokio::spawn(Application::build(test_config(&url, &[]))))
        .collect();
    let mut applied = Vec::new();
    for start in starts {
        let app = start.await.unwrap().expect("an instance failed to start");
        applied.extend(app.migrations_applied().to_vec());
        ctx.adopt(app);
    }

    let recorded: i64 = ctx
        .spawn_app_on(&url, &[])
        .await
        .db(|conn| {
            diesel::sql_query("SELECT COUNT(*) AS n FROM __diesel_schema_migrations")
                .get_result::<Count>(conn)
                .unwrap()
                .n
        })
        .await;
    assert_eq!(applied.len(), migration_count(), "applied: {applied:?}");
    assert_eq!(recorded, migration_count() as i64);
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Starts an app that must fail; returns its message and how long it took.
async fn failed_start(database_url: &str) -> (String, Duration) {
    let config = test_config(database_url, &[]);
    let started = Instant::now();
    let outcome = Application::build(config).await;
    let took = started.elapsed();
    match outcome {
        Ok(_) => panic!("{database_url} started"),
        Err(err) => (err.to_string(), took),
    }
}

pub async fn an_unusable_sqlite_location_stops_the_start_with_its_reason(_: TestContext) {
    let folder = tempfile::tempdir().unwrap();
    let not_a_database = folder.path().join("notes.txt");
    std::fs::write(
        &not_a_database,
        "these are not the pages of a database ".repeat(200),
    )
    .unwrap();
    let cases = [
        (
            folder.path().join("missing/pulse.db"),
            "unable to open database file",
        ),
        (folder.path().to_path_buf(), "unable to open database file"),
        (not_a_database, "file is not a database"),
    ];

    for (path, reason) in cases {
        let (message, took) = failed_start(&format!("sqlite://{}", path.display())).await;

        assert!(message.contains(reason), "{message}");
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}

pub async fn an_unreachable_postgres_stops_the_start_within_five_seconds(_: TestContext) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();

    let (refused, refused_took) =
        failed_start(&format!("postgres://pulse@127.0.0.1:{closed_port}/pulse")).await;
    let (timed_out, silent_took) =
        failed_start(&format!("postgres://pulse@127.0.0.1:{silent_port}/pulse")).await;
    drop(silent);

    assert!(refused.contains("Connection refused"), "{refused}");
    assert!(refused_took < Duration::from_secs(5), "{refused_took:?}");
    assert!(timed_out.contains("timeout"), "{timed_out}");
    assert!(silent_took < Duration::from_secs(5), "{silent_took:?}");
}

pub async fn an_unknown_postgres_role_stops_the_start_with_its_reason(_: TestContext) {
    let mut url = url::Url::parse(&postgres_url().unwrap()).unwrap();
    url.set_username("pulse_no_such_role").unwrap();
    url.set_password(Some("wrong")).unwrap();

    let (message, took) = failed_start(url.as_str()).await;

    assert!(
        message.contains("role \"pulse_no_such_role\" does not exist"),
        "{message}"
    );
    assert!(
        !message.contains("wrong"),
        "the password was printed: {message}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}
