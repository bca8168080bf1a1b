//! Accounts: registration, sign-in, sessions that really end, CSRF and throttling.

use std::time::Instant;

use chrono::TimeDelta;
use diesel::prelude::*;
use pulse::db::schema::users;

use crate::helpers::{COOKIE, TEST_PASSWORD, TestApp, TestContext};

async fn count_users(app: &TestApp) -> i64 {
    app.db(|conn| users::table.count().get_result::<i64>(conn).unwrap())
        .await
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

pub async fn register_sign_in_see_the_dashboard_and_sign_out(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let browser = app.browser();

    let registered = browser.register("  Ada@Example.com ", TEST_PASSWORD).await;
    let dashboard = browser.get("/dashboard").await.text().await.unwrap();
    let signed_out = browser.logout().await;
    let after_logout = browser.is_signed_in().await;
    let signed_in = browser.login("ada@example.com", TEST_PASSWORD).await;

    assert_eq!(registered.status(), 303);
    assert_eq!(location(&registered), "/dashboard");
    assert!(
        dashboard.contains("Signed in as ada@example.com"),
        "{dashboard}"
    );
    assert!(
        dashboard.contains("Welcome to Pulse"),
        "flash missing: {dashboard}"
    );
    assert_eq!(signed_out.status(), 303);
    assert!(!after_logout);
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), "/dashboard");
    assert!(browser.is_signed_in().await);
}

pub async fn the_first_account_is_an_administrator_and_the_second_is_not(ctx: TestContext) {
    let app = ctx.spawn_app().await;

    let first = app.signed_in_user("first@example.com").await;
    let second = app.signed_in_user("second@example.com").await;

    let admins: Vec<(String, bool)> = app
        .db(|conn| {
            users::table
                .select((users::email, users::is_admin))
                .order(users::id)
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(
        admins,
        vec![
            ("first@example.com".to_owned(), true),
            ("second@example.com".to_owned(), false)
        ]
    );
    assert_eq!(first.get("/admin").await.status(), 200);
    assert_eq!(first.get("/admin/report.json").await.status(), 200);
    for path in [
        "/admin",
        "/admin/report.json",
        "/admin/users.csv",
        "/admin/anything",
    ] {
        assert_eq!(second.get(path).await.status(), 404, "{path}");
    }
}

pub async fn anonymous_visitors_are_sent_to_sign_in_and_back(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    app.signed_in_user("ada@example.com").await;
    let browser = app.browser();

    let dashboard = browser.get("/dashboard").await;
    let admin = browser.get("/admin/report.json").await;
    let form = browser
        .get("/login?next=%2Faccount")
        .await
        .text()
        .await
        .unwrap();
    let token = crate::helpers::extract_csrf_token(&form).unwrap();
    let signed_in = browser
        .post_form(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", TEST_PASSWORD),
                ("next", "/account"),
                ("csrf_token", &token),
            ],
        )
        .await;

    assert_eq!(dashboard.status(), 303);
    assert_eq!(location(&dashboard), "/login?next=%2Fdashboard");
    assert_eq!(location(&admin), "/login?next=%2Fadmin%2Freport.json");
    assert!(form.contains("value=\"/account\""), "{form}");
    assert_eq!(location(&signed_in), "/account");
}

pub async fn next_never_leaves_the_site(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    app.signed_in_user("ada@example.com").await;
    let browser = app.browser();
    let token = browser.csrf_token("/login").await;

    let response = browser
        .post_form(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", TEST_PASSWORD),
                ("next", "//evil.example/steal"),
                ("csrf_token", &token),
            ],
        )
        .await;

    assert_eq!(location(&response), "/dashboard");
}

pub async fn the_session_cookie_is_locked_down_and_renewed_at_sign_in(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    app.signed_in_user("ada@example.com").await;
    let browser = app.browser();
    let token = browser.csrf_token("/login").await;
    let before = browser.cookie().expect("the sign-in form sets a cookie");

    let response = browser
        .post_form(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", TEST_PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let after = browser.cookie().unwrap();
    browser.set_cookie(Some(before.clone()));
    let pre_login_cookie_signed_in = browser.is_signed_in().await;

    assert!(set_cookie.starts_with(&format!("{COOKIE}=")));
    for attribute in [
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=1209600",
    ] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} missing: {set_cookie}"
        );
    }
    assert_ne!(before, after);
    assert!(after.len() < 512, "cookie of {} bytes", after.len());
    assert!(!pre_login_cookie_signed_in);
}

