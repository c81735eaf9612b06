//! The whole path: setup, a teacher creates a class, prints login cards and assigns a module;
//! students sign in and complete it; the teacher sees the aggregates and downloads the CSV.

mod common;

use common::{Answers, TestEnv, unescape};
use rocket::http::Status;

const MODULE: &str = "online-friends-and-strangers";

#[rocket::async_test]
async fn teacher_assigns_students_complete_teacher_sees_results() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Tara Teacher").await;

    let class_id = teacher.create_class("Room 5", "3-5").await;
    let names = ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay"];
    teacher.add_students(class_id, &names).await;
    let assignment_id = teacher.assign(class_id, MODULE).await;

    let (code, cards) = teacher.login_cards(class_id).await;
    assert_eq!(cards.len(), names.len());
    let cards_page = teacher
        .client
        .get(format!("/teacher/classes/{class_id}/cards"))
        .header(rocket::http::Header::new("Host", "tellwise.school.test"))
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap_or_default();
    assert!(
        cards_page.contains("<strong>http://tellwise.school.test/student/login</strong>"),
        "cards say where to sign in: {}",
        common::between(&cards_page, "signs in at", "with").unwrap_or_default()
    );
    assert_eq!(code.len(), 7, "code shown as ABC-DEF: {code}");

    // Four students finish, all answering correctly: below the minimum of five, nothing shows.
    for (name, secret) in cards.iter().take(4) {
        let student = env.browser().await;
        let response = student
            .student_sign_in(&code, name, &unescape(secret))
            .await;
        assert_eq!(response.status(), Status::SeeOther, "{name} signs in");
        let (status, home) = student.get("/student").await;
        assert_eq!(status, Status::Ok);
        assert!(home.contains("Online friends"), "assigned module listed");
        student.complete_module(MODULE, Answers::AllRight).await;
    }
    let results_path = format!("/teacher/classes/{class_id}/assignments/{assignment_id}");
    let (status, html) = teacher.get(&results_path).await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains("4 finished, 0 in progress, 2 not started"),
        "{html}"
    );
    assert!(html.contains("Average first-attempt score:</strong>\nnot enough responses yet"));
    assert!(!html.contains("% answered correctly"));

    // A fifth student answers everything wrong: now the figures appear (4 of 5 right = 80%).
    let (name, secret) = &cards[4];
    let student = env.browser().await;
    student
        .student_sign_in(&code, name, &unescape(secret))
        .await;
    student.complete_module(MODULE, Answers::AllWrong).await;

    let (_, html) = teacher.get(&results_path).await;
    assert!(html.contains("5 finished, 0 in progress, 1 not started"));
    assert!(
        html.contains("80%</p>") || html.contains("80%\n"),
        "average score shown: {html}"
    );
    assert!(html.contains("80% answered correctly (5 answers)"));

    let response = teacher
        .get_response(&format!("{results_path}/results.csv"))
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.content_type().map(|c| c.to_string()).as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let csv = response.into_string().await.expect("csv body");
    assert!(csv.starts_with("section,item,answer,count,percent,note"));
    assert!(csv.contains("progress,finished,,5,,"));
    assert!(csv.contains("score,average first-attempt score,,,80,"));
    assert!(!csv.contains("not enough responses yet"));

    // The class page shows progress for the assignment.
    let (_, class_page) = teacher.get(&format!("/teacher/classes/{class_id}")).await;
    assert!(class_page.contains("5 finished, 0 in progress, 1 not started"));

    // The sixth student finishing changes no figure: figures move in whole groups of five, so
    // comparing two reports never reveals one student's answers.
    let (name, secret) = &cards[5];
    let sixth = env.browser().await;
    sixth.student_sign_in(&code, name, &unescape(secret)).await;
    sixth.complete_module(MODULE, Answers::AllWrong).await;
    let (_, after) = teacher.get(&results_path).await;
    assert!(after.contains("6 finished, 0 in progress, 0 not started"));
    assert!(after.contains("80% answered correctly (5 answers)"));
    assert!(after.contains("cover the first 5 students to finish"));

    // Every attempt records the version of the module the student saw.
    use sea_orm::EntityTrait;
    let version = teacher
        .app()
        .curriculum
        .get(MODULE)
        .expect("module")
        .version
        .clone();
    let attempts = tellwise::db::entities::attempt::Entity::find()
        .all(&teacher.app().db)
        .await
        .expect("attempts");
    assert_eq!(attempts.len(), 6);
    assert!(
        attempts
            .iter()
            .all(|a| a.content_version == version && a.score_total == Some(8))
    );
}

