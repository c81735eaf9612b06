//! Bad input anywhere gets a 4xx that says what to fix, never a 500, and loses nothing.

mod common;

use common::TestEnv;
use rocket::http::{ContentType, Status};

#[rocket::async_test]
async fn teacher_forms_explain_what_to_fix() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 3", "6-8").await;
    admin.add_students(class_id, &["Sam"]).await;
    let too_long = "x".repeat(61);
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, Status, &'a str);
    let cases: Vec<Case> = vec![
        (
            "/teacher/classes".into(),
            vec![("name", ""), ("tier", "6-8")],
            Status::BadRequest,
            "Enter a class name",
        ),
        (
            "/teacher/classes".into(),
            vec![("name", "Room"), ("tier", "13")],
            Status::BadRequest,
            "not a grade band",
        ),
        (
            "/teacher/classes".into(),
            vec![("name", "room 3"), ("tier", "6-8")],
            Status::Conflict,
            "already have a class called",
        ),
        (
            "/teacher/classes".into(),
            vec![("name", "Room")],
            Status::UnprocessableEntity,
            "tier",
        ),
        (
            format!("/teacher/classes/{class_id}/students"),
            vec![("names", "\n  \n")],
            Status::BadRequest,
            "at least one student",
        ),
        (
            format!("/teacher/classes/{class_id}/students"),
            vec![("names", &too_long)],
            Status::BadRequest,
            "longer than 60",
        ),
        (
            format!("/teacher/classes/{class_id}/students"),
            vec![("names", "Ana\nana")],
            Status::Conflict,
            "already a student called",
        ),
        (
            format!("/teacher/classes/{class_id}/students"),
            vec![("names", "SAM")],
            Status::Conflict,
            "already a student called",
        ),
        (
            format!("/teacher/classes/{class_id}/assignments"),
            vec![("module", "nope"), ("due_on", "")],
            Status::BadRequest,
            "no module called",
        ),
        (
            format!("/teacher/classes/{class_id}/assignments"),
            vec![
                ("module", "safe-and-unsafe-secrets"),
                ("due_on", "tomorrow"),
            ],
            Status::BadRequest,
            "not a date",
        ),
        (
            "/admin/teachers".into(),
            vec![("name", "T"), ("email", "not-an-email")],
            Status::BadRequest,
            "not an email",
        ),
        (
            "/admin/teachers".into(),
            vec![("name", "T"), ("email", common::ADMIN_EMAIL)],
            Status::Conflict,
            "already exists",
        ),
    ];
    for (path, fields, status, message) in cases {
        let response = admin.post_form(&path, &fields).await;
        assert_eq!(response.status(), status, "{path} {fields:?}");
        let html = response.into_string().await.unwrap_or_default();
        assert!(
            html.contains(message),
            "{path} {fields:?} should say {message:?}: {html}"
        );
    }
    // Nothing half-done: the failed batches added no students.
    let (_, cards) = admin.login_cards(class_id).await;
    assert_eq!(cards.len(), 1);
}

#[rocket::async_test]
async fn odd_paths_and_query_strings_are_4xx() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 4", "9-12").await;
    for path in [
        "/teacher/classes/abc".to_string(),
        "/teacher/classes/-1".to_string(),
        "/teacher/classes/99999999999999999999".to_string(),
        format!("/teacher/classes/{class_id}/assignments/0"),
        format!("/teacher/classes/{class_id}/assignments/x/results.csv"),
        "/static/../Cargo.toml".to_string(),
    ] {
        let (status, _) = admin.get(&path).await;
        assert!(
            status.code >= 400 && status.code < 500,
            "{path} answered {status}"
        );
    }
}

