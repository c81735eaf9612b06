//! Staff passwords: argon2id with the crate's defaults (m=19456 KiB, t=2, p=1), hashed off the
//! async threads, with a bound on concurrent hashes so a burst of sign-ins cannot exhaust memory.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::atomic::{AtomicUsize, Ordering};

use rocket::tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

pub const MIN_LENGTH: usize = 10;

/// Each argon2 run takes 19 MiB and tens of milliseconds of a core: at most 4 run at once, and
/// at most 64 more wait. Beyond that a burst (a script, a whole district at 9 a.m.) is refused
/// at once with "try again" instead of queueing without bound.
static HASHING: HashingQueue = HashingQueue::new(4, 64);

pub struct HashingQueue {
    running: Semaphore,
    admitted: AtomicUsize,
    max_admitted: usize,
}

/// Too many password checks are running or waiting: try again in a moment.
#[derive(Debug, PartialEq, Eq)]
pub struct Busy;

impl From<Busy> for AppError {
    fn from(_: Busy) -> Self {
        AppError::TooManyRequests(
            "Too many sign-ins at once. Wait a few seconds and try again.".into(),
        )
    }
}

impl HashingQueue {
    pub const fn new(at_once: usize, waiting: usize) -> Self {
        Self {
            running: Semaphore::const_new(at_once),
            admitted: AtomicUsize::new(0),
            max_admitted: at_once + waiting,
        }
    }

    /// Runs `work` on a blocking thread once a slot is free, or refuses it when the queue is
    /// full.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        self.admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_admitted).then_some(n + 1)
            })
            .map_err(|_| Busy)?;
        struct Leave<'a>(&'a AtomicUsize);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let _leave = Leave(&self.admitted);
        let _permit = self.running.acquire().await.map_err(|_| Busy)?;
        rocket::tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| Busy)
    }
}

/// Says what is wrong with a new password, if anything: too short, too long, or easy to guess
/// (common passwords, keyboard runs, dates, or the person's own name or email, estimated by
/// zxcvbn; at least 10^8 guesses are required, each of which argon2 makes slow).
/// Words anyone would try first against a school's Tellwise.
const CONTEXT_WORDS: [&str; 12] = [
    "tellwise",
    "teacher",
    "student",
    "school",
    "class",
    "classroom",
    "admin",
    "administrator",
    "principal",
    "district",
    "counselor",
    "password",
];

pub fn check_strength(password: &str, personal: &[&str]) -> Result<(), String> {
    if password.chars().count() < MIN_LENGTH {
        return Err(format!(
            "Choose a password of at least {MIN_LENGTH} characters."
        ));
    }
    if password.chars().count() > 256 {
        return Err("Choose a password of at most 256 characters.".into());
    }
    // zxcvbn matches whole inputs: give it the words of a name or an email as well.
    let words: Vec<String> = personal
        .iter()
        .map(|p| p.to_lowercase())
        .flat_map(|p| {
            let parts: Vec<String> = p
                .split(|c: char| c.is_whitespace() || c == '@')
                .chain(p.split(|c: char| !c.is_alphanumeric()))
                .filter(|w| w.chars().count() >= 3)
                .map(str::to_string)
                .collect();
            std::iter::once(p).chain(parts)
        })
        .collect();
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .chain(CONTEXT_WORDS)
        .collect();
    let estimate = zxcvbn::zxcvbn(password, &words);
    if estimate.score() < zxcvbn::Score::Three {
        let why = estimate
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| format!(" {w}"))
            .unwrap_or_default();
        return Err(format!(
            "That password is too easy to guess.{why} A few unrelated words together make a \
             strong password that is easy to remember."
        ));
    }
    Ok(())
}

pub fn hash_blocking(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// Whether a stored hash was made with other parameters than today's (an older argon2
/// variant, version, memory, time or parallelism): it is replaced at the next sign-in, when
/// the password is at hand, so raising the parameters reaches every account that is used.
pub fn needs_rehash(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return true;
    };
    let current = Argon2::default();
    let params = current.params();
    let same = parsed.algorithm == argon2::Algorithm::Argon2id.ident()
        && parsed.version == Some(argon2::Version::V0x13 as u32)
        && argon2::Params::try_from(&parsed).is_ok_and(|p| {
            p.m_cost() == params.m_cost()
                && p.t_cost() == params.t_cost()
                && p.p_cost() == params.p_cost()
        });
    !same
}

