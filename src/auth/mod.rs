//! Who is asking: staff passwords, signed session tokens, request guards per role, and CSRF.

pub mod csrf;
pub mod guards;
pub mod limits;
pub mod passwords;
pub mod tokens;

pub use guards::{Admin, ApiStaff, ClientAddress, Staff, StudentInModule, StudentSession};
pub use tokens::{Audience, Keys};

use rocket::http::CookieJar;

/// The session and CSRF cookies' names. Over HTTPS they carry the `__Host-` prefix: browsers
/// accept such a cookie only with `Secure`, `Path=/` and no `Domain`, so a neighbouring
/// subdomain can neither set nor shadow it.
#[derive(Debug, Clone, Copy)]
pub struct CookieNames {
    pub staff: &'static str,
    pub student: &'static str,
    pub csrf: &'static str,
    pub language: &'static str,
}

pub fn cookie_names(secure: bool) -> CookieNames {
    if secure {
        CookieNames {
            staff: "__Host-tw_staff",
            student: "__Host-tw_student",
            csrf: "__Host-tw_csrf",
            language: "__Host-tw_lang",
        }
    } else {
        CookieNames {
            staff: "tw_staff",
            student: "tw_student",
            csrf: "tw_csrf",
            language: "tw_lang",
        }
    }
}

/// A session cookie: `HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` when served over HTTPS.
/// No `Max-Age`: it ends with the browser session, and the token inside expires on its own.
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

/// Removes a session cookie with the attributes it was set with (a `__Host-` cookie can only
/// be replaced by one that is `Secure` with `Path=/`).
pub fn end_session(cookies: &CookieJar<'_>, name: &'static str, secure: bool) {
    cookies.remove(session_cookie(name, String::new(), secure));
}

/// Signs the staff member in on this browser: a session that lasts while they are active, up to
/// the absolute limit from now.
pub fn start_staff_session(
    app: &crate::App,
    cookies: &CookieJar<'_>,
    user_id: i32,
    stamp: &str,
) -> Result<(), String> {
    let now = chrono::Utc::now().timestamp();
    let secure = app.settings.secure_cookies;
    let token = app.keys.issue_staff(
        &user_id.to_string(),
        stamp,
        now,
        now,
        app.settings.staff_session(),
    )?;
    cookies.add(session_cookie(cookie_names(secure).staff, token, secure));
    Ok(())
}
