//! Typed configuration read through Rocket's Figment (`Rocket.toml`, then `TELLWISE_*`
//! environment variables), validated once at start, plus the first-run secret key.

use std::path::{Path, PathBuf};

use rand::RngExt;
use rocket::figment::{
    Figment, Profile,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

/// Settings Tellwise reads besides Rocket's own (address, port, ...).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default)]
    pub database_url: Option<String>,
    /// How an SQLite database commits: `full` (the default) waits until each answer is on the
    /// disk itself, so even a power cut loses nothing acknowledged; `normal` leaves that to the
    /// operating system, which survives the server being killed but may lose the last seconds
    /// of answers to a power cut or an operating-system crash, for about 1.6 times the answers
    /// a second (README, "Performance").
    #[serde(default)]
    pub sqlite_synchronous: crate::db::SqliteSync,
    #[serde(default = "default_min_group_size")]
    pub min_group_size: u32,
    /// The same for school, district and partner reports, which span many classes.
    #[serde(default = "default_rollup_min_group_size")]
    pub rollup_min_group_size: u32,
    #[serde(default)]
    pub secure_cookies: bool,
    /// A staff session ends after this many minutes without a request...
    #[serde(default = "default_staff_idle_minutes")]
    pub staff_idle_minutes: u32,
    /// ...and this many hours after signing in, however active.
    #[serde(default = "default_staff_max_hours")]
    pub staff_max_hours: u32,
    /// A class's student data is removed this many days after the class ends (by hand, or on
    /// 1 August after the school year it was created in).
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    /// Remove due student data from a background task every hour; off leaves it to
    /// `tellwise purge` (e.g. from cron) and to administrators.
    #[serde(default = "default_true")]
    pub purge_automatically: bool,
    /// Apply pending migrations when the server starts. Off, the server's database account
    /// needs no right to change the schema: it refuses to start until `tellwise migrate`, run
    /// by an account that may, has brought the database up to date.
    #[serde(default = "default_true")]
    pub migrate_on_start: bool,
    /// Allow a database on another machine without a verified TLS connection (a private
    /// network the school trusts). Off, such a `database_url` is refused at start.
    #[serde(default)]
    pub allow_unverified_database: bool,
    /// Changes (forms, API calls, answers) per signed-in account and minute, per app server.
    #[serde(default = "default_writes_per_minute")]
    pub writes_per_minute: u32,
    /// Reports and exports per staff account and minute, per app server.
    #[serde(default = "default_reports_per_minute")]
    pub reports_per_minute: u32,
    /// During a key rotation, the secret key being replaced: tokens it signed stay valid until
    /// they expire. Remove it once the longest session (a school day) has passed.
    #[serde(default)]
    pub previous_secret_key: Option<String>,
    #[serde(default)]
    pub public_url: Option<String>,
    /// Replaces the bundled curriculum (for curriculum authors).
    #[serde(default)]
    pub curriculum_dir: Option<PathBuf>,
    /// A school's own modules, added to the bundled ones.
    #[serde(default)]
    pub extra_curriculum_dirs: Vec<PathBuf>,
    #[serde(default)]
    pub help: HelpSettings,
}

