//! Domain rules with no HTTP or database types: class codes and student secrets, scoring of
//! answers, and the aggregate results with small-group suppression.

pub mod codes;
pub mod input;
pub mod results;
pub mod scoring;
