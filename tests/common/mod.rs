//! Test helpers: a fresh database per test (an SQLite file, or a new PostgreSQL/MariaDB database
//! when `TELLWISE_TEST_POSTGRES_URL` or `TELLWISE_TEST_MYSQL_URL` is set), and `Browser`s that
//! drive the real app over HTTP, each with its own cookies.
#![allow(dead_code)]

use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

pub const ADMIN_EMAIL: &str = "admin@school.test";
pub const ADMIN_PASSWORD: &str = "admin password 1";
pub const TEACHER_PASSWORD: &str = "teacher password 1";

enum ServerDb {
    Postgres,
    MySql,
}

/// A database that lives as long as the test.
struct TestDatabase {
    url: String,
    server: Option<(ServerDb, String, String)>,
    _dir: tempfile::TempDir,
}

fn random_name() -> String {
    format!("tw_test_{}", tellwise::domain::codes::random_hex(6))
}

fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = server_url
        .split_once('?')
        .map_or((server_url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDatabase {
    async fn create() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let postgres = std::env::var("TELLWISE_TEST_POSTGRES_URL")
            .ok()
            .filter(|v| !v.is_empty());
        let mysql = std::env::var("TELLWISE_TEST_MYSQL_URL")
            .ok()
            .filter(|v| !v.is_empty());
        let (kind, server_url) = match (postgres, mysql) {
            (Some(_), Some(_)) => panic!(
                "set only one of TELLWISE_TEST_POSTGRES_URL and TELLWISE_TEST_MYSQL_URL per run"
            ),
            (Some(url), None) => (ServerDb::Postgres, url),
            (None, Some(url)) => (ServerDb::MySql, url),
            (None, None) => {
                let url = format!("sqlite://{}", dir.path().join("test.sqlite").display());
                return Self {
                    url,
                    server: None,
                    _dir: dir,
                };
            }
        };
        let name = random_name();
        let admin = Database::connect(server_url.as_str())
            .await
            .expect("test database server reachable");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = with_database(&server_url, &name);
        Self {
            url,
            server: Some((kind, server_url, name)),
            _dir: dir,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((kind, server_url, name)) = self.server.take() else {
            return;
        };
        let sql = match kind {
            ServerDb::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ServerDb::MySql => format!("DROP DATABASE IF EXISTS {name}"),
        };
        // Drop runs outside the test's runtime: give the clean-up its own.
        let _ = std::thread::spawn(move || {
            let runtime = rocket::tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(admin) = Database::connect(server_url.as_str()).await {
                        let _ = admin.execute_unprepared(&sql).await;
                        let _ = admin.close().await;
                    }
                });
            }
        })
        .join();
    }
}

/// One Tellwise installation under test: a database, a data directory and configuration.
pub struct TestEnv {
    pub figment: Figment,
    pub database_url: String,
    db: TestDatabase,
}

impl TestEnv {
    pub async fn new() -> Self {
        Self::with(|f| f).await
    }

    /// Lets a test change the configuration, e.g. the minimum group size.
    pub async fn with(configure: impl FnOnce(Figment) -> Figment) -> Self {
        let db = TestDatabase::create().await;
        let figment = tellwise::config::figment()
            .merge(("database_url", db.url.clone()))
            .merge(("data_dir", db._dir.path().join("data")))
            .merge(("secret_key", tellwise::domain::codes::random_hex(32)))
            .merge(("log_level", "off"));
        let figment = configure(figment);
        Self {
            figment,
            database_url: db.url.clone(),
            db,
        }
    }

    /// A new browser (its own cookies) on a new app server sharing the database and key.
    pub async fn browser(&self) -> Browser {
        let rocket = tellwise::setup(self.figment.clone())
            .await
            .expect("app starts");
        let client = Client::tracked(rocket).await.expect("valid rocket");
        Browser { client }
    }