#[rocket::async_test]
async fn student_answers_that_make_no_sense_are_refused_and_nothing_is_saved() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 6", "K-2").await;
    admin.add_students(class_id, &["Max"]).await;
    admin.assign(class_id, "safe-and-unsafe-secrets").await;
    let (code, cards) = admin.login_cards(class_id).await;
    let student = env.browser().await;
    student.student_sign_in(&code, "Max", &cards[0].1).await;
    let base = "/student/modules/safe-and-unsafe-secrets";
    // Before starting, steps cannot be answered.
    let response = student.post_form(&format!("{base}/steps/1"), &[]).await;
    assert_eq!(response.status(), Status::Conflict);
    let started = student.post_form(&format!("{base}/start"), &[]).await;
    let location = started
        .headers()
        .get_one("Location")
        .expect("redirect")
        .to_string();
    // The lesson cannot be skipped into before the knowledge checks are answered.
    let response = student.post_form(&format!("{base}/steps/1"), &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(
        response.headers().get_one("Location"),
        Some(location.as_str())
    );
    student
        .answer_checks_before(
            "safe-and-unsafe-secrets",
            location,
            common::Answers::AllWrong,
        )
        .await;

    let module = student
        .app()
        .curriculum
        .get("safe-and-unsafe-secrets")
        .expect("module")
        .clone();
    let question_number = module
        .steps
        .iter()
        .position(|s| matches!(s.kind, tellwise::curriculum::StepKind::Question(_)))
        .expect("a question")
        + 1;
    for number in 1..question_number {
        let fields = common::answer_fields(&module.steps[number - 1], common::Answers::AllRight);
        let fields = common::as_refs(&fields);
        let response = student
            .post_form(&format!("{base}/steps/{number}"), &fields)
            .await;
        assert_eq!(response.status(), Status::SeeOther, "step {number}");
    }
    let path = format!("{base}/steps/{question_number}");
    for (fields, message) in [
        (vec![], "Choose an answer"),
        (
            vec![("choice", "not-an-option")],
            "is not one of the answers",
        ),
    ] {
        let response = student.post_form(&path, &fields).await;
        assert_eq!(response.status(), Status::UnprocessableEntity);
        let html = response.into_string().await.unwrap_or_default();
        assert!(html.contains(message), "{html}");
    }
    for path in [
        format!("{base}/steps/0"),
        format!("{base}/steps/999"),
        format!("{base}/steps/two"),
    ] {
        let response = student.post_form(&path, &[]).await;
        assert!(
            response.status().code >= 400 && response.status().code < 500,
            "{path}"
        );
    }
    use sea_orm::{EntityTrait, PaginatorTrait};
    let saved = tellwise::db::entities::response::Entity::find()
        .count(&student.app().db)
        .await
        .expect("count");
    let answerable_before = module.steps[..question_number - 1]
        .iter()
        .filter(|s| !matches!(s.kind, tellwise::curriculum::StepKind::Reading(_)))
        .count() as u64;
    let checks_before = module.check_steps().len() as u64;
    assert_eq!(
        saved,
        checks_before + answerable_before,
        "refused answers were not saved"
    );
}

#[rocket::async_test]
async fn api_errors_are_json_envelopes() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let (_, body) = admin
        .api("POST", "/api/v1/tokens", None, Some(serde_json::json!({"email": common::ADMIN_EMAIL, "password": common::ADMIN_PASSWORD})))
        .await;
    let token = body["data"]["token"].as_str().expect("token").to_string();

    let response = admin
        .client
        .post("/api/v1/classes")
        .header(ContentType::JSON)
        .header(rocket::http::Header::new(
            "Authorization",
            format!("Bearer {token}"),
        ))
        .body("{not json")
        .dispatch()
        .await;
    assert_eq!(response.status().code / 100, 4);
    let body: serde_json::Value =
        serde_json::from_str(&response.into_string().await.unwrap_or_default()).expect("json");
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("JSON body could not be read")
    );

    for (method, path, payload, status, message) in [
        (
            "POST",
            "/api/v1/classes",
            serde_json::json!({"name": "R"}),
            422,
            "missing field `tier`",
        ),
        (
            "POST",
            "/api/v1/classes",
            serde_json::json!({"name": "R", "tier": "k2"}),
            400,
            "not a grade band",
        ),
        (
            "GET",
            "/api/v1/classes/424242",
            serde_json::Value::Null,
            404,
            "could not find",
        ),
        (
            "GET",
            "/api/v1/nothing-here",
            serde_json::Value::Null,
            404,
            "could not find",
        ),
    ] {
        let body = (!payload.is_null()).then_some(payload);
        let (got, json) = admin.api(method, path, Some(&token), body).await;
        assert_eq!(got.code, status, "{method} {path}");
        let detail = json["errors"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(detail.contains(message), "{method} {path}: {detail}");
    }
}

