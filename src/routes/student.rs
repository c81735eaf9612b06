//! Student pages: sign in with class code, name and secret words; see assigned modules; work
//! through the steps one at a time. Every answer is saved when given, and the first answer to a
//! step is the one that counts.

use std::collections::{BTreeSet, HashMap};

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket::{Either, Route, State, get, post, routes, uri};
use serde_json::{Value, json};

use crate::App;
use crate::auth::csrf::{Checked, CsrfOnly};
use crate::auth::{
    Audience, StudentInModule, StudentSession, cookie_names, end_session, session_cookie,
};
use crate::csrf_form;
use crate::curriculum::{Language, Module, StepKind};
use crate::db::entities::{attempt, response};
use crate::db::queries::progress::{self, ModuleState};
use crate::db::queries::{classes, opt_outs};
use crate::domain::codes::{JoinCode, secret_matches};
use crate::domain::percent;
use crate::domain::scoring::{
    check_chat, check_feed, check_question, check_reply, check_sort, parse_reply_path,
    sort_placements, stored_reply_path,
};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::views::{Page, Viewer, Views};

pub fn routes() -> Vec<Route> {
    routes![
        login_page,
        login,
        logout,
        home,
        module_page,
        start,
        before_page,
        answer_before,
        step_page,
        answer_step,
        done_page,
        family_page
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
struct AnswerForm {
    csrf_token: String,
    /// Chosen options, or flagged messages and posts.
    #[field(default = Vec::new())]
    choice: Vec<String>,
    /// A sort: `sort[item]=box`.
    #[field(default = HashMap::new())]
    sort: HashMap<String, String>,
    /// A reply conversation: the replies chosen, `0.1.0`.
    #[field(default = String::new())]
    path: String,
}

csrf_form!(StudentLoginForm, AnswerForm);

fn login_form(lang: Lang, code: &str, name: &str, error: Option<&str>) -> Page {
    Page::new(
        "student/login",
        lang.t("login.title"),
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
fn login_page(session: Option<StudentSession>, lang: Lang) -> Either<Redirect, Page> {
    match session {
        Some(_) => Either::Left(Redirect::to(uri!(home))),
        None => Either::Right(login_form(lang, "", "", None)),
    }
}

#[post("/student/login", data = "<form>")]
async fn login(
    app: &State<App>,
    cookies: &CookieJar<'_>,
    lang: Lang,
    form: Checked<StudentLoginForm>,
) -> AppResult<Either<Redirect, Page>> {
    let form = form.0;
    let fail = |message: &str| {
        Ok(Either::Right(
            login_form(lang, &form.code, &form.name, Some(message))
                .with_status(Status::Unauthorized),
        ))
    };
    let code = match JoinCode::parse(&form.code) {
        Ok(code) => code,
        Err(_) => return fail(&lang.t("login.code_format")),
    };
    if !app.limits.allow_student(code.as_str(), &form.name) {
        tracing::warn!("student sign-in refused: too many tries");
        return Err(AppError::TooManyRequests(lang.t("login.too_many")));
    }
    // One message for every mismatch, so that guessing cannot confirm a class code or a name.
    let mismatch = &lang.t("login.mismatch");
    let Some(class) = classes::by_join_code(&app.db, &code).await? else {
        tracing::info!("student sign-in failed: no such class code");
        return fail(mismatch);
    };
    if class.ended_at.is_some() {
        tracing::info!(
            class_id = class.id,
            "student sign-in refused: the class has ended"
        );
        return fail(&lang.t("login.class_ended"));
    }
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
        tracing::info!(class_id = class.id, "student sign-in failed");
        return fail(mismatch);
    };
    tracing::info!(
        class_id = class.id,
        student_id = student.id,
        "student signed in"
    );
    let token = app.keys.issue(
        Audience::Student,
        &student.id.to_string(),
        &student.security_stamp,
    )?;
    let secure = app.settings.secure_cookies;
    cookies.add(session_cookie(cookie_names(secure).student, token, secure));
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
    let secure = app.settings.secure_cookies;
    end_session(cookies, cookie_names(secure).student, secure);
    Ok(Redirect::to(uri!(login_page)))
}

#[get("/student")]
async fn home(app: &State<App>, session: StudentSession, lang: Lang) -> AppResult<Page> {
    let assignments = classes::active_assignments(&app.db, session.class.id).await?;
    let attempts = progress::attempts_of_student(&app.db, session.student.id).await?;
    let opted_out = opt_outs::of_student(&app.db, session.student.id).await?;
    let lessons: Vec<Value> = assignments
        .iter()
        .filter_map(|a| {
            let module = app.curriculum.get_in(&a.module_slug, lang.0)?;
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
                "opted_out": opted_out.iter().any(|o| o.module_slug == module.slug),
            }))
        })
        .collect();
    Ok(page_for(
        &session,
        "student/home",
        lang.t("lessons.title"),
        json!({ "lessons": lessons }),
    ))
}