    /// The first administrator, created through the setup link as a new user would.
    pub async fn admin(&self) -> Browser {
        let browser = self.browser().await;
        let link = browser.setup_link().await.expect("no admin yet");
        let path = link.trim_start_matches("http://x");
        let (status, _) = browser.get(path).await;
        assert_eq!(status, Status::Ok);
        let token = path
            .split("token=")
            .nth(1)
            .expect("token in link")
            .to_string();
        let response = browser
            .post_form(
                "/setup",
                &[
                    ("token", &token),
                    ("school", "Lincoln Middle"),
                    ("name", "Ada Admin"),
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                ],
            )
            .await;
        assert_eq!(response.status(), Status::SeeOther, "setup redirects");
        drop(response);
        browser
    }

    /// A teacher account created by the administrator, signed in in its own browser.
    pub async fn teacher(&self, admin: &Browser, name: &str) -> Browser {
        let email = format!("{}@school.test", name.to_lowercase().replace(' ', "."));
        let response = admin
            .post_form("/admin/teachers", &[("name", name), ("email", &email)])
            .await;
        let teacher = self.browser().await;
        teacher
            .accept_password_link(response, TEACHER_PASSWORD)
            .await;
        teacher.sign_in(&email, TEACHER_PASSWORD).await;
        teacher
    }
}

/// The password of staff accounts made with `TestEnv::staff`.
pub const STAFF_PASSWORD: &str = "a long enough password";

impl TestEnv {
    /// A staff account of any role in `school`, created by the administrator and signed in in
    /// its own browser. The email is the name in lower case with dots, `@district.test`.
    pub async fn staff(&self, admin: &Browser, name: &str, role: &str, school: i32) -> Browser {
        let email = format!("{}@district.test", name.to_lowercase().replace(' ', "."));
        let school = school.to_string();
        let response = admin
            .post_form(
                "/admin/teachers",
                &[
                    ("name", name),
                    ("email", &email),
                    ("role", role),
                    ("school_id", &school),
                ],
            )
            .await;
        let browser = self.browser().await;
        browser.accept_password_link(response, STAFF_PASSWORD).await;
        browser.sign_in(&email, STAFF_PASSWORD).await;
        browser
    }
}

impl Browser {
    /// A new school, created by this administrator; returns its id.
    pub async fn create_school(&self, name: &str) -> i32 {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let response = self.post_form("/admin/schools", &[("name", name)]).await;
        assert_eq!(response.status(), Status::SeeOther);
        drop(response);
        tellwise::db::entities::school::Entity::find()
            .filter(tellwise::db::entities::school::Column::Name.eq(name))
            .one(&self.app().db)
            .await
            .expect("query")
            .expect("school created")
            .id
    }
}

pub struct Browser {
    pub client: Client,
}

/// The CSRF token every page carries in its head (forms repeat it in a hidden field).
pub fn csrf_in(html: &str) -> Option<String> {
    between(html, "<meta name=\"csrf-token\" content=\"", "\"")
}

pub fn location(response: &LocalResponse<'_>) -> String {
    response
        .headers()
        .get_one("Location")
        .unwrap_or_default()
        .to_string()
}

/// The last number in a path such as `/teacher/classes/7`.
pub fn id_from(path: &str) -> i32 {
    path.rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {path:?}"))
}

