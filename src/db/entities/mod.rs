//! SeaORM entities, one per table. Relations are expressed as explicit queries in
//! `db::queries`, so these stay plain rows; the one exception (student → class) serves the
//! student session guard's joined lookup.

pub mod assignment;
pub mod attempt;
pub mod audit_event;
pub mod class;
pub mod opt_out;
pub mod partner_school;
pub mod response;
pub mod rollup_archive;
pub mod rollup_entry;
pub mod rollup_head;
pub mod school;
pub mod student;
pub mod user;
pub mod vacated_place;
