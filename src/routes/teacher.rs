//! Teacher pages: classes, students and login cards, assignments, and results. Administrators
//! can do all of this too. The functions marked `pub(super)` are shared with the JSON API.

use rocket::form::FromForm;
use rocket::http::ContentType;
use rocket::request::{self, FromRequest, Request};
use rocket::response::Redirect;
use rocket::{Route, State, get, post, routes, uri};
use serde::Serialize;
use serde_json::json;

use crate::App;
use crate::auth::Staff;
use crate::auth::csrf::{Checked, CsrfOnly};
use crate::csrf_form;
use crate::curriculum::{Language, Module, Tier};
use crate::db::entities::user::ROLE_PARTNER;
use crate::db::entities::{assignment, attempt, class, opt_out, student};
use crate::db::queries::{audit, classes, opt_outs, progress, retention, staff as staff_queries};
use crate::domain::codes::JoinCode;
use crate::domain::input::{parse_due_date, parse_name, parse_student_names};
use crate::domain::results::{AttemptSummary, ModuleResults, module_results};
use crate::domain::{percent, spreadsheet_safe};
use crate::error::{AppError, AppResult};
use crate::views::{Page, charts};

pub fn routes() -> Vec<Route> {
    routes![
        dashboard,
        create_class,
        class_page,
        add_students,
        login_cards,
        assign,
        unassign,
        results_page,
        results_csv,
        progress_csv,
        class_summary,
        module_catalogue,
        module_guide,
        record_opt_out,
        withdraw_opt_out,
        end_class,
        reopen_class
    ]
}

#[derive(FromForm)]
struct NewClassForm {
    csrf_token: String,
    name: String,
    tier: String,
    #[field(default = String::from("en"))]
    language: String,
}

#[derive(FromForm)]
struct StudentsForm {
    csrf_token: String,
    names: String,
}

#[derive(FromForm)]
struct AssignForm {
    csrf_token: String,
    module: String,
    due_on: String,
}

#[derive(FromForm)]
struct OptOutForm {
    csrf_token: String,
    student: String,
    module: String,
}

csrf_form!(NewClassForm, StudentsForm, AssignForm, OptOutForm);

pub(super) fn parse_tier(input: &str) -> AppResult<Tier> {
    Tier::parse(input).ok_or_else(|| {
        AppError::bad_request(format!(
            "{input:?} is not a grade band: choose K-2, 3-5, 6-8 or 9-12."
        ))
    })
}

pub(super) async fn new_class(
    app: &App,
    staff: &Staff,
    name: &str,
    tier: &str,
    language: &str,
) -> AppResult<class::Model> {
    if staff.user.role == ROLE_PARTNER {
        return Err(AppError::Forbidden(
            "Partner accounts see reports across schools; they do not have classes.".into(),
        ));
    }
    let name = parse_name(name, "class name", 100).map_err(AppError::BadRequest)?;
    let tier = parse_tier(tier)?;
    let language = Language::parse(language).ok_or_else(|| {
        AppError::bad_request(format!(
            "{language:?} is not a language Tellwise speaks: choose en (English) or es (Spanish)."
        ))
    })?;
    let school_id = match staff.user.school_id {
        Some(id) => id,
        None => staff_queries::first_school(&app.db)
            .await?
            .map(|s| s.id)
            .ok_or_else(|| AppError::Conflict("Set up a school first.".into()))?,
    };
    classes::create(&app.db, &staff.user, school_id, &name, tier, language).await
}

pub(super) async fn new_students(
    app: &App,
    class: &class::Model,
    names: &[String],
) -> AppResult<Vec<student::Model>> {
    let names = names
        .iter()
        .map(|n| crate::domain::input::parse_student_name(n))
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::BadRequest)?;
    if names.is_empty() {
        return Err(AppError::bad_request("Enter at least one student name."));
    }
    if class.ended_at.is_some() {
        return Err(AppError::Conflict(
            "This class has ended: reopen it before adding students.".into(),
        ));
    }
    classes::add_students(&app.db, class.id, &names).await
}

pub(super) fn module_or_400<'a>(app: &'a App, slug: &str) -> AppResult<&'a Module> {
    app.curriculum.get(slug.trim()).ok_or_else(|| {
        AppError::bad_request(format!(
            "There is no module called {:?}: pick one from the list.",
            slug.trim()
        ))
    })
}

