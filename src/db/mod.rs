//! Database connection: the URL's scheme picks the backend, SQLite gets its pragmas on every
//! connection, and migrations run before anything else touches the schema.

pub mod entities;
pub mod queries;

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    /// Refuses unknown schemes so a typo never silently creates a new SQLite file.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "mysql" | "mariadb" => Ok(Self::MySql),
            _ => Err(format!(
                "unsupported database URL scheme {scheme:?}: use sqlite://PATH, postgres://... or mysql://... (MariaDB)"
            )),
        }
    }
}

const SQLITE_CONNECTIONS: u32 = 4;

/// The line students' answers wait in on SQLite. SQLite lets one connection write at a time and
/// makes the others retry after sleeps that grow to 100 ms, during which the write lock can sit
/// free; queued here instead, in order, the next answer starts the moment the last one is
/// committed. PostgreSQL and MariaDB take concurrent writers themselves: no line there.
pub struct WriteQueue(Option<rocket::tokio::sync::Semaphore>);

impl WriteQueue {
    pub fn for_backend(backend: sea_orm::DatabaseBackend) -> Self {
        Self(
            (backend == sea_orm::DatabaseBackend::Sqlite)
                .then(|| rocket::tokio::sync::Semaphore::new(1)),
        )
    }

    /// Waits for this request's turn to write; the turn ends when the returned value is dropped.
    pub async fn turn(&self) -> Option<rocket::tokio::sync::SemaphorePermit<'_>> {
        match &self.0 {
            // The semaphore is never closed, so acquiring cannot fail.
            Some(line) => line.acquire().await.ok(),
            None => None,
        }
    }
}

/// SQLite's `synchronous` setting in WAL mode (see `Settings::sqlite_synchronous`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSync {
    #[default]
    Full,
    Normal,
}

/// Connects and fails with a message naming the backend when the server cannot be reached.
/// SQLite commits with `synchronous=FULL`; see [`connect_with`].
pub async fn connect(url: &str) -> Result<DatabaseConnection, String> {
    connect_with(url, SqliteSync::Full).await
}

