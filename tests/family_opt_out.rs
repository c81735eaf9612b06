//! Family opt-out per module: the teacher records it, the student sees another activity and
//! cannot start the module, and what the student had answered leaves every report.

mod common;

use common::{Answers, TestEnv};
use rocket::http::Status;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tellwise::db::entities::{attempt, class, response, rollup_head, student};

const MODULE: &str = "fake-profiles";

#[rocket::async_test]
async fn an_opted_out_student_gets_another_activity_and_leaves_the_reports() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Olive Opt").await;
    let other_teacher = env.teacher(&admin, "Otto Other").await;
    let class_id = teacher.create_class("6O", "6-8").await;
    teacher.add_students(class_id, &["Ana", "Ben", "Cy"]).await;
    let assignment_id = teacher.assign(class_id, MODULE).await;
    let (code, cards) = teacher.login_cards(class_id).await;
    let secret = |name: &str| {
        cards
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .expect("card")
    };
    // Ana finished the module before her family's note arrived.
    let ana = env.browser().await;
    ana.student_sign_in(&code, "Ana", &secret("Ana")).await;
    ana.complete_module(MODULE, Answers::AllRight).await;

    let db = &teacher.app().db;
    let ana_id = student::Entity::find()
        .filter(student::Column::DisplayName.eq("Ana"))
        .one(db)
        .await
        .expect("query")
        .expect("Ana")
        .id;
    let school_id = class::Entity::find_by_id(class_id)
        .one(db)
        .await
        .expect("query")
        .expect("class")
        .school_id;
    let heads = rollup_head::Entity::find().all(db).await.expect("heads");
    assert_eq!(heads.iter().map(|h| h.finished - h.vacated).sum::<i32>(), 1);

    let opt_outs = format!("/teacher/classes/{class_id}/opt-outs");
    let ana_field = ana_id.to_string();
    let form = [("student", ana_field.as_str()), ("module", MODULE)];
    // Another teacher cannot record one for this class.
    let refused = other_teacher.post_form(&opt_outs, &form).await;
    assert_eq!(refused.status(), Status::NotFound);
    drop(refused);

    let recorded = teacher.post_form(&opt_outs, &form).await;
    assert_eq!(recorded.status(), Status::SeeOther);
    assert!(common::location(&recorded).ends_with("#opt-outs"));
    drop(recorded);

    // Her answers are gone, and so is her place in the roll-up sums.
    assert_eq!(
        attempt::Entity::find()
            .filter(attempt::Column::StudentId.eq(ana_id))
            .count(db)
            .await
            .expect("count"),
        0
    );
    assert_eq!(response::Entity::find().count(db).await.expect("count"), 0);
    let heads = rollup_head::Entity::find().all(db).await.expect("heads");
    assert_eq!(heads.iter().map(|h| h.finished - h.vacated).sum::<i32>(), 0);
    let participation = tellwise::db::queries::reports::participation(db, &[school_id])
        .await
        .expect("participation");
    assert_eq!(
        participation[&(school_id, MODULE.to_string())].assigned,
        2,
        "Ana is not counted as assigned"
    );

    // The teacher sees the opt-out, and the module's figures are for the two other students.
    let (_, class_page) = teacher.get(&format!("/teacher/classes/{class_id}")).await;
    assert!(class_page.contains("Family opted out"));
    assert!(class_page.contains("0 finished, 0 in progress, 2 not started"));
    let (_, report) = teacher
        .get(&format!(
            "/teacher/classes/{class_id}/assignments/{assignment_id}"
        ))
        .await;
    assert!(report.contains("of 2 students"), "{report}");

    // Ana sees another activity and cannot start the module.
    let (_, home) = ana.get("/student").await;
    assert!(home.contains("A different activity"));
    let (status, page) = ana.get(&format!("/student/modules/{MODULE}")).await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("A different activity for you"));
    assert!(page.contains("Where to get help"));
    assert!(!page.contains("Start the lesson"));
    let start = ana
        .post_form(&format!("/student/modules/{MODULE}/start"), &[])
        .await;
    assert_eq!(start.status(), Status::Forbidden);
    drop(start);
    let (status, page) = ana.get(&format!("/student/modules/{MODULE}/steps/1")).await;
    assert_eq!(status, Status::Forbidden);
    assert!(page.contains("different activity"));
    // Ben is not affected.
    let ben = env.browser().await;
    ben.student_sign_in(&code, "Ben", &secret("Ben")).await;
    let (_, page) = ben.get(&format!("/student/modules/{MODULE}")).await;
    assert!(page.contains("Start the lesson"));

    // Recording it twice changes nothing and says so.
    let again = teacher.post_form(&opt_outs, &form).await;
    assert_eq!(again.status(), Status::Conflict);
    drop(again);

    // Withdrawing: not by another teacher; by the class's teacher, and Ana can start again.
    let opt_out_id = tellwise::db::entities::opt_out::Entity::find()
        .one(db)
        .await
        .expect("query")
        .expect("opt-out")
        .id;
    let withdraw = format!("/teacher/classes/{class_id}/opt-outs/{opt_out_id}/remove");
    let refused = other_teacher.post_form(&withdraw, &[]).await;
    assert_eq!(refused.status(), Status::NotFound);
    drop(refused);
    let withdrawn = teacher.post_form(&withdraw, &[]).await;
    assert_eq!(withdrawn.status(), Status::SeeOther);
    drop(withdrawn);
    let (_, page) = ana.get(&format!("/student/modules/{MODULE}")).await;
    assert!(page.contains("Start the lesson"));
}

