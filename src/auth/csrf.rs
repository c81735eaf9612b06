//! CSRF protection for every form: a random token in an encrypted, `SameSite=Strict` cookie,
//! repeated in a hidden field, and compared in constant time. `Checked<T>` parses a form and
//! refuses it (403) unless its `csrf_token` field matches, so a handler cannot forget the check.

use rocket::data::{self, Data, FromData};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::outcome::Outcome;
use rocket::request::Request;

use super::cookie_names;
use crate::error::note_error;

/// The token to put in forms rendered for this browser, created on first use.
pub fn token_for(cookies: &CookieJar<'_>, secure: bool) -> String {
    let name = cookie_names(secure).csrf;
    if let Some(cookie) = cookies.get_private(name) {
        return cookie.value().to_string();
    }
    let token = crate::domain::codes::random_hex(32);
    let cookie = Cookie::build((name, token.clone()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/");
    cookies.add_private(cookie);
    token
}

pub fn verify_csrf(cookies: &CookieJar<'_>, secure: bool, submitted: &str) -> bool {
    match cookies.get_private(cookie_names(secure).csrf) {
        Some(cookie) => constant_time_eq(cookie.value().as_bytes(), submitted.as_bytes()),
        None => false,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const EXPIRED: &str =
    "This form has expired or was not sent from Tellwise. Go back, reload the page and try again.";

/// Forms that carry the hidden `csrf_token` field.
pub trait HasCsrf {
    fn csrf_token(&self) -> &str;
}

/// A form whose CSRF token has been checked.
pub struct Checked<T>(pub T);

fn refuse_without_token(req: &Request<'_>) {
    tracing::warn!(path = %req.uri().path(), "form refused: CSRF token missing or wrong");
    note_error(req, EXPIRED);
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + HasCsrf + Send> FromData<'r> for Checked<T> {
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        match Form::<T>::from_data(req, data).await {
            Outcome::Success(form) => {
                let form = form.into_inner();
                let secure = req
                    .rocket()
                    .state::<crate::App>()
                    .is_some_and(|app| app.settings.secure_cookies);
                if verify_csrf(req.cookies(), secure, form.csrf_token()) {
                    Outcome::Success(Checked(form))
                } else {
                    refuse_without_token(req);
                    Outcome::Error((Status::Forbidden, ()))
                }
            }
            Outcome::Error((_, errors))
                if errors
                    .iter()
                    .any(|e| e.name.as_ref().is_some_and(|n| n == "csrf_token")) =>
            {
                refuse_without_token(req);
                Outcome::Error((Status::Forbidden, ()))
            }
            Outcome::Error((status, errors)) => {
                let details: Vec<String> = errors
                    .iter()
                    .map(|e| match &e.name {
                        Some(name) => format!("{name}: {}", e.kind),
                        None => e.kind.to_string(),
                    })
                    .collect();
                note_error(
                    req,
                    format!(
                        "The form could not be read ({}). Go back and check it.",
                        details.join("; ")
                    ),
                );
                Outcome::Error((status, ()))
            }
            Outcome::Forward((data, status)) => Outcome::Forward((data, status)),
        }
    }
}

/// Declares a form struct's `csrf_token` field as its CSRF token.
#[macro_export]
macro_rules! csrf_form {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::auth::csrf::HasCsrf for $form {
            fn csrf_token(&self) -> &str {
                &self.csrf_token
            }
        })+
    };
}

/// A form that carries nothing but its CSRF token (sign-out, remove, renew, and the like).
#[derive(rocket::form::FromForm)]
pub struct CsrfOnly {
    csrf_token: String,
}

impl HasCsrf for CsrfOnly {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}