pub fn verify_blocking(hash: &str, password: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

pub async fn hash(password: String) -> AppResult<String> {
    HASHING
        .run(move || hash_blocking(&password))
        .await?
        .map_err(AppError::Internal)
}

pub async fn verify(hash: String, password: String) -> AppResult<bool> {
    Ok(HASHING
        .run(move || verify_blocking(&hash, &password))
        .await?)
}

/// A hash of a random password, used to spend the same time on unknown accounts as on known
/// ones so response times do not reveal which emails exist.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking(&crate::domain::codes::random_hex(16)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_right_password() {
        let hash = hash_blocking("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_blocking(&hash, "correct horse battery"));
        assert!(!verify_blocking(&hash, "correct horse battery!"));
        assert!(!verify_blocking("not a hash", "x"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_strength("short", &[]).is_err());
        assert!(check_strength("granite lemon bicycle", &[]).is_ok());
        for common in ["password123", "1234567890", "qwertyuiop", "iloveyou12345"] {
            let refused = check_strength(common, &[]).expect_err(common);
            assert!(refused.contains("too easy to guess"), "{common}: {refused}");
        }
        // Nor do the words of the place.
        let obvious = check_strength("tellwiseteacher", &[]).expect_err("context words");
        assert!(obvious.contains("too easy to guess"), "{obvious}");
        // The person's own name or email does not make a password.
        assert!(check_strength("marisol.quintana", &[]).is_ok());
        assert!(
            check_strength(
                "marisol.quintana",
                &["Marisol Quintana", "marisol.quintana@school.test"]
            )
            .is_err()
        );
    }

    #[rocket::async_test]
    async fn a_full_queue_refuses_at_once_and_frees_up_afterwards() {
        use std::sync::mpsc;
        let queue = std::sync::Arc::new(HashingQueue::new(1, 1));
        let (release, wait) = mpsc::channel::<()>();
        let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
        // One running (blocked until released), one waiting: the queue is full.
        let mut admitted = Vec::new();
        for _ in 0..2 {
            let queue = queue.clone();
            let wait = wait.clone();
            admitted.push(rocket::tokio::spawn(async move {
                queue
                    .run(move || wait.lock().map(|w| w.recv().is_ok()).unwrap_or(false))
                    .await
            }));
        }
        while queue.admitted.load(Ordering::Acquire) < 2 {
            rocket::tokio::task::yield_now().await;
        }
        assert_eq!(queue.run(|| true).await, Err(Busy), "a third is refused");
        release.send(()).expect("release");
        release.send(()).expect("release");
        for job in admitted {
            assert_eq!(job.await.expect("joined"), Ok(true));
        }
        assert_eq!(queue.run(|| 7).await, Ok(7), "room again once they finish");
    }

    #[test]
    fn only_hashes_with_other_parameters_need_rehashing() {
        assert!(!needs_rehash(
            &hash_blocking("granite lemon bicycle").expect("hash")
        ));
        let weaker = |algorithm, m, t| {
            Argon2::new(
                algorithm,
                argon2::Version::V0x13,
                argon2::Params::new(m, t, 1, None).expect("params"),
            )
            .hash_password(b"granite lemon bicycle")
            .expect("hash")
            .to_string()
        };
        let old = weaker(argon2::Algorithm::Argon2id, 8192, 1);
        assert!(needs_rehash(&old));
        assert!(
            verify_blocking(&old, "granite lemon bicycle"),
            "still verifies"
        );
        assert!(needs_rehash(&weaker(argon2::Algorithm::Argon2i, 19456, 2)));
        assert!(!needs_rehash(&weaker(
            argon2::Algorithm::Argon2id,
            19456,
            2
        )));
        assert!(needs_rehash("not a hash"));
    }
}
