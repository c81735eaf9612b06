//! School administrators, partners and the district: who sees which classes and which
//! roll-up reports, and that roll-ups hide groups below the roll-up minimum.

mod common;

use common::{Answers, Browser, TestEnv};
use rocket::http::Status;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const MODULE: &str = "fake-profiles";

/// A class of `size` students in the teacher's school, of whom `finishing` finish the module.
async fn class_with(
    env: &TestEnv,
    teacher: &Browser,
    name: &str,
    size: usize,
    finishing: usize,
) -> i32 {
    let class_id = teacher.create_class(name, "6-8").await;
    let names: Vec<String> = (1..=size).map(|i| format!("{name} student {i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    teacher.add_students(class_id, &refs).await;
    teacher.assign(class_id, MODULE).await;
    let (code, cards) = teacher.login_cards(class_id).await;
    for (student_name, secret) in cards.iter().take(finishing) {
        let student = env.browser().await;
        student.student_sign_in(&code, student_name, secret).await;
        student
            .complete_module_with(MODULE, Answers::AllWrong, Answers::AllRight)
            .await;
    }
    class_id
}

#[rocket::async_test]
async fn each_role_sees_its_own_scope_and_small_groups_stay_hidden() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let north = admin.create_school("North Middle").await;
    let south = admin.create_school("South Middle").await;
    let teacher_north = env.staff(&admin, "Nora North", "teacher", north).await;
    let teacher_south = env.staff(&admin, "Sam South", "teacher", south).await;
    let head_north = env.staff(&admin, "Hana Head", "school_admin", north).await;
    let partner = env.staff(&admin, "Pat Partner", "partner", north).await;

    let north_class = class_with(&env, &teacher_north, "Room N", 10, 10).await;
    let south_class = class_with(&env, &teacher_south, "Room S", 4, 2).await;

    // The school administrator sees every class of their school, and only those.
    let (_, classes) = head_north.get("/teacher").await;
    assert!(classes.contains("Room N") && !classes.contains("Room S"));
    assert_eq!(
        head_north
            .get(&format!("/teacher/classes/{north_class}"))
            .await
            .0,
        Status::Ok
    );
    assert_eq!(
        head_north
            .get(&format!("/teacher/classes/{south_class}"))
            .await
            .0,
        Status::NotFound
    );
    let (status, report) = head_north.get("/reports").await;
    assert_eq!(status, Status::Ok);
    assert!(report.contains("North Middle") && !report.contains("South Middle"));
    assert!(report.contains("0% → 100%"), "{report}");
    assert!(report.contains("(10 students)"));

    // The district sees both schools; the small one shows no counts and no figures.
    let (_, report) = admin.get("/reports").await;
    assert!(report.contains("North Middle") && report.contains("South Middle"));
    let south_row = common::between(&report, "<th scope=\"row\">South Middle</th>", "</tr>")
        .expect("south row");
    assert!(south_row.contains("fewer than 10 students"), "{south_row}");
    assert!(south_row.contains("not enough yet"));
    let (status, csv) = admin.get("/reports.csv?period=all").await;
    assert_eq!(status, Status::Ok);
    assert!(csv.starts_with("school,module,grades,assigned,started,finished"));
    assert!(
        csv.contains("North Middle,Fake profiles,6-8,10,10,10,100,100,10,100,0,100,10"),
        "{csv}"
    );
    assert!(
        csv.contains("South Middle,Fake profiles,6-8,,,,,,0,,,,"),
        "{csv}"
    );
    // The total adds up only what the school rows show: South cannot be worked out from it.
    assert!(
        csv.contains("All schools,Fake profiles,6-8,10,10,10,100,100,10,100,0,100,10"),
        "{csv}"
    );

    // Item statistics for curriculum authors cover whole groups across schools.
    let (status, items) = admin.get(&format!("/reports/items?module={MODULE}")).await;
    assert_eq!(status, Status::Ok);
    assert!(
        items.contains("These figures cover 10 students."),
        "{items}"
    );
    // Everyone in the figures answered every question right: all flagged as too easy.
    assert!(items.contains("<td>100%</td>") && items.contains("too easy"));
    let (status, items_csv) = admin
        .get(&format!("/reports/items.csv?module={MODULE}"))
        .await;
    assert_eq!(status, Status::Ok);
    let mut lines = items_csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "module,question,prompt,knowledge_check,students,facility_percent,discrimination_points,flags"
        )
    );
    let first = lines.next().expect("a question row");
    assert!(
        first.starts_with(&format!("{MODULE},1,"))
            && first.contains(",10,100,")
            && first.ends_with("too easy"),
        "{first}"
    );
    assert_eq!(
        admin.get("/reports/items?module=nope").await.0,
        Status::NotFound
    );
    assert_eq!(
        teacher_north
            .get(&format!("/reports/items.csv?module={MODULE}"))
            .await
            .0,
        Status::Forbidden
    );
    assert_eq!(
        teacher_north
            .get(&format!("/reports/items?module={MODULE}"))
            .await
            .0,
        Status::Forbidden
    );

    // A partner sees nothing until a school shares, then only that school's aggregates.
    let response = partner.get_response("/teacher").await;
    assert_eq!(common::location(&response), "/reports");
    drop(response);
    let (_, report) = partner.get("/reports").await;
    assert!(report.contains("No module has been assigned in these schools yet."));
    let partner_id =
        tellwise::db::queries::staff::find_by_email(&admin.app().db, "pat.partner@district.test")
            .await
            .expect("query")
            .expect("partner")
            .id
            .to_string();
    let response = admin
        .post_form(
            &format!("/admin/schools/{north}/partners"),
            &[("partner_id", &partner_id)],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let (_, report) = partner.get("/reports").await;
    assert!(report.contains("North Middle") && !report.contains("South Middle"));
    assert_eq!(
        partner.get(&format!("/reports?school={south}")).await.0,
        Status::NotFound
    );
    for path in [
        format!("/teacher/classes/{north_class}"),
        format!("/teacher/classes/{north_class}/progress.csv"),
        format!("/teacher/classes/{north_class}/summary"),
    ] {
        assert_eq!(partner.get(&path).await.0, Status::NotFound, "{path}");
    }
    let response = partner
        .post_form("/teacher/classes", &[("name", "Mine"), ("tier", "6-8")])
        .await;
    assert_eq!(response.status(), Status::Forbidden);
    drop(response);
    let response = admin
        .post_form(
            &format!("/admin/schools/{north}/partners/remove"),
            &[("partner_id", &partner_id)],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    let (_, report) = partner.get("/reports").await;
    assert!(!report.contains("North Middle"));

    // Teachers have their own class reports, not roll-ups.
    assert_eq!(teacher_north.get("/reports").await.0, Status::Forbidden);
}

#[rocket::async_test]
async fn report_filters_are_checked() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    for (query, status) in [
        ("tier=7", Status::BadRequest),
        ("period=2026", Status::BadRequest),
        ("period=2026-27-winter", Status::BadRequest),
        ("module=no-such-module", Status::NotFound),
        ("school=9999", Status::NotFound),
        ("period=2026-27-fall&tier=6-8", Status::Ok),
    ] {
        assert_eq!(
            admin.get(&format!("/reports?{query}")).await.0,
            status,
            "{query}"
        );
    }
}

