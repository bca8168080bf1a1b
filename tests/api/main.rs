//! Pulse's integration tests: one binary, every test on both backends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "in tests a panic is how a failed expectation is reported"
)]

mod helpers;

mod auth;
mod browser;
mod cli;
mod demo;
mod faults;
mod health;
mod instances;
mod last_seen;
mod pages;
mod reports;
mod schema;
mod sites;
mod startup;

fn main() -> std::process::ExitCode {
    helpers::run(tests![
        both health::health_is_ok_when_the_database_answers,
        postgres health::health_is_503_while_the_database_refuses_connections,
        both pages::the_landing_page_is_served,
        both pages::an_unknown_address_gets_a_404_page,
        both pages::static_files_are_served_with_their_type,
        both pages::every_response_forbids_other_origins,
        both schema::schema_rs_matches_the_migrations,
        sqlite schema::sqlite_connections_get_their_pragmas,
        both startup::a_restart_applies_no_migrations_and_keeps_the_session_key,
        both startup::a_configured_session_key_is_not_stored,
        postgres startup::three_instances_starting_at_once_migrate_exactly_once,
        once startup::an_unusable_sqlite_location_stops_the_start_with_its_reason,
        once startup::an_unreachable_postgres_stops_the_start_within_five_seconds,
        postgres startup::an_unknown_postgres_role_stops_the_start_with_its_reason,
        both auth::register_sign_in_see_the_dashboard_and_sign_out,
        both auth::the_first_account_is_an_administrator_and_the_second_is_not,
        both auth::anonymous_visitors_are_sent_to_sign_in_and_back,
        both auth::next_never_leaves_the_site,
        both auth::the_session_cookie_is_locked_down_and_renewed_at_sign_in,
        both auth::a_saved_cookie_replayed_after_sign_out_is_anonymous,
        both auth::a_password_change_ends_every_other_session,
        both auth::signing_out_everywhere_ends_every_session,
        both auth::a_session_ends_after_its_absolute_lifetime,
        both auth::broken_cookies_are_anonymous_and_never_an_error,
        both auth::concurrent_registrations_of_one_address_make_one_account,
        both auth::bad_input_gets_a_4xx_with_a_message_and_no_account,
        both auth::a_failed_form_keeps_the_email_but_never_the_password,
        both auth::a_post_without_the_token_or_from_another_site_is_refused,
        both auth::the_eleventh_wrong_password_for_an_email_is_429,
        both auth::an_unknown_email_costs_the_same_as_a_wrong_password,
        both auth::the_command_line_creates_and_promotes_accounts,
        both last_seen::signing_in_writes_and_the_interval_holds_back_every_other_request,
        both last_seen::two_devices_within_the_interval_write_once,
        both last_seen::short_visits_on_several_days_leave_one_row_per_day,
        both last_seen::a_visit_just_after_midnight_counts_for_the_new_day,
        both last_seen::updated_at_never_changes_and_last_seen_never_goes_back,
        both last_seen::static_files_and_health_never_count_as_a_visit,
        both last_seen::nothing_is_recorded_when_tracking_is_off,
        both last_seen::a_zero_interval_writes_on_every_request,
        both last_seen::pages_answer_while_writes_fail_and_the_visit_lands_afterwards,
        sqlite last_seen::thirty_two_clients_for_thirty_seconds_write_once_per_user_per_interval,
        both instances::three_instances_share_sessions_and_write_last_seen_once_per_interval,
        both instances::one_browser_alternating_between_instances_writes_once_per_interval,
        postgres faults::pages_answer_503_while_postgres_is_away_and_recover,
        both faults::sigterm_finishes_requests_and_drains_the_recorder,
        sqlite faults::kill_9_under_load_leaves_sqlite_intact_and_loses_at_most_a_second,
        browser browser::a_visitor_registers_signs_out_and_signs_back_in,
        browser browser::the_administrator_sees_the_engagement_report_with_its_charts,
        browser browser::a_pageview_from_a_page_with_the_script_shows_on_the_site_dashboard,
        both sites::an_event_from_a_page_with_the_script_shows_on_the_site_dashboard,
        both sites::the_same_visitor_counts_once_a_day_and_again_the_next_day,
        both sites::bad_events_get_their_documented_answer_and_nothing_is_stored,
        both sites::another_users_site_answers_404_and_an_administrator_sees_it,
        both sites::a_taken_domain_is_409_and_garbage_is_422_keeping_what_was_typed,
        both sites::concurrent_adds_of_one_domain_make_one_site,
        both sites::removing_a_site_needs_the_form_token_and_deletes_its_traffic,
        both sites::visitors_right_now_are_those_of_the_last_five_minutes,
        both sites::pageviews_still_queued_at_shutdown_are_written,
        both sites::a_range_other_than_day_7d_or_30d_is_a_400_page,
        both sites::the_script_is_small_cached_and_keeps_nothing_in_the_browser,
        both sites::forwarded_addresses_count_only_when_the_proxy_is_trusted,
        both sites::demo_traffic_is_deterministic_and_its_roll_ups_are_exact,
        sqlite sites::thirty_two_senders_for_thirty_seconds_lose_and_double_nothing,
        once cli::a_bad_setting_is_refused_naming_the_variable,
        once cli::help_lists_the_commands,
        both cli::migrate_applies_the_migrations_and_exits,
        sqlite cli::the_demo_command_fills_users_visits_and_sites,
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
