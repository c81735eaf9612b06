//! The full curriculum through the pages: every module in English and in Spanish, knowledge
//! checks before and after, the feed, reply and sort activities without JavaScript, the
//! language choice, the family page and the teacher's module guide.

mod common;

use common::{Answers, Browser, TestEnv, answer_fields, csrf_in, reply_path_to};
use rocket::http::Status;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tellwise::curriculum::{Language, StepKind};
use tellwise::db::entities::response;

/// A class of one student with these modules assigned; returns the signed-in student.
async fn student_with(env: &TestEnv, language: &str, modules: &[&str]) -> (Browser, Browser) {
    let admin = env.admin().await;
    let response = admin
        .post_form(
            "/teacher/classes",
            &[("name", "Room 1"), ("tier", "6-8"), ("language", language)],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let class_id = common::id_from(&common::location(&response));
    drop(response);
    admin.add_students(class_id, &["Ana"]).await;
    for module in modules {
        admin.assign(class_id, module).await;
    }
    let (code, cards) = admin.login_cards(class_id).await;
    let student = env.browser().await;
    student.student_sign_in(&code, "Ana", &cards[0].1).await;
    (admin, student)
}

fn slugs(env_app: &tellwise::App) -> Vec<String> {
    env_app
        .curriculum
        .modules()
        .iter()
        .map(|m| m.slug.clone())
        .collect()
}

async fn choose_language(browser: &Browser, lang: &str, back: &str) {
    let response = browser
        .post_form("/language", &[("lang", lang), ("back", back)])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(common::location(&response), back);
}

#[rocket::async_test]
async fn every_module_can_be_taken_in_english_and_in_spanish() {
    let env = TestEnv::new().await;
    let all = {
        let probe = env.browser().await;
        slugs(probe.app())
    };
    assert!(all.len() >= 20);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    for language in [Language::En, Language::Es] {
        // The student answers every step of every module in seconds, far faster than anyone
        // can: lift the per-account budget of changes.
        let env = TestEnv::with(|f| f.merge(("writes_per_minute", 100_000))).await;
        let (_, student) = student_with(&env, "en", &refs).await;
        choose_language(&student, language.code(), "/student").await;
        let (_, home) = student.get("/student").await;
        for slug in &all {
            let module = student
                .app()
                .curriculum
                .get_in(slug, language)
                .expect("module")
                .clone();
            assert!(
                home.contains(&common::unescape_html_safe(&module.title)),
                "{slug} listed in {language:?}"
            );
            student.complete_module(slug, Answers::AllRight).await;
            let (_, first_step) = student
                .get(&format!("/student/modules/{slug}/steps/1"))
                .await;
            assert!(first_step.contains(&format!("<html lang=\"{}\">", language.code())));
        }
    }
}

#[rocket::async_test]
async fn knowledge_checks_come_first_without_feedback_and_both_answers_are_kept() {
    let env = TestEnv::new().await;
    let slug = "how-grooming-works";
    let (_, student) = student_with(&env, "en", &[slug]).await;
    let module = student.app().curriculum.get(slug).expect("module").clone();
    let checks = module.check_steps();

    let start = student
        .post_form(&format!("/student/modules/{slug}/start"), &[])
        .await;
    assert_eq!(
        common::location(&start),
        format!("/student/modules/{slug}/before/1")
    );
    let (status, html) = student
        .get(&format!("/student/modules/{slug}/before/1"))
        .await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("We will ask again at the end"));
    let StepKind::Question(first) = &module.steps[checks[0]].kind else {
        panic!("a check is a question");
    };
    for option in &first.options {
        assert!(
            !html.contains(&common::unescape_html_safe(&option.feedback)),
            "no feedback before the lesson"
        );
    }
    // The lesson cannot be opened before the checks are answered.
    let response = student
        .get_response(&format!("/student/modules/{slug}/steps/1"))
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(
        common::location(&response),
        format!("/student/modules/{slug}/before/1")
    );
    // A wrong guess with an unknown option is refused and saves nothing.
    let response = student
        .post_form(
            &format!("/student/modules/{slug}/before/1"),
            &[("choice", "no-such-option")],
        )
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);

    student
        .complete_module_with(slug, Answers::AllWrong, Answers::AllRight)
        .await;
    // After the lesson began, the "before" questions are closed.
    let response = student
        .post_form(
            &format!("/student/modules/{slug}/before/1"),
            &[("choice", "x")],
        )
        .await;
    assert_eq!(response.status(), Status::Conflict);

    let rows = response::Entity::find()
        .all(&student.app().db)
        .await
        .expect("responses");
    for &index in &checks {
        let id = &module.steps[index].id;
        let pre: Vec<_> = rows
            .iter()
            .filter(|r| &r.step_id == id && r.phase == "pre")
            .collect();
        let main: Vec<_> = rows
            .iter()
            .filter(|r| &r.step_id == id && r.phase == "main")
            .collect();
        assert_eq!((pre.len(), main.len()), (1, 1), "{id} answered twice");
        assert!(
            !pre[0].correct && main[0].correct,
            "{id}: wrong before, right after"
        );
    }
    // The score counts the lesson's answers only, not the guesses before it.
    let attempt = tellwise::db::entities::attempt::Entity::find()
        .one(&student.app().db)
        .await
        .expect("query")
        .expect("attempt");
    assert_eq!(attempt.score_correct, attempt.score_total);
    // Kept on the attempt for roll-ups: every check wrong before, right after.
    let total = checks.len() as i32;
    assert_eq!(
        (
            attempt.check_total,
            attempt.check_before_correct,
            attempt.check_after_correct
        ),
        (Some(total), Some(0), Some(total))
    );
}

