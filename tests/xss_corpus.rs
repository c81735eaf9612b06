//! An XSS corpus put into every text a user can enter (school, staff, class and student names,
//! emails, the JSON API, query parameters and form fields that pages echo), then every page that
//! shows those values is fetched and checked: no payload comes back as markup, the only script is
//! the site's own, no event-handler attribute and no `javascript:` URL appears. Each check has a
//! control that proves the payload reached the page (its escaped form is there), so that the
//! checks cannot pass by looking at the wrong page. Input refused by validation is checked on the
//! 400 page or JSON error instead. Curriculum Markdown (authored content) is checked through
//! `tellwise::curriculum`.

mod common;

use std::sync::LazyLock;

use common::{Answers, Browser, TEACHER_PASSWORD, TestEnv, between, location, unescape, urlencode};
use handlebars::html_escape;
use regex::Regex;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tellwise::curriculum::{StepKind, Tier, markdown_to_safe_html, parse_module};
use tellwise::db::entities::{student, user};

/// Every payload fits every field: at most 60 characters (student names), single spaces, no
/// control characters, and distinct ignoring case (names are unique per class and school).
const PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "' onmouseover='alert(1)",
    "javascript:alert(1)",
    "{{csrf}}",
    "{{{body}}}",
    "</textarea><script>alert(2)</script>",
    "</script><svg onload=alert(3)>",
    // Fullwidth brackets: must stay fullwidth (no compatibility normalisation into `<script>`).
    "\u{FF1C}script\u{FF1E}alert(4)\u{FF1C}/script\u{FF1E}",
    // Right-to-left override in front of markup.
    "\u{202E}<b>gpj.exe</b>",
    // Zero-width joiners inside tag names and text.
    "Z\u{200D}<i\u{200D}>x</i>\u{200D}",
    // Already escaped: must be escaped again, never unescaped into markup.
    "&lt;script&gt;alert(5)&lt;/script&gt;",
    // A NUL-free mix of every character HTML, Handlebars and URLs care about.
    "a\"b'c<d>e&f`g=h{{i}}\\j/k;%00\u{FEFF}l<!--m-->",
];

/// The one script every page carries (the layout's).
const SITE_SCRIPT: &str = r#"<script src="/static/app.js" defer></script>"#;

static SCRIPT_OPEN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)<script").unwrap());
/// An event-handler attribute: `on...=` after whitespace, a slash or a quote. Handlebars escapes
/// `=` in text, so in a page this can only be an attribute.
static EVENT_HANDLER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)[\s/"'`]on[a-z]+\s*="#).unwrap());
static JAVASCRIPT_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:href|src|action|formaction|xlink:href|data)\s*=\s*["']?\s*javascript:"#)
        .unwrap()
});

/// Characters that make a payload markup when it is not escaped.
fn is_markup(payload: &str) -> bool {
    payload.contains(['<', '>', '"', '\''])
}

fn excerpt(text: &str, at: usize, len: usize) -> String {
    let mut start = at.saturating_sub(60);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + len + 60).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    text[start..end].to_string()
}

/// Everything in `html` that a browser would run or treat as injected markup.
fn injection_problems(html: &str, payloads: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    for payload in payloads.iter().filter(|p| is_markup(p)) {
        if let Some(at) = html.find(payload) {
            problems.push(format!(
                "raw payload {payload:?}: …{}…",
                excerpt(html, at, payload.len())
            ));
        }
    }
    let scripts = SCRIPT_OPEN.find_iter(html).count();
    let own = html.matches(SITE_SCRIPT).count();
    if own > 1 || scripts != own {
        let at = SCRIPT_OPEN
            .find_iter(html)
            .map(|m| m.start())
            .find(|&at| !html[at..].starts_with(SITE_SCRIPT))
            .unwrap_or(0);
        problems.push(format!(
            "{scripts} <script tags, {own} of them the site's own: …{}…",
            excerpt(html, at, 8)
        ));
    }
    for m in EVENT_HANDLER.find_iter(html) {
        problems.push(format!(
            "event-handler attribute {:?}: …{}…",
            m.as_str(),
            excerpt(html, m.start(), m.len())
        ));
    }
    for m in JAVASCRIPT_URL.find_iter(html) {
        problems.push(format!(
            "javascript: URL {:?}: …{}…",
            m.as_str(),
            excerpt(html, m.start(), m.len())
        ));
    }
    problems
}

/// How many pages, payload checks and controls a test made, printed at its end.
#[derive(Default)]
struct Tally {
    submissions: usize,
    pages: usize,
    payload_checks: usize,
    controls: usize,
}

impl Tally {
    fn report(&self, test: &str) {
        println!(
            "{test}: {} payloads, {} submissions, {} responses checked, {} payload×response checks, {} controls",
            PAYLOADS.len(),
            self.submissions,
            self.pages,
            self.payload_checks,
            self.controls
        );
    }
}

