use sea_orm::entity::prelude::*;

/// One finished attempt's place in its (school, module) group, in finishing order, with the
/// running sums up to and including it. No student or attempt id: roll-ups need neither.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rollup_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub school_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub module_slug: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i32,
    pub finished_at: DateTime,
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
