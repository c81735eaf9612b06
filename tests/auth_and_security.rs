//! Sign-in, sign-out and revocation, CSRF, role isolation and the security headers.

mod common;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, TestEnv, location};
use rocket::http::{Cookie, Status};

#[rocket::async_test]
async fn setup_link_works_once_and_only_with_a_valid_token() {
    let env = TestEnv::new().await;
    let visitor = env.browser().await;
    let (status, home) = visitor.get("/").await;
    assert_eq!(status, Status::Ok);
    assert!(home.contains("Finish setting up"));
    let (status, _) = visitor.get("/setup?token=forged").await;
    assert_eq!(status, Status::Forbidden);
    let (status, _) = visitor.get("/setup").await;
    assert_eq!(status, Status::Forbidden);

    let admin = env.admin().await;
    assert!(
        admin.setup_link().await.is_none(),
        "no setup link once an admin exists"
    );
    let (_, dashboard) = admin.get("/teacher").await;
    assert!(dashboard.contains("Your classes"));
    let response = visitor.get_response("/setup?token=anything").await;
    assert_eq!(
        response.status(),
        Status::SeeOther,
        "setup is closed: go to sign-in"
    );
}

#[rocket::async_test]
async fn wrong_passwords_and_unknown_accounts_fail_with_a_message() {
    let env = TestEnv::new().await;
    let _admin = env.admin().await;
    let visitor = env.browser().await;
    for (email, password) in [
        (ADMIN_EMAIL, "wrong password"),
        ("nobody@school.test", ADMIN_PASSWORD),
        ("", ""),
    ] {
        let response = visitor
            .post_form("/login", &[("email", email), ("password", password)])
            .await;
        assert_eq!(response.status(), Status::Unauthorized);
        let html = response.into_string().await.unwrap_or_default();
        assert!(html.contains("do not match an active account"));
    }
    let response = visitor.get_response("/teacher").await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), "/login");
}

#[rocket::async_test]
async fn sign_out_revokes_the_token_even_if_the_cookie_is_kept() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let stolen = admin
        .client
        .cookies()
        .get(tellwise::auth::cookie_names(false).staff)
        .expect("session cookie")
        .value()
        .to_string();
    let response = admin.post_form("/logout", &[]).await;
    assert_eq!(response.status(), Status::SeeOther);

    let replay = env.browser().await;
    let response = replay
        .client
        .get("/teacher")
        .cookie(Cookie::new(
            tellwise::auth::cookie_names(false).staff,
            stolen,
        ))
        .dispatch()
        .await;
    assert_eq!(
        response.status(),
        Status::SeeOther,
        "a signed-out token no longer works"
    );
    assert_eq!(location(&response), "/login");
}

#[rocket::async_test]
async fn password_change_signs_out_other_sessions_but_not_this_one() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let other_device = env.browser().await;
    other_device.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let short = admin
        .post_form(
            "/account/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status(), Status::BadRequest);
    assert!(
        short
            .into_string()
            .await
            .unwrap_or_default()
            .contains("at least 10 characters")
    );

    let changed = admin
        .post_form(
            "/account/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(changed.status(), Status::Ok);
    let (status, _) = admin.get("/teacher").await;
    assert_eq!(status, Status::Ok, "this browser stays signed in");
    let response = other_device.get_response("/teacher").await;
    assert_eq!(
        response.status(),
        Status::SeeOther,
        "the other device is signed out"
    );

    let fresh = env.browser().await;
    fresh.sign_in(ADMIN_EMAIL, "a brand new password").await;
}

#[rocket::async_test]
async fn forms_without_the_right_csrf_token_are_refused_and_change_nothing() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    for fields in [
        vec![("name", "Sneaky"), ("tier", "3-5")],
        vec![
            ("csrf_token", "forged"),
            ("name", "Sneaky"),
            ("tier", "3-5"),
        ],
    ] {
        let response = admin.post_raw("/teacher/classes", &fields).await;
        assert_eq!(response.status(), Status::Forbidden);
        let html = response.into_string().await.unwrap_or_default();
        assert!(html.contains("This form has expired"), "{html}");
    }
    // Another browser's valid token is not this browser's token.
    let other = env.browser().await;
    let foreign = other.csrf().await;
    let response = admin
        .post_raw(
            "/teacher/classes",
            &[
                ("csrf_token", &foreign),
                ("name", "Sneaky"),
                ("tier", "3-5"),
            ],
        )
        .await;
    assert_eq!(response.status(), Status::Forbidden);
    let (_, dashboard) = admin.get("/teacher").await;
    assert!(!dashboard.contains("Sneaky"), "no class was created");
}

