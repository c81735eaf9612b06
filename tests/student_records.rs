//! A family's records request: everything stored about one student downloads as JSON, and
//! deleting the student leaves nothing linked to them in any table.

mod common;

use common::{Answers, TestEnv};
use rocket::http::Status;
use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait, Statement};
use tellwise::db::entities::{
    assignment, attempt, audit_event, class, opt_out, partner_school, response, rollup_archive,
    rollup_entry, rollup_head, school, student, user,
};

const MODULE: &str = "fake-profiles";

/// Every table in the database, as the database lists them.
async fn table_names(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        DatabaseBackend::Postgres => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'"
        }
        _ => {
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE()"
        }
    };
    let mut names: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("tables")
        .into_iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("name"))
        .filter(|name| name != "seaql_migrations")
        .collect();
    names.sort();
    names
}

/// Every row of every table, printed.
async fn every_row(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    macro_rules! rows {
        ($($entity:path),*) => {{
            let mut rows = Vec::new();
            $(rows.extend(<$entity>::find().all(db).await.expect("rows").iter().map(|r| format!("{r:?}")));)*
            rows
        }};
    }
    rows!(
        school::Entity,
        user::Entity,
        audit_event::Entity,
        class::Entity,
        student::Entity,
        assignment::Entity,
        attempt::Entity,
        response::Entity,
        partner_school::Entity,
        rollup_head::Entity,
        rollup_entry::Entity,
        rollup_archive::Entity,
        opt_out::Entity
    )
}

