//! Prevention partners (such as a non-profit that delivers the program in many schools) see
//! aggregate reports of the schools that granted them access.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("partner_schools")
                    .col(pk_auto("id"))
                    .col(integer("partner_id"))
                    .col(integer("school_id"))
                    .col(date_time("granted_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_partner_schools_partner_id")
                            .from("partner_schools", "partner_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_partner_schools_school_id")
                            .from("partner_schools", "school_id")
                            .to("schools", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_partner_schools_pair")
                    .table("partner_schools")
                    .col("partner_id")
                    .col("school_id")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("partner_schools").to_owned())
            .await
    }
}
