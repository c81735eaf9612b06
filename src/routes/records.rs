//! One student's records for their family: a page of what is stored, a JSON download of all of
//! it, and deleting it. For the staff who can open the student's class.

use rocket::form::FromForm;
use rocket::http::{ContentType, Header};
use rocket::response::{Redirect, Responder};
use rocket::{Route, State, get, post, routes};
use serde_json::{Value, json};

use crate::App;
use crate::auth::Staff;
use crate::auth::csrf::{Checked, CsrfOnly};
use crate::csrf_form;
use crate::db::queries::records::{self, StudentRecords};
use crate::db::queries::{audit, classes, progress};
use crate::error::{AppError, AppResult};
use crate::views::Page;

pub fn routes() -> Vec<Route> {
    routes![student_page, export, delete, new_secret]
}

#[derive(FromForm)]
struct DeleteForm {
    csrf_token: String,
    confirm: Option<String>,
}

csrf_form!(DeleteForm);

fn module_title(app: &App, slug: &str) -> String {
    app.curriculum
        .get(slug)
        .map_or_else(|| slug.to_string(), |m| m.title.clone())
}

/// Everything stored about the student, as the family receives it.
fn records_json(app: &App, class_name: &str, records: &StudentRecords) -> Value {
    let time = |t: chrono::NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    json!({
        "exported_at": time(chrono::Utc::now().naive_utc()),
        "student": {
            "display_name": records.student.display_name,
            "class": class_name,
            "added_at": time(records.student.created_at),
            "secret_words": records.student.secret,
        },
        "modules": records.attempts.iter().map(|(attempt, answers)| json!({
            "module": attempt.module_slug,
            "title": module_title(app, &attempt.module_slug),
            "language": attempt.language,
            "content_version": attempt.content_version,
            "started_at": time(attempt.started_at),
            "finished_at": attempt.finished_at.map(time),
            "steps_done": attempt.steps_done,
            "score": attempt.score_correct.zip(attempt.score_total).map(|(c, t)| json!({ "correct": c, "of": t })),
            "answers": answers.iter().map(|r| json!({
                "step": r.step_id,
                "asked": if r.phase == progress::PHASE_PRE { "before the lesson" } else { "during the lesson" },
                "chosen": progress::decode_answer(&r.answer),
                "correct": r.correct,
                "answered_at": time(r.answered_at),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "family_opt_outs": records.opt_outs.iter().map(|o| json!({
            "module": o.module_slug,
            "title": module_title(app, &o.module_slug),
            "recorded_at": time(o.recorded_at),
        })).collect::<Vec<_>>(),
    })
}

#[get("/teacher/classes/<id>/students/<student_id>")]
async fn student_page(app: &State<App>, staff: Staff, id: i32, student_id: i32) -> AppResult<Page> {
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    let student = records::student_of_class(&app.db, &class, student_id).await?;
    let records = records::records_of(&app.db, student).await?;
    let modules: Vec<Value> = records
        .attempts
        .iter()
        .map(|(attempt, answers)| {
            json!({
                "title": module_title(app, &attempt.module_slug),
                "finished": attempt.finished_at.is_some(),
                "steps_done": attempt.steps_done,
                "answers": answers.len(),
            })
        })
        .collect();
    let context = json!({
        "class": { "id": class.id, "name": class.name },
        "student": {
            "id": records.student.id,
            "name": records.student.display_name,
            "secret": records.student.secret,
        },
        "modules": modules,
        "opt_outs": records.opt_outs.iter().map(|o| module_title(app, &o.module_slug)).collect::<Vec<_>>(),
    });
    Ok(Page::new(
        "teacher/student",
        format!("Records: {}", records.student.display_name),
        context,
    )
    .for_staff(&staff))
}

/// A JSON file, downloaded rather than shown.
#[derive(Responder)]
struct Download {
    body: (ContentType, String),
    disposition: Header<'static>,
}

#[get("/teacher/classes/<id>/students/<student_id>/export.json")]
async fn export(app: &State<App>, staff: Staff, id: i32, student_id: i32) -> AppResult<Download> {
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    let student = records::student_of_class(&app.db, &class, student_id).await?;
    let records = records::records_of(&app.db, student).await?;
    let body = serde_json::to_string_pretty(&records_json(app, &class.name, &records))
        .map_err(AppError::internal)?;
    audit::note(
        &app.db,
        staff.user.id,
        "student records exported",
        format!("class {} student {student_id}", class.id),
    )
    .await?;
    Ok(Download {
        body: (ContentType::JSON, body),
        disposition: Header::new(
            "Content-Disposition",
            format!("attachment; filename=\"tellwise-student-{student_id}.json\""),
        ),
    })
}

#[post("/teacher/classes/<id>/students/<student_id>/delete", data = "<form>")]
async fn delete(
    app: &State<App>,
    staff: Staff,
    id: i32,
    student_id: i32,
    form: Checked<DeleteForm>,
) -> AppResult<Redirect> {
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    let student = records::student_of_class(&app.db, &class, student_id).await?;
    if form.0.confirm.as_deref() != Some("yes") {
        return Err(AppError::bad_request(
            "Tick the box to confirm that everything stored about this student should be deleted.",
        ));
    }
    records::delete_student(&app.db, &class, student).await?;
    audit::note(
        &app.db,
        staff.user.id,
        "student and all their records deleted",
        format!("class {} student {student_id}", class.id),
    )
    .await?;
    Ok(Redirect::to(format!("/teacher/classes/{}", class.id)))
}

/// New secret words for a student whose card was lost or seen by others: the old words and
/// every session signed in with them stop working at once.
#[post(
    "/teacher/classes/<id>/students/<student_id>/new-secret",
    data = "<form>"
)]
async fn new_secret(
    app: &State<App>,
    staff: Staff,
    id: i32,
    student_id: i32,
    form: Checked<CsrfOnly>,
) -> AppResult<Redirect> {
    let _ = form;
    let class = classes::class_for(&app.db, &staff.user, id).await?;
    let student = records::student_of_class(&app.db, &class, student_id).await?;
    classes::renew_student_secret(&app.db, student.id).await?;
    audit::note(
        &app.db,
        staff.user.id,
        "student secret words renewed",
        format!("class {} student {student_id}", class.id),
    )
    .await?;
    Ok(Redirect::to(format!(
        "/teacher/classes/{}/students/{student_id}",
        class.id
    )))
}