/// A response as the checks need it.
struct Fetched {
    what: String,
    status: Status,
    content_type: Option<ContentType>,
    csp: Option<String>,
    nosniff: bool,
    location: String,
    body: String,
}

async fn read(what: impl Into<String>, response: LocalResponse<'_>) -> Fetched {
    let status = response.status();
    let content_type = response.content_type();
    let csp = response
        .headers()
        .get_one("Content-Security-Policy")
        .map(String::from);
    let nosniff = response.headers().get_one("X-Content-Type-Options") == Some("nosniff");
    let location = location(&response);
    let body = response.into_string().await.unwrap_or_default();
    Fetched {
        what: what.into(),
        status,
        content_type,
        csp,
        nosniff,
        location,
        body,
    }
}

async fn fetch(browser: &Browser, path: &str) -> Fetched {
    read(format!("GET {path}"), browser.get_response(path).await).await
}

/// A form submission's answer.
async fn submit(browser: &Browser, path: &str, fields: &[(&str, &str)]) -> Fetched {
    let fields_shown: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    let response = browser.post_form(path, fields).await;
    read(format!("POST {path} {}", fields_shown.join(" ")), response).await
}

impl Fetched {
    /// An HTML page with this status, the CSP, no injected markup, and every `shown` text present
    /// in its escaped form (the control that the value reached this page).
    fn assert_html(&self, status: Status, shown: &[String], tally: &mut Tally) {
        let what = &self.what;
        assert_eq!(self.status, status, "{what}: status; body:\n{}", self.body);
        assert_eq!(
            self.content_type,
            Some(ContentType::HTML),
            "{what}: an HTML page"
        );
        let csp = self.csp.as_deref().unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{what}: the CSP forbids inline scripts, got {csp:?}"
        );
        assert!(self.nosniff, "{what}: X-Content-Type-Options: nosniff");
        assert!(
            self.body.contains(SITE_SCRIPT),
            "{what}: the layout (and its script) is there"
        );
        let problems = injection_problems(&self.body, PAYLOADS);
        assert!(
            problems.is_empty(),
            "{what}: injected markup:\n{}",
            problems.join("\n")
        );
        for text in shown {
            let escaped = html_escape(text);
            assert!(
                self.body.contains(&escaped),
                "{what}: control failed, {text:?} should be on the page as {escaped:?}"
            );
        }
        tally.pages += 1;
        tally.payload_checks += PAYLOADS.len();
        tally.controls += shown.len();
    }

    /// A JSON answer: served as JSON (never sniffed as HTML) and parsed.
    fn json(&self, status: Status, tally: &mut Tally) -> Value {
        let what = &self.what;
        assert_eq!(self.status, status, "{what}: status; body:\n{}", self.body);
        assert_eq!(self.content_type, Some(ContentType::JSON), "{what}: JSON");
        assert!(self.nosniff, "{what}: X-Content-Type-Options: nosniff");
        tally.pages += 1;
        tally.payload_checks += PAYLOADS.len();
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{what}: not JSON ({e})"))
    }

    /// The `detail` of a JSON error envelope.
    fn json_error(&self, status: Status, tally: &mut Tally) -> String {
        let body = self.json(status, tally);
        body["errors"][0]["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: an error envelope, got {body}", self.what))
            .to_string()
    }
}

/// How validation messages quote what was typed (`{:?}`).
fn quoted(text: &str) -> String {
    format!("{text:?}")
}

/// The payload repeated past `max` characters, single-spaced.
fn too_long(payload: &str, max: usize) -> String {
    let mut text = payload.to_string();
    while text.chars().count() <= max {
        text.push(' ');
        text.push_str(payload);
    }
    text
}

fn all_payloads() -> Vec<String> {
    PAYLOADS.iter().map(|p| p.to_string()).collect()
}

/// The slug of a module for grades 6-8.
fn module_slug(browser: &Browser) -> String {
    browser
        .app()
        .curriculum
        .modules()
        .into_iter()
        .find(|m| m.tier == Tier::G6to8)
        .expect("a 6-8 module")
        .slug
        .clone()
}

async fn user_id(browser: &Browser, email: &str) -> i32 {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&browser.app().db)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("user {email}"))
        .id
}

async fn student_id(browser: &Browser, class_id: i32, name: &str) -> i32 {
    student::Entity::find()
        .filter(student::Column::ClassId.eq(class_id))
        .filter(student::Column::DisplayName.eq(name))
        .one(&browser.app().db)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("student {name:?}"))
        .id
}

/// A CSV download: served as CSV (never sniffed as HTML); its rows.
fn csv_rows(page: &Fetched, tally: &mut Tally) -> Vec<Vec<String>> {
    let what = &page.what;
    assert_eq!(page.status, Status::Ok, "{what}: status");
    assert_eq!(page.content_type, Some(ContentType::CSV), "{what}: CSV");
    assert!(page.nosniff, "{what}: X-Content-Type-Options: nosniff");
    tally.pages += 1;
    tally.payload_checks += PAYLOADS.len();
    csv::Reader::from_reader(page.body.as_bytes())
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{what}: CSV ({e})"))
                .iter()
                .map(String::from)
                .collect()
        })
        .collect()
}