/// Works through the steps before `index`, answering everything right.
async fn reach_step(student: &Browser, slug: &str, index: usize) {
    let module = student.app().curriculum.get(slug).expect("module").clone();
    let start = student
        .post_form(&format!("/student/modules/{slug}/start"), &[])
        .await;
    student
        .answer_checks_before(slug, common::location(&start), Answers::AllRight)
        .await;
    for (i, step) in module.steps.iter().enumerate().take(index) {
        let fields = answer_fields(step, Answers::AllRight);
        let fields = common::as_refs(&fields);
        let response = student
            .post_form(&format!("/student/modules/{slug}/steps/{}", i + 1), &fields)
            .await;
        assert_eq!(response.status(), Status::SeeOther);
    }
}

#[rocket::async_test]
async fn feed_sort_and_reply_work_as_plain_forms_and_links() {
    let slug = "when-in-doubt-talk-it-out";
    let env = TestEnv::new().await;
    let (_, student) = student_with(&env, "en", &[slug]).await;
    let module = student.app().curriculum.get(slug).expect("module").clone();
    let position = |kind: &str| {
        module
            .steps
            .iter()
            .position(|s| s.kind.name() == kind)
            .unwrap_or_else(|| panic!("{slug} has a {kind}"))
    };
    let (sort_at, feed_at, reply_at) = (position("sort"), position("feed"), position("reply"));
    let last = sort_at.max(feed_at).max(reply_at);
    reach_step(&student, slug, 0).await;
    for index in 0..=last {
        let path = format!("/student/modules/{slug}/steps/{}", index + 1);
        let step = &module.steps[index];
        match &step.kind {
            StepKind::Sort(sort) => {
                // One item left out: refused with a message, nothing saved.
                let fields: Vec<(String, String)> = sort
                    .items
                    .iter()
                    .skip(1)
                    .map(|i| (format!("sort[{}]", i.id), i.bucket.clone()))
                    .collect();
                let refs = common::as_refs(&fields);
                let response = student.post_form(&path, &refs).await;
                assert_eq!(response.status(), Status::UnprocessableEntity);
                let html = response.into_string().await.unwrap_or_default();
                assert!(html.contains("Put every item in a box"));
                // Every item in the wrong box: saved, and the right box is shown.
                let wrong = answer_fields(step, Answers::AllWrong);
                let refs = common::as_refs(&wrong);
                assert_eq!(
                    student.post_form(&path, &refs).await.status(),
                    Status::SeeOther
                );
                let (_, html) = student.get(&path).await;
                assert!(html.contains("It goes in:"));
                assert!(html.contains(&common::unescape_html_safe(&sort.items[0].feedback)));
            }
            StepKind::Feed(feed) => {
                let (_, html) = student.get(&path).await;
                assert!(html.contains("type=\"checkbox\" name=\"choice\""));
                let response = student.post_form(&path, &[("choice", "not-a-post")]).await;
                assert_eq!(response.status(), Status::UnprocessableEntity);
                let red: Vec<&str> = feed.red_flags().into_iter().collect();
                let response = student.post_form(&path, &[("choice", red[0])]).await;
                assert_eq!(response.status(), Status::SeeOther);
                let (_, html) = student.get(&path).await;
                for post in &feed.posts {
                    assert!(html.contains(&common::unescape_html_safe(&post.reason)));
                }
            }
            StepKind::Reply(reply) => {
                let first = &reply.nodes[0];
                let (_, html) = student.get(&path).await;
                assert!(html.contains(&common::unescape_html_safe(&first.replies[0].text)));
                // Following the first reply is a plain link; the story goes on.
                let next = reply.node(&first.replies[0].next).expect("next node");
                let (status, html) = student.get(&format!("{path}?path=0")).await;
                assert_eq!(status, Status::Ok);
                if let Some(line) = next.say.first() {
                    assert!(html.contains(&common::unescape_html_safe(line)));
                }
                // Saving before an ending is refused; a nonsense path too.
                for bad in ["", "9.9", "x"] {
                    let response = student.post_form(&path, &[("path", bad)]).await;
                    assert_eq!(response.status(), Status::UnprocessableEntity, "{bad:?}");
                }
                let risky = reply_path_to(reply, false).expect("a risky ending");
                let response = student.post_form(&path, &[("path", &risky)]).await;
                assert_eq!(response.status(), Status::SeeOther);
                let (_, html) = student.get(&path).await;
                assert!(html.contains("Think again"));
                // The saved ending stands: a second, safe path changes nothing.
                let safe = reply_path_to(reply, true).expect("a safe ending");
                student.post_form(&path, &[("path", &safe)]).await;
                let (_, html) = student.get(&path).await;
                assert!(html.contains("Think again"));
            }
            _ => {
                let fields = answer_fields(step, Answers::AllRight);
                let refs = common::as_refs(&fields);
                assert_eq!(
                    student.post_form(&path, &refs).await.status(),
                    Status::SeeOther
                );
            }
        }
    }
    let stored = response::Entity::find()
        .filter(response::Column::StepId.eq(module.steps[reply_at].id.clone()))
        .all(&student.app().db)
        .await
        .expect("query");
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].correct, "the risky ending was kept");
}

