//! The curriculum: modules read from files once at start into typed structs, validated with
//! errors that name the file, line and field. Nothing here knows about HTTP or the database.

mod loader;
mod model;
mod render;

pub use loader::{CurriculumError, load_bundled, load_dir, parse_module};
pub use model::*;
pub use render::markdown_to_safe_html;

use std::collections::BTreeMap;

/// Every module, by slug, in a stable order.
#[derive(Debug, Default)]
pub struct Curriculum {
    modules: BTreeMap<String, Module>,
}

impl Curriculum {
    pub fn new(modules: Vec<Module>) -> Self {
        Self {
            modules: modules.into_iter().map(|m| (m.slug.clone(), m)).collect(),
        }
    }

    pub fn get(&self, slug: &str) -> Option<&Module> {
        self.modules.get(slug)
    }

    /// Modules ordered by tier, then title.
    pub fn modules(&self) -> Vec<&Module> {
        let mut modules: Vec<&Module> = self.modules.values().collect();
        modules.sort_by(|a, b| (a.tier, &a.title).cmp(&(b.tier, &b.title)));
        modules
    }

    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }
}
