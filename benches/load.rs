//! A school at 9 a.m.: simulated students work through modules over real HTTP against the
//! release binary, with think time between steps, for a fixed time. Reports throughput,
//! latency (p50/p99) per kind of request, errors and the server's peak memory, then checks the
//! database against every answer the server acknowledged: none may be missing or doubled.
//!
//! `cargo bench --bench load` runs 300 students for 60 s on a new SQLite database. Settings:
//! `LOAD_STUDENTS`, `LOAD_SECONDS`, `LOAD_THINK_MS` (mean pause between requests, default
//! 1000), `LOAD_DATABASE_URL` (an empty PostgreSQL or MariaDB database instead of SQLite).
//! `LOAD_KILL_EVERY_S` turns the run into the kill -9 drill: the server is killed that often
//! and started again, and the report adds how long each restart took. Every run also reports
//! the server's memory after its first tenth and at the end, and the largest the SQLite WAL
//! grew. `LOAD_ROSTER=N` has each simulated student work as N students of the roster in turn,
//! so a long run keeps them busy: the soak is
//! `LOAD_STUDENTS=100 LOAD_ROSTER=15 LOAD_SECONDS=1800 cargo bench --bench load`.

#[path = "../tests/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Answers;
use rand::RngExt;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use tellwise::curriculum::{Curriculum, Module};
use tellwise::db::entities::{attempt, response};

const STUDENTS_PER_CLASS: usize = 25;
const PASSWORD: &str = "load test password 42";

#[derive(Default)]
struct Stats {
    /// Latencies in microseconds, by kind of request.
    latencies: BTreeMap<&'static str, Vec<u64>>,
    errors: BTreeMap<String, u64>,
    server_errors: u64,
    /// (student id, module, step id, phase) of every answer the server acknowledged.
    acknowledged: Vec<(i32, String, String, &'static str)>,
    /// (student id, module, step number) of every reading step acknowledged.
    readings: Vec<(i32, String, i32)>,
}

struct Student {
    id: i32,
    code: String,
    name: String,
    secret: String,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    Some(html[at..].split('"').next()?.to_string())
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
}

/// A field of `/proc/PID/status` in KiB: `VmHWM` (peak) or `VmRSS` (now).
fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

struct Server {
    child: Child,
    base: String,
}

fn start_server(data_dir: &std::path::Path, database_url: &str, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_tellwise"))
        .arg("serve")
        .env("TELLWISE_DATA_DIR", data_dir)
        .env("TELLWISE_DATABASE_URL", database_url)
        .env("TELLWISE_PORT", port.to_string())
        .env("TELLWISE_PURGE_AUTOMATICALLY", "false")
        // The bench measures capacity: the per-account budgets would cap the setup's admin.
        .env("TELLWISE_WRITES_PER_MINUTE", "1000000")
        .env("TELLWISE_REPORTS_PER_MINUTE", "1000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

async fn wait_ready(client: &reqwest::Client, base: &str) -> Duration {
    let started = Instant::now();
    loop {
        let ready = client
            .get(format!("{base}/health/ready"))
            .timeout(Duration::from_millis(500))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not become ready"
        );
        rocket::tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Classes of 25, every module of the curriculum assigned, through the JSON API.
async fn seed(base: &str, students: usize, modules: &[String]) -> Vec<Student> {
    let client = reqwest::Client::new();
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/tokens"))
        .json(&serde_json::json!({ "email": "load@school.test", "password": PASSWORD }))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let token = token["data"]["token"]
        .as_str()
        .expect("a token")
        .to_string();
    let mut out = Vec::new();
    for class_number in 0..students.div_ceil(STUDENTS_PER_CLASS) {
        let class: serde_json::Value = client
            .post(format!("{base}/api/v1/classes"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "name": format!("Load {class_number}"), "tier": "6-8" }))
            .send()
            .await
            .expect("class")
            .json()
            .await
            .expect("class json");
        let id = class["data"]["id"].as_i64().expect("class id");
        let code = class["data"]["join_code"]
            .as_str()
            .expect("code")
            .to_string();
        let size = STUDENTS_PER_CLASS.min(students - out.len());
        let names: Vec<String> = (0..size)
            .map(|i| format!("Student {class_number}-{i}"))
            .collect();
        let added: serde_json::Value = client
            .post(format!("{base}/api/v1/classes/{id}/students"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "names": names }))
            .send()
            .await
            .expect("students")
            .json()
            .await
            .expect("students json");
        for s in added["data"].as_array().expect("students") {
            out.push(Student {
                id: s["id"].as_i64().expect("id") as i32,
                code: code.clone(),
                name: s["name"].as_str().expect("name").to_string(),
                secret: s["secret"].as_str().expect("secret").to_string(),
            });
        }
        for module in modules {
            let response = client
                .post(format!("{base}/api/v1/classes/{id}/assignments"))
                .bearer_auth(&token)
                .json(&serde_json::json!({ "module": module }))
                .send()
                .await
                .expect("assignment");
            assert!(response.status().is_success(), "assigning {module}");
        }
    }
    out
}

/// One student's session: requests timed and sorted by kind; answers the server acknowledged
/// (a 303) recorded for the final check.
struct Session<'a> {
    client: reqwest::Client,
    base: &'a str,
    stats: &'a Mutex<Stats>,
}

enum Outcome {
    Ok(reqwest::Response),
    Failed,
}

impl Session<'_> {
    async fn timed(&self, kind: &'static str, request: reqwest::RequestBuilder) -> Outcome {
        let started = Instant::now();
        let result = request.send().await;
        let elapsed = started.elapsed().as_micros() as u64;
        let mut stats = self.stats.lock().expect("stats");
        match result {
            Ok(response) => {
                let status = response.status();
                if status.is_server_error() {
                    stats.server_errors += 1;
                }
                if status.is_client_error() || status.is_server_error() {
                    *stats
                        .errors
                        .entry(format!("{kind} {}", status.as_u16()))
                        .or_default() += 1;
                    return Outcome::Failed;
                }
                stats.latencies.entry(kind).or_default().push(elapsed);
                Outcome::Ok(response)
            }
            Err(e) => {
                let what = if e.is_connect() {
                    "connection refused"
                } else if e.is_timeout() {
                    "timeout"
                } else {
                    "connection dropped"
                };
                *stats.errors.entry(format!("{kind} {what}")).or_default() += 1;
                Outcome::Failed
            }
        }
    }

