//! Pages anyone can open: the front door and the help page.

use rocket::response::Redirect;
use rocket::{Either, Route, State, get, routes};
use serde_json::json;

use crate::App;
use crate::auth::{Staff, StudentSession};
use crate::config::national_help;
use crate::db::queries::staff;
use crate::error::{AppError, AppResult};
use crate::views::{Page, Viewer};

pub fn routes() -> Vec<Route> {
    routes![home, help, live, ready]
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
        "Welcome",
        json!({ "needs_setup": needs_setup }),
    )))
}

/// Help contacts: the school's trusted adult and local resources first, then national ones.
#[get("/help")]
fn help(app: &State<App>, staff: Option<Staff>, student: Option<StudentSession>) -> Page {
    let settings = &app.settings.help;
    let page = Page::new(
        "help",
        "Get help",
        json!({
            "trusted_adult": settings.trusted_adult,
            "local": settings.local,
            "national": national_help(),
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
    app.db.ping().await.map_err(AppError::Database)?;
    Ok("ok")
}
