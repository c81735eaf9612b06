//! Session tokens under attack and over time: forged, expired, misdirected, unsigned and
//! re-algorithmed tokens are refused; a staff session slides forward while it is used, ends
//! after the idle limit, and never outlives the absolute limit.

mod common;

use common::{ADMIN_EMAIL, Browser, TestEnv, location};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rocket::http::{Cookie, Header as HttpHeader, Status};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use tellwise::auth::tokens::{Audience, Claims, Keys};
use tellwise::db::entities::user;

const STAFF_AUDIENCE: &str = "tellwise:staff";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The administrator's id and security stamp, and the installation's secret key.
async fn admin_identity(env: &TestEnv, admin: &Browser) -> (String, String, String) {
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(ADMIN_EMAIL))
        .one(&admin.app().db)
        .await
        .expect("query")
        .expect("admin");
    let secret: String = env.figment.extract_inner("secret_key").expect("secret key");
    (user.id.to_string(), user.security_stamp, secret)
}

fn claims(sub: &str, stamp: &str, aud: &str, iat: i64, exp: i64) -> Claims {
    Claims {
        sub: sub.into(),
        aud: aud.into(),
        iat,
        exp,
        stamp: stamp.into(),
        auth_time: Some(iat),
    }
}

/// What a staff cookie holding `token` gets from a page that needs a staff session.
async fn staff_page_with(browser: &Browser, token: &str) -> (Status, Option<String>) {
    let response = browser
        .client
        .get("/teacher")
        .cookie(Cookie::new(
            tellwise::auth::cookie_names(false).staff,
            token.to_string(),
        ))
        .dispatch()
        .await;
    let renewed = response
        .cookies()
        .get(tellwise::auth::cookie_names(false).staff)
        .map(|c| c.value().to_string());
    let status = response.status();
    if status == Status::SeeOther {
        assert_eq!(location(&response), "/login");
    }
    (status, renewed)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[rocket::async_test]
async fn forged_expired_misdirected_and_unsigned_tokens_are_refused() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let (sub, stamp, secret) = admin_identity(&env, &admin).await;
    let keys = Keys::from_secret(&secret);
    let stranger = env.browser().await;
    let t = now();
    let valid = keys
        .sign(&claims(&sub, &stamp, STAFF_AUDIENCE, t, t + 600))
        .expect("token");
    // The control: a token made the server's way opens the page, so the refusals below mean
    // something.
    assert_eq!(staff_page_with(&stranger, &valid).await.0, Status::Ok);

    let other_key = Keys::from_secret("not this installation's key")
        .sign(&claims(&sub, &stamp, STAFF_AUDIENCE, t, t + 600))
        .expect("token");
    let expired = keys
        .sign(&claims(&sub, &stamp, STAFF_AUDIENCE, t - 7200, t - 3600))
        .expect("token");
    let student_audience = keys
        .sign(&claims(&sub, &stamp, "tellwise:student", t, t + 600))
        .expect("token");
    let stale_stamp = keys
        .sign(&claims(&sub, "an old stamp", STAFF_AUDIENCE, t, t + 600))
        .expect("token");
    let [header, _payload, signature]: [&str; 3] = valid
        .split('.')
        .collect::<Vec<_>>()
        .try_into()
        .expect("three parts");
    let body = serde_json::to_vec(&claims(&sub, &stamp, STAFF_AUDIENCE, t, t + 600)).expect("json");
    let unsigned = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(&body));
    let mut other_sub = claims(&sub, &stamp, STAFF_AUDIENCE, t, t + 600);
    other_sub.sub = "999999".into();
    let tampered = format!(
        "{header}.{}.{signature}",
        b64(&serde_json::to_vec(&other_sub).expect("json"))
    );
    // The same key under another algorithm: only HS256 is accepted.
    let derived = Sha256::digest(format!("tellwise-jwt-v1:{secret}").as_bytes());
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(&sub, &stamp, STAFF_AUDIENCE, t, t + 600),
        &EncodingKey::from_secret(&derived),
    )
    .expect("token");
    for (what, token) in [
        ("another key", other_key.as_str()),
        ("expired", &expired),
        ("student audience", &student_audience),
        ("stale security stamp", &stale_stamp),
        ("alg none", &unsigned),
        ("payload changed after signing", &tampered),
        ("HS512 with the right key", &hs512),
        ("garbage", "not.a.token"),
    ] {
        assert_eq!(
            staff_page_with(&stranger, token).await.0,
            Status::SeeOther,
            "{what} must be refused"
        );
    }

    // A staff web session is no API token, and an API token is no web session.
    let response = stranger
        .client
        .get("/api/v1/classes")
        .header(HttpHeader::new("Authorization", format!("Bearer {valid}")))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Unauthorized);
    let api_token = keys.issue(Audience::Api, &sub, &stamp).expect("token");
    assert_eq!(
        staff_page_with(&stranger, &api_token).await.0,
        Status::SeeOther
    );
}