    async fn page(&self, kind: &'static str, path: &str) -> Option<String> {
        match self
            .timed(kind, self.client.get(format!("{}{path}", self.base)))
            .await
        {
            Outcome::Ok(response) => response.text().await.ok(),
            Outcome::Failed => None,
        }
    }

    /// Posts a form; the redirect target when the server acknowledged it with a 303.
    async fn post(
        &self,
        kind: &'static str,
        path: &str,
        fields: &[(String, String)],
    ) -> Option<String> {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields);
        match self.timed(kind, request).await {
            Outcome::Ok(response) if response.status() == reqwest::StatusCode::SEE_OTHER => {
                response
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .map(str::to_string)
            }
            _ => None,
        }
    }
}

async fn think(mean_ms: u64) {
    let pause = rand::rng().random_range(mean_ms / 2..=mean_ms + mean_ms / 2);
    rocket::tokio::time::sleep(Duration::from_millis(pause)).await;
}

/// Signs in and works through the assigned modules in order until the time is up. A request
/// that fails is tried again after a pause, as a student would press the button again.
async fn run_student(
    student: Student,
    base: String,
    modules: Arc<Vec<Module>>,
    stats: Arc<Mutex<Stats>>,
    until: Instant,
    think_ms: u64,
) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let session = Session {
        client,
        base: &base,
        stats: &stats,
    };
    // Students arrive over the first few seconds, not all in one instant.
    let arrival = rand::rng().random_range(0..3000);
    rocket::tokio::time::sleep(Duration::from_millis(arrival)).await;
    let retry = || rocket::tokio::time::sleep(Duration::from_millis(500));
    'signing_in: while Instant::now() < until {
        let Some(html) = session.page("sign-in page", "/student/login").await else {
            retry().await;
            continue;
        };
        let fields = vec![
            ("csrf_token".to_string(), csrf_of(&html).unwrap_or_default()),
            ("code".to_string(), student.code.clone()),
            ("name".to_string(), student.name.clone()),
            ("secret".to_string(), student.secret.clone()),
        ];
        if session
            .post("sign in", "/student/login", &fields)
            .await
            .is_some()
        {
            break 'signing_in;
        }
        retry().await;
    }
    for module in modules.iter() {
        let slug = &module.slug;
        let home = format!("/student/modules/{slug}");
        let mut csrf = String::new();
        let mut next = None;
        while next.is_none() && Instant::now() < until {
            if let Some(html) = session.page("module page", &home).await {
                csrf = csrf_of(&html).unwrap_or_default();
                next = session
                    .post(
                        "start",
                        &format!("{home}/start"),
                        &[("csrf_token".into(), csrf.clone())],
                    )
                    .await;
            }
            if next.is_none() {
                retry().await;
            }
        }
        // The knowledge checks before the lesson, then every step.
        let checks = module.check_steps();
        let mut plan: Vec<(String, usize, &'static str)> = checks
            .iter()
            .enumerate()
            .map(|(n, &index)| (format!("{home}/before/{}", n + 1), index, "pre"))
            .collect();
        plan.extend(
            (0..module.steps.len()).map(|i| (format!("{home}/steps/{}", i + 1), i, "main")),
        );
        for (path, index, phase) in plan {
            let step = &module.steps[index];
            let answers = if rand::rng().random_bool(0.7) {
                Answers::AllRight
            } else {
                Answers::AllWrong
            };
            let mut fields = common::answer_fields(step, answers);
            loop {
                if Instant::now() >= until {
                    return;
                }
                if let Some(html) = session.page("lesson page", &path).await {
                    csrf = csrf_of(&html).unwrap_or(csrf);
                    think(think_ms).await;
                    let mut form = vec![("csrf_token".to_string(), csrf.clone())];
                    form.append(&mut fields.clone());
                    if session.post("answer save", &path, &form).await.is_some() {
                        let mut stats = stats.lock().expect("stats");
                        if step.kind.is_answered() {
                            stats.acknowledged.push((
                                student.id,
                                slug.clone(),
                                step.id.clone(),
                                phase,
                            ));
                        } else {
                            stats
                                .readings
                                .push((student.id, slug.clone(), index as i32 + 1));
                        }
                        break;
                    }
                }
                retry().await;
                fields = common::answer_fields(step, answers);
            }
            if phase == "main" && step.kind.is_answered() {
                // The feedback page, read before going on.
                session.page("lesson page", &path).await;
                think(think_ms / 2).await;
            }
        }
        session.page("done page", &format!("{home}/done")).await;
    }
}

