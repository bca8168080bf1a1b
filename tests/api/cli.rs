//! The `pulse` binary itself.

use std::process::{Command, Output};

use crate::helpers::TestContext;

/// Runs `pulse` in an empty folder with only the given environment.
async fn pulse(args: &[&str], env: &[(&str, &str)]) -> Output {
    let folder = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_pulse"));
    command
        .args(args)
        .current_dir(folder.path())
        .env_clear()
        .env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    drop(folder);
    output
}

pub async fn a_bad_setting_is_refused_naming_the_variable(_: TestContext) {
    let output = pulse(&["migrate"], &[("PULSE_LAST_SEEN_INTERVAL", "hourly")]).await;

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("PULSE_LAST_SEEN_INTERVAL"), "{stderr}");
    assert!(stderr.contains("90s, 15m, 1h, 7d"), "{stderr}");
}

pub async fn help_lists_the_commands(_: TestContext) {
    let output = pulse(&["--help"], &[]).await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for command in ["serve", "migrate"] {
        assert!(stdout.contains(command), "{stdout}");
    }
}

pub async fn migrate_applies_the_migrations_and_exits(ctx: TestContext) {
    let url = ctx.new_database().await;

    let first = pulse(&["migrate"], &[("DATABASE_URL", &url)]).await;
    let second = pulse(&["migrate"], &[("DATABASE_URL", &url)]).await;

    let first_out = String::from_utf8_lossy(&first.stdout);
    let second_out = String::from_utf8_lossy(&second.stdout);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(first_out.contains("applied"), "{first_out}");
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(second_out.contains("up to date"), "{second_out}");
}

pub async fn demo_refuses_zero_users_with_a_clear_message(_: TestContext) {
    let output = pulse(&["demo", "--users", "0"], &[]).await;

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("--users must be between 1 and"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

pub async fn the_demo_command_fills_users_visits_and_sites(ctx: TestContext) {
    let url = ctx.new_database().await;

    let output = pulse(
        &["demo", "--users", "40", "--days", "14", "--seed", "5"],
        &[("DATABASE_URL", &url)],
    )
    .await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("created 40 demo users"), "{stdout}");
    assert!(
        stdout.contains("and 5 sites (bakery-1.example.com"),
        "{stdout}"
    );
    assert!(stderr.contains("100%"), "no progress bar: {stderr}");
}
