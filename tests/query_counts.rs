//! How many database queries each hot page makes. On SQLite every query is a hand-off to a
//! worker thread that costs more than the query itself, so the student pages are held to a
//! fixed, small number, and the teacher's pages to a number that does not grow with the class
//! (no query per student or per answer).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Answers, Browser, TestEnv, answer_fields, as_refs, location};
use rocket::http::Status;
use rocket::local::asynchronous::Client;

const MODULE: &str = "fake-profiles";

/// A browser on its own app server whose database connection counts every statement.
async fn counting_browser(env: &TestEnv) -> (Browser, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let figment = env.figment.clone().merge(("purge_automatically", false));
    let rocket = tellwise::setup_observed(figment, move |db| {
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
    })
    .await
    .expect("app starts");
    let client = Client::tracked(rocket).await.expect("valid rocket");
    (Browser { client }, count)
}

/// Queries made while answering one GET, and its status.
async fn queries_for(browser: &Browser, count: &AtomicUsize, path: &str) -> (usize, Status) {
    count.store(0, Ordering::SeqCst);
    let (status, _) = browser.get(path).await;
    (count.load(Ordering::SeqCst), status)
}

/// Queries made while answering one form post (its CSRF token fetched before counting).
async fn queries_for_post(
    browser: &Browser,
    count: &AtomicUsize,
    path: &str,
    fields: &[(String, String)],
) -> (usize, Status) {
    let token = browser.csrf().await;
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend(as_refs(fields));
    count.store(0, Ordering::SeqCst);
    let status = browser.post_raw(path, &all).await.status();
    (count.load(Ordering::SeqCst), status)
}

#[rocket::async_test]
async fn a_student_page_is_one_query_and_an_answer_three() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 9", "6-8").await;
    admin.add_students(class_id, &["Ana"]).await;
    admin.assign(class_id, MODULE).await;
    let (code, cards) = admin.login_cards(class_id).await;
    let (student, count) = counting_browser(&env).await;
    student
        .student_sign_in(&code, &cards[0].0, &cards[0].1)
        .await;

    let (queries, status) =
        queries_for(&student, &count, &format!("/student/modules/{MODULE}")).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        queries, 1,
        "module page: the session with the student's standing"
    );

    let response = student
        .post_form(&format!("/student/modules/{MODULE}/start"), &[])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let first_check = location(&response);
    drop(response);
    let (queries, status) = queries_for(&student, &count, &first_check).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        queries, 1,
        "knowledge check page: the session with the standing and this check's answer"
    );

    let steps_start = student
        .answer_checks_before(MODULE, first_check, Answers::AllWrong)
        .await;
    let (queries, status) = queries_for(&student, &count, &steps_start).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        queries, 2,
        "first step page: the session with the standing and this step's answer; the checks answered"
    );

    let module = student
        .app()
        .curriculum
        .get(MODULE)
        .expect("module")
        .clone();
    assert!(
        !module.steps[0].kind.is_answered(),
        "{MODULE} opens with a reading"
    );
    let (queries, status) = queries_for_post(&student, &count, &steps_start, &[]).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(
        queries, 3,
        "first step read: the session with the standing, the checks answered, the progress"
    );

    let second_step = format!("/student/modules/{MODULE}/steps/2");
    let (queries, status) = queries_for(&student, &count, &second_step).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        queries, 1,
        "later step pages: the session with the standing and this step's answer"
    );

    let (queries, status) = queries_for_post(&student, &count, &second_step, &[]).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(
        queries, 2,
        "a reading step done: the session with the standing, the progress"
    );

    let (index, step) = module
        .steps
        .iter()
        .enumerate()
        .skip(2)
        .find(|(_, step)| step.kind.is_answered())
        .expect("an answered step after the second");
    for reading in 3..=index {
        let response = student
            .post_form(&format!("/student/modules/{MODULE}/steps/{reading}"), &[])
            .await;
        assert_eq!(response.status(), Status::SeeOther);
    }
    let path = format!("/student/modules/{MODULE}/steps/{}", index + 1);
    let fields = answer_fields(step, Answers::AllRight);
    let (queries, status) = queries_for_post(&student, &count, &path, &fields).await;
    assert_eq!(status, Status::SeeOther);
    // MariaDB has no INSERT ... RETURNING: the stored answer is read back in a second statement.
    let insert = if env.database_url.starts_with("mysql") {
        2
    } else {
        1
    };
    assert_eq!(
        queries,
        2 + insert,
        "saving an answer: the session with the standing, the answer, the progress"
    );
    let (queries, status) = queries_for_post(&student, &count, &path, &fields).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(
        queries, 1,
        "the same answer again (a double click) is found with the session; nothing is written"
    );
}

#[rocket::async_test]
async fn teacher_pages_make_as_many_queries_for_a_big_class_as_for_a_small_one() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 9", "6-8").await;
    admin
        .add_students(class_id, &["S1", "S2", "S3", "S4", "S5"])
        .await;
    let assignment_id = admin.assign(class_id, MODULE).await;
    let (code, cards) = admin.login_cards(class_id).await;
    let finish = |name: &str, secret: &str| {
        let (name, secret, code) = (name.to_string(), secret.to_string(), code.clone());
        let env = &env;
        async move {
            let student = env.browser().await;
            student.student_sign_in(&code, &name, &secret).await;
            student.complete_module(MODULE, Answers::AllRight).await;
        }
    };
    for (name, secret) in &cards {
        finish(name, secret).await;
    }
    let (teacher, count) = counting_browser(&env).await;
    teacher
        .sign_in(common::ADMIN_EMAIL, common::ADMIN_PASSWORD)
        .await;
    // Each page's queries as measured: the staff session, then the class and what it shows.
    let pages = [
        (format!("/teacher/classes/{class_id}"), 7),
        (
            format!("/teacher/classes/{class_id}/assignments/{assignment_id}"),
            8,
        ),
        (
            format!("/teacher/classes/{class_id}/assignments/{assignment_id}/results.csv"),
            8,
        ),
        (format!("/teacher/classes/{class_id}/summary"), 10),
        (format!("/teacher/classes/{class_id}/progress.csv"), 6),
    ];
    let mut small = Vec::new();
    for (page, _) in &pages {
        let (queries, status) = queries_for(&teacher, &count, page).await;
        assert_eq!(status, Status::Ok, "{page}");
        small.push(queries);
    }

    admin
        .add_students(class_id, &["S6", "S7", "S8", "S9", "S10", "S11", "S12"])
        .await;
    let (_, cards) = admin.login_cards(class_id).await;
    let newcomers = cards
        .iter()
        .filter(|(name, _)| name.len() > 2 || name == "S6");
    for (name, secret) in newcomers.take(4) {
        finish(name, secret).await;
    }
    for ((page, budget), small) in pages.iter().zip(small) {
        let (queries, status) = queries_for(&teacher, &count, page).await;
        assert_eq!(status, Status::Ok, "{page}");
        assert_eq!(
            queries, small,
            "{page}: {small} queries for 5 students, {queries} for 12"
        );
        assert!(
            queries <= *budget,
            "{page} makes {queries} queries, more than its {budget}"
        );
    }
}