pub(super) async fn assign_module(
    app: &App,
    class: &class::Model,
    slug: &str,
    due_on: &str,
) -> AppResult<assignment::Model> {
    let module = module_or_400(app, slug)?;
    let due_on = parse_due_date(due_on).map_err(AppError::BadRequest)?;
    classes::assign(&app.db, class.id, &module.slug, due_on).await
}

/// A module in the curriculum, as listed to a teacher for a class of `class_tier`.
#[derive(Serialize)]
pub(super) struct ModuleChoice {
    slug: String,
    title: String,
    tier: Tier,
    minutes: u32,
    summary: String,
    other_tier: bool,
}

fn module_choices(app: &App, class_tier: Option<Tier>) -> Vec<ModuleChoice> {
    let mut choices: Vec<ModuleChoice> = app
        .curriculum
        .modules()
        .into_iter()
        .map(|m| ModuleChoice {
            slug: m.slug.clone(),
            title: m.title.clone(),
            tier: m.tier,
            minutes: m.minutes,
            summary: m.summary.clone(),
            other_tier: class_tier.is_some_and(|t| t != m.tier),
        })
        .collect();
    // The class's own grade band first, so it is what the list offers by default.
    choices.sort_by_key(|c| c.other_tier);
    choices
}

#[derive(Serialize)]
pub(super) struct Progress {
    finished: usize,
    in_progress: usize,
    not_started: usize,
    /// Students who have not finished although the due date has passed.
    overdue: usize,
    finished_percent: u32,
    in_progress_percent: u32,
}

impl Progress {
    fn of(
        attempts: &[&attempt::Model],
        roster: usize,
        due_on: Option<chrono::NaiveDate>,
        today: chrono::NaiveDate,
    ) -> Self {
        let finished = attempts.iter().filter(|a| a.finished_at.is_some()).count();
        let in_progress = attempts.len() - finished;
        let overdue = if due_on.is_some_and(|due| due < today) {
            roster.saturating_sub(finished)
        } else {
            0
        };
        Self {
            finished,
            in_progress,
            not_started: roster.saturating_sub(attempts.len()),
            overdue,
            finished_percent: percent(finished, roster),
            in_progress_percent: percent(in_progress, roster),
        }
    }
}

/// One student's place in one assignment, as the class dashboard and its CSV show it.
#[derive(Serialize)]
struct StudentCell {
    status: &'static str,
    label: String,
    overdue: bool,
}

fn student_cell(
    attempt: Option<&attempt::Model>,
    steps: usize,
    due_on: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
    opted_out: bool,
) -> StudentCell {
    if opted_out {
        return StudentCell {
            status: "opted-out",
            label: "Family opted out".into(),
            overdue: false,
        };
    }
    let finished = attempt.is_some_and(|a| a.finished_at.is_some());
    let overdue = !finished && due_on.is_some_and(|due| due < today);
    let (status, label) = match attempt {
        Some(_) if finished => ("finished", "Finished".to_string()),
        Some(a) => (
            "in-progress",
            format!("In progress ({} of {steps})", a.steps_done),
        ),
        None => ("not-started", "Not started".to_string()),
    };
    StudentCell {
        status,
        label,
        overdue,
    }
}

fn is_opted_out(opt_outs: &[opt_out::Model], student_id: i32, slug: &str) -> bool {
    opt_outs
        .iter()
        .any(|o| o.student_id == student_id && o.module_slug == slug)
}

