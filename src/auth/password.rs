//! argon2id hashing off the request threads, with bounded concurrency and the same cost for
//! unknown users (a dummy hash is verified instead) so timing does not reveal usernames.
//!
//! Hashing is slow on purpose and takes a whole core while it runs, so at most
//! `HAZREG_PASSWORD_HASH_CONCURRENCY` hashes run at once (by default one fewer than the CPUs,
//! so the rest of the server always keeps a core), and at most `HAZREG_PASSWORD_HASH_QUEUE`
//! more wait: past that a login answers `503 busy` with `Retry-After` at once instead of
//! letting every request's latency grow.
//!
//! The hashes run on the module's own threads, not on the pool that runs database work, and
//! those threads run at a lower scheduling priority (nice 19, the lowest, on Linux): when the CPUs are
//! busy the kernel gives list and write requests the time first, and a login storm slows
//! logins rather than everything else.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashFailed {
    /// The worker pool is gone, or argon2 failed: a server fault.
    #[error("password hashing failed: {0}")]
    Failed(String),
    /// Every hashing slot is taken and the queue is full: retry shortly.
    #[error("too many passwords are being checked at once")]
    Busy,
}

fn failed(e: impl std::fmt::Display) -> HashFailed {
    HashFailed::Failed(e.to_string())
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads: a fixed number, fed through one channel.
struct Hashers {
    jobs: std::sync::mpsc::Sender<Job>,
}

/// The nice value the hashing threads run at (0 is normal, 19 the lowest).
const HASHER_NICE: i32 = 19;

impl Hashers {
    fn start(threads: usize) -> anyhow::Result<Hashers> {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for n in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Hashers { jobs: tx })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashFailed> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs.send(job).map_err(failed)?;
        rx.await.map_err(failed)
    }
}

/// Lowers the calling thread's priority to nice 19. On Linux `setpriority` with `who = 0`
/// applies to the calling thread only (see setpriority(2), "Bugs"); elsewhere this does nothing.
/// (`SCHED_IDLE` was tried instead. In an interleaved A/B on PostgreSQL, 4 rounds each, the
/// list's p99 beside a login storm was 2.09–2.40 times its p99 alone with `SCHED_IDLE` and
/// 1.27–1.90 times with nice 19; on SQLite the two were alike.)
#[allow(unsafe_code)] // the crate's one unsafe block: a plain libc call, no pointers
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority has no memory effects; a failure leaves the priority unchanged.
    unsafe {
        if libc::setpriority(libc::PRIO_PROCESS, 0, HASHER_NICE) != 0 {
            tracing::warn!("could not lower the password hashing threads' priority");
        }
    }
}

#[derive(Clone)]
pub struct Passwords {
    hashers: Arc<Hashers>,
    params: Params,
    permits: Arc<Semaphore>,
    /// Requests holding or waiting for a slot.
    admitted: Arc<AtomicUsize>,
    /// How many may hold or wait for a slot before the next is turned away.
    admit_limit: usize,
    concurrency: usize,
    dummy_hash: Arc<String>,
    /// Checks turned away with `503 busy` (a metric, `GET /metrics`).
    pub rejected: prometheus::IntCounter,
}

