//! Retention: a class ends (by hand, or with the school year after its latest activity), and
//! `retention_days` later its students' data is removed, leaving the school roll-ups as they
//! were. The clock is faked through `tellwise purge --as-of`.

mod common;

use std::process::Command;

use chrono::{Datelike, NaiveDate, TimeDelta, Utc};
use common::{Answers, Browser, TestEnv};
use rocket::http::Status;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tellwise::db::entities::{attempt, class, response, rollup_archive, student};

const MODULE: &str = "fake-profiles";
const RETENTION_DAYS: i64 = 30;

/// A class of `size` students in the teacher's school, who all finish the module.
async fn finished_class(env: &TestEnv, teacher: &Browser, name: &str, size: usize) -> i32 {
    let class_id = teacher.create_class(name, "6-8").await;
    let names: Vec<String> = (1..=size).map(|i| format!("{name} student {i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    teacher.add_students(class_id, &refs).await;
    teacher.assign(class_id, MODULE).await;
    let (code, cards) = teacher.login_cards(class_id).await;
    for (student_name, secret) in &cards {
        let student = env.browser().await;
        student.student_sign_in(&code, student_name, secret).await;
        student
            .complete_module_with(MODULE, Answers::AllWrong, Answers::AllRight)
            .await;
    }
    class_id
}

/// Runs `tellwise purge` on the test's database and returns what it printed.
fn purge(env: &TestEnv, args: &[&str]) -> String {
    let data = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_tellwise"))
        .arg("purge")
        .args(args)
        .env("TELLWISE_DATABASE_URL", &env.database_url)
        .env("TELLWISE_DATA_DIR", data.path())
        .env("TELLWISE_RETENTION_DAYS", RETENTION_DAYS.to_string())
        .env("RUST_LOG", "warn")
        .output()
        .expect("tellwise runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

async fn archived_rows(db: &sea_orm::DatabaseConnection) -> u64 {
    rollup_archive::Entity::find()
        .count(db)
        .await
        .expect("count")
}

async fn students_of(db: &sea_orm::DatabaseConnection, class_id: i32) -> u64 {
    student::Entity::find()
        .filter(student::Column::ClassId.eq(class_id))
        .count(db)
        .await
        .expect("count")
}

/// The end of a class, then its retention period, then removal by the command line with a
/// faked date: the class's students, attempts and answers are gone, nothing else is, and the
/// school roll-up is exactly what it was, even after a full rebuild of the ledger and after the
/// other class goes too at the end of the next school year.
#[rocket::async_test]
async fn student_data_goes_after_the_retention_period_and_the_rollups_stay() {
    let env = TestEnv::with(|f| {
        f.merge(("rollup_min_group_size", 2))
            .merge(("retention_days", RETENTION_DAYS))
    })
    .await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Rita Tention").await;
    let ended = finished_class(&env, &teacher, "7 Ended", 3).await;
    let kept = finished_class(&env, &teacher, "7 Kept", 2).await;
    let db = teacher.app().db.clone();
    let school = class::Entity::find_by_id(ended)
        .one(&db)
        .await
        .expect("query")
        .expect("class")
        .school_id;
    let figures = || {
        let db = db.clone();
        async move {
            tellwise::db::queries::reports::group_figures(&db, &[school], None, 2)
                .await
                .expect("figures")
        }
    };
    let before = figures().await;
    let group = &before[&(school, MODULE.to_string())];
    assert_eq!((group.finished, group.included), (5, 4), "{group:?}");

    let response = teacher
        .post_form(&format!("/teacher/classes/{ended}/end"), &[])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let today = Utc::now().date_naive();
    let (_, page) = teacher.get(&format!("/teacher/classes/{ended}")).await;
    let due = today + TimeDelta::days(RETENTION_DAYS);
    assert!(
        page.contains(&format!("will be removed on {}", day(due))),
        "{page}"
    );

    // A day before the period is over nothing goes; a dry run lists without removing.
    let early = purge(&env, &["--as-of", &day(due - TimeDelta::days(1))]);
    assert!(early.contains("0 class(es)"), "{early}");
    let listed = purge(&env, &["--dry-run", "--as-of", &day(due)]);
    assert!(
        listed.contains(&format!("would remove class {ended} (3 students")),
        "{listed}"
    );
    assert!(listed.contains("1 class(es) due"), "{listed}");
    assert_eq!(students_of(&db, ended).await, 3);

    let removed = purge(&env, &["--as-of", &day(due)]);
    assert!(
        removed.contains(&format!(
            "removed class {ended}: 3 students, 3 finished modules kept in the roll-ups"
        )),
        "{removed}"
    );
    assert_eq!(students_of(&db, ended).await, 0);
    assert_eq!(students_of(&db, kept).await, 2);
    let attempts = attempt::Entity::find().all(&db).await.expect("attempts");
    assert_eq!(attempts.len(), 2, "only the kept class's attempts remain");
    let answers = response::Entity::find().all(&db).await.expect("answers");
    assert!(!answers.is_empty());
    assert!(
        answers
            .iter()
            .all(|a| attempts.iter().any(|t| t.id == a.attempt_id)),
        "no answer outlives its attempt"
    );
    assert_eq!(archived_rows(&db).await, 3);
    assert_eq!(figures().await, before, "the roll-up is unchanged");
    tellwise::db::rebuild_rollups(&db).await.expect("rebuilt");
    assert_eq!(
        figures().await,
        before,
        "a rebuild keeps the archived shares"
    );

    // Running again removes nothing more and archives nothing twice.
    let again = purge(&env, &["--as-of", &day(due)]);
    assert!(again.contains("0 class(es)"), "{again}");
    assert_eq!(archived_rows(&db).await, 3);

    // The teacher sees what happened; the class cannot be reopened or refilled.
    let (_, page) = teacher.get(&format!("/teacher/classes/{ended}")).await;
    assert!(page.contains("were removed on"), "{page}");
    let reopen = teacher
        .post_form(&format!("/teacher/classes/{ended}/reopen"), &[])
        .await;
    assert_eq!(reopen.status(), Status::Conflict);
    drop(reopen);
    let refill = teacher
        .post_form(
            &format!("/teacher/classes/{ended}/students"),
            &[("names", "New Person")],
        )
        .await;
    assert_eq!(refill.status(), Status::Conflict);
    assert!(
        refill
            .into_string()
            .await
            .unwrap_or_default()
            .contains("This class has ended")
    );
    let (_, audit) = admin.get("/admin/audit").await;
    assert!(
        audit.contains("class student data removed after the retention period"),
        "{audit}"
    );
    assert!(audit.contains("Tellwise (automatic)"), "{audit}");

    // The other class was never ended: it ends on 1 August after the school year of its
    // activity, and goes the retention period after that.
    let next_year = if today.month() >= 8 {
        today.year() + 1
    } else {
        today.year()
    };
    let year_end = NaiveDate::from_ymd_opt(next_year, 8, 1).expect("a date");
    let not_yet = purge(&env, &["--as-of", &day(year_end)]);
    assert!(not_yet.contains("0 class(es)"), "{not_yet}");
    let gone = purge(
        &env,
        &["--as-of", &day(year_end + TimeDelta::days(RETENTION_DAYS))],
    );
    assert!(
        gone.contains(&format!("removed class {kept}: 2 students")),
        "{gone}"
    );
    assert_eq!(attempt::Entity::find().count(&db).await.expect("count"), 0);
    assert_eq!(archived_rows(&db).await, 5);
    assert_eq!(figures().await, before);
    tellwise::db::rebuild_rollups(&db).await.expect("rebuilt");
    assert_eq!(figures().await, before, "all from the archive now");
}

/// Ending a class signs its students out and closes sign-in, with a message that says why;
/// reopening it lets them back in.
#[rocket::async_test]
async fn an_ended_class_is_closed_to_its_students_until_reopened() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Enid Ending").await;
    let class_id = teacher.create_class("5E", "3-5").await;
    teacher.add_students(class_id, &["Ola P"]).await;
    let (code, cards) = teacher.login_cards(class_id).await;
    let (name, secret) = &cards[0];
    let student = env.browser().await;
    student.student_sign_in(&code, name, secret).await;
    assert_eq!(student.get("/student").await.0, Status::Ok);

    let response = teacher
        .post_form(&format!("/teacher/classes/{class_id}/end"), &[])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let response = student.get_response("/student").await;
    assert_eq!(common::location(&response), "/student/login");
    drop(response);
    let again = env.browser().await;
    let refused = again
        .post_form(
            "/student/login",
            &[("code", &code), ("name", name), ("secret", secret)],
        )
        .await;
    assert_eq!(refused.status(), Status::Unauthorized);
    let body = refused.into_string().await.unwrap_or_default();
    assert!(body.contains("This class has ended"), "{body}");
    let (_, page) = teacher.get(&format!("/teacher/classes/{class_id}")).await;
    assert!(page.contains("This class ended on"), "{page}");

    let response = teacher
        .post_form(&format!("/teacher/classes/{class_id}/reopen"), &[])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let back = env.browser().await;
    back.student_sign_in(&code, name, secret).await;
    assert_eq!(back.get("/student").await.0, Status::Ok);
}

/// Administrators remove an ended class's student data at once, after confirming; a class that
/// has not ended, another school's class and other roles are refused.
#[rocket::async_test]
async fn administrators_remove_an_ended_class_now() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Paula Purge").await;
    let class_id = teacher.create_class("8P", "6-8").await;
    teacher.add_students(class_id, &["Ida Q", "Jon R"]).await;
    let (status, page) = admin.get("/admin/retention").await;
    assert_eq!(status, Status::Ok);
    assert!(
        page.contains("8P") && page.contains("Not ended yet"),
        "{page}"
    );

    let path = format!("/admin/retention/{class_id}/purge");
    let not_ended = admin.post_form(&path, &[("confirm", "yes")]).await;
    assert_eq!(not_ended.status(), Status::Conflict);
    drop(not_ended);
    let response = teacher
        .post_form(&format!("/teacher/classes/{class_id}/end"), &[])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let unconfirmed = admin.post_form(&path, &[]).await;
    assert_eq!(unconfirmed.status(), Status::BadRequest);
    drop(unconfirmed);
    let by_teacher = teacher.post_form(&path, &[("confirm", "yes")]).await;
    assert_eq!(by_teacher.status(), Status::Forbidden);
    drop(by_teacher);
    let other_school = admin.create_school("Elsewhere High").await;
    let other_admin = env
        .staff(&admin, "Otto Other", "school_admin", other_school)
        .await;
    let foreign = other_admin.post_form(&path, &[("confirm", "yes")]).await;
    assert_eq!(foreign.status(), Status::NotFound);
    drop(foreign);
    let db = admin.app().db.clone();
    assert_eq!(students_of(&db, class_id).await, 2);

    let done = admin.post_form(&path, &[("confirm", "yes")]).await;
    assert_eq!(done.status(), Status::SeeOther);
    drop(done);
    assert_eq!(students_of(&db, class_id).await, 0);
    let twice = admin.post_form(&path, &[("confirm", "yes")]).await;
    assert_eq!(twice.status(), Status::Conflict);
    drop(twice);
    let (_, page) = admin.get("/admin/retention").await;
    assert!(
        !page.contains("8P"),
        "a purged class leaves the list: {page}"
    );
    let (_, audit) = admin.get("/admin/audit").await;
    assert!(
        audit.contains("class student data removed")
            && audit.contains(&format!("class {class_id}")),
        "{audit}"
    );
}

/// The server removes due data by itself: an app server starting after the period has passed
/// (here a retention of 0 days) removes an ended class's students without being asked.
#[rocket::async_test]
async fn the_server_removes_due_data_by_itself() {
    let env = TestEnv::with(|f| f.merge(("retention_days", 0))).await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Auto", "9-12").await;
    admin.add_students(class_id, &["Kim S"]).await;
    let response = admin
        .post_form(&format!("/teacher/classes/{class_id}/end"), &[])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let db = admin.app().db.clone();
    assert_eq!(students_of(&db, class_id).await, 1);
    let _second_server = env.browser().await;
    let mut waited = 0;
    while students_of(&db, class_id).await > 0 {
        assert!(waited < 100, "the retention job did not run within 10 s");
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    let purged = class::Entity::find_by_id(class_id)
        .one(&db)
        .await
        .expect("query")
        .expect("class");
    assert!(purged.purged_at.is_some());
}
