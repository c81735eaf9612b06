//! Administrator pages: staff accounts (teachers, school administrators, partners), schools,
//! and which schools share their aggregate reports with which partner.

use rocket::form::FromForm;
use rocket::response::Redirect;
use rocket::{Route, State, get, post, routes, uri};
use serde_json::json;

use super::teacher::{RequestHost, base_url};
use crate::App;
use crate::auth::csrf::{Checked, CsrfOnly};
use crate::auth::{Admin, Audience, Staff, passwords};
use crate::csrf_form;
use crate::db::entities::user::{
    ROLE_ADMIN, ROLE_PARTNER, ROLE_SCHOOL_ADMIN, ROLE_TEACHER, STAFF_ROLES,
};
use crate::db::queries::staff::{self, NewStaff};
use crate::db::queries::{audit, retention};
use crate::domain::input::{parse_email, parse_name};
use crate::error::{AppError, AppResult};
use crate::views::Page;

pub fn routes() -> Vec<Route> {
    routes![
        teachers,
        create_teacher,
        set_active,
        schools,
        create_school,
        grant,
        revoke,
        audit_log,
        reset_link,
        sign_out_everywhere,
        retention_page,
        purge_class
    ]
}

#[derive(FromForm)]
struct NewTeacherForm {
    csrf_token: String,
    name: String,
    email: String,
    #[field(default = String::from(ROLE_TEACHER))]
    role: String,
    school_id: Option<i32>,
}

#[derive(FromForm)]
struct NewSchoolForm {
    csrf_token: String,
    name: String,
}

#[derive(FromForm)]
struct GrantForm {
    csrf_token: String,
    partner_id: i32,
}

#[derive(FromForm)]
struct ActiveForm {
    csrf_token: String,
    active: bool,
}

#[derive(FromForm)]
struct PurgeForm {
    csrf_token: String,
    confirm: Option<String>,
}

csrf_form!(
    NewTeacherForm,
    ActiveForm,
    NewSchoolForm,
    GrantForm,
    PurgeForm
);

fn role_label(role: &str) -> &'static str {
    match role {
        ROLE_ADMIN => "Administrator (everything)",
        ROLE_SCHOOL_ADMIN => "School administrator (all classes of one school)",
        ROLE_PARTNER => "Prevention partner (aggregates of schools that grant access)",
        _ => "Teacher",
    }
}

#[get("/admin/teachers")]
async fn teachers(app: &State<App>, admin: Admin) -> AppResult<Page> {
    let users = staff::list(&app.db).await?;
    let schools = staff::schools(&app.db).await?;
    let school_name = |id: Option<i32>| {
        id.and_then(|id| schools.iter().find(|s| s.id == id))
            .map(|s| s.name.clone())
    };
    let rows: Vec<_> = users
        .iter()
        .map(|u| {
            json!({
                "id": u.id,
                "name": u.display_name,
                "email": u.email,
                "role": role_label(&u.role),
                "school": school_name(u.school_id),
                "disabled": u.disabled,
                "is_self": u.id == admin.0.user.id,
            })
        })
        .collect();
    let roles: Vec<_> = STAFF_ROLES
        .iter()
        .map(|r| json!({ "value": r, "label": role_label(r) }))
        .collect();
    let school_choices: Vec<_> = schools
        .iter()
        .map(|s| json!({ "id": s.id, "name": s.name }))
        .collect();
    Ok(Page::new(
        "admin/teachers",
        "Staff accounts",
        json!({
        "users": rows,
        "roles": roles,
        "schools": school_choices,
                }),
    )
    .for_staff(&admin.0))
}

