//! The `tellwise` command line. Everything else lives in the library.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tellwise::auth::passwords;
use tellwise::db::entities::user::ROLE_ADMIN;
use tellwise::db::queries::staff::{self, NewStaff};
use tellwise::domain::input::{parse_email, parse_name};
use tellwise::{App, config, curriculum, db};

// Measured with benches/page_speed.sh on 2 cores: glibc's malloc took about a fifth of the CPU
// of a quiz page; with mimalloc the quiz page is served about 1.2 times as often. Its `no_thp`
// feature keeps idle memory at 34 MB instead of 58 MB (huge pages for its arenas).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "tellwise",
    version,
    about = "Prevention education for schools: lessons on grooming and trafficking red flags."
)]
#[command(
    long_about = "Prevention education for schools. Configuration comes from Rocket.toml (or the file named by \
TELLWISE_CONFIG) and TELLWISE_* environment variables, e.g. TELLWISE_DATABASE_URL and TELLWISE_PORT."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web server (the default). Runs migrations first, and on first run prints a
    /// one-time link to create the administrator account.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Check a curriculum directory (default: the configured one, else ./curriculum) and print
    /// every error with its file, line and field. Exits non-zero on any error.
    CheckCurriculum {
        /// The directory holding one folder per module.
        dir: Option<PathBuf>,
    },
    /// Create an administrator account. Reads the password from standard input.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// The school's name, used when no school exists yet.
        #[arg(long, default_value = "My school")]
        school: String,
    },
    /// Write a consistent copy of the SQLite database while the server runs (VACUUM INTO). For
    /// PostgreSQL and MariaDB it explains the dump command to use instead.
    Backup {
        /// Where to write the copy (default: DATA_DIR/backups/tellwise-<time>.sqlite).
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Remove the student data of every class whose retention period (`retention_days` after the
    /// class ended) has passed, keeping the school roll-ups. The server does this every hour
    /// unless `purge_automatically` is off.
    Purge {
        /// Act as if it were the end of this day (YYYY-MM-DD), e.g. with --dry-run to see what
        /// will have gone by then.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Only list what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Fill an empty database with an invented district for trying the reports and for
    /// benchmarks: at scale 1, 100,000 students in 4,000 classes and about 5 million answers.
    SeedDemo {
        /// 1 is the full district; 0.01 makes 40 classes.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// The same seed makes the same data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[rocket::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rocket=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // One JSON object per line for a log collector; plain lines otherwise. Times are UTC.
    if std::env::var("TELLWISE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::Migrate => migrate().await,
        Command::CheckCurriculum { dir } => check_curriculum(dir),
        Command::SeedDemo { scale, seed } => seed_demo(scale, seed).await,
        Command::Backup { to } => backup(to).await,
        Command::Purge { as_of, dry_run } => purge(as_of, dry_run).await,
        Command::CreateAdmin {
            email,
            name,
            school,
        } => create_admin(&email, &name, &school).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), String> {
    let rocket = tellwise::setup(config::figment()).await?;
    let rocket = rocket
        .ignite()
        .await
        .map_err(|e| format!("cannot start: {e}"))?;
    let app = rocket.state::<App>().ok_or("application state missing")?;
    let local = format!(
        "http://{}:{}",
        rocket.config().address,
        rocket.config().port
    );
    let base = app.settings.public_url.clone().unwrap_or(local);
    match app.setup_link(&base).await? {
        Some(link) => println!(
            "\nTellwise is starting. Finish setup by creating the administrator account:\n\n    {link}\n"
        ),
        None => println!(
            "\nTellwise is starting. Staff sign in at {base}/login, students at {base}/student/login\n"
        ),
    }
    rocket
        .launch()
        .await
        .map_err(|e| format!("server error: {e}"))?;
    Ok(())
}

/// Connects, and migrates unless `migrate_on_start` is off (then only checks), like `serve`.
async fn connect() -> Result<(config::Settings, sea_orm::DatabaseConnection), String> {
    let settings = config::load(&config::figment())?;
    let db = db::connect_with(&settings.database_url(), settings.sqlite_synchronous).await?;
    if settings.migrate_on_start {
        db::migrate(&db).await?;
    } else {
        db::check_migrated(&db).await?;
    }
    Ok((settings, db))
}

async fn migrate() -> Result<(), String> {
    let settings = config::load(&config::figment())?;
    let db = db::connect_with(&settings.database_url(), settings.sqlite_synchronous).await?;
    db::migrate(&db).await?;
    println!("migrations applied");
    Ok(())
}

fn check_curriculum(dir: Option<PathBuf>) -> Result<(), String> {
    let mut settings = config::load(&config::figment())?;
    let (checked, result) = match dir {
        Some(dir) => {
            let contacts = settings.help_contact_texts();
            let rules = curriculum::ContentRules::for_contacts(contacts.iter().map(String::as_str));
            (
                dir.display().to_string(),
                curriculum::load_dir(&dir, &rules).map(curriculum::Curriculum::new),
            )
        }
        None => {
            let checked = match &settings.curriculum_dir {
                Some(dir) => dir.display().to_string(),
                None => "the bundled curriculum".to_string(),
            };
            let extra = std::mem::take(&mut settings.extra_curriculum_dirs);
            let described = extra
                .iter()
                .map(|d| format!(" and {}", d.display()))
                .collect::<String>();
            settings.extra_curriculum_dirs = extra;
            (
                format!("{checked}{described}"),
                tellwise::load_curriculum(&settings),
            )
        }
    };
    match result {
        Ok(curriculum) => {
            println!(
                "{:<42} {:<5} {:>4} {:>6} {:>10} {:>7} {:>14}  version",
                "module", "tier", "min", "steps", "questions", "checks", "reading grade"
            );
            for module in curriculum.modules() {
                let languages: Vec<&str> = curriculum::Language::ALL
                    .into_iter()
                    .filter(|l| curriculum.get_in(&module.slug, *l).map(|m| m.language) == Some(*l))
                    .map(|l| l.code())
                    .collect();
                println!(
                    "{:<42} {:<5} {:>4} {:>6} {:>10} {:>7} {:>8.1} (≤{:.0})  {} [{}]",
                    module.slug,
                    module.tier.as_str(),
                    module.minutes,
                    module.steps.len(),
                    module.question_count(),
                    module.check_steps().len(),
                    curriculum::quality::reading_grade(module),
                    curriculum::quality::max_grade(module.tier),
                    module.version,
                    languages.join(" ")
                );
            }
            println!(
                "{} module(s) in {checked} are valid, in English and Spanish",
                curriculum.modules().len()
            );
            Ok(())
        }
        Err(errors) => {
            for error in &errors {
                println!("{error}");
            }
            Err(format!("{} error(s) in {checked}", errors.len()))
        }
    }
}

async fn backup(to: Option<PathBuf>) -> Result<(), String> {
    let (settings, db) = connect().await?;
    let target = to.unwrap_or_else(|| {
        let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        settings
            .data_dir
            .join("backups")
            .join(format!("tellwise-{stamp}.sqlite"))
    });
    db::backup(&db, &settings.database_url(), &target).await?;
    println!(
        "backup written to {} (keep the secret key with it: {})",
        target.display(),
        settings.data_dir.join("secret.key").display()
    );
    Ok(())
}

async fn purge(as_of: Option<chrono::NaiveDate>, dry_run: bool) -> Result<(), String> {
    let (settings, db) = connect().await?;
    let now = match as_of {
        // Everything due by the end of that day.
        Some(day) => day
            .and_hms_opt(23, 59, 59)
            .unwrap_or(day.and_time(chrono::NaiveTime::MIN)),
        None => db::queries::now(),
    };
    let days = settings.retention_days;
    let err = |e: tellwise::error::AppError| e.to_string();
    if dry_run {
        let due: Vec<_> = db::queries::retention::schedule(&db, None, days)
            .await
            .map_err(err)?
            .into_iter()
            .filter(|c| c.purge_at <= now)
            .collect();
        for class in &due {
            println!(
                "would remove class {} ({} students; ended {}, due {})",
                class.class.id,
                class.students,
                class.ends_at.date(),
                class.purge_at.date()
            );
        }
        println!("{} class(es) due by {}", due.len(), now.date());
        return Ok(());
    }
    let purged = db::queries::retention::purge_due(&db, now, days)
        .await
        .map_err(err)?;
    for done in &purged {
        println!(
            "removed class {}: {} students, {} finished modules kept in the roll-ups",
            done.class_id, done.students, done.finished_attempts_archived
        );
    }
    println!(
        "{} class(es) past their retention period of {days} days by {}",
        purged.len(),
        now.date()
    );
    Ok(())
}

async fn seed_demo(scale: f64, seed: u64) -> Result<(), String> {
    let (settings, db) = connect().await?;
    let curriculum = tellwise::load_curriculum(&settings).map_err(|errors| {
        format!(
            "the curriculum has {} error(s); run check-curriculum",
            errors.len()
        )
    })?;
    let started = std::time::Instant::now();
    let summary = tellwise::demo::seed_demo(&db, &curriculum, scale, seed).await?;
    println!(
        "seeded {} schools, {} classes, {} students, {} assignments, {} attempts and {} answers in {:.1} s",
        summary.schools,
        summary.classes,
        summary.students,
        summary.assignments,
        summary.attempts,
        summary.answers,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn read_password() -> Result<String, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!(
            "Password for the new administrator (at least {} characters): ",
            passwords::MIN_LENGTH
        );
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn create_admin(email: &str, name: &str, school: &str) -> Result<(), String> {
    let email = parse_email(email)?;
    let name = parse_name(name, "name", 100)?;
    let school_name = parse_name(school, "school name", 200)?;
    let password = read_password()?;
    passwords::check_strength(&password, &[&name, &email, &school_name])?;
    let (_, db) = connect().await?;
    let school = match staff::first_school(&db)
        .await
        .map_err(|e| e.public_message())?
    {
        Some(school) => school,
        None => staff::create_school(&db, &school_name)
            .await
            .map_err(|e| e.public_message())?,
    };
    let password_hash = passwords::hash(password).await.map_err(|e| e.to_string())?;
    let user = staff::create(
        &db,
        NewStaff {
            school_id: Some(school.id),
            email,
            display_name: name,
            password_hash,
            role: ROLE_ADMIN,
        },
    )
    .await
    .map_err(|e| e.public_message())?;
    tellwise::db::queries::audit::note(
        &db,
        user.id,
        "administrator created from the command line",
        format!("user {}", user.id),
    )
    .await
    .map_err(|e| e.public_message())?;
    println!("administrator {} created (id {})", user.email, user.id);
    Ok(())
}
