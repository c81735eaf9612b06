//! OWASP ASVS 5.0 checks that the other test files do not already make: cookie attributes,
//! HSTS, the exact content security policy, password change and length rules, the sign-in rate
//! limits that had no test through HTTP, ending sessions when an account goes away, and a
//! sign-out control on every signed-in page.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use common::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Browser, TEACHER_PASSWORD, TestEnv, csrf_in, location, urlencode,
};
use rocket::http::{ContentType, Cookie, Status};
use rocket::local::asynchronous::LocalResponse;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// The exact HSTS value `set_security_headers` sends over HTTPS.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Every `Set-Cookie` header of a response that sets (not removes) the cookie `name`, as its
/// attributes without the value: `Expires` is kept as a bare name since its date changes.
fn cookie_attributes(response: &LocalResponse<'_>, name: &str) -> Vec<String> {
    let headers: Vec<&str> = response
        .headers()
        .get("Set-Cookie")
        .filter(|c| c.starts_with(&format!("{name}=")))
        .collect();
    assert_eq!(headers.len(), 1, "one Set-Cookie for {name}: {headers:?}");
    let mut parts = headers[0].split(';').map(str::trim);
    let value = parts.next().unwrap_or_default();
    assert!(value.len() > name.len() + 1, "{name} has a value: {value}");
    let mut attributes: Vec<String> = parts
        .map(|a| {
            if a.to_ascii_lowercase().starts_with("expires=") {
                "Expires".to_string()
            } else {
                a.to_string()
            }
        })
        .collect();
    attributes.sort();
    attributes
}

fn sorted(attributes: &[&str]) -> Vec<String> {
    let mut list: Vec<String> = attributes.iter().map(|a| (*a).to_string()).collect();
    list.sort();
    list
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A staff sign-in from a given client address (as the connection's remote address), with a
/// CSRF token fetched once by the caller. Returns the status, `Location` and page.
async fn staff_login_from(
    browser: &Browser,
    csrf: &str,
    from: SocketAddr,
    email: &str,
    password: &str,
) -> (Status, String, String) {
    let response = browser
        .client
        .post("/login")
        .remote(from)
        .header(ContentType::Form)
        .body(form_body(&[
            ("csrf_token", csrf),
            ("email", email),
            ("password", password),
        ]))
        .dispatch()
        .await;
    let status = response.status();
    let to = location(&response);
    (status, to, response.into_string().await.unwrap_or_default())
}

/// A student sign-in with a CSRF token fetched once by the caller.
async fn student_login(
    browser: &Browser,
    csrf: &str,
    code: &str,
    name: &str,
    secret: &str,
) -> (Status, String) {
    let response = browser
        .post_raw(
            "/student/login",
            &[
                ("csrf_token", csrf),
                ("code", code),
                ("name", name),
                ("secret", secret),
            ],
        )
        .await;
    let status = response.status();
    (status, response.into_string().await.unwrap_or_default())
}

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("socket address")
}

async fn user_id(browser: &Browser, email: &str) -> i32 {
    tellwise::db::entities::user::Entity::find()
        .filter(tellwise::db::entities::user::Column::Email.eq(email))
        .one(&browser.app().db)
        .await
        .expect("query")
        .expect("user exists")
        .id
}

/// A password of exactly `len` characters made of unrelated words (strong for zxcvbn).
fn words_password(len: usize) -> String {
    const WORDS: [&str; 16] = [
        "granite", "lemon", "bicycle", "harbor", "violet", "thunder", "pepper", "oakwood", "canal",
        "mosaic", "falcon", "ember", "quartz", "tundra", "saffron", "glacier",
    ];
    let mut password = String::new();
    let mut i = 0;
    while password.chars().count() < len {
        password.push_str(WORDS[(i * 7 + 3) % WORDS.len()]);
        password.push(if i % 3 == 2 { '-' } else { ' ' });
        i += 1;
    }
    let mut password: String = password.chars().take(len).collect();
    if password.ends_with([' ', '-']) {
        password.pop();
        password.push('z');
    }
    assert_eq!(password.chars().count(), len);
    password
}

/// ASVS V3.3.2: the staff and student session cookies and the CSRF cookie are `HttpOnly`,
/// `SameSite=Strict`, `Path=/` (and `Secure` with the `__Host-` prefix over HTTPS), and the
/// language cookie, which only carries a preference, is `HttpOnly; SameSite=Lax` for a year.
#[rocket::async_test]
async fn v3_3_2_cookies_carry_the_samesite_and_httponly_attributes_the_code_sets() {
    for secure in [false, true] {
        let env = TestEnv::with(|f| f.merge(("secure_cookies", secure))).await;
        let admin = env.admin().await;
        let names = tellwise::auth::cookie_names(secure);
        let mut session = vec!["HttpOnly", "SameSite=Strict", "Path=/"];
        if secure {
            session.push("Secure");
        }

        // The CSRF cookie is set by the first page a browser sees.
        let visitor = env.browser().await;
        let page = visitor.get_response("/help").await;
        assert_eq!(page.status(), Status::Ok);
        let mut csrf = session.clone();
        csrf.push("Expires");
        assert_eq!(
            cookie_attributes(&page, names.csrf),
            sorted(&csrf),
            "CSRF cookie (secure={secure})"
        );
        drop(page);

        // The staff session cookie, set by signing in.
        let response = visitor
            .post_form(
                "/login",
                &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), Status::SeeOther);
        assert_eq!(
            cookie_attributes(&response, names.staff),
            sorted(&session),
            "staff cookie (secure={secure})"
        );
        drop(response);

        // The student session cookie.
        let class_id = admin.create_class("Cookies", "6-8").await;
        admin.add_students(class_id, &["Ana"]).await;
        let (code, cards) = admin.login_cards(class_id).await;
        let student = env.browser().await;
        let response = student.student_sign_in(&code, "Ana", &cards[0].1).await;
        assert_eq!(response.status(), Status::SeeOther);
        assert_eq!(
            cookie_attributes(&response, names.student),
            sorted(&session),
            "student cookie (secure={secure})"
        );
        drop(response);

        // The language cookie: Lax, so that following a link into Tellwise keeps the language.
        let response = student
            .post_form("/language", &[("lang", "es"), ("back", "/student")])
            .await;
        assert_eq!(response.status(), Status::SeeOther);
        let mut language = vec!["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=31536000"];
        if secure {
            language.push("Secure");
        }
        assert_eq!(
            cookie_attributes(&response, names.language),
            sorted(&language),
            "language cookie (secure={secure})"
        );
    }
}