/// The students a module is for: the class, less those whose families opted them out of it.
fn roster_for(students: &[student::Model], opt_outs: &[opt_out::Model], slug: &str) -> usize {
    students
        .iter()
        .filter(|s| !is_opted_out(opt_outs, s.id, slug))
        .count()
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

#[get("/teacher")]
async fn dashboard(app: &State<App>, staff: Staff) -> AppResult<rocket::Either<Redirect, Page>> {
    if staff.user.role == ROLE_PARTNER {
        // Partners have no classes; their page is the roll-up report.
        return Ok(rocket::Either::Left(Redirect::to("/reports")));
    }
    let classes = classes::visible_to(&app.db, &staff.user).await?;
    let rows: Vec<_> = classes
        .iter()
        .map(|c| json!({ "id": c.id, "name": c.name, "tier": c.tier, "code": display_code(&c.join_code) }))
        .collect();
    let tiers: Vec<_> = Tier::ALL
        .iter()
        .map(|t| json!({ "value": t.as_str(), "label": t.label() }))
        .collect();
    let languages: Vec<_> = Language::ALL
        .iter()
        .map(|l| json!({ "value": l.code(), "label": l.name() }))
        .collect();
    Ok(rocket::Either::Right(
        Page::new(
            "teacher/dashboard",
            "Your classes",
            json!({ "classes": rows, "tiers": tiers, "languages": languages }),
        )
        .for_staff(&staff),
    ))
}

/// Every module by grade band, so that teachers can choose and prepare.
#[get("/teacher/modules")]
fn module_catalogue(app: &State<App>, staff: Staff) -> Page {
    let tiers: Vec<_> = Tier::ALL
        .iter()
        .map(|tier| {
            let modules: Vec<_> = app
                .curriculum
                .modules()
                .into_iter()
                .filter(|m| m.tier == *tier)
                .map(|m| {
                    json!({
                        "slug": m.slug,
                        "title": m.title,
                        "summary": m.summary,
                        "minutes": m.minutes,
                        "sensitive": m.content_note.is_some(),
                    })
                })
                .collect();
            json!({ "label": tier.label(), "modules": modules })
        })
        .collect();
    Page::new("teacher/modules", "Curriculum", json!({ "tiers": tiers })).for_staff(&staff)
}

/// One module for the teacher: how to prepare, what to do if a student discloses, the outline,
/// the knowledge checks and the family page.
#[get("/teacher/modules/<slug>")]
fn module_guide(app: &State<App>, staff: Staff, slug: &str) -> AppResult<Page> {
    let module = app.curriculum.get(slug).ok_or_else(AppError::not_found)?;
    let outline: Vec<_> = module
        .steps
        .iter()
        .map(|step| {
            let title = match &step.kind {
                crate::curriculum::StepKind::Reading(r) => r.title.as_str(),
                crate::curriculum::StepKind::Chat(c) => c.title.as_str(),
                crate::curriculum::StepKind::Feed(f) => f.title.as_str(),
                crate::curriculum::StepKind::Reply(r) => r.title.as_str(),
                crate::curriculum::StepKind::Sort(s) => s.title.as_str(),
                crate::curriculum::StepKind::Question(q) => q.prompt.as_str(),
            };
            let check = matches!(&step.kind, crate::curriculum::StepKind::Question(q) if q.check);
            json!({ "kind": step.kind.name().replace('_', " "), "title": title, "check": check })
        })
        .collect();
    let context = json!({
        "slug": module.slug,
        "title": module.title,
        "tier": module.tier,
        "summary": module.summary,
        "minutes": module.minutes,
        "content_note": module.content_note,
        "teacher_html": module.teacher_html,
        "outline": outline,
        "checks": module.check_steps().len(),
        "sources": module.sources,
        "reading_grade": format!("{:.1}", crate::curriculum::quality::reading_grade(module)),
        "version": module.version,
    });
    Ok(Page::new("teacher/module", module.title.clone(), context).for_staff(&staff))
}

/// The host a request was sent to, from the `Host` header.
pub(super) struct RequestHost(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequestHost {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let host = req
            .host()
            .map(|h| h.to_string())
            .or_else(|| req.headers().get_one("Host").map(str::to_string));
        request::Outcome::Success(RequestHost(host))
    }
}

/// The address people use to reach Tellwise: `public_url`, else the host this request came to.
pub(super) fn base_url(app: &App, host: RequestHost) -> String {
    match (&app.settings.public_url, host.0) {
        (Some(url), _) => url.trim_end_matches('/').to_string(),
        (None, Some(host)) => {
            let scheme = if app.settings.secure_cookies {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{host}")
        }
        (None, None) => String::new(),
    }
}

fn display_code(code: &str) -> String {
    JoinCode::parse(code)
        .map(|c| c.display())
        .unwrap_or_else(|_| code.to_string())
}

#[post("/teacher/classes", data = "<form>")]
async fn create_class(
    app: &State<App>,
    staff: Staff,
    form: Checked<NewClassForm>,
) -> AppResult<Redirect> {
    let form = form.0;
    let class = new_class(app, &staff, &form.name, &form.tier, &form.language).await?;
    Ok(Redirect::to(uri!(class_page(class.id))))
}

#[get("/teacher/classes/<id>")]
async fn class_page(app: &State<App>, staff: Staff, id: i32) -> AppResult<Page> {
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    let students = classes::students(&app.db, class.id).await?;
    let assignments = classes::active_assignments(&app.db, class.id).await?;
    let ids: Vec<i32> = assignments.iter().map(|a| a.id).collect();
    let attempts = progress::attempts_for_assignments(&app.db, &ids).await?;
    let opt_outs = opt_outs::of_class(&app.db, class.id).await?;
    let class_tier = Tier::parse(&class.tier);
    let today = today();
    let kept = retention::of_class(&app.db, class.clone(), app.settings.retention_days).await?;
    let assignment_rows: Vec<_> = assignments
        .iter()
        .map(|a| {
            let module = app.curriculum.get(&a.module_slug);
            let of_this: Vec<&attempt::Model> = attempts
                .iter()
                .filter(|t| t.assignment_id == a.id)
                .collect();
            json!({
                "id": a.id,
                "slug": a.module_slug,
                "title": module.map_or(a.module_slug.as_str(), |m| m.title.as_str()),
                "tier": module.map(|m| m.tier),
                "other_tier": module.is_some_and(|m| Some(m.tier) != class_tier),
                "due_on": a.due_on.map(|d| d.to_string()),
                "progress": Progress::of(
                    &of_this,
                    roster_for(&students, &opt_outs, &a.module_slug),
                    a.due_on,
                    today,
                ),
            })
        })
        .collect();
    let grid: Vec<_> = students
        .iter()
        .map(|s| {
            let cells: Vec<_> = assignments
                .iter()
                .map(|a| {
                    let attempt = attempts
                        .iter()
                        .find(|t| t.assignment_id == a.id && t.student_id == s.id);
                    let steps = app
                        .curriculum
                        .get(&a.module_slug)
                        .map_or(0, |m| m.steps.len());
                    let opted_out = is_opted_out(&opt_outs, s.id, &a.module_slug);
                    student_cell(attempt, steps, a.due_on, today, opted_out)
                })
                .collect();
            json!({ "name": s.display_name, "cells": cells })
        })
        .collect();
    let context = json!({
        "grid": grid,
        "class": {
            "id": class.id,
            "name": class.name,
            "tier": class.tier,
            "language": Language::parse(&class.language).unwrap_or_default().name(),
            "code": display_code(&class.join_code),
        },
        "student_count": students.len(),
        "student_choices": students
            .iter()
            .map(|s| json!({ "id": s.id, "name": s.display_name }))
            .collect::<Vec<_>>(),
        "opt_outs": opt_outs
            .iter()
            .map(|o| json!({
                "id": o.id,
                "student": students.iter().find(|s| s.id == o.student_id).map(|s| &s.display_name),
                "module": app.curriculum.get(&o.module_slug).map_or(o.module_slug.as_str(), |m| m.title.as_str()),
            }))
            .collect::<Vec<_>>(),
        "assignments": assignment_rows,
        "modules": module_choices(app, class_tier),
        "retention": {
            "days": app.settings.retention_days,
            "ended_on": class.ended_at.map(|at| at.date().to_string()),
            "purged_on": class.purged_at.map(|at| at.date().to_string()),
            "ends_on": kept.ends_at.date().to_string(),
            "purge_on": kept.purge_at.date().to_string(),
        },
    });
    Ok(Page::new("teacher/class", class.name.clone(), context).for_staff(&staff))
}

#[post("/teacher/classes/<id>/students", data = "<form>")]
async fn add_students(
    app: &State<App>,
    staff: Staff,
    id: i32,
    form: Checked<StudentsForm>,
) -> AppResult<Redirect> {
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    let names = parse_student_names(&form.0.names).map_err(AppError::BadRequest)?;
    new_students(app, &class, &names).await?;
    Ok(Redirect::to(uri!(class_page(class.id))))
}

/// Ends the class: its students are signed out and can no longer sign in, and the retention
/// period before their data is removed starts now.
#[post("/teacher/classes/<id>/end", data = "<form>")]
async fn end_class(
    app: &State<App>,
    staff: Staff,
    id: i32,
    form: Checked<CsrfOnly>,
) -> AppResult<Redirect> {
    let _ = form;
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    retention::end_class(&app.db, &class, crate::db::queries::now()).await?;
    audit::note(&app.db, staff.user.id, "class ended", format!("class {id}")).await?;
    Ok(Redirect::to(uri!(class_page(id))))
}

#[post("/teacher/classes/<id>/reopen", data = "<form>")]
async fn reopen_class(
    app: &State<App>,
    staff: Staff,
    id: i32,
    form: Checked<CsrfOnly>,
) -> AppResult<Redirect> {
    let _ = form;
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    retention::reopen_class(&app.db, &class).await?;
    audit::note(
        &app.db,
        staff.user.id,
        "class reopened",
        format!("class {id}"),
    )
    .await?;
    Ok(Redirect::to(uri!(class_page(id))))
}

/// A printable page of cards: each student's name, the class code and their secret words.
#[get("/teacher/classes/<id>/cards")]
async fn login_cards(
    app: &State<App>,
    staff: Staff,
    id: i32,
    host: RequestHost,
) -> AppResult<Page> {
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    let students = classes::students(&app.db, class.id).await?;
    let cards: Vec<_> = students
        .iter()
        .map(|s| json!({ "name": s.display_name, "secret": s.secret }))
        .collect();
    let sign_in_url = format!("{}/student/login", base_url(app, host));
    let context = json!({
        "class": { "id": class.id, "name": class.name, "code": display_code(&class.join_code) },
        "cards": cards,
        "sign_in_url": sign_in_url,
    });
    Ok(Page::new(
        "teacher/cards",
        format!("Login cards: {}", class.name),
        context,
    )
    .for_staff(&staff))
}

#[post("/teacher/classes/<id>/assignments", data = "<form>")]
async fn assign(
    app: &State<App>,
    staff: Staff,
    id: i32,
    form: Checked<AssignForm>,
) -> AppResult<Redirect> {
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    assign_module(app, &class, &form.0.module, &form.0.due_on).await?;
    Ok(Redirect::to(uri!(class_page(class.id))))
}

#[post(
    "/teacher/classes/<id>/assignments/<assignment_id>/remove",
    data = "<form>"
)]
async fn unassign(
    app: &State<App>,
    staff: Staff,
    id: i32,
    assignment_id: i32,
    form: Checked<CsrfOnly>,
) -> AppResult<Redirect> {
    let _ = form;
    let (class, assignment) =
        classes::class_and_assignment(&app.db, &staff.user, id, assignment_id).await?;
    classes::unassign(&app.db, assignment).await?;
    Ok(Redirect::to(uri!(class_page(class.id))))
}

