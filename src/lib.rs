//! Pulse: a small self-hosted analytics dashboard that knows its own users.
//!
//! `main.rs` only parses the command line; everything else lives here so that the
//! integration tests drive the same code the binary runs.

pub mod admin;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod error;
pub mod home;
pub mod layout;
pub mod reports;
pub mod routes;
pub mod sites;
pub mod startup;
pub mod telemetry;
pub mod tracking;
pub mod web;
