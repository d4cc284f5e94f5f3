//! Argon2id password hashing on a few dedicated threads that keep their working memory.
//!
//! Each hash needs [`MEMORY_KIB`] of working memory. Allocated per hash (as `argon2`'s own
//! `hash_password` does) on the blocking pool's threads, glibc serves it from per-thread arenas
//! that keep it once freed: resident memory grew to hundreds of MiB after a few thousand logins.
//! Here each hashing thread allocates it once and reuses it for every hash, so what hashing
//! holds is `concurrency × MEMORY_KIB`, however many logins come.

use crate::error::ApiError;
use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{mpsc, Arc, Mutex};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// Argon2id at one of OWASP's recommended costs: 7 MiB of memory, 5 passes, 1 lane. OWASP lists
/// it with 19 MiB × 2, 12 MiB × 3, 9 MiB × 4 and 46 MiB × 1 as giving the same defence, trading
/// memory for passes. On the benchmark machine it verifies in about two thirds of the time of
/// 19 MiB × 2 (its memory stays in cache), which is more logins per core for the same defence.
/// Hashes made with another cost keep verifying: the PHC string carries its own parameters.
const MEMORY_KIB: u32 = 7 * 1024;
const PASSES: u32 = 5;
const LANES: u32 = 1;
/// Bytes of salt in a new hash (the PHC string format's recommendation).
const SALT_LEN: usize = 16;
/// A stored hash needing more memory than this is not verified (no hash we make comes near:
/// the bound keeps a corrupt or hostile row from making a thread allocate gigabytes).
const MAX_VERIFY_MEMORY_KIB: u32 = 256 * 1024;

/// Hashes and verifies passwords on `concurrency` threads of its own, so a burst of logins
/// cannot take every core from other requests, nor grow memory with the number of logins.
#[derive(Clone)]
pub struct PasswordHasher {
    /// At most one job per thread is handed over at a time; the others wait here, off any
    /// thread.
    permits: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
    /// A hash of a password nobody has, verified when a username is unknown so that unknown and
    /// known usernames take the same time to refuse.
    decoy: Arc<str>,
}

/// A hash to compute, with the permit it holds until it is done: a caller that gives up
/// waiting (its request was cancelled) does not let more work queue up behind the threads.
struct Job {
    _permit: OwnedSemaphorePermit,
    work: Work,
}

enum Work {
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String, ApiError>>,
    },
    Verify {
        password: String,
        stored: String,
        reply: oneshot::Sender<bool>,
    },
}

fn params() -> Result<Params, ApiError> {
    Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|e| ApiError::Internal(format!("bad Argon2 parameters: {e}")))
}

/// A hashing thread's working memory, sized for our own cost.
struct Memory(Vec<Block>);

impl Memory {
    fn new() -> Result<Self, ApiError> {
        Ok(Self(vec![Block::default(); params()?.block_count()]))
    }

