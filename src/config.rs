//! Settings, read once from the environment (or `.env`) and validated before anything
//! starts. A bad value stops the start with the variable's name and what it accepts.

use std::net::SocketAddr;

use base64::Engine as _;
use chrono::TimeDelta;

use crate::db::DatabaseUrl;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub bind: SocketAddr,
    /// `None`: generate one and keep it in the database.
    pub session_key: Option<SessionKey>,
    pub last_seen_interval: LastSeenInterval,
    pub thresholds: Thresholds,
    pub db_pool_size: u32,
    /// How long a sign-in lasts, however active the session is.
    pub session_lifetime: TimeDelta,
    /// Whether `X-Forwarded-For` names the client: only behind a proxy that sets it.
    pub trust_proxy: bool,
}

/// Key material for the session cookie; never printed.
#[derive(Clone)]
pub struct SessionKey(pub Vec<u8>);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

/// How often a user's visit is written down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastSeenInterval {
    /// Record nothing.
    Off,
    /// At most one write per user per this much time; zero writes on every request.
    Every(TimeDelta),
}

/// Idle times at which an account moves from active to at risk, rotting and lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub at_risk: TimeDelta,
    pub rotting: TimeDelta,
    pub lost: TimeDelta,
}

/// The smallest key `actix_web::cookie::Key` accepts.
pub const SESSION_KEY_MIN_BYTES: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

const DURATION_FORMAT: &str =
    "accepts a whole number and a unit: s, m, h or d (as in 90s, 15m, 1h, 7d)";

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can pass their own.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let database_url = get("DATABASE_URL").unwrap_or_else(|| "sqlite://pulse.db".into());
        let database_url = DatabaseUrl::parse(&database_url)
            .map_err(|e| ConfigError::new("DATABASE_URL", e.to_string()))?;

        let bind = get("PULSE_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind = bind.trim().parse().map_err(|_| {
            ConfigError::new(
                "PULSE_BIND",
                format!("accepts an address and port such as 127.0.0.1:8080, got `{bind}`"),
            )
        })?;

        let session_key = get("PULSE_SESSION_KEY")
            .map(|v| parse_session_key(&v))
            .transpose()?;

        let last_seen_interval = match get("PULSE_LAST_SEEN_INTERVAL") {
            None => LastSeenInterval::Every(TimeDelta::hours(1)),
            Some(v) if v.trim() == "off" => LastSeenInterval::Off,
            Some(v) => LastSeenInterval::Every(parse_duration(&v).ok_or_else(|| {
                ConfigError::new(
                    "PULSE_LAST_SEEN_INTERVAL",
                    format!("{DURATION_FORMAT}, or off; got `{v}`"),
                )
            })?),
        };

        let threshold = |name: &'static str, default: TimeDelta| match get(name) {
            None => Ok(default),
            Some(v) => parse_duration(&v)
                .filter(|d| *d > TimeDelta::zero())
                .ok_or_else(|| ConfigError::new(name, format!("{DURATION_FORMAT}; got `{v}`"))),
        };
        let thresholds = Thresholds {
            at_risk: threshold("PULSE_AT_RISK_AFTER", TimeDelta::days(7))?,
            rotting: threshold("PULSE_ROTTING_AFTER", TimeDelta::days(30))?,
            lost: threshold("PULSE_LOST_AFTER", TimeDelta::days(90))?,
        };
        if thresholds.at_risk >= thresholds.rotting || thresholds.rotting >= thresholds.lost {
            return Err(ConfigError::new(
                "PULSE_ROTTING_AFTER",
                "the thresholds must grow: PULSE_AT_RISK_AFTER < PULSE_ROTTING_AFTER < \
                 PULSE_LOST_AFTER",
            ));
        }

        let db_pool_size = match get("PULSE_DB_POOL_SIZE") {
            None => 10,
            Some(v) => v
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=500).contains(n))
                .ok_or_else(|| {
                    ConfigError::new("PULSE_DB_POOL_SIZE", format!("accepts 1 to 500, got `{v}`"))
                })?,
        };

        let session_lifetime = match get("PULSE_SESSION_LIFETIME") {
            None => TimeDelta::days(14),
            Some(v) => parse_duration(&v)
                .filter(|d| *d >= TimeDelta::minutes(1))
                .ok_or_else(|| {
                    ConfigError::new(
                        "PULSE_SESSION_LIFETIME",
                        format!("{DURATION_FORMAT}, at least 1m; got `{v}`"),
                    )
                })?,
        };

        let trust_proxy = match get("PULSE_TRUST_PROXY").as_deref().map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError::new(
                    "PULSE_TRUST_PROXY",
                    format!("accepts true or false, got `{other}`"),
                ));
            }
        };

        Ok(Config {
            database_url,
            bind,
            session_key,
            last_seen_interval,
            thresholds,
            db_pool_size,
            session_lifetime,
            trust_proxy,
        })
    }
}

