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

/// What a signed-in request costs against its account's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// Reading a page: free, pages are cheap.
    Free,
    /// Any change through a form or the API, answers included.
    Write,
    /// A roll-up report, a CSV or JSON export, a printable summary: reads that scan many rows.
    Report,
}

impl Cost {
    pub fn of(method: rocket::http::Method, path: &str) -> Self {
        use rocket::http::Method::{Get, Head};
        if !matches!(method, Get | Head) {
            Self::Write
        } else if path.starts_with("/reports")
            || path.ends_with(".csv")
            || path.ends_with(".json")
            || path.ends_with("/results")
            || path.ends_with("/summary")
        {
            Self::Report
        } else {
            Self::Free
        }
    }
}

/// Budgets per signed-in account (staff or student) and app server, so that one account, a
/// script or a stolen session, cannot flood the database with writes or costly reports. Far
/// above what a person does: a student answers a step every few seconds.
pub struct ActionLimits {
    writes: DefaultKeyedRateLimiter<String>,
    reports: DefaultKeyedRateLimiter<String>,
}

impl ActionLimits {
    pub fn new(writes_per_minute: u32, reports_per_minute: u32) -> Self {
        Self {
            writes: per_minute(writes_per_minute),
            reports: per_minute(reports_per_minute),
        }
    }

    /// `account` names the account kind and id, e.g. `staff:7` or `student:42`.
    pub fn allow(&self, account: &str, cost: Cost) -> bool {
        match cost {
            Cost::Free => true,
            Cost::Write => allow(&self.writes, account.to_string()),
            Cost::Report => allow(&self.reports, account.to_string()),
        }
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

    #[test]
    fn writes_and_reports_have_separate_budgets_per_account() {
        use rocket::http::Method;
        let limits = ActionLimits::new(3, 2);
        let save = Cost::of(Method::Post, "/student/modules/m/steps/2");
        let csv = Cost::of(Method::Get, "/teacher/classes/1/progress.csv");
        assert_eq!(save, Cost::Write);
        assert_eq!(csv, Cost::Report);
        assert_eq!(Cost::of(Method::Get, "/reports"), Cost::Report);
        assert_eq!(Cost::of(Method::Get, "/teacher/classes/1"), Cost::Free);
        assert_eq!(Cost::of(Method::Delete, "/api/v1/classes/1"), Cost::Write);
        for _ in 0..3 {
            assert!(limits.allow("student:1", save));
        }
        assert!(!limits.allow("student:1", save));
        assert!(limits.allow("student:2", save), "another account");
        assert!(
            limits.allow("student:1", Cost::Free),
            "pages are never limited"
        );
        assert!(limits.allow("staff:1", csv) && limits.allow("staff:1", csv));
        assert!(!limits.allow("staff:1", csv));
        assert!(limits.allow("staff:1", save), "reports do not spend writes");
    }
}
