//! Retention: a class ends (by hand, or with its school year), and a configured period later its
//! student data is removed. The roll-up archive keeps each removed finished attempt's share of
//! the school's figures, without any student, class or attempt id, so past years keep their
//! aggregates when the ledger is rebuilt.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds only one at a time.
        for column in ["ended_at", "purged_at"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("classes")
                        .add_column(date_time_null(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("rollup_archive")
                    .col(pk_auto("id"))
                    .col(integer("school_id"))
                    .col(string_len("module_slug", 100))
                    .col(date_time("finished_at"))
                    .col(integer("score_correct"))
                    .col(integer("score_total"))
                    .col(integer_null("check_total"))
                    .col(integer_null("check_before_correct"))
                    .col(integer_null("check_after_correct"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_rollup_archive_group")
                    .table("rollup_archive")
                    .col("school_id")
                    .col("module_slug")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("rollup_archive").to_owned())
            .await?;
        for column in ["ended_at", "purged_at"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("classes")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