#[rocket::async_test]
async fn modules_for_other_grades_warn_and_unassigning_hides_them_from_students() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 7", "3-5").await;
    admin.add_students(class_id, &["Ivy"]).await;
    let assignment_id = admin
        .assign(class_id, "recruitment-and-trafficking-myths")
        .await;
    let (_, class_page) = admin.get(&format!("/teacher/classes/{class_id}")).await;
    assert!(class_page.contains("written for grades 9-12, not this class"));

    let (code, cards) = admin.login_cards(class_id).await;
    let student = env.browser().await;
    student.student_sign_in(&code, "Ivy", &cards[0].1).await;
    let (_, home) = student.get("/student").await;
    assert!(home.contains("/student/modules/recruitment-and-trafficking-myths"));
    let (_, module_page) = student
        .get("/student/modules/recruitment-and-trafficking-myths")
        .await;
    assert!(
        module_page.contains("Before you start"),
        "the content note comes first"
    );

    let response = admin
        .post_form(
            &format!("/teacher/classes/{class_id}/assignments/{assignment_id}/remove"),
            &[],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let (_, home) = student.get("/student").await;
    assert!(!home.contains("/student/modules/recruitment-and-trafficking-myths"));
    let (status, _) = student
        .get("/student/modules/recruitment-and-trafficking-myths")
        .await;
    assert_eq!(status, Status::NotFound);
}

#[rocket::async_test]
async fn help_page_shows_the_schools_contacts_then_the_national_ones() {
    let env = TestEnv::with(|f| {
        f.merge(("help.trusted_adult", "Ms. Rivera in room 114"))
            .merge(("help.local", vec![serde_json::json!({"name": "County Child Advocacy Center", "contact": "555-0100"})]))
    })
    .await;
    let visitor = env.browser().await;
    let (status, html) = visitor.get("/help").await;
    assert_eq!(status, Status::Ok);
    let school = html.find("Ms. Rivera in room 114").expect("trusted adult");
    let local = html
        .find("County Child Advocacy Center")
        .expect("local contact");
    let national = html.find("1-888-373-7888").expect("national hotline");
    assert!(school < local && local < national);
}