#[rocket::async_test]
async fn opt_out_forms_say_what_to_fix() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let teacher = env.teacher(&admin, "Fix It").await;
    let class_id = teacher.create_class("5F", "3-5").await;
    teacher.add_students(class_id, &["Dee"]).await;
    let other_class = teacher.create_class("5G", "3-5").await;
    teacher.add_students(other_class, &["Eli"]).await;
    let db = &teacher.app().db;
    let id_of = |name: &'static str| async move {
        student::Entity::find()
            .filter(student::Column::DisplayName.eq(name))
            .one(db)
            .await
            .expect("query")
            .expect("student")
            .id
            .to_string()
    };
    let (dee, eli) = (id_of("Dee").await, id_of("Eli").await);
    let path = format!("/teacher/classes/{class_id}/opt-outs");
    for (student, module, status, message) in [
        (
            "abc",
            MODULE,
            Status::BadRequest,
            "Choose a student of this class.",
        ),
        (
            eli.as_str(),
            MODULE,
            Status::BadRequest,
            "Choose a student of this class.",
        ),
        (
            dee.as_str(),
            "no-such-module",
            Status::BadRequest,
            "no-such-module",
        ),
    ] {
        let response = teacher
            .post_form(&path, &[("student", student), ("module", module)])
            .await;
        assert_eq!(response.status(), status, "{student} {module}");
        let body = response.into_string().await.unwrap_or_default();
        assert!(body.contains(message), "{student} {module}: {body}");
    }
    let missing = teacher
        .post_form(
            &format!("/teacher/classes/{class_id}/opt-outs/999999/remove"),
            &[],
        )
        .await;
    assert_eq!(missing.status(), Status::NotFound);
}

/// Six students finish; the report covers the first five. One of them is then opted out, and
/// another deleted: neither time may the sixth student move into the figures, or comparing the
/// report before and after would set one student's answers against another's.
#[rocket::async_test]
async fn removing_a_finished_student_never_moves_a_later_one_into_the_report() {
    let env = TestEnv::new().await;
    let teacher = env.admin().await;
    let class_id = teacher.create_class("6R", "6-8").await;
    let names = [
        "Ana", "Ben", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ida", "Jo",
    ];
    teacher.add_students(class_id, &names).await;
    let assignment_id = teacher.assign(class_id, MODULE).await;
    let (code, cards) = teacher.login_cards(class_id).await;
    let finish = |name: &'static str| {
        let secret = cards
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .expect("card");
        let (env, code) = (&env, code.clone());
        async move {
            let student = env.browser().await;
            student.student_sign_in(&code, name, &secret).await;
            student.complete_module(MODULE, Answers::AllRight).await;
        }
    };
    for name in &names[..6] {
        finish(name).await;
    }
    let report_path = format!("/teacher/classes/{class_id}/assignments/{assignment_id}");
    let covered = |html: &str| {
        common::between(html, "These figures cover the first ", " students")
            .map(|n| n.parse::<usize>().expect("a number"))
            .unwrap_or(0)
    };
    let (_, report) = teacher.get(&report_path).await;
    assert_eq!(covered(&report), 5, "the first five of six");

    // Ben's family opts him out after he finished: his group of five is no longer shown, and
    // Flo, the sixth, does not take his place.
    let ben = teacher.student_id("Ben").await.to_string();
    let recorded = teacher
        .post_form(
            &format!("/teacher/classes/{class_id}/opt-outs"),
            &[("student", &ben), ("module", MODULE)],
        )
        .await;
    assert_eq!(recorded.status(), Status::SeeOther);
    drop(recorded);
    let (_, report) = teacher.get(&report_path).await;
    assert_eq!(covered(&report), 0, "nobody moves up into Ben's group");
    assert!(report.contains("No figures yet: they appear once a whole group of 5"));
    assert!(report.contains("stays out of the figures"));

    // Four more finish: Flo with them makes a whole new group of five, shown on its own.
    for name in &names[6..] {
        finish(name).await;
    }
    let (_, report) = teacher.get(&report_path).await;
    assert_eq!(covered(&report), 5, "the second group, Flo to Jo");

    // Deleting Gus's records takes the second group out as well, and brings nobody back.
    let gus = teacher.student_id("Gus").await;
    let deleted = teacher
        .post_form(
            &format!("/teacher/classes/{class_id}/students/{gus}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(deleted.status(), Status::SeeOther);
    drop(deleted);
    let (_, report) = teacher.get(&report_path).await;
    assert_eq!(covered(&report), 0);
}
