//! Staff sign-in, sign-out, first-run setup and their own account.

use std::net::IpAddr;

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket::{Either, Route, State, get, post, routes};
use serde_json::json;

use crate::App;
use crate::auth::csrf::{Checked, CsrfOnly};
use crate::auth::{
    Audience, ClientAddress, Staff, cookie_names, end_session, passwords, start_staff_session,
};
use crate::csrf_form;
use crate::db::entities::user::ROLE_ADMIN;
use crate::db::queries::audit;
use crate::db::queries::staff::{self, NewStaff};
use crate::domain::input::{parse_email, parse_name};
use crate::error::{AppError, AppResult};
use crate::views::Page;

pub fn routes() -> Vec<Route> {
    routes![
        login_page,
        login,
        logout,
        setup_page,
        setup,
        account,
        change_password,
        reset_page,
        reset
    ]
}

#[derive(FromForm)]
struct LoginForm {
    csrf_token: String,
    email: String,
    password: String,
}

#[derive(FromForm)]
struct SetupForm {
    csrf_token: String,
    token: String,
    school: String,
    name: String,
    email: String,
    password: String,
}

#[derive(FromForm)]
struct PasswordForm {
    csrf_token: String,
    current_password: String,
    new_password: String,
}

csrf_form!(LoginForm, SetupForm, PasswordForm);

fn login_form(email: &str, error: Option<&str>) -> Page {
    Page::new(
        "staff/login",
        "Staff sign in",
        json!({ "email": email, "error": error }),
    )
}

#[get("/login")]
fn login_page(staff: Option<Staff>) -> Either<Redirect, Page> {
    match staff {
        Some(_) => Either::Left(Redirect::to("/teacher")),
        None => Either::Right(login_form("", None)),
    }
}

/// Checks the password against a dummy hash for unknown emails too, so that timing does not
/// tell which accounts exist.
pub async fn check_credentials(
    app: &App,
    email: &str,
    password: &str,
    address: Option<IpAddr>,
) -> AppResult<Option<crate::db::entities::user::Model>> {
    if !app
        .limits
        .allow_staff(email, address.map(|a| a.to_string()))
    {
        tracing::warn!(address = ?address, "staff sign-in rate limit reached");
        return Err(AppError::TooManyRequests(
            "Too many sign-in attempts. Wait a minute and try again.".into(),
        ));
    }
    let user = staff::find_by_email(&app.db, email).await?;
    let hash = user.as_ref().map_or_else(
        || passwords::dummy_hash().to_string(),
        |u| u.password_hash.clone(),
    );
    let valid = passwords::verify(hash, password.to_string()).await?;
    let user = user.filter(|u| valid && !u.disabled);
    if let Some(user) = &user
        && passwords::needs_rehash(&user.password_hash)
    {
        let upgraded = passwords::hash(password.to_string()).await?;
        staff::upgrade_password_hash(&app.db, user.id, upgraded).await?;
        tracing::info!(
            user_id = user.id,
            "password hash upgraded to the current parameters"
        );
    }
    Ok(user)
}

#[post("/login", data = "<form>")]
async fn login(
    app: &State<App>,
    cookies: &CookieJar<'_>,
    client: ClientAddress,
    form: Checked<LoginForm>,
) -> AppResult<Either<Redirect, Page>> {
    let (form, address) = (form.0, client.0);
    match check_credentials(app, &form.email, &form.password, address).await? {
        Some(user) => {
            tracing::info!(user_id = user.id, address = ?address, "staff signed in");
            start_staff_session(app, cookies, user.id, &user.security_stamp)?;
            Ok(Either::Left(Redirect::to("/teacher")))
        }
        None => {
            tracing::info!(address = ?address, "staff sign-in failed");
            let page = login_form(
                &form.email,
                Some(
                    "That email and password do not match an active account. Check both and try again.",
                ),
            );
            Ok(Either::Right(page.with_status(Status::Unauthorized)))
        }
    }
}

/// Signing out changes the security stamp, which revokes this and every other session.
#[post("/logout", data = "<form>")]
async fn logout(
    app: &State<App>,
    cookies: &CookieJar<'_>,
    staff: Option<Staff>,
    form: Checked<CsrfOnly>,
) -> AppResult<Redirect> {
    let _ = form;
    if let Some(staff) = staff {
        staff::rotate_stamp(&app.db, staff.user.id).await?;
        tracing::info!(user_id = staff.user.id, "staff signed out");
    }
    let secure = app.settings.secure_cookies;
    end_session(cookies, cookie_names(secure).staff, secure);
    Ok(Redirect::to("/login"))
}

fn setup_token_valid(app: &App, token: &str) -> bool {
    app.keys.verify(Audience::Setup, token).is_some()
}

#[get("/setup?<token>")]
async fn setup_page(app: &State<App>, token: Option<String>) -> AppResult<Either<Redirect, Page>> {
    if staff::admin_exists(&app.db).await? {
        return Ok(Either::Left(Redirect::to("/login")));
    }
    let token = token.unwrap_or_default();
    if !setup_token_valid(app, &token) {
        return Err(AppError::Forbidden(
            "This setup link is not valid or has expired. Restart Tellwise to print a new one, or run `tellwise create-admin`.".into(),
        ));
    }
    Ok(Either::Right(Page::new(
        "staff/setup",
        "Set up Tellwise",
        json!({ "token": token, "error": null }),
    )))
}

