//! Argon2id hashing on a bounded pool (SPEC §5), and the verification of
//! imported Django hashes (`django_hash`) on the same pool.
//!
//! A hash costs ~19 MiB and tens of milliseconds of one core, so it never runs
//! on an async worker. `workers` dedicated threads hash, each reusing one
//! memory area of the configured size for every hash, so the pool's memory is
//! `workers × m` whatever the load (a fresh 19 MiB allocation per hash would
//! be kept by the allocator's per-thread arenas and grow the process). At
//! most `queue` jobs wait for a thread; anything past that is refused at once
//! with `Error::Overloaded`, so latency stays bounded under any flood and the
//! async workers stay free for cheap requests. A job whose caller went away
//! while it waited is skipped.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordVerifier as _, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;

use super::django_hash::{self, Stored};
use crate::error::Error;
use crate::metrics::HashMetrics;

/// Settings of the hashing pool and of the argon2id cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashes computed at once (one thread each).
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
    /// The stored hash is in a format that cannot be verified: no password
    /// matches it. `format` names it for the log.
    UnknownFormat {
        format: &'static str,
    },
    /// The password is right; `rehashed` holds a new PHC string when the
    /// stored one was made with other parameters than the configured ones,
    /// or by Django (`format` names the stored one's format).
    Match {
        rehashed: Option<String>,
        format: &'static str,
    },
}

/// Work for a hashing thread, given that thread's reusable memory; `false`
/// when it was skipped (its caller had gone).
type Job = Box<dyn FnOnce(&mut Worker) -> bool + Send>;

/// One hashing thread's state: the configured parameters and its memory.
struct Worker {
    params: Params,
    memory: Vec<Block>,
    /// A hash of a random password with the configured parameters, made on
    /// first use, for verifications that stand in for a missing account.
    decoy: Option<String>,
}

#[derive(Clone)]
pub struct HashPool {
    jobs: SyncSender<Job>,
    metrics: HashMetrics,
}

const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;

impl HashPool {
    /// Starts `config.workers` hashing threads, reporting to `metrics`.
    pub fn new(config: HashingConfig, metrics: HashMetrics) -> Result<Self, argon2::Error> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            Some(OUTPUT_BYTES),
        )?;
        let (jobs, queue) = sync_channel::<Job>(config.queue);
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..config.workers.max(1) {
            let (queue, params, metrics) = (Arc::clone(&queue), params.clone(), metrics.clone());
            std::thread::Builder::new()
                .name(format!("gatehouse-hash-{index}"))
                .spawn(move || work(&queue, params, &metrics))
                .map_err(|_| argon2::Error::OutOfMemory)?;
        }
        Ok(Self { jobs, metrics })
    }

    /// Hashes a (normalised) password into a PHC string.
    pub async fn hash(&self, password: SecretString) -> Result<String, Error> {
        self.run(move |worker| worker.hash(password.expose_secret().as_bytes()))
            .await?
    }

    /// Checks a password against a stored hash, and rehashes it in the same
    /// turn when it is not argon2id of the configured cost. A PHC string is
    /// checked against the normalised password; a Django hash against the
    /// password as typed, since Django hashed it so.
    pub async fn verify(
        &self,
        normalised: SecretString,
        as_typed: SecretString,
        stored: String,
    ) -> Result<Verification, Error> {
        self.run(move |worker| {
            let normalised = normalised.expose_secret().as_bytes();
            match django_hash::classify(&stored) {
                Stored::Phc(phc) => worker.verify(normalised, phc),
                Stored::Django(hash) => {
                    if hash.verify(as_typed.expose_secret().as_bytes()) {
                        let rehashed = Some(worker.hash(normalised)?);
                        Ok(Verification::Match {
                            rehashed,
                            format: hash.algorithm(),
                        })
                    } else {
                        Ok(Verification::Mismatch)
                    }
                }
                // No password matches these; they cost what a real hash
                // does all the same, so that their answer says nothing.
                Stored::Unusable => {
                    worker.verify_decoy(normalised)?;
                    Ok(Verification::Mismatch)
                }
                Stored::Unknown(format) => {
                    worker.verify_decoy(normalised)?;
                    Ok(Verification::UnknownFormat { format })
                }
            }
        })
        .await?
    }

    /// Verifies `password` against a hash no password matches, at the cost
    /// of verifying a real one: what a login for an account that does not
    /// exist spends under `--uniform-login`, so that its answer comes no
    /// sooner than a wrong password's.
    pub async fn verify_decoy(&self, password: SecretString) -> Result<(), Error> {
        self.run(move |worker| worker.verify_decoy(password.expose_secret().as_bytes()))
            .await?
    }

    /// Queues `job` for a hashing thread, or refuses it when the queue is full.
    async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Worker) -> R + Send + 'static,
    ) -> Result<R, Error> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |worker| {
            // The caller gave up while this waited (client gone): skip the hash.
            if done.is_closed() {
                return false;
            }
            let _ = done.send(job(worker));
            true
        });
        match self.jobs.try_send(job) {
            Ok(()) => self.metrics.queued.increment(1.0),
            Err(TrySendError::Full(_)) => {
                self.metrics.rejected.increment(1);
                return Err(Error::Overloaded {
                    retry_after_secs: 1,
                });
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(Error::internal("the hashing threads are gone"));
            }
        }
        result
            .await
            .map_err(|_| Error::internal("a hashing job was dropped"))
    }
}