#[rocket::async_test]
async fn a_seeded_district_rolls_up_with_figures_everywhere() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let app = admin.app();
    let summary = tellwise::demo::seed_demo(&app.db, &app.curriculum, 0.005, 7)
        .await
        .expect("seeded");
    assert_eq!((summary.classes, summary.students), (20, 500));
    let (status, report) = admin.get("/reports").await;
    assert_eq!(status, Status::Ok);
    assert!(report.contains("Demo School 1"));
    let (_, csv) = admin.get("/reports.csv").await;
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .collect::<Result<_, _>>()
        .expect("valid CSV");
    let totals: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[0] == "All schools").collect();
    assert_eq!(
        totals.len(),
        app.curriculum.modules().len(),
        "every module of the curriculum: {csv}"
    );
    // Every total row has figures: 4 classes of 25 students were assigned each module.
    for row in totals {
        assert!(!row[9].is_empty() && !row[10].is_empty(), "{row:?}");
        let before: u32 = row[10].parse().expect("before");
        let after: u32 = row[11].parse().expect("after");
        assert!(
            after > before,
            "the invented students learn something: {row:?}"
        );
    }
}

/// The database's window-function arithmetic must match the domain's, on every backend.
#[rocket::async_test]
async fn the_database_adds_up_groups_exactly_as_the_domain_does() {
    use std::collections::BTreeMap;
    use tellwise::db::entities::{assignment, attempt, class};
    use tellwise::domain::rollup::{FinishedAttempt, Period, figures_of};

    let env = TestEnv::new().await;
    let browser = env.browser().await;
    let app = browser.app();
    tellwise::demo::seed_demo(&app.db, &app.curriculum, 0.005, 11)
        .await
        .expect("seeded");
    let classes: BTreeMap<i32, i32> = class::Entity::find()
        .all(&app.db)
        .await
        .expect("classes")
        .into_iter()
        .map(|c| (c.id, c.school_id))
        .collect();
    let assignments: BTreeMap<i32, i32> = assignment::Entity::find()
        .all(&app.db)
        .await
        .expect("assignments")
        .into_iter()
        .map(|a| (a.id, classes[&a.class_id]))
        .collect();
    let attempts = attempt::Entity::find()
        .all(&app.db)
        .await
        .expect("attempts");
    let school_ids: Vec<i32> = classes
        .values()
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for (period, min_group) in [
        (Period::All, 10),
        (Period::Fall(2026), 7),
        (Period::Spring(2026), 3),
    ] {
        let finished: Vec<FinishedAttempt> = attempts
            .iter()
            .filter_map(|a| {
                let at = a.finished_at?;
                period.contains(at).then(|| FinishedAttempt {
                    attempt_id: a.id,
                    school_id: assignments[&a.assignment_id],
                    module_slug: a.module_slug.clone(),
                    finished_at: at,
                    score: (a.score_correct.unwrap_or(0), a.score_total.unwrap_or(0)),
                    checks: match (a.check_total, a.check_before_correct, a.check_after_correct) {
                        (Some(t), Some(b), Some(f)) => Some((t, b, f)),
                        _ => None,
                    },
                })
            })
            .collect();
        let mut expected = BTreeMap::new();
        let mut keys: Vec<(i32, String)> = finished
            .iter()
            .map(|a| (a.school_id, a.module_slug.clone()))
            .collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let group: Vec<&FinishedAttempt> = finished
                .iter()
                .filter(|a| a.school_id == key.0 && a.module_slug == key.1)
                .collect();
            expected.insert(key, figures_of(&group, min_group));
        }
        let actual = tellwise::db::queries::reports::group_figures(
            &app.db,
            &school_ids,
            period.bounds(),
            min_group,
        )
        .await
        .expect("query");
        assert_eq!(actual.len(), expected.len(), "{period:?}");
        assert!(!actual.is_empty(), "{period:?} has finished attempts");
        for (key, want) in &expected {
            let got = &actual[key];
            assert!(
                (got.score_sum - want.score_sum).abs() < 1e-6,
                "{period:?} {key:?}: {got:?} vs {want:?}"
            );
            let mut got = got.clone();
            got.score_sum = want.score_sum;
            assert_eq!(&got, want, "{period:?} {key:?}");
        }
    }
}

