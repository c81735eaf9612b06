//! The JSON API: tokens, the teacher's whole path, isolation, revocation and the OpenAPI document.

mod common;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, Answers, TEACHER_PASSWORD, TestEnv};
use rocket::http::Status;
use serde_json::json;

#[rocket::async_test]
async fn a_teacher_can_do_everything_through_the_api() {
    let env = TestEnv::with(|f| f.merge(("min_group_size", 1))).await;
    let admin = env.admin().await;
    let api = env.browser().await;

    let (status, body) = api
        .api(
            "POST",
            "/api/v1/tokens",
            None,
            Some(json!({"email": ADMIN_EMAIL, "password": "wrong"})),
        )
        .await;
    assert_eq!(status, Status::Unauthorized);
    assert!(body["errors"][0]["detail"].is_string());
    let (status, body) = api
        .api(
            "POST",
            "/api/v1/tokens",
            None,
            Some(json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["data"]["token_type"], "Bearer");
    let bearer = body["data"]["token"].as_str().expect("token").to_string();
    let token = Some(bearer.as_str());

    let (_, modules) = api.api("GET", "/api/v1/modules", token, None).await;
    let slugs: Vec<&str> = modules["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["slug"].as_str())
        .collect();
    assert!(slugs.contains(&"recruitment-and-trafficking-myths"));

    let (status, class) = api
        .api(
            "POST",
            "/api/v1/classes",
            token,
            Some(json!({"name": "Period 2", "tier": "9-12"})),
        )
        .await;
    assert_eq!(status, Status::Created);
    let class_id = class["data"]["id"].as_i64().expect("id");
    let code = class["data"]["join_code"]
        .as_str()
        .expect("code")
        .to_string();

    let (status, students) = api
        .api(
            "POST",
            &format!("/api/v1/classes/{class_id}/students"),
            token,
            Some(json!({"names": ["Noor", "Omar"]})),
        )
        .await;
    assert_eq!(status, Status::Created);
    let secret = students["data"][0]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let (_, listed) = api
        .api(
            "GET",
            &format!("/api/v1/classes/{class_id}/students"),
            token,
            None,
        )
        .await;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(2));

    let (status, assignment) = api
        .api(
            "POST",
            &format!("/api/v1/classes/{class_id}/assignments"),
            token,
            Some(json!({"module": "recruitment-and-trafficking-myths", "due_on": "2026-12-18"})),
        )
        .await;
    assert_eq!(status, Status::Created);
    assert_eq!(assignment["data"]["due_on"], "2026-12-18");
    let assignment_id = assignment["data"]["id"].as_i64().expect("id");

    let student = env.browser().await;
    let response = student.student_sign_in(&code, "Noor", &secret).await;
    assert_eq!(response.status(), Status::SeeOther);
    student
        .complete_module("recruitment-and-trafficking-myths", Answers::AllRight)
        .await;

    let (status, results) = api
        .api(
            "GET",
            &format!("/api/v1/classes/{class_id}/assignments/{assignment_id}/results"),
            token,
            None,
        )
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(results["data"]["results"]["finished"], 1);
    assert_eq!(results["data"]["results"]["average_score_percent"], 100);
    let statuses: Vec<&str> = results["data"]["students"]
        .as_array()
        .expect("students")
        .iter()
        .filter_map(|s| s["status"].as_str())
        .collect();
    assert_eq!(statuses, vec!["finished", "not started"]);

    let response = api
        .client
        .get(format!(
            "/api/v1/classes/{class_id}/assignments/{assignment_id}/results.csv"
        ))
        .header(rocket::http::Header::new(
            "Authorization",
            format!("Bearer {bearer}"),
        ))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert!(
        response
            .into_string()
            .await
            .unwrap_or_default()
            .contains("progress,finished,,1,,")
    );

    // Unassigning keeps the answers; assigning again brings them back.
    let (status, _) = api
        .api(
            "DELETE",
            &format!("/api/v1/classes/{class_id}/assignments/{assignment_id}"),
            token,
            None,
        )
        .await;
    assert_eq!(status, Status::NoContent);
    let (_, listed) = api
        .api(
            "GET",
            &format!("/api/v1/classes/{class_id}/assignments"),
            token,
            None,
        )
        .await;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(0));
    api.api(
        "POST",
        &format!("/api/v1/classes/{class_id}/assignments"),
        token,
        Some(json!({"module": "recruitment-and-trafficking-myths"})),
    )
    .await;
    let (_, results) = api
        .api(
            "GET",
            &format!("/api/v1/classes/{class_id}/assignments/{assignment_id}/results"),
            token,
            None,
        )
        .await;
    assert_eq!(results["data"]["results"]["finished"], 1);

    // Another teacher sees none of it.
    let other = env.teacher(&admin, "Other Teacher").await;
    let (_, body) = other
        .api(
            "POST",
            "/api/v1/tokens",
            None,
            Some(json!({"email": "other.teacher@school.test", "password": TEACHER_PASSWORD})),
        )
        .await;
    let other_token = body["data"]["token"].as_str().expect("token").to_string();
    let (_, classes) = other
        .api("GET", "/api/v1/classes", Some(&other_token), None)
        .await;
    assert_eq!(classes["data"].as_array().map(Vec::len), Some(0));
    for path in [
        format!("/api/v1/classes/{class_id}"),
        format!("/api/v1/classes/{class_id}/students"),
        format!("/api/v1/classes/{class_id}/assignments/{assignment_id}/results"),
    ] {
        let (status, body) = other.api("GET", &path, Some(&other_token), None).await;
        assert_eq!(status, Status::NotFound, "{path}");
        assert!(!body.to_string().contains("Noor"));
    }

    // "Sign out everywhere" revokes the token.
    let (status, _) = api.api("DELETE", "/api/v1/tokens", token, None).await;
    assert_eq!(status, Status::NoContent);
    let (status, _) = api.api("GET", "/api/v1/classes", token, None).await;
    assert_eq!(status, Status::Unauthorized);
}

