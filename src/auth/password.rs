//! Password hashing: argon2id with the OWASP parameters (argon2's defaults:
//! m = 19 MiB, t = 2, p = 1), always on the blocking pool, a bounded number at a time.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::Semaphore;

/// A password as typed; never printed, never logged.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("hashing the password failed: {0}")]
    Hash(String),
    #[error("the password worker stopped")]
    Cancelled,
}

/// Hashes and verifies on the blocking pool, at most `concurrency` at once, so that a
/// flood of sign-ins queues here instead of starving the rest of the application.
#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Verified against when the email is unknown, so both cases cost the same.
    dummy_hash: Arc<str>,
}

impl Passwords {
    pub fn new(concurrency: usize) -> Result<Self, PasswordError> {
        let dummy = Password::new(crate::auth::csrf::new_token());
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: hash_now(&dummy)?.into(),
        })
    }

    pub async fn hash(&self, password: Password) -> Result<String, PasswordError> {
        self.on_blocking_pool(move || hash_now(&password)).await?
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no
    /// account, taking the same time either way.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        let dummy = self.dummy_hash.clone();
        self.on_blocking_pool(move || match stored {
            Some(hash) => verify_now(&password, &hash),
            None => {
                verify_now(&password, &dummy);
                false
            }
        })
        .await
    }

    async fn on_blocking_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::Cancelled)?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(work))
            .await
            .map_err(|_| PasswordError::Cancelled)
    }
}

/// Hashes on the current thread; for the command line and for [`Passwords`].
pub fn hash_now(password: &Password) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// A stored value that is not a valid hash (such as a demo account's) never matches.
fn verify_now(password: &Password, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => Argon2::default()
            .verify_password(password.expose().as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_now(&Password::new("correct horse battery")).unwrap();

        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_now(&Password::new("correct horse battery"), &hash));
        assert!(!verify_now(&Password::new("correct horse battery!"), &hash));
        assert!(!verify_now(&Password::new("anything"), "!demo"));
    }

    #[test]
    fn a_password_is_never_printed() {
        assert_eq!(
            format!("{:?}", Password::new("hunter2hunter2")),
            "Password(..)"
        );
    }
}
