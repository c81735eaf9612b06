//! Classes, their students and their assignments. Every lookup on behalf of a teacher goes
//! through `class_for`, which answers "not found" for another teacher's class.

use std::collections::BTreeSet;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

use super::{conflict_or, is_unique_violation, ledger, now};
use crate::curriculum::{Language, Tier};
use crate::db::entities::user::{ROLE_ADMIN, ROLE_PARTNER, ROLE_SCHOOL_ADMIN};
use crate::db::entities::{assignment, class, student, user};
use crate::domain::codes::random_hex;
use crate::domain::codes::{JoinCode, generate_secret};
use crate::error::{AppError, AppResult};

pub async fn create(
    db: &impl ConnectionTrait,
    teacher: &user::Model,
    school_id: i32,
    name: &str,
    tier: Tier,
    language: Language,
) -> AppResult<class::Model> {
    let taken = || async {
        let existing = owned_by(db, teacher.id).await?;
        Ok::<_, AppError>(
            existing
                .iter()
                .any(|c| c.name.to_lowercase() == name.to_lowercase()),
        )
    };
    let conflict = || {
        AppError::Conflict(format!(
            "You already have a class called {name:?}: choose another name."
        ))
    };
    if taken().await? {
        return Err(conflict());
    }
    // A clash of six characters from 26 is rare; a few retries make it vanishingly so.
    for _ in 0..8 {
        let result = class::ActiveModel {
            school_id: Set(school_id),
            teacher_id: Set(teacher.id),
            name: Set(name.to_string()),
            tier: Set(tier.as_str().to_string()),
            join_code: Set(JoinCode::generate().as_str().to_string()),
            language: Set(language.code().to_string()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(db)
        .await;
        match result {
            Ok(class) => return Ok(class),
            // The same form sent twice at once: the first request created the class.
            Err(e) if is_unique_violation(&e) && taken().await? => return Err(conflict()),
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal(
        "could not find a free class code after 8 tries",
    ))
}

/// The classes a staff member can see: their own, or every class for an administrator.
/// Which classes a staff member may open, by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassScope {
    All,
    School(i32),
    Own(i32),
    /// Partners see aggregates only, never a class.
    NoClasses,
}

impl ClassScope {
    pub fn of(staff: &user::Model) -> Self {
        match staff.role.as_str() {
            ROLE_ADMIN => ClassScope::All,
            ROLE_SCHOOL_ADMIN => staff
                .school_id
                .map_or(ClassScope::NoClasses, ClassScope::School),
            ROLE_PARTNER => ClassScope::NoClasses,
            _ => ClassScope::Own(staff.id),
        }
    }

    pub fn allows(self, class: &class::Model) -> bool {
        match self {
            ClassScope::All => true,
            ClassScope::School(school) => class.school_id == school,
            ClassScope::Own(teacher) => class.teacher_id == teacher,
            ClassScope::NoClasses => false,
        }
    }
}

/// The classes a staff member may open, by name.
pub async fn visible_to(
    db: &impl ConnectionTrait,
    staff: &user::Model,
) -> AppResult<Vec<class::Model>> {
    let query = class::Entity::find().order_by_asc(class::Column::Name);
    let query = match ClassScope::of(staff) {
        ClassScope::All => query,
        ClassScope::School(school) => query.filter(class::Column::SchoolId.eq(school)),
        ClassScope::Own(teacher) => query.filter(class::Column::TeacherId.eq(teacher)),
        ClassScope::NoClasses => return Ok(Vec::new()),
    };
    Ok(query.all(db).await?)
}

/// A teacher's own classes, whatever else their role lets them see.
pub async fn owned_by(db: &impl ConnectionTrait, teacher_id: i32) -> AppResult<Vec<class::Model>> {
    Ok(class::Entity::find()
        .filter(class::Column::TeacherId.eq(teacher_id))
        .all(db)
        .await?)
}

/// A class the staff member may see, or "not found" (never "forbidden", which would confirm
/// that the class exists).
pub async fn class_for(
    db: &impl ConnectionTrait,
    staff: &user::Model,
    id: i32,
) -> AppResult<class::Model> {
    match class::Entity::find_by_id(id).one(db).await? {
        Some(class) if ClassScope::of(staff).allows(&class) => Ok(class),
        _ => Err(AppError::not_found()),
    }
}

/// A class the staff member may see and one of its active assignments, or "not found".
pub async fn class_and_assignment(
    db: &impl ConnectionTrait,
    staff: &user::Model,
    class_id: i32,
    assignment_id: i32,
) -> AppResult<(class::Model, assignment::Model)> {
    let class = class_for(db, staff, class_id).await?;
    let assignment = assignment_in_class(db, class.id, assignment_id).await?;
    Ok((class, assignment))
}

pub async fn by_join_code(
    db: &impl ConnectionTrait,
    code: &JoinCode,
) -> AppResult<Option<class::Model>> {
    Ok(class::Entity::find()
        .filter(class::Column::JoinCode.eq(code.as_str()))
        .one(db)
        .await?)
}

pub async fn students(db: &impl ConnectionTrait, class_id: i32) -> AppResult<Vec<student::Model>> {
    Ok(student::Entity::find()
        .filter(student::Column::ClassId.eq(class_id))
        .order_by_asc(student::Column::DisplayName)
        .all(db)
        .await?)
}

/// Adds students by display name, all or none; names are unique in a class, ignoring case.
pub async fn add_students(
    db: &DatabaseConnection,
    class_id: i32,
    names: &[String],
) -> AppResult<Vec<student::Model>> {
    let existing = students(db, class_id).await?;
    let mut seen: BTreeSet<String> = existing
        .iter()
        .map(|s| s.display_name.to_lowercase())
        .collect();
    for name in names {
        if !seen.insert(name.to_lowercase()) {
            return Err(AppError::Conflict(format!(
                "There is already a student called {name:?} in this class: add an initial or a number to tell them apart."
            )));
        }
    }
    let txn = db.begin().await?;
    let mut added = Vec::with_capacity(names.len());
    for name in names {
        let student = student::ActiveModel {
            class_id: Set(class_id),
            display_name: Set(name.clone()),
            secret: Set(generate_secret()),
            security_stamp: Set(random_hex(16)),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            conflict_or(
                e,
                &format!("There is already a student called {name:?} in this class."),
            )
        })?;
        added.push(student);
    }
    txn.commit().await?;
    Ok(added)
}

/// Ends every session of the student (a new security stamp), and with `secret` also gives them
/// new secret words.
async fn reset_student(
    db: &impl ConnectionTrait,
    student_id: i32,
    secret: Option<String>,
) -> AppResult<()> {
    let mut model = student::ActiveModel {
        security_stamp: Set(random_hex(16)),
        ..Default::default()
    };
    if let Some(secret) = secret {
        model.secret = Set(secret);
    }
    student::Entity::update_many()
        .set(model)
        .filter(student::Column::Id.eq(student_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn rotate_student_stamp(db: &impl ConnectionTrait, student_id: i32) -> AppResult<()> {
    reset_student(db, student_id, None).await
}

/// Gives the student new secret words (a lost or shared login card) and ends their sessions;
/// returns the new words for a new card.
pub async fn renew_student_secret(db: &impl ConnectionTrait, student_id: i32) -> AppResult<String> {
    let secret = generate_secret();
    reset_student(db, student_id, Some(secret.clone())).await?;
    Ok(secret)
}

pub async fn active_assignments(
    db: &impl ConnectionTrait,
    class_id: i32,
) -> AppResult<Vec<assignment::Model>> {
    Ok(assignment::Entity::find()
        .filter(assignment::Column::ClassId.eq(class_id))
        .filter(assignment::Column::RemovedAt.is_null())
        .order_by_asc(assignment::Column::CreatedAt)
        .order_by_asc(assignment::Column::Id)
        .all(db)
        .await?)
}

pub async fn assignment_in_class(
    db: &impl ConnectionTrait,
    class_id: i32,
    assignment_id: i32,
) -> AppResult<assignment::Model> {
    assignment::Entity::find_by_id(assignment_id)
        .filter(assignment::Column::ClassId.eq(class_id))
        .filter(assignment::Column::RemovedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Assigns a module, or updates the due date of an existing assignment. A module that was
/// unassigned comes back with the answers students had already given.
pub async fn assign(
    db: &DatabaseConnection,
    class_id: i32,
    slug: &str,
    due_on: Option<chrono::NaiveDate>,
) -> AppResult<assignment::Model> {
    let existing = assignment::Entity::find()
        .filter(assignment::Column::ClassId.eq(class_id))
        .filter(assignment::Column::ModuleSlug.eq(slug))
        .one(db)
        .await?;
    if let Some(existing) = existing {
        let restored = existing.removed_at.is_some();
        let mut model: assignment::ActiveModel = existing.into();
        model.due_on = Set(due_on);
        model.removed_at = Set(None);
        let txn = db.begin().await?;
        let updated = model.update(&txn).await?;
        if restored {
            recount_rollup(&txn, &updated).await?;
        }
        txn.commit().await?;
        return Ok(updated);
    }
    assignment::ActiveModel {
        class_id: Set(class_id),
        module_slug: Set(slug.to_string()),
        due_on: Set(due_on),
        created_at: Set(now()),
        removed_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| conflict_or(e, "This module is already assigned to the class."))
}

/// Unassigns the module; its finished attempts leave the roll-ups until it is assigned again.
pub async fn unassign(db: &DatabaseConnection, assignment: assignment::Model) -> AppResult<()> {
    let mut model: assignment::ActiveModel = assignment.into();
    model.removed_at = Set(Some(now()));
    let txn = db.begin().await?;
    let updated = model.update(&txn).await?;
    recount_rollup(&txn, &updated).await?;
    txn.commit().await?;
    Ok(())
}

/// Rebuilds the roll-up ledger of the assignment's (school, module) group.
async fn recount_rollup(
    db: &impl ConnectionTrait,
    assignment: &assignment::Model,
) -> AppResult<()> {
    let class = class::Entity::find_by_id(assignment.class_id)
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    ledger::rebuild_group(db, class.school_id, &assignment.module_slug).await
}