/// Every acknowledged answer is in the database once; every acknowledged reading step is in
/// its attempt's progress. Returns (lost, duplicated).
async fn check_database(database_url: &str, stats: &Stats) -> (usize, usize) {
    let db = tellwise::db::connect(database_url).await.expect("database");
    let attempts = attempt::Entity::find().all(&db).await.expect("attempts");
    let attempt_of: BTreeMap<(i32, String), &attempt::Model> = attempts
        .iter()
        .map(|a| ((a.student_id, a.module_slug.clone()), a))
        .collect();
    let mut lost = 0;
    for (student, slug, step_id, phase) in &stats.acknowledged {
        let Some(attempt) = attempt_of.get(&(*student, slug.clone())) else {
            lost += 1;
            continue;
        };
        let found = response::Entity::find()
            .filter(response::Column::AttemptId.eq(attempt.id))
            .filter(response::Column::StepId.eq(step_id.as_str()))
            .filter(response::Column::Phase.eq(*phase))
            .one(&db)
            .await
            .expect("query");
        if found.is_none() {
            lost += 1;
        }
    }
    for (student, slug, number) in &stats.readings {
        if attempt_of
            .get(&(*student, slug.clone()))
            .is_none_or(|a| a.steps_done < *number)
        {
            lost += 1;
        }
    }
    let doubled = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM (SELECT attempt_id, step_id, phase FROM responses \
             GROUP BY attempt_id, step_id, phase HAVING COUNT(*) > 1) d",
        ))
        .await
        .expect("count")
        .and_then(|row| row.try_get_by_index::<i64>(0).ok())
        .unwrap_or(-1);
    (lost, doubled.max(0) as usize)
}