/// ASVS V3.4.1: over HTTPS (`secure_cookies = true`) every response, pages, errors, static
/// files and the API alike, carries exactly `Strict-Transport-Security: max-age=31536000;
/// includeSubDomains`; without HTTPS the header is never sent.
#[rocket::async_test]
async fn v3_4_1_hsts_is_sent_exactly_over_https_and_never_otherwise() {
    let paths = [
        "/",
        "/login",
        "/teacher",
        "/static/style.css",
        "/no-such-page",
        "/api/v1/classes",
    ];
    let https = TestEnv::with(|f| f.merge(("secure_cookies", true))).await;
    let admin = https.admin().await;
    for path in paths {
        let response = admin.get_response(path).await;
        let values: Vec<&str> = response
            .headers()
            .get("Strict-Transport-Security")
            .collect();
        assert_eq!(values, vec![HSTS], "{path} ({})", response.status());
    }
    let plain = TestEnv::with(|f| f.merge(("secure_cookies", false))).await;
    let admin = plain.admin().await;
    for path in paths {
        let response = admin.get_response(path).await;
        assert_eq!(
            response.headers().get_one("Strict-Transport-Security"),
            None,
            "{path} ({}): no HSTS over plain HTTP",
            response.status()
        );
    }
}

/// ASVS V3.4.3: the content security policy denies everything by default (`default-src
/// 'none'`), cannot be framed (`frame-ancestors 'none'`), forbids `<base>` (`base-uri 'none'`)
/// and sends forms only to this site (`form-action 'self'`), with no inline script or style
/// and no wildcard, on pages, errors and the API.
#[rocket::async_test]
async fn v3_4_3_content_security_policy_has_the_exact_restrictive_directives() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let expected: BTreeMap<&str, &str> = [
        ("default-src", "'none'"),
        ("script-src", "'self'"),
        ("style-src", "'self'"),
        ("img-src", "'self' data:"),
        ("font-src", "'self'"),
        ("connect-src", "'self'"),
        ("form-action", "'self'"),
        ("frame-ancestors", "'none'"),
        ("base-uri", "'none'"),
    ]
    .into_iter()
    .collect();
    for path in ["/", "/teacher", "/no-such-page", "/api/v1/classes"] {
        let response = admin.get_response(path).await;
        let values: Vec<&str> = response.headers().get("Content-Security-Policy").collect();
        assert_eq!(values.len(), 1, "{path}: one policy {values:?}");
        let mut directives = BTreeMap::new();
        for directive in values[0]
            .split(';')
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            let (name, sources) = directive.split_once(' ').unwrap_or((directive, ""));
            assert!(
                directives.insert(name, sources.trim()).is_none(),
                "{path}: {name} given twice"
            );
        }
        assert_eq!(directives, expected, "{path}: {}", values[0]);
        assert!(
            !values[0].contains('*') && !values[0].contains("unsafe-"),
            "{path}: {}",
            values[0]
        );
    }
}