#[rocket::async_test]
async fn staff_sessions_slide_while_used_and_stop_at_the_absolute_limit() {
    let env = TestEnv::with(|f| {
        f.merge(("staff_idle_minutes", 30))
            .merge(("staff_max_hours", 12))
    })
    .await;
    let admin = env.admin().await;
    let (sub, stamp, secret) = admin_identity(&env, &admin).await;
    let keys = Keys::from_secret(&secret);
    let browser = env.browser().await;
    let (idle, max) = (30 * 60, 12 * 3600);
    let t = now();

    // Signing in gives a session of the idle length.
    let fresh = admin
        .client
        .cookies()
        .get(tellwise::auth::cookie_names(false).staff)
        .expect("session")
        .value()
        .to_string();
    let fresh = keys.verify(Audience::Staff, &fresh).expect("valid");
    assert_eq!(fresh.exp - fresh.iat, idle);

    // Used five minutes after the last renewal: the cookie is renewed for another full idle
    // period, keeping the time of sign-in.
    let mut used = claims(&sub, &stamp, STAFF_AUDIENCE, t - 300, t - 300 + idle);
    used.auth_time = Some(t - 3600);
    let (status, renewed) = staff_page_with(&browser, &keys.sign(&used).expect("token")).await;
    assert_eq!(status, Status::Ok);
    let renewed = keys
        .verify(Audience::Staff, &renewed.expect("a renewed cookie"))
        .expect("valid");
    assert!((renewed.exp - (t + idle)).abs() <= 5, "{renewed:?}");
    assert_eq!(renewed.auth_time, Some(t - 3600));

    // Used again within the minute: no new cookie.
    let recent = claims(&sub, &stamp, STAFF_AUDIENCE, t - 10, t - 10 + idle);
    let (status, renewed) = staff_page_with(&browser, &keys.sign(&recent).expect("token")).await;
    assert_eq!(status, Status::Ok);
    assert!(renewed.is_none());

    // Near the absolute limit, renewing never goes past it.
    let mut late = claims(&sub, &stamp, STAFF_AUDIENCE, t - 300, t + 120);
    late.auth_time = Some(t - max + 120);
    let (status, renewed) = staff_page_with(&browser, &keys.sign(&late).expect("token")).await;
    assert_eq!(status, Status::Ok);
    let renewed = keys
        .verify(Audience::Staff, &renewed.expect("a renewed cookie"))
        .expect("valid");
    assert!(renewed.exp <= t - max + 120 + max, "{renewed:?}");

    // Idle past the limit, or past the absolute limit: signed out.
    let idle_out = claims(&sub, &stamp, STAFF_AUDIENCE, t - idle - 60, t - 60);
    assert_eq!(
        staff_page_with(&browser, &keys.sign(&idle_out).expect("token"))
            .await
            .0,
        Status::SeeOther
    );
}

#[rocket::async_test]
async fn the_idle_limit_is_configurable() {
    let env = TestEnv::with(|f| f.merge(("staff_idle_minutes", 5))).await;
    let admin = env.admin().await;
    let token = admin
        .client
        .cookies()
        .get(tellwise::auth::cookie_names(false).staff)
        .expect("session")
        .value()
        .to_string();
    let (_, _, secret) = admin_identity(&env, &admin).await;
    let claims = Keys::from_secret(&secret)
        .verify(Audience::Staff, &token)
        .expect("valid");
    assert_eq!(claims.exp - claims.iat, 300);
    let refused = TestEnv::with(|f| f.merge(("staff_idle_minutes", 0)));
    let figment = refused.await.figment.clone();
    let Err(error) = tellwise::setup(figment).await else {
        panic!("an idle limit of 0 minutes must be refused");
    };
    assert!(error.contains("staff_idle_minutes"), "{error}");
}
