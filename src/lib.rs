//! Tellwise: prevention education for schools. `setup` turns configuration into a ready
//! Rocket (database connected and migrated, curriculum loaded); `main.rs` and the tests share it.

pub mod auth;
pub mod config;
pub mod curriculum;
pub mod db;
pub mod domain;
pub mod error;
pub mod routes;
pub mod views;

use rocket::figment::Figment;
use rocket::{Build, Rocket};
use sea_orm::DatabaseConnection;

use crate::auth::{Audience, Keys};
use crate::config::Settings;
use crate::curriculum::{Curriculum, CurriculumError};
use crate::views::Views;

/// Everything a request handler may need, managed as Rocket state.
pub struct App {
    pub db: DatabaseConnection,
    pub curriculum: Curriculum,
    pub settings: Settings,
    pub keys: Keys,
    pub limits: auth::limits::SignInLimits,
}

impl App {
    /// The link that lets the first person create the administrator account, while none exists.
    pub async fn setup_link(&self, base_url: &str) -> Result<Option<String>, String> {
        let exists = db::queries::staff::admin_exists(&self.db)
            .await
            .map_err(|e| e.to_string())?;
        if exists {
            return Ok(None);
        }
        let token = self.keys.issue(Audience::Setup, "setup", "setup")?;
        Ok(Some(format!(
            "{}/setup?token={token}",
            base_url.trim_end_matches('/')
        )))
    }
}

/// Loads the curriculum from the configured directory, or the one compiled into the binary.
pub fn load_curriculum(settings: &Settings) -> Result<Curriculum, Vec<CurriculumError>> {
    let modules = match &settings.curriculum_dir {
        Some(dir) => curriculum::load_dir(dir)?,
        None => curriculum::load_bundled()?,
    };
    Ok(Curriculum::new(modules))
}

/// Reads configuration, loads and checks the curriculum, connects to the database and runs the
/// migrations: everything that must succeed before the port opens.
pub async fn setup(figment: Figment) -> Result<Rocket<Build>, String> {
    let settings = config::load(&figment)?;
    let secret = config::secret_key(&figment, &settings)?;
    let curriculum = load_curriculum(&settings).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        format!(
            "the curriculum has {} error(s):\n{}",
            errors.len(),
            lines.join("\n")
        )
    })?;
    if curriculum.is_empty() {
        return Err("the curriculum has no modules".into());
    }
    let db = db::connect(&settings.database_url()).await?;
    db::migrate(&db).await?;
    let views = Views::load()?;
    let app = App {
        db,
        curriculum,
        keys: Keys::from_secret(&secret),
        settings,
        limits: Default::default(),
    };
    Ok(build_rocket(
        figment.merge(("secret_key", secret)),
        app,
        views,
    ))
}

pub fn build_rocket(figment: Figment, app: App, views: Views) -> Rocket<Build> {
    rocket::custom(figment)
        .manage(app)
        .manage(views)
        .attach(routes::SecurityHeaders)
        .mount("/", routes::routes())
        .register("/", routes::catchers())
}