fn encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Browser {
    pub fn app(&self) -> &tellwise::App {
        self.client
            .rocket()
            .state::<tellwise::App>()
            .expect("app state")
    }

    pub async fn setup_link(&self) -> Option<String> {
        self.app().setup_link("http://x").await.expect("setup link")
    }

    pub async fn get(&self, path: &str) -> (Status, String) {
        let response = self.client.get(path.to_string()).dispatch().await;
        let status = response.status();
        (status, response.into_string().await.unwrap_or_default())
    }

    pub async fn get_response(&self, path: &str) -> LocalResponse<'_> {
        self.client.get(path.to_string()).dispatch().await
    }

    /// The CSRF token this browser's pages carry.
    pub async fn csrf(&self) -> String {
        let (_, html) = self.get("/help").await;
        csrf_in(&html).expect("pages carry a CSRF token")
    }

    /// Submits a form as the browser would, with the page's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        let token = self.csrf().await;
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Submits exactly these fields, without adding a CSRF token.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        self.client
            .post(path.to_string())
            .header(ContentType::Form)
            .body(encode(fields))
            .dispatch()
            .await
    }

    /// Follows the one-time link on an "account created" or "password reset link" page and
    /// chooses `password` with it, as the staff member would.
    pub async fn accept_password_link(&self, link_page: LocalResponse<'_>, password: &str) {
        assert_eq!(link_page.status(), Status::Ok, "the link page is shown");
        let html = link_page.into_string().await.unwrap_or_default();
        let link = between(&html, "readonly value=\"", "\"")
            .map(|link| unescape(&link))
            .unwrap_or_else(|| panic!("a one-time link in {html}"));
        let token = link
            .split_once("/reset?token=")
            .map(|(_, token)| token.to_string())
            .expect("a /reset link");
        let (status, _) = self.get(&format!("/reset?token={token}")).await;
        assert_eq!(status, Status::Ok, "the link opens the password form");
        let set = self
            .post_form("/reset", &[("token", &token), ("password", password)])
            .await;
        assert_eq!(set.status(), Status::SeeOther, "password chosen");
        assert_eq!(location(&set), "/login");
    }

    pub async fn sign_in(&self, email: &str, password: &str) {
        let response = self
            .post_form("/login", &[("email", email), ("password", password)])
            .await;
        assert_eq!(
            response.status(),
            Status::SeeOther,
            "staff sign-in redirects"
        );
        assert_eq!(location(&response), "/teacher");
    }

    pub async fn create_class(&self, name: &str, tier: &str) -> i32 {
        let response = self
            .post_form("/teacher/classes", &[("name", name), ("tier", tier)])
            .await;
        assert_eq!(response.status(), Status::SeeOther, "class created");
        id_from(&location(&response))
    }

    pub async fn add_students(&self, class_id: i32, names: &[&str]) {
        let response = self
            .post_form(
                &format!("/teacher/classes/{class_id}/students"),
                &[("names", &names.join("\n"))],
            )
            .await;
        assert_eq!(response.status(), Status::SeeOther, "students added");
    }

    pub async fn assign(&self, class_id: i32, module: &str) -> i32 {
        let response = self
            .post_form(
                &format!("/teacher/classes/{class_id}/assignments"),
                &[("module", module), ("due_on", "")],
            )
            .await;
        assert_eq!(response.status(), Status::SeeOther, "module assigned");
        let (_, html) = self.get(&format!("/teacher/classes/{class_id}")).await;
        let marker = format!("/teacher/classes/{class_id}/assignments/");
        html.match_indices(&marker)
            .filter_map(|(i, _)| {
                let rest = &html[i + marker.len()..];
                let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
                id.parse::<i32>().ok()
            })
            .max()
            .expect("assignment listed on the class page")
    }

    /// Every student's (name, secret) from the class's login cards page.
    pub async fn login_cards(&self, class_id: i32) -> (String, Vec<(String, String)>) {
        let (status, html) = self
            .get(&format!("/teacher/classes/{class_id}/cards"))
            .await;
        assert_eq!(status, Status::Ok);
        let code = between(&html, "<dd class=\"code\">", "</dd>").expect("class code on cards");
        let names: Vec<String> = all_between(&html, "<p class=\"card-name\">", "</p>");
        let secrets: Vec<String> = all_between(&html, "<dd class=\"secret\">", "</dd>");
        (code, names.into_iter().zip(secrets).collect())
    }

    /// The id of the student with this display name (names are unique in these tests).
    pub async fn student_id(&self, name: &str) -> i32 {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        use tellwise::db::entities::student;
        student::Entity::find()
            .filter(student::Column::DisplayName.eq(name))
            .one(&self.app().db)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("no student named {name:?}"))
            .id
    }

    pub async fn student_sign_in(&self, code: &str, name: &str, secret: &str) -> LocalResponse<'_> {
        self.post_form(
            "/student/login",
            &[("code", code), ("name", name), ("secret", secret)],
        )
        .await
    }

    /// A bearer token for the JSON API, signing in with the account's email and password.
    pub async fn api_token(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .api(
                "POST",
                "/api/v1/tokens",
                None,
                Some(serde_json::json!({ "email": email, "password": password })),
            )
            .await;
        assert_eq!(status, Status::Ok, "API sign-in: {body}");
        body["data"]["token"].as_str().expect("a token").to_string()
    }

    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (Status, Value) {
        let mut request = match method {
            "GET" => self.client.get(path.to_string()),
            "POST" => self.client.post(path.to_string()),
            "DELETE" => self.client.delete(path.to_string()),
            "PUT" => self.client.put(path.to_string()),
            "PATCH" => self.client.patch(path.to_string()),
            other => panic!("unsupported method {other}"),
        };
        if let Some(token) = token {
            request = request.header(Header::new("Authorization", format!("Bearer {token}")));
        }
        if let Some(body) = body {
            request = request.header(ContentType::JSON).body(body.to_string());
        }
        let response = request.dispatch().await;
        let status = response.status();
        let text = response.into_string().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

pub fn between(html: &str, start: &str, end: &str) -> Option<String> {
    let from = html.find(start)? + start.len();
    let to = html[from..].find(end)?;
    Some(html[from..from + to].to_string())
}

pub fn all_between(html: &str, start: &str, end: &str) -> Vec<String> {
    html.match_indices(start)
        .filter_map(|(i, _)| between(&html[i..], start, end))
        .collect()
}

/// Student secrets and names are HTML-escaped in pages; these tests use plain words.
pub fn unescape(text: &str) -> String {
    text.replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x3D;", "=")
        .replace("&#x60;", "`")
        .replace("&amp;", "&")
}

/// How a simulated student answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    AllRight,
    AllWrong,
}

