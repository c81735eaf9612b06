//! Generated bodies for every HTML form. Each role's pages are crawled as a browser would see
//! them; every `<form method="post">` found is sent many generated bodies: odd and oversized
//! values, missing, repeated and unknown fields, other ids in the address, a wrong or missing
//! CSRF token, bodies that are not even form data. None may answer with a server error, and a
//! refusal must say something. A last check ties the crawl to the router: every POST route
//! outside the JSON API (which schemathesis fuzzes) was reached through a form.
//!
//! `FORM_FUZZ_CASES=500 cargo test --test form_fuzz` runs it at length (default 40 a form);
//! `FORM_FUZZ_SEED` repeats a run.

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use common::{Answers, Browser, TestEnv, csrf_in};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rocket::http::{ContentType, Method, Status};
use scraper::{Html, Selector};

const MODULE: &str = "fake-profiles";

/// A form as the page shows it: where it posts and the values each field may carry.
#[derive(Clone, Debug)]
struct Form {
    action: String,
    fields: Vec<(String, Vec<String>)>,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("valid selector")
}

fn forms_in(html: &str) -> Vec<Form> {
    let document = Html::parse_document(html);
    let controls = selector("input[name], select[name], textarea[name], button[name]");
    let options = selector("option");
    document
        .select(&selector("form"))
        .filter(|form| {
            form.value()
                .attr("method")
                .is_some_and(|m| m.eq_ignore_ascii_case("post"))
        })
        .filter_map(|form| {
            let action = form.value().attr("action")?.to_string();
            let mut fields: Vec<(String, Vec<String>)> = Vec::new();
            for control in form.select(&controls) {
                let name = control.value().attr("name").unwrap_or_default().to_string();
                let mut values: Vec<String> = control
                    .select(&options)
                    .map(|o| {
                        o.value()
                            .attr("value")
                            .map(str::to_string)
                            .unwrap_or_else(|| o.text().collect())
                    })
                    .collect();
                values.extend(control.value().attr("value").map(str::to_string));
                match fields.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, known)) => known.extend(values),
                    None => fields.push((name, values)),
                }
            }
            Some(Form { action, fields })
        })
        .collect()
}

fn links_in(html: &str) -> Vec<String> {
    Html::parse_document(html)
        .select(&selector("a[href]"))
        .filter_map(|a| a.value().attr("href"))
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .map(|href| href.split('#').next().unwrap_or_default().to_string())
        .collect()
}

/// A path with its numbers replaced, so that a crawl visits one student's page, not every one.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()) {
                "N"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every form on the pages a browser reaches by following links from `start`.
async fn crawl(browser: &Browser, start: &[String]) -> Vec<Form> {
    let mut queue: VecDeque<String> = start.iter().cloned().collect();
    let mut seen = BTreeSet::new();
    let mut per_shape: BTreeMap<String, usize> = BTreeMap::new();
    let mut forms: BTreeMap<String, Form> = BTreeMap::new();
    while let Some(path) = queue.pop_front() {
        let downloads = [".csv", ".json", ".js", ".css", ".svg", ".png", ".ico"];
        if downloads
            .iter()
            .any(|d| path.split('?').next().unwrap_or_default().ends_with(d))
            || seen.contains(&path)
            || seen.len() > 200
        {
            continue;
        }
        // A few pages of each kind: both classes, not every student of each.
        let visits = per_shape.entry(shape(&path)).or_insert(0);
        *visits += 1;
        if *visits > 3 {
            continue;
        }
        seen.insert(path.clone());
        let (status, html) = browser.get(&path).await;
        if status != Status::Ok {
            continue;
        }
        for form in forms_in(&html) {
            forms.entry(shape(&form.action)).or_insert(form);
        }
        queue.extend(links_in(&html));
    }
    forms.into_values().collect()
}

/// Values that have broken form handlers elsewhere.
const ODD_VALUES: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "2147483648",
    "-2147483649",
    "99999999999999999999999",
    "1.5",
    "1e309",
    "NaN",
    "true",
    "null",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "' OR '1'='1' --",
    "{{this}}{{#each .}}",
    "\u{0}",
    "\u{202e}evil",
    "\r\nSet-Cookie: x=1",
    "../../etc/passwd",
    "%00%ff",
    "2026-02-30",
    "9999-12-31",
    "0000-00-00",
    "2026-1-5",
    "😀👨‍👩‍👧",
    "e\u{301}\u{301}\u{301}",
    "K-2",
    "9-12",
    "es",
    "zz",
    "yes",
];

