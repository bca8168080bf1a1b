use crate::helpers::TestContext;

pub async fn the_landing_page_is_served(ctx: TestContext) {
    let app = ctx.spawn_app().await;

    let response = app.get("/").await;

    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let body = response.text().await.unwrap();
    assert!(
        body.contains("<h1>Know your traffic. Know your users.</h1>"),
        "{body}"
    );
    assert!(body.contains("/static/style.css"));
}

pub async fn an_unknown_address_gets_a_404_page(ctx: TestContext) {
    let app = ctx.spawn_app().await;

    let response = app.get("/no/such/page").await;

    assert_eq!(response.status(), 404);
    let body = response.text().await.unwrap();
    assert!(body.contains("Page not found"), "{body}");
}

pub async fn static_files_are_served_with_their_type(ctx: TestContext) {
    let app = ctx.spawn_app().await;

    let css = app.get("/static/style.css").await;
    let icon = app.get("/static/favicon.svg").await;
    let missing = app.get("/static/nothing.css").await;

    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert_eq!(missing.status(), 404);
}

pub async fn every_response_forbids_other_origins(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let browser = app.signed_in_user("ada@example.com").await;

    for path in [
        "/",
        "/login",
        "/register",
        "/dashboard",
        "/account",
        "/nope",
        "/health",
    ] {
        let response = browser.get(path).await;

        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(policy.starts_with("default-src 'self'"), "{path}: {policy}");
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
}
