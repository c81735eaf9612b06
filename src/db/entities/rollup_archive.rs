use sea_orm::entity::prelude::*;

/// One finished attempt of a class whose student data was removed after the retention period:
/// its share of the school's roll-up, and nothing that leads back to a student, class or attempt.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rollup_archive")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub school_id: i32,
    pub module_slug: String,
    pub finished_at: DateTime,
    pub score_correct: i32,
    pub score_total: i32,
    pub check_total: Option<i32>,
    pub check_before_correct: Option<i32>,
    pub check_after_correct: Option<i32>,
    /// A place kept for an attempt removed before the class's data was, counting for nothing.
    pub vacated: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