/// ASVS V6.2.3: changing the password needs the current one: a wrong current password is
/// refused with 400 and a message, and the password stays the old one (the old password still
/// signs in, the intended new one does not).
#[rocket::async_test]
async fn v6_2_3_password_change_with_a_wrong_current_password_is_refused() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Cora Change").await;
    let email = "cora.change@school.test";
    let new_password = "violet harbor thunder canal";
    let response = teacher
        .post_form(
            "/account/password",
            &[
                ("current_password", "not my password at all"),
                ("new_password", new_password),
            ],
        )
        .await;
    assert_eq!(response.status(), Status::BadRequest);
    let html = response.into_string().await.unwrap_or_default();
    assert!(
        html.contains("role=\"alert\"><p>Your current password is not right.</p>"),
        "{html}"
    );
    assert!(!html.contains("Your password was changed"));
    // This browser stays signed in.
    assert_eq!(teacher.get("/teacher").await.0, Status::Ok);

    let other = env.browser().await;
    let csrf = other.csrf().await;
    let from = addr("192.0.2.10:40000");
    let (status, _, html) = staff_login_from(&other, &csrf, from, email, new_password).await;
    assert_eq!(status, Status::Unauthorized, "the new password was not set");
    assert!(html.contains("do not match an active account"));
    let (status, to, _) = staff_login_from(&other, &csrf, from, email, TEACHER_PASSWORD).await;
    assert_eq!(status, Status::SeeOther, "the old password still works");
    assert_eq!(to, "/teacher");
}

/// ASVS V6.2.9: passwords of 64 and 128 characters (and the 256 the code allows) are accepted
/// when a new staff member chooses one with their link, and sign in; one character over 256 is
/// refused with a 400 that says so, and the link still works afterwards.
#[rocket::async_test]
async fn v6_2_9_long_passwords_are_accepted_up_to_256_characters() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    for len in [64, 128, 256] {
        let password = words_password(len);
        let email = format!("long{len}@school.test");
        let response = admin
            .post_form(
                "/admin/teachers",
                &[("name", &format!("Long Pass {len}")), ("email", &email)],
            )
            .await;
        let browser = env.browser().await;
        browser.accept_password_link(response, &password).await;
        browser.sign_in(&email, &password).await;
        assert_eq!(browser.get("/teacher").await.0, Status::Ok);
        // Not truncated: the same password less its last character does not sign in.
        let shorter: String = password.chars().take(len - 1).collect();
        let csrf = browser.csrf().await;
        let (status, _, _) =
            staff_login_from(&browser, &csrf, addr("192.0.2.11:40000"), &email, &shorter).await;
        assert_eq!(status, Status::Unauthorized, "{len}: a prefix is refused");
    }

    let created = admin
        .post_form(
            "/admin/teachers",
            &[("name", "Too Long"), ("email", "toolong@school.test")],
        )
        .await;
    let page = created.into_string().await.unwrap_or_default();
    let link = common::unescape(&common::between(&page, "readonly value=\"", "\"").expect("link"));
    let token = link.split_once("/reset?token=").expect("a /reset link").1;
    let browser = env.browser().await;
    let too_long = words_password(257);
    let response = browser
        .post_form("/reset", &[("token", token), ("password", &too_long)])
        .await;
    assert_eq!(response.status(), Status::BadRequest);
    let html = response.into_string().await.unwrap_or_default();
    assert!(
        html.contains("Choose a password of at most 256 characters."),
        "{html}"
    );
    let fine = words_password(256);
    let response = browser
        .post_form("/reset", &[("token", token), ("password", &fine)])
        .await;
    assert_eq!(response.status(), Status::SeeOther, "the link still works");
}

