//! Administrator pages: teacher accounts.

use rocket::form::FromForm;
use rocket::response::Redirect;
use rocket::{Route, State, get, post, routes, uri};
use serde_json::json;

use crate::App;
use crate::auth::csrf::Checked;
use crate::auth::{Admin, passwords};
use crate::csrf_form;
use crate::db::entities::user::ROLE_TEACHER;
use crate::db::queries::staff::{self, NewStaff};
use crate::domain::input::{parse_email, parse_name};
use crate::error::{AppError, AppResult};
use crate::views::Page;

pub fn routes() -> Vec<Route> {
    routes![teachers, create_teacher, set_active]
}

#[derive(FromForm)]
struct NewTeacherForm {
    csrf_token: String,
    name: String,
    email: String,
    password: String,
}

#[derive(FromForm)]
struct ActiveForm {
    csrf_token: String,
    active: bool,
}

csrf_form!(NewTeacherForm, ActiveForm);

#[get("/admin/teachers")]
async fn teachers(app: &State<App>, admin: Admin) -> AppResult<Page> {
    let users = staff::list(&app.db).await?;
    let rows: Vec<_> = users
        .iter()
        .map(|u| {
            json!({
                "id": u.id,
                "name": u.display_name,
                "email": u.email,
                "role": u.role,
                "disabled": u.disabled,
                "is_self": u.id == admin.0.user.id,
            })
        })
        .collect();
    Ok(Page::new(
        "admin/teachers",
        "Staff accounts",
        json!({ "users": rows, "min_password": passwords::MIN_LENGTH }),
    )
    .for_staff(&admin.0))
}

/// Creates a teacher with a first password the administrator hands over; the teacher changes
/// it under "Your account".
#[post("/admin/teachers", data = "<form>")]
async fn create_teacher(
    app: &State<App>,
    admin: Admin,
    form: Checked<NewTeacherForm>,
) -> AppResult<Redirect> {
    let form = form.0;
    let display_name = parse_name(&form.name, "name", 100).map_err(AppError::BadRequest)?;
    let email = parse_email(&form.email).map_err(AppError::BadRequest)?;
    passwords::check_strength(&form.password).map_err(AppError::BadRequest)?;
    let password_hash = passwords::hash(form.password)
        .await
        .map_err(AppError::internal)?;
    let user = staff::create(
        &app.db,
        NewStaff {
            school_id: admin.0.user.school_id,
            email,
            display_name,
            password_hash,
            role: ROLE_TEACHER,
        },
    )
    .await?;
    tracing::info!(
        admin_id = admin.0.user.id,
        user_id = user.id,
        "teacher account created"
    );
    Ok(Redirect::to(uri!(teachers)))
}

/// Disabling an account signs it out everywhere at once.
#[post("/admin/teachers/<id>/active", data = "<form>")]
async fn set_active(
    app: &State<App>,
    admin: Admin,
    id: i32,
    form: Checked<ActiveForm>,
) -> AppResult<Redirect> {
    if id == admin.0.user.id {
        return Err(AppError::bad_request(
            "You cannot disable your own account.",
        ));
    }
    staff::find(&app.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    staff::set_disabled(&app.db, id, !form.0.active).await?;
    tracing::info!(
        admin_id = admin.0.user.id,
        user_id = id,
        active = form.0.active,
        "staff account status changed"
    );
    Ok(Redirect::to(uri!(teachers)))
}
