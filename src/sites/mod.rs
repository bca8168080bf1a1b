//! Sites and their traffic.
//!
//! A signed-in user adds a site by domain; pages of that site load `/js/script.js`,
//! which reports each pageview to `POST /api/event`. Events are checked and hashed on
//! the request ([`ingest`]), queued, and written in batches by one thread ([`writer`])
//! together with exact hourly and daily roll-ups, which the site's dashboard reads
//! ([`stats`]). Visitors are counted without cookies ([`visitor`]).

pub mod chart;
pub mod demo;
pub mod domain;
pub mod ingest;
pub mod pages;
pub mod stats;
pub mod store;
pub mod visitor;
pub mod writer;

pub use visitor::Salts;
pub use writer::{EventStats, EventWriter, EventWriterWorker};
