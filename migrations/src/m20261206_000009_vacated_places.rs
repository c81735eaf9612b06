//! Vacated places: when a finished attempt is removed (a family opt-out, a deleted student), its
//! place in the finishing order is kept, without any link to the student, so that whole groups
//! stay where they were and no later finisher moves into a group that was already shown: in the
//! class report (`vacated_places`) and in the school roll-up ledger, whose running sums now count
//! the vacated places too (`vacated`, also on archived rows).

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
            .await?;
        for table in ["rollup_heads", "rollup_entries"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(integer("vacated").default(0))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("rollup_archive")
                    .add_column(boolean("vacated").default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["rollup_heads", "rollup_entries", "rollup_archive"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column("vacated")
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table("vacated_places").to_owned())
            .await
    }
}
