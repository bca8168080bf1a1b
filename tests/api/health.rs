use diesel::RunQueryDsl as _;

use crate::helpers::TestContext;

pub async fn health_is_ok_when_the_database_answers(ctx: TestContext) {
    let app = ctx.spawn_app().await;

    let response = app.get("/health").await;

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

pub async fn health_is_503_while_the_database_refuses_connections(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let name = app.database_url.rsplit('/').next().unwrap().to_owned();
    let admin_url = crate::helpers::postgres_url().unwrap();
    let refuse = format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
    );
    let allow = format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true;");
    let admin = move |sql: String| {
        use diesel::Connection as _;
        let mut conn = diesel::PgConnection::establish(&admin_url).unwrap();
        diesel::connection::SimpleConnection::batch_execute(&mut conn, &sql).unwrap();
    };

    let admin_refuse = admin.clone();
    tokio::task::spawn_blocking(move || admin_refuse(refuse))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let down = app.get("/health").await;
    let down_for = started.elapsed();
    tokio::task::spawn_blocking(move || admin(allow))
        .await
        .unwrap();
    let back = app.get("/health").await;

    assert_eq!(down.status(), 503);
    assert!(
        down_for.as_secs() < 10,
        "health took {down_for:?} to answer"
    );
    assert_eq!(back.status(), 200);
    let rows: usize = app
        .db(|conn| diesel::sql_query("SELECT 1").execute(conn).unwrap())
        .await;
    assert_eq!(rows, 1);
}
