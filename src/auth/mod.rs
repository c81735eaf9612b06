//! Who is asking: staff passwords, signed session tokens, request guards per role, and CSRF.

pub mod csrf;
pub mod guards;
pub mod limits;
pub mod passwords;
pub mod tokens;

pub use guards::{Admin, ApiStaff, Staff, StudentSession};
pub use tokens::{Audience, Keys};

/// Cookie names. `SameSite=Strict` and `HttpOnly` on all of them.
pub const STAFF_COOKIE: &str = "tw_staff";
pub const STUDENT_COOKIE: &str = "tw_student";
pub const CSRF_COOKIE: &str = "tw_csrf";

/// A session cookie: `HttpOnly`, `SameSite=Strict`, `Secure` when served over HTTPS. No
/// `Max-Age`: it ends with the browser session, and the token inside expires on its own.
pub fn session_cookie(
    name: &'static str,
    token: String,
    secure: bool,
) -> rocket::http::Cookie<'static> {
    rocket::http::Cookie::build((name, token))
        .http_only(true)
        .same_site(rocket::http::SameSite::Strict)
        .secure(secure)
        .path("/")
        .build()
}
