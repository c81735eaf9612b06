//! What roll-up reports read: the classes of some schools, their active assignments, roster
//! sizes, attempts and answers. The arithmetic is in `domain::rollup`.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Statement};

use crate::db::entities::{assignment, class, rollup_entry};
use crate::domain::rollup::{
    GroupFigures, IncludedRun, Participation, RunningSums, sums_of_whole_groups,
};
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

/// Assigned and started students per (school, module), counted by the database; students whose
/// families opted them out of a module are not counted as assigned to it.
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
           AND NOT EXISTS (SELECT 1 FROM module_opt_outs o \
                           WHERE o.student_id = s.id AND o.module_slug = a.module_slug) \
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

/// The figures of every (school, module) group of finished attempts: the first whole groups of
/// `min_group` in finishing order, exactly as `domain::rollup::figures_of` counts them. Read from
/// the ledger (`db::queries::ledger`): per group, the run of entries inside the period is found
/// by two index seeks, and its sums are the difference of two entries' running sums.
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
    let int = integer_type(backend);
    let m = min_group.max(1);
    let schools = id_list(school_ids);
    let runs = match bounds {
        None => format!(
            "SELECT h.school_id, h.module_slug, CAST(1 AS {int}) AS lo, CAST(h.finished AS {int}) AS hi \
             FROM rollup_heads h WHERE h.school_id IN ({schools})"
        ),
        Some(_) => {
            let (from, to) = match backend {
                DatabaseBackend::Postgres => ("$1", "$2"),
                _ => ("?", "?"),
            };
            let seek = |condition: String, order: &str| {
                format!(
                    "(SELECT CAST(e.seq AS {int}) FROM rollup_entries e \
                      WHERE e.school_id = h.school_id AND e.module_slug = h.module_slug AND {condition} \
                      ORDER BY e.finished_at {order}, e.seq {order} LIMIT 1)"
                )
            };
            format!(
                "SELECT h.school_id, h.module_slug, {lo} AS lo, {hi} AS hi \
                 FROM rollup_heads h WHERE h.school_id IN ({schools})",
                lo = seek(format!("e.finished_at >= {from}"), "ASC"),
                hi = seek(format!("e.finished_at < {to}"), "DESC"),
            )
        }
    };
    let sums = |alias: &str| {
        [
            "scored",
            "score_sum",
            "matched",
            "check_total",
            "check_before",
            "check_after",
            "vacated",
        ]
        .map(|c| format!("{alias}.{c}"))
        .join(", ")
    };
    let entry_at = |alias: &str, position: String| {
        format!(
            "LEFT JOIN rollup_entries {alias} ON {alias}.school_id = r.school_id \
             AND {alias}.module_slug = r.module_slug AND {alias}.seq = {position}"
        )
    };
    let sql = format!(
        "SELECT r.school_id, r.module_slug, r.lo, r.hi, {before}, {last}, z.vacated FROM ({runs}) r \
         {join_before} {join_last} {join_end}",
        before = sums("b"),
        last = sums("l"),
        join_before = entry_at("b", "r.lo - 1".into()),
        join_last = entry_at("l", format!("r.hi - ((r.hi - r.lo + 1) % {m})")),
        join_end = entry_at("z", "r.hi".into()),
    );
    let statement = match bounds {
        Some((from, to)) => Statement::from_sql_and_values(backend, sql, [from.into(), to.into()]),
        None => Statement::from_string(backend, sql),
    };
    for row in db.query_all_raw(statement).await? {
        let (Some(lo), Some(hi)) = (
            row.try_get_by_index::<Option<i64>>(2)?,
            row.try_get_by_index::<Option<i64>>(3)?,
        ) else {
            continue;
        };
        if hi < lo {
            continue;
        }
        let running = |first: usize| -> Result<RunningSums, sea_orm::DbErr> {
            let int = |i: usize| -> Result<i64, sea_orm::DbErr> {
                Ok(row
                    .try_get_by_index::<Option<i32>>(first + i)?
                    .map_or(0, i64::from))
            };
            Ok(RunningSums {
                scored: int(0)?,
                score_sum: row
                    .try_get_by_index::<Option<f64>>(first + 1)?
                    .unwrap_or(0.0),
                matched: int(2)?,
                check_total: int(3)?,
                check_before: int(4)?,
                check_after: int(5)?,
                vacated: int(6)?,
            })
        };
        let key: (i32, String) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        let run = IncludedRun::of(lo, hi, m);
        let before = running(4)?;
        let vacated_in_run = row
            .try_get_by_index::<Option<i32>>(18)?
            .map_or(0, i64::from)
            - before.vacated;
        let mut figures = if run.included == 0 {
            run.figures(RunningSums::default())
        } else {
            let sums = running(11)?.minus(before);
            if sums.vacated == 0 {
                run.figures(sums)
            } else {
                // A removed attempt's place is in the run: count group by group.
                let boundaries = group_boundaries(db, &key, run, m).await?;
                let (sums, kept) = sums_of_whole_groups(&boundaries);
                GroupFigures {
                    included: kept * m,
                    ..run.figures(sums)
                }
            }
        };
        figures.finished = (run.finished - vacated_in_run).max(0) as usize;
        out.insert(key, figures);
    }
    Ok(out)
}