#[rocket::async_test]
async fn get_requests_never_change_state() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    for path in [
        "/logout",
        "/teacher/classes",
        "/student/logout",
        "/admin/teachers/1/active",
    ] {
        let (status, _) = admin.get(path).await;
        assert!(
            status == Status::NotFound || status == Status::MethodNotAllowed,
            "{path} answered {status}"
        );
    }
    let (status, _) = admin.get("/teacher").await;
    assert_eq!(status, Status::Ok, "still signed in");
}

#[rocket::async_test]
async fn teachers_never_see_each_others_classes() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let alice = env.teacher(&admin, "Alice Adams").await;
    let bob = env.teacher(&admin, "Bob Brown").await;
    let class_id = alice.create_class("Alice's room", "6-8").await;
    alice.add_students(class_id, &["Kim"]).await;
    let assignment_id = alice
        .assign(class_id, "red-flags-in-private-messages")
        .await;

    for path in [
        format!("/teacher/classes/{class_id}"),
        format!("/teacher/classes/{class_id}/cards"),
        format!("/teacher/classes/{class_id}/assignments/{assignment_id}"),
        format!("/teacher/classes/{class_id}/assignments/{assignment_id}/results.csv"),
    ] {
        let (status, body) = bob.get(&path).await;
        assert_eq!(status, Status::NotFound, "{path}");
        assert!(
            !body.contains("Kim")
                && !body.contains("Alice's room")
                && !body.contains("Alice&#x27;s room"),
            "nothing leaks on {path}"
        );
    }
    for (path, fields) in [
        (
            format!("/teacher/classes/{class_id}/students"),
            vec![("names", "Intruder")],
        ),
        (
            format!("/teacher/classes/{class_id}/assignments"),
            vec![("module", "safe-and-unsafe-secrets"), ("due_on", "")],
        ),
        (
            format!("/teacher/classes/{class_id}/assignments/{assignment_id}/remove"),
            vec![],
        ),
    ] {
        let response = bob.post_form(&path, &fields).await;
        assert_eq!(response.status(), Status::NotFound, "{path}");
    }
    let (_, bobs) = bob.get("/teacher").await;
    assert!(!bobs.contains("Alice's room") && !bobs.contains("Alice&#x27;s room"));
    // The administrator sees every class; Bob cannot reach the staff pages.
    let (status, _) = admin.get(&format!("/teacher/classes/{class_id}")).await;
    assert_eq!(status, Status::Ok);
    let (status, html) = bob.get("/admin/teachers").await;
    assert_eq!(status, Status::Forbidden);
    assert!(html.contains("for administrators"));
    let response = bob
        .post_form(
            "/admin/teachers",
            &[("name", "X"), ("email", "x@school.test")],
        )
        .await;
    assert_eq!(response.status(), Status::Forbidden);
}

#[rocket::async_test]
async fn students_reach_only_their_own_lessons() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 1", "3-5").await;
    admin.add_students(class_id, &["Lia"]).await;
    let assignment_id = admin.assign(class_id, "online-friends-and-strangers").await;
    let (code, cards) = admin.login_cards(class_id).await;
    let student = env.browser().await;
    let response = student.student_sign_in(&code, "Lia", &cards[0].1).await;
    assert_eq!(response.status(), Status::SeeOther);

    for path in [
        "/teacher",
        &format!("/teacher/classes/{class_id}"),
        &format!("/teacher/classes/{class_id}/assignments/{assignment_id}"),
        "/admin/teachers",
    ] {
        let response = student.get_response(path).await;
        assert_eq!(response.status(), Status::SeeOther, "{path}");
        assert_eq!(location(&response), "/login", "{path}");
    }
    // A module that exists but is not assigned, and one that does not exist.
    for slug in ["safe-and-unsafe-secrets", "no-such-module"] {
        let (status, _) = student.get(&format!("/student/modules/{slug}")).await;
        assert_eq!(status, Status::NotFound);
    }
    // Students cannot use the API either.
    let (status, body) = student.api("GET", "/api/v1/classes", None, None).await;
    assert_eq!(status, Status::Unauthorized);
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("bearer token")
    );

    // Wrong secrets, names and codes are refused with a message.
    let stranger = env.browser().await;
    for (code, name, secret) in [
        (code.as_str(), "Lia", "wrong words 11"),
        (code.as_str(), "Nobody", cards[0].1.as_str()),
        ("ZZZZZZ", "Lia", cards[0].1.as_str()),
        ("??", "Lia", "x"),
    ] {
        let response = stranger.student_sign_in(code, name, secret).await;
        assert_eq!(response.status(), Status::Unauthorized);
        let html = response.into_string().await.unwrap_or_default();
        assert!(
            html.contains("role=\"alert\""),
            "a message says what is wrong"
        );
    }
    let response = stranger.get_response("/student").await;
    assert_eq!(location(&response), "/student/login");

    // Signing out revokes the student's session.
    let stolen = student
        .client
        .cookies()
        .get(tellwise::auth::cookie_names(false).student)
        .expect("cookie")
        .value()
        .to_string();
    student.post_form("/student/logout", &[]).await;
    let replay = env.browser().await;
    let response = replay
        .client
        .get("/student")
        .cookie(Cookie::new(
            tellwise::auth::cookie_names(false).student,
            stolen,
        ))
        .dispatch()
        .await;
    assert_eq!(location(&response), "/student/login");
}