/// The school's own help contacts, shown above the national defaults.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct HelpSettings {
    #[serde(default)]
    pub trusted_adult: Option<String>,
    #[serde(default)]
    pub local: Vec<HelpContact>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct HelpContact {
    pub name: String,
    pub contact: String,
    #[serde(default)]
    pub description: Option<String>,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

fn default_rollup_min_group_size() -> u32 {
    10
}

fn default_min_group_size() -> u32 {
    5
}

fn default_staff_idle_minutes() -> u32 {
    30
}

fn default_staff_max_hours() -> u32 {
    12
}

fn default_retention_days() -> u32 {
    180
}

fn default_writes_per_minute() -> u32 {
    300
}

fn default_reports_per_minute() -> u32 {
    60
}

fn default_true() -> bool {
    true
}

impl Settings {
    /// Every help contact text the help page shows: the school's own, then the national ones.
    pub fn help_contact_texts(&self) -> Vec<String> {
        let mut texts: Vec<String> = self.help.trusted_adult.iter().cloned().collect();
        for contact in self.help.local.iter().chain(&national_help()) {
            texts.push(contact.contact.clone());
            texts.extend(contact.description.clone());
        }
        texts
    }

    /// How long staff sessions last without activity, and at most.
    pub fn staff_session(&self) -> crate::auth::tokens::StaffLifetime {
        crate::auth::tokens::StaffLifetime {
            idle_secs: i64::from(self.staff_idle_minutes) * 60,
            max_secs: i64::from(self.staff_max_hours) * 3600,
        }
    }

    /// The database URL, defaulting to an SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.trim().to_string(),
            _ => format!(
                "sqlite://{}",
                self.data_dir.join("tellwise.sqlite").display()
            ),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        let url = self.database_url();
        if !self.allow_unverified_database
            && let Ok(backend) = crate::db::Backend::from_url(&url)
            && let Some(advice) = crate::db::tls_advice(backend, &url)
        {
            return Err(format!(
                "{advice}; or, on a network you trust, set allow_unverified_database = true"
            ));
        }
        if self.min_group_size < 1 || self.rollup_min_group_size < 1 {
            return Err("min_group_size and rollup_min_group_size must be at least 1".into());
        }
        if self
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
            && !self.secure_cookies
        {
            return Err(
                "public_url is https:// but secure_cookies is false: set secure_cookies = true so that cookies are Secure and __Host- over HTTPS"
                    .into(),
            );
        }
        if self.writes_per_minute < 1 || self.reports_per_minute < 1 {
            return Err("writes_per_minute and reports_per_minute must be at least 1".into());
        }
        if self.staff_idle_minutes < 1 || self.staff_max_hours < 1 {
            return Err("staff_idle_minutes and staff_max_hours must be at least 1".into());
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "public_url must start with http:// or https://, got {url:?}"
            ));
        }
        Ok(())
    }
}

