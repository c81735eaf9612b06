//! Starting up: the database URL picks the backend and bad ones fail clearly; the command line
//! creates an administrator, migrates, and `serve` prints the one-time setup link.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use rocket::figment::Figment;
use sea_orm::{ConnectionTrait, DatabaseBackend};

#[rocket::async_test]
async fn tests_run_on_the_backend_they_were_asked_for() {
    let env = common::TestEnv::new().await;
    let browser = env.browser().await;
    let expected = if std::env::var("TELLWISE_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        DatabaseBackend::Postgres
    } else if std::env::var("TELLWISE_TEST_MYSQL_URL").is_ok_and(|v| !v.is_empty()) {
        DatabaseBackend::MySql
    } else {
        DatabaseBackend::Sqlite
    };
    assert_eq!(browser.app().db.get_database_backend(), expected);
    if expected == DatabaseBackend::Sqlite {
        let mode: String = sqlite_pragma(&browser, "journal_mode").await;
        assert_eq!(mode, "wal");
    }
}

async fn sqlite_pragma<T: sea_orm::TryGetable>(browser: &common::Browser, name: &str) -> T {
    browser
        .app()
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            DatabaseBackend::Sqlite,
            format!("PRAGMA {name}"),
        ))
        .await
        .expect("pragma")
        .expect("row")
        .try_get_by_index::<T>(0)
        .expect("value")
}

/// SQLite commits with `synchronous=FULL` unless the administrator chooses `normal`; any other
/// value stops the server with a message naming the setting.
#[rocket::async_test]
async fn sqlite_commits_as_configured() {
    let synchronous = |browser: common::Browser| async move {
        sqlite_pragma::<i32>(&browser, "synchronous").await
    };
    let typo = common::TestEnv::with(|f| f.merge(("sqlite_synchronous", "fast"))).await;
    let Err(error) = tellwise::setup(typo.figment.clone()).await else {
        panic!("sqlite_synchronous = \"fast\" should be refused");
    };
    assert!(
        error.contains("sqlite_synchronous") && error.contains("`full` or `normal`"),
        "{error}"
    );
    let env = common::TestEnv::new().await;
    let browser = env.browser().await;
    if browser.app().db.get_database_backend() != DatabaseBackend::Sqlite {
        return;
    }
    assert_eq!(synchronous(browser).await, 2, "FULL by default");
    let env = common::TestEnv::with(|f| f.merge(("sqlite_synchronous", "normal"))).await;
    assert_eq!(
        synchronous(env.browser().await).await,
        1,
        "NORMAL when chosen"
    );
}

#[rocket::async_test]
async fn unknown_schemes_and_unreachable_servers_fail_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let typo = dir.path().join("tellwise.sqlite");
    let cases = [
        (
            format!("sqlite3://{}", typo.display()),
            "unsupported database URL scheme",
        ),
        (
            typo.display().to_string(),
            "unsupported database URL scheme",
        ),
        (
            "postgres://postgres@127.0.0.1:1/tellwise".to_string(),
            "cannot connect to the Postgres database",
        ),
        (
            "mysql://root@127.0.0.1:1/tellwise".to_string(),
            "cannot connect to the MySql database",
        ),
    ];
    // Connecting to a closed port waits for the connect timeout: try all at once.
    let attempts = cases.into_iter().map(|(url, message)| async move {
        let env = common::TestEnv::with(|f| f.merge(("database_url", url.clone()))).await;
        let Err(error) = tellwise::setup(env.figment.clone()).await else {
            panic!("{url} should be refused");
        };
        assert!(error.contains(message), "{url}: {error}");
    });
    rocket::futures::future::join_all(attempts).await;
    assert!(!typo.exists(), "no SQLite file is created by mistake");
}

fn tellwise(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tellwise"));
    command
        .env("TELLWISE_DATA_DIR", data_dir)
        .env_remove("TELLWISE_DATABASE_URL")
        .env("RUST_LOG", "warn");
    command
}

#[test]
fn create_admin_and_migrate_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let migrate = tellwise(dir.path()).arg("migrate").output().expect("runs");
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    assert!(dir.path().join("tellwise.sqlite").exists());

    let create = |password: &str| {
        let mut child = tellwise(dir.path())
            .args([
                "create-admin",
                "--email",
                "head@school.test",
                "--name",
                "Head Teacher",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{password}\n").as_bytes())
            .expect("write");
        child.wait_with_output().expect("finishes")
    };
    let short = create("short");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));
    let ok = create("a long enough password");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("administrator head@school.test created"));
    let again = create("a long enough password");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let help = tellwise(dir.path()).arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&help.stdout);
    for command in ["serve", "migrate", "check-curriculum", "create-admin"] {
        assert!(help.contains(command), "--help lists {command}");
    }
}

#[test]
fn serve_prints_the_setup_link_on_first_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = tellwise(dir.path())
        .arg("serve")
        .env("TELLWISE_PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    let stdout = child.stdout.take().expect("stdout");
    let link = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|line| line.contains("/setup?token="));
    child.kill().ok();
    child.wait().ok();
    let link = link.expect("a setup link is printed");
    assert!(
        link.trim()
            .starts_with(&format!("http://127.0.0.1:{port}/setup?token=")),
        "{link}"
    );
    use std::os::unix::fs::PermissionsExt;
    for file in ["secret.key", "tellwise.sqlite"] {
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap_or_else(|e| panic!("{file} is kept in the data directory: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file} is readable by its owner only");
    }
}