/// The module with this slug in the student's language, or "not found".
fn module_in<'a>(app: &'a App, lang: Lang, slug: &str) -> AppResult<&'a Module> {
    app.curriculum
        .get_in(slug, lang.0)
        .ok_or_else(AppError::not_found)
}

/// Where the student stands in a module, as `StudentInModule` read it: "not found" when it is
/// not assigned to the class, "forbidden" when the student's family opted them out of it.
fn standing(lang: Lang, state: Option<ModuleState>) -> AppResult<ModuleState> {
    let state = state.ok_or_else(AppError::not_found)?;
    if state.opted_out {
        return Err(AppError::Forbidden(lang.t("other.closed")));
    }
    Ok(state)
}

/// The assigned module and where the student stands in it (see [`standing`]).
fn assigned<'a>(
    app: &'a App,
    lang: Lang,
    slug: &str,
    state: Option<ModuleState>,
) -> AppResult<(&'a Module, ModuleState)> {
    Ok((module_in(app, lang, slug)?, standing(lang, state)?))
}

/// The student's attempt, which the pages inside a module need: "conflict" before it started.
fn started(lang: Lang, state: ModuleState) -> AppResult<attempt::Model> {
    state
        .attempt
        .ok_or_else(|| AppError::Conflict(lang.t("problem.start_first")))
}

