use sea_orm::entity::prelude::*;

/// Sees and manages everything: the district or the whole installation.
pub const ROLE_ADMIN: &str = "admin";
/// Sees every class in their own school, and its roll-up reports.
pub const ROLE_SCHOOL_ADMIN: &str = "school_admin";
pub const ROLE_TEACHER: &str = "teacher";
/// A prevention partner: aggregate reports of the schools that granted access, nothing else.
pub const ROLE_PARTNER: &str = "partner";

pub const STAFF_ROLES: [&str; 4] = [ROLE_TEACHER, ROLE_SCHOOL_ADMIN, ROLE_ADMIN, ROLE_PARTNER];

/// A staff account: an administrator, a school administrator, a teacher or a partner. Students
/// are not users.
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