#[rocket::async_test]
async fn the_class_language_is_the_default_and_a_student_can_switch() {
    let env = TestEnv::new().await;
    let slug = "fake-profiles";
    let (_, student) = student_with(&env, "es", &[slug]).await;
    let (_, home) = student.get("/student").await;
    assert!(home.contains("<html lang=\"es\">"));
    assert!(home.contains("Mis lecciones"));
    let spanish = student
        .app()
        .curriculum
        .get_in(slug, Language::Es)
        .expect("module");
    assert!(home.contains(&common::unescape_html_safe(&spanish.title)));
    // A problem is explained in the student's language.
    let start = student
        .post_form(&format!("/student/modules/{slug}/start"), &[])
        .await;
    let response = student.post_form(&common::location(&start), &[]).await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let html = response.into_string().await.unwrap_or_default();
    assert!(html.contains("Elige una respuesta"), "{html}");
    // Error pages too.
    let (status, html) = student.get("/student/modules/no-such-module").await;
    assert_eq!(status, Status::NotFound);
    assert!(html.contains("No encontramos la página"), "{html}");

    choose_language(&student, "en", "/student").await;
    let (_, home) = student.get("/student").await;
    assert!(home.contains("<html lang=\"en\">") && home.contains("My lessons"));
    let english = student.app().curriculum.get(slug).expect("module");
    assert!(home.contains(&common::unescape_html_safe(&english.title)));

    // Only languages Tellwise speaks, and only back to a page on this site.
    let response = student
        .post_form("/language", &[("lang", "fr"), ("back", "/student")])
        .await;
    assert_eq!(response.status(), Status::BadRequest);
    for outside in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let response = student
            .post_form("/language", &[("lang", "es"), ("back", outside)])
            .await;
        assert_eq!(common::location(&response), "/", "{outside}");
    }
    // Before signing in, the language switch works on the sign-in page too.
    let visitor = env.browser().await;
    choose_language(&visitor, "es", "/student/login").await;
    let (_, login) = visitor.get("/student/login").await;
    assert!(login.contains("Entrada de estudiantes"));
    let (_, help) = visitor.get("/help").await;
    assert!(help.contains("Pedir ayuda") && help.contains("1-888-373-7888"));
}

