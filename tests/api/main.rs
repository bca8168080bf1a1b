//! Pulse's integration tests: one binary, every test on both backends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "in tests a panic is how a failed expectation is reported"
)]

mod helpers;

mod cli;
mod demo;
mod health;
mod pages;
mod reports;
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
        once cli::demo_refuses_zero_users_with_a_clear_message,
        both reports::an_empty_database_reports_zeros_over_http,
        both reports::rows_written_straight_into_the_tables_show_after_a_restart,
        both reports::activity_windows_end_exactly_at_their_boundaries,
        both reports::signups_count_the_last_7_and_30_times_24_hours,
        both reports::an_idle_time_at_a_threshold_falls_in_the_older_segment,
        both reports::frequency_gives_the_histogram_mean_and_median,
        both reports::a_month_boundary_is_counted_in_calendar_days,
        both reports::cohorts_group_signups_by_monday_weeks_and_count_returns,
        both reports::rotting_users_list_the_most_engaged_first_then_the_longest_idle,
        both reports::rotting_users_are_at_risk_or_rotting_and_at_most_100,
        both reports::the_figures_do_not_depend_on_how_the_visits_are_sliced,
        both reports::users_csv_lists_every_user_with_visit_days_and_segment,
        both reports::the_admin_page_answers_the_three_questions,
        both demo::the_same_seed_makes_the_same_rows,
        both demo::another_seed_makes_another_population,
        both demo::demo_users_are_consistent_and_can_not_sign_in,
        both demo::the_demo_refuses_a_database_that_already_has_demo_users,
    ])
}