/// Staff forms: schools, staff accounts, classes and students, each with every payload, then
/// every page that shows them; the student pages as students whose names are payloads.
#[rocket::async_test]
async fn text_entered_in_staff_forms_is_escaped_on_every_page() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let mut tally = Tally::default();

    // Schools (POST /admin/schools `name`).
    let mut school_ids = Vec::new();
    for payload in PAYLOADS {
        school_ids.push(admin.create_school(payload).await);
        tally.submissions += 1;
        let long = too_long(payload, 200);
        let page = submit(&admin, "/admin/schools", &[("name", &long)]).await;
        page.assert_html(Status::BadRequest, &[quoted(&long)], &mut tally);
        tally.submissions += 1;
    }

    // Staff accounts (POST /admin/teachers `name`, `email`, `role`): even payloads name a
    // partner (listed on the schools page), odd ones a teacher of the payload school.
    let mut partners = Vec::new();
    let mut emails_shown = Vec::new();
    for (i, payload) in PAYLOADS.iter().enumerate() {
        let email = format!("staff{i}@district.test");
        let role = if i % 2 == 0 { "partner" } else { "teacher" };
        let school = school_ids[i].to_string();
        let page = submit(
            &admin,
            "/admin/teachers",
            &[
                ("name", payload),
                ("email", &email),
                ("role", role),
                ("school_id", &school),
            ],
        )
        .await;
        // Created: the page with the new member's one-time password link names them.
        page.assert_html(Status::Ok, &[payload.to_string()], &mut tally);
        tally.submissions += 1;
        if role == "partner" {
            partners.push(user_id(&admin, &email).await);
        }

        // The payload as an email: accepted where the (loose) email rule allows it, else a 400
        // that quotes it.
        let typed = format!("{payload}@mail{i}.test");
        let page = submit(
            &admin,
            "/admin/teachers",
            &[("name", &format!("Mail Person {i}")), ("email", &typed)],
        )
        .await;
        tally.submissions += 1;
        if page.status == Status::Ok {
            emails_shown.push(typed.to_lowercase());
        } else {
            page.assert_html(Status::BadRequest, &[quoted(&typed)], &mut tally);
        }

        // The payload as a role: refused, and quoted on the 400 page.
        let page = submit(
            &admin,
            "/admin/teachers",
            &[
                ("name", "Role Person"),
                ("email", &format!("role{i}@district.test")),
                ("role", payload),
            ],
        )
        .await;
        page.assert_html(Status::BadRequest, &[quoted(payload)], &mut tally);
        tally.submissions += 1;
    }
    assert!(
        emails_shown.len() >= PAYLOADS.len() / 2,
        "most payload emails have no spaces and are accepted: {emails_shown:?}"
    );
    for partner in &partners {
        let page = submit(
            &admin,
            &format!("/admin/schools/{}/partners", school_ids[0]),
            &[("partner_id", &partner.to_string())],
        )
        .await;
        assert_eq!(page.status, Status::SeeOther, "{}", page.what);
    }

    // Classes (POST /teacher/classes `name`, `tier`).
    let mut class_ids = Vec::new();
    for payload in PAYLOADS {
        class_ids.push(admin.create_class(payload, "6-8").await);
        tally.submissions += 1;
        let again = submit(
            &admin,
            "/teacher/classes",
            &[("name", payload), ("tier", "6-8")],
        )
        .await;
        again.assert_html(Status::Conflict, &[quoted(payload)], &mut tally);
        let tier = submit(
            &admin,
            "/teacher/classes",
            &[("name", "Tier test"), ("tier", payload)],
        )
        .await;
        tier.assert_html(Status::BadRequest, &[quoted(payload)], &mut tally);
        let long = too_long(payload, 100);
        let page = submit(
            &admin,
            "/teacher/classes",
            &[("name", &long), ("tier", "6-8")],
        )
        .await;
        page.assert_html(Status::BadRequest, &[quoted(&long)], &mut tally);
        tally.submissions += 3;
    }

    // Students (POST /teacher/classes/<id>/students `names`, one per line).
    let main = class_ids[0];
    admin.add_students(main, PAYLOADS).await;
    tally.submissions += 1;
    for payload in PAYLOADS {
        let path = format!("/teacher/classes/{main}/students");
        let long = too_long(payload, 60);
        let page = submit(&admin, &path, &[("names", &format!("Ok Name\n{long}"))]).await;
        page.assert_html(Status::BadRequest, &[quoted(&long)], &mut tally);
        let page = submit(&admin, &path, &[("names", payload)]).await;
        page.assert_html(Status::Conflict, &[quoted(payload)], &mut tally);
        tally.submissions += 2;
    }

    // A module with progress, an opt-out, and every student signing in.
    let slug = module_slug(&admin);
    let assignment = admin.assign(main, &slug).await;
    let opted_out = student_id(&admin, main, PAYLOADS[1]).await;
    let page = submit(
        &admin,
        &format!("/teacher/classes/{main}/opt-outs"),
        &[("student", &opted_out.to_string()), ("module", &slug)],
    )
    .await;
    assert_eq!(page.status, Status::SeeOther, "{}", page.what);

    let (code, cards) = admin.login_cards(main).await;
    assert_eq!(cards.len(), PAYLOADS.len(), "one card per student");
    let student = env.browser().await;
    for (i, payload) in PAYLOADS.iter().enumerate() {
        let secret = cards
            .iter()
            .find(|(name, _)| *name == html_escape(payload))
            .map(|(_, secret)| unescape(secret))
            .unwrap_or_else(|| panic!("a login card for {payload:?}"));
        let response = student.student_sign_in(&code, payload, &secret).await;
        assert_eq!(
            (response.status(), location(&response)),
            (Status::SeeOther, "/student".to_string()),
            "{payload:?} signs in"
        );
        drop(response);
        let mut paths = vec![
            "/student".to_string(),
            format!("/student/modules/{slug}"),
            "/help".to_string(),
            format!("/family/{slug}"),
        ];
        if i == 0 {
            student.complete_module(&slug, Answers::AllRight).await;
            paths.push(format!("/student/modules/{slug}/steps/1"));
            paths.push(format!("/student/modules/{slug}/done"));
        }
        for path in paths {
            let page = fetch(&student, &path).await;
            let what = format!("as student {payload:?}: {}", page.what);
            Fetched { what, ..page }.assert_html(Status::Ok, &[], &mut tally);
        }
        let response = student.post_form("/student/logout", &[]).await;
        assert_eq!(response.status(), Status::SeeOther);
    }

    // Every staff page that shows these values.
    let names = all_payloads();
    let pages: Vec<(String, Vec<String>)> = vec![
        ("/teacher".into(), names.clone()),
        (format!("/teacher/classes/{main}"), names.clone()),
        (format!("/teacher/classes/{main}/cards"), names.clone()),
        (
            format!("/teacher/classes/{main}/summary"),
            vec![PAYLOADS[0].to_string()],
        ),
        (
            format!("/teacher/classes/{main}/assignments/{assignment}"),
            names.clone(),
        ),
        ("/admin/schools".into(), names.clone()),
        ("/admin/teachers".into(), {
            let mut shown = names.clone();
            shown.extend(emails_shown.iter().cloned());
            shown
        }),
        ("/reports".into(), names.clone()),
        (format!("/teacher/modules/{slug}"), vec![]),
        ("/account".into(), vec![]),
    ];
    for (path, shown) in &pages {
        fetch(&admin, path)
            .await
            .assert_html(Status::Ok, shown, &mut tally);
    }
    for (i, (payload, class)) in PAYLOADS.iter().zip(&class_ids).enumerate() {
        fetch(&admin, &format!("/teacher/classes/{class}"))
            .await
            .assert_html(Status::Ok, &[payload.to_string()], &mut tally);
        fetch(&admin, &format!("/reports?school={}", school_ids[i]))
            .await
            .assert_html(Status::Ok, &[payload.to_string()], &mut tally);
    }

    // The opt-out names the student on the class page.
    let class_page = fetch(&admin, &format!("/teacher/classes/{main}")).await;
    let opt_outs = between(&class_page.body, "id=\"opt-outs\"", "</section>").expect("opt-outs");
    assert!(
        opt_outs.contains(&html_escape(PAYLOADS[1])),
        "the opt-out lists {:?}",
        PAYLOADS[1]
    );

    // The CSV is data, not a page: every name comes back exactly, as CSV.
    let rows = csv_rows(
        &fetch(&admin, &format!("/teacher/classes/{main}/progress.csv")).await,
        &mut tally,
    );
    let mut in_csv: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let mut expected: Vec<&str> = PAYLOADS.to_vec();
    in_csv.sort_unstable();
    expected.sort_unstable();
    assert_eq!(in_csv, expected, "progress.csv names every student exactly");
    csv_rows(
        &fetch(
            &admin,
            &format!("/teacher/classes/{main}/assignments/{assignment}/results.csv"),
        )
        .await,
        &mut tally,
    );

    tally.report("staff forms");
}