/// The running sums at the position before `run` and at the end of each of its whole groups.
async fn group_boundaries(
    db: &impl ConnectionTrait,
    (school_id, module_slug): &(i32, String),
    run: IncludedRun,
    min_group: usize,
) -> AppResult<Vec<RunningSums>> {
    let found = rollup_entry::Entity::find()
        .filter(rollup_entry::Column::SchoolId.eq(*school_id))
        .filter(rollup_entry::Column::ModuleSlug.eq(module_slug.as_str()))
        .filter(rollup_entry::Column::Seq.gte(run.before))
        .filter(rollup_entry::Column::Seq.lte(run.last_included))
        .all(db)
        .await?;
    let by_position: BTreeMap<i64, &rollup_entry::Model> =
        found.iter().map(|e| (i64::from(e.seq), e)).collect();
    let at = |position: i64| {
        by_position
            .get(&position)
            .map(|e| RunningSums {
                scored: e.scored.into(),
                score_sum: e.score_sum,
                matched: e.matched.into(),
                check_total: e.check_total.into(),
                check_before: e.check_before.into(),
                check_after: e.check_after.into(),
                vacated: e.vacated.into(),
            })
            .unwrap_or_default()
    };
    Ok((run.before..=run.last_included)
        .step_by(min_group.max(1))
        .map(at)
        .collect())
}

/// When the places of one module's removed finishers were taken, per school in scope: vacated
/// places of opted-out or deleted students, attempts of unassigned modules, and archived
/// attempts of classes whose student data is gone (their answers are gone with it). Item
/// statistics leave out the whole groups that hold them, as the roll-ups do.
pub async fn vacated_places_of_schools(
    db: &impl ConnectionTrait,
    school_ids: &[i32],
    module_slug: &str,
) -> AppResult<Vec<(i32, NaiveDateTime)>> {
    if school_ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let schools = id_list(school_ids);
    let (slug, values): (&str, Vec<sea_orm::Value>) = match backend {
        DatabaseBackend::Postgres => ("$1", vec![module_slug.into()]),
        _ => ("?", vec![module_slug.into(); 3]),
    };
    let sql = format!(
        "SELECT c.school_id, v.finished_at FROM vacated_places v \
           JOIN assignments a ON a.id = v.assignment_id JOIN classes c ON c.id = a.class_id \
         WHERE c.school_id IN ({schools}) AND a.module_slug = {slug} \
         UNION ALL \
         SELECT c.school_id, t.finished_at FROM attempts t \
           JOIN assignments a ON a.id = t.assignment_id JOIN classes c ON c.id = a.class_id \
         WHERE c.school_id IN ({schools}) AND a.module_slug = {slug} AND a.removed_at IS NOT NULL \
           AND t.finished_at IS NOT NULL AND t.score_total IS NOT NULL \
         UNION ALL \
         SELECT r.school_id, r.finished_at FROM rollup_archive r \
         WHERE r.school_id IN ({schools}) AND r.module_slug = {slug}"
    );
    let mut places = Vec::new();
    for row in db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
    {
        places.push(row.try_get_many_by_index()?);
    }
    Ok(places)
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