/// Records a family's opt-out of one module for one student of the class; what the student had
/// already answered in it is deleted.
#[post("/teacher/classes/<id>/opt-outs", data = "<form>")]
async fn record_opt_out(
    app: &State<App>,
    staff: Staff,
    id: i32,
    form: Checked<OptOutForm>,
) -> AppResult<Redirect> {
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    let form = form.0;
    let student_id = form
        .student
        .trim()
        .parse::<i32>()
        .map_err(|_| AppError::bad_request("Choose a student of this class."))?;
    let module = module_or_400(app, form.module.trim())?;
    let recorded = opt_outs::record(&app.db, &class, student_id, &module.slug).await?;
    let answers = if recorded.answers_deleted {
        ", answers deleted"
    } else {
        ""
    };
    audit::note(
        &app.db,
        staff.user.id,
        "family opt-out recorded",
        format!(
            "class {} student {student_id} module {}{answers}",
            class.id, module.slug
        ),
    )
    .await?;
    Ok(Redirect::to(format!(
        "{}#opt-outs",
        uri!(class_page(class.id))
    )))
}

#[post("/teacher/classes/<id>/opt-outs/<opt_out_id>/remove", data = "<form>")]
async fn withdraw_opt_out(
    app: &State<App>,
    staff: Staff,
    id: i32,
    opt_out_id: i32,
    form: Checked<CsrfOnly>,
) -> AppResult<Redirect> {
    let _ = form;
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    opt_outs::withdraw(&app.db, &class, opt_out_id).await?;
    audit::note(
        &app.db,
        staff.user.id,
        "family opt-out withdrawn",
        format!("class {} opt-out {opt_out_id}", class.id),
    )
    .await?;
    Ok(Redirect::to(format!(
        "{}#opt-outs",
        uri!(class_page(class.id))
    )))
}