#[rocket::async_test]
async fn every_response_carries_the_security_headers() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    for path in [
        "/",
        "/help",
        "/login",
        "/static/style.css",
        "/no-such-page",
        "/teacher/classes/999999",
        "/api/v1/classes",
        "/static/missing.css",
    ] {
        let response = admin.get_response(path).await;
        let headers = response.headers();
        let csp = headers
            .get_one("Content-Security-Policy")
            .unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(
            headers.get_one("X-Content-Type-Options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            headers.get_one("Referrer-Policy"),
            Some("no-referrer"),
            "{path}"
        );
    }
    let response = admin.get_response("/teacher").await;
    assert_eq!(
        response.headers().get_one("Cache-Control"),
        Some("no-store")
    );
    let cookie = admin
        .client
        .cookies()
        .get(tellwise::auth::cookie_names(false).staff)
        .expect("cookie")
        .clone();
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(rocket::http::SameSite::Strict));
}

#[rocket::async_test]
async fn cookies_are_secure_when_served_over_https() {
    let env = TestEnv::with(|f| f.merge(("secure_cookies", true))).await;
    let admin = env.admin().await;
    let names = tellwise::auth::cookie_names(true);
    assert!(admin.client.cookies().get("tw_staff").is_none());
    let cookie = admin
        .client
        .cookies()
        .get(names.staff)
        .expect("a __Host- session cookie")
        .clone();
    assert!(names.staff.starts_with("__Host-"));
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.domain(), None);
    let csrf = admin
        .client
        .cookies()
        .get_private(names.csrf)
        .expect("a __Host- csrf cookie");
    assert!(names.csrf.starts_with("__Host-"));
    assert_eq!(csrf.secure(), Some(true));
    assert_eq!(csrf.path(), Some("/"));
    // The prefixed cookies are the ones the server reads: pages and forms work.
    assert_eq!(admin.get("/teacher").await.0, Status::Ok);
    let class_id = admin.create_class("Room H", "6-8").await;
    assert!(class_id > 0);
    let response = admin.post_form("/logout", &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    let removal = response
        .headers()
        .get("Set-Cookie")
        .find(|c| c.starts_with(names.staff))
        .expect("the session cookie is removed")
        .to_string();
    assert!(
        removal.contains("Secure") && removal.contains("Path=/"),
        "{removal}"
    );
}

