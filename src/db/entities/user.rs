use sea_orm::entity::prelude::*;

pub const ROLE_ADMIN: &str = "admin";
pub const ROLE_TEACHER: &str = "teacher";

/// A staff account: an administrator or a teacher. Students are not users.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub school_id: Option<i32>,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    /// Changes on sign-out and password change, which revokes every token issued before.
    pub security_stamp: String,
    pub disabled: bool,
    pub created_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