fn parse_session_key(value: &str) -> Result<SessionKey, ConfigError> {
    let problem = format!(
        "accepts base64 of at least {SESSION_KEY_MIN_BYTES} random bytes \
         (for example the output of `openssl rand -base64 64`)"
    );
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| ConfigError::new("PULSE_SESSION_KEY", problem.clone()))?;
    if bytes.len() < SESSION_KEY_MIN_BYTES {
        return Err(ConfigError::new(
            "PULSE_SESSION_KEY",
            format!("{problem}; this one has {} bytes", bytes.len()),
        ));
    }
    Ok(SessionKey(bytes))
}

/// Parses `90s`, `15m`, `1h`, `7d`.
pub fn parse_duration(value: &str) -> Option<TimeDelta> {
    let value = value.trim();
    let unit_at = value.len().checked_sub(1)?;
    let (number, unit) = value.split_at(unit_at);
    let number: i64 = number.parse().ok().filter(|n| *n >= 0)?;
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    TimeDelta::try_seconds(number.checked_mul(seconds_per_unit)?)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let config = config(&[]).unwrap();

        assert_eq!(
            config.database_url,
            DatabaseUrl::parse("sqlite://pulse.db").unwrap()
        );
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert!(config.session_key.is_none());
        assert_eq!(
            config.last_seen_interval,
            LastSeenInterval::Every(TimeDelta::hours(1))
        );
        assert_eq!(config.thresholds.at_risk, TimeDelta::days(7));
        assert_eq!(config.thresholds.rotting, TimeDelta::days(30));
        assert_eq!(config.thresholds.lost, TimeDelta::days(90));
        assert_eq!(config.session_lifetime, TimeDelta::days(14));
    }

    #[test]
    fn durations_take_the_documented_units() {
        assert_eq!(parse_duration("90s"), Some(TimeDelta::seconds(90)));
        assert_eq!(parse_duration("15m"), Some(TimeDelta::minutes(15)));
        assert_eq!(parse_duration("1h"), Some(TimeDelta::hours(1)));
        assert_eq!(parse_duration("7d"), Some(TimeDelta::days(7)));
        assert_eq!(parse_duration("0s"), Some(TimeDelta::zero()));
        for bad in ["", "h", "1", "1w", "-1h", "1.5h", "99999999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn last_seen_can_be_off_or_every_request() {
        let off = config(&[("PULSE_LAST_SEEN_INTERVAL", "off")]).unwrap();
        let always = config(&[("PULSE_LAST_SEEN_INTERVAL", "0s")]).unwrap();

        assert_eq!(off.last_seen_interval, LastSeenInterval::Off);
        assert_eq!(
            always.last_seen_interval,
            LastSeenInterval::Every(TimeDelta::zero())
        );
    }

    #[test]
    fn a_bad_value_names_the_variable_and_what_it_accepts() {
        let cases = [
            ("PULSE_LAST_SEEN_INTERVAL", "hourly", "90s, 15m, 1h"),
            ("PULSE_BIND", "localhost", "address and port"),
            ("PULSE_SESSION_KEY", "c2hvcnQ=", "at least 64"),
            ("PULSE_SESSION_KEY", "not base64!", "base64"),
            ("PULSE_AT_RISK_AFTER", "0d", "unit"),
            ("DATABASE_URL", "mysql://x", "sqlite://FILE"),
            ("PULSE_DB_POOL_SIZE", "0", "1 to 500"),
        ];
        for (variable, value, hint) in cases {
            let err = config(&[(variable, value)]).unwrap_err();

            assert_eq!(err.variable, variable);
            assert!(err.to_string().contains(hint), "{err}");
        }
    }

    #[test]
    fn the_proxy_is_trusted_only_when_set_to_true() {
        let default = config(&[]).unwrap();
        let trusted = config(&[("PULSE_TRUST_PROXY", "true")]).unwrap();
        let err = config(&[("PULSE_TRUST_PROXY", "yes")]).unwrap_err();

        assert!(!default.trust_proxy);
        assert!(trusted.trust_proxy);
        assert_eq!(err.variable, "PULSE_TRUST_PROXY");
        assert!(err.to_string().contains("true or false"), "{err}");
    }

    #[test]
    fn thresholds_must_grow() {
        let err = config(&[("PULSE_AT_RISK_AFTER", "40d")]).unwrap_err();

        assert!(err.to_string().contains("must grow"), "{err}");
    }

    #[test]
    fn a_session_key_is_never_printed() {
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        let config = config(&[("PULSE_SESSION_KEY", &key)]).unwrap();

        assert!(!format!("{config:?}").contains(&key));
    }
}
