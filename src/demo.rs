//! `tellwise seed-demo`: fills an empty database with a realistic district, for trying reports
//! and for the benchmarks in `benches/`. At scale 1: 40 schools, 4,000 classes of 25 students
//! (100,000 students), four of its tier's five modules assigned to each class (all 20 in use),
//! and about 5,000,000 answers spread over a school year. Names are invented ("Student 12345"); nothing is real.
//!
//! Rows are written as multi-row INSERT statements in large transactions with ids chosen here,
//! which is many times faster than one ORM insert per row.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, PaginatorTrait,
    TransactionTrait,
};

use crate::curriculum::{Curriculum, StepKind, Tier};
use crate::db::entities::class;

/// Every table seed-demo writes, parents first.
const TABLES: [&str; 7] = [
    "schools",
    "users",
    "classes",
    "students",
    "assignments",
    "attempts",
    "responses",
];
const CLASSES_PER_SCHOOL: usize = 100;
const STUDENTS_PER_CLASS: usize = 25;
const MODULES_PER_CLASS: usize = 4;
/// Rows per INSERT statement.
const BATCH: usize = 1_000;
/// INSERT statements per transaction.
const STATEMENTS_PER_TRANSACTION: usize = 50;

#[derive(Debug, Default)]
pub struct DemoSummary {
    pub schools: usize,
    pub classes: usize,
    pub students: usize,
    pub assignments: usize,
    pub attempts: usize,
    pub answers: usize,
}

/// Collects rows for one table and writes them in batches.
struct Inserter<'a> {
    db: &'a DatabaseConnection,
    table: &'static str,
    columns: &'static str,
    rows: Vec<String>,
    pending: Vec<String>,
    written: usize,
}

impl<'a> Inserter<'a> {
    fn new(db: &'a DatabaseConnection, table: &'static str, columns: &'static str) -> Self {
        Self {
            db,
            table,
            columns,
            rows: Vec::with_capacity(BATCH),
            pending: Vec::new(),
            written: 0,
        }
    }

    /// Adds a row; nothing is written until `flush` or `finish`, so the caller decides the
    /// order in which tables reach the database.
    async fn push(&mut self, row: String) -> Result<(), String> {
        self.rows.push(row);
        if self.rows.len() >= BATCH {
            self.statement();
        }
        Ok(())
    }

    /// Whether enough rows are waiting to be worth a transaction.
    fn due(&self) -> bool {
        self.pending.len() >= STATEMENTS_PER_TRANSACTION
    }

    /// Writes everything collected so far.
    async fn flush(&mut self) -> Result<(), String> {
        self.statement();
        self.commit().await
    }

    fn statement(&mut self) {
        if self.rows.is_empty() {
            return;
        }
        self.written += self.rows.len();
        self.pending.push(format!(
            "INSERT INTO {} ({}) VALUES {}",
            self.table,
            self.columns,
            self.rows.join(",")
        ));
        self.rows.clear();
    }

    async fn commit(&mut self) -> Result<(), String> {
        let txn = self.db.begin().await.map_err(|e| e.to_string())?;
        for sql in self.pending.drain(..) {
            txn.execute_unprepared(&sql)
                .await
                .map_err(|e| format!("writing {}: {e}", self.table))?;
        }
        txn.commit().await.map_err(|e| e.to_string())
    }

    async fn finish(mut self) -> Result<usize, String> {
        self.statement();
        self.commit().await?;
        Ok(self.written)
    }
}

fn timestamp(day: i64, minute: i64) -> String {
    // The school year 2026-27 starts on August 24.
    let start = chrono::NaiveDate::from_ymd_opt(2026, 8, 24)
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .unwrap_or_default();
    let at = start + chrono::Duration::days(day) + chrono::Duration::minutes(minute);
    format!("'{}'", at.format("%Y-%m-%d %H:%M:%S"))
}