/// Settings that would quietly weaken protection are refused at start, with what to change.
#[rocket::async_test]
async fn unsafe_settings_are_refused_at_start() {
    type Configure = fn(Figment) -> Figment;
    let cases: [(&str, Configure, &str); 3] = [
        (
            "rollup_min_group_size = 0",
            |f| f.merge(("rollup_min_group_size", 0)),
            "rollup_min_group_size must be at least 1",
        ),
        (
            "a database on another machine without verified TLS",
            |f| f.merge(("database_url", "postgres://tw@db.district.example/tw")),
            "is reached without verified TLS: add ?sslmode=verify-full",
        ),
        (
            "an https public_url without secure cookies",
            |f| f.merge(("public_url", "https://tellwise.example.org")),
            "set secure_cookies = true",
        ),
    ];
    for (what, configure, message) in cases {
        let env = common::TestEnv::with(configure).await;
        let Err(error) = tellwise::setup(env.figment.clone()).await else {
            panic!("{what} should be refused");
        };
        assert!(error.contains(message), "{what}: {error}");
    }
    // A school that trusts its own network may say so.
    let trusted = tellwise::config::figment()
        .merge(("database_url", "postgres://tw@db.district.example/tw"))
        .merge(("allow_unverified_database", true));
    assert!(tellwise::config::load(&trusted).is_ok());
}

/// With `migrate_on_start = false` the server only reads which migrations are applied: it
/// refuses a database that needs them, with what to run, and starts once they are applied.
#[rocket::async_test]
async fn a_server_without_schema_rights_waits_for_tellwise_migrate() {
    let env = common::TestEnv::with(|f| f.merge(("migrate_on_start", false))).await;
    let Err(error) = tellwise::setup(env.figment.clone()).await else {
        panic!("an unmigrated database should be refused");
    };
    assert!(error.contains("run `tellwise migrate`"), "{error}");
    let db = tellwise::db::connect(&env.database_url)
        .await
        .expect("connect");
    tellwise::db::migrate(&db)
        .await
        .expect("migrated by the owner");
    assert!(tellwise::setup(env.figment.clone()).await.is_ok());
}

/// For a log collector: `TELLWISE_LOG_FORMAT=json` writes one JSON object per line, with a UTC
/// timestamp, a level and the message.
#[test]
fn logs_can_be_json_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = tellwise(dir.path())
        .arg("migrate")
        .env("TELLWISE_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .output()
        .expect("runs");
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "migrations log what they apply");
    for line in lines {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let stamp = event["timestamp"].as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok() && stamp.ends_with('Z'),
            "{line}"
        );
        assert!(event["level"].is_string() && event["fields"]["message"].is_string());
    }
}

#[test]
fn seed_demo_fills_an_empty_database_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = tellwise(dir.path())
        .args(["seed-demo", "--scale", "0.002"])
        .output()
        .expect("runs");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("seeded 1 schools, 8 classes, 200 students, 32 assignments"),
        "{stdout}"
    );
    let again = tellwise(dir.path())
        .args(["seed-demo", "--scale", "0.002"])
        .output()
        .expect("runs");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has 8 classes"));
}

/// The restore drill: back up a database in use, open the copy as the database, and find every
/// row again.
#[rocket::async_test]
async fn a_backup_restores_with_every_row() {
    use sea_orm::{ConnectionTrait, Statement};
    let dir = tempfile::tempdir().expect("tempdir");
    let seeded = tellwise(dir.path())
        .args(["seed-demo", "--scale", "0.002"])
        .output()
        .expect("runs");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    // The server has the database open while the backup runs.
    let live = tellwise::db::connect(&format!(
        "sqlite://{}",
        dir.path().join("tellwise.sqlite").display()
    ))
    .await
    .expect("open");
    let target = dir.path().join("copies").join("drill.sqlite");
    let backup = tellwise(dir.path())
        .args(["backup", "--to"])
        .arg(&target)
        .output()
        .expect("runs");
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(String::from_utf8_lossy(&backup.stdout).contains("backup written to"));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &std::path::Path| {
            std::fs::metadata(path)
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(&target), 0o600, "the backup is private");
        assert_eq!(
            mode(&dir.path().join("tellwise.sqlite")),
            0o600,
            "the database is private"
        );
    }
    let again = tellwise(dir.path())
        .args(["backup", "--to"])
        .arg(&target)
        .output()
        .expect("runs");
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );

    let restored = tellwise::db::connect(&format!("sqlite://{}", target.display()))
        .await
        .expect("open the copy");
    for table in [
        "schools",
        "users",
        "classes",
        "students",
        "assignments",
        "attempts",
        "responses",
    ] {
        let count = |db: sea_orm::DatabaseConnection| async move {
            db.query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("row")
            .try_get_by_index::<i64>(0)
            .expect("number")
        };
        let (original, copy) = (count(live.clone()).await, count(restored.clone()).await);
        assert_eq!(original, copy, "{table}");
        assert!(original > 0, "{table} has rows");
    }
    let check = restored
        .query_one_raw(Statement::from_string(
            restored.get_database_backend(),
            "PRAGMA integrity_check".to_string(),
        ))
        .await
        .expect("check")
        .expect("row")
        .try_get_by_index::<String>(0)
        .expect("text");
    assert_eq!(check, "ok");
}