/// ASVS V6.3.1: staff sign-in is limited per account (10 a minute): the 11th try is refused
/// with 429 and a message even with the right password, while another account signs in from
/// the same address on the same app server (the existing test checks a classmate on a
/// different app server, whose limits are separate).
#[rocket::async_test]
async fn v6_3_1_staff_account_limit_does_not_lock_out_other_accounts() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let _teacher = env.teacher(&admin, "Tess Other").await;
    let server = env.browser().await;
    let csrf = server.csrf().await;
    let from = addr("198.51.100.7:50000");
    for attempt in 1..=10 {
        let (status, _, _) =
            staff_login_from(&server, &csrf, from, ADMIN_EMAIL, "guess guess guess").await;
        assert_eq!(status, Status::Unauthorized, "attempt {attempt}");
    }
    let (status, _, html) =
        staff_login_from(&server, &csrf, from, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(status, Status::TooManyRequests);
    assert!(
        html.contains("Too many sign-in attempts. Wait a minute and try again."),
        "{html}"
    );
    // Any spelling of the same email is the same account.
    let (status, _, _) = staff_login_from(
        &server,
        &csrf,
        from,
        &ADMIN_EMAIL.to_uppercase(),
        ADMIN_PASSWORD,
    )
    .await;
    assert_eq!(status, Status::TooManyRequests);
    let (status, to, _) = staff_login_from(
        &server,
        &csrf,
        from,
        "tess.other@school.test",
        TEACHER_PASSWORD,
    )
    .await;
    assert_eq!(status, Status::SeeOther, "another account is not limited");
    assert_eq!(to, "/teacher");
}

/// ASVS V6.3.1: staff sign-in is limited per client address (60 a minute, refilling one a
/// second): guessing across many accounts from one address is refused with 429, while the same
/// account still signs in from another address.
#[rocket::async_test]
async fn v6_3_1_staff_address_limit_stops_guessing_across_accounts() {
    let env = TestEnv::new().await;
    let _admin = env.admin().await;
    let server = env.browser().await;
    let csrf = server.csrf().await;
    let guesser = addr("203.0.113.5:51000");
    let started = std::time::Instant::now();
    let mut refused_at = None;
    for attempt in 1..=150 {
        let email = format!("nobody{attempt}@school.test");
        let (status, _, html) =
            staff_login_from(&server, &csrf, guesser, &email, "guess guess guess").await;
        if status == Status::TooManyRequests {
            assert!(html.contains("Wait a minute"), "{html}");
            refused_at = Some(attempt);
            break;
        }
        assert_eq!(status, Status::Unauthorized, "attempt {attempt}");
    }
    let refused_at = refused_at.expect("the address is limited");
    let refill = usize::try_from(started.elapsed().as_secs()).unwrap_or(usize::MAX);
    assert!(
        refused_at > 60 && refused_at <= 61 + refill + 1,
        "refused at attempt {refused_at} after {refill}s"
    );
    // Even the right password waits from that address; from another it works.
    let (status, _, _) =
        staff_login_from(&server, &csrf, guesser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(status, Status::TooManyRequests);
    let (status, to, _) = staff_login_from(
        &server,
        &csrf,
        addr("203.0.113.6:51000"),
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(to, "/teacher");
}

/// ASVS V6.3.1: student sign-in is limited per class code (90 a minute, refilling 1.5 a
/// second), so guessing many names in one class is refused with 429 and a message; another
/// class on the same app server is not affected.
#[rocket::async_test]
async fn v6_3_1_student_class_code_limit_stops_guessing_names() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let guessed = admin.create_class("Guessed", "6-8").await;
    admin.add_students(guessed, &["Ana"]).await;
    let (code, cards) = admin.login_cards(guessed).await;
    let other = admin.create_class("Other", "6-8").await;
    admin.add_students(other, &["Ben"]).await;
    let (other_code, other_cards) = admin.login_cards(other).await;

    let server = env.browser().await;
    let csrf = server.csrf().await;
    let started = std::time::Instant::now();
    let mut refused_at = None;
    for attempt in 1..=250 {
        // A new name each time, so the limit per name (10) never applies.
        let name = format!("Guess {attempt}");
        let (status, html) = student_login(&server, &csrf, &code, &name, "red apple 1").await;
        if status == Status::TooManyRequests {
            assert!(html.contains("Wait a minute"), "{html}");
            refused_at = Some(attempt);
            break;
        }
        assert_eq!(status, Status::Unauthorized, "attempt {attempt}");
    }
    let refused_at = refused_at.expect("the class code is limited");
    let refill = started.elapsed().as_secs_f64() * 1.5;
    assert!(
        refused_at > 90 && (refused_at as f64) <= 91.0 + refill + 1.0,
        "refused at attempt {refused_at} after {refill} refills"
    );
    let (status, _) = student_login(&server, &csrf, &code, "Ana", &cards[0].1).await;
    assert_eq!(
        status,
        Status::TooManyRequests,
        "the real student waits too"
    );
    let (status, _) = student_login(&server, &csrf, &other_code, "Ben", &other_cards[0].1).await;
    assert_eq!(status, Status::SeeOther, "another class signs in");
}

/// ASVS V7.4.2: disabling a staff account ends that person's web session and API bearer
/// tokens on their next request, and enabling it again does not bring them back.
#[rocket::async_test]
async fn v7_4_2_disabling_a_staff_account_ends_its_sessions_and_tokens() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Dana Disabled").await;
    let email = "dana.disabled@school.test";
    let api = env.browser().await;
    let token = api.api_token(email, TEACHER_PASSWORD).await;
    // The controls: both work before.
    assert_eq!(teacher.get("/teacher").await.0, Status::Ok);
    let (status, _) = api.api("GET", "/api/v1/classes", Some(&token), None).await;
    assert_eq!(status, Status::Ok);

    let id = user_id(&admin, email).await;
    let response = admin
        .post_form(
            &format!("/admin/teachers/{id}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);

    let response = teacher.get_response("/teacher").await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), "/login");
    drop(response);
    let (status, body) = api.api("GET", "/api/v1/classes", Some(&token), None).await;
    assert_eq!(status, Status::Unauthorized);
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("expired or revoked"),
        "{body}"
    );

    let response = admin
        .post_form(
            &format!("/admin/teachers/{id}/active"),
            &[("active", "true")],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let response = teacher.get_response("/teacher").await;
    assert_eq!(
        response.status(),
        Status::SeeOther,
        "the old session stays ended"
    );
    drop(response);
    let (status, _) = api.api("GET", "/api/v1/classes", Some(&token), None).await;
    assert_eq!(status, Status::Unauthorized, "the old token stays revoked");
}

