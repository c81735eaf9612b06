//! Student pages: sign in with class code, name and secret words; see assigned modules; work
//! through the steps one at a time. Every answer is saved when given, and the first answer to a
//! step is the one that counts.

use std::collections::BTreeSet;

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket::{Either, Route, State, get, post, routes, uri};
use serde_json::{Value, json};

use crate::App;
use crate::auth::csrf::Checked;
use crate::auth::{Audience, STUDENT_COOKIE, StudentSession, session_cookie};
use crate::csrf_form;
use crate::curriculum::{Module, StepKind};
use crate::db::entities::{assignment, attempt};
use crate::db::queries::{classes, progress};
use crate::domain::codes::{JoinCode, secret_matches};
use crate::domain::percent;
use crate::domain::scoring::{check_chat, check_question};
use crate::error::{AppError, AppResult};
use crate::views::{Page, Viewer};

pub fn routes() -> Vec<Route> {
    routes![
        login_page,
        login,
        logout,
        home,
        module_page,
        start,
        step_page,
        answer_step,
        done_page
    ]
}

#[derive(FromForm)]
struct StudentLoginForm {
    csrf_token: String,
    code: String,
    name: String,
    secret: String,
}

#[derive(FromForm)]
struct CsrfOnly {
    csrf_token: String,
}

#[derive(FromForm)]
struct AnswerForm {
    csrf_token: String,
    #[field(default = Vec::new())]
    choice: Vec<String>,
}

csrf_form!(StudentLoginForm, CsrfOnly, AnswerForm);

fn login_form(code: &str, name: &str, error: Option<&str>) -> Page {
    Page::new(
        "student/login",
        "Student sign in",
        json!({ "code": code, "name": name, "error": error }),
    )
}

fn page_for(
    session: &StudentSession,
    template: &'static str,
    title: impl Into<String>,
    context: Value,
) -> Page {
    Page::new(template, title, context).for_viewer(Viewer::student(&session.student.display_name))
}

#[get("/student/login")]
fn login_page(session: Option<StudentSession>) -> Either<Redirect, Page> {
    match session {
        Some(_) => Either::Left(Redirect::to(uri!(home))),
        None => Either::Right(login_form("", "", None)),
    }
}

#[post("/student/login", data = "<form>")]
async fn login(
    app: &State<App>,
    cookies: &CookieJar<'_>,
    form: Checked<StudentLoginForm>,
) -> AppResult<Either<Redirect, Page>> {
    let form = form.0;
    let fail = |message: &str| {
        Ok(Either::Right(
            login_form(&form.code, &form.name, Some(message)).with_status(Status::Unauthorized),
        ))
    };
    let code = match JoinCode::parse(&form.code) {
        Ok(code) => code,
        Err(message) => return fail(&message),
    };
    if !app.limits.allow_student(code.as_str(), &form.name) {
        return Err(AppError::TooManyRequests(
            "Too many tries to sign in. Wait a minute, then try again with the words on your card."
                .into(),
        ));
    }
    // One message for every mismatch, so that guessing cannot confirm a class code or a name.
    let mismatch = "That class code, name and secret words do not match. Check your card, or ask your teacher.";
    let Some(class) = classes::by_join_code(&app.db, &code).await? else {
        return fail(mismatch);
    };
    let typed_name = form
        .name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let students = classes::students(&app.db, class.id).await?;
    let student = students.into_iter().find(|s| {
        s.display_name.to_lowercase() == typed_name && secret_matches(&s.secret, &form.secret)
    });
    let Some(student) = student else {
        return fail(mismatch);
    };
    let token = app.keys.issue(
        Audience::Student,
        &student.id.to_string(),
        &student.security_stamp,
    )?;
    cookies.add(session_cookie(
        STUDENT_COOKIE,
        token,
        app.settings.secure_cookies,
    ));
    Ok(Either::Left(Redirect::to(uri!(home))))
}

#[post("/student/logout", data = "<form>")]
async fn logout(
    app: &State<App>,
    cookies: &CookieJar<'_>,
    session: Option<StudentSession>,
    form: Checked<CsrfOnly>,
) -> AppResult<Redirect> {
    let _ = form;
    if let Some(session) = session {
        classes::rotate_student_stamp(&app.db, session.student.id).await?;
    }
    cookies.remove(STUDENT_COOKIE);
    Ok(Redirect::to(uri!(login_page)))
}