#[get("/student/modules/<slug>")]
async fn module_page(
    app: &State<App>,
    here: StudentInModule,
    lang: Lang,
    slug: &str,
) -> AppResult<Page> {
    let StudentInModule { session, state } = here;
    let module = module_in(app, lang, slug)?;
    let state = state.ok_or_else(AppError::not_found)?;
    if state.opted_out {
        let context = json!({
            "help": module.help,
            "trusted_adult": app.settings.help.trusted_adult,
        });
        return Ok(page_for(
            &session,
            "student/other",
            lang.t("other.title"),
            context,
        ));
    }
    let attempt = state.attempt;
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

/// The knowledge check still to answer before the lesson, while the lesson has not begun: the
/// checks come first, so that the "before" answers really are before it.
async fn unanswered_check(
    app: &App,
    module: &Module,
    attempt: &attempt::Model,
) -> AppResult<Option<String>> {
    if attempt.steps_done > 0 || attempt.finished_at.is_some() {
        return Ok(None);
    }
    let answered = progress::answered_before(&app.db, attempt.id).await?;
    Ok(module
        .check_steps()
        .iter()
        .position(|&i| !answered.contains(&module.steps[i].id))
        .map(|n| uri!(before_page(&module.slug, n + 1)).to_string()))
}

/// Where a student continues: the first knowledge check not yet answered before the lesson,
/// else the first step not yet done, else the end.
async fn next_place(app: &App, module: &Module, attempt: &attempt::Model) -> AppResult<String> {
    if attempt.finished_at.is_some() {
        return Ok(uri!(done_page(&module.slug)).to_string());
    }
    if let Some(check) = unanswered_check(app, module, attempt).await? {
        return Ok(check);
    }
    let next = (attempt.steps_done as usize + 1).min(module.steps.len());
    Ok(uri!(step_page(&module.slug, next, _)).to_string())
}

/// Starts (or resumes) the module and goes to the first place not yet done.
#[post("/student/modules/<slug>/start", data = "<form>")]
async fn start(
    app: &State<App>,
    here: StudentInModule,
    lang: Lang,
    slug: &str,
    form: Checked<CsrfOnly>,
) -> AppResult<Redirect> {
    let StudentInModule { session, state } = here;
    let _ = form;
    let (module, state) = assigned(app, lang, slug, state)?;
    let turn = app.writes.turn().await;
    let attempt = progress::start_attempt(
        &app.db,
        session.student.id,
        state.assignment.id,
        module,
        lang.0.code(),
    )
    .await?;
    drop(turn);
    Ok(Redirect::to(next_place(app, module, &attempt).await?))
}

/// The knowledge check numbered `number` (from 1) of a module that is still before its first
/// step; `None` redirects to where the student should be.
fn check_question_at(module: &Module, number: usize) -> AppResult<usize> {
    let checks = module.check_steps();
    if number == 0 || number > checks.len() {
        return Err(AppError::not_found());
    }
    Ok(checks[number - 1])
}

/// A knowledge check before the lesson: the student's best guess, without feedback.
#[get("/student/modules/<slug>/before/<number>")]
async fn before_page(
    app: &State<App>,
    views: &State<Views>,
    here: StudentInModule,
    lang: Lang,
    slug: &str,
    number: usize,
) -> AppResult<Either<Redirect, Page>> {
    let StudentInModule { session, state } = here;
    let module = module_in(app, lang, slug)?;
    // The guard read this check's "before" answer along with the session.
    let state = standing(lang, state)?;
    let answered = state.answer.is_some();
    let attempt = started(lang, state)?;
    check_question_at(module, number)?;
    if attempt.steps_done > 0 || answered {
        return Ok(Either::Left(Redirect::to(
            next_place(app, module, &attempt).await?,
        )));
    }
    // Every student sees the same question: only their token and address differ.
    let key = format!("{}@{}/before/{number}", module.slug, module.version);
    let name = &session.student.display_name;
    Ok(Either::Right(Page::shared(
        views,
        lang.0,
        name,
        "student/before",
        key,
        || before_content(lang, module, number, None),
    )))
}

fn before_view(
    session: &StudentSession,
    lang: Lang,
    module: &Module,
    number: usize,
    error: Option<&str>,
) -> Page {
    let (title, context) = before_content(lang, module, number, error);
    page_for(session, "student/before", title, context)
}

/// The title and context of a knowledge check before the lesson.
fn before_content(
    lang: Lang,
    module: &Module,
    number: usize,
    error: Option<&str>,
) -> (String, Value) {
    let checks = module.check_steps();
    let StepKind::Question(question) = &module.steps[checks[number - 1]].kind else {
        unreachable!("check_steps returns questions only");
    };
    let context = json!({
        "slug": module.slug,
        "module_title": module.title,
        "number": number,
        "total": checks.len(),
        "percent": percent(number - 1, checks.len()),
        "error": error,
        "question": {
            "prompt": question.prompt,
            "many": question.kind.allows_many(),
            "options": question.options.iter().map(|o| json!({ "id": o.id, "text": o.text })).collect::<Vec<_>>(),
        },
    });
    (
        format!("{} – {}", module.title, lang.t("before.title")),
        context,
    )
}

#[post("/student/modules/<slug>/before/<number>", data = "<form>")]
async fn answer_before(
    app: &State<App>,
    here: StudentInModule,
    lang: Lang,
    slug: &str,
    number: usize,
    form: Checked<AnswerForm>,
) -> AppResult<Either<Redirect, Page>> {
    let StudentInModule { session, state } = here;
    let (module, state) = assigned(app, lang, slug, state)?;
    // The guard read this check's "before" answer: a repeat keeps the first and writes nothing.
    let answered = state.answer.is_some();
    let attempt = started(lang, state)?;
    let index = check_question_at(module, number)?;
    if attempt.steps_done > 0 {
        // The lesson has begun: a guess now would not be a "before" answer.
        return Err(AppError::Conflict(lang.t("before.closed")));
    }
    let step = &module.steps[index];
    let StepKind::Question(question) = &step.kind else {
        return Err(AppError::not_found());
    };
    match check_question(question, &form.0.choice) {
        Err(key) => Ok(Either::Right(
            before_view(&session, lang, module, number, Some(&lang.t(key)))
                .with_status(Status::UnprocessableEntity),
        )),
        Ok((answer, correct)) => {
            if !answered {
                let _turn = app.writes.turn().await;
                progress::save_answer_in_phase(
                    &app.db,
                    attempt.id,
                    &step.id,
                    progress::PHASE_PRE,
                    &answer,
                    correct,
                )
                .await?;
            }
            Ok(Either::Left(Redirect::to(
                next_place(app, module, &attempt).await?,
            )))
        }
    }
}

/// The attempt and the answer already saved for step `number` (from 1; the guard read it along
/// with the session), once the number is checked against the module and the student's progress.
fn step_standing(
    lang: Lang,
    module: &Module,
    number: usize,
    state: Option<ModuleState>,
) -> AppResult<(attempt::Model, Option<response::Model>)> {
    let mut state = standing(lang, state)?;
    let saved = state.answer.take();
    let attempt = started(lang, state)?;
    check_step_number(lang, module, &attempt, number)?;
    Ok((attempt, saved))
}

/// Steps are numbered from 1; a student can revisit any step done and open the next one.
fn check_step_number(
    lang: Lang,
    module: &Module,
    attempt: &attempt::Model,
    number: usize,
) -> AppResult<()> {
    if number == 0 || number > module.steps.len() {
        return Err(AppError::NotFound(
            lang.t_with("problem.steps_range", &[&module.steps.len().to_string()]),
        ));
    }
    if number > attempt.steps_done as usize + 1 {
        return Err(AppError::Conflict(lang.t("problem.finish_earlier")));
    }
    Ok(())
}

/// What a step shows: the saved answer with feedback once answered, else the form. `path` is
/// how far a reply conversation has gone before it is saved.
fn step_context(
    lang: Lang,
    module: &Module,
    number: usize,
    saved: Option<&BTreeSet<String>>,
    path: Option<&str>,
    error: Option<&str>,
) -> Value {
    let step = &module.steps[number - 1];
    let answered = saved.is_some();
    let picked = |id: &str| saved.is_some_and(|s| s.contains(id));
    let mut body = json!({
        "reading": null, "chat": null, "feed": null, "reply": null, "sort": null, "question": null
    });
    let step_href = |path: &str| {
        format!(
            "/student/modules/{}/steps/{number}?path={path}#conversation",
            module.slug
        )
    };
    let (key, value) = match &step.kind {
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
        StepKind::Feed(feed) => (
            "feed",
            json!({
                "title": feed.title,
                "intro_html": feed.intro_html,
                "posts": feed.posts.iter().map(|p| json!({
                    "id": p.id,
                    "type": p.post_type,
                    "action": lang.t(&format!("step.post.{}", p.post_type)),
                    "author": p.author,
                    "text": p.text,
                    "red_flag": p.red_flag,
                    "reason": p.reason,
                    "flagged": picked(&p.id),
                    "right": picked(&p.id) == p.red_flag,
                })).collect::<Vec<_>>(),
            }),
        ),
        StepKind::Reply(reply) => {
            let stored = saved.and_then(stored_reply_path);
            let path_text = stored.as_deref().or(path).unwrap_or("");
            let choices = parse_reply_path(path_text).unwrap_or_default();
            let nodes = reply
                .follow(&choices)
                .or_else(|| reply.follow(&[]))
                .unwrap_or_default();
            let choices = &choices[..nodes.len().saturating_sub(1)];
            let turns: Vec<Value> = nodes
                .iter()
                .enumerate()
                .map(|(i, node)| {
                    json!({
                        "say": node.say,
                        "chose": choices.get(i).and_then(|&c| node.replies.get(c)).map(|r| &r.text),
                    })
                })
                .collect();
            let current = nodes.last();
            let so_far: Vec<String> = choices.iter().map(usize::to_string).collect();
            let so_far = so_far.join(".");
            let offered: Vec<Value> = match current {
                Some(node) if !answered => node
                    .replies
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let next = if so_far.is_empty() {
                            i.to_string()
                        } else {
                            format!("{so_far}.{i}")
                        };
                        json!({ "text": r.text, "href": step_href(&next) })
                    })
                    .collect(),
                _ => Vec::new(),
            };
            (
                "reply",
                json!({
                    "title": reply.title,
                    "intro_html": reply.intro_html,
                    "contact": reply.contact,
                    "turns": turns,
                    "choices": offered,
                    "ending": current.and_then(|n| n.ending.as_ref()),
                    "path": so_far,
                    "restart_href": step_href(""),
                    "started": !choices.is_empty(),
                }),
            )
        }
        StepKind::Sort(sort) => {
            let placed = saved.map(sort_placements).unwrap_or_default();
            let label = |id: &str| {
                sort.buckets
                    .iter()
                    .find(|b| b.id == id)
                    .map_or("", |b| b.label.as_str())
            };
            (
                "sort",
                json!({
                    "title": sort.title,
                    "intro_html": sort.intro_html,
                    "buckets": sort.buckets,
                    "items": sort.items.iter().map(|item| {
                        let chosen = placed.get(&item.id).map(String::as_str);
                        json!({
                            "id": item.id,
                            "text": item.text,
                            "feedback": item.feedback,
                            "right": chosen == Some(item.bucket.as_str()),
                            "placed": chosen.map(label),
                            "right_label": label(&item.bucket),
                            "options": sort.buckets.iter().map(|b| json!({
                                "id": b.id,
                                "label": b.label,
                            })).collect::<Vec<_>>(),
                        })
                    }).collect::<Vec<_>>(),
                }),
            )
        }
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
        "error": error,
        "step": body,
    })
}