impl Browser {
    /// Works through every step of an assigned module as a student would, from the module page,
    /// guessing wrong on the knowledge checks before the lesson.
    pub async fn complete_module(&self, slug: &str, answers: Answers) {
        self.complete_module_with(slug, Answers::AllWrong, answers)
            .await;
    }

    /// As `complete_module`, choosing how the knowledge checks are answered before the lesson.
    pub async fn complete_module_with(&self, slug: &str, before: Answers, answers: Answers) {
        let steps = self.app().curriculum.get(slug).expect("module").steps.len();
        self.answer_steps(slug, before, answers, steps).await;
        let (status, html) = self.get(&format!("/student/modules/{slug}/done")).await;
        assert_eq!(status, Status::Ok);
        assert!(html.contains("Where to get help") || html.contains("Dónde pedir ayuda"));
    }
}

impl Browser {
    /// Starts the module, answers the checks before the lesson and then its first `steps` steps.
    pub async fn answer_steps(&self, slug: &str, before: Answers, answers: Answers, steps: usize) {
        let module = self
            .app()
            .curriculum
            .get(slug)
            .expect("module exists")
            .clone();
        let response = self
            .post_form(&format!("/student/modules/{slug}/start"), &[])
            .await;
        assert_eq!(response.status(), Status::SeeOther);
        let location = location(&response);
        drop(response);
        let location = self.answer_checks_before(slug, location, before).await;
        assert_eq!(location, format!("/student/modules/{slug}/steps/1"));
        for (index, step) in module.steps.iter().enumerate().take(steps) {
            let path = format!("/student/modules/{slug}/steps/{}", index + 1);
            let (status, _) = self.get(&path).await;
            assert_eq!(status, Status::Ok, "step page {path}");
            let fields = answer_fields(step, answers);
            let fields = as_refs(&fields);
            let response = self.post_form(&path, &fields).await;
            assert_eq!(
                response.status(),
                Status::SeeOther,
                "answer to {path} saved"
            );
        }
    }
}

