//! The audit log: administrative actions are recorded (who, what, on which record, when) and
//! only administrators can read them.

mod common;

use common::TestEnv;
use rocket::http::Status;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Statement};
use tellwise::db::entities::{audit_event, student, user};

#[rocket::async_test]
async fn administrative_actions_are_recorded_for_administrators_to_read() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let school = admin.create_school("Audit Middle").await;
    let teacher = env.staff(&admin, "Ada Audit", "teacher", school).await;
    let head = env.staff(&admin, "Hal Head", "school_admin", school).await;
    let db = &admin.app().db;
    let teacher_id = user::Entity::find()
        .filter(user::Column::DisplayName.eq("Ada Audit"))
        .one(db)
        .await
        .expect("query")
        .expect("teacher")
        .id;
    let class_id = teacher.create_class("Room A", "3-5").await;
    teacher.add_students(class_id, &["Quinn Z"]).await;
    let quinn = student::Entity::find()
        .one(db)
        .await
        .expect("query")
        .expect("student")
        .id;
    let opt_out = teacher
        .post_form(
            &format!("/teacher/classes/{class_id}/opt-outs"),
            &[
                ("student", &quinn.to_string()),
                ("module", "block-and-report"),
            ],
        )
        .await;
    assert_eq!(opt_out.status(), Status::SeeOther);
    drop(opt_out);
    let disabled = admin
        .post_form(
            &format!("/admin/teachers/{teacher_id}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(disabled.status(), Status::SeeOther);
    drop(disabled);

    let (status, page) = admin.get("/admin/audit").await;
    assert_eq!(status, Status::Ok);
    for expected in [
        "administrator created through the setup link",
        "school created",
        "staff account created",
        "family opt-out recorded",
        "staff account disabled",
        &format!("class {class_id} student {quinn} module block-and-report"),
        &format!("user {teacher_id}"),
        "Ada Audit",
    ] {
        assert!(page.contains(expected), "the audit log lacks {expected:?}");
    }
    // Newest first, and never a student's name.
    let disabled_at = page.find("staff account disabled").expect("listed");
    let opted_at = page.find("family opt-out recorded").expect("listed");
    assert!(disabled_at < opted_at);
    assert!(!page.contains("Quinn Z"));
    let events = audit_event::Entity::find().all(db).await.expect("events");
    assert!(events.iter().all(|e| !e.target.contains("Quinn")));
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "staff account created")
            .count(),
        2
    );

    // Only administrators read it.
    assert_eq!(head.get("/admin/audit").await.0, Status::Forbidden);
    let nobody = env.browser().await;
    let response = nobody.get_response("/admin/audit").await;
    assert_eq!(response.status(), Status::SeeOther);
}

/// The audit log is append-only in the database itself: the application's own connection can
/// add events but cannot change or remove one, on every supported database.
#[rocket::async_test]
async fn the_database_refuses_to_change_or_remove_audit_events() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    admin.create_school("Ledger Elementary").await;
    let db = &admin.app().db;
    let before = audit_event::Entity::find().all(db).await.expect("events");
    assert!(before.len() >= 2, "setup and school creation are recorded");
    let backend = db.get_database_backend();
    let attempts = [
        "UPDATE audit_events SET action = 'nothing happened'",
        "UPDATE audit_events SET actor_id = NULL",
        "DELETE FROM audit_events",
        if backend == DatabaseBackend::Postgres {
            "TRUNCATE audit_events"
        } else {
            "DELETE FROM audit_events WHERE id > 0"
        },
    ];
    for sql in attempts {
        let refused = db
            .execute_raw(Statement::from_string(backend, sql))
            .await
            .expect_err(sql);
        assert!(
            refused.to_string().contains("append-only"),
            "{sql}: {refused}"
        );
    }
    let after = audit_event::Entity::find().all(db).await.expect("events");
    assert_eq!(after, before);
    // Adding still works.
    admin.create_school("Ledger Middle").await;
    let added = audit_event::Entity::find().all(db).await.expect("events");
    assert_eq!(added.len(), before.len() + 1);
}