/// ASVS V7.4.5: an administrator ends every session and token of an account without disabling
/// it; the account signs in again as usual, and only administrators may do it.
#[rocket::async_test]
async fn v7_4_5_administrators_sign_an_account_out_everywhere() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Lena Lostlaptop").await;
    let email = "lena.lostlaptop@school.test";
    let token = teacher.api_token(email, TEACHER_PASSWORD).await;
    let id = user_id(&admin, email).await;
    let path = format!("/admin/teachers/{id}/sign-out");
    let refused = teacher.post_form(&path, &[]).await;
    assert_eq!(refused.status(), Status::Forbidden);
    drop(refused);
    assert_eq!(teacher.get("/teacher").await.0, Status::Ok);

    let response = admin.post_form(&path, &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let response = teacher.get_response("/teacher").await;
    assert_eq!(location(&response), "/login");
    drop(response);
    let (status, _) = teacher
        .api("GET", "/api/v1/classes", Some(&token), None)
        .await;
    assert_eq!(status, Status::Unauthorized);
    let again = env.browser().await;
    again.sign_in(email, TEACHER_PASSWORD).await;
    assert_eq!(again.get("/teacher").await.0, Status::Ok);
    let (_, audit) = admin.get("/admin/audit").await;
    assert!(
        audit.contains("signed out everywhere") && audit.contains(&format!("user {id}")),
        "{audit}"
    );
}

/// ASVS V7.4.2: deleting a student (with the confirmation) ends that student's session at
/// once, even if the cookie is kept and replayed.
#[rocket::async_test]
async fn v7_4_2_deleting_a_student_ends_their_session() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Rita Records").await;
    let class_id = teacher.create_class("Room D", "6-8").await;
    teacher.add_students(class_id, &["Ana", "Ben"]).await;
    let (code, cards) = teacher.login_cards(class_id).await;
    let student = env.browser().await;
    let response = student.student_sign_in(&code, "Ana", &cards[0].1).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let classmate = env.browser().await;
    let response = classmate.student_sign_in(&code, "Ben", &cards[1].1).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    assert_eq!(student.get("/student").await.0, Status::Ok);
    let cookie = student
        .client
        .cookies()
        .get(tellwise::auth::cookie_names(false).student)
        .expect("student session")
        .value()
        .to_string();

    let ana = tellwise::db::entities::student::Entity::find()
        .filter(tellwise::db::entities::student::Column::ClassId.eq(class_id))
        .filter(tellwise::db::entities::student::Column::DisplayName.eq("Ana"))
        .one(&teacher.app().db)
        .await
        .expect("query")
        .expect("Ana")
        .id;
    let response = teacher
        .post_form(
            &format!("/teacher/classes/{class_id}/students/{ana}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);

    let response = student.get_response("/student").await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), "/student/login");
    drop(response);
    let replay = env.browser().await;
    let response = replay
        .client
        .get("/student")
        .cookie(Cookie::new(
            tellwise::auth::cookie_names(false).student,
            cookie,
        ))
        .dispatch()
        .await;
    assert_eq!(location(&response), "/student/login");
    drop(response);
    assert_eq!(classmate.get("/student").await.0, Status::Ok, "Ben stays");
}

