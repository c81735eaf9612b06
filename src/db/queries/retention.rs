//! Retention: ending classes, and removing a class's student data once its retention period
//! has passed. A removal first archives each finished attempt's share of the school roll-ups
//! (`rollup_archive`, no ids), so the aggregates of past years outlive the data.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Statement, TransactionTrait,
};

use super::audit;
use crate::db::entities::{assignment, attempt, class, student, vacated_place};
use crate::domain::retention;
use crate::error::{AppError, AppResult};

/// A class whose student data is still kept, and when it goes.
pub struct ClassRetention {
    pub class: class::Model,
    pub students: usize,
    pub ends_at: NaiveDateTime,
    pub purge_at: NaiveDateTime,
}

pub async fn find_class(db: &impl ConnectionTrait, id: i32) -> AppResult<Option<class::Model>> {
    Ok(class::Entity::find_by_id(id).one(db).await?)
}

/// The classes (of one school, or all) whose student data is still kept, soonest removal first.
pub async fn schedule(
    db: &impl ConnectionTrait,
    school_id: Option<i32>,
    retention_days: u32,
) -> AppResult<Vec<ClassRetention>> {
    let mut query = class::Entity::find().filter(class::Column::PurgedAt.is_null());
    if let Some(school_id) = school_id {
        query = query.filter(class::Column::SchoolId.eq(school_id));
    }
    let classes = query.order_by_asc(class::Column::Id).all(db).await?;
    let activity = activity_of(db, None).await?;
    let mut out: Vec<ClassRetention> = classes
        .into_iter()
        .map(|class| retention_of(class, &activity, retention_days))
        .collect();
    out.sort_by_key(|c| (c.purge_at, c.class.id));
    Ok(out)
}

/// The same for one class.
pub async fn of_class(
    db: &impl ConnectionTrait,
    class: class::Model,
    retention_days: u32,
) -> AppResult<ClassRetention> {
    // One query, not `activity_of`'s two: the class dashboard shows this on every load.
    let mut query = student::Entity::find()
        .select_only()
        .column_as(
            Expr::col((student::Entity, student::Column::Id)).count_distinct(),
            "students",
        )
        .column_as(
            Expr::col((attempt::Entity, attempt::Column::StartedAt)).max(),
            "latest",
        )
        .filter(student::Column::ClassId.eq(class.id));
    QueryTrait::query(&mut query).left_join(
        attempt::Entity,
        Expr::col((attempt::Entity, attempt::Column::StudentId))
            .equals((student::Entity, student::Column::Id)),
    );
    let (students, latest): (i64, Option<NaiveDateTime>) =
        query.into_tuple().one(db).await?.unwrap_or((0, None));
    let mut activity = Activity::default();
    if students > 0 {
        activity.students.insert(class.id, students as usize);
    }
    if let Some(latest) = latest {
        activity.latest.insert(class.id, latest);
    }
    Ok(retention_of(class, &activity, retention_days))
}

fn retention_of(class: class::Model, activity: &Activity, retention_days: u32) -> ClassRetention {
    let last = activity
        .latest
        .get(&class.id)
        .map_or(class.created_at, |at| Ord::max(*at, class.created_at));
    ClassRetention {
        students: activity.students.get(&class.id).copied().unwrap_or(0),
        ends_at: retention::class_ends(class.ended_at, last),
        purge_at: retention::purge_due(class.ended_at, last, retention_days),
        class,
    }
}

/// Per class: how many students, and when one of them last started a module.
#[derive(Default)]
struct Activity {
    students: BTreeMap<i32, usize>,
    latest: BTreeMap<i32, NaiveDateTime>,
}

async fn activity_of(db: &impl ConnectionTrait, class_id: Option<i32>) -> AppResult<Activity> {
    let mut students = student::Entity::find()
        .select_only()
        .columns([student::Column::Id, student::Column::ClassId]);
    if let Some(class_id) = class_id {
        students = students.filter(student::Column::ClassId.eq(class_id));
    }
    let class_of: BTreeMap<i32, i32> = students
        .into_tuple::<(i32, i32)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut activity = Activity::default();
    for class_id in class_of.values() {
        *activity.students.entry(*class_id).or_default() += 1;
    }
    let mut starts = attempt::Entity::find()
        .select_only()
        .column(attempt::Column::StudentId)
        .column_as(Expr::col(attempt::Column::StartedAt).max(), "latest")
        .group_by(attempt::Column::StudentId);
    if class_id.is_some() {
        starts = starts.filter(attempt::Column::StudentId.is_in(class_of.keys().copied()));
    }
    let starts: Vec<(i32, NaiveDateTime)> = starts.into_tuple().all(db).await?;
    for (student_id, started_at) in starts {
        if let Some(class_id) = class_of.get(&student_id) {
            let latest = activity.latest.entry(*class_id).or_insert(started_at);
            *latest = Ord::max(*latest, started_at);
        }
    }
    Ok(activity)
}

/// What a removal took away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub class_id: i32,
    pub students: u64,
    pub finished_attempts_archived: u64,
}

