//! What roll-up reports read: the classes of some schools, their active assignments, roster
//! sizes, attempts and answers. The arithmetic is in `domain::rollup`.

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::db::entities::{assignment, class, student};
use crate::error::AppResult;

pub async fn classes_of_schools(
    db: &impl ConnectionTrait,
    school_ids: &[i32],
) -> AppResult<Vec<class::Model>> {
    if school_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(class::Entity::find()
        .filter(class::Column::SchoolId.is_in(school_ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn active_assignments_of_classes(
    db: &impl ConnectionTrait,
    class_ids: &[i32],
) -> AppResult<Vec<assignment::Model>> {
    if class_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(assignment::Entity::find()
        .filter(assignment::Column::ClassId.is_in(class_ids.iter().copied()))
        .filter(assignment::Column::RemovedAt.is_null())
        .all(db)
        .await?)
}

/// How many students each class has.
pub async fn roster_sizes(
    db: &impl ConnectionTrait,
    class_ids: &[i32],
) -> AppResult<BTreeMap<i32, usize>> {
    let mut sizes = BTreeMap::new();
    if class_ids.is_empty() {
        return Ok(sizes);
    }
    let students = student::Entity::find()
        .filter(student::Column::ClassId.is_in(class_ids.iter().copied()))
        .all(db)
        .await?;
    for s in students {
        *sizes.entry(s.class_id).or_insert(0) += 1;
    }
    Ok(sizes)
}