async fn sqlite_ok(database_url: &str) -> bool {
    if !database_url.starts_with("sqlite:") {
        return true;
    }
    let db = tellwise::db::connect(database_url).await.expect("database");
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        "PRAGMA integrity_check",
    ))
    .await
    .ok()
    .flatten()
    .and_then(|row| row.try_get_by_index::<String>(0).ok())
    .is_some_and(|verdict| verdict == "ok")
}

#[rocket::main]
async fn main() {
    let students: usize = env_or("LOAD_STUDENTS", 300);
    let seconds: u64 = env_or("LOAD_SECONDS", 60);
    let think_ms: u64 = env_or("LOAD_THINK_MS", 1000);
    let kill_every: u64 = env_or("LOAD_KILL_EVERY_S", 0);
    let data = tempfile::tempdir().expect("temp dir");
    let database_url = std::env::var("LOAD_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", data.path().join("load.sqlite").display()));
    let mut admin = Command::new(env!("CARGO_BIN_EXE_tellwise"))
        .args([
            "create-admin",
            "--email",
            "load@school.test",
            "--name",
            "Load Admin",
        ])
        .env("TELLWISE_DATA_DIR", data.path())
        .env("TELLWISE_DATABASE_URL", &database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .spawn()
        .expect("create-admin");
    {
        use std::io::Write;
        let mut stdin = admin.stdin.take().expect("stdin");
        writeln!(stdin, "{PASSWORD}").expect("password");
    }
    assert!(admin.wait().expect("create-admin").success());

    let port = free_port();
    let mut server = start_server(data.path(), &database_url, port);
    let probe = reqwest::Client::new();
    wait_ready(&probe, &server.base).await;
    let curriculum: Curriculum = tellwise::load_curriculum(
        &tellwise::config::load(&tellwise::config::figment()).expect("config"),
    )
    .expect("curriculum");
    let modules: Vec<Module> = curriculum
        .modules()
        .into_iter()
        .filter(|m| m.tier.as_str() == "6-8")
        .cloned()
        .collect();
    let slugs: Vec<String> = modules.iter().map(|m| m.slug.clone()).collect();
    // Each simulated student works as `LOAD_ROSTER` students of the roster one after another,
    // so that a long run (the soak) keeps them busy after the first one's modules are done.
    let roster_per_student: usize = env_or("LOAD_ROSTER", 1).max(1);
    let roster = seed(&server.base, students * roster_per_student, &slugs).await;
    println!(
        "load: {students} students at a time, each working as {roster_per_student} of the roster in turn, in {} classes, {} modules each, {seconds} s, think time {think_ms} ms on average, database {}",
        (students * roster_per_student).div_ceil(STUDENTS_PER_CLASS),
        modules.len(),
        database_url.split(':').next().unwrap_or("?")
    );

    let stats = Arc::new(Mutex::new(Stats::default()));
    let modules = Arc::new(modules);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let base = server.base.clone();
    let mut roster = roster.into_iter();
    let tasks: Vec<_> = (0..students)
        .map(|_| {
            let turns: Vec<Student> = roster.by_ref().take(roster_per_student).collect();
            let (base, modules, stats) = (base.clone(), modules.clone(), stats.clone());
            rocket::tokio::spawn(async move {
                for student in turns {
                    if Instant::now() >= until {
                        break;
                    }
                    run_student(
                        student,
                        base.clone(),
                        modules.clone(),
                        stats.clone(),
                        until,
                        think_ms,
                    )
                    .await;
                }
            })
        })
        .collect();

    let mut peak_rss = 0;
    let (mut warm_rss, mut last_rss, mut largest_wal) = (None, 0, 0);
    let warm_up = Duration::from_secs(seconds / 10);
    let wal = data.path().join("load.sqlite-wal");
    let mut restarts: Vec<Duration> = Vec::new();
    let mut next_kill = started + Duration::from_secs(kill_every.max(1));
    while Instant::now() < until {
        rocket::tokio::time::sleep(Duration::from_millis(200)).await;
        peak_rss = peak_rss.max(memory_kib(server.child.id(), "VmHWM:").unwrap_or(0));
        // The soak's figures: memory once the first tenth of the run has warmed the server up,
        // memory at the end, and the largest the SQLite WAL grew.
        let rss = memory_kib(server.child.id(), "VmRSS:").unwrap_or(0);
        if warm_rss.is_none() && started.elapsed() >= warm_up {
            warm_rss = Some(rss);
        }
        last_rss = rss;
        largest_wal = largest_wal.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        if kill_every > 0 && Instant::now() >= next_kill {
            server.child.kill().expect("kill -9");
            server.child.wait().expect("reaped");
            let killed = Instant::now();
            server = start_server(data.path(), &database_url, port);
            wait_ready(&probe, &server.base).await;
            restarts.push(killed.elapsed());
            next_kill = Instant::now() + Duration::from_secs(kill_every);
        }
    }
    for task in tasks {
        task.await.expect("student task");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = server.child.kill();
    let _ = server.child.wait();

    let stats = std::mem::take(&mut *stats.lock().expect("stats"));
    let total: usize = stats.latencies.values().map(Vec::len).sum();
    println!(
        "{total} successful requests in {elapsed:.1} s: {:.0} requests/s",
        total as f64 / elapsed
    );
    println!(
        "{:<14} {:>8} {:>9} {:>9} {:>9}",
        "request", "count", "per s", "p50 ms", "p99 ms"
    );
    for (kind, latencies) in &stats.latencies {
        let mut sorted = latencies.clone();
        sorted.sort_unstable();
        println!(
            "{kind:<14} {:>8} {:>9.1} {:>9.2} {:>9.2}",
            sorted.len(),
            sorted.len() as f64 / elapsed,
            percentile(&sorted, 50.0),
            percentile(&sorted, 99.0)
        );
    }
    println!("errors: {:?}", stats.errors);
    println!("server errors (5xx): {}", stats.server_errors);
    println!("server peak RSS: {:.1} MB", peak_rss as f64 / 1024.0);
    if let Some(warm) = warm_rss.filter(|_| kill_every == 0) {
        println!(
            "server RSS after {} s: {:.1} MB, at the end: {:.1} MB ({:+.1}%)",
            warm_up.as_secs(),
            warm as f64 / 1024.0,
            last_rss as f64 / 1024.0,
            (last_rss as f64 / warm.max(1) as f64 - 1.0) * 100.0
        );
    }
    if database_url.starts_with("sqlite:") {
        println!(
            "SQLite WAL: at most {:.1} MB during the run",
            largest_wal as f64 / 1_048_576.0
        );
    }
    if !restarts.is_empty() {
        let slowest = restarts.iter().max().copied().unwrap_or_default();
        println!(
            "kill -9: {} times; back and ready in at most {:.2} s",
            restarts.len(),
            slowest.as_secs_f64()
        );
    }
    let (lost, doubled) = check_database(&database_url, &stats).await;
    let integrity = sqlite_ok(&database_url).await;
    println!(
        "acknowledged answers: {}, reading steps: {}; lost: {lost}, doubled: {doubled}, SQLite integrity: {}",
        stats.acknowledged.len(),
        stats.readings.len(),
        if database_url.starts_with("sqlite:") {
            if integrity { "ok" } else { "FAILED" }
        } else {
            "n/a"
        }
    );
    let failed =
        lost > 0 || doubled > 0 || !integrity || (kill_every == 0 && stats.server_errors > 0);
    if failed {
        println!("FAIL");
        std::process::exit(1);
    }
}