impl Browser {
    /// Answers the knowledge checks asked before the lesson, starting from where `start`
    /// redirected; returns where the last answer redirected to (the first step).
    pub async fn answer_checks_before(&self, slug: &str, start: String, before: Answers) -> String {
        let module = self
            .app()
            .curriculum
            .get(slug)
            .expect("module exists")
            .clone();
        let mut location = start;
        for (n, &index) in module.check_steps().iter().enumerate() {
            let path = format!("/student/modules/{slug}/before/{}", n + 1);
            assert_eq!(location, path, "knowledge checks come first, in order");
            let (status, _) = self.get(&path).await;
            assert_eq!(status, Status::Ok, "check page {path}");
            let fields = answer_fields(&module.steps[index], before);
            let fields = as_refs(&fields);
            let response = self.post_form(&path, &fields).await;
            assert_eq!(response.status(), Status::SeeOther, "check {path} saved");
            location = response
                .headers()
                .get_one("Location")
                .expect("redirect")
                .to_string();
        }
        location
    }
}

/// Owned form fields as the `(&str, &str)` pairs `post_form` takes.
pub fn as_refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The form fields a student sends to answer a step all right or all wrong.
pub fn answer_fields(step: &tellwise::curriculum::Step, answers: Answers) -> Vec<(String, String)> {
    use tellwise::curriculum::StepKind;
    let right = answers == Answers::AllRight;
    let choices = |ids: Vec<String>| {
        ids.into_iter()
            .map(|id| ("choice".to_string(), id))
            .collect()
    };
    match &step.kind {
        StepKind::Reading(_) => vec![],
        StepKind::Chat(chat) if right => {
            choices(chat.red_flags().into_iter().map(String::from).collect())
        }
        StepKind::Feed(feed) if right => {
            choices(feed.red_flags().into_iter().map(String::from).collect())
        }
        StepKind::Chat(_) | StepKind::Feed(_) => vec![],
        StepKind::Question(q) if right => {
            choices(q.correct_ids().into_iter().map(String::from).collect())
        }
        StepKind::Question(q) => choices(vec![
            q.options
                .iter()
                .find(|o| !o.correct)
                .expect("a wrong option")
                .id
                .clone(),
        ]),
        StepKind::Sort(sort) => sort
            .items
            .iter()
            .map(|item| {
                let bucket = if right {
                    item.bucket.clone()
                } else {
                    sort.buckets
                        .iter()
                        .find(|b| b.id != item.bucket)
                        .expect("another box")
                        .id
                        .clone()
                };
                (format!("sort[{}]", item.id), bucket)
            })
            .collect(),
        StepKind::Reply(reply) => {
            let path = reply_path_to(reply, right).expect("an ending of that kind");
            vec![("path".to_string(), path)]
        }
    }
}

/// The replies (`0.1`) that reach the first safe (or risky) ending of a conversation.
pub fn reply_path_to(reply: &tellwise::curriculum::Reply, safe: bool) -> Option<String> {
    fn walk(
        reply: &tellwise::curriculum::Reply,
        choices: &mut Vec<usize>,
        safe: bool,
    ) -> Option<String> {
        let nodes = reply.follow(choices)?;
        let node = nodes.last()?;
        if let Some(ending) = &node.ending {
            return (ending.safe == safe).then(|| {
                choices
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(".")
            });
        }
        for i in 0..node.replies.len() {
            choices.push(i);
            if let Some(found) = walk(reply, choices, safe) {
                return Some(found);
            }
            choices.pop();
        }
        None
    }
    walk(reply, &mut Vec::new(), safe)
}