/// A hashing slot; leaving it (or giving up waiting) frees the place in the queue.
struct Slot<'a> {
    admitted: &'a AtomicUsize,
    _permit: Option<tokio::sync::SemaphorePermit<'a>>,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.admitted.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Passwords {
    pub fn new(memory_kib: u32, concurrency: usize, queue: usize) -> anyhow::Result<Passwords> {
        let params = Params::new(memory_kib, 2, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let dummy_hash = hash_with(&params, "not a real password, only for timing")?;
        let concurrency = concurrency.max(1);
        Ok(Passwords {
            hashers: Arc::new(Hashers::start(concurrency)?),
            params,
            permits: Arc::new(Semaphore::new(concurrency)),
            admitted: Arc::new(AtomicUsize::new(0)),
            admit_limit: concurrency + queue,
            concurrency,
            dummy_hash: Arc::new(dummy_hash),
            rejected: crate::metrics::hash_rejections(),
        })
    }

    /// Waits for a hashing slot, or refuses at once when the queue is full.
    async fn slot(&self) -> Result<Slot<'_>, HashFailed> {
        let before = self.admitted.fetch_add(1, Ordering::SeqCst);
        let mut slot = Slot {
            admitted: &self.admitted,
            _permit: None,
        };
        if before >= self.admit_limit {
            self.rejected.inc();
            return Err(HashFailed::Busy);
        }
        slot._permit = Some(self.permits.acquire().await.map_err(failed)?);
        Ok(slot)
    }

    pub async fn hash(&self, password: String) -> Result<String, HashFailed> {
        let params = self.params.clone();
        let _slot = self.slot().await?;
        self.hashers
            .run(move || hash_with(&params, &password))
            .await?
            .map_err(failed)
    }

    /// Verifies against `hash`, or against the dummy hash when there is no account.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, HashFailed> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let _slot = self.slot().await?;
        let ok = self
            .hashers
            .run(move || {
                PasswordHash::new(&hash)
                    .map(|parsed| {
                        Argon2::default()
                            .verify_password(password.as_bytes(), &parsed)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await?;
        Ok(ok && known)
    }

    /// Checks hashing now and checks queued for a hashing thread (`GET /metrics`).
    pub fn load(&self) -> (usize, usize) {
        let admitted = self.admitted.load(Ordering::SeqCst);
        let hashing = self
            .concurrency
            .saturating_sub(self.permits.available_permits());
        (hashing, admitted.saturating_sub(hashing))
    }

    /// Synchronous hashing for the command line (`create-account`, first start).
    pub fn hash_blocking(&self, password: &str) -> anyhow::Result<String> {
        hash_with(&self.params, password)
    }
}

fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// A random password that passes the password policy, for the first administrator and
/// `create-account` without `--password`.
pub fn generate_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_";
    let mut rng = rand::rngs::OsRng;
    loop {
        let candidate: String = (0..24)
            .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
            .collect();
        let mut errors = crate::domain::validate::Errors::default();
        crate::domain::account::check_password(&mut errors, &candidate, "admin");
        if errors.is_empty() {
            return candidate;
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The nice values of this process's threads named `name` (field 19 of
    /// `/proc/self/task/<tid>/stat`).
    fn nice_of(name: &str) -> Vec<i32> {
        let mut found = Vec::new();
        for task in std::fs::read_dir("/proc/self/task")
            .expect("tasks")
            .flatten()
        {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim() != name {
                continue;
            }
            let stat = std::fs::read_to_string(task.path().join("stat")).expect("stat");
            // After the command's closing parenthesis the fields are space-separated, from
            // the third (state) on.
            let rest = &stat[stat.rfind(')').expect("comm end") + 2..];
            let nice = rest.split(' ').nth(19 - 3).expect("nice field");
            found.push(nice.parse().expect("a number"));
        }
        found
    }

    #[tokio::test]
    async fn hashing_threads_run_at_nice_19() {
        let passwords = Passwords::new(1024, 1, 1).expect("hashers");
        // The thread lowers itself when it starts; a finished hash means it has.
        let hash = passwords.hash("a password".into()).await.expect("hash");
        assert!(passwords
            .verify("a password".into(), Some(hash))
            .await
            .expect("verify"));
        // (Other tests of this process may have hashers of their own: all are at 19.)
        let nice = nice_of("argon2-0");
        assert!(!nice.is_empty(), "no hashing thread found");
        assert!(nice.iter().all(|&n| n == HASHER_NICE), "{nice:?}");
        // The test's own thread is untouched.
        let own = std::fs::read_to_string("/proc/thread-self/stat").expect("own stat");
        let rest = &own[own.rfind(')').expect("comm end") + 2..];
        assert_eq!(rest.split(' ').nth(19 - 3), Some("0"));
    }
}
