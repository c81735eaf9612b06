//! Sign-in rate limits, per app server (a load balancer multiplies them by the number of
//! servers, which still keeps guessing slow). Limits refill continuously, so a real user is
//! never locked out for more than a minute.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct SignInLimits {
    staff_account: DefaultKeyedRateLimiter<String>,
    staff_address: DefaultKeyedRateLimiter<String>,
    student_class: DefaultKeyedRateLimiter<String>,
    student_name: DefaultKeyedRateLimiter<String>,
}

fn per_minute(n: u32) -> DefaultKeyedRateLimiter<String> {
    RateLimiter::keyed(Quota::per_minute(
        NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN),
    ))
}

/// Keeps the limiter's memory bounded by dropping keys whose budget is full again.
fn allow(limiter: &DefaultKeyedRateLimiter<String>, key: String) -> bool {
    if limiter.len() > 10_000 {
        limiter.retain_recent();
    }
    limiter.check_key(&key).is_ok()
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            staff_account: per_minute(10),
            staff_address: per_minute(60),
            // A whole class signs in at once, often from one school address.
            student_class: per_minute(90),
            student_name: per_minute(10),
        }
    }
}

impl SignInLimits {
    pub fn allow_staff(&self, email: &str, address: Option<String>) -> bool {
        let account = allow(&self.staff_account, email.trim().to_lowercase());
        let from = allow(&self.staff_address, address.unwrap_or_default());
        account && from
    }

    pub fn allow_student(&self, class_code: &str, name: &str) -> bool {
        let class = allow(&self.student_class, class_code.to_string());
        let person = allow(
            &self.student_name,
            // Keyed on the name as sign-in compares it, so spacing cannot open a new bucket.
            format!(
                "{class_code}\u{0}{}",
                name.split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase()
            ),
        );
        class && person
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_per_key() {
        let limits = SignInLimits::default();
        for _ in 0..10 {
            assert!(limits.allow_student("ABCDEF", "Ana  Maria"));
        }
        assert!(
            !limits.allow_student("ABCDEF", "ana maria "),
            "same student, any spelling"
        );
        assert!(
            !limits.allow_student("ABCDEF", " ANA\tMaria"),
            "spacing does not open a new bucket"
        );
        assert!(
            limits.allow_student("ABCDEF", "Ben"),
            "classmates are not affected"
        );
        for _ in 0..10 {
            limits.allow_staff("a@school.org", None);
        }
        assert!(!limits.allow_staff("A@school.org", None));
        assert!(limits.allow_staff("b@school.org", None));
    }
}