/// A hashing thread: runs jobs until the pool is dropped.
fn work(queue: &Mutex<Receiver<Job>>, params: Params, metrics: &HashMetrics) {
    let mut worker = Worker {
        params,
        memory: Vec::new(),
        decoy: None,
    };
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return; // the pool was dropped
        };
        metrics.queued.decrement(1.0);
        metrics.busy.increment(1.0);
        let started = Instant::now();
        if job(&mut worker) {
            metrics.duration.record(started.elapsed().as_secs_f64());
        }
        metrics.busy.decrement(1.0);
    }
}

impl Worker {
    /// The thread's memory, sized for `params` (allocated once, on first use).
    fn memory_for(&mut self, params: &Params) -> &mut [Block] {
        let blocks = params.block_count();
        if self.memory.len() < blocks {
            self.memory = vec![Block::default(); blocks];
        }
        &mut self.memory[..blocks]
    }

    fn hash(&mut self, password: &[u8]) -> Result<String, Error> {
        let mut salt = [0u8; SALT_BYTES];
        getrandom::fill(&mut salt).map_err(Error::internal)?;
        let params = self.params.clone();
        let mut output = [0u8; OUTPUT_BYTES];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password, &salt, &mut output, self.memory_for(&params))
            .map_err(Error::internal)?;
        let phc = PasswordHash {
            algorithm: argon2::ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(Error::internal)?,
            salt: Some(Salt::new(&salt).map_err(Error::internal)?),
            hash: Some(Output::new(&output).map_err(Error::internal)?),
        };
        Ok(phc.to_string())
    }

    /// Verifies `password` against this thread's decoy hash (made on first
    /// use), which no password matches.
    fn verify_decoy(&mut self, password: &[u8]) -> Result<(), Error> {
        let decoy = match self.decoy.take() {
            Some(decoy) => decoy,
            None => {
                let mut random = [0u8; 32];
                getrandom::fill(&mut random).map_err(Error::internal)?;
                self.hash(&random)?
            }
        };
        let checked = self.verify(password, &decoy);
        self.decoy = Some(decoy);
        checked.map(drop)
    }

    fn verify(&mut self, password: &[u8], stored: &str) -> Result<Verification, Error> {
        let parsed = PasswordHash::new(stored).map_err(Error::internal)?;
        let current = is_current(&parsed, &self.params);
        let matches = if current {
            // The common case: the configured parameters, on this thread's memory.
            let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
                return Err(Error::internal("stored hash without salt or output"));
            };
            let params = Params::try_from(&parsed).map_err(Error::internal)?;
            let mut output = vec![0u8; expected.len()];
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
                .hash_password_into_with_memory(
                    password,
                    salt.as_ref(),
                    &mut output,
                    self.memory_for(&params),
                )
                .map_err(Error::internal)?;
            // `Output` compares in constant time.
            Output::new(&output).map_err(Error::internal)? == *expected
        } else {
            // Older parameters: let the hash name its own algorithm and cost.
            match Argon2::default().verify_password(password, &parsed) {
                Ok(()) => true,
                Err(argon2::password_hash::Error::PasswordInvalid) => false,
                Err(other) => return Err(Error::internal(other)),
            }
        };
        if !matches {
            return Ok(Verification::Mismatch);
        }
        let rehashed = if current {
            None
        } else {
            Some(self.hash(password)?)
        };
        Ok(Verification::Match {
            rehashed,
            format: "argon2id",
        })
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
mod tests;
