use sea_orm::entity::prelude::*;

/// A student: a display name inside one class and a secret word printed on the login card.
/// No email, no birth date.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "students")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub class_id: i32,
    pub display_name: String,
    pub secret: String,
    pub security_stamp: String,
    pub created_at: DateTime,
}

/// The one relation declared here: every student request loads the student with their class,
/// and one joined query is half the round trips of two.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::class::Entity",
        from = "Column::ClassId",
        to = "super::class::Column::Id"
    )]
    Class,
}

impl Related<super::class::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Class.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