#[rocket::async_test]
async fn tokens_are_not_interchangeable_between_cookies_and_the_api() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let cookie_token = admin
        .client
        .cookies()
        .get(tellwise::auth::cookie_names(false).staff)
        .expect("cookie")
        .value()
        .to_string();
    let (status, _) = admin
        .api("GET", "/api/v1/classes", Some(&cookie_token), None)
        .await;
    assert_eq!(
        status,
        Status::Unauthorized,
        "a page session is not an API token"
    );
    let (status, _) = admin
        .api("GET", "/api/v1/classes", Some("not.a.token"), None)
        .await;
    assert_eq!(status, Status::Unauthorized);
}

#[rocket::async_test]
async fn openapi_document_describes_the_api() {
    let env = TestEnv::new().await;
    let visitor = env.browser().await;
    let (status, doc) = visitor.api("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, Status::Ok);
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.")
    );
    for path in [
        "/api/v1/tokens",
        "/api/v1/classes",
        "/api/v1/classes/{id}/students",
        "/api/v1/classes/{id}/assignments/{assignment_id}/results",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    // Answers are described with their envelope, and every refusal a client can meet is listed.
    let listed = &doc["paths"]["/api/v1/classes"]["get"]["responses"];
    let envelope = listed["200"]["content"]["application/json"]["schema"].to_string();
    assert!(envelope.contains("Envelope"), "{envelope}");
    let schema_name = envelope
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches(['"', '}']);
    let described = &doc["components"]["schemas"][schema_name];
    assert_eq!(described["required"], json!(["data"]), "{described}");
    assert_eq!(described["properties"]["data"]["type"], "array");
    for status in ["401", "403"] {
        assert!(listed[status].is_object(), "{status} listed: {listed}");
    }
    let by_id = &doc["paths"]["/api/v1/classes/{id}/students"]["post"]["responses"];
    for status in ["400", "401", "404", "409", "422"] {
        assert!(by_id[status].is_object(), "{status} listed: {by_id}");
    }
    // The rules the handlers apply are in the schemas.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["NewClass"]["properties"]["tier"]["enum"],
        json!(["K-2", "3-5", "6-8", "9-12"])
    );
    assert_eq!(schemas["NewClass"]["properties"]["name"]["maxLength"], 100);
    assert_eq!(
        schemas["NewStudents"]["properties"]["names"]["maxItems"],
        100
    );
    let modules = schemas["NewAssignment"]["properties"]["module"]["enum"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(modules.len(), visitor.app().curriculum.modules().len());
    assert!(modules.contains(&json!("fake-profiles")));
}

/// A method an API address does not have answers 405 and names the ones it has; an address
/// with no route at all stays 404.
#[rocket::async_test]
async fn unsupported_methods_are_named_and_dates_are_exact() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let token = admin.api_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, body) = admin
        .api("PUT", "/api/v1/classes", Some(&token), Some(json!({})))
        .await;
    assert_eq!(status, Status::MethodNotAllowed);
    assert_eq!(
        body["errors"][0]["detail"],
        "This address answers GET, HEAD, POST only."
    );
    let (status, body) = admin
        .api(
            "PATCH",
            "/api/v1/classes/1/assignments/2",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, Status::MethodNotAllowed);
    assert_eq!(
        body["errors"][0]["detail"],
        "This address answers DELETE only."
    );
    let (status, _) = admin
        .api("PUT", "/api/v1/nothing-here", Some(&token), None)
        .await;
    assert_eq!(status, Status::NotFound);

    let (_, class) = admin
        .api(
            "POST",
            "/api/v1/classes",
            Some(&token),
            Some(json!({ "name": "Dates", "tier": "6-8" })),
        )
        .await;
    let class_id = class["data"]["id"].as_i64().expect("an id");
    let path = format!("/api/v1/classes/{class_id}/assignments");
    for due_on in ["", "2026-1-5", "2026-02-30"] {
        let (status, body) = admin
            .api(
                "POST",
                &path,
                Some(&token),
                Some(json!({ "module": "fake-profiles", "due_on": due_on })),
            )
            .await;
        assert_eq!(status, Status::BadRequest, "{due_on:?}: {body}");
    }
    let (status, body) = admin
        .api(
            "POST",
            &path,
            Some(&token),
            Some(json!({ "module": "fake-profiles", "due_on": "2026-01-05" })),
        )
        .await;
    assert_eq!(status, Status::Created, "{body}");
    assert_eq!(body["data"]["due_on"], "2026-01-05");
}
