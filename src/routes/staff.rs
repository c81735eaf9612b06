//! Staff sign-in, sign-out, first-run setup and their own account.

use std::net::IpAddr;

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket::{Either, Route, State, get, post, routes};
use serde_json::json;

use crate::App;
use crate::auth::csrf::Checked;
use crate::auth::{Audience, STAFF_COOKIE, Staff, passwords, session_cookie};
use crate::csrf_form;
use crate::db::entities::user::ROLE_ADMIN;
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
        change_password
    ]
}

#[derive(FromForm)]
struct LoginForm {
    csrf_token: String,
    email: String,
    password: String,
}

#[derive(FromForm)]
struct CsrfOnly {
    csrf_token: String,
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

csrf_form!(LoginForm, CsrfOnly, SetupForm, PasswordForm);

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
        tracing::warn!("staff sign-in rate limit reached");
        return Err(AppError::TooManyRequests(
            "Too many sign-in attempts. Wait a minute and try again.".into(),
        ));
    }
    let user = staff::find_by_email(&app.db, email).await?;
    let hash = user.as_ref().map_or_else(
        || passwords::dummy_hash().to_string(),
        |u| u.password_hash.clone(),
    );
    let valid = passwords::verify(hash, password.to_string()).await;
    Ok(user.filter(|u| valid && !u.disabled))
}

#[post("/login", data = "<form>")]
async fn login(
    app: &State<App>,
    cookies: &CookieJar<'_>,
    address: Option<IpAddr>,
    form: Checked<LoginForm>,
) -> AppResult<Either<Redirect, Page>> {
    let form = form.0;
    match check_credentials(app, &form.email, &form.password, address).await? {
        Some(user) => {
            tracing::info!(user_id = user.id, "staff signed in");
            let token =
                app.keys
                    .issue(Audience::Staff, &user.id.to_string(), &user.security_stamp)?;
            cookies.add(session_cookie(
                STAFF_COOKIE,
                token,
                app.settings.secure_cookies,
            ));
            Ok(Either::Left(Redirect::to("/teacher")))
        }
        None => {
            tracing::info!("staff sign-in failed");
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
    }
    cookies.remove(STAFF_COOKIE);
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
    passwords::check_strength(&form.password).map_err(AppError::BadRequest)?;
    let password_hash = passwords::hash(form.password)
        .await
        .map_err(AppError::internal)?;
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
    tracing::info!(
        user_id = user.id,
        "administrator created through the setup link"
    );
    let token = app
        .keys
        .issue(Audience::Staff, &user.id.to_string(), &user.security_stamp)?;
    cookies.add(session_cookie(
        STAFF_COOKIE,
        token,
        app.settings.secure_cookies,
    ));
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
    if !passwords::verify(staff.user.password_hash.clone(), form.current_password).await {
        return Ok(page(Some("Your current password is not right."), false)
            .with_status(Status::BadRequest));
    }
    if let Err(message) = passwords::check_strength(&form.new_password) {
        return Ok(page(Some(&message), false).with_status(Status::BadRequest));
    }
    let hash = passwords::hash(form.new_password)
        .await
        .map_err(AppError::internal)?;
    let stamp = staff::set_password(&app.db, staff.user.id, hash).await?;
    tracing::info!(user_id = staff.user.id, "staff password changed");
    let token = app
        .keys
        .issue(Audience::Staff, &staff.user.id.to_string(), &stamp)?;
    cookies.add(session_cookie(
        STAFF_COOKIE,
        token,
        app.settings.secure_cookies,
    ));
    Ok(page(None, true))
}
