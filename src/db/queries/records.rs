//! One student's records, for a family's request: everything stored about them, and deleting
//! all of it.

use std::collections::BTreeSet;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ModelTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use super::{ledger, progress};
use crate::db::entities::{attempt, class, opt_out, response, student};
use crate::error::{AppError, AppResult};

/// A student of `class`, or "not found".
pub async fn student_of_class(
    db: &impl ConnectionTrait,
    class: &class::Model,
    student_id: i32,
) -> AppResult<student::Model> {
    student::Entity::find_by_id(student_id)
        .one(db)
        .await?
        .filter(|s| s.class_id == class.id)
        .ok_or_else(AppError::not_found)
}

/// Everything stored about one student, row by row.
pub struct StudentRecords {
    pub student: student::Model,
    pub attempts: Vec<(attempt::Model, Vec<response::Model>)>,
    pub opt_outs: Vec<opt_out::Model>,
}

pub async fn records_of(
    db: &impl ConnectionTrait,
    student: student::Model,
) -> AppResult<StudentRecords> {
    let attempts = attempt::Entity::find()
        .filter(attempt::Column::StudentId.eq(student.id))
        .order_by_asc(attempt::Column::StartedAt)
        .all(db)
        .await?;
    let mut with_answers = Vec::with_capacity(attempts.len());
    for attempt in attempts {
        let answers = response::Entity::find()
            .filter(response::Column::AttemptId.eq(attempt.id))
            .order_by_asc(response::Column::Id)
            .all(db)
            .await?;
        with_answers.push((attempt, answers));
    }
    let opt_outs = opt_out::Entity::find()
        .filter(opt_out::Column::StudentId.eq(student.id))
        .all(db)
        .await?;
    Ok(StudentRecords {
        student,
        attempts: with_answers,
        opt_outs,
    })
}

/// Deletes the student with every attempt, answer and opt-out (the foreign keys cascade), and
/// takes their finished attempts out of the roll-up sums, in one transaction.
pub async fn delete_student(
    db: &DatabaseConnection,
    class: &class::Model,
    student: student::Model,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let finished = attempt::Entity::find()
        .filter(attempt::Column::StudentId.eq(student.id))
        .filter(attempt::Column::FinishedAt.is_not_null())
        .all(&txn)
        .await?;
    progress::vacate_places(&txn, &finished).await?;
    let finished_modules: BTreeSet<String> = finished.into_iter().map(|a| a.module_slug).collect();
    student.delete(&txn).await?;
    for module_slug in &finished_modules {
        ledger::rebuild_group(&txn, class.school_id, module_slug).await?;
    }
    txn.commit().await?;
    Ok(())
}