#[post("/setup", data = "<form>")]
async fn setup(
    app: &State<App>,
    cookies: &CookieJar<'_>,
    form: Checked<SetupForm>,
) -> AppResult<Redirect> {
    let form = form.0;
    if staff::admin_exists(&app.db).await? {
        return Err(AppError::Conflict(
            "Tellwise is already set up: sign in instead.".into(),
        ));
    }
    if !setup_token_valid(app, &form.token) {
        return Err(AppError::Forbidden(
            "This setup link is not valid or has expired.".into(),
        ));
    }
    let school_name = parse_name(&form.school, "school name", 200).map_err(AppError::BadRequest)?;
    let display_name = parse_name(&form.name, "name", 100).map_err(AppError::BadRequest)?;
    let email = parse_email(&form.email).map_err(AppError::BadRequest)?;
    passwords::check_strength(&form.password, &[&display_name, &email, &school_name])
        .map_err(AppError::BadRequest)?;
    let password_hash = passwords::hash(form.password).await?;
    let school = match staff::first_school(&app.db).await? {
        Some(school) => school,
        None => staff::create_school(&app.db, &school_name).await?,
    };
    let user = staff::create(
        &app.db,
        NewStaff {
            school_id: Some(school.id),
            email,
            display_name,
            password_hash,
            role: ROLE_ADMIN,
        },
    )
    .await?;
    audit::note(
        &app.db,
        user.id,
        "administrator created through the setup link",
        format!("user {}", user.id),
    )
    .await?;
    start_staff_session(app, cookies, user.id, &user.security_stamp)?;
    Ok(Redirect::to("/teacher"))
}

#[get("/account")]
fn account(staff: Staff) -> Page {
    Page::new(
        "staff/account",
        "Your account",
        json!({ "email": staff.user.email, "error": null, "done": false }),
    )
    .for_staff(&staff)
}

/// Changing the password revokes every other session; this browser gets a fresh one.
#[post("/account/password", data = "<form>")]
async fn change_password(
    app: &State<App>,
    cookies: &CookieJar<'_>,
    staff: Staff,
    form: Checked<PasswordForm>,
) -> AppResult<Page> {
    let form = form.0;
    let page = |error: Option<&str>, done: bool| {
        Page::new(
            "staff/account",
            "Your account",
            json!({ "email": staff.user.email, "error": error, "done": done }),
        )
        .for_staff(&staff)
    };
    if !passwords::verify(staff.user.password_hash.clone(), form.current_password).await? {
        return Ok(page(Some("Your current password is not right."), false)
            .with_status(Status::BadRequest));
    }
    if let Err(message) = passwords::check_strength(
        &form.new_password,
        &[&staff.user.display_name, &staff.user.email],
    ) {
        return Ok(page(Some(&message), false).with_status(Status::BadRequest));
    }
    let hash = passwords::hash(form.new_password).await?;
    let stamp = staff::set_password(&app.db, staff.user.id, hash).await?;
    audit::note(
        &app.db,
        staff.user.id,
        "staff password changed",
        format!("user {}", staff.user.id),
    )
    .await?;
    start_staff_session(app, cookies, staff.user.id, &stamp)?;
    Ok(page(None, true))
}

#[derive(FromForm)]
struct ResetForm {
    csrf_token: String,
    token: String,
    password: String,
}

csrf_form!(ResetForm);

const RESET_EXPIRED: &str =
    "This reset link has expired or was already used. Ask your administrator for a new one.";

/// The staff member a reset link was made for, while it is unused and unexpired: setting the
/// password (or signing out) changes the stamp the link carries.
async fn reset_target(app: &App, token: &str) -> AppResult<crate::db::entities::user::Model> {
    let claims = app
        .keys
        .verify(Audience::Reset, token)
        .ok_or_else(|| AppError::Forbidden(RESET_EXPIRED.into()))?;
    let id: i32 = claims
        .sub
        .parse()
        .map_err(|_| AppError::Forbidden(RESET_EXPIRED.into()))?;
    staff::find(&app.db, id)
        .await?
        .filter(|u| u.security_stamp == claims.stamp && !u.disabled)
        .ok_or_else(|| AppError::Forbidden(RESET_EXPIRED.into()))
}

fn reset_form(token: &str, error: Option<&str>) -> Page {
    Page::new(
        "staff/reset",
        "Choose a new password",
        json!({ "token": token, "error": error }),
    )
}

#[get("/reset?<token>")]
async fn reset_page(app: &State<App>, token: Option<String>) -> AppResult<Page> {
    let token = token.unwrap_or_default();
    reset_target(app, &token).await?;
    Ok(reset_form(&token, None))
}

#[post("/reset", data = "<form>")]
async fn reset(app: &State<App>, form: Checked<ResetForm>) -> AppResult<Either<Redirect, Page>> {
    let form = form.0;
    let user = reset_target(app, &form.token).await?;
    if let Err(message) =
        passwords::check_strength(&form.password, &[&user.display_name, &user.email])
    {
        return Ok(Either::Right(
            reset_form(&form.token, Some(&message)).with_status(Status::BadRequest),
        ));
    }
    let hash = passwords::hash(form.password).await?;
    staff::set_password(&app.db, user.id, hash).await?;
    audit::note(
        &app.db,
        user.id,
        "password reset with a link",
        format!("user {}", user.id),
    )
    .await?;
    Ok(Either::Left(Redirect::to("/login")))
}
