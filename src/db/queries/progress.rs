//! Attempts and answers. Every write is safe to repeat: starting twice finds the first attempt,
//! saving an answer twice keeps the first, and finishing happens once.

use std::collections::BTreeSet;

use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    FromQueryResult, IdenStatic, Iterable, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
    TransactionTrait,
};

use super::{is_unique_violation, ledger, now};
use crate::curriculum::Module;
use crate::db::entities::{assignment, attempt, class, opt_out, response, student, vacated_place};
use crate::domain::results::ResponseRecord;
use crate::domain::rollup::RunningSums;
use crate::error::{AppError, AppResult};

/// Answers given during the lesson (the "after" answer for knowledge checks).
pub const PHASE_MAIN: &str = "main";
/// Answers to the knowledge checks asked before the lesson.
pub const PHASE_PRE: &str = "pre";

pub async fn attempts_of_student(
    db: &impl ConnectionTrait,
    student_id: i32,
) -> AppResult<Vec<attempt::Model>> {
    Ok(attempt::Entity::find()
        .filter(attempt::Column::StudentId.eq(student_id))
        .all(db)
        .await?)
}

pub async fn attempts_for_assignment(
    db: &impl ConnectionTrait,
    assignment_id: i32,
) -> AppResult<Vec<attempt::Model>> {
    Ok(attempt::Entity::find()
        .filter(attempt::Column::AssignmentId.eq(assignment_id))
        .all(db)
        .await?)
}

/// Keeps the places of finished attempts about to be removed (an opt-out, a deleted student) in
/// their assignments' finishing order, so that the class report's groups do not shift.
pub async fn vacate_places(
    db: &impl ConnectionTrait,
    attempts: &[attempt::Model],
) -> AppResult<()> {
    let places: Vec<vacated_place::ActiveModel> = attempts
        .iter()
        .filter_map(|a| {
            Some(vacated_place::ActiveModel {
                assignment_id: Set(a.assignment_id),
                finished_at: Set(a.finished_at?),
                ..Default::default()
            })
        })
        .collect();
    if !places.is_empty() {
        vacated_place::Entity::insert_many(places).exec(db).await?;
    }
    Ok(())
}

/// When removed finished attempts had finished, for one assignment.
pub async fn vacated_places(
    db: &impl ConnectionTrait,
    assignment_id: i32,
) -> AppResult<Vec<chrono::NaiveDateTime>> {
    Ok(vacated_place::Entity::find()
        .select_only()
        .column(vacated_place::Column::FinishedAt)
        .filter(vacated_place::Column::AssignmentId.eq(assignment_id))
        .into_tuple()
        .all(db)
        .await?)
}

/// Where a student stands in one module assigned to their class.
pub struct ModuleState {
    pub assignment: assignment::Model,
    pub opted_out: bool,
    pub attempt: Option<attempt::Model>,
    /// The student's answer to the step asked about, in the phase asked about.
    pub answer: Option<response::Model>,
}

