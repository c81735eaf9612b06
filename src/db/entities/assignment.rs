use sea_orm::entity::prelude::*;

/// A module assigned to a class. Unassigning sets `removed_at` rather than deleting, so the
/// students' answers survive and a re-assignment picks them up again.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub class_id: i32,
    pub module_slug: String,
    pub due_on: Option<Date>,
    pub created_at: DateTime,
    pub removed_at: Option<DateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