pub async fn a_saved_cookie_replayed_after_sign_out_is_anonymous(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let browser = app.signed_in_user("ada@example.com").await;
    let saved = browser.cookie();

    browser.logout().await;
    let thief = app.browser();
    thief.set_cookie(saved);

    assert!(!thief.is_signed_in().await);
}

pub async fn a_password_change_ends_every_other_session(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let laptop = app.signed_in_user("ada@example.com").await;
    let phone = app.browser();
    phone.login("ada@example.com", TEST_PASSWORD).await;
    let saved_phone_cookie = phone.cookie();
    let new_password = "a brand new passphrase";

    let changed = laptop
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", TEST_PASSWORD),
                ("new_password", new_password),
            ],
        )
        .await;
    let replay = app.browser();
    replay.set_cookie(saved_phone_cookie);

    assert_eq!(changed.status(), 303);
    assert!(
        laptop.is_signed_in().await,
        "the session that changed it stays"
    );
    assert!(!phone.is_signed_in().await);
    assert!(!replay.is_signed_in().await);
    assert_eq!(
        app.browser()
            .login("ada@example.com", TEST_PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.browser()
            .login("ada@example.com", new_password)
            .await
            .status(),
        303
    );
}

pub async fn signing_out_everywhere_ends_every_session(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let laptop = app.signed_in_user("ada@example.com").await;
    let phone = app.browser();
    phone.login("ada@example.com", TEST_PASSWORD).await;

    let response = laptop
        .submit("/account", "/account/sign-out-everywhere", &[])
        .await;

    assert_eq!(response.status(), 303);
    assert!(!laptop.is_signed_in().await);
    assert!(!phone.is_signed_in().await);
}

pub async fn a_session_ends_after_its_absolute_lifetime(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let browser = app.signed_in_user("ada@example.com").await;

    app.clock
        .advance(TimeDelta::days(14) - TimeDelta::seconds(1));
    let just_before = browser.is_signed_in().await;
    app.clock.advance(TimeDelta::seconds(1));
    let at_the_end = browser.is_signed_in().await;

    assert!(just_before);
    assert!(!at_the_end);
}

pub async fn broken_cookies_are_anonymous_and_never_an_error(ctx: TestContext) {
    use base64::Engine as _;
    let app = ctx.spawn_app().await;
    let browser = app.signed_in_user("ada@example.com").await;
    let good = browser.cookie().unwrap();
    let mut tampered = good.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let other_app = ctx.spawn_app().await;
    let other_key_cookie = other_app
        .signed_in_user("ada@example.com")
        .await
        .cookie()
        .unwrap();
    let junk = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 6 * 1024]);

    let cookies: Vec<(&str, Vec<u8>)> = vec![
        ("tampered", tampered),
        ("truncated", good.as_bytes()[..good.len() / 2].to_vec()),
        ("other key", other_key_cookie.into_bytes()),
        ("8 KB junk", junk.into_bytes()),
        ("non-UTF-8", vec![0xC3, 0x28, 0xFF, 0xFE, b'a']),
        ("empty", Vec::new()),
    ];
    for (kind, value) in cookies {
        let mut header = format!("{COOKIE}=").into_bytes();
        header.extend(value);
        let request = reqwest::Client::new()
            .get(format!("{}/dashboard", app.address))
            .header(
                "cookie",
                reqwest::header::HeaderValue::from_bytes(&header).unwrap(),
            );
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .execute(request.build().unwrap())
            .await
            .unwrap();

        assert_eq!(response.status(), 303, "{kind} cookie");
        assert!(location(&response).starts_with("/login"), "{kind} cookie");
    }
}