async fn api(
    browser: &Browser,
    method: &str,
    path: &str,
    token: &str,
    body: Option<String>,
) -> Fetched {
    let mut request = match method {
        "GET" => browser.client.get(path.to_string()),
        "POST" => browser.client.post(path.to_string()),
        other => panic!("unsupported method {other}"),
    };
    request = request.header(Header::new("Authorization", format!("Bearer {token}")));
    let shown = body.clone().unwrap_or_default();
    if let Some(body) = body {
        request = request.header(ContentType::JSON).body(body);
    }
    read(format!("{method} {path} {shown}"), request.dispatch().await).await
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

fn names_in(data: &Value) -> Vec<String> {
    data.as_array()
        .expect("a list")
        .iter()
        .map(|item| item["name"].as_str().expect("a name").to_string())
        .collect()
}

/// The JSON API: payloads come back exactly as JSON, refused ones in a JSON error, and the pages
/// that show what the API created escape it.
#[rocket::async_test]
async fn text_entered_through_the_api_is_json_and_escaped_in_pages() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Api Teacher").await;
    let mut tally = Tally::default();
    let (status, token) = teacher
        .api(
            "POST",
            "/api/v1/tokens",
            None,
            Some(json!({ "email": "api.teacher@school.test", "password": TEACHER_PASSWORD })),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let token = token["data"]["token"].as_str().expect("token").to_string();

    let mut class_ids = Vec::new();
    for payload in PAYLOADS {
        let created = api(
            &teacher,
            "POST",
            "/api/v1/classes",
            &token,
            Some(json!({ "name": payload, "tier": "6-8" }).to_string()),
        )
        .await
        .json(Status::Created, &mut tally);
        assert_eq!(
            created["data"]["name"], *payload,
            "the name comes back exactly"
        );
        class_ids.push(created["data"]["id"].as_i64().expect("id"));
        let detail = api(
            &teacher,
            "POST",
            "/api/v1/classes",
            &token,
            Some(json!({ "name": "Tier test", "tier": payload }).to_string()),
        )
        .await
        .json_error(Status::BadRequest, &mut tally);
        assert!(detail.contains(&quoted(payload)), "{detail}");
        tally.submissions += 2;
    }

    let main = class_ids[0];
    let students_path = format!("/api/v1/classes/{main}/students");
    let added = api(
        &teacher,
        "POST",
        &students_path,
        &token,
        Some(json!({ "names": PAYLOADS }).to_string()),
    )
    .await
    .json(Status::Created, &mut tally);
    assert_eq!(sorted(names_in(&added["data"])), sorted(all_payloads()));
    tally.submissions += 1;
    for payload in PAYLOADS {
        let long = too_long(payload, 60);
        let detail = api(
            &teacher,
            "POST",
            &students_path,
            &token,
            Some(json!({ "names": [long] }).to_string()),
        )
        .await
        .json_error(Status::BadRequest, &mut tally);
        assert!(detail.contains(&quoted(&long)), "{detail}");
        // A body that is not JSON: still a JSON error, never an HTML page.
        let broken = api(
            &teacher,
            "POST",
            &students_path,
            &token,
            Some(format!("{{\"names\": [{payload}]}}")),
        )
        .await;
        assert!(broken.status.class().is_client_error(), "{}", broken.what);
        let status = broken.status;
        broken.json_error(status, &mut tally);
        tally.submissions += 2;
    }

    // Reading back.
    let listed = api(&teacher, "GET", "/api/v1/classes", &token, None)
        .await
        .json(Status::Ok, &mut tally);
    assert_eq!(sorted(names_in(&listed["data"])), sorted(all_payloads()));
    for (payload, id) in PAYLOADS.iter().zip(&class_ids) {
        let class = api(
            &teacher,
            "GET",
            &format!("/api/v1/classes/{id}"),
            &token,
            None,
        )
        .await
        .json(Status::Ok, &mut tally);
        assert_eq!(class["data"]["name"], *payload);
    }
    let students = api(&teacher, "GET", &students_path, &token, None)
        .await
        .json(Status::Ok, &mut tally);
    assert_eq!(sorted(names_in(&students["data"])), sorted(all_payloads()));
    let slug = module_slug(&teacher);
    let assignment = api(
        &teacher,
        "POST",
        &format!("/api/v1/classes/{main}/assignments"),
        &token,
        Some(json!({ "module": slug }).to_string()),
    )
    .await
    .json(Status::Created, &mut tally);
    let assignment = assignment["data"]["id"].as_i64().expect("assignment id");
    let results = api(
        &teacher,
        "GET",
        &format!("/api/v1/classes/{main}/assignments/{assignment}/results"),
        &token,
        None,
    )
    .await
    .json(Status::Ok, &mut tally);
    assert_eq!(
        sorted(names_in(&results["data"]["students"])),
        sorted(all_payloads())
    );

    // The pages showing what the API created.
    let names = all_payloads();
    for (path, shown) in [
        ("/teacher".to_string(), names.clone()),
        (format!("/teacher/classes/{main}"), names.clone()),
        (format!("/teacher/classes/{main}/cards"), names.clone()),
        (
            format!("/teacher/classes/{main}/summary"),
            vec![PAYLOADS[0].to_string()],
        ),
        (
            format!("/teacher/classes/{main}/assignments/{assignment}"),
            names.clone(),
        ),
    ] {
        fetch(&teacher, &path)
            .await
            .assert_html(Status::Ok, &shown, &mut tally);
    }
    // The administrator sees every class too.
    fetch(&admin, "/teacher")
        .await
        .assert_html(Status::Ok, &names, &mut tally);
    for (payload, id) in PAYLOADS.iter().zip(&class_ids) {
        fetch(&teacher, &format!("/teacher/classes/{id}"))
            .await
            .assert_html(Status::Ok, &[payload.to_string()], &mut tally);
    }
    tally.report("JSON API");
}

/// Query parameters and form fields that pages echo: report filters, the family page's language,
/// the sign-in forms' values, the language switch, and addresses that do not exist.
#[rocket::async_test]
async fn echoed_query_parameters_and_form_values_are_escaped() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 1", "6-8").await;
    let class_page = fetch(&admin, &format!("/teacher/classes/{class_id}")).await;
    let code = between(&class_page.body, "<strong class=\"code\">", "</strong>").expect("code");
    let slug = module_slug(&admin);
    let visitor = env.browser().await;
    let mut tally = Tally::default();

    for payload in PAYLOADS {
        let q = urlencode(payload);
        tally.submissions += 1;

        // Report filters (staff pages, so the address itself is not echoed).
        fetch(&admin, &format!("/reports?module={q}"))
            .await
            .assert_html(Status::NotFound, &[], &mut tally);
        fetch(&admin, &format!("/reports?tier={q}"))
            .await
            .assert_html(Status::BadRequest, &[quoted(payload)], &mut tally);
        fetch(&admin, &format!("/reports?period={q}"))
            .await
            .assert_html(Status::BadRequest, &[], &mut tally);
        fetch(&admin, &format!("/reports/items?module={q}"))
            .await
            .assert_html(Status::NotFound, &[], &mut tally);

        // Public and student pages echo their address in the language switch's `back` field.
        for (path, status) in [
            (format!("/family/{slug}?lang={q}"), Status::Ok),
            (format!("/family/{q}?lang=es"), Status::NotFound),
            (format!("/student/login?name={q}"), Status::Ok),
            (format!("/help?q={q}"), Status::Ok),
        ] {
            fetch(&visitor, &path).await.assert_html(
                status,
                std::slice::from_ref(&path),
                &mut tally,
            );
        }

        // Student sign-in: a wrong code, then the right code with a wrong name.
        let page = submit(
            &visitor,
            "/student/login",
            &[("code", payload), ("name", payload), ("secret", payload)],
        )
        .await;
        page.assert_html(Status::Unauthorized, &[payload.to_string()], &mut tally);
        let page = submit(
            &visitor,
            "/student/login",
            &[("code", &code), ("name", payload), ("secret", "red fox")],
        )
        .await;
        page.assert_html(Status::Unauthorized, &[payload.to_string()], &mut tally);

        // Staff sign-in with the payload as the email.
        let page = submit(
            &visitor,
            "/login",
            &[("email", payload), ("password", "not the password 1")],
        )
        .await;
        page.assert_html(Status::Unauthorized, &[payload.to_string()], &mut tally);

        // The language switch: a payload language is refused and quoted.
        let page = submit(&visitor, "/language", &[("lang", payload), ("back", "/")]).await;
        page.assert_html(Status::BadRequest, &[quoted(payload)], &mut tally);
        tally.submissions += 4;
    }
    tally.report("echoed values");
}