#[get("/student/modules/<slug>/steps/<number>?<path>")]
async fn step_page(
    app: &State<App>,
    views: &State<Views>,
    here: StudentInModule,
    lang: Lang,
    slug: &str,
    number: usize,
    path: Option<&str>,
) -> AppResult<Either<Redirect, Page>> {
    let StudentInModule { session, state } = here;
    let module = module_in(app, lang, slug)?;
    let (attempt, saved) = step_standing(lang, module, number, state)?;
    if let Some(check) = unanswered_check(app, module, &attempt).await? {
        return Ok(Either::Left(Redirect::to(check)));
    }
    let answer = saved.as_ref().map(|r| progress::decode_answer(&r.answer));
    let title = || step_title(lang, module, number);
    // A step not yet answered looks the same to every student, unless it is a reply
    // conversation part way through (`path`: the replies chosen so far).
    if answer.is_none() && path.is_none() {
        let key = format!("{}@{}/steps/{number}", module.slug, module.version);
        let name = &session.student.display_name;
        return Ok(Either::Right(Page::shared(
            views,
            lang.0,
            name,
            "student/step",
            key,
            || {
                (
                    title(),
                    step_context(lang, module, number, None, None, None),
                )
            },
        )));
    }
    let context = step_context(lang, module, number, answer.as_ref(), path, None);
    Ok(Either::Right(page_for(
        &session,
        "student/step",
        title(),
        context,
    )))
}

