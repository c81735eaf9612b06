//! The curriculum: modules read from files once at start into typed structs, validated with
//! errors that name the file, line and field. Nothing here knows about HTTP or the database.

mod loader;
mod model;
pub mod quality;
mod render;
mod translation;

pub use loader::{
    ContentRules, CurriculumError, MAX_MINUTES, MIN_MINUTES, load_bundled, load_dir, parse_module,
};
pub use model::*;
pub use render::{markdown_to_plain_text, markdown_to_safe_html};

use std::collections::BTreeMap;

/// Every module, by slug, in a stable order; English modules plus their translations.
#[derive(Debug, Default)]
pub struct Curriculum {
    modules: BTreeMap<String, Module>,
    translations: BTreeMap<(String, Language), Module>,
}

impl Curriculum {
    pub fn new(modules: Vec<Module>) -> Self {
        let mut curriculum = Self::default();
        for module in modules {
            match module.language {
                Language::En => {
                    curriculum.modules.insert(module.slug.clone(), module);
                }
                language => {
                    curriculum
                        .translations
                        .insert((module.slug.clone(), language), module);
                }
            }
        }
        curriculum
    }

    /// A module in English, the language answers and reports are checked in.
    pub fn get(&self, slug: &str) -> Option<&Module> {
        self.modules.get(slug)
    }

    /// A module as a student reads it: in their language when it has been translated.
    pub fn get_in(&self, slug: &str, language: Language) -> Option<&Module> {
        self.translations
            .get(&(slug.to_string(), language))
            .or_else(|| self.get(slug))
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