/// Where one student stands in one module: status only, never their answers.
#[derive(Serialize)]
pub(super) struct StudentStatus {
    pub name: String,
    pub status: &'static str,
    pub steps_done: i32,
}

pub(super) struct Report<'a> {
    pub class: class::Model,
    pub assignment: assignment::Model,
    pub module: &'a Module,
    pub results: ModuleResults,
    pub students: Vec<StudentStatus>,
}

impl Report<'_> {
    pub fn csv(&self) -> AppResult<(ContentType, String)> {
        let csv = self
            .results
            .to_csv(self.module)
            .map_err(AppError::internal)?;
        Ok((ContentType::CSV, csv))
    }
}

/// The results of one of the staff member's assignments, or "not found".
pub(super) async fn assignment_report<'a>(
    app: &'a App,
    staff: &Staff,
    class_id: i32,
    assignment_id: i32,
) -> AppResult<Report<'a>> {
    let (class, assignment) =
        classes::class_and_assignment(&app.db, &staff.user, class_id, assignment_id).await?;
    let module = app.curriculum.get(&assignment.module_slug).ok_or_else(|| {
        AppError::NotFound(format!(
            "The module {:?} is no longer in the curriculum.",
            assignment.module_slug
        ))
    })?;
    let students = classes::students(&app.db, class.id).await?;
    let opt_outs = opt_outs::of_class(&app.db, class.id).await?;
    let attempts = progress::attempts_for_assignment(&app.db, assignment.id).await?;
    let (records, before) = progress::answer_records_of_assignment(&app.db, assignment.id).await?;
    let vacated = progress::vacated_places(&app.db, assignment.id).await?;
    let summaries: Vec<AttemptSummary> = attempts
        .iter()
        .map(|a| AttemptSummary {
            attempt_id: a.id,
            finished_at: a.finished_at,
            score: a.score_correct.zip(a.score_total),
        })
        .collect();
    let results = module_results(
        module,
        roster_for(&students, &opt_outs, &module.slug),
        &summaries,
        &vacated,
        &records,
        &before,
        app.settings.min_group_size as usize,
    );
    let statuses = students
        .iter()
        .map(|s| {
            let attempt = attempts.iter().find(|a| a.student_id == s.id);
            StudentStatus {
                name: s.display_name.clone(),
                status: match attempt {
                    _ if is_opted_out(&opt_outs, s.id, &module.slug) => "opted out by family",
                    Some(a) if a.finished_at.is_some() => "finished",
                    Some(_) => "in progress",
                    None => "not started",
                },
                steps_done: attempt.map_or(0, |a| a.steps_done),
            }
        })
        .collect();
    Ok(Report {
        class,
        assignment,
        module,
        results,
        students: statuses,
    })
}