/// The step again with the answer that counts, when another answer to it came first (a stale
/// tab): 409, so nothing the student sees is silently dropped.
fn answered_elsewhere(
    session: &StudentSession,
    lang: Lang,
    module: &Module,
    number: usize,
    first: &BTreeSet<String>,
) -> Page {
    let notice = lang.t("problem.answered_elsewhere");
    let context = step_context(lang, module, number, Some(first), None, Some(&notice));
    page_for(
        session,
        "student/step",
        step_title(lang, module, number),
        context,
    )
    .with_status(Status::Conflict)
}

fn step_title(lang: Lang, module: &Module, number: usize) -> String {
    format!(
        "{} – {}",
        module.title,
        lang.t_with(
            "step.progress",
            &[&number.to_string(), &module.steps.len().to_string()]
        )
    )
}

/// Saves the answer to a step (or marks a reading as read), then shows the feedback or the next
/// step. A repeated submission finds the first answer and changes nothing.
#[post("/student/modules/<slug>/steps/<number>", data = "<form>")]
async fn answer_step(
    app: &State<App>,
    here: StudentInModule,
    lang: Lang,
    slug: &str,
    number: usize,
    form: Checked<AnswerForm>,
) -> AppResult<Either<Redirect, Page>> {
    let StudentInModule { session, state } = here;
    let module = module_in(app, lang, slug)?;
    let (attempt, saved) = step_standing(lang, module, number, state)?;
    if let Some(check) = unanswered_check(app, module, &attempt).await? {
        return Ok(Either::Left(Redirect::to(check)));
    }
    let step = &module.steps[number - 1];
    let form = form.0;
    let checked = match &step.kind {
        StepKind::Reading(_) => None,
        StepKind::Chat(chat) => Some(check_chat(chat, &form.choice)),
        StepKind::Feed(feed) => Some(check_feed(feed, &form.choice)),
        StepKind::Sort(sort) => Some(check_sort(sort, &form.sort.into_iter().collect())),
        StepKind::Reply(reply) => Some(check_reply(reply, &form.path)),
        StepKind::Question(question) => Some(check_question(question, &form.choice)),
    };
    let stored = saved.filter(|_| step.kind.is_answered());
    if let Some(stored) = stored {
        // The first answer stands. A different one (a stale tab) is refused with the answer
        // that counts; the same one again (a double click, a retry) shows it, after finishing
        // what the first save may not have: the answer can be saved and the write after it
        // fail, and the retry is then the student's only way on.
        let first = progress::decode_answer(&stored.answer);
        let differs = matches!(&checked, Some(Ok((answer, _))) if *answer != first);
        if differs {
            return Ok(Either::Right(answered_elsewhere(
                &session, lang, module, number, &first,
            )));
        }
        let last = number == module.steps.len();
        if attempt.steps_done < number as i32 || (last && attempt.finished_at.is_none()) {
            let _turn = app.writes.turn().await;
            progress::advance(&app.db, attempt.id, number as i32).await?;
            if last {
                finish_attempt(app, module, &attempt).await?;
            }
        }
        return Ok(Either::Left(Redirect::to(uri!(step_page(slug, number, _)))));
    }
    let answer = match checked {
        Some(Err(key)) => {
            let path = (!form.path.is_empty()).then_some(form.path.as_str());
            let context = step_context(lang, module, number, None, path, Some(&lang.t(key)));
            let page = page_for(
                &session,
                "student/step",
                step_title(lang, module, number),
                context,
            );
            return Ok(Either::Right(page.with_status(Status::UnprocessableEntity)));
        }
        Some(Ok(answer)) => Some(answer),
        None => None,
    };
    let _turn = app.writes.turn().await;
    match answer {
        Some((answer, correct)) => {
            let saved = progress::save_answer_and_advance(
                &app.db,
                attempt.id,
                &step.id,
                &answer,
                correct,
                number as i32,
            )
            .await?;
            // Another tab's different answer got in first, after this page's state was read.
            let first = progress::decode_answer(&saved.answer);
            if first != answer {
                return Ok(Either::Right(answered_elsewhere(
                    &session, lang, module, number, &first,
                )));
            }
        }
        None => progress::advance(&app.db, attempt.id, number as i32).await?,
    }
    if number == module.steps.len() {
        finish_attempt(app, module, &attempt).await?;
    }
    let target = match (&step.kind, number == module.steps.len()) {
        (StepKind::Reading(_), true) => uri!(done_page(slug)),
        (StepKind::Reading(_), false) => uri!(step_page(slug, number + 1, _)),
        _ => uri!(step_page(slug, number, _)),
    };
    Ok(Either::Left(Redirect::to(target)))
}