    /// The PHC string of `password`'s Argon2id hash with a fresh salt.
    fn hash(&mut self, password: &str) -> Result<String, ApiError> {
        let failed =
            |e: &dyn std::fmt::Display| ApiError::Internal(format!("cannot hash a password: {e}"));
        let params = params()?;
        let mut salt = [0_u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        let salt_string = SaltString::encode_b64(&salt).map_err(|e| failed(&e))?;
        let mut out = [0_u8; Params::DEFAULT_OUTPUT_LEN];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, &mut self.0)
            .map_err(|e| failed(&e))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
            salt: Some(salt_string.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches the PHC string `stored`, computed with the parameters it
    /// carries (hashes made with older costs keep working); a string we cannot read matches
    /// nothing.
    fn verify(&mut self, password: &str, stored: &str) -> bool {
        self.check(password, stored).unwrap_or(false)
    }

    fn check(&mut self, password: &str, stored: &str) -> Option<bool> {
        let phc = PasswordHash::new(stored).ok()?;
        let algorithm = Algorithm::try_from(phc.algorithm).ok()?;
        let version = match phc.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(&phc).ok()?;
        let expected = phc.hash?;
        let mut salt = [0_u8; 64];
        let salt = phc.salt?.decode_b64(&mut salt).ok()?;
        let mut out = vec![0_u8; expected.len()];
        let argon2 = Argon2::new(algorithm, version, params.clone());
        if params.block_count() <= self.0.len() {
            argon2
                .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut self.0)
                .ok()?;
        } else if params.m_cost() <= MAX_VERIFY_MEMORY_KIB {
            // A hash made at a higher cost than ours: its memory is for this once.
            argon2
                .hash_password_into(password.as_bytes(), salt, &mut out)
                .ok()?;
        } else {
            return None;
        }
        // Compared in constant time.
        Some(Output::new(&out).ok()? == expected)
    }
}

/// The PHC string of `password`'s Argon2id hash with a fresh salt, computed on this thread (it
/// takes tens of milliseconds: async code uses [`PasswordHasher::hash`]).
pub fn hash_blocking(password: &str) -> Result<String, ApiError> {
    Memory::new()?.hash(password)
}

/// One hashing thread: takes jobs until every [`PasswordHasher`] is gone.
fn work(jobs: &Mutex<mpsc::Receiver<Job>>, mut memory: Memory) {
    loop {
        let job = match jobs.lock() {
            Ok(queue) => queue.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = job else { return };
        // A caller that went away (its request was cancelled) does not want the answer.
        match job.work {
            Work::Hash { password, reply } => {
                let _ = reply.send(memory.hash(&password));
            }
            Work::Verify {
                password,
                stored,
                reply,
            } => {
                let _ = reply.send(memory.verify(&password, &stored));
            }
        }
    }
}

impl PasswordHasher {
    /// Starts `concurrency` hashing threads (each allocating its working memory now) and
    /// computes the decoy hash.
    pub fn new(concurrency: usize) -> Result<Self, ApiError> {
        let concurrency = concurrency.max(1);
        let (jobs, queue) = mpsc::channel();
        let queue = Arc::new(Mutex::new(queue));
        // The decoy is hashed in the first thread's memory, before the thread has it.
        let mut first = Memory::new()?;
        let mut random = [0_u8; 16];
        OsRng.fill_bytes(&mut random);
        let decoy = first.hash(&format!("{random:?}"))?;
        let mut first = Some(first);
        for n in 0..concurrency {
            let memory = match first.take() {
                Some(memory) => memory,
                None => Memory::new()?,
            };
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("hearth-hash-{n}"))
                .spawn(move || work(&queue, memory))
                .map_err(|e| ApiError::Internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            jobs,
            decoy: decoy.into(),
        })
    }

    async fn run<T>(&self, work: impl FnOnce(oneshot::Sender<T>) -> Work) -> Result<T, ApiError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::Internal(format!("hasher closed: {e}")))?;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            _permit: permit,
            work: work(reply),
        };
        self.jobs
            .send(job)
            .map_err(|_| ApiError::Internal("the hashing threads are gone".to_owned()))?;
        answer
            .await
            .map_err(|_| ApiError::Internal("a hashing thread failed".to_owned()))
    }

    /// The PHC string of `password`'s Argon2id hash with a fresh salt.
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let password = password.to_owned();
        self.run(|reply| Work::Hash { password, reply }).await?
    }

    /// Whether `password` matches `stored`; with `None`, spends the same time and says no.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, ApiError> {
        let password = password.to_owned();
        let (stored, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.decoy.to_string(), false),
        };
        let matches = self
            .run(|reply| Work::Verify {
                password,
                stored,
                reply,
            })
            .await?;
        Ok(real && matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() -> Result<(), ApiError> {
        let hasher = PasswordHasher::new(1)?;
        let hash = hasher.hash("correct horse battery").await?;
        assert!(hash.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{hash}");
        assert!(hasher.verify("correct horse battery", Some(&hash)).await?);
        assert!(!hasher.verify("wrong horse battery", Some(&hash)).await?);
        assert!(!hasher.verify("correct horse battery", None).await?);
        assert!(!hasher.verify("x", Some("not a phc string")).await?);
        Ok(())
    }

    /// Hashes made by `argon2`'s own PHC code (as every stored hash before the dedicated
    /// threads was), at our cost and at others, verify; and ours verify with it.
    #[tokio::test]
    async fn hashes_verify_both_ways_with_the_argon2_crates_own_code() -> Result<(), ApiError> {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = PasswordHasher::new(2)?;
        for (m, t, p) in [
            (MEMORY_KIB, PASSES, LANES),
            (19 * 1024, 2, 1),
            (8 * 1024, 1, 2),
        ] {
            let params = Params::new(m, t, p, None).unwrap();
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
            let salt = SaltString::generate(&mut OsRng);
            let theirs = argon2
                .hash_password(b"a password", &salt)
                .unwrap()
                .to_string();
            assert!(
                hasher.verify("a password", Some(&theirs)).await?,
                "{theirs}"
            );
            assert!(
                !hasher.verify("a passworD", Some(&theirs)).await?,
                "{theirs}"
            );
        }
        let ours = hasher.hash("a password").await?;
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"a password", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"a passworD", &parsed)
            .is_err());
        // Two hashes of one password differ (fresh salts).
        assert_ne!(ours, hasher.hash("a password").await?);
        Ok(())
    }

    /// A stored hash asking for more memory than any we make is refused without running it.
    #[tokio::test]
    async fn a_hash_asking_for_huge_memory_matches_nothing() -> Result<(), ApiError> {
        let hasher = PasswordHasher::new(1)?;
        let huge = "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$\
                    Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmE";
        assert!(!hasher.verify("x", Some(huge)).await?);
        Ok(())
    }
}
