//! Security headers on every response: every mounted route, called by nobody and by a signed-in
//! administrator with every method it answers to, and the error statuses, all carry the
//! policy headers; signed-in pages are never cached.

mod common;

use common::{Browser, TestEnv};
use rocket::http::{ContentType, Method, Status};
use rocket::local::asynchronous::LocalResponse;

/// A concrete path for a route pattern: ids of real records where there are some, a module
/// slug, step 1, the stylesheet.
fn concrete(pattern: &str, class_id: i32) -> String {
    pattern
        .split('/')
        .map(|segment| match segment {
            "<id>" => class_id.to_string(),
            "<assignment_id>" | "<opt_out_id>" | "<student_id>" | "<school_id>" => "1".into(),
            "<slug>" => "fake-profiles".into(),
            "<number>" => "1".into(),
            "<path..>" => "style.css".into(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn check(response: &LocalResponse<'_>, what: &str, signed_in: bool) {
    let headers = response.headers();
    let csp = headers
        .get_one("Content-Security-Policy")
        .unwrap_or_default();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{what}: CSP {csp:?}"
    );
    for (name, value) in [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
    ] {
        assert_eq!(headers.get_one(name), Some(value), "{what}: {name}");
    }
    let cache = headers.get_one("Cache-Control").unwrap_or_default();
    let static_file = what.contains(" /static/") && response.status() == Status::Ok;
    if signed_in || !static_file {
        assert_eq!(cache, "no-store", "{what}: Cache-Control");
    }
}

async fn call<'c>(browser: &'c Browser, method: Method, path: &str) -> LocalResponse<'c> {
    let request = match method {
        Method::Get => browser.client.get(path.to_string()),
        Method::Post => browser
            .client
            .post(path.to_string())
            .header(ContentType::Form)
            .body("csrf_token=wrong"),
        Method::Delete => browser.client.delete(path.to_string()),
        other => panic!("no route answers {other}"),
    };
    request.dispatch().await
}

#[rocket::async_test]
async fn every_route_and_every_error_carries_the_security_headers() {
    let env = TestEnv::with(|f| f.merge(("secure_cookies", true))).await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Headers", "6-8").await;
    let nobody = env.browser().await;
    let routes: Vec<(Method, String)> = admin
        .client
        .rocket()
        .routes()
        .map(|route| (route.method, route.uri.path().to_string()))
        .collect();
    assert!(routes.len() > 50, "{} routes", routes.len());
    let mut checked = 0;
    for (method, pattern) in &routes {
        let path = concrete(pattern, class_id);
        for (who, browser, signed_in) in [("nobody", &nobody, false), ("admin", &admin, true)] {
            let response = call(browser, *method, &path).await;
            let what = format!("{who}: {method} {path} ({})", response.status());
            check(&response, &what, signed_in && !path.starts_with("/static/"));
            assert!(
                response.status().code < 500 || path == "/health/ready",
                "{what}"
            );
            assert!(
                response
                    .headers()
                    .get_one("Strict-Transport-Security")
                    .is_some_and(|h| h.contains("max-age=")),
                "{what}: HSTS"
            );
            checked += 1;
        }
    }
    // Errors the routes above do not reach: unknown paths, a method nobody answers, a body too
    // large, a malformed JSON body.
    let big = "x".repeat(3 * 1024 * 1024);
    let cases = [
        admin.client.get("/no/such/page").dispatch().await,
        admin.client.put("/teacher").dispatch().await,
        admin
            .client
            .post("/login")
            .header(ContentType::Form)
            .body(format!("email={big}"))
            .dispatch()
            .await,
        admin
            .client
            .post("/api/v1/classes")
            .header(ContentType::JSON)
            .body("{not json")
            .dispatch()
            .await,
    ];
    for response in &cases {
        let what = format!("error {}", response.status());
        assert!(response.status().code >= 400, "{what}");
        check(response, &what, true);
        checked += 1;
    }
    assert!(checked > 100, "{checked} responses checked");
}