#[get("/teacher/classes/<id>/assignments/<assignment_id>")]
async fn results_page(
    app: &State<App>,
    staff: Staff,
    id: i32,
    assignment_id: i32,
) -> AppResult<Page> {
    let report = assignment_report(app, &staff, id, assignment_id).await?;
    let (class, assignment) = (&report.class, &report.assignment);
    let context = json!({
        "class": { "id": class.id, "name": class.name },
        "assignment": { "id": assignment.id, "due_on": assignment.due_on.map(|d| d.to_string()) },
        "module": { "slug": report.module.slug, "title": report.module.title, "tier": report.module.tier, "steps": report.module.steps.len() },
        "results": report.results,
        "charts": report_charts(&report.results),
        "students": report.students,
    });
    Ok(Page::new(
        "teacher/results",
        format!("Results: {}", report.module.title),
        context,
    )
    .for_staff(&staff))
}

/// Every student's status in every assigned module, as CSV: statuses only, never answers.
#[get("/teacher/classes/<id>/progress.csv")]
async fn progress_csv(app: &State<App>, staff: Staff, id: i32) -> AppResult<(ContentType, String)> {
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    let students = classes::students(&app.db, class.id).await?;
    let assignments = classes::active_assignments(&app.db, class.id).await?;
    let ids: Vec<i32> = assignments.iter().map(|a| a.id).collect();
    let attempts = progress::attempts_for_assignments(&app.db, &ids).await?;
    let opt_outs = opt_outs::of_class(&app.db, class.id).await?;
    let today = today();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["student".to_string()];
    header.extend(assignments.iter().map(|a| {
        let title = app
            .curriculum
            .get(&a.module_slug)
            .map_or(a.module_slug.as_str(), |m| m.title.as_str());
        match a.due_on {
            Some(due) => format!("{title} (due {due})"),
            None => title.to_string(),
        }
    }));
    writer.write_record(&header).map_err(AppError::internal)?;
    for student in &students {
        let mut row = vec![spreadsheet_safe(&student.display_name)];
        for a in &assignments {
            let attempt = attempts
                .iter()
                .find(|t| t.assignment_id == a.id && t.student_id == student.id);
            let steps = app
                .curriculum
                .get(&a.module_slug)
                .map_or(0, |m| m.steps.len());
            let opted_out = is_opted_out(&opt_outs, student.id, &a.module_slug);
            let cell = student_cell(attempt, steps, a.due_on, today, opted_out);
            let mut label = cell.label;
            if cell.overdue {
                label.push_str(", overdue");
            }
            row.push(label);
        }
        writer.write_record(&row).map_err(AppError::internal)?;
    }
    let bytes = writer.into_inner().map_err(AppError::internal)?;
    Ok((
        ContentType::CSV,
        String::from_utf8(bytes).map_err(AppError::internal)?,
    ))
}

