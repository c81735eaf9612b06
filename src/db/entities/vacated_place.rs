use sea_orm::entity::prelude::*;

/// Where a removed finished attempt stood in its assignment's finishing order: no student, no
/// answers, only the time, so that the class report's groups do not shift when it goes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vacated_places")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub assignment_id: i32,
    pub finished_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
