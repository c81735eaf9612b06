//! Several app servers behind a load balancer: a student's requests alternate between two
//! instances that share only the database and the secret key, and the whole lesson works.

mod common;

use std::collections::BTreeMap;

use common::{Answers, TestEnv, answer_fields};
use rocket::http::{ContentType, Cookie, Status};
use rocket::local::asynchronous::{Client, LocalResponse};

/// A browser whose requests go to each app server in turn, carrying its own cookies.
struct RoundRobin {
    servers: Vec<Client>,
    cookies: BTreeMap<String, Cookie<'static>>,
    turn: usize,
    /// Which server answered each request, to prove both did.
    answered_by: Vec<usize>,
}

impl RoundRobin {
    fn next(&mut self) -> usize {
        self.turn = (self.turn + 1) % self.servers.len();
        self.answered_by.push(self.turn);
        self.turn
    }

    fn keep_cookies(cookies: &mut BTreeMap<String, Cookie<'static>>, response: &LocalResponse<'_>) {
        for cookie in response.cookies().iter() {
            let removed = cookie.value().is_empty()
                || cookie
                    .max_age()
                    .is_some_and(|age| age.is_zero() || age.is_negative());
            if removed {
                cookies.remove(cookie.name());
            } else {
                cookies.insert(cookie.name().to_string(), cookie.clone().into_owned());
            }
        }
    }

    async fn get(&mut self, path: &str) -> (Status, String, Option<String>) {
        let server = self.next();
        let response = self.servers[server]
            .get(path.to_string())
            .cookies(self.cookies.values().cloned().collect::<Vec<_>>())
            .dispatch()
            .await;
        Self::keep_cookies(&mut self.cookies, &response);
        let status = response.status();
        let location = response.headers().get_one("Location").map(str::to_string);
        (
            status,
            response.into_string().await.unwrap_or_default(),
            location,
        )
    }

    /// Posts a form with the CSRF token of a page fetched (from the other server) just before.
    async fn post(&mut self, path: &str, fields: &[(String, String)]) -> (Status, Option<String>) {
        let (_, html, _) = self.get("/help").await;
        let token = common::csrf_in(&html).expect("a CSRF token");
        let mut body = vec![format!("csrf_token={}", common::urlencode(&token))];
        body.extend(
            fields
                .iter()
                .map(|(k, v)| format!("{}={}", common::urlencode(k), common::urlencode(v))),
        );
        let server = self.next();
        let response = self.servers[server]
            .post(path.to_string())
            .header(ContentType::Form)
            .cookies(self.cookies.values().cloned().collect::<Vec<_>>())
            .body(body.join("&"))
            .dispatch()
            .await;
        Self::keep_cookies(&mut self.cookies, &response);
        let location = response.headers().get_one("Location").map(str::to_string);
        (response.status(), location)
    }
}

#[rocket::async_test]
async fn a_student_moves_between_two_app_servers_without_a_hitch() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let slug = "gifts-and-tricky-people";
    let class_id = admin.create_class("Room 2", "K-2").await;
    admin.add_students(class_id, &["Rae"]).await;
    admin.assign(class_id, slug).await;
    let (code, cards) = admin.login_cards(class_id).await;

    let mut servers = Vec::new();
    for _ in 0..2 {
        let rocket = tellwise::setup(env.figment.clone()).await.expect("starts");
        servers.push(Client::untracked(rocket).await.expect("client"));
    }
    let mut browser = RoundRobin {
        servers,
        cookies: BTreeMap::new(),
        turn: 0,
        answered_by: Vec::new(),
    };
    let module = admin.app().curriculum.get(slug).expect("module").clone();
    let own = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };

    let (status, location) = browser
        .post(
            "/student/login",
            &own(&[("code", &code), ("name", "Rae"), ("secret", &cards[0].1)]),
        )
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (Status::SeeOther, Some("/student"))
    );
    let (status, home, _) = browser.get("/student").await;
    assert_eq!(status, Status::Ok);
    assert!(home.contains(&format!("/student/modules/{slug}")));

    let (_, mut location) = browser
        .post(&format!("/student/modules/{slug}/start"), &[])
        .await;
    for &index in &module.check_steps() {
        let path = location.clone().expect("a next place");
        assert!(path.contains("/before/"), "{path}");
        assert_eq!(browser.get(&path).await.0, Status::Ok);
        let (status, next) = browser
            .post(
                &path,
                &answer_fields(&module.steps[index], Answers::AllWrong),
            )
            .await;
        assert_eq!(status, Status::SeeOther, "{path}");
        location = next;
    }
    for (i, step) in module.steps.iter().enumerate() {
        let path = format!("/student/modules/{slug}/steps/{}", i + 1);
        assert_eq!(browser.get(&path).await.0, Status::Ok, "{path}");
        let (status, _) = browser
            .post(&path, &answer_fields(step, Answers::AllRight))
            .await;
        assert_eq!(status, Status::SeeOther, "{path}");
    }
    let (status, done, _) = browser.get(&format!("/student/modules/{slug}/done")).await;
    assert_eq!(status, Status::Ok);
    assert!(done.contains("Where to get help"));
    assert!(browser.answered_by.contains(&0) && browser.answered_by.contains(&1));

    // Signing out on one server ends the session on the other too, even for a copy of the
    // session cookie kept from before.
    let kept = browser
        .cookies
        .get(tellwise::auth::cookie_names(false).student)
        .cloned()
        .expect("a session cookie");
    let (status, _) = browser.post("/student/logout", &[]).await;
    assert_eq!(status, Status::SeeOther);
    browser.cookies.insert(kept.name().to_string(), kept);
    for _ in 0..2 {
        let (status, _, location) = browser.get("/student").await;
        assert_eq!(status, Status::SeeOther);
        assert_eq!(location.as_deref(), Some("/student/login"));
    }
}