#[rocket::async_test]
async fn staff_and_partner_forms_refuse_what_makes_no_sense() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let north = admin.create_school("North Middle").await;
    let teacher = env.staff(&admin, "Tia Teacher", "teacher", north).await;
    drop(teacher);
    for (role, school) in [
        ("janitor", north.to_string()),
        ("teacher", "9999".to_string()),
    ] {
        let response = admin
            .post_form(
                "/admin/teachers",
                &[
                    ("name", "Bad Account"),
                    ("email", "bad@district.test"),
                    ("password", common::STAFF_PASSWORD),
                    ("role", role),
                    ("school_id", &school),
                ],
            )
            .await;
        assert_eq!(response.status(), Status::BadRequest, "{role} at {school}");
    }
    // Only a partner account can be given a school's reports.
    let teacher_id =
        tellwise::db::queries::staff::find_by_email(&admin.app().db, "tia.teacher@district.test")
            .await
            .expect("query")
            .expect("teacher")
            .id
            .to_string();
    let response = admin
        .post_form(
            &format!("/admin/schools/{north}/partners"),
            &[("partner_id", &teacher_id)],
        )
        .await;
    assert_eq!(response.status(), Status::BadRequest);
    drop(response);
    let partner = env.staff(&admin, "Pia Partner", "partner", north).await;
    drop(partner);
    let partner_id =
        tellwise::db::queries::staff::find_by_email(&admin.app().db, "pia.partner@district.test")
            .await
            .expect("query")
            .expect("partner")
            .id
            .to_string();
    // Granting twice changes nothing; an unknown school is not found.
    for _ in 0..2 {
        let response = admin
            .post_form(
                &format!("/admin/schools/{north}/partners"),
                &[("partner_id", &partner_id)],
            )
            .await;
        assert_eq!(response.status(), Status::SeeOther);
    }
    let grants = tellwise::db::queries::staff::partner_grants(&admin.app().db)
        .await
        .expect("grants");
    assert_eq!(grants.len(), 1);
    let response = admin
        .post_form(
            "/admin/schools/9999/partners",
            &[("partner_id", &partner_id)],
        )
        .await;
    assert_eq!(response.status(), Status::NotFound);
}

