//! What a teacher sees: the class dashboard with every student's status and overdue counts, the
//! module report with the most common wrong answers, knowledge gain and SVG charts, the CSV
//! exports and the printable class summary; all of it hidden below the minimum group size.

mod common;

use common::{Answers, Browser, TestEnv};
use rocket::http::Status;

const MODULE: &str = "how-grooming-works";

/// A class of `n` students who each finish the module, guessing wrong on every knowledge check
/// before the lesson and answering everything right (or wrong) in it.
async fn class_that_finished(env: &TestEnv, n: usize, during: Answers) -> (Browser, i32, i32) {
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 7", "6-8").await;
    let names: Vec<String> = (1..=n).map(|i| format!("Student {i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    admin.add_students(class_id, &refs).await;
    let assignment_id = admin.assign(class_id, MODULE).await;
    let (code, cards) = admin.login_cards(class_id).await;
    for (name, secret) in &cards {
        let student = env.browser().await;
        student.student_sign_in(&code, name, secret).await;
        student
            .complete_module_with(MODULE, Answers::AllWrong, during)
            .await;
    }
    (admin, class_id, assignment_id)
}

#[rocket::async_test]
async fn the_report_shows_knowledge_gain_misconceptions_and_charts() {
    let env = TestEnv::new().await;
    let (admin, class_id, assignment_id) = class_that_finished(&env, 5, Answers::AllRight).await;
    let base = format!("/teacher/classes/{class_id}/assignments/{assignment_id}");
    let (status, html) = admin.get(&base).await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains(
            "<strong>0%</strong> correct before the lesson,\n<strong>100%</strong> after it"
        ),
        "{html}"
    );
    assert!(html.contains("change: 100 points; 5 students compared"));
    // Charts are SVG with a title and a description, and the figures are also in tables.
    assert!(html.contains("<svg viewBox=\"0 0 600"));
    assert!(html.contains("<title id=\"gain-title\">Share correct on each knowledge check"));
    assert!(html.contains("<desc id=\"facility-desc\">"));
    assert!(html.contains("<caption>Knowledge checks before and after the lesson</caption>"));
    assert!(html.contains("<caption>First-attempt scores</caption>"));
    // Everyone right: no wrong answer to re-teach.
    assert!(!html.contains("Most common wrong answer"));

    let (status, csv) = admin.get(&format!("{base}/results.csv")).await;
    assert_eq!(status, Status::Ok);
    assert!(
        csv.contains("knowledge gain,students compared,,5,,"),
        "{csv}"
    );
    assert!(
        csv.contains("knowledge gain,all checks,before the lesson,,0,"),
        "{csv}"
    );
    assert!(
        csv.contains("knowledge gain,all checks,after the lesson,,100,"),
        "{csv}"
    );
    assert!(csv.contains("score band,90-100%,,5,100,"), "{csv}");
    assert!(csv.contains("conversation ending,"), "{csv}");
    assert!(csv.contains("sort right,"), "{csv}");
}

#[rocket::async_test]
async fn the_most_common_wrong_answer_is_shown_with_its_feedback() {
    let env = TestEnv::new().await;
    let (admin, class_id, assignment_id) = class_that_finished(&env, 5, Answers::AllWrong).await;
    let (_, html) = admin
        .get(&format!(
            "/teacher/classes/{class_id}/assignments/{assignment_id}"
        ))
        .await;
    let module = admin.app().curriculum.get(MODULE).expect("module").clone();
    let (_, first) = module.questions().next().expect("a question");
    // Every student picked the first wrong option (see `common::answer_fields`).
    let wrong = first
        .options
        .iter()
        .find(|o| !o.correct)
        .expect("a wrong option");
    assert!(
        html.contains("Most common wrong answer</strong> (100%)"),
        "{html}"
    );
    assert!(html.contains(&common::unescape_html_safe(&wrong.feedback)));
    assert!(html.contains("0% reached a safe ending"));
    // No knowledge gained: all wrong before and after.
    assert!(html.contains("(change: 0 points; 5 students compared)"));
}

#[rocket::async_test]
async fn nothing_is_shown_for_fewer_students_than_the_minimum() {
    let env = TestEnv::new().await;
    let (admin, class_id, assignment_id) = class_that_finished(&env, 4, Answers::AllWrong).await;
    let base = format!("/teacher/classes/{class_id}/assignments/{assignment_id}");
    let (_, html) = admin.get(&base).await;
    assert!(
        html.contains("Not enough students have answered the knowledge checks both times yet.")
    );
    assert!(!html.contains("<svg"), "no chart of a small group");
    assert!(!html.contains("Most common wrong answer"));
    let (_, csv) = admin.get(&format!("{base}/results.csv")).await;
    assert!(
        csv.contains("knowledge gain,students compared,,,,not enough responses yet"),
        "{csv}"
    );
    assert!(!csv.contains("score band"));
    let (_, summary) = admin
        .get(&format!("/teacher/classes/{class_id}/summary"))
        .await;
    assert!(summary.contains("not enough yet"));
    assert!(summary.contains("4 of 4 (100%)"));
}

#[rocket::async_test]
async fn the_dashboard_shows_each_students_status_and_what_is_overdue() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 8", "6-8").await;
    admin.add_students(class_id, &["Ana", "Ben"]).await;
    let response = admin
        .post_form(
            &format!("/teacher/classes/{class_id}/assignments"),
            &[("module", MODULE), ("due_on", "2020-01-31")],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    admin.assign(class_id, "fake-profiles").await;
    let (code, cards) = admin.login_cards(class_id).await;
    let ana = env.browser().await;
    ana.student_sign_in(&code, "Ana", &cards[0].1).await;
    ana.complete_module(MODULE, Answers::AllRight).await;

    let (status, html) = admin.get(&format!("/teacher/classes/{class_id}")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("1 finished, 0 in progress, 1 not started · <span class=\"status-overdue\">1 overdue</span>"), "{html}");
    // The progress bar is drawn in three parts: finished, in progress, not started.
    assert!(
        html.contains("<rect width=\"50\" height=\"4\" class=\"finished\">"),
        "{html}"
    );
    assert!(
        html.contains("<rect x=\"50\" width=\"0\" height=\"4\" class=\"started\">"),
        "{html}"
    );
    let row = |name: &str| {
        common::between(&html, &format!("<th scope=\"row\">{name}</th>"), "</tr>").expect("a row")
    };
    assert!(row("Ana").contains("Finished"));
    assert!(row("Ben").contains("Not started <span class=\"status-overdue\">overdue</span>"));

    let (status, csv) = admin
        .get(&format!("/teacher/classes/{class_id}/progress.csv"))
        .await;
    assert_eq!(status, Status::Ok);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "student,How grooming works (due 2020-01-31),Fake profiles"
    );
    assert!(lines.contains(&"Ana,Finished,Not started"), "{csv}");
    assert!(
        lines.contains(&"Ben,\"Not started, overdue\",Not started"),
        "{csv}"
    );

    // Another teacher sees none of it.
    let other = env.teacher(&admin, "Other Teacher").await;
    for path in [
        format!("/teacher/classes/{class_id}/progress.csv"),
        format!("/teacher/classes/{class_id}/summary"),
    ] {
        assert_eq!(other.get(&path).await.0, Status::NotFound, "{path}");
    }
}