/// A student and their class with, when the module is assigned to the class, where the student
/// stands in it: the assignment, their opt-out and attempt, and their answer to one step
/// (`answer_of`: step id and phase). One query serves the session check and the page, because on
/// SQLite each query is a hand-off to a worker thread that costs more than the query itself
/// (measured with `benches/page_speed.sh`). `None` when there is no such student.
pub async fn student_in_module(
    db: &impl ConnectionTrait,
    student_id: i32,
    slug: &str,
    answer_of: Option<(&str, &str)>,
) -> AppResult<Option<(student::Model, class::Model, Option<ModuleState>)>> {
    const STUDENT: &str = "S_";
    const CLASS: &str = "K_";
    const ASSIGNMENT: &str = "A_";
    const ATTEMPT: &str = "B_";
    const ANSWER: &str = "C_";
    let mut select = sea_orm::sea_query::Query::select();
    select_prefixed::<student::Entity>(&mut select, STUDENT);
    select_prefixed::<class::Entity>(&mut select, CLASS);
    select_prefixed::<assignment::Entity>(&mut select, ASSIGNMENT);
    select_prefixed::<attempt::Entity>(&mut select, ATTEMPT);
    select
        .expr_as(
            Expr::col((opt_out::Entity, opt_out::Column::Id)),
            Alias::new("opt_out_id"),
        )
        .from(student::Entity)
        .inner_join(
            class::Entity,
            Expr::col((class::Entity, class::Column::Id))
                .equals((student::Entity, student::Column::ClassId)),
        )
        .left_join(
            assignment::Entity,
            Condition::all()
                .add(
                    Expr::col((assignment::Entity, assignment::Column::ClassId))
                        .equals((student::Entity, student::Column::ClassId)),
                )
                .add(Expr::col((assignment::Entity, assignment::Column::ModuleSlug)).eq(slug))
                .add(Expr::col((assignment::Entity, assignment::Column::RemovedAt)).is_null()),
        )
        .left_join(
            attempt::Entity,
            Condition::all()
                .add(
                    Expr::col((attempt::Entity, attempt::Column::AssignmentId))
                        .equals((assignment::Entity, assignment::Column::Id)),
                )
                .add(
                    Expr::col((attempt::Entity, attempt::Column::StudentId))
                        .equals((student::Entity, student::Column::Id)),
                ),
        )
        .left_join(
            opt_out::Entity,
            Condition::all()
                .add(
                    Expr::col((opt_out::Entity, opt_out::Column::StudentId))
                        .equals((student::Entity, student::Column::Id)),
                )
                .add(Expr::col((opt_out::Entity, opt_out::Column::ModuleSlug)).eq(slug)),
        )
        .and_where(Expr::col((student::Entity, student::Column::Id)).eq(student_id));
    if let Some((step, phase)) = answer_of {
        select_prefixed::<response::Entity>(&mut select, ANSWER);
        select.left_join(
            response::Entity,
            Condition::all()
                .add(
                    Expr::col((response::Entity, response::Column::AttemptId))
                        .equals((attempt::Entity, attempt::Column::Id)),
                )
                .add(Expr::col((response::Entity, response::Column::StepId)).eq(step))
                .add(Expr::col((response::Entity, response::Column::Phase)).eq(phase)),
        );
    }
    let Some(row) = db.query_one(&select).await? else {
        return Ok(None);
    };
    let student = student::Model::from_query_result(&row, STUDENT)?;
    let class = class::Model::from_query_result(&row, CLASS)?;
    // `Option::<M>::from_query_result` is `None` for a row of NULLs (no such assignment, attempt
    // or answer) and an error for anything else, where `from_query_result_optional` would turn
    // a decoding error into "not there".
    let state = match Option::<assignment::Model>::from_query_result(&row, ASSIGNMENT)? {
        None => None,
        Some(assignment) => Some(ModuleState {
            assignment,
            opted_out: row.try_get::<Option<i32>>("", "opt_out_id")?.is_some(),
            attempt: Option::<attempt::Model>::from_query_result(&row, ATTEMPT)?,
            answer: match answer_of {
                Some(_) => Option::<response::Model>::from_query_result(&row, ANSWER)?,
                None => None,
            },
        }),
    };
    Ok(Some((student, class, state)))
}

/// Selects every column of `E` as `{prefix}{column}`, the names `FromQueryResult` reads with
/// that prefix.
fn select_prefixed<E: EntityTrait>(select: &mut sea_orm::sea_query::SelectStatement, prefix: &str) {
    for column in E::Column::iter() {
        select.expr_as(
            Expr::col((E::default(), column)),
            Alias::new(format!("{prefix}{}", column.as_str())),
        );
    }
}

pub async fn find_attempt(
    db: &impl ConnectionTrait,
    student_id: i32,
    assignment_id: i32,
) -> AppResult<Option<attempt::Model>> {
    Ok(attempt::Entity::find()
        .filter(attempt::Column::StudentId.eq(student_id))
        .filter(attempt::Column::AssignmentId.eq(assignment_id))
        .one(db)
        .await?)
}

