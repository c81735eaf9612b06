//! Pages anyone can open: the front door and the help page.

use rocket::form::FromForm;
use rocket::http::CookieJar;
use rocket::response::Redirect;
use rocket::{Either, Route, State, get, post, routes};
use serde_json::json;

use crate::App;
use crate::auth::csrf::Checked;
use crate::auth::{Staff, StudentSession};
use crate::config::national_help_in;
use crate::csrf_form;
use crate::curriculum::Language;
use crate::db::queries::staff;
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, remember_language};
use crate::views::{Page, Viewer};

pub fn routes() -> Vec<Route> {
    routes![home, help, choose_language, live, ready]
}

#[derive(FromForm)]
struct LanguageForm {
    csrf_token: String,
    lang: String,
    #[field(default = String::from("/"))]
    back: String,
}

csrf_form!(LanguageForm);

/// Switches the student-facing language on this device and returns to the page it came from.
#[post("/language", data = "<form>")]
fn choose_language(
    app: &State<App>,
    cookies: &CookieJar<'_>,
    form: Checked<LanguageForm>,
) -> AppResult<Redirect> {
    let form = form.0;
    let language = Language::parse(&form.lang).ok_or_else(|| {
        AppError::BadRequest(format!(
            "{:?} is not a language Tellwise speaks: use en or es.",
            form.lang
        ))
    })?;
    remember_language(cookies, language, app.settings.secure_cookies);
    // Only a valid path on this site: never send the browser elsewhere, and never answer a
    // garbled address with anything but the home page.
    let local = form.back.starts_with('/')
        && !form.back.starts_with("//")
        && !form.back.contains('\\')
        && rocket::http::uri::Origin::parse(&form.back).is_ok();
    let back = if local { form.back } else { "/".to_string() };
    Ok(Redirect::to(back))
}

#[get("/")]
async fn home(
    app: &State<App>,
    staff: Option<Staff>,
    student: Option<StudentSession>,
) -> AppResult<Either<Redirect, Page>> {
    if staff.is_some() {
        return Ok(Either::Left(Redirect::to("/teacher")));
    }
    if student.is_some() {
        return Ok(Either::Left(Redirect::to("/student")));
    }
    let needs_setup = !staff::admin_exists(&app.db).await?;
    Ok(Either::Right(Page::new(
        "home",
        "Tellwise",
        json!({ "needs_setup": needs_setup }),
    )))
}

/// Help contacts: the school's trusted adult and local resources first, then national ones.
#[get("/help")]
fn help(
    app: &State<App>,
    staff: Option<Staff>,
    student: Option<StudentSession>,
    lang: Lang,
) -> Page {
    let settings = &app.settings.help;
    let lang = if staff.is_some() {
        Language::En
    } else {
        lang.0
    };
    let page = Page::new(
        "help",
        crate::i18n::t(lang, "help.title"),
        json!({
            "trusted_adult": settings.trusted_adult,
            "local": settings.local,
            "national": national_help_in(lang),
        }),
    );
    match (staff, student) {
        (Some(staff), _) => page.for_staff(&staff),
        (None, Some(student)) => page.for_viewer(Viewer::student(&student.student.display_name)),
        (None, None) => page,
    }
}

/// The process is up (for a supervisor); says nothing about the database.
#[get("/health/live")]
fn live() -> &'static str {
    "ok"
}

/// Ready to serve: the database answers (for a load balancer).
#[get("/health/ready")]
async fn ready(app: &State<App>) -> AppResult<&'static str> {
    // A load balancer wants a quick answer: waiting out the pool's whole connect timeout would
    // keep it guessing.
    let answer = rocket::tokio::time::timeout(std::time::Duration::from_secs(2), app.db.ping())
        .await
        .map_err(|_| {
            AppError::Database(sea_orm::DbErr::Custom(
                "the database did not answer within 2 s".into(),
            ))
        })?;
    answer.map_err(AppError::Database)?;
    Ok("ok")
}