/// Rocket's defaults, then `Rocket.toml` (or the file in `TELLWISE_CONFIG`), then the
/// environment: `ROCKET_*` for compatibility and `TELLWISE_*`, which wins.
pub fn figment() -> Figment {
    let file = Env::var_or("TELLWISE_CONFIG", "Rocket.toml");
    let profile = Env::var("TELLWISE_PROFILE")
        .map(|name| Profile::new(&name))
        .unwrap_or_else(|| rocket::Config::DEFAULT_PROFILE);
    Figment::from(rocket::Config::default())
        .merge(Serialized::defaults(DefaultSettings::default()))
        .merge(Toml::file(file).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .merge(
            Env::prefixed("TELLWISE_")
                .ignore(&["PROFILE", "CONFIG"])
                .global(),
        )
        .select(profile)
}

/// Defaults that differ from Rocket's: Tellwise logs through `tracing`, so Rocket's own
/// colourful banner is kept short.
#[derive(Serialize, Default)]
struct DefaultSettings {
    cli_colors: bool,
    /// Rocket trusts `X-Real-IP` by default, which anyone can send: the sign-in limits per
    /// address would be easy to dodge. Behind a proxy that sets it, configure `ip_header`.
    ip_header: bool,
}

pub fn load(figment: &Figment) -> Result<Settings, String> {
    let settings: Settings = figment
        .extract()
        .map_err(|e| format!("configuration error: {e}"))?;
    settings.validate()?;
    Ok(settings)
}

/// The secret key from configuration (`secret_key`, e.g. `TELLWISE_SECRET_KEY`, which every app
/// server behind a load balancer must share), or the one kept in the data directory, generated
/// on first run. Never committed, never logged.
pub fn secret_key(figment: &Figment, settings: &Settings) -> Result<String, String> {
    // Rocket's own default for this key is a byte sequence, not a string: ignore it.
    if let Ok(key) = figment.extract_inner::<String>("secret_key") {
        return Ok(key);
    }
    let path = settings.data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(key) => Ok(key.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => generate_secret_key(&path),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn generate_secret_key(path: &Path) -> Result<String, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
    }
    let bytes: [u8; 32] = rand::rng().random();
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &key).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new secret key");
    Ok(key)
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// National help contacts shown on every help page after the school's own. From the project's
/// sourced list; verify before each school year.
pub fn national_help_in(language: crate::curriculum::Language) -> Vec<HelpContact> {
    match language {
        crate::curriculum::Language::En => national_help(),
        crate::curriculum::Language::Es => national_help_es(),
    }
}

/// The national contacts in Spanish; the numbers are the same as in English.
fn national_help_es() -> Vec<HelpContact> {
    let contact = |name: &str, contact: &str, description: &str| HelpContact {
        name: name.into(),
        contact: contact.into(),
        description: Some(description.into()),
    };
    vec![
        contact(
            "Emergencias",
            "Llama al 911",
            "Si alguien está en peligro ahora mismo.",
        ),
        contact(
            "Línea Nacional contra la Trata de Personas",
            "Llama al 1-888-373-7888, envía un mensaje de texto al 233733 (TTY 711)",
            "Gratis, privada y abierta de día y de noche, con intérpretes.",
        ),
        contact(
            "CyberTipline del NCMEC",
            "CyberTipline.org o 1-800-843-5678 (1-800-THE-LOST)",
            "Denuncia a alguien en línea que le pide fotos a una persona joven o quiere verla en persona.",
        ),
        contact(
            "Take It Down (NCMEC)",
            "takeitdown.ncmec.org",
            "Ayuda a quitar fotos desnudas de alguien menor de 18 años. La foto nunca sale de tu dispositivo.",
        ),
        contact(
            "988 Línea de Prevención del Suicidio y Crisis",
            "Llama o envía un mensaje de texto al 988 (marca 2 para español)",
            "Si te sientes abrumado o en peligro.",
        ),
        contact(
            "Crisis Text Line",
            "Envía HOME al 741741 (en inglés) o AYUDA al 741741",
            "Escríbele a una persona capacitada, a cualquier hora.",
        ),
        contact(
            "FBI",
            "tips.fbi.gov o 1-800-CALL-FBI",
            "Denuncia amenazas o a alguien que te exige fotos o dinero.",
        ),
    ]
}

pub fn national_help() -> Vec<HelpContact> {
    let contact = |name: &str, contact: &str, description: &str| HelpContact {
        name: name.into(),
        contact: contact.into(),
        description: Some(description.into()),
    };
    vec![
        contact(
            "Emergency",
            "Call 911",
            "If someone is in danger right now.",
        ),
        contact(
            "National Human Trafficking Hotline",
            "Call 1-888-373-7888, text 233733 (TTY 711)",
            "Free, private and open all day and night, with interpreters.",
        ),
        contact(
            "NCMEC CyberTipline",
            "CyberTipline.org or 1-800-843-5678 (1-800-THE-LOST)",
            "Report someone online who asks a young person for pictures or to meet.",
        ),
        contact(
            "Take It Down (NCMEC)",
            "takeitdown.ncmec.org",
            "Helps remove nude pictures taken of someone under 18. The picture never leaves your device.",
        ),
        contact(
            "988 Suicide & Crisis Lifeline",
            "Call or text 988 (press 2 for Spanish)",
            "If you feel overwhelmed or unsafe.",
        ),
        contact(
            "Crisis Text Line",
            "Text HOME to 741741",
            "Text with a trained helper, any time.",
        ),
        contact(
            "FBI",
            "tips.fbi.gov or 1-800-CALL-FBI",
            "Report threats or someone demanding pictures or money.",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_defaults_to_sqlite_in_data_dir() {
        let settings: Settings = Figment::new().extract().expect("defaults");
        assert_eq!(settings.database_url(), "sqlite://data/tellwise.sqlite");
        assert_eq!(settings.min_group_size, 5);
    }

    #[test]
    fn secret_key_is_generated_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = Settings {
            data_dir: dir.path().join("nested"),
            ..Figment::new().extract().expect("defaults")
        };
        let figment = Figment::new();
        let first = secret_key(&figment, &settings).expect("generated");
        assert_eq!(first.len(), 64);
        assert_eq!(secret_key(&figment, &settings).expect("read back"), first);
    }

    #[test]
    fn public_url_must_be_http() {
        let settings = Settings {
            public_url: Some("ftp://x".into()),
            ..Figment::new().extract().expect("defaults")
        };
        assert!(settings.validate().is_err());
    }
}