pub async fn concurrent_registrations_of_one_address_make_one_account(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let spellings = [
        "ada@example.com",
        "ADA@example.com",
        "Ada@Example.Com",
        "aDa@EXAMPLE.com",
    ];
    let mut browsers = Vec::new();
    for n in 0..20 {
        let browser = app.browser();
        let token = browser.csrf_token("/register").await;
        browsers.push((browser, token, spellings[n % spellings.len()]));
    }

    let attempts: Vec<_> = browsers
        .into_iter()
        .map(|(browser, token, email)| {
            tokio::spawn(async move {
                let fields = [
                    ("email", email),
                    ("password", TEST_PASSWORD),
                    ("csrf_token", &token),
                ];
                browser
                    .post_form("/register", &fields)
                    .await
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }

    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [303, 409, 422].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(count_users(&app).await, 1);
}

pub async fn bad_input_gets_a_4xx_with_a_message_and_no_account(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let browser = app.browser();
    let token = browser.csrf_token("/register").await;
    let long_email = format!("{}@example.com", "a".repeat(243));
    let long_password = "p".repeat(129);
    let form = |email: &str, password: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("email", email),
                ("password", password),
                ("csrf_token", &token),
            ])
            .finish()
            .into_bytes()
    };
    let urlencoded = "application/x-www-form-urlencoded";
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("empty fields", urlencoded, form("", "")),
        ("whitespace fields", urlencoded, form("   ", "            ")),
        (
            "255-byte email",
            urlencoded,
            form(&long_email, TEST_PASSWORD),
        ),
        (
            "129-character password",
            urlencoded,
            form("ada@example.com", &long_password),
        ),
        (
            "NUL in the email",
            urlencoded,
            form("ada\0@example.com", TEST_PASSWORD),
        ),
        (
            "control character",
            urlencoded,
            form("ada@example.com", "twelve chars\u{1b}!"),
        ),
        (
            "invalid UTF-8",
            urlencoded,
            format!("email=%FF%FEada%40example.com&password=x&csrf_token={token}").into_bytes(),
        ),
        ("1 MB body", urlencoded, vec![b'a'; 1024 * 1024]),
        (
            "duplicate fields",
            urlencoded,
            format!("email=a%40b.test&email=c%40d.test&password=x&csrf_token={token}").into_bytes(),
        ),
        (
            "missing field",
            urlencoded,
            format!("email=a%40b.test&csrf_token={token}").into_bytes(),
        ),
        (
            "wrong content type",
            "application/json",
            br#"{"email":"a@b.test"}"#.to_vec(),
        ),
        (
            "HTML",
            urlencoded,
            form("<script>alert(1)</script>@x.test", TEST_PASSWORD),
        ),
        (
            "SQL",
            urlencoded,
            form("a@b.test' OR '1'='1", TEST_PASSWORD),
        ),
    ];

    for (case, content_type, body) in cases {
        let response = browser.post_raw("/register", content_type, body).await;
        let status = response.status().as_u16();
        let page = response.text().await.unwrap();

        assert!((400..500).contains(&status), "{case}: {status}");
        assert!(
            page.contains("class=\"error\"") || page.contains("<h1>"),
            "{case}: {page}"
        );
        assert!(
            !page.contains("<script>alert(1)</script>"),
            "{case}: unescaped: {page}"
        );
    }
    assert_eq!(count_users(&app).await, 0);
    let html = browser
        .register("<b>bold</b>@x.test", TEST_PASSWORD)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("&#60;b&#62;bold&#60;/b&#62;") || html.contains("&lt;b&gt;"),
        "{html}"
    );
}

pub async fn a_failed_form_keeps_the_email_but_never_the_password(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let browser = app.browser();

    let response = browser.register("ada@example.com", "too short").await;
    let page = response.text().await.unwrap();

    assert!(page.contains("value=\"ada@example.com\""), "{page}");
    assert!(!page.contains("too short"), "{page}");
    assert!(page.contains("at least 12 characters"), "{page}");
}

