//! SeaORM entities, one per table. Relations are expressed as explicit queries in
//! `db::queries`, so these stay plain rows.

pub mod assignment;
pub mod attempt;
pub mod class;
pub mod partner_school;
pub mod response;
pub mod school;
pub mod student;
pub mod user;
