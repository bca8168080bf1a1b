//! Logging: the subscriber, and one line per request.

use std::io::IsTerminal as _;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tracing::Instrument as _;
use tracing_subscriber::EnvFilter;

/// Logs to standard error at `info` unless `RUST_LOG` says otherwise.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// One line per request: method, path (never the query, which may carry tokens),
/// status and duration. Everything logged while handling it carries the same span.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let span = tracing::info_span!("request", http.method = %method, http.path = %path);

    let result = next.call(req).instrument(span.clone()).await;

    let status = match &result {
        Ok(response) => response.status().as_u16(),
        Err(err) => err.as_response_error().status_code().as_u16(),
    };
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(
            http.status = status,
            duration_ms = format_args!("{duration_ms:.1}"),
            "{method} {path} {status} in {duration_ms:.1} ms"
        );
    });
    result
}
