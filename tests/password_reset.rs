//! An administrator's one-time password reset link: it sets a new password once, ends the old
//! sessions, and is refused when used again, forged, or made for another purpose.

mod common;

use common::{TestEnv, between, unescape};
use rocket::http::Status;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tellwise::db::entities::user;

const NEW_PASSWORD: &str = "orchard velvet compass";

#[rocket::async_test]
async fn a_reset_link_sets_a_new_password_once() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let school = admin.create_school("Reset Middle").await;
    let teacher = env.staff(&admin, "Rita Reset", "teacher", school).await;
    let head = env.staff(&admin, "Hugo Head", "school_admin", school).await;
    let id = user::Entity::find()
        .filter(user::Column::DisplayName.eq("Rita Reset"))
        .one(&admin.app().db)
        .await
        .expect("query")
        .expect("teacher")
        .id;
    let path = format!("/admin/teachers/{id}/reset-link");
    // Only administrators make links.
    let refused = head.post_form(&path, &[]).await;
    assert_eq!(refused.status(), Status::Forbidden);
    drop(refused);
    let made = admin.post_form(&path, &[]).await;
    assert_eq!(made.status(), Status::Ok);
    let page = made.into_string().await.unwrap_or_default();
    let link = unescape(&between(&page, "readonly value=\"", "\"").expect("the link"));
    let reset = link
        .split_once("/reset?")
        .map(|(_, query)| format!("/reset?{query}"))
        .expect("a /reset link");
    let token = reset.trim_start_matches("/reset?token=").to_string();

    // A weak password is refused with a reason, and the link still works afterwards.
    let visitor = env.browser().await;
    let (status, form) = visitor.get(&reset).await;
    assert_eq!(status, Status::Ok);
    assert!(form.contains("Choose a new password"));
    let weak = visitor
        .post_form("/reset", &[("token", &token), ("password", "password1234")])
        .await;
    assert_eq!(weak.status(), Status::BadRequest);
    assert!(
        weak.into_string()
            .await
            .unwrap_or_default()
            .contains("too easy to guess")
    );
    let set = visitor
        .post_form("/reset", &[("token", &token), ("password", NEW_PASSWORD)])
        .await;
    assert_eq!(set.status(), Status::SeeOther);
    assert_eq!(common::location(&set), "/login");
    drop(set);

    // The old session is over, the new password works, the old one does not.
    let response = teacher.get_response("/teacher").await;
    assert_eq!(common::location(&response), "/login");
    drop(response);
    let again = env.browser().await;
    again
        .sign_in("rita.reset@district.test", NEW_PASSWORD)
        .await;
    let old = env.browser().await;
    let refused = old
        .post_form(
            "/login",
            &[
                ("email", "rita.reset@district.test"),
                ("password", common::STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status(), Status::Unauthorized);
    drop(refused);

    // Used once, the link is refused; so are a forged one and another purpose's token.
    for (what, token) in [
        ("used", token.clone()),
        ("forged", format!("{token}x")),
        ("empty", String::new()),
    ] {
        let (status, page) = visitor.get(&format!("/reset?token={token}")).await;
        assert_eq!(status, Status::Forbidden, "{what}");
        assert!(page.contains("expired or was already used"), "{what}");
        let response = visitor
            .post_form(
                "/reset",
                &[("token", &token), ("password", "another fine passphrase")],
            )
            .await;
        assert_eq!(response.status(), Status::Forbidden, "{what}");
    }
    let (_, audit) = admin.get("/admin/audit").await;
    assert!(audit.contains("password reset link created"));
    assert!(audit.contains("password reset with a link"));
}

/// A new staff account gets no password from the administrator: a one-time link lets its owner
/// choose one under the same policy, and until then no password opens it.
#[rocket::async_test]
async fn a_new_staff_account_chooses_its_own_password_with_a_one_time_link() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let created = admin
        .post_form(
            "/admin/teachers",
            &[("name", "Tara Teach"), ("email", "tara@school.test")],
        )
        .await;
    assert_eq!(created.status(), Status::Ok);
    let page = created.into_string().await.unwrap_or_default();
    assert!(page.contains("Account created for Tara Teach"), "{page}");
    let link = unescape(&between(&page, "readonly value=\"", "\"").expect("the link"));
    let token = link
        .split_once("/reset?token=")
        .map(|(_, token)| token.to_string())
        .expect("a /reset link");
    let (_, teachers) = admin.get("/admin/teachers").await;
    assert!(teachers.contains("tara@school.test"));
    assert!(
        !teachers.contains("type=\"password\""),
        "the administrator types no password for anyone"
    );

    let tara = env.browser().await;
    for guess in ["", "tara teach", "a long enough password"] {
        let refused = tara
            .post_form(
                "/login",
                &[("email", "tara@school.test"), ("password", guess)],
            )
            .await;
        assert_eq!(refused.status(), Status::Unauthorized, "{guess:?}");
    }
    for (weak, why) in [
        ("short", "at least 10"),
        ("password1234", "too easy to guess"),
        ("tara teach 2026", "too easy to guess"),
        ("tara@school.test", "too easy to guess"),
    ] {
        let refused = tara
            .post_form("/reset", &[("token", &token), ("password", weak)])
            .await;
        assert_eq!(refused.status(), Status::BadRequest, "{weak}");
        let html = refused.into_string().await.unwrap_or_default();
        assert!(html.contains(why), "{weak}: {html}");
    }
    let chosen = tara
        .post_form("/reset", &[("token", &token), ("password", NEW_PASSWORD)])
        .await;
    assert_eq!(chosen.status(), Status::SeeOther);
    drop(chosen);
    tara.sign_in("tara@school.test", NEW_PASSWORD).await;
    // The link worked once.
    let (status, _) = env
        .browser()
        .await
        .get(&format!("/reset?token={token}"))
        .await;
    assert_eq!(status, Status::Forbidden);
    let (_, audit) = admin.get("/admin/audit").await;
    assert!(audit.contains("staff account created"));
}