#[rocket::async_test]
async fn families_get_a_printable_page_and_teachers_a_guide() {
    let env = TestEnv::new().await;
    let visitor = env.browser().await;
    let slug = "financial-sextortion";
    let module = visitor.app().curriculum.get(slug).expect("module").clone();
    let (status, html) = visitor.get(&format!("/family/{slug}?lang=en")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("What we learned") && html.contains("How to talk about it at home"));
    assert!(html.contains(&common::unescape_html_safe(&module.help[0].name)));
    let (_, html) = visitor.get(&format!("/family/{slug}?lang=es")).await;
    assert!(html.contains("<html lang=\"es\">") && html.contains("Lo que aprendimos"));
    assert_eq!(
        visitor.get("/family/no-such-module").await.0,
        Status::NotFound
    );

    // The guide is for staff only.
    let (status, _) = visitor.get(&format!("/teacher/modules/{slug}")).await;
    assert!(status == Status::SeeOther || status == Status::Unauthorized);
    let admin = env.admin().await;
    let (status, catalogue) = admin.get("/teacher/modules").await;
    assert_eq!(status, Status::Ok);
    for tier in ["Grades K-2", "Grades 3-5", "Grades 6-8", "Grades 9-12"] {
        assert!(catalogue.contains(tier));
    }
    let (status, guide) = admin.get(&format!("/teacher/modules/{slug}")).await;
    assert_eq!(status, Status::Ok);
    assert!(guide.contains("Do not promise to keep it secret"));
    assert!(guide.contains("designated counselor"));
    assert!(guide.contains(&format!("/family/{slug}?lang=es")));
    assert!(guide.contains("(knowledge check)"));
}

#[rocket::async_test]
async fn every_student_step_offers_read_aloud_without_needing_it() {
    let env = TestEnv::new().await;
    let slug = "my-trusted-adults";
    let (_, student) = student_with(&env, "en", &[slug]).await;
    let (_, page) = student.get(&format!("/student/modules/{slug}")).await;
    assert!(page.contains("data-read-aloud"));
    // The button is hidden until the script finds speech synthesis; pages work without it.
    assert!(page.contains("class=\"read-aloud\" hidden"));
    assert!(page.contains("<script src=\"/static/app.js\" defer></script>"));
    let (status, script) = student.get("/static/app.js").await;
    assert_eq!(status, Status::Ok);
    assert!(script.contains("speechSynthesis"));
    reach_step(&student, slug, 0).await;
    let (_, step) = student
        .get(&format!("/student/modules/{slug}/steps/1"))
        .await;
    assert!(step.contains("data-read-aloud=\"#read-this\""));
}