/// PostgreSQL refuses a NUL byte in text, so one that reached a query answered 503 there
/// (found by the form fuzz): a sign-in email with one matches nobody, and a module address
/// with one is not found, on every database.
#[rocket::async_test]
async fn a_nul_byte_in_an_email_or_a_module_address_is_a_plain_4xx() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 6", "6-8").await;
    admin.add_students(class_id, &["Noor"]).await;
    admin.assign(class_id, "fake-profiles").await;
    let (code, cards) = admin.login_cards(class_id).await;

    let visitor = env.browser().await;
    let response = visitor
        .post_form("/login", &[("email", "a\0@school.test"), ("password", "x")])
        .await;
    assert_eq!(response.status(), Status::Unauthorized);
    let body = response.into_string().await.unwrap_or_default();
    assert!(body.contains("do not match an active account"), "{body}");

    let student = env.browser().await;
    student
        .student_sign_in(&code, &cards[0].0, &cards[0].1)
        .await;
    for page in [
        "/student/modules/fake-profiles%00",
        "/student/modules/fake-profiles%00/before/1",
        "/student/modules/fake-profiles%00/steps/1",
    ] {
        let (status, _) = student.get(page).await;
        assert_eq!(status, Status::NotFound, "{page}");
    }
    let response = student
        .post_form("/student/modules/fake-profiles%00/steps/1", &[])
        .await;
    assert_eq!(response.status(), Status::NotFound);
}

/// Inside a module, the answers come in a fixed order whatever the address: a module not
/// assigned to the class is not found, one not started yet is a conflict ("start first"), and
/// only then is a check or step number out of range not found.
#[rocket::async_test]
async fn module_pages_answer_not_assigned_then_not_started_then_out_of_range() {
    const MODULE: &str = "fake-profiles";
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 8", "6-8").await;
    admin.add_students(class_id, &["Ivo"]).await;
    admin.assign(class_id, MODULE).await;
    let (code, cards) = admin.login_cards(class_id).await;
    let student = env.browser().await;
    student
        .student_sign_in(&code, &cards[0].0, &cards[0].1)
        .await;
    let other = student
        .app()
        .curriculum
        .modules()
        .into_iter()
        .find(|m| m.tier.as_str() == "6-8" && m.slug != MODULE)
        .expect("another 6-8 module")
        .slug
        .clone();
    let expect = |cases: Vec<(String, Status)>| {
        let student = &student;
        async move {
            for (page, status) in cases {
                assert_eq!(student.get(&page).await.0, status, "{page}");
            }
        }
    };
    let base = format!("/student/modules/{MODULE}");
    let unassigned = format!("/student/modules/{other}");
    expect(vec![
        (unassigned.clone(), Status::NotFound),
        (format!("{unassigned}/before/1"), Status::NotFound),
        (format!("{unassigned}/steps/1"), Status::NotFound),
        (format!("{unassigned}/done"), Status::NotFound),
        (format!("{base}/before/1"), Status::Conflict),
        (format!("{base}/before/99"), Status::Conflict),
        (format!("{base}/steps/1"), Status::Conflict),
        (format!("{base}/steps/99"), Status::Conflict),
        (format!("{base}/done"), Status::Conflict),
    ])
    .await;
    let response = student.post_form(&format!("{base}/start"), &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    expect(vec![
        (format!("{base}/before/1"), Status::Ok),
        (format!("{base}/before/99"), Status::NotFound),
        (format!("{base}/before/0"), Status::NotFound),
        (format!("{base}/steps/99"), Status::NotFound),
        (format!("{base}/done"), Status::Conflict),
    ])
    .await;
}