/// The sign-out form of a page, if it has one: a POST form to `action` whose hidden CSRF field
/// holds the page's own token (so pressing it works).
fn assert_sign_out_form(html: &str, action: &str, what: &str) {
    let token = csrf_in(html).unwrap_or_else(|| panic!("{what}: page has a CSRF token"));
    let form = format!(
        "<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrf_token\" \
         value=\"{token}\"><button type=\"submit\""
    );
    assert!(
        html.contains(&form),
        "{what}: no sign-out form posting to {action}"
    );
}

/// ASVS V7.4.4: every signed-in staff page reachable from the navigation (classes, a class,
/// its records and summary, reports, curriculum, account and the administration pages) and
/// the student's home carry a working sign-out form.
#[rocket::async_test]
async fn v7_4_4_every_signed_in_page_offers_sign_out() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Nia Nav").await;
    let class_id = teacher.create_class("Room N", "6-8").await;
    teacher.add_students(class_id, &["Ana"]).await;
    let assignment = teacher
        .assign(class_id, "red-flags-in-private-messages")
        .await;
    let ana = tellwise::db::entities::student::Entity::find()
        .filter(tellwise::db::entities::student::Column::ClassId.eq(class_id))
        .one(&teacher.app().db)
        .await
        .expect("query")
        .expect("Ana")
        .id;
    let teacher_pages = [
        "/teacher".to_string(),
        format!("/teacher/classes/{class_id}"),
        format!("/teacher/classes/{class_id}/assignments/{assignment}"),
        format!("/teacher/classes/{class_id}/students/{ana}"),
        format!("/teacher/classes/{class_id}/summary"),
        "/teacher/modules".to_string(),
        "/teacher/modules/red-flags-in-private-messages".to_string(),
        "/account".to_string(),
    ];
    for path in &teacher_pages {
        let (status, html) = teacher.get(path).await;
        assert_eq!(status, Status::Ok, "teacher {path}");
        assert_sign_out_form(&html, "/logout", &format!("teacher {path}"));
    }
    for path in [
        "/teacher",
        "/reports",
        "/admin/teachers",
        "/admin/schools",
        "/admin/retention",
        "/admin/audit",
        "/account",
    ] {
        let (status, html) = admin.get(path).await;
        assert_eq!(status, Status::Ok, "admin {path}");
        assert_sign_out_form(&html, "/logout", &format!("admin {path}"));
    }
    let (code, cards) = teacher.login_cards(class_id).await;
    let student = env.browser().await;
    let response = student.student_sign_in(&code, "Ana", &cards[0].1).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let (status, html) = student.get("/student").await;
    assert_eq!(status, Status::Ok);
    assert_sign_out_form(&html, "/student/logout", "student home");
    assert!(!html.contains("action=\"/logout\""), "no staff sign-out");
}