/// One printable page for the class: each assignment's progress, score and knowledge gain.
#[get("/teacher/classes/<id>/summary")]
async fn class_summary(app: &State<App>, staff: Staff, id: i32) -> AppResult<Page> {
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    let assignments = classes::active_assignments(&app.db, class.id).await?;
    let mut rows = Vec::new();
    for assignment in &assignments {
        let report = assignment_report(app, &staff, class.id, assignment.id).await?;
        let r = &report.results;
        rows.push(json!({
            "title": report.module.title,
            "due_on": assignment.due_on.map(|d| d.to_string()),
            "finished": r.finished,
            "in_progress": r.in_progress,
            "not_started": r.not_started,
            "roster": r.roster,
            "finished_percent": percent(r.finished, r.roster),
            "average": r.average_score_percent,
            "gain": r.gain,
            "hardest": r.questions.iter().filter(|q| !q.suppressed).min_by_key(|q| q.percent_correct).map(|q| json!({
                "number": q.number, "prompt": q.prompt, "percent": q.percent_correct,
            })),
        }));
    }
    let context = json!({
        "class": { "id": class.id, "name": class.name, "tier": class.tier },
        "date": today().to_string(),
        "min_group": app.settings.min_group_size,
        "assignments": rows,
    });
    Ok(Page::new(
        "teacher/summary",
        format!("Summary: {}", class.name),
        context,
    )
    .for_staff(&staff))
}

/// The charts of a module report; a chart is left out while its figures are suppressed.
fn report_charts(results: &ModuleResults) -> serde_json::Value {
    let questions: Vec<(String, u32)> = results
        .questions
        .iter()
        .filter_map(|q| Some((format!("Question {}", q.number), q.percent_correct?)))
        .collect();
    let facility = (!questions.is_empty()).then(|| {
        charts::percent_bars(
            "facility",
            "Share of students who answered each question correctly",
            "One bar per question; the table below each question gives the same figures.",
            &questions,
        )
    });
    let scores = (!results.score_bands.is_empty()).then(|| {
        let bands: Vec<(String, u32)> = results
            .score_bands
            .iter()
            .map(|b| (b.label.to_string(), b.percent))
            .collect();
        charts::percent_bars(
            "scores",
            "Share of students in each first-attempt score band",
            "One bar per score band; the table next to it gives the same figures.",
            &bands,
        )
    });
    let gain = (!results.gain.suppressed).then(|| {
        let items: Vec<(String, u32, u32)> = results
            .gain
            .items
            .iter()
            .filter_map(|i| {
                Some((
                    format!("Question {}", i.number),
                    i.before_percent?,
                    i.after_percent?,
                ))
            })
            .collect();
        charts::before_after(
            "gain",
            "Share correct on each knowledge check, before and after the lesson",
            "Two bars per knowledge check: before the lesson, then after it; the table gives the same figures.",
            &items,
        )
    });
    json!({ "facility": facility, "scores": scores, "gain": gain })
}

#[get("/teacher/classes/<id>/assignments/<assignment_id>/results.csv")]
async fn results_csv(
    app: &State<App>,
    staff: Staff,
    id: i32,
    assignment_id: i32,
) -> AppResult<(ContentType, String)> {
    assignment_report(app, &staff, id, assignment_id)
        .await?
        .csv()
}