/// Starts the student's attempt, or returns the one already started (also when two requests
/// race: the unique index lets one insert win and the other reads it).
pub async fn start_attempt(
    db: &impl ConnectionTrait,
    student_id: i32,
    assignment_id: i32,
    module: &Module,
    language: &str,
) -> AppResult<attempt::Model> {
    if let Some(existing) = find_attempt(db, student_id, assignment_id).await? {
        return Ok(existing);
    }
    let inserted = attempt::ActiveModel {
        student_id: Set(student_id),
        assignment_id: Set(assignment_id),
        module_slug: Set(module.slug.clone()),
        content_version: Set(module.version.clone()),
        language: Set(language.to_string()),
        steps_done: Set(0),
        started_at: Set(now()),
        finished_at: Set(None),
        score_correct: Set(None),
        score_total: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(attempt) => Ok(attempt),
        Err(e) if is_unique_violation(&e) => find_attempt(db, student_id, assignment_id)
            .await?
            .ok_or_else(|| AppError::internal("attempt vanished after a conflicting insert")),
        Err(e) => Err(e.into()),
    }
}

/// Records that the first `steps_done` steps are complete; never moves progress backwards.
pub async fn advance(db: &impl ConnectionTrait, attempt_id: i32, steps_done: i32) -> AppResult<()> {
    attempt::Entity::update_many()
        .col_expr(attempt::Column::StepsDone, Expr::value(steps_done))
        .filter(attempt::Column::Id.eq(attempt_id))
        .filter(attempt::Column::StepsDone.lt(steps_done))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks the attempt finished with its score, once: a repeat changes nothing.
/// What finishing records: the score, and the knowledge checks (total, right before, right
/// after) when every check was answered both times.
pub struct Finish {
    pub correct: i32,
    pub total: i32,
    pub checks: Option<(i32, i32, i32)>,
}

pub async fn finish(
    db: &DatabaseConnection,
    attempt: &attempt::Model,
    result: Finish,
) -> AppResult<()> {
    let counted_in = counted_in_school(db, attempt.assignment_id).await?;
    if let Some((school_id, _)) = counted_in {
        // Outside the transaction: creating a missing head inside it would make InnoDB's gap
        // locks deadlock a class that finishes all at once.
        ledger::ensure_head(db, school_id, &attempt.module_slug).await?;
    }
    // Two finishers can still deadlock on a busy server database; the loser retries, which is
    // safe because the update only applies to an unfinished attempt.
    let mut tries = 0;
    loop {
        tries += 1;
        match finish_once(db, attempt, &result, counted_in).await {
            Err(AppError::Database(e)) if tries < 4 && is_deadlock(&e) => continue,
            outcome => return outcome,
        }
    }
}

fn is_deadlock(err: &sea_orm::DbErr) -> bool {
    let text = err.to_string().to_lowercase();
    text.contains("deadlock") || text.contains("could not serialize")
}

async fn finish_once(
    db: &DatabaseConnection,
    attempt: &attempt::Model,
    result: &Finish,
    counted_in: Option<(i32, bool)>,
) -> AppResult<()> {
    let (check_total, before, after) = match result.checks {
        Some((total, before, after)) => (Some(total), Some(before), Some(after)),
        None => (None, None, None),
    };
    let finished_at = now();
    let txn = db.begin().await?;
    let updated = attempt::Entity::update_many()
        .col_expr(attempt::Column::FinishedAt, Expr::value(finished_at))
        .col_expr(attempt::Column::ScoreCorrect, Expr::value(result.correct))
        .col_expr(attempt::Column::ScoreTotal, Expr::value(result.total))
        .col_expr(attempt::Column::CheckTotal, Expr::value(check_total))
        .col_expr(attempt::Column::CheckBeforeCorrect, Expr::value(before))
        .col_expr(attempt::Column::CheckAfterCorrect, Expr::value(after))
        .filter(attempt::Column::Id.eq(attempt.id))
        .filter(attempt::Column::FinishedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    // Only the request that finished the attempt adds it to the roll-up, in the same transaction.
    if updated == 1
        && let Some((school_id, assigned)) = counted_in
    {
        let share = if assigned {
            RunningSums::of_attempt((result.correct, result.total), result.checks)
        } else {
            // Unassigned meanwhile: the attempt takes a place that counts nothing, as a
            // rebuild would write it.
            RunningSums {
                vacated: 1,
                ..RunningSums::default()
            }
        };
        ledger::append(&txn, school_id, &attempt.module_slug, finished_at, share).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The school whose roll-up ledger places an attempt at this assignment, and whether the
/// assignment is still active (an unassigned module's attempts hold places that count nothing).
async fn counted_in_school(
    db: &impl ConnectionTrait,
    assignment_id: i32,
) -> AppResult<Option<(i32, bool)>> {
    let Some(assignment) = assignment::Entity::find_by_id(assignment_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(class::Entity::find_by_id(assignment.class_id)
        .one(db)
        .await?
        .map(|c| (c.school_id, assignment.removed_at.is_none())))
}

pub async fn responses_of_attempt(
    db: &impl ConnectionTrait,
    attempt_id: i32,
) -> AppResult<Vec<response::Model>> {
    Ok(response::Entity::find()
        .filter(response::Column::AttemptId.eq(attempt_id))
        .filter(response::Column::Phase.eq(PHASE_MAIN))
        .all(db)
        .await?)
}

pub async fn responses_of_attempts_in_phase(
    db: &impl ConnectionTrait,
    attempt_ids: &[i32],
    phase: &str,
) -> AppResult<Vec<response::Model>> {
    if attempt_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(response::Entity::find()
        .filter(response::Column::AttemptId.is_in(attempt_ids.iter().copied()))
        .filter(response::Column::Phase.eq(phase))
        .order_by_asc(response::Column::Id)
        .all(db)
        .await?)
}

/// The answers of some attempts in one phase, as reports read them: only the columns they
/// need, so that a class report decodes no timestamps.
pub async fn answer_records(
    db: &impl ConnectionTrait,
    attempt_ids: &[i32],
    phase: &str,
) -> AppResult<Vec<ResponseRecord>> {
    if attempt_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<RecordRow> = response::Entity::find()
        .select_only()
        .columns(RECORD_COLUMNS)
        .filter(response::Column::AttemptId.is_in(attempt_ids.iter().copied()))
        .filter(response::Column::Phase.eq(phase))
        .order_by_asc(response::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(record_of).collect())
}

/// What reports read of an answer, in `RecordRow`'s order.
const RECORD_COLUMNS: [response::Column; 4] = [
    response::Column::AttemptId,
    response::Column::StepId,
    response::Column::Answer,
    response::Column::Correct,
];

type RecordRow = (i32, String, String, bool);

fn record_of((attempt_id, step_id, answer, correct): RecordRow) -> ResponseRecord {
    ResponseRecord {
        attempt_id,
        step_id,
        answer: decode_answer(&answer),
        correct,
    }
}

/// The answers given to one assignment, split by phase (`main`, then `pre`): one query that
/// joins the attempts, instead of one per phase over a list of attempt ids.
pub async fn answer_records_of_assignment(
    db: &impl ConnectionTrait,
    assignment_id: i32,
) -> AppResult<(Vec<ResponseRecord>, Vec<ResponseRecord>)> {
    let mut query = response::Entity::find()
        .select_only()
        .columns(RECORD_COLUMNS)
        .column(response::Column::Phase)
        .filter(Expr::col((attempt::Entity, attempt::Column::AssignmentId)).eq(assignment_id))
        .order_by_asc(response::Column::Id);
    QueryTrait::query(&mut query).inner_join(
        attempt::Entity,
        Expr::col((attempt::Entity, attempt::Column::Id))
            .equals((response::Entity, response::Column::AttemptId)),
    );
    let rows: Vec<(i32, String, String, bool, String)> = query.into_tuple().all(db).await?;
    let (mut main, mut before) = (Vec::new(), Vec::new());
    for (attempt_id, step_id, answer, correct, phase) in rows {
        let record = record_of((attempt_id, step_id, answer, correct));
        match phase.as_str() {
            PHASE_PRE => before.push(record),
            _ => main.push(record),
        }
    }
    Ok((main, before))
}

pub fn encode_answer(ids: &BTreeSet<String>) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

pub fn decode_answer(answer: &str) -> BTreeSet<String> {
    serde_json::from_str(answer).unwrap_or_default()
}

pub async fn answer_in_phase(
    db: &impl ConnectionTrait,
    attempt_id: i32,
    step_id: &str,
    phase: &str,
) -> AppResult<Option<response::Model>> {
    Ok(response::Entity::find()
        .filter(response::Column::AttemptId.eq(attempt_id))
        .filter(response::Column::StepId.eq(step_id))
        .filter(response::Column::Phase.eq(phase))
        .one(db)
        .await?)
}

/// The step ids answered before the lesson started.
pub async fn answered_before(
    db: &impl ConnectionTrait,
    attempt_id: i32,
) -> AppResult<BTreeSet<String>> {
    Ok(response::Entity::find()
        .filter(response::Column::AttemptId.eq(attempt_id))
        .filter(response::Column::Phase.eq(PHASE_PRE))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.step_id)
        .collect())
}

/// Saves the first answer to a step of the lesson and moves the attempt on to `steps_done`.
/// Returns the stored answer, which is the earlier one when the step was already answered: a
/// repeat never makes a second record or changes the first, and moves nothing on.
///
/// On SQLite both writes share one transaction: SQLite commits one at a time, and with
/// `synchronous=FULL` each commit waits for the disk, so two commits per answer halved the
/// answers a busy server could take. A failed insert leaves an SQLite transaction usable;
/// PostgreSQL would abort it, so there (and on MariaDB) the insert stands alone.
pub async fn save_answer_and_advance(
    db: &DatabaseConnection,
    attempt_id: i32,
    step_id: &str,
    answer: &BTreeSet<String>,
    correct: bool,
    steps_done: i32,
) -> AppResult<response::Model> {
    if db.get_database_backend() != DbBackend::Sqlite {
        let saved =
            save_answer_in_phase(db, attempt_id, step_id, PHASE_MAIN, answer, correct).await?;
        if saved.answer == encode_answer(answer) {
            advance(db, attempt_id, steps_done).await?;
        }
        return Ok(saved);
    }
    let transaction = db.begin().await?;
    match new_answer(attempt_id, step_id, PHASE_MAIN, answer, correct)
        .insert(&transaction)
        .await
    {
        Ok(saved) => {
            advance(&transaction, attempt_id, steps_done).await?;
            transaction.commit().await?;
            Ok(saved)
        }
        Err(e) if is_unique_violation(&e) => {
            transaction.rollback().await?;
            answer_in_phase(db, attempt_id, step_id, PHASE_MAIN)
                .await?
                .ok_or_else(|| AppError::internal("answer vanished after a conflicting insert"))
        }
        Err(e) => Err(e.into()),
    }
}

fn new_answer(
    attempt_id: i32,
    step_id: &str,
    phase: &str,
    answer: &BTreeSet<String>,
    correct: bool,
) -> response::ActiveModel {
    response::ActiveModel {
        attempt_id: Set(attempt_id),
        step_id: Set(step_id.to_string()),
        phase: Set(phase.to_string()),
        answer: Set(encode_answer(answer)),
        correct: Set(correct),
        answered_at: Set(now()),
        ..Default::default()
    }
}

/// Saves the first answer to a step in one phase (a check question has one "before" and one
/// "main" answer); returns the stored answer, as [`save_answer_and_advance`] does.
pub async fn save_answer_in_phase(
    db: &DatabaseConnection,
    attempt_id: i32,
    step_id: &str,
    phase: &str,
    answer: &BTreeSet<String>,
    correct: bool,
) -> AppResult<response::Model> {
    // No look-up first: the callers have just read the answer with the page's state, and the
    // unique index on (attempt, step, phase) settles a race. Outside any transaction (hence
    // `DatabaseConnection`): PostgreSQL would abort one on the failed insert.
    let inserted = new_answer(attempt_id, step_id, phase, answer, correct)
        .insert(db)
        .await;
    match inserted {
        Ok(saved) => Ok(saved),
        Err(e) if is_unique_violation(&e) => answer_in_phase(db, attempt_id, step_id, phase)
            .await?
            .ok_or_else(|| AppError::internal("answer vanished after a conflicting insert")),
        Err(e) => Err(e.into()),
    }
}

pub async fn attempts_for_assignments(
    db: &impl ConnectionTrait,
    assignment_ids: &[i32],
) -> AppResult<Vec<attempt::Model>> {
    if assignment_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(attempt::Entity::find()
        .filter(attempt::Column::AssignmentId.is_in(assignment_ids.iter().copied()))
        .all(db)
        .await?)
}
