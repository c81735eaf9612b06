//! What roll-up reports read: the classes of some schools, their active assignments, roster
//! sizes, attempts and answers. The arithmetic is in `domain::rollup`.

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

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
    if class_ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let counts: Vec<(i32, i64)> = student::Entity::find()
        .select_only()
        .column(student::Column::ClassId)
        .column_as(student::Column::Id.count(), "students")
        .filter(student::Column::ClassId.is_in(class_ids.iter().copied()))
        .group_by(student::Column::ClassId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts
        .into_iter()
        .map(|(class, n)| (class, n.max(0) as usize))
        .collect())
}