#[rocket::async_test]
async fn guessing_is_slowed_down_without_locking_out_classmates() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 8", "6-8").await;
    admin.add_students(class_id, &["Ana", "Ben"]).await;
    let (code, cards) = admin.login_cards(class_id).await;
    let guesser = env.browser().await;
    for attempt in 1..=10 {
        let response = guesser
            .student_sign_in(&code, "Ana", &format!("red apple {attempt}"))
            .await;
        assert_eq!(response.status(), Status::Unauthorized);
    }
    let response = guesser.student_sign_in(&code, "Ana", &cards[0].1).await;
    assert_eq!(
        response.status(),
        Status::TooManyRequests,
        "even the right secret waits"
    );
    let html = response.into_string().await.unwrap_or_default();
    assert!(html.contains("Wait a minute"));
    // The same app server (limits are per server), so Ben's sign-in meets Ana's limit if the
    // limit were not per name.
    let response = guesser.student_sign_in(&code, "Ben", &cards[1].1).await;
    assert_eq!(response.status(), Status::SeeOther, "Ben can still sign in");
    drop(response);

    for _ in 0..10 {
        let response = guesser
            .post_form(
                "/login",
                &[("email", ADMIN_EMAIL), ("password", "guess guess guess")],
            )
            .await;
        assert_eq!(response.status(), Status::Unauthorized);
    }
    let response = guesser
        .post_form(
            "/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), Status::TooManyRequests);
    let (status, body) = guesser
        .api(
            "POST",
            "/api/v1/tokens",
            None,
            Some(serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(status, Status::TooManyRequests);
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Wait a minute")
    );
}

#[rocket::async_test]
async fn a_wrong_class_code_and_a_wrong_secret_look_the_same() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 10", "3-5").await;
    admin.add_students(class_id, &["Ana"]).await;
    let (code, _) = admin.login_cards(class_id).await;
    let visitor = env.browser().await;
    let message =
        |html: String| common::between(&html, "role=\"alert\"><p>", "</p>").unwrap_or_default();
    let wrong_secret = visitor
        .student_sign_in(&code, "Ana", "blue kite 123")
        .await
        .into_string()
        .await
        .unwrap_or_default();
    let other = if code.starts_with('A') {
        "CCC-CCC"
    } else {
        "AAA-AAA"
    };
    let wrong_code = visitor
        .student_sign_in(other, "Ana", "blue kite 123")
        .await
        .into_string()
        .await
        .unwrap_or_default();
    let (wrong_secret, wrong_code) = (message(wrong_secret), message(wrong_code));
    assert!(wrong_secret.contains("do not match"), "{wrong_secret:?}");
    assert_eq!(wrong_secret, wrong_code);
}

/// Rocket would take the client's address from `X-Real-IP`, which anyone can send, and so
/// dodge the sign-in limit per address; Tellwise turns that off unless a proxy is configured.
/// Behind a proxy that appends to `X-Forwarded-For`, only the entry it appended counts: what
/// the client put before it cannot open a new bucket.
#[rocket::async_test]
async fn client_addresses_come_from_the_connection_unless_a_proxy_is_configured() {
    let env = TestEnv::new().await;
    let config = rocket::Config::from(env.figment.clone());
    assert!(config.ip_header.is_none(), "{:?}", config.ip_header);
    let direct = env.browser().await;
    let proxied = TestEnv::with(|f| f.merge(("ip_header", "X-Forwarded-For"))).await;
    let behind_proxy = proxied.browser().await;

    async fn token_attempt(browser: &common::Browser, n: usize, forwarded: &str) -> Status {
        browser
            .client
            .post("/api/v1/tokens")
            .header(rocket::http::ContentType::JSON)
            .header(rocket::http::Header::new(
                "X-Forwarded-For",
                forwarded.to_string(),
            ))
            .body(format!(
                r#"{{"email":"nobody{n}@school.test","password":"wrong password here"}}"#
            ))
            .dispatch()
            .await
            .status()
    }
    // 60 tries a minute per address (refilling one a second), each on another account so the
    // account limit stays out of the way, each with a different forged first entry: they all
    // count against the one address the proxy appended.
    let mut tries = 0;
    while token_attempt(
        &behind_proxy,
        tries,
        &format!("10.0.0.{}, 198.51.100.7", tries % 250),
    )
    .await
        == Status::Unauthorized
    {
        tries += 1;
        assert!(tries < 200, "the per-address limit never applied");
    }
    assert!(tries >= 60, "refused after only {tries} tries");
    // Had a forged first entry opened a new bucket, every one of these would be let through.
    let mut let_through = 0;
    for n in 0..5 {
        let forged = format!("203.0.113.{n}, 198.51.100.7");
        if token_attempt(&behind_proxy, 300 + n, &forged).await != Status::TooManyRequests {
            let_through += 1;
        }
    }
    assert!(
        let_through <= 1,
        "{let_through} of 5 forged first entries got through"
    );
    assert_eq!(
        token_attempt(&behind_proxy, 400, "198.51.100.8").await,
        Status::Unauthorized,
        "another client behind the proxy has its own bucket"
    );
    // Without ip_header the header is ignored: forged addresses all share the connection's
    // bucket.
    let mut tries = 0;
    while token_attempt(&direct, tries, &format!("192.0.2.{}", tries % 250)).await
        == Status::Unauthorized
    {
        tries += 1;
        assert!(
            tries < 200,
            "the per-address limit never applied without a proxy"
        );
    }
    assert!(tries >= 60, "refused after only {tries} tries");
}