#[rocket::async_test]
async fn a_students_records_download_and_delete_without_a_trace() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let school = admin.create_school("Records Middle").await;
    let teacher = env.staff(&admin, "Rhea Records", "teacher", school).await;
    let stranger = env.staff(&admin, "Stan Stranger", "teacher", school).await;
    let class_id = teacher.create_class("7R", "6-8").await;
    teacher.add_students(class_id, &["Mira K", "Noah L"]).await;
    teacher.assign(class_id, MODULE).await;
    let (code, cards) = teacher.login_cards(class_id).await;
    for (name, secret) in &cards {
        let student = env.browser().await;
        student.student_sign_in(&code, name, secret).await;
        student.complete_module(MODULE, Answers::AllRight).await;
    }
    let db = &teacher.app().db;
    let mira = student::Entity::find()
        .all(db)
        .await
        .expect("students")
        .into_iter()
        .find(|s| s.display_name == "Mira K")
        .expect("Mira");
    let opt = teacher
        .post_form(
            &format!("/teacher/classes/{class_id}/opt-outs"),
            &[
                ("student", &mira.id.to_string()),
                ("module", "block-and-report"),
            ],
        )
        .await;
    assert_eq!(opt.status(), Status::SeeOther);
    drop(opt);

    let page = format!("/teacher/classes/{class_id}/students/{}", mira.id);
    let (_, class_page) = teacher.get(&format!("/teacher/classes/{class_id}")).await;
    assert!(class_page.contains(&format!("href=\"{page}\"")));
    let (status, html) = teacher.get(&page).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Mira K") && html.contains("Finished"));

    // The download holds everything stored about her, and nothing about Noah.
    let response = teacher.get_response(&format!("{page}/export.json")).await;
    assert_eq!(response.status(), Status::Ok);
    assert!(
        response
            .headers()
            .get_one("Content-Disposition")
            .is_some_and(|d| d.starts_with("attachment"))
    );
    let export: serde_json::Value =
        serde_json::from_str(&response.into_string().await.unwrap_or_default()).expect("JSON");
    assert_eq!(export["student"]["display_name"], "Mira K");
    assert_eq!(export["student"]["secret_words"], mira.secret.as_str());
    let modules = export["modules"].as_array().expect("modules");
    assert_eq!(modules.len(), 1);
    assert_eq!(modules[0]["module"], MODULE);
    let stored_answers = tellwise::db::entities::response::Entity::find()
        .all(db)
        .await
        .expect("answers")
        .len();
    assert_eq!(
        modules[0]["answers"].as_array().expect("answers").len() * 2,
        stored_answers,
        "her answers are half of all answers (two students, same answers)"
    );
    assert_eq!(export["family_opt_outs"][0]["module"], "block-and-report");
    assert!(!export.to_string().contains("Noah"));

    // Another teacher of the school cannot see or delete her.
    for path in [page.clone(), format!("{page}/export.json")] {
        assert_eq!(stranger.get(&path).await.0, Status::NotFound, "{path}");
    }
    let refused = stranger
        .post_form(&format!("{page}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(refused.status(), Status::NotFound);
    drop(refused);
    // Deleting needs the confirmation.
    let unconfirmed = teacher.post_form(&format!("{page}/delete"), &[]).await;
    assert_eq!(unconfirmed.status(), Status::BadRequest);
    assert!(
        unconfirmed
            .into_string()
            .await
            .unwrap_or_default()
            .contains("Tick the box")
    );
    assert!(every_row(db).await.iter().any(|row| row.contains("Mira K")));

    let attempts_before: Vec<i32> = attempt::Entity::find()
        .all(db)
        .await
        .expect("attempts")
        .into_iter()
        .filter(|a| a.student_id == mira.id)
        .map(|a| a.id)
        .collect();
    assert_eq!(attempts_before.len(), 1);
    let deleted = teacher
        .post_form(&format!("{page}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(deleted.status(), Status::SeeOther);
    drop(deleted);
    assert_eq!(teacher.get(&page).await.0, Status::NotFound);

    // A scan of every table: the list of tables is the one this test knows, and no row holds
    // her name, her secret words or a link to her or her attempt. (The audit log says that
    // "student N" was deleted: an id that no longer leads anywhere.)
    assert_eq!(
        table_names(db).await,
        [
            "assignments",
            "attempts",
            "audit_events",
            "classes",
            "module_opt_outs",
            "partner_schools",
            "responses",
            "rollup_archive",
            "rollup_entries",
            "rollup_heads",
            "schools",
            "students",
            "users",
            "vacated_places"
        ],
        "a new table must be added to this scan"
    );
    let rows = every_row(db).await;
    for row in &rows {
        assert!(!row.contains("Mira K"), "{row}");
        assert!(!row.contains(&mira.secret), "{row}");
        assert!(!row.contains(&format!("student_id: {},", mira.id)), "{row}");
        assert!(
            !row.contains(&format!("attempt_id: {},", attempts_before[0])),
            "{row}"
        );
    }
    assert!(
        student::Entity::find_by_id(mira.id)
            .one(db)
            .await
            .expect("query")
            .is_none()
    );
    // Noah's records are untouched, and the roll-up counts only him now.
    assert!(rows.iter().any(|row| row.contains("Noah L")));
    let heads = rollup_head::Entity::find().all(db).await.expect("heads");
    assert_eq!(heads.iter().map(|h| h.finished - h.vacated).sum::<i32>(), 1);
}

/// A lost login card: new secret words replace the old ones and sign out whoever used them.
#[rocket::async_test]
async fn new_secret_words_replace_the_old_ones_and_end_their_sessions() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let class_id = admin.create_class("Lost Card", "3-5").await;
    admin.add_students(class_id, &["Lou C"]).await;
    let (code, cards) = admin.login_cards(class_id).await;
    let old_secret = cards[0].1.clone();
    let student = env.browser().await;
    student.student_sign_in(&code, "Lou C", &old_secret).await;
    assert_eq!(student.get("/student").await.0, Status::Ok);
    let id = student::Entity::find()
        .one(&admin.app().db)
        .await
        .expect("query")
        .expect("Lou")
        .id;
    let renewed = admin
        .post_form(
            &format!("/teacher/classes/{class_id}/students/{id}/new-secret"),
            &[],
        )
        .await;
    assert_eq!(renewed.status(), Status::SeeOther);
    drop(renewed);
    let (_, cards) = admin.login_cards(class_id).await;
    let new_secret = cards[0].1.clone();
    assert_ne!(new_secret, old_secret);
    let (_, page) = admin
        .get(&format!("/teacher/classes/{class_id}/students/{id}"))
        .await;
    assert!(page.contains(&new_secret));
    // The old session is over and the old words no longer work; the new ones do.
    let response = student.get_response("/student").await;
    assert_eq!(common::location(&response), "/student/login");
    drop(response);
    let stale = env.browser().await;
    let refused = stale
        .post_form(
            "/student/login",
            &[("code", &code), ("name", "Lou C"), ("secret", &old_secret)],
        )
        .await;
    assert_ne!(refused.status(), Status::SeeOther);
    drop(refused);
    let fresh = env.browser().await;
    fresh.student_sign_in(&code, "Lou C", &new_secret).await;
    assert_eq!(fresh.get("/student").await.0, Status::Ok);
}
