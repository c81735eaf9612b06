//! The audit log of administrative actions, written as they happen and read by administrators.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder, QuerySelect, Set};

use super::now;
use crate::db::entities::audit_event;
use crate::error::AppResult;

/// Records an administrative action in the audit log and the server log. `target` names what
/// was acted on by id ("class 5", "user 7"), never by a person's name.
pub async fn note(
    db: &impl ConnectionTrait,
    actor_id: i32,
    action: &'static str,
    target: String,
) -> AppResult<()> {
    record(db, Some(actor_id), action, target).await
}

/// The same for what Tellwise does by itself (removing data after the retention period).
pub async fn note_automatic(
    db: &impl ConnectionTrait,
    action: &'static str,
    target: String,
) -> AppResult<()> {
    record(db, None, action, target).await
}

async fn record(
    db: &impl ConnectionTrait,
    actor_id: Option<i32>,
    action: &'static str,
    target: String,
) -> AppResult<()> {
    tracing::info!(actor_id, target = %target, "{action}");
    audit_event::ActiveModel {
        at: Set(now()),
        actor_id: Set(actor_id),
        action: Set(action.to_string()),
        target: Set(target),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The most recent actions, newest first.
pub async fn latest(db: &impl ConnectionTrait, limit: u64) -> AppResult<Vec<audit_event::Model>> {
    Ok(audit_event::Entity::find()
        .order_by_desc(audit_event::Column::At)
        .order_by_desc(audit_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}