/// Creates a staff account with no usable password and shows a one-time link with which the
/// new member chooses their own: nobody else ever knows it, and an unused link expires.
#[post("/admin/teachers", data = "<form>")]
async fn create_teacher(
    app: &State<App>,
    admin: Admin,
    host: RequestHost,
    form: Checked<NewTeacherForm>,
) -> AppResult<Page> {
    let form = form.0;
    let display_name = parse_name(&form.name, "name", 100).map_err(AppError::BadRequest)?;
    let email = parse_email(&form.email).map_err(AppError::BadRequest)?;
    let role = STAFF_ROLES
        .into_iter()
        .find(|r| *r == form.role)
        .ok_or_else(|| {
            AppError::bad_request(format!(
                "{:?} is not a role: choose teacher, school administrator, administrator or partner.",
                form.role
            ))
        })?;
    // Partners belong to no school: they see the schools that grant them access.
    let school_id = match (role, form.school_id) {
        (ROLE_PARTNER, _) => None,
        (_, Some(id)) => Some(
            staff::find_school(&app.db, id)
                .await?
                .ok_or_else(|| AppError::bad_request("That school does not exist."))?
                .id,
        ),
        (_, None) => admin.0.user.school_id,
    };
    // A password nobody knows, so that the account cannot be used before the link is, and a
    // sign-in attempt takes as long as for any other account.
    let password_hash = passwords::hash(crate::domain::codes::random_hex(32)).await?;
    let user = staff::create(
        &app.db,
        NewStaff {
            school_id,
            email,
            display_name,
            password_hash,
            role,
        },
    )
    .await?;
    audit::note(
        &app.db,
        admin.0.user.id,
        "staff account created",
        format!("user {} ({role})", user.id),
    )
    .await?;
    password_link_page(app, &admin, host, &user, true)
}

/// The page that shows a one-time set-password link (valid 24 hours, until used, or until the
/// account signs out), for a new account or a reset. The link is never stored.
fn password_link_page(
    app: &App,
    admin: &Admin,
    host: RequestHost,
    user: &crate::db::entities::user::Model,
    new_account: bool,
) -> AppResult<Page> {
    let token = app
        .keys
        .issue(Audience::Reset, &user.id.to_string(), &user.security_stamp)?;
    let link = format!("{}/reset?token={token}", base_url(app, host));
    let (template_title, heading) = if new_account {
        (
            "Account created",
            format!("Account created for {}", user.display_name),
        )
    } else {
        (
            "Password reset link",
            format!("Password reset link for {}", user.display_name),
        )
    };
    let context = json!({
        "name": user.display_name,
        "link": link,
        "heading": heading,
        "new_account": new_account,
    });
    Ok(Page::new("admin/reset_link", template_title, context).for_staff(&admin.0))
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
    let action = if form.0.active {
        "staff account enabled"
    } else {
        "staff account disabled"
    };
    audit::note(&app.db, admin.0.user.id, action, format!("user {id}")).await?;
    Ok(Redirect::to(uri!(teachers)))
}

const ONLY_MANAGERS: &str = "Only administrators manage schools and partner access.";

/// Whose partner access a staff member manages: every school's for an administrator (`None`),
/// their own school's for a school administrator, and nobody else's.
fn managed_schools(staff: &Staff) -> AppResult<Option<i32>> {
    match (staff.user.role.as_str(), staff.user.school_id) {
        (ROLE_ADMIN, _) => Ok(None),
        (ROLE_SCHOOL_ADMIN, Some(school)) => Ok(Some(school)),
        _ => Err(AppError::Forbidden(ONLY_MANAGERS.into())),
    }
}

/// Refuses a school the staff member does not manage ("not found" for another school).
fn managed_school(staff: &Staff, school_id: i32) -> AppResult<()> {
    match managed_schools(staff)? {
        Some(own) if own != school_id => Err(AppError::not_found()),
        _ => Ok(()),
    }
}