/// The pages inside a module check the session in the same query that reads the student's
/// place in it: a signed-out token, and a student whose class has ended, open none of them.
#[rocket::async_test]
async fn module_pages_refuse_a_signed_out_student_and_an_ended_class() {
    const MODULE: &str = "fake-profiles";
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 4", "6-8").await;
    admin.add_students(class_id, &["Kim", "Lee"]).await;
    admin.assign(class_id, MODULE).await;
    let (code, cards) = admin.login_cards(class_id).await;
    let pages = [
        format!("/student/modules/{MODULE}"),
        format!("/student/modules/{MODULE}/before/1"),
        format!("/student/modules/{MODULE}/steps/1"),
        format!("/student/modules/{MODULE}/done"),
    ];
    let mut students = Vec::new();
    for (name, secret) in &cards {
        let student = env.browser().await;
        student.student_sign_in(&code, name, secret).await;
        let response = student
            .post_form(&format!("/student/modules/{MODULE}/start"), &[])
            .await;
        assert_eq!(response.status(), Status::SeeOther);
        drop(response);
        let (status, _) = student.get(&pages[1]).await;
        assert_eq!(status, Status::Ok, "signed in, the first check opens");
        students.push(student);
    }
    let cookie_of = |student: &common::Browser| {
        student
            .client
            .cookies()
            .get(tellwise::auth::cookie_names(false).student)
            .expect("student session cookie")
            .value()
            .to_string()
    };
    let replay = env.browser().await;
    let assert_refused = |token: String, why: &'static str| {
        let replay = &replay;
        let pages = &pages;
        async move {
            for page in pages {
                let response = replay
                    .client
                    .get(page.clone())
                    .cookie(Cookie::new(
                        tellwise::auth::cookie_names(false).student,
                        token.clone(),
                    ))
                    .dispatch()
                    .await;
                assert_eq!(response.status(), Status::SeeOther, "{why}: {page}");
                assert_eq!(location(&response), "/student/login", "{why}: {page}");
            }
        }
    };

    // The forms inside a module, posted with a valid CSRF token and the replayed session.
    let forms = [
        format!("/student/modules/{MODULE}/start"),
        format!("/student/modules/{MODULE}/before/1"),
        format!("/student/modules/{MODULE}/steps/1"),
    ];
    let assert_forms_refused = |token: String, why: &'static str| {
        let replay = &replay;
        let forms = &forms;
        async move {
            for form in forms {
                let csrf = replay.csrf().await;
                let response = replay
                    .client
                    .post(form.clone())
                    .header(rocket::http::ContentType::Form)
                    .cookie(Cookie::new(
                        tellwise::auth::cookie_names(false).student,
                        token.clone(),
                    ))
                    .body(format!("csrf_token={csrf}&choice=x"))
                    .dispatch()
                    .await;
                assert_eq!(response.status(), Status::SeeOther, "{why}: POST {form}");
                assert_eq!(location(&response), "/student/login", "{why}: POST {form}");
            }
        }
    };

    let signed_out = cookie_of(&students[0]);
    let response = students[0].post_form("/student/logout", &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    assert_refused(signed_out.clone(), "a signed-out token").await;
    assert_forms_refused(signed_out, "a signed-out token").await;

    let still_in = cookie_of(&students[1]);
    let response = admin
        .post_form(&format!("/teacher/classes/{class_id}/end"), &[])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    assert_refused(still_in.clone(), "a student of an ended class").await;
    assert_forms_refused(still_in, "a student of an ended class").await;
}

/// A staff member refused a page (403) or sent to one that is not theirs (404) keeps their
/// navigation; a visitor who is not signed in gets none.
#[rocket::async_test]
async fn error_pages_keep_the_staff_navigation_of_who_is_signed_in() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room N", "6-8").await;
    let teacher = env.teacher(&admin, "Nina Teacher").await;
    let staff_nav = "<form method=\"post\" action=\"/logout\">";
    for (path, status) in [
        ("/admin/teachers".to_string(), Status::Forbidden),
        (format!("/teacher/classes/{class_id}"), Status::NotFound),
    ] {
        let (got, page) = teacher.get(&path).await;
        assert_eq!(got, status, "{path}");
        assert!(page.contains(staff_nav), "{path}: no staff navigation");
        assert!(page.contains("<a href=\"/teacher\">Classes</a>"), "{path}");
        assert!(
            !page.contains("Staff accounts"),
            "{path}: a teacher's navigation"
        );
    }
    let visitor = env.browser().await;
    let (got, page) = visitor.get(&format!("/teacher/classes/{class_id}")).await;
    assert_ne!(got, Status::Ok);
    assert!(!page.contains(staff_nav));
}