/// Removes the class's students with everything linked to them (attempts, answers, opt-outs:
/// the foreign keys cascade) after archiving their finished attempts' roll-up shares, in one
/// transaction. The class itself stays, marked as purged, so its teacher sees what happened.
/// `None` when the class was already purged (by another app server, say).
pub async fn purge_class(
    db: &DatabaseConnection,
    class_id: i32,
    at: NaiveDateTime,
) -> AppResult<Option<Purged>> {
    let txn = db.begin().await?;
    // Claiming the row first makes two concurrent removals archive once.
    let claimed = class::Entity::update_many()
        .col_expr(class::Column::PurgedAt, Expr::value(at))
        .col_expr(
            class::Column::EndedAt,
            Expr::col(class::Column::EndedAt).if_null(at),
        )
        .filter(class::Column::Id.eq(class_id))
        .filter(class::Column::PurgedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if claimed == 0 {
        return Ok(None);
    }
    let backend = txn.get_database_backend();
    let placeholder = match backend {
        DatabaseBackend::Postgres => "$1",
        _ => "?",
    };
    // One insert, in the ledger's own order (time, then vacated places before attempts, then
    // id), so that the archive's ids keep the class's finishing order for later rebuilds even
    // where several finished in the same second. Places of attempts removed earlier (an
    // unassigned module, an opt-out, a deleted student) go too, counting nothing, so the groups
    // do not shift.
    let archive = format!(
        "INSERT INTO rollup_archive \
           (school_id, module_slug, finished_at, score_correct, score_total, check_total, \
            check_before_correct, check_after_correct, vacated) \
         SELECT p.school_id, p.module_slug, p.finished_at, p.score_correct, p.score_total, \
           p.check_total, p.check_before_correct, p.check_after_correct, p.vacated \
         FROM ( \
           SELECT c.school_id, a.module_slug, t.finished_at, 2 AS source, t.id, \
             CASE WHEN a.removed_at IS NULL THEN COALESCE(t.score_correct, 0) ELSE 0 END AS score_correct, \
             CASE WHEN a.removed_at IS NULL THEN t.score_total ELSE 0 END AS score_total, \
             CASE WHEN a.removed_at IS NULL THEN t.check_total END AS check_total, \
             CASE WHEN a.removed_at IS NULL THEN t.check_before_correct END AS check_before_correct, \
             CASE WHEN a.removed_at IS NULL THEN t.check_after_correct END AS check_after_correct, \
             CASE WHEN a.removed_at IS NULL THEN FALSE ELSE TRUE END AS vacated \
           FROM attempts t JOIN assignments a ON a.id = t.assignment_id \
             JOIN classes c ON c.id = a.class_id \
           WHERE c.id = {placeholder} AND t.finished_at IS NOT NULL AND t.score_total IS NOT NULL \
           UNION ALL \
           SELECT c.school_id, a.module_slug, v.finished_at, 1 AS source, v.id, 0, 0, NULL, NULL, \
             NULL, TRUE \
           FROM vacated_places v JOIN assignments a ON a.id = v.assignment_id \
             JOIN classes c ON c.id = a.class_id \
           WHERE c.id = {placeholder} \
         ) p ORDER BY p.finished_at, p.source, p.id"
    );
    let values: Vec<sea_orm::Value> = match backend {
        DatabaseBackend::Postgres => vec![class_id.into()],
        _ => vec![class_id.into(), class_id.into()],
    };
    txn.execute_raw(Statement::from_sql_and_values(backend, archive, values))
        .await?;
    let assignments = assignment::Entity::find()
        .filter(assignment::Column::ClassId.eq(class_id))
        .all(&txn)
        .await?;
    let active = assignments.iter().filter(|a| a.removed_at.is_none());
    let archived = attempt::Entity::find()
        .filter(attempt::Column::AssignmentId.is_in(active.map(|a| a.id)))
        .filter(attempt::Column::FinishedAt.is_not_null())
        .filter(attempt::Column::ScoreTotal.is_not_null())
        .count(&txn)
        .await?;
    let students = student::Entity::delete_many()
        .filter(student::Column::ClassId.eq(class_id))
        .exec(&txn)
        .await?
        .rows_affected;
    vacated_place::Entity::delete_many()
        .filter(vacated_place::Column::AssignmentId.is_in(assignments.iter().map(|a| a.id)))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Some(Purged {
        class_id,
        students,
        finished_attempts_archived: archived,
    }))
}

/// Removes the student data of every class whose retention period has passed by `as_of`.
pub async fn purge_due(
    db: &DatabaseConnection,
    as_of: NaiveDateTime,
    retention_days: u32,
) -> AppResult<Vec<Purged>> {
    let mut purged = Vec::new();
    for due in schedule(db, None, retention_days).await? {
        if due.purge_at > as_of {
            break;
        }
        if let Some(done) = purge_class(db, due.class.id, as_of).await? {
            audit::note_automatic(
                db,
                "class student data removed after the retention period",
                format!("class {}", done.class_id),
            )
            .await?;
            purged.push(done);
        }
    }
    Ok(purged)
}

/// Ends a class now: its students can no longer sign in, and the retention period starts.
pub async fn end_class(
    db: &impl ConnectionTrait,
    class: &class::Model,
    at: NaiveDateTime,
) -> AppResult<()> {
    set_ended(db, class, Some(at)).await
}

/// Undoes `end_class`, while the student data is still there.
pub async fn reopen_class(db: &impl ConnectionTrait, class: &class::Model) -> AppResult<()> {
    set_ended(db, class, None).await
}

async fn set_ended(
    db: &impl ConnectionTrait,
    class: &class::Model,
    ended_at: Option<NaiveDateTime>,
) -> AppResult<()> {
    if class.purged_at.is_some() {
        return Err(AppError::Conflict(
            "This class's student data has been removed: create a new class instead.".into(),
        ));
    }
    class::Entity::update_many()
        .col_expr(class::Column::EndedAt, Expr::value(ended_at))
        .filter(class::Column::Id.eq(class.id))
        .filter(class::Column::PurgedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
