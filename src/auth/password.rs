//! Password hashing: argon2id with the OWASP parameters (argon2's defaults:
//! m = 19 MiB, t = 2, p = 1), on a few dedicated threads, never on a request's worker.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use std::cell::RefCell;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine as _;
use rand::RngCore as _;
use tokio::sync::oneshot;

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

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies on `concurrency` dedicated threads, so that a flood of sign-ins
/// queues here instead of starving the rest of the application of CPU.
///
/// Dedicated threads also bound memory: each hash allocates 19 MiB, and the allocator
/// keeps freed memory per thread, so hashing on the (large) blocking pool would let
/// resident memory grow with every thread that ever ran a hash.
#[derive(Debug, Clone)]
pub struct Passwords {
    jobs: Sender<Job>,
    /// Verified against when the email is unknown, so both cases cost the same.
    dummy_hash: Arc<str>,
}

impl Passwords {
    pub fn new(concurrency: usize) -> Result<Self, PasswordError> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..concurrency.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("pulse-argon2-{n}"))
                .spawn(move || run_jobs(&queue))
                .map_err(|e| PasswordError::Hash(format!("no hashing thread: {e}")))?;
        }
        // The dummy is hashed on a hashing thread too, so no other thread keeps argon2's
        // memory.
        let dummy = Password::new(crate::auth::csrf::new_token());
        let (answer, answered) = channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(hash_now(&dummy));
        });
        jobs.send(job).map_err(|_| PasswordError::Cancelled)?;
        let dummy_hash = answered.recv().map_err(|_| PasswordError::Cancelled)??;
        Ok(Self {
            jobs,
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: Password) -> Result<String, PasswordError> {
        self.on_hashing_thread(move || hash_now(&password)).await?
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no
    /// account, taking the same time either way.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        let dummy = self.dummy_hash.clone();
        self.on_hashing_thread(move || match stored {
            Some(hash) => verify_now(&password, &hash),
            None => {
                verify_now(&password, &dummy);
                false
            }
        })
        .await
    }

    async fn on_hashing_thread<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let (answer, answered) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let _ = answer.send(span.in_scope(work));
        });
        self.jobs.send(job).map_err(|_| PasswordError::Cancelled)?;
        answered.await.map_err(|_| PasswordError::Cancelled)
    }
}

/// A hashing thread: runs jobs until every sender is gone.
fn run_jobs(queue: &Mutex<Receiver<Job>>) {
    loop {
        let next = match queue.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Hashes on the current thread; for the command line and for [`Passwords`].
///
/// The result is a standard PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
pub fn hash_now(password: &Password) -> Result<String, PasswordError> {
    let params = Params::default();
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let mut output = [0u8; 32];
    raw_hash(password, &salt, &params, &mut output)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        PHC_BASE64.encode(salt),
        PHC_BASE64.encode(output)
    ))
}

/// A stored value that is not an argon2id PHC string (such as a demo account's) never
/// matches.
fn verify_now(password: &Password, stored: &str) -> bool {
    let Some(stored) = StoredHash::parse(stored) else {
        return false;
    };
    let mut output = vec![0u8; stored.hash.len()];
    if raw_hash(password, &stored.salt, &stored.params, &mut output).is_err() {
        return false;
    }
    let difference = output
        .iter()
        .zip(&stored.hash)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    difference == 0
}

/// PHC strings use base64 without padding.
const PHC_BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

struct StoredHash {
    params: Params,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl StoredHash {
    /// Parses `$argon2id$v=19$m=M,t=T,p=P$SALT$HASH`.
    fn parse(stored: &str) -> Option<Self> {
        let mut parts = stored.strip_prefix("$argon2id$v=19$")?.split('$');
        let (costs, salt, hash) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let mut m = None;
        let mut t = None;
        let mut p = None;
        for cost in costs.split(',') {
            let (name, value) = cost.split_once('=')?;
            let value: u32 = value.parse().ok()?;
            match name {
                "m" => m = Some(value),
                "t" => t = Some(value),
                "p" => p = Some(value),
                _ => return None,
            }
        }
        let hash = PHC_BASE64.decode(hash).ok()?;
        let params = Params::new(m?, t?, p?, Some(hash.len())).ok()?;
        Some(Self {
            params,
            salt: PHC_BASE64.decode(salt).ok()?,
            hash,
        })
    }
}

thread_local! {
    /// Each hashing thread keeps its 19 MiB of argon2 memory instead of asking the
    /// allocator for it every time: glibc keeps freed blocks this large around per
    /// thread, and resident memory would otherwise climb with every sign-in.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn raw_hash(
    password: &Password,
    salt: &[u8],
    params: &Params,
    output: &mut [u8],
) -> argon2::Result<()> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    MEMORY.with_borrow_mut(|memory| {
        memory.resize(params.block_count(), Block::default());
        argon2.hash_password_into_with_memory(
            password.expose().as_bytes(),
            salt,
            output,
            &mut memory[..params.block_count()],
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_standard_phc_strings_both_ways() {
        use argon2::password_hash::phc::PasswordHash;
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let ours = hash_now(&Password::new("correct horse battery")).unwrap();
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery")
            .unwrap();

        let parsed = PasswordHash::new(&ours).unwrap();

        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        assert!(verify_now(
            &Password::new("correct horse battery"),
            &theirs.to_string()
        ));
        assert!(!verify_now(
            &Password::new("correct horse batteries"),
            &theirs.to_string()
        ));
    }

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
