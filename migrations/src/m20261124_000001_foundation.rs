//! Schools, staff, classes, students, assignments, attempts and the answers inside them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    from_table: &'static str,
    from_col: &'static str,
    to_table: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(from_table, from_col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn unique_index(
    table: &'static str,
    name: &'static str,
    columns: &[&'static str],
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("schools")
                    .col(pk_auto("id"))
                    .col(string_len("name", 200))
                    .col(date_time("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(pk_auto("id"))
                    .col(integer_null("school_id"))
                    .col(string_len_uniq("email", 254))
                    .col(string_len("display_name", 100))
                    .col(string_len("password_hash", 255))
                    .col(string_len("role", 20))
                    .col(string_len("security_stamp", 64))
                    .col(boolean("disabled").default(false))
                    .col(date_time("created_at"))
                    .foreign_key(&mut fk("users", "school_id", "schools"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("classes")
                    .col(pk_auto("id"))
                    .col(integer("school_id"))
                    .col(integer("teacher_id"))
                    .col(string_len("name", 100))
                    .col(string_len("tier", 8))
                    .col(string_len_uniq("join_code", 16))
                    .col(string_len("language", 8).default("en"))
                    .col(date_time("created_at"))
                    .foreign_key(&mut fk("classes", "school_id", "schools"))
                    .foreign_key(&mut fk("classes", "teacher_id", "users"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "classes",
                "ux_classes_teacher_name",
                &["teacher_id", "name"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("students")
                    .col(pk_auto("id"))
                    .col(integer("class_id"))
                    .col(string_len("display_name", 60))
                    .col(string_len("secret", 64))
                    .col(string_len("security_stamp", 64))
                    .col(date_time("created_at"))
                    .foreign_key(&mut fk("students", "class_id", "classes"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "students",
                "ux_students_class_name",
                &["class_id", "display_name"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("assignments")
                    .col(pk_auto("id"))
                    .col(integer("class_id"))
                    .col(string_len("module_slug", 100))
                    .col(date_null("due_on"))
                    .col(date_time("created_at"))
                    .col(date_time_null("removed_at"))
                    .foreign_key(&mut fk("assignments", "class_id", "classes"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "assignments",
                "ux_assignments_class_module",
                &["class_id", "module_slug"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("attempts")
                    .col(pk_auto("id"))
                    .col(integer("student_id"))
                    .col(integer("assignment_id"))
                    .col(string_len("module_slug", 100))
                    .col(string_len("content_version", 64))
                    .col(string_len("language", 8))
                    .col(integer("steps_done").default(0))
                    .col(date_time("started_at"))
                    .col(date_time_null("finished_at"))
                    .col(integer_null("score_correct"))
                    .col(integer_null("score_total"))
                    .foreign_key(&mut fk("attempts", "student_id", "students"))
                    .foreign_key(&mut fk("attempts", "assignment_id", "assignments"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "attempts",
                "ux_attempts_student_assignment",
                &["student_id", "assignment_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("responses")
                    .col(pk_auto("id"))
                    .col(integer("attempt_id"))
                    .col(string_len("step_id", 100))
                    .col(string_len("phase", 8).default("main"))
                    .col(text("answer"))
                    .col(boolean("correct"))
                    .col(date_time("answered_at"))
                    .foreign_key(&mut fk("responses", "attempt_id", "attempts"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "responses",
                "ux_responses_attempt_step_phase",
                &["attempt_id", "step_id", "phase"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "responses",
            "attempts",
            "assignments",
            "students",
            "classes",
            "users",
            "schools",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
