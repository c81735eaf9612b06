//! Schools and staff accounts.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use super::{conflict_or, now};
use crate::db::entities::user::ROLE_ADMIN;
use crate::db::entities::{partner_school, school, user};
use crate::domain::codes::random_hex;
use crate::error::{AppError, AppResult};

pub struct NewStaff {
    pub school_id: Option<i32>,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: &'static str,
}

pub async fn admin_exists(db: &impl ConnectionTrait) -> AppResult<bool> {
    let count = user::Entity::find()
        .filter(user::Column::Role.eq(ROLE_ADMIN))
        .count(db)
        .await?;
    Ok(count > 0)
}

pub async fn first_school(db: &impl ConnectionTrait) -> AppResult<Option<school::Model>> {
    Ok(school::Entity::find()
        .order_by_asc(school::Column::Id)
        .one(db)
        .await?)
}

pub async fn create_school(db: &impl ConnectionTrait, name: &str) -> AppResult<school::Model> {
    Ok(school::ActiveModel {
        name: Set(name.to_string()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn schools(db: &impl ConnectionTrait) -> AppResult<Vec<school::Model>> {
    Ok(school::Entity::find()
        .order_by_asc(school::Column::Name)
        .all(db)
        .await?)
}

pub async fn find_school(db: &impl ConnectionTrait, id: i32) -> AppResult<Option<school::Model>> {
    Ok(school::Entity::find_by_id(id).one(db).await?)
}

/// Every (partner, school) grant.
pub async fn partner_grants(db: &impl ConnectionTrait) -> AppResult<Vec<partner_school::Model>> {
    Ok(partner_school::Entity::find()
        .order_by_asc(partner_school::Column::Id)
        .all(db)
        .await?)
}

/// The schools whose aggregate reports a partner may see.
pub async fn schools_granted_to(db: &impl ConnectionTrait, partner_id: i32) -> AppResult<Vec<i32>> {
    Ok(partner_school::Entity::find()
        .filter(partner_school::Column::PartnerId.eq(partner_id))
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.school_id)
        .collect())
}

/// Grants a partner a school's aggregates; granting twice changes nothing.
pub async fn grant_partner(
    db: &impl ConnectionTrait,
    partner_id: i32,
    school_id: i32,
) -> AppResult<()> {
    let exists = partner_school::Entity::find()
        .filter(partner_school::Column::PartnerId.eq(partner_id))
        .filter(partner_school::Column::SchoolId.eq(school_id))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    let inserted = partner_school::ActiveModel {
        partner_id: Set(partner_id),
        school_id: Set(school_id),
        granted_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if super::is_unique_violation(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke_partner(
    db: &impl ConnectionTrait,
    partner_id: i32,
    school_id: i32,
) -> AppResult<()> {
    partner_school::Entity::delete_many()
        .filter(partner_school::Column::PartnerId.eq(partner_id))
        .filter(partner_school::Column::SchoolId.eq(school_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> AppResult<Option<user::Model>> {
    // No address holds a NUL, and PostgreSQL refuses one in text: such an email matches nobody.
    if email.contains('\0') {
        return Ok(None);
    }
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: i32) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

pub async fn create(db: &impl ConnectionTrait, new: NewStaff) -> AppResult<user::Model> {
    user::ActiveModel {
        school_id: Set(new.school_id),
        email: Set(new.email.trim().to_lowercase()),
        display_name: Set(new.display_name),
        password_hash: Set(new.password_hash),
        role: Set(new.role.to_string()),
        security_stamp: Set(random_hex(16)),
        disabled: Set(false),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| conflict_or(e, "An account with this email address already exists."))
}

pub async fn list(db: &impl ConnectionTrait) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .order_by_asc(user::Column::DisplayName)
        .all(db)
        .await?)
}

/// A new stamp revokes every session and API token the user holds.
pub async fn rotate_stamp(db: &impl ConnectionTrait, id: i32) -> AppResult<String> {
    let stamp = random_hex(16);
    update(db, id, |m| m.security_stamp = Set(stamp.clone())).await?;
    Ok(stamp)
}

pub async fn set_password(
    db: &impl ConnectionTrait,
    id: i32,
    password_hash: String,
) -> AppResult<String> {
    let stamp = random_hex(16);
    update(db, id, |m| {
        m.password_hash = Set(password_hash);
        m.security_stamp = Set(stamp.clone());
    })
    .await?;
    Ok(stamp)
}

/// The same password, hashed again with today's parameters: sessions stay valid.
pub async fn upgrade_password_hash(
    db: &impl ConnectionTrait,
    id: i32,
    password_hash: String,
) -> AppResult<()> {
    update(db, id, |m| m.password_hash = Set(password_hash)).await
}

pub async fn set_disabled(db: &impl ConnectionTrait, id: i32, disabled: bool) -> AppResult<()> {
    update(db, id, |m| {
        m.disabled = Set(disabled);
        m.security_stamp = Set(random_hex(16));
    })
    .await
}

async fn update(
    db: &impl ConnectionTrait,
    id: i32,
    change: impl FnOnce(&mut user::ActiveModel),
) -> AppResult<()> {
    let mut model = user::ActiveModel {
        ..Default::default()
    };
    change(&mut model);
    let result = user::Entity::update_many()
        .set(model)
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::not_found());
    }
    Ok(())
}