/// ASVS V4.1.1: text answers say they are UTF-8: pages, the API, the style sheet and the script.
#[rocket::async_test]
async fn v4_1_1_text_responses_name_their_character_set() {
    let env = TestEnv::new().await;
    let visitor = env.browser().await;
    for (path, expected) in [
        ("/help", "text/html; charset=utf-8"),
        ("/static/style.css", "text/css; charset=utf-8"),
        ("/static/app.js", "text/javascript; charset=utf-8"),
        ("/api/v1/openapi.json", "application/json"),
    ] {
        let response = visitor.get_response(path).await;
        assert_eq!(response.status(), Status::Ok, "{path}");
        let content_type = response
            .headers()
            .get_one("Content-Type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert_eq!(content_type, expected, "{path}");
    }
}

/// V2.4.1 / V15.2.2: one account cannot flood the server with changes or costly reports. The
/// budgets are set low here; a refused change changes nothing, and pages stay readable.
#[rocket::async_test]
async fn v2_4_1_writes_and_reports_are_limited_per_account() {
    let env = TestEnv::with(|f| {
        f.merge(("writes_per_minute", 5))
            .merge(("reports_per_minute", 3))
    })
    .await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Lim Iter").await;
    let mut created = 0;
    loop {
        let response = teacher
            .post_form(
                "/teacher/classes",
                &[("name", &format!("Room {created}")), ("tier", "3-5")],
            )
            .await;
        if response.status() == Status::TooManyRequests {
            let html = response.into_string().await.unwrap_or_default();
            assert!(html.contains("Too many changes in a minute"), "{html}");
            break;
        }
        assert_eq!(response.status(), Status::SeeOther, "class {created}");
        created += 1;
        assert!(created < 30, "the write limit never applied");
    }
    assert!(created >= 5, "refused after {created} changes");
    let (status, dashboard) = teacher.get("/teacher").await;
    assert_eq!(status, Status::Ok, "pages are not limited");
    let listed = (0..=created)
        .filter(|n| dashboard.contains(&format!(">Room {n}<")))
        .count();
    assert_eq!(listed, created, "the refused change created nothing");
    // Another account has its own budget.
    let other = env.teacher(&admin, "Other Teacher").await;
    other.create_class("Their room", "6-8").await;

    // Reports and exports: the CSV and the printable summary share one budget per account.
    let class_id = other.create_class("Export room", "6-8").await;
    let mut exported = 0;
    loop {
        let path = if exported % 2 == 0 {
            format!("/teacher/classes/{class_id}/progress.csv")
        } else {
            format!("/teacher/classes/{class_id}/summary")
        };
        let response = other.get_response(&path).await;
        if response.status() == Status::TooManyRequests {
            let html = response.into_string().await.unwrap_or_default();
            assert!(html.contains("Too many reports and exports"), "{html}");
            break;
        }
        assert_eq!(response.status(), Status::Ok, "{path}");
        exported += 1;
        assert!(exported < 30, "the report limit never applied");
    }
    assert!(exported >= 3, "refused after {exported} reports");
    assert_eq!(
        other.get(&format!("/teacher/classes/{class_id}")).await.0,
        Status::Ok
    );

    // The API answers in JSON with the same message.
    let token = admin.api_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut last = (Status::Ok, serde_json::Value::Null);
    for n in 0..30 {
        last = admin
            .api(
                "POST",
                "/api/v1/classes",
                Some(&token),
                Some(serde_json::json!({ "name": format!("API room {n}"), "tier": "3-5" })),
            )
            .await;
        if last.0 == Status::TooManyRequests {
            break;
        }
    }
    assert_eq!(last.0, Status::TooManyRequests, "{:?}", last.1);
    assert!(
        last.1.to_string().contains("Too many changes in a minute"),
        "{:?}",
        last.1
    );
}

/// Sends raw bytes on one connection and returns the status lines of every response read until
/// the server closes it, and whether it closed (rather than waiting for more).
fn raw_exchange(address: SocketAddr, bytes: &[u8]) -> (Vec<String>, bool) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(3)))
        .expect("timeout");
    stream.write_all(bytes).expect("write");
    let mut received = Vec::new();
    let mut buffer = [0u8; 65536];
    let closed = loop {
        match stream.read(&mut buffer) {
            Ok(0) => break true,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(_) => break false,
        }
    };
    let text = String::from_utf8_lossy(&received);
    // A response may follow a body that does not end in a line break ("ok"): find status
    // lines anywhere.
    let statuses = text
        .match_indices("HTTP/1.1 ")
        .filter_map(|(at, _)| text.get(at + 9..at + 12))
        .map(str::to_string)
        .collect();
    (statuses, closed)
}

/// V4.2.1: no request smuggling. Every message whose length is ambiguous (both
/// `Content-Length` and `Transfer-Encoding`, two lengths, an unknown or hidden coding) is
/// refused, or answered once and the connection closed, so the bytes after it, which a proxy
/// may have read as a second request, are never served.
#[test]
fn v4_2_1_ambiguous_message_lengths_never_smuggle_a_second_request() {
    let server = common::ServerProcess::start();
    let smuggled = "GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    // The control: two well-framed requests on one connection get two answers.
    let (statuses, _) = raw_exchange(
        server.address,
        format!("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n{smuggled}").as_bytes(),
    );
    assert_eq!(
        statuses,
        ["200", "200"],
        "pipelining works, so the count means something"
    );

    let post = "POST /student/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n";
    for (what, headers, body, refused) in [
        (
            "Content-Length, then Transfer-Encoding",
            "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
            "0\r\n\r\n",
            false,
        ),
        (
            "Transfer-Encoding, then Content-Length",
            "Transfer-Encoding: chunked\r\nContent-Length: 40\r\n",
            "0\r\n\r\n",
            false,
        ),
        (
            "identity, chunked and a length",
            "Transfer-Encoding: identity, chunked\r\nContent-Length: 3\r\n",
            "0\r\n\r\n",
            false,
        ),
        (
            "two different lengths",
            "Content-Length: 0\r\nContent-Length: 40\r\n",
            "",
            true,
        ),
        ("a list of lengths", "Content-Length: 0, 40\r\n", "", true),
        ("a signed length", "Content-Length: +4\r\n", "abcd", true),
        ("a negative length", "Content-Length: -1\r\n", "", true),
        (
            "an unknown coding",
            "Transfer-Encoding: xchunked\r\n",
            "0\r\n\r\n",
            true,
        ),
        (
            "chunked not last",
            "Transfer-Encoding: chunked, identity\r\n",
            "0\r\n\r\n",
            true,
        ),
        (
            "a space before the colon",
            "Transfer-Encoding : chunked\r\n",
            "0\r\n\r\n",
            true,
        ),
        ("a folded header", "X-Note: a\r\n chunked\r\n", "", true),
    ] {
        let request = format!("{post}{headers}\r\n{body}{smuggled}");
        let (statuses, closed) = raw_exchange(server.address, request.as_bytes());
        assert_eq!(statuses.len(), 1, "{what}: one answer, got {statuses:?}");
        assert!(
            closed,
            "{what}: the connection must close after an ambiguous message"
        );
        if refused {
            assert_eq!(statuses, ["400"], "{what}");
        }
    }
    // HTTP/1.0 has no chunked coding: a request that claims it is refused.
    let (statuses, closed) = raw_exchange(
        server.address,
        format!("POST /student/login HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}").as_bytes(),
    );
    assert_eq!(
        (statuses.as_slice(), closed),
        (&["400".to_string()][..], true)
    );
}

