//! HTTP routes, one module per audience. Handlers stay thin: guards, a call into the domain or
//! a query, a response.

mod admin;
mod api;
mod assets;
mod public;
mod records;
mod reports;
mod staff;
mod student;
mod teacher;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Header, Status};
use rocket::request::Request;
use rocket::response::{Redirect, Responder};
use rocket::{Catcher, Response, Route, catch, catchers};

use crate::curriculum::Language;
use crate::error::{default_message, error_page, is_api, json_error, noted_error};
use crate::views::Page;

pub fn routes() -> Vec<Route> {
    [
        public::routes(),
        assets::routes(),
        staff::routes(),
        admin::routes(),
        teacher::routes(),
        records::routes(),
        reports::routes(),
        student::routes(),
        api::routes(),
    ]
    .concat()
}

pub fn catchers() -> Vec<Catcher> {
    catchers![any_error]
}

/// One catcher for every status: JSON under `/api/`, the sign-in form for pages that need a
/// session, an error page otherwise.
#[catch(default)]
fn any_error(status: Status, req: &Request<'_>) -> CaughtError {
    if is_api(req) {
        let message = noted_error(req).unwrap_or_else(|| default_message(Language::En, status));
        return CaughtError::Json(status, message);
    }
    if status == Status::Unauthorized {
        let target = if req.uri().path().starts_with("/student") {
            "/student/login"
        } else {
            "/login"
        };
        return CaughtError::Redirect(Redirect::to(target));
    }
    CaughtError::Page(error_page(req, status, noted_error(req)))
}

enum CaughtError {
    Json(Status, String),
    Redirect(Redirect),
    Page(Page),
}

impl<'r> Responder<'r, 'static> for CaughtError {
    fn respond_to(self, req: &'r Request<'_>) -> rocket::response::Result<'static> {
        let mut response = match self {
            CaughtError::Json(status, message) => json_error(status, &message),
            CaughtError::Redirect(redirect) => redirect.respond_to(req)?,
            CaughtError::Page(page) => page.respond_to(req)?,
        };
        set_security_headers(req, &mut response);
        Ok(response)
    }
}

/// Security headers on every response, errors and static files included; HSTS when Tellwise is
/// served over HTTPS (`secure_cookies`).
pub struct SecurityHeaders;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        set_security_headers(req, res);
    }
}

/// The headers every response carries. The fairing sets them; the catcher sets them too,
/// because Rocket answers a request whose address it cannot parse without running fairings.
fn set_security_headers(req: &Request<'_>, res: &mut Response<'_>) {
    res.set_header(Header::new(
        "Content-Security-Policy",
        CONTENT_SECURITY_POLICY,
    ));
    res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
    res.set_header(Header::new("Referrer-Policy", "no-referrer"));
    res.set_header(Header::new("X-Frame-Options", "DENY"));
    res.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
    res.set_header(Header::new(
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=()",
    ));
    let over_https = req
        .rocket()
        .state::<crate::App>()
        .is_some_and(|app| app.settings.secure_cookies);
    if over_https {
        res.set_header(Header::new(
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ));
    }
    if req.uri().path().starts_with("/static/") && res.status() == Status::Ok {
        res.set_header(Header::new("Cache-Control", "public, max-age=86400"));
    } else {
        res.set_header(Header::new("Cache-Control", "no-store"));
    }
}
