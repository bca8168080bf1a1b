//! Counting visitors without cookies.
//!
//! A visitor's id is a keyed BLAKE2b hash of the site, the client address and the user
//! agent, keyed with a random salt that lives for one UTC day. The salt is kept in the
//! database so every instance computes the same id, and deleted once its day is over:
//! after that nobody, Pulse included, can link a day's ids to an address or to the
//! next day's ids. The address itself is never stored.

use std::net::IpAddr;
use std::sync::Mutex;

use base64::Engine as _;
use blake2::Blake2bMac512;
use blake2::digest::{KeyInit as _, Mac as _};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rand::RngCore as _;

use crate::db::schema::site_salts;
use crate::db::{AnyConnection, DbError};
use crate::on_backend;

const SALT_BYTES: usize = 32;

/// The day's salt, loaded once per day per instance.
#[derive(Debug, Default)]
pub struct Salts {
    current: Mutex<Option<(NaiveDate, Vec<u8>)>>,
}

impl Salts {
    /// The salt for `day` if this instance already holds it.
    pub fn cached(&self, day: NaiveDate) -> Option<Vec<u8>> {
        let current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        current
            .as_ref()
            .filter(|(cached_day, _)| *cached_day == day)
            .map(|(_, salt)| salt.clone())
    }

    /// Keeps the salt for `day`, replacing the previous day's.
    pub fn remember(&self, day: NaiveDate, salt: Vec<u8>) {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *current = Some((day, salt));
    }
}

/// Returns the salt of `now`'s UTC day, generating it on first use, and deletes the
/// salts of earlier days.
pub fn salt_of_the_day(conn: &mut AnyConnection, now: DateTime<Utc>) -> Result<Vec<u8>, DbError> {
    let day = now.date_naive();
    diesel::delete(site_salts::table.filter(site_salts::day.lt(day))).execute(conn)?;

    let mut fresh = [0u8; SALT_BYTES];
    rand::rng().fill_bytes(&mut fresh);
    let row = (
        site_salts::day.eq(day),
        site_salts::salt.eq(base64::engine::general_purpose::STANDARD.encode(fresh)),
        site_salts::created_at.eq(now.naive_utc()),
    );
    // Two instances may generate one at once: the first insert wins and both read it.
    on_backend!(conn, c => diesel::insert_into(site_salts::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;

    let stored: String = site_salts::table
        .find(day)
        .select(site_salts::salt)
        .first(conn)?;
    Ok(base64::engine::general_purpose::STANDARD
        .decode(stored)
        .unwrap_or_else(|_| fresh.to_vec()))
}

/// The visitor's id for one site and one day's salt.
pub fn visitor_id(salt: &[u8], domain: &str, address: Option<IpAddr>, user_agent: &str) -> i64 {
    let address = address.map(|a| a.to_string()).unwrap_or_default();
    // BLAKE2b takes keys of up to 64 bytes; the 32-byte salt is zero-padded to that.
    let mut key = [0u8; 64];
    let used = salt.len().min(key.len());
    key[..used].copy_from_slice(&salt[..used]);
    let mut mac = Blake2bMac512::new(&key.into());
    for part in [domain.as_bytes(), address.as_bytes(), user_agent.as_bytes()] {
        mac.update(&(part.len() as u64).to_le_bytes());
        mac.update(part);
    }
    let digest = mac.finalize().into_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_inputs_give_the_same_id_and_any_change_another() {
        let ip: Option<IpAddr> = "203.0.113.9".parse().ok();
        let id = visitor_id(b"salt-one", "example.com", ip, "Firefox");

        assert_eq!(id, visitor_id(b"salt-one", "example.com", ip, "Firefox"));
        assert_ne!(id, visitor_id(b"salt-two", "example.com", ip, "Firefox"));
        assert_ne!(id, visitor_id(b"salt-one", "example.org", ip, "Firefox"));
        assert_ne!(id, visitor_id(b"salt-one", "example.com", None, "Firefox"));
        assert_ne!(id, visitor_id(b"salt-one", "example.com", ip, "Chrome"));
    }
}
