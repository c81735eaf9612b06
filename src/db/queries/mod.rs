//! Queries, one file per aggregate. They take and return entities and plain values, never HTTP
//! types; a unique-constraint violation becomes a `Conflict` that says what to change.

pub mod audit;
pub mod classes;
pub mod ledger;
pub mod opt_outs;
pub mod progress;
pub mod records;
pub mod reports;
pub mod retention;
pub mod staff;

use sea_orm::{DbErr, SqlErr};

use crate::error::AppError;

pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Maps a unique violation to a conflict with `message`; anything else stays a database error.
pub fn conflict_or(err: DbErr, message: &str) -> AppError {
    if is_unique_violation(&err) {
        AppError::Conflict(message.to_string())
    } else {
        AppError::Database(err)
    }
}

pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}
