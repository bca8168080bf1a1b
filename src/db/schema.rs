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