/// V11.2.2: the token key can be replaced without signing everyone out. During a rotation an
/// app server with the new key and `previous_secret_key` accepts tokens the old key signed
/// (named by their key id) and signs new ones with the new key; afterwards the old key's
/// tokens are refused.
#[rocket::async_test]
async fn v11_2_2_a_key_rotation_keeps_tokens_until_the_old_key_is_retired() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let old_token = admin.api_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let old_secret: String = env.figment.extract_inner("secret_key").expect("secret");
    let new_secret = tellwise::domain::codes::random_hex(32);
    let server_with = |previous: Option<String>| {
        let mut figment = env
            .figment
            .clone()
            .merge(("secret_key", new_secret.clone()));
        if let Some(previous) = previous {
            figment = figment.merge(("previous_secret_key", previous));
        }
        async move {
            let rocket = tellwise::setup(figment).await.expect("app starts");
            Browser {
                client: rocket::local::asynchronous::Client::tracked(rocket)
                    .await
                    .expect("valid rocket"),
            }
        }
    };
    let rotating = server_with(Some(old_secret)).await;
    let (status, _) = rotating
        .api("GET", "/api/v1/classes", Some(&old_token), None)
        .await;
    assert_eq!(
        status,
        Status::Ok,
        "the old key's token during the rotation"
    );
    let new_token = rotating.api_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let key_id = |token: &str| {
        jsonwebtoken::decode_header(token)
            .expect("a JWT")
            .kid
            .expect("a key id")
    };
    assert_ne!(
        key_id(&new_token),
        key_id(&old_token),
        "new tokens use the new key"
    );

    let retired = server_with(None).await;
    let (status, _) = retired
        .api("GET", "/api/v1/classes", Some(&old_token), None)
        .await;
    assert_eq!(status, Status::Unauthorized, "the old key is retired");
    let (status, _) = retired
        .api("GET", "/api/v1/classes", Some(&new_token), None)
        .await;
    assert_eq!(status, Status::Ok);
}

/// V11.2.2: a password hash made with older (weaker) argon2 parameters still signs in, and is
/// replaced at that sign-in by one with today's parameters, without ending the session.
#[rocket::async_test]
async fn v11_2_2_older_password_hashes_are_upgraded_at_sign_in() {
    use argon2::password_hash::PasswordHasher;
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Old Hash").await;
    let id = user_id(&admin, "old.hash@school.test").await;
    let db = &admin.app().db;
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8192, 1, 1, None).expect("params"),
    )
    .hash_password(TEACHER_PASSWORD.as_bytes())
    .expect("hash")
    .to_string();
    let row = tellwise::db::entities::user::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("query")
        .expect("teacher");
    let stamp = row.security_stamp.clone();
    let mut row: tellwise::db::entities::user::ActiveModel = row.into();
    row.password_hash = sea_orm::Set(weak.clone());
    sea_orm::ActiveModelTrait::update(row, db)
        .await
        .expect("stored");

    let again = env.browser().await;
    again
        .sign_in("old.hash@school.test", TEACHER_PASSWORD)
        .await;
    let upgraded = tellwise::db::entities::user::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("query")
        .expect("teacher");
    assert!(
        upgraded
            .password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        upgraded.password_hash
    );
    assert_eq!(upgraded.security_stamp, stamp, "sessions are not ended");
    assert_eq!(teacher.get("/teacher").await.0, Status::Ok);
    again
        .sign_in("old.hash@school.test", TEACHER_PASSWORD)
        .await;
}
