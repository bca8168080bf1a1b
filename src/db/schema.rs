//! The tables as both backends create them, kept by hand (see `diesel.toml`).
//!
//! The `schema_matches_migrations` test compares this file with what each backend's
//! migrations produce, so a change to one without the other fails CI.

diesel::table! {
    /// Accounts of people who sign in to Pulse.
    users (id) {
        id -> BigInt,
        /// Trimmed and lower-cased; unique.
        email -> Text,
        /// Argon2id in PHC string format.
        password_hash -> Text,
        is_admin -> Bool,
        created_at -> Timestamp,
        /// Never changed by recording a visit.
        updated_at -> Timestamp,
        /// UTC; null until the first visit.
        last_seen -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// One row per user per UTC day on which the user was seen.
    user_visits (user_id, visited_on) {
        user_id -> BigInt,
        visited_on -> Date,
    }
}

diesel::table! {
    /// Secrets generated once and shared by every instance on the database.
    app_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Signed-in sessions; a session ends when its row is gone or expired.
    user_sessions (id) {
        id -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(user_visits -> users (user_id));
diesel::joinable!(user_sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, user_visits, user_sessions);

diesel::table! {
    /// Sites whose traffic Pulse counts.
    sites (id) {
        id -> BigInt,
        owner_id -> BigInt,
        /// Lower-case host name; unique across the instance.
        domain -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// One secret salt per UTC day for the visitor hash.
    site_salts (day) {
        day -> Date,
        /// Base64 of 32 random bytes.
        salt -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Every pageview.
    site_events (id) {
        id -> BigInt,
        site_id -> BigInt,
        occurred_at -> Timestamp,
        /// Keyed hash; not linkable across days.
        visitor_id -> BigInt,
        path -> Text,
        /// Referring host; empty for direct.
        referrer -> Text,
    }
}

diesel::table! {
    /// Each visitor once per site and UTC day.
    site_visitors (site_id, day, visitor_id) {
        site_id -> BigInt,
        day -> Date,
        visitor_id -> BigInt,
    }
}

diesel::table! {
    /// Visitors first seen that day, and pageviews, per site and UTC hour.
    site_hourly (site_id, hour) {
        site_id -> BigInt,
        hour -> Timestamp,
        visitors -> BigInt,
        pageviews -> BigInt,
    }
}

diesel::table! {
    /// Pageviews per site, UTC day and path.
    site_daily_pages (site_id, day, path) {
        site_id -> BigInt,
        day -> Date,
        path -> Text,
        pageviews -> BigInt,
    }
}

diesel::table! {
    /// Pageviews per site, UTC day and referring host.
    site_daily_referrers (site_id, day, referrer) {
        site_id -> BigInt,
        day -> Date,
        referrer -> Text,
        pageviews -> BigInt,
    }
}

diesel::table! {
    /// Visitors of the last minutes, one row each, for "visitors right now".
    site_recent_visitors (site_id, visitor_id) {
        site_id -> BigInt,
        visitor_id -> BigInt,
        last_seen -> Timestamp,
    }
}

diesel::joinable!(sites -> users (owner_id));
diesel::joinable!(site_recent_visitors -> sites (site_id));
diesel::joinable!(site_events -> sites (site_id));
diesel::joinable!(site_visitors -> sites (site_id));
diesel::joinable!(site_hourly -> sites (site_id));
diesel::joinable!(site_daily_pages -> sites (site_id));
diesel::joinable!(site_daily_referrers -> sites (site_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    sites,
    site_events,
    site_visitors,
    site_hourly,
    site_daily_pages,
    site_daily_referrers,
    site_recent_visitors,
);
