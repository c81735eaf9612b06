//! Knowledge-check scores kept on each finished attempt (before and after the lesson), so that
//! roll-ups over a whole district read one row per attempt instead of every answer; and the
//! indexes the reports read by.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["check_total", "check_before_correct", "check_after_correct"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("attempts")
                        .add_column(integer_null(column))
                        .to_owned(),
                )
                .await?;
        }
        for (name, table, column) in [
            ("ix_classes_school_id", "classes", "school_id"),
            ("ix_students_class_id", "students", "class_id"),
            ("ix_assignments_class_id", "assignments", "class_id"),
            ("ix_attempts_assignment_id", "attempts", "assignment_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(column)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("ix_classes_school_id", "classes"),
            ("ix_students_class_id", "students"),
            ("ix_assignments_class_id", "assignments"),
            ("ix_attempts_assignment_id", "attempts"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        for column in ["check_total", "check_before_correct", "check_after_correct"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("attempts")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
