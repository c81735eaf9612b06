//! Database migrations, compiled into the binary and run before the server opens its port.
//! Never edit or rename a migration that has shipped: add a new one.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_foundation;
mod m20261124_000002_partner_access;
mod m20261124_000003_attempt_check_scores;
mod m20261125_000004_rollup_ledger;
mod m20261125_000005_module_opt_outs;
mod m20261125_000006_audit_events;
mod m20261125_000007_retention;
mod m20261126_000008_audit_append_only;
mod m20261206_000009_vacated_places;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_foundation::Migration),
            Box::new(m20261124_000002_partner_access::Migration),
            Box::new(m20261124_000003_attempt_check_scores::Migration),
            Box::new(m20261125_000004_rollup_ledger::Migration),
            Box::new(m20261125_000005_module_opt_outs::Migration),
            Box::new(m20261125_000006_audit_events::Migration),
            Box::new(m20261125_000007_retention::Migration),
            Box::new(m20261126_000008_audit_append_only::Migration),
            Box::new(m20261206_000009_vacated_places::Migration),
        ]
    }
}