/// The roll-up ledger as the database holds it, in a comparable form.
async fn ledger_rows(app: &tellwise::App) -> Vec<String> {
    use tellwise::db::entities::{rollup_entry, rollup_head};
    let mut rows: Vec<String> = rollup_entry::Entity::find()
        .all(&app.db)
        .await
        .expect("entries")
        .into_iter()
        .map(|e| {
            format!(
                "entry {} {} #{} at {} scored {} sum {:.9} matched {} checks {}/{}/{} vacated {}",
                e.school_id,
                e.module_slug,
                e.seq,
                e.finished_at.format("%Y-%m-%d %H:%M"),
                e.scored,
                e.score_sum,
                e.matched,
                e.check_total,
                e.check_before,
                e.check_after,
                e.vacated
            )
        })
        .collect();
    rows.extend(
        rollup_head::Entity::find()
            .all(&app.db)
            .await
            .expect("heads")
            .into_iter()
            .map(|h| {
                format!(
                    "head {} {} finished {} scored {} sum {:.9} matched {} checks {}/{}/{} vacated {}",
                    h.school_id,
                    h.module_slug,
                    h.finished,
                    h.scored,
                    h.score_sum,
                    h.matched,
                    h.check_total,
                    h.check_before,
                    h.check_after,
                    h.vacated
                )
            }),
    );
    rows.sort();
    rows
}

