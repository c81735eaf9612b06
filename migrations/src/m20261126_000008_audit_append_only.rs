//! The audit log becomes append-only on every database: a trigger refuses UPDATE and DELETE
//! (and TRUNCATE on PostgreSQL), so neither the application nor an attacker who takes over its
//! database account can rewrite history. Only the schema owner could drop the triggers, and
//! with `migrate_on_start = false` the server's account is not the schema owner.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const REFUSAL: &str = "audit_events is append-only";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => vec![
                format!(
                    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
                     BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
                ),
                format!(
                    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
                     BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
                ),
            ],
            DatabaseBackend::Postgres => vec![
                format!(
                    "CREATE FUNCTION audit_events_append_only() RETURNS trigger \
                     LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
                ),
                "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events \
                 FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
                    .to_string(),
                "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events \
                 FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
                    .to_string(),
            ],
            DatabaseBackend::MySql => vec![
                format!(
                    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
                     FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{REFUSAL}'"
                ),
                format!(
                    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
                     FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{REFUSAL}'"
                ),
            ],
            other => {
                return Err(DbErr::Migration(format!(
                    "no append-only audit log for {other:?}"
                )));
            }
        };
        for statement in statements {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Postgres => &[
                "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
                "DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events",
                "DROP FUNCTION IF EXISTS audit_events_append_only()",
            ],
            _ => &[
                "DROP TRIGGER IF EXISTS audit_events_no_update",
                "DROP TRIGGER IF EXISTS audit_events_no_delete",
            ],
        };
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