fn odd_value(rng: &mut StdRng) -> String {
    match rng.random_range(0..10) {
        0 => "a".repeat(rng.random_range(200..40_000)),
        1 => "é\n".repeat(rng.random_range(50..3_000)),
        2 => (0..rng.random_range(0..40))
            .map(|_| char::from_u32(rng.random_range(0..0x3_0000)).unwrap_or('\u{fffd}'))
            .collect(),
        _ => ODD_VALUES.choose(rng).expect("values").to_string(),
    }
}

/// The form's action with, now and then, another id in place of each number.
fn mutated_action(action: &str, rng: &mut StdRng) -> String {
    action
        .split('/')
        .map(|segment| {
            if segment.chars().all(|c| c.is_ascii_digit()) && !segment.is_empty() {
                if rng.random_bool(0.15) {
                    return ["0", "-1", "999999", "2147483648", "abc", "1.0", "%2e%2e"]
                        .choose(rng)
                        .expect("ids")
                        .to_string();
                }
            } else if !segment.is_empty() && rng.random_bool(0.03) {
                return format!("{segment}%00");
            }
            segment.to_string()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// One generated request body for `form`: mostly near what the page would send, so that it
/// reaches the handler's own checks, with odd values mixed in.
fn generated_body(form: &Form, csrf: &str, rng: &mut StdRng) -> (ContentType, Vec<u8>) {
    match rng.random_range(0..40) {
        0 => return (ContentType::Form, vec![0xff, 0xfe, b'=', 0x80, b'&', b'%']),
        1 => return (ContentType::Form, b"%zz=%&&==&a=%".to_vec()),
        2 => return (ContentType::JSON, br#"{"name": [1, {"x": null}]}"#.to_vec()),
        3 => {
            let body =
                b"--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx\r\n--b--\r\n";
            let multipart =
                ContentType::new("multipart", "form-data").with_params(("boundary", "b"));
            return (multipart, body.to_vec());
        }
        _ => {}
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (name, values) in &form.fields {
        if name == "csrf_token" {
            match rng.random_range(0..12) {
                0 => continue,
                1 => pairs.push((name.clone(), "0".repeat(64))),
                _ => pairs.push((name.clone(), csrf.to_string())),
            }
            continue;
        }
        if rng.random_bool(0.15) {
            continue;
        }
        let value = if !values.is_empty() && rng.random_bool(0.5) {
            values.choose(rng).expect("values").clone()
        } else {
            odd_value(rng)
        };
        let name = if rng.random_bool(0.05) {
            format!(
                "{name}[{}]",
                odd_value(rng).chars().take(8).collect::<String>()
            )
        } else {
            name.clone()
        };
        pairs.push((name.clone(), value));
        if rng.random_bool(0.1) {
            pairs.push((name, odd_value(rng)));
        }
    }
    if rng.random_bool(0.1) {
        pairs.push((odd_value(rng).chars().take(30).collect(), odd_value(rng)));
    }
    let body = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", common::urlencode(k), common::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    (ContentType::Form, body.into_bytes())
}

/// Sends `cases` generated bodies to each form through `browser`; returns how many answers
/// had each status. Panics on the first server error or an empty refusal.
async fn fuzz(
    who: &str,
    browser: &Browser,
    forms: &[Form],
    cases: usize,
    rng: &mut StdRng,
) -> BTreeMap<u16, usize> {
    let mut statuses = BTreeMap::new();
    for form in forms {
        for case in 0..cases {
            // A fresh token each time: a form may have signed the browser out or in.
            let (_, help) = browser.get("/help").await;
            let csrf = csrf_in(&help).unwrap_or_default();
            let action = mutated_action(&form.action, rng);
            let (content_type, body) = generated_body(form, &csrf, rng);
            let shown = String::from_utf8_lossy(&body)
                .chars()
                .take(300)
                .collect::<String>();
            let response = browser
                .client
                .post(action.clone())
                .header(content_type)
                .body(body)
                .dispatch()
                .await;
            let status = response.status();
            let text = response.into_string().await.unwrap_or_default();
            assert!(
                status.code < 500,
                "{who}: POST {action} case {case} answered {status}: {shown}\n{text}"
            );
            if status.code >= 400
                && status != Status::NotFound
                && status != Status::MethodNotAllowed
            {
                assert!(
                    !text.trim().is_empty(),
                    "{who}: POST {action} answered {status} without a message: {shown}"
                );
            }
            *statuses.entry(status.code).or_insert(0) += 1;
        }
    }
    statuses
}

/// Forms that end a session or a class go last, so the forms before them run signed in.
fn ending_last(mut forms: Vec<Form>) -> Vec<Form> {
    let ends = [
        "logout",
        "sign-out",
        "/active",
        "/end",
        "/delete",
        "/purge",
        "new-secret",
        "/password",
        "/remove",
    ];
    forms.sort_by_key(|f| ends.iter().any(|e| f.action.contains(e)));
    forms
}

fn cases() -> usize {
    std::env::var("FORM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

fn rng() -> StdRng {
    let seed = std::env::var("FORM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("FORM_FUZZ_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

/// Routes as patterns a concrete address can be matched against.
fn matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or_default()
        .split('/')
        .collect();
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(p, s)| p == s || (p.starts_with('<') && p.ends_with('>')))
}

#[rocket::async_test]
async fn every_form_survives_generated_bodies_without_a_server_error() {
    // Budgets per account would turn most of the run into 429s.
    let env = TestEnv::with(|f| {
        f.merge(("writes_per_minute", 1_000_000))
            .merge(("reports_per_minute", 1_000_000))
    })
    .await;
    let mut rng = rng();
    let cases = cases();
    let mut reached: Vec<String> = Vec::new();
    let mut total = BTreeMap::new();
    let mut tally = |statuses: BTreeMap<u16, usize>, forms: &[Form], reached: &mut Vec<String>| {
        for (status, count) in statuses {
            *total.entry(status).or_insert(0) += count;
        }
        reached.extend(forms.iter().map(|f| f.action.clone()));
    };

    // The first administrator's form, while there is none (its own installation).
    {
        let setup_env = TestEnv::new().await;
        let browser = setup_env.browser().await;
        let link = browser.setup_link().await.expect("no admin yet");
        let forms = crawl(&browser, &[link.trim_start_matches("http://x").to_string()]).await;
        let statuses = fuzz("setup", &browser, &forms, cases, &mut rng).await;
        tally(statuses, &forms, &mut reached);
    }

    // A district: two schools, a teacher with a class, an assignment, an opt-out and an ended
    // class, a school administrator, a partner with a grant, students before and in a lesson.
    let admin = env.admin().await;
    let north = admin.create_school("North Middle").await;
    let teacher = env.staff(&admin, "Tess Teacher", "teacher", north).await;
    let head = env.staff(&admin, "Hal Head", "school_admin", north).await;
    let partner = env.staff(&admin, "Pia Partner", "partner", north).await;
    let partner_id = common::id_from(
        &tellwise::db::queries::staff::list(&admin.app().db)
            .await
            .expect("staff")
            .into_iter()
            .find(|u| u.display_name == "Pia Partner")
            .map(|u| format!("/{}", u.id))
            .expect("partner"),
    );
    let grant = admin
        .post_form(
            &format!("/admin/schools/{north}/partners"),
            &[("partner_id", &partner_id.to_string())],
        )
        .await;
    assert_eq!(grant.status(), Status::SeeOther, "partner granted");
    drop(grant);
    let class_id = teacher.create_class("Room 8", "6-8").await;
    teacher
        .add_students(class_id, &["Ari", "Bo", "Cy", "Di"])
        .await;
    teacher.assign(class_id, MODULE).await;
    let ended = teacher.create_class("Last Year", "6-8").await;
    teacher.add_students(ended, &["Eli"]).await;
    let end = teacher
        .post_form(&format!("/teacher/classes/{ended}/end"), &[])
        .await;
    assert_eq!(end.status(), Status::SeeOther, "class ended");
    drop(end);
    let (code, cards) = teacher.login_cards(class_id).await;
    let di = teacher.student_id("Di").await;
    let opt_out = teacher
        .post_form(
            &format!("/teacher/classes/{class_id}/opt-outs"),
            &[("student", &di.to_string()), ("module", MODULE)],
        )
        .await;
    assert_eq!(opt_out.status(), Status::SeeOther, "opt-out recorded");
    drop(opt_out);
    let signed_in = |name: &'static str| {
        let secret = cards
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .expect("card");
        let code = code.clone();
        let env = &env;
        async move {
            let student = env.browser().await;
            let response = student.student_sign_in(&code, name, &secret).await;
            assert_eq!(response.status(), Status::SeeOther, "{name} signs in");
            drop(response);
            student
        }
    };
    let before = signed_in("Ari").await;
    let start = before
        .post_form(&format!("/student/modules/{MODULE}/start"), &[])
        .await;
    assert_eq!(start.status(), Status::SeeOther);
    drop(start);
    let in_lesson = signed_in("Bo").await;
    in_lesson
        .answer_steps(MODULE, Answers::AllWrong, Answers::AllRight, 1)
        .await;
    let newcomer = signed_in("Cy").await;

    // A one-time link page, as a new staff member opens it.
    let link_page = admin
        .post_form(
            "/admin/teachers",
            &[("name", "Nia New"), ("email", "nia@district.test")],
        )
        .await;
    let html = link_page.into_string().await.unwrap_or_default();
    let link = common::between(&html, "readonly value=\"", "\"").expect("a one-time link");
    let reset = common::unescape(&link)
        .split_once("/reset?token=")
        .map(|(_, token)| format!("/reset?token={token}"))
        .expect("a reset link");
    let nobody = env.browser().await;

    let staff_start = |extra: &[&str]| -> Vec<String> {
        ["/teacher", "/account", "/reports", "/teacher/modules"]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    let student_start = vec![
        "/student".to_string(),
        format!("/student/modules/{MODULE}"),
        format!("/student/modules/{MODULE}/before/1"),
        format!("/student/modules/{MODULE}/steps/2"),
    ];
    // Students first, then the class's own teacher, and the administrator last: later roles'
    // forms can end earlier ones' sessions or remove what they work on (new secret words, a
    // deleted student, an unassigned module, a disabled account).
    let roles: Vec<(&str, &Browser, Vec<String>)> = vec![
        (
            "nobody",
            &nobody,
            vec![
                "/".into(),
                "/login".into(),
                "/student/login".into(),
                "/help".into(),
                reset,
            ],
        ),
        ("student before the lesson", &before, student_start.clone()),
        ("student in the lesson", &in_lesson, student_start.clone()),
        ("student who has not started", &newcomer, student_start),
        ("partner", &partner, staff_start(&[])),
        ("teacher", &teacher, staff_start(&[])),
        (
            "school administrator",
            &head,
            staff_start(&["/admin/schools"]),
        ),
        (
            "administrator",
            &admin,
            staff_start(&[
                "/admin/teachers",
                "/admin/schools",
                "/admin/retention",
                "/admin/audit",
            ]),
        ),
    ];
    let mut crawled = Vec::new();
    for (who, browser, start) in &roles {
        // Crawl every role before fuzzing any, while every form is still in its first state.
        crawled.push(ending_last(crawl(browser, start).await));
        assert!(
            !crawled.last().expect("forms").is_empty(),
            "{who} sees no form"
        );
    }
    let mut forms_fuzzed = 0;
    for ((who, browser, _), forms) in roles.iter().zip(&crawled) {
        let statuses = fuzz(who, browser, forms, cases, &mut rng).await;
        forms_fuzzed += forms.len();
        tally(statuses, forms, &mut reached);
    }

    let post_routes: BTreeSet<String> = admin
        .client
        .rocket()
        .routes()
        .filter(|route| route.method == Method::Post)
        .map(|route| route.uri.path().to_string())
        .filter(|path| !path.starts_with("/api/"))
        .collect();
    let unreached: Vec<&String> = post_routes
        .iter()
        .filter(|pattern| !reached.iter().any(|action| matches(pattern, action)))
        .collect();
    assert!(
        unreached.is_empty(),
        "no form found for {unreached:?} (reached {reached:?})"
    );
    let sent: usize = total.values().sum();
    println!(
        "form fuzz: {} POST routes, {forms_fuzzed} forms in 8 roles plus setup, {sent} generated bodies, statuses {total:?}",
        post_routes.len()
    );
    assert!(
        total.keys().any(|s| *s == 303 || *s == 200),
        "some generated bodies should be accepted: {total:?}"
    );
}