/// Check and step pages not yet answered are rendered once per server and then served from
/// memory: each student still gets their own CSRF token, address and language, and never
/// another student's answer.
#[rocket::async_test]
async fn pages_rendered_once_still_carry_each_students_own_token_language_and_answer() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Room 2", "6-8").await;
    admin.add_students(class_id, &["Ana", "Ben", "Cruz"]).await;
    admin.assign(class_id, "fake-profiles").await;
    let (code, cards) = admin.login_cards(class_id).await;
    let server = env.shared_server().await;
    let mut students = Vec::new();
    for (name, secret) in &cards {
        let student = server.visitor();
        let sign_in = [("code", code.as_str()), ("name", name), ("secret", secret)];
        let (status, _) = student
            .post_form("/student/login", "/student/login", &sign_in)
            .await;
        assert_eq!(status, Status::SeeOther);
        let (status, _) = student
            .post_form("/help", "/student/modules/fake-profiles/start", &[])
            .await;
        assert_eq!(status, Status::SeeOther);
        students.push(student);
    }
    let own_token = |html: &str| csrf_in(html).expect("pages carry a CSRF token");
    let check = "/student/modules/fake-profiles/before/1";
    let (_, first) = students[0].get(check).await;
    // Another address for the same page: the language switch must send Ben back to his own.
    let (_, second) = students[1].get(&format!("{check}?from=x")).await;
    let (first_token, second_token) = (own_token(&first), own_token(&second));
    assert_eq!(first_token, own_token(&students[0].get("/help").await.1));
    assert_eq!(second_token, own_token(&students[1].get("/help").await.1));
    assert_ne!(first_token, second_token);
    assert_eq!(
        second.matches(&second_token).count(),
        4,
        "in the head, the answer form, the sign-out form and the language switch"
    );
    let own_back = format!("name=\"back\" value=\"{check}?from&#x3D;x\"");
    assert!(
        second.contains(&own_back),
        "Ben goes back to his own address"
    );
    assert_eq!(
        first.replace(&first_token, "TOKEN"),
        second
            .replace(&second_token, "TOKEN")
            .replace(&own_back, &format!("name=\"back\" value=\"{check}\"")),
        "the same question for both"
    );

    // The token in the page served from memory is the one that saves the answer.
    let module = admin
        .app()
        .curriculum
        .get("fake-profiles")
        .expect("module")
        .clone();
    let checks = module.check_steps();
    let fields = answer_fields(&module.steps[checks[0]], Answers::AllRight);
    let (status, location) = students[1]
        .post_form(check, check, &common::as_refs(&fields))
        .await;
    assert_eq!(status, Status::SeeOther, "answer saved");
    assert_eq!(location, "/student/modules/fake-profiles/before/2");

    // The same page in Spanish for a student who reads Spanish.
    let choice = [("lang", "es"), ("back", check)];
    let (status, _) = students[2].post_form("/help", "/language", &choice).await;
    assert_eq!(status, Status::SeeOther);
    let (_, spanish) = students[2].get(check).await;
    let StepKind::Question(question) = &admin
        .app()
        .curriculum
        .get_in("fake-profiles", Language::Es)
        .expect("module")
        .steps[checks[0]]
        .kind
    else {
        panic!("knowledge checks are questions");
    };
    assert!(spanish.contains("<html lang=\"es\">"));
    assert!(spanish.contains(&common::unescape_html_safe(&question.prompt)));
    assert_eq!(
        own_token(&spanish),
        own_token(&students[2].get("/help").await.1)
    );

    // A question answered shows that student's answer and its feedback; another student who
    // has not answered it yet still gets the form.
    let number = 1 + module
        .steps
        .iter()
        .position(|step| matches!(step.kind, StepKind::Question(_)))
        .expect("the module asks a question");
    for student in &students[..2] {
        // Ben answered the first check already: his repeat keeps that answer.
        for (n, &index) in checks.iter().enumerate() {
            let fields = answer_fields(&module.steps[index], Answers::AllWrong);
            let path = format!("/student/modules/fake-profiles/before/{}", n + 1);
            let (status, _) = student
                .post_form("/help", &path, &common::as_refs(&fields))
                .await;
            assert_eq!(status, Status::SeeOther, "{path}");
        }
        for (i, step) in module.steps[..number - 1].iter().enumerate() {
            let fields = answer_fields(step, Answers::AllRight);
            let path = format!("/student/modules/fake-profiles/steps/{}", i + 1);
            let (status, _) = student
                .post_form("/help", &path, &common::as_refs(&fields))
                .await;
            assert_eq!(status, Status::SeeOther, "{path}");
        }
    }
    let step_path = format!("/student/modules/fake-profiles/steps/{number}");
    let (_, before_answering) = students[0].get(&step_path).await;
    let fields = answer_fields(&module.steps[number - 1], Answers::AllWrong);
    let (status, _) = students[0]
        .post_form(&step_path, &step_path, &common::as_refs(&fields))
        .await;
    assert_eq!(status, Status::SeeOther);
    let (_, answered) = students[0].get(&step_path).await;
    let (_, unanswered) = students[1].get(&step_path).await;
    let StepKind::Question(question) = &module.steps[number - 1].kind else {
        unreachable!("found above")
    };
    let wrong = question
        .options
        .iter()
        .find(|option| !option.correct)
        .expect("a wrong option");
    let feedback = common::unescape_html_safe(&wrong.feedback);
    assert!(
        answered.contains(&feedback),
        "Ana sees her answer's feedback"
    );
    assert!(
        !unanswered.contains(&feedback),
        "Ben does not see Ana's answer"
    );
    let form = format!("<form method=\"post\" action=\"{step_path}\"");
    assert!(unanswered.contains(&form));
    assert_eq!(
        unanswered.replace(&own_token(&unanswered), "TOKEN"),
        before_answering.replace(&own_token(&before_answering), "TOKEN"),
    );
}