/// Addresses sent without percent-encoding, as a careless client (or an attacker) sends them.
/// Rocket answers the ones it cannot parse with a 400 from the catcher; whatever the answer,
/// nothing in it runs, and it carries the same security headers as every other response.
#[rocket::async_test]
async fn unencoded_addresses_are_answered_inert_and_with_the_security_headers() {
    let env = TestEnv::new().await;
    let visitor = env.browser().await;
    let slug = module_slug(&visitor);
    let mut tally = Tally::default();
    let mut paths = vec![
        // Bytes that hyper lets through (`"`, `{`, `}` in a path; `'`, `{`, `}` in a query).
        "/x\"onmouseover=\"alert(1)".to_string(),
        "/help?q={{csrf}}".to_string(),
        "/help?q='onmouseover='alert(1)'".to_string(),
        format!("/family/{slug}?lang=javascript:alert(1)"),
    ];
    for payload in PAYLOADS {
        paths.push(format!("/help?q={payload}"));
        paths.push(format!("/family/{slug}?lang={payload}"));
    }
    let mut missing_headers = Vec::new();
    for path in &paths {
        let page = fetch(&visitor, path).await;
        tally.pages += 1;
        tally.payload_checks += PAYLOADS.len();
        assert_eq!(page.content_type, Some(ContentType::HTML), "{}", page.what);
        assert!(page.body.contains(SITE_SCRIPT), "{}: the layout", page.what);
        let problems = injection_problems(&page.body, PAYLOADS);
        assert!(
            problems.is_empty(),
            "{}: injected markup:\n{}",
            page.what,
            problems.join("\n")
        );
        let csp = page.csp.as_deref().unwrap_or_default();
        if !(csp.contains("script-src 'self'") && page.nosniff) {
            missing_headers.push(format!("{} answered {} without", page.what, page.status));
        }
    }
    tally.report("unencoded addresses");
    // When Rocket cannot parse the request URI it calls the error catcher without running the
    // response fairings; the catcher sets the security headers itself (this found that it once
    // did not).
    assert!(
        missing_headers.is_empty(),
        "every response should carry the CSP and nosniff headers:\n{}",
        missing_headers.join("\n")
    );
}

