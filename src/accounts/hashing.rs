//! Argon2id hashing on a bounded pool (SPEC §5).
//!
//! A hash costs ~19 MiB and tens of milliseconds of one core, so it never runs
//! on an async worker. At most `workers` hashes run at once (on tokio's
//! blocking threads), at most `queue` more wait for a turn, and anything past
//! that is refused at once with `Error::Overloaded`: memory and latency stay
//! bounded under any flood, and the async workers stay free for cheap requests.

use std::sync::Arc;

use argon2::password_hash::Error as PhcError;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::error::Error;

/// Settings of the hashing pool and of the argon2id cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashes computed at once.
    pub workers: usize,
    /// Hashes allowed to wait for a worker.
    pub queue: usize,
}

impl Default for HashingConfig {
    /// OWASP's first argon2id recommendation: m=19 MiB, t=2, p=1; one worker
    /// per core.
    fn default() -> Self {
        Self {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            queue: 64,
        }
    }
}

/// How a verification came out.
#[derive(Debug)]
pub enum Verification {
    Mismatch,
    /// The password is right; `rehashed` holds a new PHC string when the
    /// stored one was made with other parameters than the configured ones.
    Match {
        rehashed: Option<String>,
    },
}

#[derive(Clone)]
pub struct HashPool {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    /// One permit per hash that may run now.
    running: Arc<Semaphore>,
    /// One permit per hash that may be running or waiting.
    admitted: Arc<Semaphore>,
}

impl HashPool {
    pub fn new(config: HashingConfig) -> Result<Self, argon2::Error> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )?;
        let workers = config.workers.max(1);
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                running: Arc::new(Semaphore::new(workers)),
                admitted: Arc::new(Semaphore::new(workers + config.queue)),
            }),
        })
    }

    fn argon2(params: &Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
    }

    /// Hashes a (normalised) password into a PHC string.
    pub async fn hash(&self, password: SecretString) -> Result<String, Error> {
        let params = self.inner.params.clone();
        self.run(move || {
            Self::argon2(&params)
                .hash_password(password.expose_secret().as_bytes())
                .map(|hash| hash.to_string())
                .map_err(Error::internal)
        })
        .await?
    }

    /// Checks a (normalised) password against a stored PHC string, and rehashes
    /// it in the same turn when its parameters are not the configured ones.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: String,
    ) -> Result<Verification, Error> {
        let params = self.inner.params.clone();
        self.run(move || {
            let parsed = PasswordHash::new(&stored).map_err(Error::internal)?;
            let secret = password.expose_secret().as_bytes();
            // The hash names its own algorithm and parameters; verify with those.
            match Argon2::default().verify_password(secret, &parsed) {
                Ok(()) => {}
                Err(PhcError::PasswordInvalid) => return Ok(Verification::Mismatch),
                Err(other) => return Err(Error::internal(other)),
            }
            let rehashed = if is_current(&parsed, &params) {
                None
            } else {
                let fresh = Self::argon2(&params)
                    .hash_password(secret)
                    .map_err(Error::internal)?;
                Some(fresh.to_string())
            };
            Ok(Verification::Match { rehashed })
        })
        .await?
    }

    /// Runs `job` on a blocking thread once a worker is free, or refuses it when
    /// the queue is full. A caller that goes away while queued gives its place
    /// back; once running, a job finishes and then frees its place.
    async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, Error> {
        let admission = Arc::clone(&self.inner.admitted)
            .try_acquire_owned()
            .map_err(|_| Error::Overloaded {
                retry_after_secs: 1,
            })?;
        let turn = Arc::clone(&self.inner.running)
            .acquire_owned()
            .await
            .map_err(Error::internal)?;
        tokio::task::spawn_blocking(move || {
            let result = job();
            drop(turn);
            drop(admission);
            result
        })
        .await
        .map_err(Error::internal)
    }
}

/// Whether a stored hash was made with exactly the configured argon2id setup.
fn is_current(hash: &PasswordHash, params: &Params) -> bool {
    if hash.algorithm != argon2::ARGON2ID_IDENT || hash.version != Some(Version::V0x13.into()) {
        return false;
    }
    match Params::try_from(hash) {
        Ok(stored) => {
            stored.m_cost() == params.m_cost()
                && stored.t_cost() == params.t_cost()
                && stored.p_cost() == params.p_cost()
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(memory_kib: u32) -> HashPool {
        HashPool::new(HashingConfig {
            memory_kib,
            iterations: 1,
            parallelism: 1,
            workers: 1,
            queue: 1,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let pool = pool(64);
        let phc = pool
            .hash(SecretString::from("correct horse"))
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        let right = pool
            .verify(SecretString::from("correct horse"), phc.clone())
            .await
            .unwrap();
        assert!(matches!(right, Verification::Match { rehashed: None }));
        let wrong = pool
            .verify(SecretString::from("wrong horse"), phc)
            .await
            .unwrap();
        assert!(matches!(wrong, Verification::Mismatch));
    }

    #[tokio::test]
    async fn other_parameters_are_upgraded() {
        let old = pool(32)
            .hash(SecretString::from("correct horse"))
            .await
            .unwrap();
        let outcome = pool(64)
            .verify(SecretString::from("correct horse"), old)
            .await
            .unwrap();
        match outcome {
            Verification::Match {
                rehashed: Some(new),
            } => assert!(new.contains("m=64,t=1,p=1")),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_full_queue_is_refused() {
        let pool = pool(8 * 1024);
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.hash(SecretString::from("correct horse")).await })
            })
            .collect();
        let mut overloaded = 0;
        for job in jobs {
            if let Err(Error::Overloaded { .. }) = job.await.unwrap() {
                overloaded += 1;
            }
        }
        assert!(
            overloaded >= 1,
            "a pool of 1 + 1 queued must refuse some of 8"
        );
    }
}