/// Finishing adds each attempt to the roll-up sums as it happens; the sums are exactly what a
/// rebuild from the attempts writes, and unassigning and assigning again take the class's
/// attempts out of the roll-up (keeping their places) and back.
#[rocket::async_test]
async fn finishing_keeps_the_rollup_sums_a_rebuild_would_write() {
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let school = admin.create_school("Ledger Middle").await;
    let teacher = env.staff(&admin, "Lee Dger", "teacher", school).await;
    let class_id = class_with(&env, &teacher, "7L", 4, 3).await;
    let (code, cards) = teacher.login_cards(class_id).await;
    let (name, secret) = &cards[3];
    let last = env.browser().await;
    last.student_sign_in(&code, name, secret).await;
    last.complete_module_with(MODULE, Answers::AllRight, Answers::AllWrong)
        .await;

    let app = teacher.app();
    let incremental = ledger_rows(app).await;
    assert_eq!(
        incremental
            .iter()
            .filter(|r| r.starts_with("entry"))
            .count(),
        4,
        "{incremental:#?}"
    );
    assert!(
        incremental
            .iter()
            .any(|r| r.starts_with(&format!("head {school} {MODULE} finished 4"))),
        "{incremental:#?}"
    );
    tellwise::db::rebuild_rollups(&app.db)
        .await
        .expect("rebuilt");
    assert_eq!(ledger_rows(app).await, incremental);

    let figures = |app: &tellwise::App| {
        let db = app.db.clone();
        async move {
            tellwise::db::queries::reports::group_figures(&db, &[school], None, 2)
                .await
                .expect("figures")
        }
    };
    let before = figures(app).await;
    let group = &before[&(school, MODULE.to_string())];
    assert_eq!((group.finished, group.included, group.matched), (4, 4, 4));
    // The module has four checks: three students wrong before and right after, the last the
    // other way round.
    assert_eq!(group.check_total, 16);
    assert_eq!(group.check_before, 4);
    assert_eq!(group.check_after, 12);

    let (_, class_page) = teacher.get(&format!("/teacher/classes/{class_id}")).await;
    let assignment_id = common::between(
        &class_page,
        &format!("/teacher/classes/{class_id}/assignments/"),
        "\"",
    )
    .and_then(|rest| rest.split('/').next().map(str::to_string))
    .expect("assignment link")
    .parse::<i32>()
    .expect("assignment id");
    let response = teacher
        .post_form(
            &format!("/teacher/classes/{class_id}/assignments/{assignment_id}/remove"),
            &[],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    // Unassigned attempts count for nothing; their places stay, so nobody moves up.
    let unassigned = figures(app).await;
    let group = &unassigned[&(school, MODULE.to_string())];
    assert_eq!(
        (group.finished, group.included, group.scored, group.matched),
        (0, 0, 0, 0),
        "unassigned attempts leave the roll-up"
    );
    teacher.assign(class_id, MODULE).await;
    assert_eq!(
        figures(app).await,
        before,
        "assigning again brings them back"
    );
    assert_eq!(ledger_rows(app).await, incremental);
}

/// A whole class finishing in the same moment: every finish gets its own place in the roll-up,
/// none is lost or counted twice, and no request fails.
#[rocket::async_test]
async fn a_class_finishing_at_once_is_counted_once_each() {
    use tellwise::db::entities::{rollup_entry, rollup_head};
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let school = admin.create_school("Rush Middle").await;
    let teacher = env.staff(&admin, "Ru Sh", "teacher", school).await;
    let class_id = class_with(&env, &teacher, "8R", 12, 0).await;
    let (code, cards) = teacher.login_cards(class_id).await;
    let steps = teacher
        .app()
        .curriculum
        .get(MODULE)
        .expect("module")
        .steps
        .clone();
    let mut students = Vec::new();
    for (name, secret) in &cards {
        let student = env.browser().await;
        student.student_sign_in(&code, name, secret).await;
        student
            .answer_steps(
                MODULE,
                Answers::AllWrong,
                Answers::AllRight,
                steps.len() - 1,
            )
            .await;
        students.push(student);
    }
    let path = format!("/student/modules/{MODULE}/steps/{}", steps.len());
    let fields = common::answer_fields(steps.last().expect("a last step"), Answers::AllRight);
    let finishes = students.iter().map(|student| {
        let path = path.clone();
        let fields = fields.clone();
        async move {
            let fields = common::as_refs(&fields);
            student.post_form(&path, &fields).await.status()
        }
    });
    for status in rocket::futures::future::join_all(finishes).await {
        assert_eq!(status, Status::SeeOther);
    }
    let db = &teacher.app().db;
    let heads = rollup_head::Entity::find().all(db).await.expect("heads");
    assert_eq!(heads.len(), 1);
    assert_eq!((heads[0].finished, heads[0].matched), (12, 12));
    let mut positions: Vec<i32> = rollup_entry::Entity::find()
        .all(db)
        .await
        .expect("entries")
        .into_iter()
        .map(|e| e.seq)
        .collect();
    positions.sort();
    assert_eq!(positions, (1..=12).collect::<Vec<_>>());
}

/// A school administrator shares their own school's aggregates with a partner, and stops
/// sharing; another school's access and the district's school list stay out of reach, and
/// teachers and partners manage nothing.
#[rocket::async_test]
async fn school_administrators_manage_partner_access_for_their_own_school() {
    use tellwise::db::entities::partner_school;
    let env = TestEnv::new().await;
    let admin = env.admin().await;
    let north = admin.create_school("North Middle").await;
    let south = admin.create_school("South Middle").await;
    let head = env.staff(&admin, "Hana Head", "school_admin", north).await;
    let teacher = env.staff(&admin, "Tom Teach", "teacher", north).await;
    let partner = env.staff(&admin, "Pat Partner", "partner", north).await;
    let partner_id = tellwise::db::entities::user::Entity::find()
        .filter(tellwise::db::entities::user::Column::DisplayName.eq("Pat Partner"))
        .one(&admin.app().db)
        .await
        .expect("query")
        .expect("partner")
        .id
        .to_string();
    let grants = || async {
        partner_school::Entity::find()
            .all(&admin.app().db)
            .await
            .expect("grants")
            .into_iter()
            .map(|g| g.school_id)
            .collect::<Vec<_>>()
    };

    let (status, page) = head.get("/admin/schools").await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("North Middle") && !page.contains("South Middle"));
    assert!(!page.contains("Add a school"));
    let (_, home) = head.get("/teacher").await;
    assert!(
        home.contains("href=\"/admin/schools\""),
        "navigation offers it"
    );

    let form = [("partner_id", partner_id.as_str())];
    let response = head
        .post_form(&format!("/admin/schools/{south}/partners"), &form)
        .await;
    assert_eq!(response.status(), Status::NotFound, "another school");
    drop(response);
    for outsider in [&teacher, &partner] {
        let response = outsider
            .post_form(&format!("/admin/schools/{north}/partners"), &form)
            .await;
        assert_eq!(response.status(), Status::Forbidden);
        drop(response);
        assert_eq!(outsider.get("/admin/schools").await.0, Status::Forbidden);
    }
    assert!(grants().await.is_empty());

    let response = head
        .post_form(&format!("/admin/schools/{north}/partners"), &form)
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    assert_eq!(grants().await, vec![north]);
    let (_, page) = head.get("/admin/schools").await;
    assert!(page.contains("Pat Partner sees this school"));
    let response = head
        .post_form(&format!("/admin/schools/{north}/partners/remove"), &form)
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    assert!(grants().await.is_empty());
}