#[rocket::async_test]
async fn student_resumes_where_they_stopped_and_repeats_change_nothing() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 9", "K-2").await;
    admin.add_students(class_id, &["Zoe"]).await;
    admin.assign(class_id, "safe-and-unsafe-secrets").await;
    let (code, cards) = admin.login_cards(class_id).await;
    let module = admin
        .app()
        .curriculum
        .get("safe-and-unsafe-secrets")
        .expect("module")
        .clone();
    let question_index = module
        .steps
        .iter()
        .position(|s| matches!(s.kind, tellwise::curriculum::StepKind::Question(_)))
        .expect("a question");

    let student = env.browser().await;
    student
        .student_sign_in(&code, "zoe", &cards[0].1.to_uppercase())
        .await;
    let start = student
        .post_form("/student/modules/safe-and-unsafe-secrets/start", &[])
        .await;
    assert_eq!(
        common::location(&start),
        "/student/modules/safe-and-unsafe-secrets/before/1",
        "the knowledge checks come first"
    );
    let first_step = student
        .answer_checks_before(
            "safe-and-unsafe-secrets",
            common::location(&start),
            common::Answers::AllRight,
        )
        .await;
    assert_eq!(
        first_step,
        "/student/modules/safe-and-unsafe-secrets/steps/1"
    );

    // Skipping ahead is refused.
    let (status, _) = student
        .get(&format!(
            "/student/modules/safe-and-unsafe-secrets/steps/{}",
            question_index + 1
        ))
        .await;
    assert_eq!(status, Status::Conflict);

    for number in 1..=question_index {
        let fields = common::answer_fields(&module.steps[number - 1], common::Answers::AllRight);
        let fields = common::as_refs(&fields);
        let response = student
            .post_form(
                &format!("/student/modules/safe-and-unsafe-secrets/steps/{number}"),
                &fields,
            )
            .await;
        assert_eq!(response.status(), Status::SeeOther);
    }
    let question = match &module.steps[question_index].kind {
        tellwise::curriculum::StepKind::Question(q) => q.clone(),
        _ => unreachable!(),
    };
    let wrong = question
        .options
        .iter()
        .find(|o| !o.correct)
        .expect("wrong option")
        .id
        .clone();
    let right = question
        .correct_ids()
        .into_iter()
        .next()
        .expect("right option")
        .to_string();
    let path = format!(
        "/student/modules/safe-and-unsafe-secrets/steps/{}",
        question_index + 1
    );
    // A double click sends the same answer twice, and a stale tab sends an empty form: the
    // first answer stands and is shown. Trying to change it is refused with that answer.
    for choice in [wrong.as_str(), wrong.as_str(), right.as_str(), ""] {
        let fields: Vec<(&str, &str)> = if choice.is_empty() {
            vec![]
        } else {
            vec![("choice", choice)]
        };
        let response = student.post_form(&path, &fields).await;
        if choice == right {
            assert_eq!(response.status(), Status::Conflict);
            let page = response.into_string().await.unwrap_or_default();
            assert!(page.contains("Your first answer is the one that counts"));
        } else {
            assert_eq!(response.status(), Status::SeeOther);
            assert_eq!(common::location(&response), path);
        }
    }
    let db = &student.app().db;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let responses = tellwise::db::entities::response::Entity::find()
        .all(db)
        .await
        .expect("query");
    let for_step: Vec<_> = responses
        .iter()
        .filter(|r| r.step_id == module.steps[question_index].id && r.phase == "main")
        .collect();
    assert_eq!(for_step.len(), 1, "one record however often it is sent");
    assert!(!for_step[0].correct, "the first answer counts");
    assert_eq!(for_step[0].answer, format!("[\"{wrong}\"]"));
    assert_eq!(
        tellwise::db::entities::attempt::Entity::find()
            .count(db)
            .await
            .expect("count"),
        1
    );

    // The feedback page explains every option.
    let (_, html) = student.get(&path).await;
    for option in &question.options {
        assert!(
            html.contains(&common::unescape_html_safe(&option.feedback)),
            "feedback for {}",
            option.id
        );
    }

    // Later, in a new browser, the student continues at the next step.
    let later = env.browser().await;
    later.student_sign_in(&code, "Zoe", &cards[0].1).await;
    let (_, home) = later.get("/student").await;
    assert!(home.contains("% done"), "progress shown: {home}");
    let resume = later
        .post_form("/student/modules/safe-and-unsafe-secrets/start", &[])
        .await;
    assert_eq!(
        common::location(&resume),
        format!(
            "/student/modules/safe-and-unsafe-secrets/steps/{}",
            question_index + 2
        )
    );
}

/// Fifty copies of the same answer and of the last step, sent at once (double clicks, retries,
/// several tabs): one answer, one finished attempt, one score, and no server error.
#[rocket::async_test]
async fn concurrent_repeats_make_one_answer_and_one_finish() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    // 50 copies of every answer at once is beyond the per-account budget of changes (which
    // has its own test): lift it, so that every copy reaches the answer-saving code.
    let env = TestEnv::with(|f| f.merge(("writes_per_minute", 100_000))).await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 50", "K-2").await;
    admin.add_students(class_id, &["Lee"]).await;
    admin.assign(class_id, "safe-and-unsafe-secrets").await;
    let (code, cards) = admin.login_cards(class_id).await;
    let student = env.browser().await;
    student.student_sign_in(&code, "Lee", &cards[0].1).await;
    let slug = "safe-and-unsafe-secrets";
    let module = student.app().curriculum.get(slug).expect("module").clone();
    let start = student
        .post_form(&format!("/student/modules/{slug}/start"), &[])
        .await;
    let location = common::location(&start);
    drop(start);
    student
        .answer_checks_before(slug, location, common::Answers::AllRight)
        .await;
    let token = student.csrf().await;
    let last = module.steps.len();
    for (i, step) in module.steps.iter().enumerate() {
        let path = format!("/student/modules/{slug}/steps/{}", i + 1);
        let mut fields = vec![("csrf_token".to_string(), token.clone())];
        fields.extend(common::answer_fields(step, common::Answers::AllRight));
        let copies = if step.kind.is_answered() || i + 1 == last {
            50
        } else {
            1
        };
        let sends = (0..copies).map(|_| {
            let refs = common::as_refs(&fields);
            let path = path.clone();
            let student = &student;
            async move { student.post_raw(&path, &refs).await.status() }
        });
        for status in rocket::futures::future::join_all(sends).await {
            assert!(
                status == Status::SeeOther || status == Status::Conflict,
                "step {}: {status}",
                i + 1
            );
        }
    }
    let db = &student.app().db;
    let attempts = tellwise::db::entities::attempt::Entity::find()
        .all(db)
        .await
        .expect("attempts");
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0].finished_at.is_some());
    assert_eq!(attempts[0].score_correct, attempts[0].score_total);
    let heads = tellwise::db::entities::rollup_head::Entity::find()
        .all(db)
        .await
        .expect("roll-up heads");
    assert_eq!(heads.len(), 1);
    assert_eq!(
        heads[0].finished, 1,
        "the finish counts once in the roll-ups"
    );
    let entries = tellwise::db::entities::rollup_entry::Entity::find()
        .count(db)
        .await
        .expect("roll-up entries");
    assert_eq!(entries, 1);
    let answered = module.steps.iter().filter(|s| s.kind.is_answered()).count();
    let responses = tellwise::db::entities::response::Entity::find()
        .count(db)
        .await
        .expect("count");
    assert_eq!(
        responses as usize,
        answered + module.check_steps().len(),
        "one answer per step and phase"
    );
}

