//! Roll-up sums kept up to date as attempts finish, so that a district report reads a few rows
//! per (school, module) instead of every attempt.
//!
//! `rollup_entries` holds one row per finished attempt in finishing order (`seq` from 1) with the
//! running sums up to and including it; `rollup_heads` holds the running sums of each group.
//! The figures of any run of entries are the difference of two running sums. The rows carry no
//! student or attempt id.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The running sums both tables carry.
fn sums(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(integer("scored"))
        .col(double("score_sum"))
        .col(integer("matched"))
        .col(integer("check_total"))
        .col(integer("check_before"))
        .col(integer("check_after"))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut heads = Table::create();
        heads
            .table("rollup_heads")
            .col(integer("school_id"))
            .col(string_len("module_slug", 100))
            .col(integer("finished"))
            .col(date_time("last_finished_at"))
            .primary_key(Index::create().col("school_id").col("module_slug"));
        manager.create_table(sums(&mut heads).to_owned()).await?;

        let mut entries = Table::create();
        entries
            .table("rollup_entries")
            .col(integer("school_id"))
            .col(string_len("module_slug", 100))
            .col(integer("seq"))
            .col(date_time("finished_at"))
            .primary_key(
                Index::create()
                    .col("school_id")
                    .col("module_slug")
                    .col("seq"),
            );
        manager.create_table(sums(&mut entries).to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_rollup_entries_finished_at")
                    .table("rollup_entries")
                    .col("school_id")
                    .col("module_slug")
                    .col("finished_at")
                    .col("seq")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["rollup_entries", "rollup_heads"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
