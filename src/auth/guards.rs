//! Request guards, one per kind of caller. They compose: `Admin` builds on `Staff`. A failed
//! guard answers 401 (not signed in: pages send the browser to the sign-in form) or 403.

use std::net::IpAddr;

use rocket::http::Status;
use rocket::outcome::try_outcome;
use rocket::request::{FromRequest, Outcome, Request};
use sea_orm::EntityTrait;

use super::limits::Cost;
use super::tokens::{Audience, Claims};
use super::{cookie_names, session_cookie};
use crate::App;
use crate::curriculum::{Language, Module};
use crate::db::entities::user::ROLE_ADMIN;
use crate::db::entities::{class, student, user};
use crate::db::queries::progress::{self, ModuleState};
use crate::error::note_error;
use crate::i18n::ClassLanguage;

/// A signed-in staff member (teacher or administrator) using the web pages.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: user::Model,
}

impl Staff {
    pub fn is_admin(&self) -> bool {
        self.user.role == ROLE_ADMIN
    }
}

/// A staff member who is an administrator.
#[derive(Debug, Clone)]
pub struct Admin(pub Staff);

/// A staff member calling the JSON API with a bearer token.
#[derive(Debug, Clone)]
pub struct ApiStaff(pub Staff);

/// The staff account a request was made by, once a guard has checked it: refusals are logged
/// with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Actor(pub Option<i32>);

/// A signed-in student and their class.
#[derive(Debug, Clone)]
pub struct StudentSession {
    pub student: student::Model,
    pub class: class::Model,
}

async fn staff_from_token(
    req: &Request<'_>,
    audience: Audience,
    token: Option<&str>,
) -> Outcome<Staff, ()> {
    let Some(app) = req.rocket().state::<App>() else {
        return Outcome::Error((Status::InternalServerError, ()));
    };
    let Some(claims) = token.and_then(|t| app.keys.verify(audience, t)) else {
        return Outcome::Error((Status::Unauthorized, ()));
    };
    let Ok(id) = claims.sub.parse::<i32>() else {
        return Outcome::Error((Status::Unauthorized, ()));
    };
    match user::Entity::find_by_id(id).one(&app.db).await {
        Ok(Some(user)) if user.security_stamp == claims.stamp && !user.disabled => {
            req.local_cache(|| Actor(Some(user.id)));
            if !within_action_limits(req, app, &format!("staff:{}", user.id)) {
                return Outcome::Error((Status::TooManyRequests, ()));
            }
            if audience == Audience::Staff {
                renew_staff_session(req, app, &claims);
            }
            Outcome::Success(Staff { user })
        }
        Ok(_) => Outcome::Error((Status::Unauthorized, ())),
        Err(e) => {
            tracing::error!(error = %e, "database error while checking a staff session");
            Outcome::Error((Status::ServiceUnavailable, ()))
        }
    }
}

/// Whether this request fits its account's budget of writes and reports (see
/// `limits::ActionLimits`). Counted once per request, however many guards ask.
fn within_action_limits(req: &Request<'_>, app: &App, account: &str) -> bool {
    struct Counted(bool);
    let cost = Cost::of(req.method(), req.uri().path().as_str());
    let Counted(allowed) = req.local_cache(|| Counted(app.action_limits.allow(account, cost)));
    if !allowed {
        tracing::warn!(account, ?cost, "action limit reached");
        note_error(
            req,
            match cost {
                Cost::Report => {
                    "Too many reports and exports in a minute. Wait a minute and try again."
                }
                _ => "Too many changes in a minute. Wait a minute and try again.",
            },
        );
    }
    *allowed
}