/// A name typed like a formula stays text when the progress CSV is opened in a spreadsheet.
#[rocket::async_test]
async fn names_in_csv_exports_never_become_spreadsheet_formulas() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Formulas", "6-8").await;
    admin
        .add_students(
            class_id,
            &["=HYPERLINK(\"http://x.test\",\"y\")", "-Kai", "Mary-Jo"],
        )
        .await;
    admin.assign(class_id, MODULE).await;
    let (status, csv) = admin
        .get(&format!("/teacher/classes/{class_id}/progress.csv"))
        .await;
    assert_eq!(status, Status::Ok);
    let firsts: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap_or(""))
        .collect();
    assert!(
        firsts.iter().any(|c| c.starts_with("\"'=HYPERLINK")),
        "{csv}"
    );
    assert!(firsts.contains(&"'-Kai"), "{csv}");
    assert!(firsts.contains(&"Mary-Jo"), "{csv}");
}

/// In the chat and feed simulations the report gives, for each red flag, the share of students
/// who caught it and, for each harmless message, the share who flagged it anyway.
#[rocket::async_test]
async fn simulations_show_who_caught_each_red_flag_and_who_flagged_harmless_messages() {
    use tellwise::curriculum::StepKind;
    const SIMULATIONS: &str = "red-flags-in-private-messages";
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 9", "6-8").await;
    admin
        .add_students(class_id, &["Ada", "Ben", "Cai", "Dee", "Eve"])
        .await;
    let assignment_id = admin.assign(class_id, SIMULATIONS).await;
    let module = admin
        .app()
        .curriculum
        .get(SIMULATIONS)
        .expect("module")
        .clone();
    let (code, cards) = admin.login_cards(class_id).await;
    // Three students flag every message; two flag exactly the red flags.
    for (n, (name, secret)) in cards.iter().enumerate() {
        let flag_everything = n < 3;
        let student = env.browser().await;
        student.student_sign_in(&code, name, secret).await;
        let start = student
            .post_form(&format!("/student/modules/{SIMULATIONS}/start"), &[])
            .await;
        let location = common::location(&start);
        drop(start);
        student
            .answer_checks_before(SIMULATIONS, location, Answers::AllRight)
            .await;
        for (index, step) in module.steps.iter().enumerate() {
            let everything: Vec<String> = match &step.kind {
                StepKind::Chat(chat) => chat
                    .messages
                    .iter()
                    .filter(|m| m.from_them)
                    .map(|m| m.id.clone())
                    .collect(),
                StepKind::Feed(feed) => feed.posts.iter().map(|p| p.id.clone()).collect(),
                _ => Vec::new(),
            };
            let fields = if flag_everything && !everything.is_empty() {
                everything
                    .into_iter()
                    .map(|id| ("choice".to_string(), id))
                    .collect()
            } else {
                common::answer_fields(step, Answers::AllRight)
            };
            let path = format!("/student/modules/{SIMULATIONS}/steps/{}", index + 1);
            let response = student.post_form(&path, &common::as_refs(&fields)).await;
            assert_eq!(response.status(), Status::SeeOther, "{path} saved");
        }
    }

    let (status, html) = admin
        .get(&format!(
            "/teacher/classes/{class_id}/assignments/{assignment_id}"
        ))
        .await;
    assert_eq!(status, Status::Ok);
    let document = scraper::Html::parse_document(&html);
    let rows = scraper::Selector::parse("#simulations ~ article tbody tr, article tbody tr")
        .expect("selector");
    let cell = scraper::Selector::parse("td").expect("selector");
    let (mut red_flags, mut harmless) = (0, 0);
    for row in document.select(&rows) {
        let cells: Vec<String> = row
            .select(&cell)
            .map(|c| c.text().collect::<String>().trim().to_string())
            .collect();
        match cells.get(1).map(String::as_str) {
            Some("Yes: caught by") => {
                red_flags += 1;
                assert!(cells[2].ends_with("100% (5)"), "{cells:?}");
            }
            Some("No: flagged anyway by") => {
                harmless += 1;
                assert!(cells[2].ends_with("60% (3)"), "{cells:?}");
            }
            _ => {}
        }
    }
    let expected = |red: bool| {
        module
            .steps
            .iter()
            .map(|step| match &step.kind {
                StepKind::Chat(chat) => chat
                    .messages
                    .iter()
                    .filter(|m| m.from_them && m.red_flag == red)
                    .count(),
                StepKind::Feed(feed) => feed.posts.iter().filter(|p| p.red_flag == red).count(),
                _ => 0,
            })
            .sum::<usize>()
    };
    assert_eq!((red_flags, harmless), (expected(true), expected(false)));
    assert!(
        red_flags > 0 && harmless > 0,
        "both kinds are in the module"
    );
}
