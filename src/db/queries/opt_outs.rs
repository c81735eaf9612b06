//! Family opt-outs per module. Recording one deletes whatever the student already answered in
//! that module, so that they are left out of its quiz and of every report, past and future.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set, TransactionTrait,
};

use super::{conflict_or, ledger, now, progress, records};
use crate::db::entities::{assignment, attempt, class, opt_out, student};
use crate::error::{AppError, AppResult};

/// The opt-outs of the students of one class.
pub async fn of_class(db: &impl ConnectionTrait, class_id: i32) -> AppResult<Vec<opt_out::Model>> {
    let mut query = opt_out::Entity::find()
        .filter(Expr::col((student::Entity, student::Column::ClassId)).eq(class_id))
        .order_by_asc(opt_out::Column::Id);
    QueryTrait::query(&mut query).inner_join(
        student::Entity,
        Expr::col((student::Entity, student::Column::Id))
            .equals((opt_out::Entity, opt_out::Column::StudentId)),
    );
    Ok(query.all(db).await?)
}

pub async fn of_student(
    db: &impl ConnectionTrait,
    student_id: i32,
) -> AppResult<Vec<opt_out::Model>> {
    Ok(opt_out::Entity::find()
        .filter(opt_out::Column::StudentId.eq(student_id))
        .all(db)
        .await?)
}

pub async fn is_opted_out(
    db: &impl ConnectionTrait,
    student_id: i32,
    module_slug: &str,
) -> AppResult<bool> {
    Ok(opt_out::Entity::find()
        .filter(opt_out::Column::StudentId.eq(student_id))
        .filter(opt_out::Column::ModuleSlug.eq(module_slug))
        .one(db)
        .await?
        .is_some())
}

/// Whether recording the opt-out deleted answers the student had already given.
pub struct Recorded {
    pub answers_deleted: bool,
}

/// Records that the student (who must be in `class`) is opted out of the module, and deletes
/// their attempt at it with its answers, all in one transaction.
pub async fn record(
    db: &DatabaseConnection,
    class: &class::Model,
    student_id: i32,
    module_slug: &str,
) -> AppResult<Recorded> {
    records::student_of_class(db, class, student_id)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => AppError::BadRequest("Choose a student of this class.".into()),
            other => other,
        })?;
    let txn = db.begin().await?;
    opt_out::ActiveModel {
        student_id: Set(student_id),
        module_slug: Set(module_slug.to_string()),
        recorded_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        conflict_or(
            e,
            "This student is already opted out of that module: nothing changed.",
        )
    })?;
    let assignments: Vec<i32> = assignment::Entity::find()
        .select_only()
        .column(assignment::Column::Id)
        .filter(assignment::Column::ClassId.eq(class.id))
        .filter(assignment::Column::ModuleSlug.eq(module_slug))
        .into_tuple()
        .all(&txn)
        .await?;
    let attempts = attempt::Entity::find()
        .filter(attempt::Column::StudentId.eq(student_id))
        .filter(attempt::Column::AssignmentId.is_in(assignments))
        .all(&txn)
        .await?;
    let finished = attempts.iter().any(|a| a.finished_at.is_some());
    progress::vacate_places(&txn, &attempts).await?;
    // Answers go with their attempt (the foreign key cascades).
    attempt::Entity::delete_many()
        .filter(attempt::Column::Id.is_in(attempts.iter().map(|a| a.id)))
        .exec(&txn)
        .await?;
    if finished {
        ledger::rebuild_group(&txn, class.school_id, module_slug).await?;
    }
    txn.commit().await?;
    Ok(Recorded {
        answers_deleted: !attempts.is_empty(),
    })
}

/// Withdraws an opt-out of a student of `class`; "not found" for any other.
pub async fn withdraw(db: &impl ConnectionTrait, class: &class::Model, id: i32) -> AppResult<()> {
    let found = opt_out::Entity::find_by_id(id).one(db).await?;
    let Some(found) = found else {
        return Err(AppError::not_found());
    };
    records::student_of_class(db, class, found.student_id).await?;
    opt_out::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