/// Slides an active staff session forward: a new cookie that expires `staff_idle_minutes` from
/// now, but never later than `staff_max_hours` after signing in.
fn renew_staff_session(req: &Request<'_>, app: &App, claims: &Claims) {
    let lifetime = app.settings.staff_session();
    let now = chrono::Utc::now().timestamp();
    if !lifetime.due_for_renewal(claims, now) {
        return;
    }
    let auth_time = claims.auth_time.unwrap_or(claims.iat);
    match app
        .keys
        .issue_staff(&claims.sub, &claims.stamp, auth_time, now, lifetime)
    {
        Ok(token) => {
            let secure = app.settings.secure_cookies;
            req.cookies()
                .add(session_cookie(cookie_names(secure).staff, token, secure));
        }
        Err(e) => tracing::error!(error = %e, "cannot renew a staff session"),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Staff {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let outcome = req
            .local_cache_async(async {
                let secure = req
                    .rocket()
                    .state::<App>()
                    .is_some_and(|app| app.settings.secure_cookies);
                let token = req
                    .cookies()
                    .get(cookie_names(secure).staff)
                    .map(|c| c.value().to_string());
                match staff_from_token(req, Audience::Staff, token.as_deref()).await {
                    Outcome::Success(staff) => Ok(staff),
                    Outcome::Error((status, ())) => Err(status),
                    Outcome::Forward(status) => Err(status),
                }
            })
            .await;
        match outcome {
            Ok(staff) => Outcome::Success(staff.clone()),
            Err(status) => Outcome::Error((*status, ())),
        }
    }
}

/// The staff member this request's `Staff` guard already let in, without checking anew: for
/// error pages, which keep the staff navigation. Only for the end of a request (an error page),
/// since it stores "nobody" for a request whose guard has not run.
pub fn staff_let_in(req: &Request<'_>) -> Option<Staff> {
    req.local_cache(|| Err::<Staff, Status>(Status::Unauthorized))
        .as_ref()
        .ok()
        .cloned()
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Admin {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let staff = try_outcome!(req.guard::<Staff>().await);
        if staff.is_admin() {
            Outcome::Success(Admin(staff))
        } else {
            note_error(req, "This page is for administrators.");
            Outcome::Error((Status::Forbidden, ()))
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ApiStaff {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let header = req.headers().get_one("Authorization");
        let token = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim);
        if token.is_none() {
            note_error(
                req,
                "Send a bearer token: Authorization: Bearer <token> (get one from POST /api/v1/tokens).",
            );
        }
        match staff_from_token(req, Audience::Api, token).await {
            Outcome::Success(staff) => Outcome::Success(ApiStaff(staff)),
            Outcome::Error((status, ())) => {
                note_error(
                    req,
                    "The bearer token is missing, expired or revoked: request a new one.",
                );
                Outcome::Error((status, ()))
            }
            Outcome::Forward(status) => Outcome::Forward(status),
        }
    }
}

/// The app and the student a request's cookie names (their id and the token's claims), or the
/// status that refuses the request.
fn student_claims<'r>(req: &'r Request<'_>) -> Result<(&'r App, i32, Claims), Status> {
    let app = req
        .rocket()
        .state::<App>()
        .ok_or(Status::InternalServerError)?;
    let token = req
        .cookies()
        .get(cookie_names(app.settings.secure_cookies).student)
        .map(|c| c.value().to_string());
    let claims = token
        .and_then(|t| app.keys.verify(Audience::Student, &t))
        .ok_or(Status::Unauthorized)?;
    let id = claims.sub.parse().map_err(|_| Status::Unauthorized)?;
    Ok((app, id, claims))
}

/// A database error while checking a student's session: 503, so the page says "try again soon".
fn student_lookup_failed<T>(e: impl std::fmt::Display) -> Outcome<T, ()> {
    tracing::error!(error = %e, "database error while checking a student session");
    Outcome::Error((Status::ServiceUnavailable, ()))
}

/// Lets a student in whose token checked out: the stamp must still match (sign-out ends it) and
/// the class still run (an ended class's students are signed out with it).
fn admit_student(
    req: &Request<'_>,
    app: &App,
    claims: &Claims,
    student: student::Model,
    class: class::Model,
) -> Outcome<StudentSession, ()> {
    if student.security_stamp != claims.stamp || class.ended_at.is_some() {
        return Outcome::Error((Status::Unauthorized, ()));
    }
    req.local_cache(|| ClassLanguage(Language::parse(&class.language)));
    if !within_action_limits(req, app, &format!("student:{}", student.id)) {
        return Outcome::Error((Status::TooManyRequests, ()));
    }
    Outcome::Success(StudentSession { student, class })
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for StudentSession {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let (app, id, claims) = match student_claims(req) {
            Ok(found) => found,
            Err(status) => return Outcome::Error((status, ())),
        };
        let found = student::Entity::find_by_id(id)
            .find_also_related(class::Entity)
            .one(&app.db)
            .await;
        match found {
            Ok(Some((student, Some(class)))) => admit_student(req, app, &claims, student, class),
            Ok(_) => Outcome::Error((Status::Unauthorized, ())),
            Err(e) => student_lookup_failed(e),
        }
    }
}

/// A signed-in student on a page of one module (`/student/modules/<slug>/...`) and where they
/// stand in it (`None` when the module is not assigned to their class), read in the same query
/// as the session check. On a knowledge check (`before/<n>`) or a step (`steps/<n>`) the
/// student's answer to it comes along.
pub struct StudentInModule {
    pub session: StudentSession,
    pub state: Option<ModuleState>,
}

/// The step a module page at `before/<n>` or `steps/<n>` shows, and the phase its answer is in.
fn answer_shown<'a>(req: &Request<'_>, module: &'a Module) -> Option<(&'a str, &'a str)> {
    let index = req
        .routed_segment(4)?
        .parse::<usize>()
        .ok()?
        .checked_sub(1)?;
    match req.routed_segment(3)? {
        "before" => {
            let step = *module.check_steps().get(index)?;
            Some((module.steps[step].id.as_str(), progress::PHASE_PRE))
        }
        "steps" => Some((module.steps.get(index)?.id.as_str(), progress::PHASE_MAIN)),
        _ => None,
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for StudentInModule {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let (app, id, claims) = match student_claims(req) {
            Ok(found) => found,
            Err(status) => return Outcome::Error((status, ())),
        };
        // Only a module of the curriculum reaches the query: an unknown slug (odd bytes and all,
        // which PostgreSQL refuses as text) gets the plain session check, and the page a 404.
        let Some(module) = app
            .curriculum
            .get(req.routed_segment(2).unwrap_or_default())
        else {
            return StudentSession::from_request(req)
                .await
                .map(|session| StudentInModule {
                    session,
                    state: None,
                });
        };
        let answer_of = answer_shown(req, module);
        match progress::student_in_module(&app.db, id, &module.slug, answer_of).await {
            Ok(Some((student, class, state))) => admit_student(req, app, &claims, student, class)
                .map(|session| StudentInModule { session, state }),
            Ok(None) => Outcome::Error((Status::Unauthorized, ())),
            Err(e) => student_lookup_failed(e),
        }
    }
}

/// The client's address for limits and staff sign-in logs. Without `ip_header` it is the
/// connection's peer. With it, a trusted proxy's header: a plain address (`X-Real-IP`) or a
/// list (`X-Forwarded-For: client, proxy1`), of which only the last entry is taken, because
/// that is the one the nearest proxy appended; entries before it are whatever the client sent.
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    pub fn from_header(value: &str) -> Option<IpAddr> {
        let last = value.rsplit(',').next()?.trim();
        last.parse::<IpAddr>()
            .ok()
            .or_else(|| last.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddress {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let from_proxy = request
            .rocket()
            .config()
            .ip_header
            .as_deref()
            .and_then(|name| request.headers().get_one(name.as_str()))
            .and_then(Self::from_header);
        Outcome::Success(Self(
            from_proxy.or_else(|| request.remote().map(|r| r.ip())),
        ))
    }
}
