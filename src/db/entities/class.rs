use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "classes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub school_id: i32,
    pub teacher_id: i32,
    pub name: String,
    pub tier: String,
    pub join_code: String,
    pub language: String,
    pub created_at: DateTime,
    /// Set when the teacher ends the class; without it the class ends with its school year.
    pub ended_at: Option<DateTime>,
    /// Set when its student data was removed after the retention period.
    pub purged_at: Option<DateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
