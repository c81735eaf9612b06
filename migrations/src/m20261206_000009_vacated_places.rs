//! Vacated places: when a finished attempt is removed (a family opt-out, a deleted student), its
//! place in the class's finishing order is kept, without any link to the student, so that the
//! class report's whole groups stay where they were and no later finisher moves into a group
//! that was already shown.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("vacated_places")
                    .col(pk_auto("id"))
                    .col(integer("assignment_id"))
                    .col(date_time("finished_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_vacated_places_assignment_id")
                            .from("vacated_places", "assignment_id")
                            .to("assignments", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_vacated_places_assignment_id")
                    .table("vacated_places")
                    .col("assignment_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("vacated_places").to_owned())
            .await
    }
}
