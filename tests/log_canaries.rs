//! Logs carry no personal data: the whole flow runs with canary values (a staff password, a
//! student's name, their secret words, session and API tokens), the log is captured as the
//! server writes it, and none of the canaries is in it.

mod common;

use common::{Answers, Captured, TestEnv};
use rocket::http::Status;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

const STAFF_PASSWORD: &str = "canary Ptarmigan 41 marmalade";
const STUDENT_NAME: &str = "Canarystudent Q";

#[rocket::async_test]
async fn logs_never_contain_passwords_names_secrets_or_tokens() {
    let log = Captured::default();
    let writer = log.clone();
    // The binary's own default filter, with Tellwise's own events at every level.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "info,rocket=warn,tellwise=trace",
        ))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let env = TestEnv::with(|f| f.merge(("log_level", "normal"))).await;
    let admin = env.admin().await;
    let school = admin.create_school("Canary Middle").await;
    let created = admin
        .post_form(
            "/admin/teachers",
            &[
                ("name", "Tina Canary"),
                ("email", "tina@canary.test"),
                ("role", "teacher"),
                ("school_id", &school.to_string()),
            ],
        )
        .await;
    let teacher = env.browser().await;
    teacher.accept_password_link(created, STAFF_PASSWORD).await;
    let wrong = teacher
        .post_form(
            "/login",
            &[
                ("email", "tina@canary.test"),
                ("password", "canary wrong guess 99"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), Status::Unauthorized);
    drop(wrong);
    teacher.sign_in("tina@canary.test", STAFF_PASSWORD).await;
    let session = teacher
        .client
        .cookies()
        .get(tellwise::auth::cookie_names(false).staff)
        .expect("session")
        .value()
        .to_string();
    let class_id = teacher.create_class("Canary Room", "6-8").await;
    teacher.add_students(class_id, &[STUDENT_NAME]).await;
    teacher.assign(class_id, "fake-profiles").await;
    let (code, cards) = teacher.login_cards(class_id).await;
    let secret = cards[0].1.clone();
    let student = env.browser().await;
    let refused = student
        .post_form(
            "/student/login",
            &[
                ("code", &code),
                ("name", STUDENT_NAME),
                ("secret", "canary-wrong-secret"),
            ],
        )
        .await;
    assert_ne!(refused.status(), Status::SeeOther);
    drop(refused);
    student.student_sign_in(&code, STUDENT_NAME, &secret).await;
    student
        .complete_module("fake-profiles", Answers::AllRight)
        .await;
    let (status, body) = teacher
        .api(
            "POST",
            "/api/v1/tokens",
            None,
            Some(json!({ "email": "tina@canary.test", "password": STAFF_PASSWORD })),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let api_token = body["data"]["token"].as_str().expect("token").to_string();
    let (status, _) = teacher
        .api(
            "GET",
            &format!("/api/v1/classes/{class_id}/students"),
            Some(&api_token),
            None,
        )
        .await;
    assert_eq!(status, Status::Ok);
    let student_id = tellwise::db::entities::student::Entity::find()
        .filter(tellwise::db::entities::student::Column::DisplayName.eq(STUDENT_NAME))
        .one(&teacher.app().db)
        .await
        .expect("query")
        .expect("student")
        .id;
    let records = format!("/teacher/classes/{class_id}/students/{student_id}");
    assert_eq!(
        teacher.get(&format!("{records}/export.json")).await.0,
        Status::Ok
    );
    let deleted = teacher
        .post_form(&format!("{records}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(deleted.status(), Status::SeeOther);
    drop(deleted);
    // Refusals: an administrator's page, an id that is not hers, a form without its token.
    assert_eq!(teacher.get("/admin/audit").await.0, Status::Forbidden);
    assert_eq!(
        teacher.get("/teacher/classes/999999").await.0,
        Status::NotFound
    );
    let forged = teacher
        .post_raw("/teacher/classes", &[("name", "No token"), ("tier", "6-8")])
        .await;
    assert_eq!(forged.status(), Status::Forbidden);
    drop(forged);
    // An address with an encoded line break and terminal escape stays one log line.
    let (status, _) = teacher
        .get("/teacher/classes/1%0D%0Aforged%20line%1B%5B31m")
        .await;
    assert!(status.class().is_client_error(), "{status}");
    let unnamed = teacher
        .post_form("/teacher/classes", &[("name", "  "), ("tier", "6-8")])
        .await;
    assert_eq!(unnamed.status(), Status::BadRequest);
    drop(unnamed);
    let logout = teacher.post_form("/logout", &[]).await;
    assert_eq!(logout.status(), Status::SeeOther);
    drop(logout);

    let text = log.text();
    // The log really was captured: the events that must be there are there.
    for expected in [
        "staff sign-in failed",
        "staff signed in",
        "student sign-in failed",
        "student signed in",
        "staff account created",
        "student and all their records deleted",
        "API token issued",
        "access refused",
        "form refused: CSRF token missing or wrong",
        "staff signed out",
        "input refused",
    ] {
        assert!(
            text.contains(expected),
            "the log lacks {expected:?}:\n{text}"
        );
    }
    // Refusals name the account and the address asked for; every line starts with a UTC time.
    let refused = text
        .lines()
        .find(|l| l.contains("access refused") && l.contains("/admin/audit"))
        .unwrap_or_else(|| panic!("no refusal of /admin/audit:\n{text}"));
    assert!(refused.contains("status=403"), "{refused}");
    assert!(
        refused
            .split("actor_id=")
            .nth(1)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit())),
        "the refused account's id: {refused}"
    );
    assert!(refused.contains("path=/admin/audit"), "{refused}");
    // An id that is not hers is refused by the handler, and logged the same way.
    assert!(
        text.lines()
            .any(|l| l.contains("access refused") && l.contains("path=/teacher/classes/999999")),
        "{text}"
    );
    assert!(
        text.lines().all(|l| !l.starts_with("forged line")) && !text.contains('\u{1b}'),
        "a line break or escape from an address reached the log:\n{text}"
    );
    assert!(text.contains("%0D%0Aforged%20line%1B%5B31m"), "{text}");
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let stamp = line.split_whitespace().next().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok() && stamp.ends_with('Z'),
            "not a UTC timestamp: {line}"
        );
    }
    for (what, canary) in [
        ("the staff password", STAFF_PASSWORD),
        ("a wrong password", "canary wrong guess 99"),
        ("the student's name", STUDENT_NAME),
        ("the student's secret words", secret.as_str()),
        ("a wrong secret", "canary-wrong-secret"),
        ("the session token", session.as_str()),
        ("the API token", api_token.as_str()),
        ("the staff email", "tina@canary.test"),
    ] {
        assert!(!text.contains(canary), "{what} is in the log:\n{text}");
    }
}
