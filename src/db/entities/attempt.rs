use sea_orm::entity::prelude::*;

/// One student's pass through one assigned module; the first (and only) attempt is what counts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub student_id: i32,
    pub assignment_id: i32,
    pub module_slug: String,
    pub content_version: String,
    pub language: String,
    pub steps_done: i32,
    pub started_at: DateTime,
    pub finished_at: Option<DateTime>,
    pub score_correct: Option<i32>,
    pub score_total: Option<i32>,
    /// Knowledge checks in the module, and how many were right before and after the lesson;
    /// set on finishing when the student answered every check both times.
    pub check_total: Option<i32>,
    pub check_before_correct: Option<i32>,
    pub check_after_correct: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