#[get("/student")]
async fn home(app: &State<App>, session: StudentSession) -> AppResult<Page> {
    let assignments = classes::active_assignments(&app.db, session.class.id).await?;
    let attempts = progress::attempts_of_student(&app.db, session.student.id).await?;
    let lessons: Vec<Value> = assignments
        .iter()
        .filter_map(|a| {
            let module = app.curriculum.get(&a.module_slug)?;
            let attempt = attempts.iter().find(|t| t.assignment_id == a.id);
            let steps_done = attempt.map_or(0, |t| t.steps_done);
            Some(json!({
                "slug": module.slug,
                "title": module.title,
                "summary": module.summary,
                "minutes": module.minutes,
                "due_on": a.due_on.map(|d| d.to_string()),
                "finished": attempt.is_some_and(|t| t.finished_at.is_some()),
                "started": attempt.is_some(),
                "percent": percent(steps_done.max(0) as usize, module.steps.len()),
            }))
        })
        .collect();
    Ok(page_for(
        &session,
        "student/home",
        "My lessons",
        json!({ "lessons": lessons }),
    ))
}

/// The assigned module with this slug, or "not found" when it is not assigned to the class.
async fn assigned<'a>(
    app: &'a App,
    session: &StudentSession,
    slug: &str,
) -> AppResult<(&'a Module, assignment::Model)> {
    let module = app.curriculum.get(slug).ok_or_else(AppError::not_found)?;
    let assignment = classes::active_assignment_for_module(&app.db, session.class.id, slug)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok((module, assignment))
}

#[get("/student/modules/<slug>")]
async fn module_page(app: &State<App>, session: StudentSession, slug: &str) -> AppResult<Page> {
    let (module, assignment) = assigned(app, &session, slug).await?;
    let attempt = progress::find_attempt(&app.db, session.student.id, assignment.id).await?;
    let context = json!({
        "slug": module.slug,
        "title": module.title,
        "summary": module.summary,
        "minutes": module.minutes,
        "content_note": module.content_note,
        "steps": module.steps.len(),
        "started": attempt.is_some(),
        "finished": attempt.as_ref().is_some_and(|a| a.finished_at.is_some()),
    });
    Ok(page_for(
        &session,
        "student/module",
        module.title.clone(),
        context,
    ))
}

/// Starts (or resumes) the module and goes to the first step not yet done.
#[post("/student/modules/<slug>/start", data = "<form>")]
async fn start(
    app: &State<App>,
    session: StudentSession,
    slug: &str,
    form: Checked<CsrfOnly>,
) -> AppResult<Redirect> {
    let _ = form;
    let (module, assignment) = assigned(app, &session, slug).await?;
    let attempt = progress::start_attempt(
        &app.db,
        session.student.id,
        assignment.id,
        module,
        &session.class.language,
    )
    .await?;
    if attempt.finished_at.is_some() {
        return Ok(Redirect::to(uri!(done_page(slug))));
    }
    let next = (attempt.steps_done as usize + 1).min(module.steps.len());
    Ok(Redirect::to(uri!(step_page(slug, next))))
}

async fn attempt_for(
    app: &App,
    session: &StudentSession,
    assignment: &assignment::Model,
) -> AppResult<attempt::Model> {
    progress::find_attempt(&app.db, session.student.id, assignment.id)
        .await?
        .ok_or_else(|| AppError::Conflict("Start the lesson from its first page.".into()))
}

/// Steps are numbered from 1; a student can revisit any step done and open the next one.
fn check_step_number(module: &Module, attempt: &attempt::Model, number: usize) -> AppResult<()> {
    if number == 0 || number > module.steps.len() {
        return Err(AppError::NotFound(format!(
            "This lesson has steps 1 to {}.",
            module.steps.len()
        )));
    }
    if number > attempt.steps_done as usize + 1 {
        return Err(AppError::Conflict(
            "Finish the steps before this one first.".into(),
        ));
    }
    Ok(())
}

fn step_context(
    module: &Module,
    number: usize,
    saved: Option<&BTreeSet<String>>,
    correct: Option<bool>,
    error: Option<&str>,
) -> Value {
    let step = &module.steps[number - 1];
    let answered = saved.is_some();
    let picked = |id: &str| saved.is_some_and(|s| s.contains(id));
    let mut body = json!({ "reading": null, "chat": null, "question": null });
    let (key, value) = match &step.kind {
        StepKind::Feed(_) | StepKind::Reply(_) | StepKind::Sort(_) => ("reading", json!({})),
        StepKind::Reading(reading) => (
            "reading",
            json!({ "title": reading.title, "body_html": reading.body_html }),
        ),
        StepKind::Chat(chat) => (
            "chat",
            json!({
                "title": chat.title,
                "intro_html": chat.intro_html,
                "contact": chat.contact,
                "messages": chat.messages.iter().map(|m| json!({
                    "id": m.id,
                    "text": m.text,
                    "from_them": m.from_them,
                    "red_flag": m.red_flag,
                    "reason": m.reason,
                    "flagged": picked(&m.id),
                    "right": picked(&m.id) == m.red_flag,
                })).collect::<Vec<_>>(),
            }),
        ),
        StepKind::Question(question) => (
            "question",
            json!({
                "prompt": question.prompt,
                "many": question.kind.allows_many(),
                "options": question.options.iter().map(|o| json!({
                    "id": o.id,
                    "text": o.text,
                    "correct": o.correct,
                    "feedback": o.feedback,
                    "chosen": picked(&o.id),
                })).collect::<Vec<_>>(),
            }),
        ),
    };
    body[key] = value;
    json!({
        "slug": module.slug,
        "module_title": module.title,
        "number": number,
        "next": number + 1,
        "total": module.steps.len(),
        "percent": percent(number, module.steps.len()),
        "is_last": number == module.steps.len(),
        "answered": answered,
        "correct": correct,
        "error": error,
        "step": body,
    })
}