/// POST /language `back`: wherever it points, the browser stays on this site, and no payload
/// ends up in a page or in a `javascript:` address.
#[rocket::async_test]
async fn the_language_switch_goes_back_only_within_the_site() {
    let env = TestEnv::new().await;
    let visitor = env.browser().await;
    let mut tally = Tally::default();
    let mut backs: Vec<String> = vec![
        "javascript:alert(1)".into(),
        "//evil.test/".into(),
        "/\\evil.test".into(),
        "https://evil.test/".into(),
        " /x".into(),
    ];
    for payload in PAYLOADS {
        backs.push(payload.to_string());
        backs.push(format!("/{payload}"));
        backs.push(format!("/help?q={payload}"));
    }
    let mut errors = Vec::new();
    for back in &backs {
        let page = submit(&visitor, "/language", &[("lang", "es"), ("back", back)]).await;
        tally.submissions += 1;
        if page.status == Status::SeeOther {
            let target = &page.location;
            assert!(
                target.starts_with('/') && !target.starts_with("//") && !target.contains('\\'),
                "{}: redirects off the site to {target:?}",
                page.what
            );
            tally.pages += 1;
        } else {
            // Whatever went wrong, the page that says so is inert.
            let status = page.status;
            page.assert_html(status, &[], &mut tally);
            errors.push(format!("back={back:?} answered {status}"));
        }
    }
    tally.report("language switch");
    // Every `back` is answered with a same-site redirect, also one that starts with '/' but
    // holds characters not allowed in a URI (this found a 500 there once).
    assert!(
        errors.is_empty(),
        "POST /language should always redirect within the site; got:\n{}",
        errors.join("\n")
    );
}