/// Removing a finished student (a family opt-out) leaves a vacated place in the school's
/// finishing order: the whole group of the minimum that held it leaves the roll-up, and no later
/// finisher moves into figures already shown. A rebuild of the ledger keeps the place.
#[rocket::async_test]
async fn a_removed_finisher_takes_their_whole_group_out_of_the_rollup() {
    let env = TestEnv::with(|f| f.merge(("rollup_min_group_size", 2))).await;
    let admin = env.admin().await;
    let class_id = class_with(&env, &admin, "Room V", 4, 3).await;
    // (finished, students in figures) of the school's row for the module.
    let figures = || async {
        let (status, csv) = admin.get("/reports.csv?period=all").await;
        assert_eq!(status, Status::Ok);
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
            .records()
            .collect::<Result<_, _>>()
            .expect("valid CSV");
        let row = rows
            .iter()
            .find(|r| &r[0] == "Lincoln Middle")
            .unwrap_or_else(|| panic!("a row for the school: {csv}"));
        (row[5].to_string(), row[8].to_string())
    };
    assert_eq!(
        figures().await,
        ("3".into(), "2".into()),
        "students 1 and 2"
    );
    // Item statistics count the same whole groups: their CSV names how many students it covers.
    let item_students = || async {
        let (status, csv) = admin
            .get(&format!("/reports/items.csv?module={MODULE}&period=all"))
            .await;
        assert_eq!(status, Status::Ok);
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
            .records()
            .collect::<Result<_, _>>()
            .expect("valid CSV");
        rows[0][4].to_string()
    };
    assert_eq!(item_students().await, "2");

    let first = admin.student_id("Room V student 1").await.to_string();
    let recorded = admin
        .post_form(
            &format!("/teacher/classes/{class_id}/opt-outs"),
            &[("student", &first), ("module", MODULE)],
        )
        .await;
    assert_eq!(recorded.status(), Status::SeeOther);
    drop(recorded);
    assert_eq!(
        figures().await,
        ("2".into(), "0".into()),
        "student 3 does not take student 1's place beside student 2"
    );
    assert_eq!(item_students().await, "", "nor in the item statistics");

    let (code, cards) = admin.login_cards(class_id).await;
    let (name, secret) = cards
        .iter()
        .find(|(n, _)| n == "Room V student 4")
        .expect("card");
    let fourth = env.browser().await;
    fourth.student_sign_in(&code, name, secret).await;
    fourth
        .complete_module_with(MODULE, Answers::AllWrong, Answers::AllRight)
        .await;
    assert_eq!(
        figures().await,
        ("3".into(), "2".into()),
        "students 3 and 4, a whole new group"
    );
    assert_eq!(item_students().await, "2");
    let before = ledger_rows(admin.app()).await;
    tellwise::db::rebuild_rollups(&admin.app().db)
        .await
        .expect("rebuilt");
    assert_eq!(
        ledger_rows(admin.app()).await,
        before,
        "a rebuild keeps the place"
    );
    assert_eq!(figures().await, ("3".into(), "2".into()));

    // When the class's student data goes after the retention period, the place goes to the
    // archive with the finished attempts: a rebuild from the archive counts the same groups.
    let db = &admin.app().db;
    let school_id = tellwise::db::entities::class::Entity::find_by_id(class_id)
        .one(db)
        .await
        .expect("query")
        .expect("class")
        .school_id;
    let group = || async {
        let figures = tellwise::db::queries::reports::group_figures(db, &[school_id], None, 2)
            .await
            .expect("figures");
        let group = &figures[&(school_id, MODULE.to_string())];
        (group.finished, group.included)
    };
    assert_eq!(group().await, (3, 2));
    // As if the whole class had finished in the same second: the order within it (the vacated
    // place first, then the attempts) must survive the purge too.
    {
        use sea_orm::sea_query::Expr;
        use tellwise::db::entities::{attempt, vacated_place};
        let same = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("a time");
        attempt::Entity::update_many()
            .col_expr(attempt::Column::FinishedAt, Expr::value(same))
            .filter(attempt::Column::FinishedAt.is_not_null())
            .exec(db)
            .await
            .expect("updated");
        vacated_place::Entity::update_many()
            .col_expr(vacated_place::Column::FinishedAt, Expr::value(same))
            .exec(db)
            .await
            .expect("updated");
    }
    tellwise::db::rebuild_rollups(db).await.expect("rebuilt");
    assert_eq!(group().await, (3, 2));
    let before = ledger_rows(admin.app()).await;
    tellwise::db::queries::retention::purge_class(db, class_id, chrono::Utc::now().naive_utc())
        .await
        .expect("purged")
        .expect("the class was not purged before");
    tellwise::db::rebuild_rollups(db).await.expect("rebuilt");
    assert_eq!(
        ledger_rows(admin.app()).await,
        before,
        "the archive keeps the place"
    );
    assert_eq!(group().await, (3, 2));
}