/// A stale tab: a different answer to a step already answered is refused with a message and
/// the answer that counts; the same answer again is a harmless repeat. Signing in again after a
/// session ends resumes where the student was.
#[rocket::async_test]
async fn a_stale_tab_cannot_change_an_answer_and_a_new_session_resumes() {
    use sea_orm::EntityTrait;
    let env = TestEnv::new().await;
    let OneStudent {
        student,
        module,
        question,
        code,
        secret,
    } = one_student_on_fake_profiles(&env, "Room T", "Tab").await;
    let slug = "fake-profiles";
    student
        .answer_steps(slug, Answers::AllWrong, Answers::AllRight, question + 1)
        .await;
    let path = format!("/student/modules/{slug}/steps/{}", question + 1);
    let stored = || async {
        tellwise::db::entities::response::Entity::find()
            .all(&student.app().db)
            .await
            .expect("answers")
            .into_iter()
            .filter(|r| r.step_id == module.steps[question].id && r.phase == "main")
            .map(|r| r.answer)
            .collect::<Vec<_>>()
    };
    let first = stored().await;
    assert_eq!(first.len(), 1);

    let stale = common::answer_fields(&module.steps[question], Answers::AllWrong);
    let response = student.post_form(&path, &common::as_refs(&stale)).await;
    assert_eq!(response.status(), Status::Conflict);
    let page = response.into_string().await.unwrap_or_default();
    assert!(
        page.contains("Your first answer is the one that counts"),
        "{page}"
    );
    assert_eq!(stored().await, first, "the stale tab changed nothing");
    let same = common::answer_fields(&module.steps[question], Answers::AllRight);
    let response = student.post_form(&path, &common::as_refs(&same)).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);

    // The session ends (signed out elsewhere, or expired): nothing is lost, and signing in
    // again continues at the next step.
    let response = student.post_form("/student/logout", &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let again = env.browser().await;
    again.student_sign_in(&code, "Tab", &secret).await;
    let response = again
        .post_form(&format!("/student/modules/{slug}/start"), &[])
        .await;
    assert_eq!(
        common::location(&response),
        format!("/student/modules/{slug}/steps/{}", question + 2)
    );
    drop(response);
    assert_eq!(stored().await, first);
}