/// As [`connect`], choosing how SQLite commits.
pub async fn connect_with(url: &str, sync: SqliteSync) -> Result<DatabaseConnection, String> {
    let backend = Backend::from_url(url)?;
    let url = match backend {
        Backend::Sqlite => prepare_sqlite_url(url)?,
        Backend::MySql => url.replacen("mariadb:", "mysql:", 1),
        Backend::Postgres => url.to_string(),
    };
    if let Some(advice) = tls_advice(backend, &url) {
        tracing::warn!("{advice}");
    }
    let mut options = ConnectOptions::new(url);
    options
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    if backend == Backend::Sqlite {
        // Measured with benches/page_speed.sh on 2 cores: a pool kept at a fixed 4 connections
        // (SQLite writes one at a time anyway), without a ping before each use of a local
        // file, serves a quiz page about 1.5 times as often as sqlx's default pool.
        options
            .max_connections(SQLITE_CONNECTIONS)
            .min_connections(SQLITE_CONNECTIONS)
            .test_before_acquire(false);
        options.map_sqlx_sqlite_opts(move |opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(match sync {
                    SqliteSync::Full => SqliteSynchronous::Full,
                    SqliteSync::Normal => SqliteSynchronous::Normal,
                })
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    }
    Database::connect(options)
        .await
        .map_err(|e| format!("cannot connect to the {backend:?} database: {e}"))
}

/// A warning when a database server on another machine is reached without a verified TLS
/// connection: students' data would cross the network readable, or to an impostor. Names the
/// host only, never the URL (it may hold a password).
pub fn tls_advice(backend: Backend, url: &str) -> Option<String> {
    let (verify, setting) = match backend {
        Backend::Sqlite => return None,
        Backend::Postgres => (
            ["sslmode=verify-full", "sslmode=verify-ca"],
            "sslmode=verify-full",
        ),
        Backend::MySql => (
            ["ssl-mode=verify_identity", "ssl-mode=verify_ca"],
            "ssl-mode=VERIFY_IDENTITY",
        ),
    };
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (authority, query) = match after_scheme.split_once('?') {
        Some((before, query)) => (before.split('/').next().unwrap_or(""), query),
        None => (after_scheme.split('/').next().unwrap_or(""), ""),
    };
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    let local = host.is_empty() || host == "localhost" || host == "::1" || host.starts_with("127.");
    let query = query.to_ascii_lowercase();
    if local
        || verify
            .iter()
            .any(|v| query.split('&').any(|pair| pair == *v))
    {
        return None;
    }
    Some(format!(
        "the database at {host} is reached without verified TLS: add ?{setting} to the database URL (see SECURITY.md)"
    ))
}

/// Writes a consistent copy of a running SQLite database to `target` with `VACUUM INTO`, which
/// reads one snapshot while the server keeps writing. PostgreSQL and MariaDB have their own
/// tools, which do the same job better than Tellwise could.
pub async fn backup(
    db: &DatabaseConnection,
    url: &str,
    target: &std::path::Path,
) -> Result<(), String> {
    if let Some(advice) = dump_advice(Backend::from_url(url)?) {
        return Err(advice.into());
    }
    if target.exists() {
        return Err(format!(
            "{} already exists: choose a new file",
            target.display()
        ));
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let path = target
        .to_str()
        .ok_or("the backup path must be valid UTF-8")?
        .replace('\'', "''");
    // An empty file is a valid target for VACUUM INTO; creating it first keeps the copy private
    // from its first byte.
    crate::config::write_private(target, "")
        .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
    db.execute_unprepared(&format!("VACUUM INTO '{path}'"))
        .await
        .map_err(|e| format!("backup failed: {e}"))?;
    Ok(())
}

/// How to back up the databases that have their own dump tools.
fn dump_advice(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(
            "for PostgreSQL, back up with pg_dump: pg_dump --format=custom --file=tellwise.dump \"$TELLWISE_DATABASE_URL\" (restore with pg_restore)",
        ),
        Backend::MySql => Some(
            "for MariaDB, back up with mariadb-dump --single-transaction tellwise > tellwise.sql (restore with mariadb tellwise < tellwise.sql)",
        ),
    }
}

/// `sqlite://path` needs its directory to exist and `mode=rwc` so a first run creates the file.
fn prepare_sqlite_url(url: &str) -> Result<String, String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(
            "the sqlite:// URL needs a file path, e.g. sqlite://data/tellwise.sqlite".into(),
        );
    }
    if path != ":memory:"
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create database directory {}: {e}", dir.display()))?;
    }
    // Students' data: readable by the server's account only. SQLite gives its WAL and shared
    // memory files the database file's permissions.
    let file = std::path::Path::new(path);
    if path != ":memory:" && !file.exists() {
        crate::config::write_private(file, "")
            .map_err(|e| format!("cannot create database file {}: {e}", file.display()))?;
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// For `migrate_on_start = false`: reads the applied migrations (a SELECT only, so the server's
/// account needs no schema rights) and refuses to go on while any is missing.
pub async fn check_migrated(db: &DatabaseConnection) -> Result<(), String> {
    let applied: Vec<String> = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations",
        ))
        .await
        .map(|rows| {
            rows.iter()
                .filter_map(|row| row.try_get_by_index::<String>(0).ok())
                .collect()
        })
        .unwrap_or_default();
    let missing = Migrator::migrations()
        .iter()
        .filter(|m| !applied.iter().any(|a| a == m.name()))
        .count();
    if missing == 0 {
        return Ok(());
    }
    Err(format!(
        "the database needs {missing} migration(s) and migrate_on_start is off: run `tellwise migrate` with an account that may change the schema"
    ))
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), String> {
    let failed = |e: sea_orm::DbErr| format!("database migration failed: {e}");
    let pending = Migrator::get_pending_migrations(db).await.map_err(failed)?;
    let ledger_is_new = pending
        .iter()
        .any(|m| LEDGER_REBUILT_AFTER.contains(&m.name()));
    Migrator::up(db, None).await.map_err(failed)?;
    if ledger_is_new {
        // A database from before the ledger, or before it kept vacated places: fill it from the
        // attempts already finished, once, as every later rebuild will.
        rebuild_rollups(db).await?;
    }
    Ok(())
}

