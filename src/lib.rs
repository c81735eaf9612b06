//! Tellwise: prevention education for schools. `setup` turns configuration into a ready
//! Rocket (database connected and migrated, curriculum loaded); `main.rs` and the tests share it.

pub mod auth;
pub mod config;
pub mod curriculum;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod routes;
pub mod views;

use rocket::figment::Figment;
use rocket::{Build, Rocket};
use sea_orm::DatabaseConnection;

use crate::auth::{Audience, Keys};
use crate::config::Settings;
use crate::curriculum::{ContentRules, Curriculum, CurriculumError};
use crate::views::Views;

/// Everything a request handler may need, managed as Rocket state.
pub struct App {
    pub db: DatabaseConnection,
    pub curriculum: Curriculum,
    pub settings: Settings,
    pub keys: Keys,
    pub limits: auth::limits::SignInLimits,
    pub action_limits: auth::limits::ActionLimits,
    pub writes: db::WriteQueue,
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

/// Loads the curriculum from the configured directory, or the one compiled into the binary,
/// plus any extra directories of the school's own modules, and checks all of it against the
/// configured help contacts.
pub fn load_curriculum(settings: &Settings) -> Result<Curriculum, Vec<CurriculumError>> {
    let contacts = settings.help_contact_texts();
    let rules = ContentRules::for_contacts(contacts.iter().map(String::as_str));
    let mut errors = Vec::new();
    let mut modules = match &settings.curriculum_dir {
        Some(dir) => curriculum::load_dir(dir, &rules),
        None => curriculum::load_bundled(&rules),
    }
    .unwrap_or_else(|mut e| {
        errors.append(&mut e);
        Vec::new()
    });
    for dir in &settings.extra_curriculum_dirs {
        match curriculum::load_dir(dir, &rules) {
            Ok(extra) => {
                for module in extra {
                    if modules
                        .iter()
                        .any(|m| m.slug == module.slug && m.language == module.language)
                    {
                        errors.push(CurriculumError {
                            file: dir.join(&module.slug).display().to_string(),
                            line: 0,
                            field: "slug".into(),
                            message: format!(
                                "{:?} is already a module; give the school's module its own slug",
                                module.slug
                            ),
                        });
                    } else {
                        modules.push(module);
                    }
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(Curriculum::new(modules))
    } else {
        Err(errors)
    }
}

/// Reads configuration, loads and checks the curriculum, connects to the database and runs the
/// migrations: everything that must succeed before the port opens.
pub async fn setup(figment: Figment) -> Result<Rocket<Build>, String> {
    setup_observed(figment, |_| {}).await
}

/// `setup`, letting the caller watch the database connection before the app gets it (the
/// tests count the queries each page makes with a metric callback).
pub async fn setup_observed(
    figment: Figment,
    observe: impl FnOnce(&mut DatabaseConnection),
) -> Result<Rocket<Build>, String> {
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
    let mut db = db::connect_with(&settings.database_url(), settings.sqlite_synchronous).await?;
    observe(&mut db);
    if settings.migrate_on_start {
        db::migrate(&db).await?;
    } else {
        db::check_migrated(&db).await?;
    }
    let views = Views::load()?;
    let app = App {
        writes: db::WriteQueue::for_backend(db.get_database_backend()),
        db,
        curriculum,
        keys: Keys::rotating(&secret, settings.previous_secret_key.as_deref()),
        action_limits: auth::limits::ActionLimits::new(
            settings.writes_per_minute,
            settings.reports_per_minute,
        ),
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
    let (keep_retention, stop_retention) = rocket::tokio::sync::oneshot::channel::<()>();
    rocket::custom(figment)
        .manage(app)
        .manage(RetentionJob(keep_retention))
        .manage(views)
        .attach(routes::SecurityHeaders)
        .attach(retention_job(stop_retention))
        .mount("/", routes::routes())
        .register("/", routes::catchers())
}

/// Held by the Rocket as managed state: when the Rocket goes (a test's client dropped, say),
/// the sender goes with it and the retention job stops, releasing its database connections.
struct RetentionJob(#[allow(dead_code)] rocket::tokio::sync::oneshot::Sender<()>);

/// Every hour (and once at start), removes the student data of classes whose retention period
/// has passed, unless `purge_automatically` is off. Safe on several app servers at once: each
/// class is claimed by one of them.
fn retention_job(
    mut stopped: rocket::tokio::sync::oneshot::Receiver<()>,
) -> rocket::fairing::AdHoc {
    rocket::fairing::AdHoc::on_liftoff("retention", move |rocket| {
        Box::pin(async move {
            let Some(app) = rocket.state::<App>() else {
                return;
            };
            if !app.settings.purge_automatically {
                return;
            }
            let db = app.db.clone();
            let days = app.settings.retention_days;
            let mut shutdown = rocket.shutdown();
            rocket::tokio::spawn(async move {
                let mut hourly =
                    rocket::tokio::time::interval(std::time::Duration::from_secs(3600));
                loop {
                    rocket::tokio::select! {
                        _ = hourly.tick() => {}
                        _ = &mut shutdown => break,
                        _ = &mut stopped => break,
                    }
                    let now = db::queries::now();
                    match db::queries::retention::purge_due(&db, now, days).await {
                        Ok(purged) if !purged.is_empty() => tracing::info!(
                            classes = purged.len(),
                            "student data removed after the retention period"
                        ),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "retention check failed; retrying in an hour")
                        }
                    }
                }
            });
        })
    })
}