/// Two tabs send different answers to the same step and both get past the page's check: the
/// first saved counts, the second gets it back, and only the first moves the attempt on (on
/// SQLite the answer and the move share one transaction; elsewhere they are two writes).
#[rocket::async_test]
async fn an_answer_that_loses_a_race_keeps_the_first_and_moves_nothing() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use std::collections::BTreeSet;
    use tellwise::db::entities::response;
    use tellwise::db::queries::progress::save_answer_and_advance;
    let env = TestEnv::new().await;
    let student = one_student_on_fake_profiles(&env, "Room R", "Ray")
        .await
        .student;
    student
        .answer_steps("fake-profiles", Answers::AllWrong, Answers::AllRight, 1)
        .await;
    let db = &student.app().db;
    let attempt = the_attempt(db).await;
    assert_eq!(attempt.steps_done, 1);
    let step = "a-step-of-the-race";
    let first: BTreeSet<String> = ["a".to_string()].into();
    let second: BTreeSet<String> = ["b".to_string()].into();
    let saved = save_answer_and_advance(db, attempt.id, step, &first, true, 2)
        .await
        .expect("first answer saved");
    assert_eq!(saved.answer, "[\"a\"]");
    let lost = save_answer_and_advance(db, attempt.id, step, &second, false, 3)
        .await
        .expect("second answer answered, not an error");
    assert_eq!(
        lost.id, saved.id,
        "the second tab gets the first answer back"
    );
    assert_eq!(lost.answer, "[\"a\"]");
    let records = response::Entity::find()
        .filter(response::Column::StepId.eq(step))
        .all(db)
        .await
        .expect("query");
    assert_eq!(records.len(), 1);
    let attempt = the_attempt(db).await;
    assert_eq!(attempt.steps_done, 2, "moved on by the first answer only");
}

/// An answer saved whose next write failed (the move to the next step): the same answer sent
/// again, as app.js does after an error, moves the student on instead of leaving them stuck.
#[rocket::async_test]
async fn the_same_answer_again_finishes_what_a_failed_save_left_undone() {
    use std::collections::BTreeSet;
    use tellwise::db::queries::progress;
    let env = TestEnv::new().await;
    let OneStudent {
        student,
        module,
        question,
        ..
    } = one_student_on_fake_profiles(&env, "Room S", "Sol").await;
    let slug = "fake-profiles";
    assert!(question + 1 < module.steps.len(), "not the last step");
    student
        .answer_steps(slug, Answers::AllWrong, Answers::AllRight, question)
        .await;
    let db = &student.app().db;
    let attempt = the_attempt(db).await;
    assert_eq!(attempt.steps_done, question as i32);
    // The answer was saved, and then the write that moves the attempt on failed.
    let fields = common::answer_fields(&module.steps[question], Answers::AllRight);
    let answer: BTreeSet<String> = fields
        .iter()
        .filter(|(name, _)| name == "choice")
        .map(|(_, value)| value.clone())
        .collect();
    progress::save_answer_in_phase(
        db,
        attempt.id,
        &module.steps[question].id,
        progress::PHASE_MAIN,
        &answer,
        true,
    )
    .await
    .expect("saved");
    let next = format!("/student/modules/{slug}/steps/{}", question + 2);
    let (status, _) = student.get(&next).await;
    assert_eq!(status, Status::Conflict, "stuck before the retry");

    let path = format!("/student/modules/{slug}/steps/{}", question + 1);
    let response = student.post_form(&path, &common::as_refs(&fields)).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let (status, _) = student.get(&next).await;
    assert_eq!(status, Status::Ok, "the retry moved the student on");
}

/// A class of one student with fake-profiles assigned, the student signed in.
struct OneStudent {
    student: common::Browser,
    module: tellwise::curriculum::Module,
    /// The index of the module's first question step.
    question: usize,
    code: String,
    secret: String,
}

async fn one_student_on_fake_profiles(env: &TestEnv, room: &str, name: &str) -> OneStudent {
    let admin = env.admin().await;
    let class_id = admin.create_class(room, "6-8").await;
    admin.add_students(class_id, &[name]).await;
    admin.assign(class_id, "fake-profiles").await;
    let (code, cards) = admin.login_cards(class_id).await;
    let student = env.browser().await;
    student.student_sign_in(&code, name, &cards[0].1).await;
    let module = student
        .app()
        .curriculum
        .get("fake-profiles")
        .expect("module")
        .clone();
    let question = module
        .steps
        .iter()
        .position(|s| matches!(s.kind, tellwise::curriculum::StepKind::Question(_)))
        .expect("a question");
    let secret = cards[0].1.clone();
    OneStudent {
        student,
        module,
        question,
        code,
        secret,
    }
}

/// The only attempt in the database.
async fn the_attempt(db: &sea_orm::DatabaseConnection) -> tellwise::db::entities::attempt::Model {
    use sea_orm::EntityTrait;
    tellwise::db::entities::attempt::Entity::find()
        .one(db)
        .await
        .expect("query")
        .expect("the attempt")
}