#[get("/student/modules/<slug>/steps/<number>")]
async fn step_page(
    app: &State<App>,
    session: StudentSession,
    slug: &str,
    number: usize,
) -> AppResult<Page> {
    let (module, assignment) = assigned(app, &session, slug).await?;
    let attempt = attempt_for(app, &session, &assignment).await?;
    check_step_number(module, &attempt, number)?;
    let step = &module.steps[number - 1];
    let saved = progress::answer_to(&app.db, attempt.id, &step.id).await?;
    let answer = saved.as_ref().map(|r| progress::decode_answer(&r.answer));
    let context = step_context(
        module,
        number,
        answer.as_ref(),
        saved.map(|r| r.correct),
        None,
    );
    Ok(page_for(
        &session,
        "student/step",
        format!("{} – step {number}", module.title),
        context,
    ))
}

/// Saves the answer to a step (or marks a reading as read), then shows the feedback or the next
/// step. A repeated submission finds the first answer and changes nothing.
#[post("/student/modules/<slug>/steps/<number>", data = "<form>")]
async fn answer_step(
    app: &State<App>,
    session: StudentSession,
    slug: &str,
    number: usize,
    form: Checked<AnswerForm>,
) -> AppResult<Either<Redirect, Page>> {
    let (module, assignment) = assigned(app, &session, slug).await?;
    let attempt = attempt_for(app, &session, &assignment).await?;
    check_step_number(module, &attempt, number)?;
    let step = &module.steps[number - 1];
    let already_answered = !matches!(step.kind, StepKind::Reading(_))
        && progress::answer_to(&app.db, attempt.id, &step.id)
            .await?
            .is_some();
    if already_answered {
        // A repeat, a second tab or a stale page: the first answer stands; show it.
        return Ok(Either::Left(Redirect::to(uri!(step_page(slug, number)))));
    }
    let checked = match &step.kind {
        StepKind::Reading(_) => None,
        StepKind::Chat(chat) => Some(check_chat(chat, &form.0.choice)),
        StepKind::Question(question) => Some(check_question(question, &form.0.choice)),
        _ => None,
    };
    match checked {
        Some(Err(message)) => {
            let context = step_context(module, number, None, None, Some(&message));
            let page = page_for(
                &session,
                "student/step",
                format!("{} – step {number}", module.title),
                context,
            );
            return Ok(Either::Right(page.with_status(Status::UnprocessableEntity)));
        }
        Some(Ok((answer, correct))) => {
            progress::save_answer(&app.db, attempt.id, &step.id, &answer, correct).await?;
        }
        None => {}
    }
    progress::advance(&app.db, attempt.id, number as i32).await?;
    if number == module.steps.len() {
        finish_attempt(app, module, &attempt).await?;
    }
    let target = match (&step.kind, number == module.steps.len()) {
        (StepKind::Reading(_), true) => uri!(done_page(slug)),
        (StepKind::Reading(_), false) => uri!(step_page(slug, number + 1)),
        _ => uri!(step_page(slug, number)),
    };
    Ok(Either::Left(Redirect::to(target)))
}

/// Scores the first answers to the questions and marks the attempt finished, once.
async fn finish_attempt(app: &App, module: &Module, attempt: &attempt::Model) -> AppResult<()> {
    let responses = progress::responses_of_attempt(&app.db, attempt.id).await?;
    let total = module.question_count() as i32;
    let correct = module
        .questions()
        .filter(|(step, _)| responses.iter().any(|r| r.step_id == step.id && r.correct))
        .count() as i32;
    progress::finish(&app.db, attempt.id, correct, total).await
}

#[get("/student/modules/<slug>/done")]
async fn done_page(app: &State<App>, session: StudentSession, slug: &str) -> AppResult<Page> {
    let (module, assignment) = assigned(app, &session, slug).await?;
    let attempt = attempt_for(app, &session, &assignment).await?;
    if attempt.finished_at.is_none() {
        let next = (attempt.steps_done as usize + 1).min(module.steps.len());
        return Err(AppError::Conflict(format!(
            "You have not finished this lesson yet: continue at step {next}."
        )));
    }
    let context = json!({
        "title": module.title,
        "help": module.help,
        "trusted_adult": app.settings.help.trusted_adult,
        "sources": module.sources,
    });
    Ok(page_for(
        &session,
        "student/done",
        format!("{}: well done", module.title),
        context,
    ))
}
