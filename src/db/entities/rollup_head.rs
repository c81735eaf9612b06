use sea_orm::entity::prelude::*;

/// The running sums of one school's finished attempts at one module (see `rollup_entry`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rollup_heads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub school_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub module_slug: String,
    pub finished: i32,
    pub last_finished_at: DateTime,
    pub scored: i32,
    pub score_sum: f64,
    pub matched: i32,
    pub check_total: i32,
    pub check_before: i32,
    pub check_after: i32,
    /// Places of removed attempts (opt-outs, deleted students, unassigned modules) so far.
    pub vacated: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