/// How Handlebars escapes text in pages, so tests can look for curriculum text.
pub fn unescape_html_safe(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('=', "&#x3D;")
        .replace('`', "&#x60;")
}

/// The log as the server writes it, for tests that read it: install with
/// `tracing_subscriber::fmt().with_writer(move || writer.clone())`.
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

/// The `tellwise` binary serving a fresh SQLite database on a free port of 127.0.0.1, for tests
/// that need real sockets and signals. Killed when dropped.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub address: std::net::SocketAddr,
    _data: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts the server and waits until `/health/live` answers.
    pub fn start() -> Self {
        use std::io::{Read, Write};
        use std::time::{Duration, Instant};
        let data = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_tellwise"))
            .arg("serve")
            .env("TELLWISE_DATA_DIR", data.path())
            .env_remove("TELLWISE_DATABASE_URL")
            .env("TELLWISE_PORT", port.to_string())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the server spawns");
        let server = Self {
            child,
            address: ([127, 0, 0, 1], port).into(),
            _data: data,
        };
        let started = Instant::now();
        loop {
            let mut answer = String::new();
            let live = std::net::TcpStream::connect(server.address).and_then(|mut s| {
                s.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
                s.read_to_string(&mut answer)
            });
            if live.is_ok() && answer.starts_with("HTTP/1.1 200") {
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One app server that several browsers visit, each with cookies of its own: for what the
/// server keeps in memory from one reader to the next. (`TestEnv::browser` gives every browser
/// its own server.)
pub struct SharedServer {
    client: Client,
}

/// A browser on a [`SharedServer`]: its cookies, sent and updated by hand.
pub struct Visitor<'a> {
    server: &'a SharedServer,
    cookies: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
}

impl TestEnv {
    pub async fn shared_server(&self) -> SharedServer {
        let rocket = tellwise::setup(self.figment.clone())
            .await
            .expect("app starts");
        let client = Client::untracked(rocket).await.expect("valid rocket");
        SharedServer { client }
    }
}

impl SharedServer {
    pub fn visitor(&self) -> Visitor<'_> {
        Visitor {
            server: self,
            cookies: Default::default(),
        }
    }
}

impl Visitor<'_> {
    /// Local requests take cookies as cookies, not as a header.
    fn cookies(&self) -> Vec<rocket::http::Cookie<'static>> {
        let cookies = self.cookies.lock().expect("cookies");
        cookies
            .iter()
            .map(|(name, value)| rocket::http::Cookie::new(name.clone(), value.clone()))
            .collect()
    }

    fn keep_cookies(&self, response: &LocalResponse<'_>) {
        let mut cookies = self.cookies.lock().expect("cookies");
        for cookie in response.cookies().iter() {
            let removed =
                cookie.value().is_empty() || cookie.max_age() == Some(rocket::time::Duration::ZERO);
            if removed {
                cookies.remove(cookie.name());
            } else {
                cookies.insert(cookie.name().to_string(), cookie.value().to_string());
            }
        }
    }

    pub async fn get(&self, path: &str) -> (Status, String) {
        let response = self
            .server
            .client
            .get(path.to_string())
            .cookies(self.cookies())
            .dispatch()
            .await;
        self.keep_cookies(&response);
        let status = response.status();
        (status, response.into_string().await.unwrap_or_default())
    }

    /// Submits a form with the CSRF token of the page at `from`; returns the status and where
    /// it redirects.
    pub async fn post_form(
        &self,
        from: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (Status, String) {
        let (_, page) = self.get(from).await;
        let token = csrf_in(&page).expect("the page carries a CSRF token");
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        let response = self
            .server
            .client
            .post(path.to_string())
            .header(ContentType::Form)
            .cookies(self.cookies())
            .body(encode(&all))
            .dispatch()
            .await;
        self.keep_cookies(&response);
        (response.status(), location(&response))
    }
}