/// Scores the first answers to the questions and marks the attempt finished, once.
async fn finish_attempt(app: &App, module: &Module, attempt: &attempt::Model) -> AppResult<()> {
    let responses = progress::responses_of_attempt(&app.db, attempt.id).await?;
    let before =
        progress::responses_of_attempts_in_phase(&app.db, &[attempt.id], progress::PHASE_PRE)
            .await?;
    let right = |records: &[response::Model], step: &str| {
        records
            .iter()
            .find(|r| r.step_id == step)
            .map(|r| r.correct)
    };
    let total = module.question_count() as i32;
    let correct = module
        .questions()
        .filter(|(step, _)| right(&responses, &step.id) == Some(true))
        .count() as i32;
    let check_ids: Vec<&str> = module
        .check_steps()
        .into_iter()
        .map(|i| module.steps[i].id.as_str())
        .collect();
    // Kept on the attempt so that roll-ups read one row per student, not every answer.
    let checks = check_ids
        .iter()
        .map(|id| Some((right(&before, id)?, right(&responses, id)?)))
        .collect::<Option<Vec<(bool, bool)>>>()
        .filter(|pairs| !pairs.is_empty())
        .map(|pairs| {
            let count =
                |pick: fn(&(bool, bool)) -> bool| pairs.iter().filter(|p| pick(p)).count() as i32;
            (pairs.len() as i32, count(|p| p.0), count(|p| p.1))
        });
    progress::finish(
        &app.db,
        attempt,
        progress::Finish {
            correct,
            total,
            checks,
        },
    )
    .await
}

