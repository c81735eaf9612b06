//! The authorization matrix: every route that takes an id, called by everyone who must not use
//! it (a teacher of the same school, a teacher and an administrator of another school, a
//! partner, a student of another class, nobody signed in), is refused and shows nothing of what
//! it protects. The owner's own calls succeed, so the ids are the right ones.

mod common;

use common::{Answers, Browser, TestEnv};
use rocket::http::Status;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tellwise::db::entities::{assignment, class, opt_out, student, user};

const MODULE: &str = "fake-profiles";
const CLASS_NAME: &str = "Secret Class Alpha";
const STUDENT_NAME: &str = "Zephyrine Q";

/// Words that must never reach someone who may not see the class.
fn leaks<'a>(body: &str, secrets: &'a [String]) -> Vec<&'a str> {
    secrets
        .iter()
        .filter(|s| body.contains(s.as_str()))
        .map(String::as_str)
        .collect()
}

async fn api_token(browser: &Browser, email: &str) -> String {
    let (status, body) = browser
        .api(
            "POST",
            "/api/v1/tokens",
            None,
            Some(json!({ "email": email, "password": common::STAFF_PASSWORD })),
        )
        .await;
    assert_eq!(status, Status::Ok, "token for {email}");
    body["data"]["token"].as_str().expect("token").to_string()
}