const LEDGER_REBUILT_AFTER: [&str; 2] = [
    "m20261125_000004_rollup_ledger",
    "m20261206_000009_vacated_places",
];

/// Rewrites the whole roll-up ledger from the attempts (after a bulk import such as seed-demo).
pub async fn rebuild_rollups(db: &DatabaseConnection) -> Result<(), String> {
    use sea_orm::TransactionTrait;
    let failed = |e: String| format!("rebuilding the roll-up sums failed: {e}");
    let txn = db.begin().await.map_err(|e| failed(e.to_string()))?;
    queries::ledger::rebuild(&txn, queries::ledger::Groups::All)
        .await
        .map_err(|e| failed(e.to_string()))?;
    txn.commit().await.map_err(|e| failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_commits_with_full_unless_told_otherwise() {
        assert_eq!(SqliteSync::default(), SqliteSync::Full);
    }

    #[rocket::async_test]
    async fn sqlite_writers_take_turns_and_server_databases_need_none() {
        let line = WriteQueue::for_backend(sea_orm::DatabaseBackend::Sqlite);
        let first = line.turn().await;
        assert!(first.is_some());
        let waiting = rocket::tokio::time::timeout(Duration::from_millis(50), line.turn()).await;
        assert!(
            waiting.is_err(),
            "a second writer waits while the first writes"
        );
        drop(first);
        assert!(
            line.turn().await.is_some(),
            "and goes once the first is done"
        );
        for backend in [
            sea_orm::DatabaseBackend::Postgres,
            sea_orm::DatabaseBackend::MySql,
        ] {
            let free = WriteQueue::for_backend(backend);
            let (a, b) = (free.turn().await, free.turn().await);
            assert!(a.is_none() && b.is_none());
        }
    }

    #[test]
    fn scheme_picks_backend_and_unknown_is_refused() {
        assert_eq!(Backend::from_url("sqlite://x.db"), Ok(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            Ok(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://root@h/db"), Ok(Backend::MySql));
        assert!(Backend::from_url("sqlite3://x.db").is_err());
        assert!(Backend::from_url("data/tellwise.sqlite").is_err());
    }

    #[test]
    fn server_databases_are_backed_up_with_their_own_dump_tools() {
        assert_eq!(dump_advice(Backend::Sqlite), None);
        assert!(dump_advice(Backend::Postgres).is_some_and(|a| a.contains("pg_dump")));
        assert!(dump_advice(Backend::MySql).is_some_and(|a| a.contains("mariadb-dump")));
    }

    #[test]
    fn a_remote_database_without_verified_tls_is_warned_about() {
        let warned = |url: &str| tls_advice(Backend::from_url(url).expect("scheme"), url);
        assert_eq!(warned("sqlite://data/t.sqlite"), None);
        assert_eq!(warned("postgres://tw:pw@127.0.0.1:5432/tw"), None);
        assert_eq!(warned("mysql://root@localhost/tw"), None);
        assert_eq!(
            warned("postgres://tw@db.internal/tw?sslmode=verify-full"),
            None
        );
        assert_eq!(
            warned("mysql://tw@db.internal/tw?ssl-mode=VERIFY_IDENTITY"),
            None
        );
        let advice =
            warned("postgres://tw:hunter2@db.internal:5432/tw?sslmode=require").expect("a warning");
        assert!(advice.contains("db.internal") && advice.contains("sslmode=verify-full"));
        assert!(!advice.contains("hunter2"), "never the password: {advice}");
        assert!(warned("mysql://tw@[2001:db8::5]:3306/tw").is_some());
    }

    #[test]
    fn sqlite_url_gets_create_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/t.sqlite");
        let url = prepare_sqlite_url(&format!("sqlite://{}", path.display())).expect("url");
        assert!(url.ends_with("?mode=rwc"));
        assert!(path.parent().expect("parent").is_dir());
    }
}