#[get("/admin/schools")]
async fn schools(app: &State<App>, viewer: Staff) -> AppResult<Page> {
    let scope = managed_schools(&viewer)?;
    let schools: Vec<_> = staff::schools(&app.db)
        .await?
        .into_iter()
        .filter(|s| scope.is_none_or(|own| own == s.id))
        .collect();
    let partners: Vec<_> = staff::list(&app.db)
        .await?
        .into_iter()
        .filter(|u| u.role == ROLE_PARTNER)
        .collect();
    let grants = staff::partner_grants(&app.db).await?;
    let rows: Vec<_> = schools
        .iter()
        .map(|school| {
            let granted: Vec<_> = partners
                .iter()
                .filter(|p| {
                    grants
                        .iter()
                        .any(|g| g.school_id == school.id && g.partner_id == p.id)
                })
                .map(|p| json!({ "id": p.id, "name": p.display_name }))
                .collect();
            let others: Vec<_> = partners
                .iter()
                .filter(|p| {
                    !grants
                        .iter()
                        .any(|g| g.school_id == school.id && g.partner_id == p.id)
                })
                .map(|p| json!({ "id": p.id, "name": p.display_name }))
                .collect();
            json!({ "id": school.id, "name": school.name, "partners": granted, "others": others })
        })
        .collect();
    let title = if viewer.is_admin() {
        "Schools"
    } else {
        "Partner access"
    };
    let context = json!({ "schools": rows, "district": viewer.is_admin() });
    Ok(Page::new("admin/schools", title, context).for_staff(&viewer))
}

#[post("/admin/schools", data = "<form>")]
async fn create_school(
    app: &State<App>,
    admin: Admin,
    form: Checked<NewSchoolForm>,
) -> AppResult<Redirect> {
    let name = parse_name(&form.0.name, "school name", 200).map_err(AppError::BadRequest)?;
    let school = staff::create_school(&app.db, &name).await?;
    audit::note(
        &app.db,
        admin.0.user.id,
        "school created",
        format!("school {}", school.id),
    )
    .await?;
    Ok(Redirect::to(uri!(schools)))
}