/// Fills an empty database; refuses one that already has classes.
pub async fn seed_demo(
    db: &DatabaseConnection,
    curriculum: &Curriculum,
    scale: f64,
    seed: u64,
) -> Result<DemoSummary, String> {
    let existing = class::Entity::find()
        .count(db)
        .await
        .map_err(|e| e.to_string())?;
    if existing > 0 {
        return Err(format!(
            "this database already has {existing} classes: seed-demo only fills an empty database (set TELLWISE_DATABASE_URL to a new one)"
        ));
    }
    if !(0.0..=10.0).contains(&scale) || scale == 0.0 {
        return Err("--scale must be above 0 and at most 10".into());
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let classes_total = ((4_000.0 * scale).round() as usize).max(1);
    let schools_total = classes_total.div_ceil(CLASSES_PER_SCHOOL);
    let id_base = |table: &str| format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
    let mut base = std::collections::BTreeMap::new();
    for table in TABLES {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                id_base(table),
            ))
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no row")?;
        let max: i64 = row
            .try_get_by_index::<i64>(0)
            .or_else(|_| row.try_get_by_index::<i32>(0).map(i64::from))
            .map_err(|e| e.to_string())?;
        base.insert(table, max);
    }
    let hash = crate::auth::passwords::dummy_hash();
    let mut summary = DemoSummary::default();

    let mut schools = Inserter::new(db, "schools", "id, name, created_at");
    let mut users = Inserter::new(
        db,
        "users",
        "id, school_id, email, display_name, password_hash, role, security_stamp, disabled, created_at",
    );
    for s in 1..=schools_total as i64 {
        let id = base["schools"] + s;
        schools
            .push(format!("({id}, 'Demo School {s}', {})", timestamp(-30, 0)))
            .await?;
    }
    summary.schools = schools.finish().await?;

    let tiers = Tier::ALL;
    let tier_of = |c: i64| tiers[c as usize % tiers.len()];
    // Each class takes four of its tier's modules and leaves out a different one from one class
    // of the tier to the next, so that every module of the curriculum has results.
    let modules_of = |c: i64| -> Vec<&crate::curriculum::Module> {
        let of_tier: Vec<_> = curriculum
            .modules()
            .into_iter()
            .filter(|m| m.tier == tier_of(c))
            .collect();
        let left_out = (c as usize / tiers.len()) % of_tier.len().max(1);
        let spare = of_tier.len().saturating_sub(MODULES_PER_CLASS);
        of_tier
            .into_iter()
            .enumerate()
            .filter(|(i, _)| spare == 0 || *i != left_out)
            .map(|(_, m)| m)
            .take(MODULES_PER_CLASS)
            .collect()
    };
    let class_id_of = |c: i64| base["classes"] + c + 1;
    let boolean = |b: bool| if b { "TRUE" } else { "FALSE" };

    // Rows are written parent before child, so that every foreign key holds when it is checked.
    let mut classes = Inserter::new(
        db,
        "classes",
        "id, school_id, teacher_id, name, tier, join_code, language, created_at",
    );
    for c in 0..classes_total as i64 {
        let class_id = class_id_of(c);
        let school_id = base["schools"] + c / CLASSES_PER_SCHOOL as i64 + 1;
        let teacher_id = base["users"] + c + 1;
        users
            .push(format!(
                "({teacher_id}, {school_id}, 'teacher{teacher_id}@demo.invalid', 'Demo Teacher {teacher_id}', '{hash}', 'teacher', 'demo', FALSE, {})",
                timestamp(-30, 0)
            ))
            .await?;
        classes
            .push(format!(
                "({class_id}, {school_id}, {teacher_id}, 'Class {class_id}', '{}', 'D{class_id:07}', 'en', {})",
                tier_of(c).as_str(),
                timestamp(-20, 0)
            ))
            .await?;
    }
    users.finish().await?;
    summary.classes = classes.finish().await?;

    let mut students = Inserter::new(
        db,
        "students",
        "id, class_id, display_name, secret, security_stamp, created_at",
    );
    let student_id_of = |c: i64, k: i64| base["students"] + c * STUDENTS_PER_CLASS as i64 + k + 1;
    for c in 0..classes_total as i64 {
        for k in 0..STUDENTS_PER_CLASS as i64 {
            let id = student_id_of(c, k);
            students
                .push(format!(
                    "({id}, {}, 'Student {id}', 'demo secret {}', 'demo', {})",
                    class_id_of(c),
                    rng.random_range(100..1000),
                    timestamp(-20, 0)
                ))
                .await?;
        }
    }
    summary.students = students.finish().await?;

    let mut assignments = Inserter::new(
        db,
        "assignments",
        "id, class_id, module_slug, due_on, created_at, removed_at",
    );
    let mut assignment_id = base["assignments"];
    let mut assignment_ids = Vec::with_capacity(classes_total);
    for c in 0..classes_total as i64 {
        let mut ids = Vec::new();
        for (week, module) in modules_of(c).iter().enumerate() {
            assignment_id += 1;
            ids.push(assignment_id);
            assignments
                .push(format!(
                    "({assignment_id}, {}, '{}', NULL, {}, NULL)",
                    class_id_of(c),
                    module.slug,
                    timestamp(week as i64 * 60 + c % 30, 0)
                ))
                .await?;
        }
        assignment_ids.push(ids);
    }
    summary.assignments = assignments.finish().await?;

    let mut attempts = Inserter::new(
        db,
        "attempts",
        "id, student_id, assignment_id, module_slug, content_version, language, steps_done, started_at, finished_at, score_correct, score_total, check_total, check_before_correct, check_after_correct",
    );
    let mut responses = Inserter::new(
        db,
        "responses",
        "id, attempt_id, step_id, phase, answer, correct, answered_at",
    );
    let (mut attempt_id, mut response_id) = (base["attempts"], base["responses"]);
    for c in 0..classes_total as i64 {
        for (week, module) in modules_of(c).iter().enumerate() {
            let assignment_id = assignment_ids[c as usize][week];
            let opens = week as i64 * 60 + c % 30;
            let checks = module.check_steps();
            let answered: Vec<(usize, &str)> = module
                .steps
                .iter()
                .enumerate()
                .filter(|(_, s)| s.kind.is_answered())
                .map(|(i, s)| (i, s.id.as_str()))
                .collect();
            for k in 0..STUDENTS_PER_CLASS as i64 {
                if !rng.random_bool(0.95) {
                    continue;
                }
                let student = student_id_of(c, k);
                attempt_id += 1;
                let ability: f64 = rng.random_range(0.45..0.97);
                let finished = rng.random_bool(0.85);
                let day = opens + rng.random_range(0..14);
                let minute = rng.random_range(0..400);
                let (mut right, mut total) = (0, 0);
                let (mut before_right, mut after_right) = (0, 0);
                for &index in &checks {
                    let ok = rng.random_bool((ability - 0.3).max(0.05));
                    before_right += i32::from(ok);
                    response_id += 1;
                    responses
                        .push(format!(
                            "({response_id}, {attempt_id}, '{}', 'pre', '[\"x\"]', {}, {})",
                            module.steps[index].id,
                            boolean(ok),
                            timestamp(day, minute)
                        ))
                        .await?;
                }
                let reached = if finished {
                    answered.len()
                } else {
                    rng.random_range(0..answered.len())
                };
                for (n, &(index, step)) in answered.iter().take(reached).enumerate() {
                    let ok = rng.random_bool(ability);
                    if let StepKind::Question(q) = &module.steps[index].kind {
                        total += 1;
                        right += i32::from(ok);
                        if q.check {
                            after_right += i32::from(ok);
                        }
                    }
                    response_id += 1;
                    responses
                        .push(format!(
                            "({response_id}, {attempt_id}, '{step}', 'main', '[\"x\"]', {}, {})",
                            boolean(ok),
                            timestamp(day, minute + 2 * n as i64 + 1)
                        ))
                        .await?;
                }
                let steps_done = if finished {
                    module.steps.len()
                } else {
                    answered.get(reached).map_or(0, |(i, _)| *i)
                };
                let end = timestamp(day, minute + 2 * reached as i64 + 3);
                let (finished_at, score, checks_done) = if finished {
                    (
                        end,
                        format!("{right}, {total}"),
                        format!("{}, {before_right}, {after_right}", checks.len()),
                    )
                } else {
                    (
                        "NULL".into(),
                        "NULL, NULL".into(),
                        "NULL, NULL, NULL".into(),
                    )
                };
                attempts
                    .push(format!(
                        "({attempt_id}, {student}, {assignment_id}, '{}', '{}', 'en', {steps_done}, {}, {finished_at}, {score}, {checks_done})",
                        module.slug,
                        module.version,
                        timestamp(day, minute)
                    ))
                    .await?;
            }
        }
        // Answers are written only after the attempts they belong to.
        if responses.due() {
            attempts.flush().await?;
            responses.flush().await?;
        }
    }
    summary.attempts = attempts.finish().await?;
    summary.answers = responses.finish().await?;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        // Ids were chosen here: move each sequence past them.
        for table in TABLES {
            db.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            ))
            .await
            .map_err(|e| e.to_string())?;
        }
    }
    // The attempts were written in bulk, past `progress::finish`: add them up once.
    crate::db::rebuild_rollups(db).await?;
    // PostgreSQL plans from table statistics, which still describe empty tables until its next
    // automatic analysis: right after a bulk load it chose nested loops that read thousands of
    // times more rows (a school roll-up's count of started modules took 128 ms, not 6 ms).
    // InnoDB recalculates its statistics after large changes by itself, and SQLite's figures
    // were measured without any.
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.execute_unprepared("ANALYZE")
            .await
            .map_err(|e| format!("updating the planner's statistics failed: {e}"))?;
    }
    Ok(summary)
}
