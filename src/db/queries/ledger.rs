//! The roll-up ledger (`rollup_heads`, `rollup_entries`): running sums of finished attempts per
//! (school, module) in finishing order. Finishing an attempt appends one entry in the same
//! transaction; anything that changes which attempts count after the fact (an assignment removed
//! or restored, an attempt deleted) rebuilds the groups it touches from the attempts. A removed
//! attempt keeps its place as a vacated one (counted in `vacated`, adding nothing else), so the
//! later entries keep their positions and the whole groups a report counts never shift.

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Set,
    Statement,
};

use crate::db::entities::{rollup_entry, rollup_head};
use crate::domain::rollup::RunningSums;
use crate::error::{AppError, AppResult};

/// Appends one finished attempt to its group. Call it in the transaction that marks the attempt
/// finished: the head's row lock orders concurrent finishers, so positions never repeat.
pub async fn append(
    db: &impl ConnectionTrait,
    school_id: i32,
    module_slug: &str,
    finished_at: NaiveDateTime,
    share: RunningSums,
) -> AppResult<()> {
    if add_to_head(db, school_id, module_slug, share).await? == 0 {
        create_empty_head(db, school_id, module_slug, finished_at).await?;
        if add_to_head(db, school_id, module_slug, share).await? == 0 {
            return Err(AppError::internal("roll-up head missing after its insert"));
        }
    }
    let head = rollup_head::Entity::find_by_id((school_id, module_slug.to_string()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("roll-up head missing after its update"))?;
    // Finishing order is entry order, so times never go backwards along a group; period bounds
    // then cut each group into one run of entries.
    let at = Ord::max(finished_at, head.last_finished_at);
    if at != head.last_finished_at {
        rollup_head::Entity::update_many()
            .col_expr(rollup_head::Column::LastFinishedAt, Expr::value(at))
            .filter(rollup_head::Column::SchoolId.eq(school_id))
            .filter(rollup_head::Column::ModuleSlug.eq(module_slug))
            .exec(db)
            .await?;
    }
    rollup_entry::ActiveModel {
        school_id: Set(school_id),
        module_slug: Set(module_slug.to_string()),
        seq: Set(head.finished),
        finished_at: Set(at),
        scored: Set(head.scored),
        score_sum: Set(head.score_sum),
        matched: Set(head.matched),
        check_total: Set(head.check_total),
        check_before: Set(head.check_before),
        check_after: Set(head.check_after),
        vacated: Set(head.vacated),
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn add_to_head(
    db: &impl ConnectionTrait,
    school_id: i32,
    module_slug: &str,
    share: RunningSums,
) -> AppResult<u64> {
    use rollup_head::Column as C;
    let plus = |column: C, amount: i64| (column, Expr::col(column).add(amount));
    let mut update = rollup_head::Entity::update_many();
    for (column, value) in [
        plus(C::Finished, 1),
        plus(C::Scored, share.scored),
        plus(C::Matched, share.matched),
        plus(C::CheckTotal, share.check_total),
        plus(C::CheckBefore, share.check_before),
        plus(C::CheckAfter, share.check_after),
        (C::ScoreSum, Expr::col(C::ScoreSum).add(share.score_sum)),
    ] {
        update = update.col_expr(column, value);
    }
    Ok(update
        .filter(C::SchoolId.eq(school_id))
        .filter(C::ModuleSlug.eq(module_slug))
        .exec(db)
        .await?
        .rows_affected)
}

/// Makes sure the group has a head row, so that finishing only ever updates an existing row.
pub async fn ensure_head(
    db: &impl ConnectionTrait,
    school_id: i32,
    module_slug: &str,
) -> AppResult<()> {
    create_empty_head(db, school_id, module_slug, super::now()).await
}

/// Inserts a zero head unless a concurrent finisher already has: a plain insert would abort a
/// PostgreSQL transaction on the conflict.
async fn create_empty_head(
    db: &impl ConnectionTrait,
    school_id: i32,
    module_slug: &str,
    at: NaiveDateTime,
) -> AppResult<()> {
    let backend = db.get_database_backend();
    let columns = "(school_id, module_slug, finished, last_finished_at, scored, score_sum, matched, check_total, check_before, check_after)";
    let sql = match backend {
        DatabaseBackend::MySql => {
            format!(
                "INSERT IGNORE INTO rollup_heads {columns} VALUES (?, ?, 0, ?, 0, 0, 0, 0, 0, 0)"
            )
        }
        DatabaseBackend::Postgres => format!(
            "INSERT INTO rollup_heads {columns} VALUES ($1, $2, 0, $3, 0, 0, 0, 0, 0, 0) ON CONFLICT DO NOTHING"
        ),
        _ => format!(
            "INSERT INTO rollup_heads {columns} VALUES (?, ?, 0, ?, 0, 0, 0, 0, 0, 0) ON CONFLICT DO NOTHING"
        ),
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [school_id.into(), module_slug.into(), at.into()],
    ))
    .await?;
    Ok(())
}

/// Which groups a rebuild covers.
#[derive(Debug, Clone, Copy)]
pub enum Groups<'a> {
    All,
    One {
        school_id: i32,
        module_slug: &'a str,
    },
}

/// Recounts one school's group for one module (after attempts left it or came back).
pub async fn rebuild_group(
    db: &impl ConnectionTrait,
    school_id: i32,
    module_slug: &str,
) -> AppResult<()> {
    rebuild(
        db,
        Groups::One {
            school_id,
            module_slug,
        },
    )
    .await
}

/// Rewrites the ledger of some groups from their finished attempts of active assignments and
/// the archived shares of removed ones (`rollup_archive`), in finishing order. Run it inside a
/// transaction so that readers never see a half-built group.
pub async fn rebuild(db: &impl ConnectionTrait, groups: Groups<'_>) -> AppResult<()> {
    let backend = db.get_database_backend();
    let (p1, p2) = match backend {
        DatabaseBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let (scope, values): (String, Vec<sea_orm::Value>) = match groups {
        Groups::All => (String::new(), Vec::new()),
        Groups::One {
            school_id,
            module_slug,
        } => (
            format!("school_id = {p1} AND module_slug = {p2}"),
            vec![school_id.into(), module_slug.into()],
        ),
    };
    let run = |sql: String| Statement::from_sql_and_values(backend, sql, values.clone());
    let where_scope = |prefix: &str| {
        if scope.is_empty() {
            String::new()
        } else {
            format!(
                "{prefix} {}",
                scope
                    .replace("school_id", "x.school_id")
                    .replace("module_slug", "x.module_slug")
            )
        }
    };
    for table in ["rollup_entries", "rollup_heads"] {
        let sql = if scope.is_empty() {
            format!("DELETE FROM {table}")
        } else {
            format!("DELETE FROM {table} WHERE {scope}")
        };
        db.execute_raw(run(sql)).await?;
    }
    let real = match backend {
        DatabaseBackend::MySql => "DOUBLE",
        DatabaseBackend::Postgres => "DOUBLE PRECISION",
        _ => "REAL",
    };
    // Archived attempts (of classes whose student data is gone) count as they did before. Places
    // of removed attempts stay in the order, counting nothing but `vacated`: attempts of an
    // unassigned module, and the vacated places of opted-out or deleted students.
    let order = "PARTITION BY x.school_id, x.module_slug ORDER BY x.finished_at, x.source, x.id";
    // MariaDB refuses a frame on ROW_NUMBER, so the position has its own window.
    let position = format!("ROW_NUMBER() OVER ({order})");
    let window = format!("OVER ({order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)");
    let sql = format!(
        "INSERT INTO rollup_entries \
           (school_id, module_slug, seq, finished_at, scored, score_sum, matched, check_total, check_before, check_after, vacated) \
         SELECT x.school_id, x.module_slug, {position}, x.finished_at, \
           SUM(CASE WHEN x.vacant = 0 AND x.score_total > 0 THEN 1 ELSE 0 END) {window}, \
           SUM(CASE WHEN x.vacant = 0 AND x.score_total > 0 THEN CAST(x.score_correct AS {real}) / x.score_total ELSE 0 END) {window}, \
           SUM(CASE WHEN x.vacant = 0 AND x.check_total IS NOT NULL THEN 1 ELSE 0 END) {window}, \
           SUM(CASE WHEN x.vacant = 0 THEN COALESCE(x.check_total, 0) ELSE 0 END) {window}, \
           SUM(CASE WHEN x.vacant = 0 AND x.check_total IS NOT NULL THEN x.check_before_correct ELSE 0 END) {window}, \
           SUM(CASE WHEN x.vacant = 0 AND x.check_total IS NOT NULL THEN x.check_after_correct ELSE 0 END) {window}, \
           SUM(x.vacant) {window} \
         FROM ( \
           SELECT r.school_id, r.module_slug, 0 AS source, r.id, r.finished_at, r.score_correct, \
             r.score_total, r.check_total, r.check_before_correct, r.check_after_correct, \
             CASE WHEN r.vacated THEN 1 ELSE 0 END AS vacant \
           FROM rollup_archive r \
           UNION ALL \
           SELECT c.school_id, a.module_slug, 1 AS source, v.id, v.finished_at, 0, 0, NULL, NULL, NULL, \
             1 AS vacant \
           FROM vacated_places v JOIN assignments a ON a.id = v.assignment_id JOIN classes c ON c.id = a.class_id \
           UNION ALL \
           SELECT c.school_id, a.module_slug, 2 AS source, t.id, t.finished_at, t.score_correct, \
             t.score_total, t.check_total, t.check_before_correct, t.check_after_correct, \
             CASE WHEN a.removed_at IS NULL THEN 0 ELSE 1 END AS vacant \
           FROM attempts t JOIN assignments a ON a.id = t.assignment_id JOIN classes c ON c.id = a.class_id \
           WHERE t.finished_at IS NOT NULL AND t.score_total IS NOT NULL \
         ) x {scope}",
        scope = where_scope("WHERE"),
    );
    db.execute_raw(run(sql)).await?;
    let sql = format!(
        "INSERT INTO rollup_heads \
           (school_id, module_slug, finished, last_finished_at, scored, score_sum, matched, check_total, check_before, check_after, vacated) \
         SELECT x.school_id, x.module_slug, x.seq, x.finished_at, x.scored, x.score_sum, x.matched, \
           x.check_total, x.check_before, x.check_after, x.vacated \
         FROM rollup_entries x \
         WHERE x.seq = (SELECT MAX(y.seq) FROM rollup_entries y \
                        WHERE y.school_id = x.school_id AND y.module_slug = x.module_slug) {scope}",
        scope = where_scope("AND"),
    );
    db.execute_raw(run(sql)).await?;
    Ok(())
}