async fn partner_and_school(app: &App, partner_id: i32, school_id: i32) -> AppResult<()> {
    let partner = staff::find(&app.db, partner_id).await?;
    if partner.is_none_or(|p| p.role != ROLE_PARTNER) {
        return Err(AppError::bad_request("Choose a partner account."));
    }
    staff::find_school(&app.db, school_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(())
}

/// The school shares its aggregate reports (never a class or a student) with the partner.
#[post("/admin/schools/<school_id>/partners", data = "<form>")]
async fn grant(
    app: &State<App>,
    manager: Staff,
    school_id: i32,
    form: Checked<GrantForm>,
) -> AppResult<Redirect> {
    managed_school(&manager, school_id)?;
    partner_and_school(app, form.0.partner_id, school_id).await?;
    staff::grant_partner(&app.db, form.0.partner_id, school_id).await?;
    audit::note(
        &app.db,
        manager.user.id,
        "partner access granted",
        format!("school {school_id} to user {}", form.0.partner_id),
    )
    .await?;
    Ok(Redirect::to(uri!(schools)))
}

#[post("/admin/schools/<school_id>/partners/remove", data = "<form>")]
async fn revoke(
    app: &State<App>,
    manager: Staff,
    school_id: i32,
    form: Checked<GrantForm>,
) -> AppResult<Redirect> {
    managed_school(&manager, school_id)?;
    partner_and_school(app, form.0.partner_id, school_id).await?;
    staff::revoke_partner(&app.db, form.0.partner_id, school_id).await?;
    audit::note(
        &app.db,
        manager.user.id,
        "partner access revoked",
        format!("school {school_id} from user {}", form.0.partner_id),
    )
    .await?;
    Ok(Redirect::to(uri!(schools)))
}

/// The latest administrative actions, for administrators.
#[get("/admin/audit")]
async fn audit_log(app: &State<App>, admin: Admin) -> AppResult<Page> {
    let events = audit::latest(&app.db, 500).await?;
    let staff = staff::list(&app.db).await?;
    let rows: Vec<_> = events
        .iter()
        .map(|e| {
            let actor = e.actor_id.and_then(|id| staff.iter().find(|u| u.id == id));
            json!({
                "at": e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                "actor": actor.map(|u| u.display_name.clone()),
                "actor_id": e.actor_id,
                "action": e.action,
                "target": e.target,
            })
        })
        .collect();
    Ok(Page::new("admin/audit", "Audit log", json!({ "events": rows })).for_staff(&admin.0))
}

/// A one-time link with which the staff member sets a new password.
#[post("/admin/teachers/<id>/reset-link", data = "<form>")]
async fn reset_link(
    app: &State<App>,
    admin: Admin,
    id: i32,
    host: RequestHost,
    form: Checked<CsrfOnly>,
) -> AppResult<Page> {
    let _ = form;
    let user = staff::find(&app.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    audit::note(
        &app.db,
        admin.0.user.id,
        "password reset link created",
        format!("user {}", user.id),
    )
    .await?;
    password_link_page(app, &admin, host, &user, false)
}

/// Ends every session and API token of the account at once (a lost laptop, a shared
/// computer), without disabling it.
#[post("/admin/teachers/<id>/sign-out", data = "<form>")]
async fn sign_out_everywhere(
    app: &State<App>,
    admin: Admin,
    id: i32,
    form: Checked<CsrfOnly>,
) -> AppResult<Redirect> {
    let _ = form;
    let user = staff::find(&app.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    staff::rotate_stamp(&app.db, user.id).await?;
    audit::note(
        &app.db,
        admin.0.user.id,
        "signed out everywhere",
        format!("user {}", user.id),
    )
    .await?;
    Ok(Redirect::to(uri!(teachers)))
}

/// When each class's student data goes (for the classes an administrator manages), with a way
/// to remove an ended class's data now rather than wait.
#[get("/admin/retention")]
async fn retention_page(app: &State<App>, manager: Staff) -> AppResult<Page> {
    let scope = managed_schools(&manager)?;
    let days = app.settings.retention_days;
    let schedule = retention::schedule(&app.db, scope, days).await?;
    let schools = staff::schools(&app.db).await?;
    let rows: Vec<_> = schedule
        .iter()
        .map(|c| {
            json!({
                "id": c.class.id,
                "name": c.class.name,
                "school": schools.iter().find(|s| s.id == c.class.school_id).map(|s| &s.name),
                "students": c.students,
                "ended": c.class.ended_at.is_some(),
                "ends_on": c.ends_at.date().to_string(),
                "purge_on": c.purge_at.date().to_string(),
            })
        })
        .collect();
    let context = json!({
        "classes": rows,
        "days": days,
        "automatic": app.settings.purge_automatically,
    });
    Ok(Page::new("admin/retention", "Data retention", context).for_staff(&manager))
}

/// Removes an ended class's student data now, keeping its roll-up shares.
#[post("/admin/retention/<class_id>/purge", data = "<form>")]
async fn purge_class(
    app: &State<App>,
    manager: Staff,
    class_id: i32,
    form: Checked<PurgeForm>,
) -> AppResult<Redirect> {
    let scope = managed_schools(&manager)?;
    let class = retention::find_class(&app.db, class_id)
        .await?
        .filter(|c| scope.is_none_or(|own| own == c.school_id))
        .ok_or_else(AppError::not_found)?;
    if form.0.confirm.as_deref() != Some("yes") {
        return Err(AppError::bad_request(
            "Tick the box to confirm that this class's student data should be removed.",
        ));
    }
    if class.ended_at.is_none() {
        return Err(AppError::Conflict(
            "This class has not ended: its teacher (or you, from the class page) ends it first."
                .into(),
        ));
    }
    let purged = retention::purge_class(&app.db, class.id, crate::db::queries::now()).await?;
    if purged.is_none() {
        return Err(AppError::Conflict(
            "This class's student data has already been removed.".into(),
        ));
    }
    audit::note(
        &app.db,
        manager.user.id,
        "class student data removed",
        format!("class {class_id}"),
    )
    .await?;
    Ok(Redirect::to(uri!(retention_page)))
}