/// Curriculum Markdown is authored, not typed by users, but it is the one place pages embed HTML
/// unescaped: what the loader renders must not run.
#[test]
fn curriculum_markdown_renders_without_scripts_handlers_or_javascript_urls() {
    let attack = "**Tell** a [trusted adult](https://example.org/help).\n\n\
<script>alert(1)</script>\n\n\
<img src=x onerror=alert(1)>\n\n\
[x](javascript:alert(1)) [y](JaVaScRiPt:alert(1)) [z](java&#x09;script:alert(1))\n\n\
<a href=\"javascript:alert(1)\">w</a> <svg onload=alert(1)></svg>\n\n\
<iframe src=\"javascript:alert(1)\"></iframe><div onmouseover=\"alert(1)\">hover</div>\n\n\
<style>body{display:none}</style><form action=\"javascript:alert(1)\"><button>go</button></form>";
    let forbidden = [
        "<script",
        "onerror",
        "onload",
        "onmouseover",
        "javascript:",
        "<iframe",
        "<svg",
        "<style",
        "<form",
    ];
    let check = |what: &str, html: &str| {
        let lower = html.to_lowercase();
        for bad in forbidden {
            assert!(!lower.contains(bad), "{what}: {bad:?} survived in {html}");
        }
        // Controls: the formatting and the safe link survive, so the Markdown was rendered.
        assert!(html.contains("<strong>Tell</strong>"), "{what}: {html}");
        assert!(
            html.contains(r#"href="https://example.org/help""#)
                && html.contains(r#"rel="noopener noreferrer""#),
            "{what}: {html}"
        );
        assert!(html.contains("hover"), "{what}: text is kept: {html}");
    };
    check("markdown_to_safe_html", &markdown_to_safe_html(attack));

    // Through the loader: every field rendered from Markdown.
    let literal = format!("'''\n{attack}\n'''");
    let module = format!(
        r#"slug = "demo"
title = "Demo"
tier = "6-8"
summary = "A demo."
minutes = 20

[teacher]
prepare = {literal}

[family]
learned = {literal}
talk = {literal}

[[sources]]
title = "Online Enticement"
publisher = "NCMEC"
url = "https://www.missingkids.org/theissues/onlineenticement"

[[steps]]
id = "intro"
kind = "reading"
title = "Welcome"
body = {literal}

[[steps]]
id = "chat"
kind = "chat"
title = "Chat"
intro = {literal}
contact = "Sam"
[[steps.messages]]
id = "hi"
from = "them"
text = "hi"
red_flag = false
reason = "A hello is fine."
[[steps.messages]]
id = "secret"
from = "them"
text = "keep this secret"
red_flag = true
reason = "Secrecy is a red flag."

[[steps]]
id = "q1"
kind = "single_choice"
check = true
prompt = "What do you do?"
[[steps.options]]
id = "tell"
text = "Tell an adult"
correct = true
feedback = "Yes."
[[steps.options]]
id = "keep"
text = "Keep it secret"
correct = false
feedback = "Telling helps."

[[steps]]
id = "q2"
kind = "true_false"
check = true
prompt = "It is your fault if someone tricks you."
[[steps.options]]
id = "true"
text = "True"
correct = false
feedback = "It is never your fault."
[[steps.options]]
id = "false"
text = "False"
correct = true
feedback = "Right."

[[steps]]
id = "q3"
kind = "true_false"
check = true
prompt = "You can tell another adult if the first one does not help."
[[steps.options]]
id = "true"
text = "True"
correct = true
feedback = "Yes."
[[steps.options]]
id = "false"
text = "False"
correct = false
feedback = "Keep on telling."

[[help]]
name = "Trusted adult"
contact = "Your teacher"
"#
    );
    let module = parse_module("curriculum/demo/module.toml", "demo", &module)
        .unwrap_or_else(|e| panic!("the module parses: {e:?}"));
    check("teacher.prepare", &module.teacher_html);
    check("family.learned", &module.family.learned_html);
    check("family.talk", &module.family.talk_html);
    let mut steps = 0;
    for step in &module.steps {
        match &step.kind {
            StepKind::Reading(r) => check("reading body", &r.body_html),
            StepKind::Chat(c) => check("chat intro", &c.intro_html),
            _ => continue,
        }
        steps += 1;
    }
    assert_eq!(steps, 2, "the reading and the chat were checked");
}

/// The detector itself: it flags each kind of injection, and passes an escaped page.
#[test]
fn the_injection_checks_can_fail() {
    let page = |body: &str| format!("<html><head>{SITE_SCRIPT}</head><body>{body}</body></html>");
    let escaped: String = PAYLOADS
        .iter()
        .map(|p| {
            format!(
                "<p>{}</p><input value=\"{}\">",
                html_escape(p),
                html_escape(p)
            )
        })
        .collect();
    assert_eq!(
        injection_problems(&page(&escaped), PAYLOADS),
        Vec::<String>::new()
    );
    for payload in PAYLOADS.iter().filter(|p| is_markup(p)) {
        let raw = page(&format!("<p>{payload}</p>"));
        assert!(
            !injection_problems(&raw, PAYLOADS).is_empty(),
            "{payload:?} unescaped is flagged"
        );
    }
    for injected in [
        "<SCRIPT>alert(1)</SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<input value=\"\" onmouseover=\"alert(1)\">",
        "<input value='' onmouseover='alert(1)'>",
        "<svg/onload=alert(1)>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a HREF = 'JavaScript:alert(1)'>x</a>",
        SITE_SCRIPT,
    ] {
        assert!(
            !injection_problems(&page(injected), &[]).is_empty(),
            "{injected:?} is flagged"
        );
    }
    // Through Handlebars itself: `{{x}}` is inert for every payload, and `{{{x}}}` is caught for
    // every payload that is markup or a script URL.
    let mut registry = handlebars::Handlebars::new();
    // (Escaping is no help in an `href`: the site never puts typed text at the start of one.)
    let escaped = format!("{SITE_SCRIPT}<p title=\"{{{{x}}}}\">{{{{x}}}}</p>");
    let raw = format!("{SITE_SCRIPT}<a href=\"{{{{{{x}}}}}}\">{{{{{{x}}}}}}</a>");
    registry
        .register_template_string("escaped", escaped)
        .expect("template");
    registry
        .register_template_string("raw", raw)
        .expect("template");
    for payload in PAYLOADS {
        let data = json!({ "x": payload });
        let safe = registry.render("escaped", &data).expect("render");
        assert!(safe.contains(&html_escape(payload)), "{safe}");
        assert_eq!(injection_problems(&safe, PAYLOADS), Vec::<String>::new());
        let unsafe_html = registry.render("raw", &data).expect("render");
        if is_markup(payload) || payload.starts_with("javascript:") {
            assert!(
                !injection_problems(&unsafe_html, PAYLOADS).is_empty(),
                "{{{{{{x}}}}}} with {payload:?} is flagged: {unsafe_html}"
            );
        }
    }
    // Text that only looks like markup once unescaped is fine.
    assert!(
        injection_problems(
            &page("<p>onerror&#x3D;x javascript:alert(1) &lt;script&gt;</p>"),
            &[]
        )
        .is_empty()
    );
}
