//! Pulse's integration tests: one binary, every test on both backends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "in tests a panic is how a failed expectation is reported"
)]

mod helpers;

mod cli;
mod health;
mod pages;
mod schema;
mod startup;

fn main() -> std::process::ExitCode {
    helpers::run(tests![
        both health::health_is_ok_when_the_database_answers,
        postgres health::health_is_503_while_the_database_refuses_connections,
        both pages::the_landing_page_is_served,
        both pages::an_unknown_address_gets_a_404_page,
        both pages::static_files_are_served_with_their_type,
        both schema::schema_rs_matches_the_migrations,
        sqlite schema::sqlite_connections_get_their_pragmas,
        both startup::a_restart_applies_no_migrations_and_keeps_the_session_key,
        both startup::a_configured_session_key_is_not_stored,
        postgres startup::three_instances_starting_at_once_migrate_exactly_once,
        once startup::an_unusable_sqlite_location_stops_the_start_with_its_reason,
        once startup::an_unreachable_postgres_stops_the_start_within_five_seconds,
        postgres startup::an_unknown_postgres_role_stops_the_start_with_its_reason,
        once cli::a_bad_setting_is_refused_naming_the_variable,
        once cli::help_lists_the_commands,
        both cli::migrate_applies_the_migrations_and_exits,
    ])
}
