//! Report speed on an invented district (`tellwise seed-demo`): the class dashboard and module
//! report of one 25-student class under concurrent load, a school roll-up and the district
//! roll-up over every answer. Requests go through the whole Rocket stack (routing, guards,
//! queries, templates) with Rocket's local client, so network time is left out.
//!
//!     cargo bench --bench reports                        # SQLite, full district (scale 1)
//!     BENCH_SCALE=0.1 cargo bench --bench reports        # a tenth of it
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/tellwise_bench cargo bench --bench reports
//!
//! The PostgreSQL database must exist and be empty; SQLite gets a fresh temporary file.
//! Targets (issue 4): class pages p99 < 10 ms under load, school roll-up < 200 ms, district
//! roll-up < 1 s.

use std::time::{Duration, Instant};

use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;
use sea_orm::{EntityTrait, QueryOrder};

// The allocator the `tellwise` binary uses, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PASSWORD: &str = "benchmark password 1";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Sends `total` GETs of `path`, `concurrency` at a time; returns the sorted latencies. Each
/// request is its own task, so that the server's worker threads share them as they would share
/// connections (awaiting them all in one task would run them on one core).
async fn measure(
    client: &'static Client,
    path: &str,
    total: usize,
    concurrency: usize,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(total);
    let mut sent = 0;
    while sent < total {
        let wave = concurrency.min(total - sent);
        let requests: Vec<_> = (0..wave)
            .map(|_| {
                let path = path.to_string();
                rocket::tokio::spawn(async move {
                    let started = Instant::now();
                    let response = client.get(path.as_str()).dispatch().await;
                    assert_eq!(response.status(), Status::Ok, "GET {path}");
                    let _ = response.into_bytes().await;
                    started.elapsed()
                })
            })
            .collect();
        for request in futures::future::join_all(requests).await {
            latencies.push(request.expect("request task"));
        }
        sent += wave;
    }
    latencies.sort();
    latencies
}

fn report(name: &str, latencies: &[Duration], target: Duration) {
    let p50 = percentile(latencies, 0.5);
    let p99 = percentile(latencies, 0.99);
    let verdict = if p99 <= target { "met" } else { "MISSED" };
    println!(
        "{name:<44} n={:<5} p50 {:>9.2} ms  p99 {:>9.2} ms  target p99 < {} ms: {verdict}",
        latencies.len(),
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        target.as_millis()
    );
}

#[rocket::main]
async fn main() {
    let scale: f64 = std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let dir = tempfile::tempdir().expect("tempdir");
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.sqlite").display()));
    let figment = tellwise::config::figment()
        .merge(("database_url", url.clone()))
        .merge(("data_dir", dir.path().join("data")))
        .merge(("secret_key", tellwise::domain::codes::random_hex(32)))
        .merge(("log_level", "off"))
        // The hourly retention check reads every class at start: keep it out of the figures.
        .merge(("purge_automatically", false))
        // One account asks for thousands of reports a minute here, far past the per-account
        // budget that protects a real server.
        .merge(("reports_per_minute", 1_000_000));
    let rocket = tellwise::setup(figment).await.expect("setup");
    let app = rocket.state::<tellwise::App>().expect("app");
    let backend = url.split(':').next().unwrap_or("?").to_string();
    println!("database: {backend}; scale {scale}");

    let started = Instant::now();
    let summary = tellwise::demo::seed_demo(&app.db, &app.curriculum, scale, 42)
        .await
        .expect("seed");
    println!(
        "seeded {} classes, {} students, {} attempts, {} answers in {:.1} s",
        summary.classes,
        summary.students,
        summary.attempts,
        summary.answers,
        started.elapsed().as_secs_f64()
    );
    let hash = tellwise::auth::passwords::hash(PASSWORD.to_string())
        .await
        .expect("hash");
    let first_school = tellwise::db::queries::staff::first_school(&app.db)
        .await
        .expect("query")
        .expect("a school");
    tellwise::db::queries::staff::create(
        &app.db,
        tellwise::db::queries::staff::NewStaff {
            school_id: Some(first_school.id),
            email: "bench@demo.invalid".into(),
            display_name: "Bench Admin".into(),
            password_hash: hash,
            role: tellwise::db::entities::user::ROLE_ADMIN,
        },
    )
    .await
    .expect("admin");
    let class = tellwise::db::entities::class::Entity::find()
        .order_by_asc(tellwise::db::entities::class::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a class");
    let assignment = tellwise::db::queries::classes::active_assignments(&app.db, class.id)
        .await
        .expect("query")
        .into_iter()
        .next()
        .expect("an assignment");

    // Leaked so that every request task can borrow it; the process ends after the run.
    let client: &'static Client =
        Box::leak(Box::new(Client::tracked(rocket).await.expect("client")));
    let login = client
        .get("/login")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap_or_default();
    let csrf = login
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf token")
        .to_string();
    let body = format!(
        "csrf_token={}&email=bench%40demo.invalid&password={}",
        csrf,
        PASSWORD.replace(' ', "+")
    );
    let response = client
        .post("/login")
        .header(ContentType::Form)
        .body(body)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther, "signed in");

    let class_page = format!("/teacher/classes/{}", class.id);
    let module_report = format!(
        "/teacher/classes/{}/assignments/{}",
        class.id, assignment.id
    );
    let school_rollup = format!("/reports?school={}", first_school.id);
    // Warm the caches and the connection pool.
    for path in [&class_page, &module_report, &school_rollup] {
        measure(client, path, 3, 1).await;
    }
    report(
        "class dashboard, 25 students (one at a time)",
        &measure(client, &class_page, 200, 1).await,
        Duration::from_millis(10),
    );
    report(
        "module report, 25 students (one at a time)",
        &measure(client, &module_report, 200, 1).await,
        Duration::from_millis(10),
    );
    for concurrency in [4, 16] {
        report(
            &format!("class dashboard, 25 students ({concurrency} at a time)"),
            &measure(client, &class_page, 400, concurrency).await,
            Duration::from_millis(10),
        );
        report(
            &format!("module report, 25 students ({concurrency} at a time)"),
            &measure(client, &module_report, 400, concurrency).await,
            Duration::from_millis(10),
        );
    }
    report(
        "school roll-up, 100 classes (4 at a time)",
        &measure(client, &school_rollup, 40, 4).await,
        Duration::from_millis(200),
    );
    report(
        "school roll-up, 100 classes (one at a time)",
        &measure(client, &school_rollup, 20, 1).await,
        Duration::from_millis(200),
    );
    report(
        "district roll-up, every school (one at a time)",
        &measure(client, "/reports", 5, 1).await,
        Duration::from_millis(1000),
    );
}
