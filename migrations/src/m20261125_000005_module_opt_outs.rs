//! Family opt-outs: a family may opt their child out of a module; the teacher records it, the
//! student sees another activity, and their answers stay out of the module's quiz and reports.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("module_opt_outs")
                    .col(pk_auto("id"))
                    .col(integer("student_id"))
                    .col(string_len("module_slug", 100))
                    .col(date_time("recorded_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_module_opt_outs_student_id")
                            .from("module_opt_outs", "student_id")
                            .to("students", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_module_opt_outs_student_module")
                    .table("module_opt_outs")
                    .col("student_id")
                    .col("module_slug")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("module_opt_outs").to_owned())
            .await
    }
}
