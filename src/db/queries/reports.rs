//! What roll-up reports read: the classes of some schools, their active assignments, roster
//! sizes, attempts and answers. The arithmetic is in `domain::rollup`.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Statement};

use crate::db::entities::{assignment, class};
use crate::domain::rollup::{GroupFigures, Participation};
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

/// Assigned and started students per (school, module), counted by the database.
pub async fn participation(
    db: &impl ConnectionTrait,
    school_ids: &[i32],
) -> AppResult<BTreeMap<(i32, String), Participation>> {
    let mut out: BTreeMap<(i32, String), Participation> = BTreeMap::new();
    if school_ids.is_empty() {
        return Ok(out);
    }
    let schools = id_list(school_ids);
    let backend = db.get_database_backend();
    let assigned = format!(
        "SELECT c.school_id, a.module_slug, CAST(COUNT(s.id) AS {int}) \
         FROM assignments a JOIN classes c ON c.id = a.class_id JOIN students s ON s.class_id = c.id \
         WHERE a.removed_at IS NULL AND c.school_id IN ({schools}) \
         GROUP BY c.school_id, a.module_slug",
        int = integer_type(backend)
    );
    for row in db
        .query_all_raw(Statement::from_string(backend, assigned))
        .await?
    {
        let (school, module, count): (i32, String, i64) = row.try_get_many_by_index()?;
        out.entry((school, module)).or_default().assigned = count.max(0) as usize;
    }
    let started = format!(
        "SELECT c.school_id, a.module_slug, CAST(COUNT(t.id) AS {int}) \
         FROM attempts t JOIN assignments a ON a.id = t.assignment_id JOIN classes c ON c.id = a.class_id \
         WHERE a.removed_at IS NULL AND c.school_id IN ({schools}) \
         GROUP BY c.school_id, a.module_slug",
        int = integer_type(backend)
    );
    for row in db
        .query_all_raw(Statement::from_string(backend, started))
        .await?
    {
        let (school, module, count): (i32, String, i64) = row.try_get_many_by_index()?;
        out.entry((school, module)).or_default().started = count.max(0) as usize;
    }
    Ok(out)
}

/// The figures of every (school, module) group of finished attempts, computed by the database
/// with window functions (SQLite 3.25+, PostgreSQL, MariaDB 10.2+): the first whole groups of
/// `min_group` in finishing order, exactly as `domain::rollup::figures_of` counts them.
pub async fn group_figures(
    db: &impl ConnectionTrait,
    school_ids: &[i32],
    bounds: Option<(NaiveDateTime, NaiveDateTime)>,
    min_group: usize,
) -> AppResult<BTreeMap<(i32, String), GroupFigures>> {
    let mut out = BTreeMap::new();
    if school_ids.is_empty() {
        return Ok(out);
    }
    let backend = db.get_database_backend();
    let (int, real) = (integer_type(backend), real_type(backend));
    let m = min_group.max(1);
    let period = match bounds {
        Some(_) if backend == DatabaseBackend::Postgres => {
            "AND t.finished_at >= $1 AND t.finished_at < $2"
        }
        Some(_) => "AND t.finished_at >= ? AND t.finished_at < ?",
        None => "",
    };
    let included = format!("f.rn <= f.n - (f.n % {m})");
    let sql = format!(
        "SELECT f.school_id, f.module_slug, \
           CAST(COUNT(*) AS {int}), \
           CAST(SUM(CASE WHEN {included} THEN 1 ELSE 0 END) AS {int}), \
           CAST(SUM(CASE WHEN {included} AND f.score_total > 0 THEN CAST(f.score_correct AS {real}) / f.score_total ELSE 0 END) AS {real}), \
           CAST(SUM(CASE WHEN {included} AND f.score_total > 0 THEN 1 ELSE 0 END) AS {int}), \
           CAST(SUM(CASE WHEN {included} AND f.check_total IS NOT NULL THEN 1 ELSE 0 END) AS {int}), \
           CAST(SUM(CASE WHEN {included} AND f.check_total IS NOT NULL THEN f.check_total ELSE 0 END) AS {int}), \
           CAST(SUM(CASE WHEN {included} AND f.check_total IS NOT NULL THEN f.check_before_correct ELSE 0 END) AS {int}), \
           CAST(SUM(CASE WHEN {included} AND f.check_total IS NOT NULL THEN f.check_after_correct ELSE 0 END) AS {int}) \
         FROM ( \
           SELECT c.school_id, a.module_slug, t.score_correct, t.score_total, t.check_total, \
             t.check_before_correct, t.check_after_correct, \
             ROW_NUMBER() OVER (PARTITION BY c.school_id, a.module_slug ORDER BY t.finished_at, t.id) AS rn, \
             COUNT(*) OVER (PARTITION BY c.school_id, a.module_slug) AS n \
           FROM attempts t JOIN assignments a ON a.id = t.assignment_id JOIN classes c ON c.id = a.class_id \
           WHERE t.finished_at IS NOT NULL AND t.score_total IS NOT NULL AND a.removed_at IS NULL \
             AND c.school_id IN ({schools}) {period} \
         ) f \
         GROUP BY f.school_id, f.module_slug",
        schools = id_list(school_ids),
    );
    let statement = match bounds {
        Some((from, to)) => Statement::from_sql_and_values(backend, sql, [from.into(), to.into()]),
        None => Statement::from_string(backend, sql),
    };
    for row in db.query_all_raw(statement).await? {
        let school: i32 = row.try_get_by_index(0)?;
        let module: String = row.try_get_by_index(1)?;
        let count = |i: usize| -> Result<usize, sea_orm::DbErr> {
            Ok(row.try_get_by_index::<i64>(i)?.max(0) as usize)
        };
        let sum = |i: usize| row.try_get_by_index::<i64>(i);
        out.insert(
            (school, module),
            GroupFigures {
                finished: count(2)?,
                included: count(3)?,
                score_sum: row.try_get_by_index::<f64>(4)?,
                scored: count(5)?,
                matched: count(6)?,
                check_total: sum(7)?,
                check_before: sum(8)?,
                check_after: sum(9)?,
            },
        );
    }
    Ok(out)
}

/// Integer ids written into SQL: numbers only, so nothing can be injected.
fn id_list(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

fn integer_type(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::MySql => "SIGNED",
        DatabaseBackend::Postgres => "BIGINT",
        _ => "INTEGER",
    }
}

fn real_type(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::MySql => "DOUBLE",
        DatabaseBackend::Postgres => "DOUBLE PRECISION",
        _ => "REAL",
    }
}
