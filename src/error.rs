//! One error type for every handler. The user sees what to fix; the log gets the cause; a
//! database error never reaches the page. Pages get an HTML error page, `/api/` gets the JSON
//! envelope `{"errors":[{"detail": "..."}]}`.

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::json;
use std::io::Cursor;

use crate::curriculum::Language;
use crate::i18n;
use crate::views::Page;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("database unavailable: {0}")]
    Database(#[from] sea_orm::DbErr),
}

pub type AppResult<T> = Result<T, AppError>;

/// Internal failures described as text (token signing, hashing) are internal errors.
impl From<String> for AppError {
    fn from(cause: String) -> Self {
        Self::Internal(cause)
    }
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn not_found() -> Self {
        Self::NotFound(
            "We could not find that page. It may have been removed, or the link is wrong.".into(),
        )
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn status(&self) -> Status {
        match self {
            Self::BadRequest(_) => Status::BadRequest,
            Self::NotFound(_) => Status::NotFound,
            Self::Conflict(_) => Status::Conflict,
            Self::Forbidden(_) => Status::Forbidden,
            Self::Unauthorized(_) => Status::Unauthorized,
            Self::TooManyRequests(_) => Status::TooManyRequests,
            Self::Internal(_) => Status::InternalServerError,
            Self::Database(_) => Status::ServiceUnavailable,
        }
    }

    /// What the user is told.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "Something went wrong on our side. Please try again; nothing you entered was saved twice.".into(),
            Self::Database(_) => "Tellwise cannot reach its database right now. Please try again in a minute.".into(),
            other => other.to_string(),
        }
    }
}

/// What went wrong, in the reader's language, when the handler said nothing more precise.
pub fn default_message(language: Language, status: Status) -> String {
    let key = match status.code {
        400 | 403 | 404 | 405 | 413 | 415 | 422 | 429 | 503 => format!("error.{}", status.code),
        _ => "error.500".to_string(),
    };
    i18n::t(language, &key)
}

/// The error page: titled and explained in the student's language (staff pages are English).
pub fn error_page(req: &Request<'_>, status: Status, message: Option<String>) -> Page {
    let path = req.uri().path();
    let language = if path.starts_with("/teacher") || path.starts_with("/admin") {
        Language::En
    } else {
        i18n::language_of(req)
    };
    let title = match status.code {
        403 | 404 | 409 | 429 | 503 => i18n::t(language, &format!("error.title.{}", status.code)),
        _ => i18n::t(language, "error.title"),
    };
    let message = message.unwrap_or_else(|| default_message(language, status));
    let page = Page::error(status, &title, &message).in_language(language);
    match crate::auth::guards::staff_let_in(req) {
        Some(staff) => page.for_staff(&staff),
        None => page,
    }
}

/// Refusals go to the log with the account and the address asked for (never the input):
/// access refused (403, and 404 for an id that is not the caller's) as warnings, input refused
/// (400, 409, 422) as information.
pub fn log_refusal(req: &Request<'_>, status: Status) {
    let actor = req.local_cache(crate::auth::guards::Actor::default).0;
    match status.code {
        403 | 404 => tracing::warn!(
            status = status.code,
            method = %req.method(),
            path = %req.uri().path(),
            actor_id = actor,
            "access refused"
        ),
        400 | 409 | 422 => tracing::info!(
            status = status.code,
            method = %req.method(),
            path = %req.uri().path(),
            actor_id = actor,
            "input refused"
        ),
        _ => {}
    }
}

/// A message for the error catcher to show, set by guards and form parsing, which can only
/// report a status.
pub struct ErrorDetail(pub Option<String>);

pub fn note_error(req: &Request<'_>, message: impl Into<String>) {
    let message = message.into();
    req.local_cache(|| ErrorDetail(Some(message)));
}

pub fn noted_error(req: &Request<'_>) -> Option<String> {
    req.local_cache(|| ErrorDetail(None)).0.clone()
}

pub fn is_api(req: &Request<'_>) -> bool {
    req.uri().path().starts_with("/api/")
}

/// The JSON error envelope.
pub fn json_error(status: Status, detail: &str) -> Response<'static> {
    let body = json!({ "errors": [{ "status": status.code, "detail": detail }] }).to_string();
    Response::build()
        .status(status)
        .header(ContentType::JSON)
        .sized_body(body.len(), Cursor::new(body))
        .finalize()
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        match &self {
            Self::Internal(cause) => {
                tracing::error!(%cause, path = %req.uri().path(), "request failed")
            }
            Self::Database(cause) => {
                tracing::error!(%cause, path = %req.uri().path(), "database error")
            }
            _ => log_refusal(req, self.status()),
        }
        let status = self.status();
        if is_api(req) {
            return Ok(json_error(status, &self.public_message()));
        }
        let message = match &self {
            // The generic messages are translated; the others come from the handler.
            Self::Internal(_) | Self::Database(_) => None,
            other => Some(other.public_message()),
        };
        error_page(req, status, message).respond_to(req)
    }
}
