//! Last seen: when each user was last here, and on which days, for almost no writes.
//!
//! # The design
//!
//! A signed-in request (any page or the app's own JSON, and signing in itself) is a
//! *visit*. Static files, `/health` and tracking events are not.
//!
//! 1. **The throttle lives in the session.** The session cookie carries `seen_at`, the
//!    time this session last reported a visit. While it is younger than
//!    `PULSE_LAST_SEEN_INTERVAL` and on the same UTC day, [`record_visit`] does nothing
//!    at all: no query, no cookie rewrite. That is almost every request.
//! 2. **Otherwise it records a *touch*** (user, time) and stamps the session. A fresh
//!    session has no stamp, so its first request is recorded at once: a user whose
//!    visits are all short is still seen, and signing in records a touch immediately.
//! 3. **The write is per user, not per session.** The recorder sets
//!    `last_seen = now` only where `last_seen` is null or older than `now - interval`,
//!    so a second device, or a second instance, within the interval changes nothing.
//!    The day's `user_visits` row is inserted and ignored when present, which is what
//!    turns one overwritten timestamp into a history of how often people come back.
//!    `updated_at` is never touched, and `last_seen` never moves backwards.
//! 4. **The write never adds latency.** Touches go into a bounded queue; a
//!    [`Recorder`] thread writes them in batches, one transaction each, within a second,
//!    and drains the queue on shutdown.
//!
//! # Trade-offs
//!
//! - `last_seen` is precise to one interval (an hour by default), which is what the
//!   engagement report needs; visit *days* are exact because a new UTC day always
//!   records a touch.
//! - When the database is down or the queue is full, sessions are not stamped, so the
//!   next request offers the touch again; touches already queued are kept, merged per
//!   user, and retried until they land. Failures are logged once per burst.
//! - A crash (not a shutdown) loses the touches still queued, at most about a second's
//!   worth; those sessions record again one interval later.

mod recorder;

pub use recorder::{Recorder, RecorderStats, RecorderWorker, Touch};

use actix_session::SessionExt as _;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage as _, web};
use chrono::{DateTime, TimeDelta, Utc};

use crate::auth::{CurrentUser, SessionState};
use crate::config::LastSeenInterval;
use crate::web::AppState;

/// Records a visit for the signed-in user unless this session reported one recently.
pub async fn record_visit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let user_id = req.extensions().get::<CurrentUser>().map(|user| user.id);
    let app = req.app_data::<web::Data<AppState>>().cloned();
    if let (Some(user_id), Some(app)) = (user_id, app)
        && let LastSeenInterval::Every(interval) = app.config.last_seen_interval
    {
        let session = req.get_session();
        let mut state = SessionState::load(&session);
        let now = app.clock.now();
        if !is_fresh(state.seen_at, now, interval)
            && app.recorder.record(Touch { user_id, at: now })
        {
            state.seen_at = Some(now.timestamp());
            state.save(&session);
        }
    }
    next.call(req).await
}

/// Whether a session stamped at `seen_at` needs no new touch at `now`.
pub fn is_fresh(seen_at: Option<i64>, now: DateTime<Utc>, interval: TimeDelta) -> bool {
    let Some(stamp) = seen_at.and_then(|s| DateTime::<Utc>::from_timestamp(s, 0)) else {
        return false;
    };
    stamp.date_naive() == now.date_naive() && now - stamp < interval
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, h, m, 0).unwrap()
    }

    #[test]
    fn a_session_without_a_stamp_is_never_fresh() {
        assert!(!is_fresh(None, at(10, 0), TimeDelta::hours(1)));
    }

    #[test]
    fn a_stamp_is_fresh_for_one_interval() {
        let stamp = Some(at(10, 0).timestamp());

        assert!(is_fresh(stamp, at(10, 59), TimeDelta::hours(1)));
        assert!(!is_fresh(stamp, at(11, 0), TimeDelta::hours(1)));
        assert!(!is_fresh(stamp, at(10, 0), TimeDelta::zero()));
    }

    #[test]
    fn a_new_utc_day_always_records() {
        let stamp = Some(at(23, 50).timestamp());
        let next_day = Utc.with_ymd_and_hms(2026, 5, 5, 0, 5, 0).unwrap();

        assert!(!is_fresh(stamp, next_day, TimeDelta::hours(1)));
    }
}
