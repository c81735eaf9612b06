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
    // A 404 with no route is an unknown address, not a refusal worth a look.
    if status != Status::NotFound || req.route().is_some() {
        crate::error::log_refusal(req, status);
    }
    if is_api(req) {
        // No route took it: either no route has its method (404), or Rocket does not know the
        // method at all (a salvaged request, 400; an unparseable address would not be here).
        let unrouted =
            req.route().is_none() && (status == Status::NotFound || status == Status::BadRequest);
        if unrouted {
            let allowed = methods_for_path(req);
            if !allowed.is_empty() {
                let message = format!("This address answers {} only.", allowed.join(", "));
                return CaughtError::MethodNotAllowed(allowed.join(", "), message);
            }
        }
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

/// The methods of the routes whose path matches the request's, when none of them has its method:
/// a 405 with `Allow` tells an API client what it can do there, where a 404 would mislead.
fn methods_for_path(req: &Request<'_>) -> Vec<String> {
    let path: Vec<&str> = req.uri().path().segments().collect();
    let mut methods: Vec<String> = req
        .rocket()
        .routes()
        .filter(|route| {
            let pattern: Vec<&str> = route
                .uri
                .path()
                .split('/')
                .filter(|s| !s.is_empty())
                .collect();
            pattern.len() == path.len()
                && pattern
                    .iter()
                    .zip(&path)
                    .all(|(p, s)| p.starts_with('<') || p == s)
        })
        .map(|route| route.method.as_str().to_string())
        .collect();
    if methods.iter().any(|m| m == "GET") {
        methods.push("HEAD".into());
    }
    methods.sort();
    methods.dedup();
    methods
}

enum CaughtError {
    Json(Status, String),
    MethodNotAllowed(String, String),
    Redirect(Redirect),
    Page(Page),
}

impl<'r> Responder<'r, 'static> for CaughtError {
    fn respond_to(self, req: &'r Request<'_>) -> rocket::response::Result<'static> {
        let mut response = match self {
            CaughtError::Json(status, message) => json_error(status, &message),
            CaughtError::MethodNotAllowed(allow, message) => {
                let mut response = json_error(Status::MethodNotAllowed, &message);
                response.set_header(Header::new("Allow", allow));
                response
            }
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