#[rocket::async_test]
async fn every_route_with_an_id_refuses_everyone_else_and_leaks_nothing() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let north = admin.create_school("North Middle").await;
    let south = admin.create_school("South Middle").await;
    let owner = env.staff(&admin, "Olga Owner", "teacher", north).await;
    let colleague = env.staff(&admin, "Carl Colleague", "teacher", north).await;
    let southern = env.staff(&admin, "Sam South", "teacher", south).await;
    let south_head = env.staff(&admin, "Hana Head", "school_admin", south).await;
    let partner = env.staff(&admin, "Pat Partner", "partner", south).await;
    let nobody = env.browser().await;

    // What is protected: a class with a student, an assignment with a finished attempt, an
    // opt-out.
    let class_id = owner.create_class(CLASS_NAME, "6-8").await;
    owner
        .add_students(class_id, &[STUDENT_NAME, "Yannick R"])
        .await;
    let assignment_id = owner.assign(class_id, MODULE).await;
    let (code, cards) = owner.login_cards(class_id).await;
    let finisher = env.browser().await;
    let secret_of = |name: &str| {
        cards
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .expect("card")
    };
    finisher
        .student_sign_in(&code, STUDENT_NAME, &secret_of(STUDENT_NAME))
        .await;
    finisher.complete_module(MODULE, Answers::AllRight).await;
    let db = &owner.app().db;
    let yannick = student::Entity::find()
        .filter(student::Column::DisplayName.eq("Yannick R"))
        .one(db)
        .await
        .expect("query")
        .expect("student")
        .id;
    let recorded = owner
        .post_form(
            &format!("/teacher/classes/{class_id}/opt-outs"),
            &[
                ("student", &yannick.to_string()),
                ("module", "block-and-report"),
            ],
        )
        .await;
    assert_eq!(recorded.status(), Status::SeeOther);
    drop(recorded);
    let opt_out_id = opt_out::Entity::find()
        .one(db)
        .await
        .expect("query")
        .expect("opt-out")
        .id;
    let owner_id = user::Entity::find()
        .filter(user::Column::DisplayName.eq("Olga Owner"))
        .one(db)
        .await
        .expect("query")
        .expect("owner")
        .id;
    // A student of another class, in another school.
    let other_class = southern.create_class("Room S", "6-8").await;
    southern.add_students(other_class, &["Sid"]).await;
    let (other_code, other_cards) = southern.login_cards(other_class).await;
    let outsider_student = env.browser().await;
    outsider_student
        .student_sign_in(&other_code, "Sid", &other_cards[0].1)
        .await;

    let secrets: Vec<String> = vec![
        CLASS_NAME.into(),
        STUDENT_NAME.into(),
        "Yannick R".into(),
        code.clone(),
        cards[0].1.clone(),
        cards[1].1.clone(),
    ];
    let c = class_id;
    let a = assignment_id;
    let zephyrine = student::Entity::find()
        .filter(student::Column::DisplayName.eq(STUDENT_NAME))
        .one(db)
        .await
        .expect("query")
        .expect("student")
        .id;
    let z = zephyrine;
    let pages = [
        format!("/teacher/classes/{c}/students/{z}"),
        format!("/teacher/classes/{c}/students/{z}/export.json"),
        format!("/teacher/classes/{c}"),
        format!("/teacher/classes/{c}/cards"),
        format!("/teacher/classes/{c}/assignments/{a}"),
        format!("/teacher/classes/{c}/assignments/{a}/results.csv"),
        format!("/teacher/classes/{c}/progress.csv"),
        format!("/teacher/classes/{c}/summary"),
    ];
    let forms: Vec<(String, Vec<(&str, String)>)> = vec![
        (
            format!("/teacher/classes/{c}/students"),
            vec![("names", "Intruder".into())],
        ),
        (
            format!("/teacher/classes/{c}/assignments"),
            vec![
                ("module", "block-and-report".into()),
                ("due_on", String::new()),
            ],
        ),
        (
            format!("/teacher/classes/{c}/assignments/{a}/remove"),
            vec![],
        ),
        (
            format!("/teacher/classes/{c}/students/{z}/delete"),
            vec![("confirm", "yes".into())],
        ),
        (
            format!("/teacher/classes/{c}/students/{z}/new-secret"),
            vec![],
        ),
        (
            format!("/teacher/classes/{c}/opt-outs"),
            vec![("student", yannick.to_string()), ("module", MODULE.into())],
        ),
        (
            format!("/teacher/classes/{c}/opt-outs/{opt_out_id}/remove"),
            vec![],
        ),
        (format!("/teacher/classes/{c}/end"), vec![]),
        (format!("/teacher/classes/{c}/reopen"), vec![]),
        (
            format!("/admin/retention/{c}/purge"),
            vec![("confirm", "yes".into())],
        ),
        (format!("/admin/teachers/{owner_id}/sign-out"), vec![]),
        (
            format!("/admin/teachers/{owner_id}/active"),
            vec![("active", "false".into())],
        ),
        (
            format!("/admin/schools/{north}/partners"),
            vec![("partner_id", owner_id.to_string())],
        ),
    ];
    let api_calls = [
        ("GET", format!("/api/v1/classes/{c}")),
        ("GET", format!("/api/v1/classes/{c}/students")),
        ("POST", format!("/api/v1/classes/{c}/students")),
        ("GET", format!("/api/v1/classes/{c}/assignments")),
        ("POST", format!("/api/v1/classes/{c}/assignments")),
        ("DELETE", format!("/api/v1/classes/{c}/assignments/{a}")),
        (
            "GET",
            format!("/api/v1/classes/{c}/assignments/{a}/results"),
        ),
        (
            "GET",
            format!("/api/v1/classes/{c}/assignments/{a}/results.csv"),
        ),
    ];

    // The owner reaches every page: the ids above are the right ones.
    for path in &pages {
        let (status, _) = owner.get(path).await;
        assert_eq!(status, Status::Ok, "owner: {path}");
    }

    let staff_actors: [(&str, &Browser, &str); 4] = [
        (
            "a colleague in the same school",
            &colleague,
            "carl.colleague@district.test",
        ),
        (
            "a teacher of another school",
            &southern,
            "sam.south@district.test",
        ),
        (
            "another school's administrator",
            &south_head,
            "hana.head@district.test",
        ),
        ("a partner", &partner, "pat.partner@district.test"),
    ];
    let mut checked = 0;
    for (who, browser, email) in staff_actors {
        for path in &pages {
            let (status, body) = browser.get(path).await;
            assert!(
                status == Status::NotFound || status == Status::Forbidden,
                "{who}: GET {path} answered {status}"
            );
            assert!(
                leaks(&body, &secrets).is_empty(),
                "{who}: GET {path} leaks {:?}",
                leaks(&body, &secrets)
            );
            checked += 1;
        }
        for (path, fields) in &forms {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = browser.post_form(path, &fields).await;
            let status = response.status();
            let body = response.into_string().await.unwrap_or_default();
            assert!(
                status == Status::NotFound || status == Status::Forbidden,
                "{who}: POST {path} answered {status}"
            );
            assert!(
                leaks(&body, &secrets).is_empty(),
                "{who}: POST {path} leaks"
            );
            checked += 1;
        }
        let token = api_token(browser, email).await;
        for (method, path) in &api_calls {
            let body = match *method {
                "POST" if path.ends_with("students") => Some(json!({ "names": ["Intruder"] })),
                "POST" => Some(json!({ "module": "block-and-report" })),
                _ => None,
            };
            let (status, body) = browser.api(method, path, Some(&token), body).await;
            assert!(
                status == Status::NotFound || status == Status::Forbidden,
                "{who}: {method} {path} answered {status}"
            );
            assert!(
                leaks(&body.to_string(), &secrets).is_empty(),
                "{who}: {method} {path} leaks"
            );
            checked += 1;
        }
    }

    // Nobody signed in, and a student of another class: sent to sign in (pages) or 401 (API).
    for (who, browser) in [
        ("nobody", &nobody),
        ("a student of another class", &outsider_student),
    ] {
        for path in &pages {
            let response = browser.get_response(path).await;
            assert_eq!(response.status(), Status::SeeOther, "{who}: GET {path}");
            assert_eq!(common::location(&response), "/login", "{who}: GET {path}");
            checked += 1;
        }
        for (path, fields) in &forms {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = browser.post_form(path, &fields).await;
            assert!(
                [Status::SeeOther, Status::Unauthorized, Status::Forbidden]
                    .contains(&response.status()),
                "{who}: POST {path} answered {}",
                response.status()
            );
            let body = response.into_string().await.unwrap_or_default();
            assert!(
                leaks(&body, &secrets).is_empty(),
                "{who}: POST {path} leaks"
            );
            checked += 1;
        }
        for (method, path) in &api_calls {
            let (status, _) = browser.api(method, path, None, None).await;
            assert_eq!(status, Status::Unauthorized, "{who}: {method} {path}");
            checked += 1;
        }
    }
    // A student of another class cannot open this class's lesson either.
    let (status, _) = outsider_student
        .get(&format!("/student/modules/{MODULE}/steps/1"))
        .await;
    assert_eq!(status, Status::NotFound);

    // Nothing changed: no student added or deleted, no secret words renewed, the assignment
    // still active, the opt-out still there, the owner still active.
    let secret_now = student::Entity::find_by_id(zephyrine)
        .one(db)
        .await
        .expect("query")
        .expect("still there")
        .secret;
    assert_eq!(secret_now, secret_of(STUDENT_NAME));
    assert_eq!(
        student::Entity::find()
            .filter(student::Column::ClassId.eq(class_id))
            .count(db)
            .await
            .expect("count"),
        2
    );
    // The owner was not signed out by anyone.
    assert_eq!(
        owner.get(&format!("/teacher/classes/{c}")).await.0,
        Status::Ok
    );
    let class_now = class::Entity::find_by_id(class_id)
        .one(db)
        .await
        .expect("query")
        .expect("class");
    assert!(class_now.ended_at.is_none() && class_now.purged_at.is_none());
    let still = assignment::Entity::find_by_id(assignment_id)
        .one(db)
        .await
        .expect("query")
        .expect("assignment");
    assert!(still.removed_at.is_none());
    assert_eq!(
        assignment::Entity::find()
            .filter(assignment::Column::ClassId.eq(class_id))
            .count(db)
            .await
            .expect("count"),
        1
    );
    assert_eq!(opt_out::Entity::find().count(db).await.expect("count"), 1);
    let owner_row = user::Entity::find_by_id(owner_id)
        .one(db)
        .await
        .expect("query")
        .expect("owner");
    assert!(!owner_row.disabled);
    assert!(checked > 100, "{checked} calls checked");
}
