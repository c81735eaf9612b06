use sea_orm::entity::prelude::*;

/// A student's answer to one step. Unique per (attempt, step, phase): the first answer is kept
/// and a repeat of it is a no-op.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "responses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub attempt_id: i32,
    pub step_id: String,
    pub phase: String,
    /// The chosen option or flagged message ids, as a JSON array of strings.
    pub answer: String,
    pub correct: bool,
    pub answered_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