#[get("/student/modules/<slug>/done")]
async fn done_page(
    app: &State<App>,
    here: StudentInModule,
    lang: Lang,
    slug: &str,
) -> AppResult<Page> {
    let StudentInModule { session, state } = here;
    let (module, state) = assigned(app, lang, slug, state)?;
    let attempt = started(lang, state)?;
    if attempt.finished_at.is_none() {
        let next = (attempt.steps_done as usize + 1).min(module.steps.len());
        return Err(AppError::Conflict(
            lang.t_with("problem.not_finished", &[&next.to_string()]),
        ));
    }
    let context = json!({
        "slug": module.slug,
        "title": module.title,
        "help": module.help,
        "trusted_adult": app.settings.help.trusted_adult,
        "sources": module.sources,
    });
    Ok(page_for(
        &session,
        "student/done",
        lang.t_with("done.title", &[&module.title]),
        context,
    ))
}

/// The printable take-home page for families; public, since it holds nothing about a student.
/// `?lang=es` picks the language, so a teacher can print either.
#[get("/family/<slug>?<lang>")]
fn family_page(app: &State<App>, slug: &str, lang: Option<&str>, current: Lang) -> AppResult<Page> {
    let language = lang.and_then(Language::parse).unwrap_or(current.0);
    let module = app
        .curriculum
        .get_in(slug, language)
        .ok_or_else(AppError::not_found)?;
    let lang = Lang(module.language);
    let context = json!({
        "title": module.title,
        "lang_override": module.language.code(),
        "learned_html": module.family.learned_html,
        "talk_html": module.family.talk_html,
        "help": module.help,
        "trusted_adult": app.settings.help.trusted_adult,
    });
    Ok(Page::new(
        "family",
        lang.t_with("family.title", &[&module.title]),
        context,
    )
    .in_language(module.language))
}