pub async fn a_post_without_the_token_or_from_another_site_is_refused(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let browser = app.signed_in_user("ada@example.com").await;
    let token = browser.csrf_token("/account").await;

    let without_token = browser.post_form("/logout", &[]).await;
    let wrong_token = browser
        .post_form("/logout", &[("csrf_token", "forged")])
        .await;
    let foreign = browser.send(
        reqwest::Client::new()
            .post(format!("{}/logout", browser.address))
            .header("origin", "https://evil.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf_token={token}")),
    );
    let foreign = foreign.await;
    let cross_site = browser.send(
        reqwest::Client::new()
            .post(format!("{}/logout", browser.address))
            .header("sec-fetch-site", "cross-site")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf_token={token}")),
    );
    let cross_site = cross_site.await;

    for (case, response) in [
        ("no token", without_token),
        ("wrong token", wrong_token),
        ("foreign origin", foreign),
        ("cross-site fetch", cross_site),
    ] {
        assert_eq!(response.status(), 403, "{case}");
        let page = response.text().await.unwrap();
        assert!(page.contains("nothing was changed"), "{case}: {page}");
    }
    assert!(browser.is_signed_in().await);
}

pub async fn the_eleventh_wrong_password_for_an_email_is_429(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    app.signed_in_user("ada@example.com").await;
    let browser = app.browser();

    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(browser.login("ada@example.com", "not the password").await);
    }
    let right_password_while_blocked = browser.login("ada@example.com", TEST_PASSWORD).await;
    app.clock.advance(TimeDelta::minutes(15));
    let after_the_window = browser.login("ada@example.com", TEST_PASSWORD).await;

    let codes: Vec<u16> = statuses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(codes[..10], [401; 10]);
    assert_eq!(codes[10], 429);
    let retry_after: i64 = statuses[10].headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert_eq!(right_password_while_blocked.status(), 429);
    assert_eq!(after_the_window.status(), 303);
}

/// Unknown emails are verified against a dummy hash, so timing reveals nothing.
pub async fn an_unknown_email_costs_the_same_as_a_wrong_password(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    app.signed_in_user("ada@example.com").await;
    let browser = app.browser();
    let token = browser.csrf_token("/login").await;
    let attempt = |email: &'static str| {
        let browser = browser.clone();
        let token = token.clone();
        async move {
            let fields = [
                ("email", email),
                ("password", "wrong password!"),
                ("csrf_token", &token),
            ];
            let started = Instant::now();
            let response = browser.post_form("/login", &fields).await;
            assert_eq!(response.status(), 401);
            started.elapsed()
        }
    };

    let mut ratios = Vec::new();
    for round in 0..61 {
        // A new throttle window each round; alternating order cancels warm-up effects,
        // and comparing each pair taken back to back cancels load from other tests.
        app.clock.advance(TimeDelta::minutes(16));
        let (known, unknown) = if round % 2 == 0 {
            let known = attempt("ada@example.com").await;
            (known, attempt("nobody@example.com").await)
        } else {
            let unknown = attempt("nobody@example.com").await;
            (attempt("ada@example.com").await, unknown)
        };
        ratios.push(known.as_secs_f64() / unknown.as_secs_f64());
    }

    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[ratios.len() / 2];
    assert!(
        (0.8..=1.25).contains(&ratio),
        "median ratio {ratio:.3}, all {ratios:.3?}"
    );
}

/// `pulse user create` and `pulse user promote`, against the app's database.
pub async fn the_command_line_creates_and_promotes_accounts(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let database_url = app.database_url.clone();
    let run = |args: &'static [&'static str]| {
        let database_url = database_url.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
                .args(args)
                .env_clear()
                .env("DATABASE_URL", database_url)
                .env("PULSE_PASSWORD", TEST_PASSWORD)
                .env("RUST_LOG", "warn")
                .output()
                .unwrap()
        })
    };

    let created = run(&["user", "create", "Ops@Example.com"]).await.unwrap();
    let duplicate = run(&["user", "create", "ops@example.com"]).await.unwrap();
    let promoted = run(&["user", "promote", "ops@example.com"]).await.unwrap();
    let missing = run(&["user", "promote", "nobody@example.com"])
        .await
        .unwrap();
    let signed_in = app.browser().login("ops@example.com", TEST_PASSWORD).await;

    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(String::from_utf8_lossy(&created.stdout).contains("created ops@example.com"));
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already has an account"));
    assert!(promoted.status.success());
    assert!(!missing.status.success());
    assert_eq!(signed_in.status(), 303);
    let is_admin: bool = app
        .db(|conn| {
            users::table
                .filter(users::email.eq("ops@example.com"))
                .select(users::is_admin)
                .first(conn)
                .unwrap()
        })
        .await;
    assert!(is_admin);
}
