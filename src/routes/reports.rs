//! Roll-up reports across classes: a school administrator sees their school, an administrator
//! every school, a prevention partner the schools that granted access. Aggregates only, with
//! the larger roll-up minimum group; never a class or a student.

use std::collections::BTreeMap;

use rocket::http::ContentType;
use rocket::{Route, State, get, routes};
use serde_json::json;

use crate::App;
use crate::auth::Staff;
use crate::curriculum::Tier;
use crate::db::entities::user::{ROLE_ADMIN, ROLE_PARTNER, ROLE_SCHOOL_ADMIN};
use crate::db::queries::{progress, reports, staff as staff_queries};
use crate::domain::items::{ItemStatistics, item_statistics};
use crate::domain::rollup::{FinishedAttempt, Period, RollupInput, RollupRow, rollup};
use crate::error::{AppError, AppResult};
use crate::views::{Page, charts};

pub fn routes() -> Vec<Route> {
    routes![rollup_page, rollup_csv, items_page, items_csv]
}

/// The schools whose aggregates this staff member may see, by id.
async fn schools_for(app: &App, staff: &Staff) -> AppResult<BTreeMap<i32, String>> {
    let all = staff_queries::schools(&app.db).await?;
    let allowed: Vec<i32> = match staff.user.role.as_str() {
        ROLE_ADMIN => all.iter().map(|s| s.id).collect(),
        ROLE_SCHOOL_ADMIN => staff.user.school_id.into_iter().collect(),
        ROLE_PARTNER => staff_queries::schools_granted_to(&app.db, staff.user.id).await?,
        _ => {
            return Err(AppError::Forbidden(
                "Reports across classes are for school administrators, the district and prevention partners. Your classes' reports are under Classes."
                    .into(),
            ));
        }
    };
    Ok(all
        .into_iter()
        .filter(|s| allowed.contains(&s.id))
        .map(|s| (s.id, s.name))
        .collect())
}

/// The report's filters as given in the address; all optional.
struct Filters {
    school: Option<i32>,
    tier: Option<Tier>,
    module: Option<String>,
    period: Period,
}

impl Filters {
    fn parse(
        school: Option<i32>,
        tier: Option<&str>,
        module: Option<&str>,
        period: Option<&str>,
    ) -> AppResult<Self> {
        let tier = match tier.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Some(Tier::parse(t).ok_or_else(|| {
                AppError::bad_request(format!(
                    "{t:?} is not a grade band: use K-2, 3-5, 6-8 or 9-12."
                ))
            })?),
            None => None,
        };
        let period = Period::parse(period.unwrap_or("")).ok_or_else(|| {
            AppError::bad_request(
                "Choose a period from the list: a school year like 2026-27, or one of its terms.",
            )
        })?;
        Ok(Self {
            school,
            tier,
            module: module
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(String::from),
            period,
        })
    }
}

/// The schools and modules a report covers, and every school the staff member may choose.
struct Scope<'a> {
    choices: BTreeMap<i32, String>,
    schools: BTreeMap<i32, String>,
    modules: Vec<&'a crate::curriculum::Module>,
}

async fn scope<'a>(app: &'a App, staff: &Staff, filters: &Filters) -> AppResult<Scope<'a>> {
    let choices = schools_for(app, staff).await?;
    let mut schools = choices.clone();
    if let Some(only) = filters.school {
        if !schools.contains_key(&only) {
            return Err(AppError::not_found());
        }
        schools.retain(|id, _| *id == only);
    }
    if let Some(slug) = &filters.module
        && app.curriculum.get(slug).is_none()
    {
        return Err(AppError::not_found());
    }
    let modules = app
        .curriculum
        .modules()
        .into_iter()
        .filter(|m| filters.tier.is_none_or(|t| m.tier == t))
        .filter(|m| filters.module.as_ref().is_none_or(|slug| &m.slug == slug))
        .collect();
    Ok(Scope {
        choices,
        schools,
        modules,
    })
}

/// Counts and figures per school and module, added up by the database.
async fn rollup_input<'a>(
    app: &App,
    scope: Scope<'a>,
    filters: &Filters,
) -> AppResult<RollupInput<'a>> {
    let school_ids: Vec<i32> = scope.schools.keys().copied().collect();
    let min_group = app.settings.rollup_min_group_size as usize;
    let participation = reports::participation(&app.db, &school_ids).await?;
    let figures =
        reports::group_figures(&app.db, &school_ids, filters.period.bounds(), min_group).await?;
    Ok(RollupInput {
        modules: scope.modules,
        schools: scope.schools,
        participation,
        figures,
        min_group,
    })
}

/// One module's finished attempts in scope, one by one (for item statistics).
async fn finished_attempts(
    app: &App,
    scope: &Scope<'_>,
    module: &str,
    filters: &Filters,
) -> AppResult<Vec<FinishedAttempt>> {
    let school_ids: Vec<i32> = scope.schools.keys().copied().collect();
    let classes = reports::classes_of_schools(&app.db, &school_ids).await?;
    let school_of_class: BTreeMap<i32, i32> = classes.iter().map(|c| (c.id, c.school_id)).collect();
    let class_ids: Vec<i32> = classes.iter().map(|c| c.id).collect();
    let assignments: BTreeMap<i32, i32> =
        reports::active_assignments_of_classes(&app.db, &class_ids)
            .await?
            .into_iter()
            .filter(|a| a.module_slug == module)
            .filter_map(|a| Some((a.id, *school_of_class.get(&a.class_id)?)))
            .collect();
    let ids: Vec<i32> = assignments.keys().copied().collect();
    Ok(progress::attempts_for_assignments(&app.db, &ids)
        .await?
        .into_iter()
        .filter_map(|attempt| {
            let at = attempt.finished_at?;
            if !filters.period.contains(at) {
                return None;
            }
            Some(FinishedAttempt {
                attempt_id: attempt.id,
                school_id: *assignments.get(&attempt.assignment_id)?,
                module_slug: attempt.module_slug.clone(),
                finished_at: at,
                score: (attempt.score_correct?, attempt.score_total?),
                checks: None,
            })
        })
        .collect())
}

#[get("/reports?<school>&<tier>&<module>&<period>")]
async fn rollup_page(
    app: &State<App>,
    staff: Staff,
    school: Option<i32>,
    tier: Option<&str>,
    module: Option<&str>,
    period: Option<&str>,
) -> AppResult<Page> {
    let filters = Filters::parse(school, tier, module, period)?;
    let scope = scope(app, &staff, &filters).await?;
    let schools = scope.choices.clone();
    let rows = rollup(&rollup_input(app, scope, &filters).await?);
    let totals: Vec<(String, u32, u32)> = rows
        .iter()
        .filter(|r| r.school.is_none())
        .filter_map(|r| {
            Some((
                r.module_title.clone(),
                r.gain.before_percent?,
                r.gain.after_percent?,
            ))
        })
        .collect();
    let chart = (!totals.is_empty()).then(|| {
        charts::before_after(
            "rollup-gain",
            "Share correct on the knowledge checks before and after each module, all schools in the report",
            "Two bars per module: before the lesson, then after; the table gives the same figures.",
            &totals,
        )
    });
    let query = format!(
        "school={}&tier={}&module={}&period={}",
        filters.school.map(|s| s.to_string()).unwrap_or_default(),
        filters.tier.map(|t| t.as_str()).unwrap_or_default(),
        filters.module.clone().unwrap_or_default(),
        filters.period.code(),
    );
    let today = chrono::Utc::now().date_naive();
    let context = json!({
        "rows": rows,
        "chart": chart,
        "csv": format!("/reports.csv?{query}"),
        "min_group": app.settings.rollup_min_group_size,
        "schools": schools.iter().map(|(id, name)| json!({ "id": id, "name": name, "selected": filters.school == Some(*id) })).collect::<Vec<_>>(),
        "tiers": Tier::ALL.iter().map(|t| json!({ "value": t.as_str(), "label": t.label(), "selected": filters.tier == Some(*t) })).collect::<Vec<_>>(),
        "modules": app.curriculum.modules().iter().map(|m| json!({ "slug": m.slug, "title": m.title, "selected": filters.module.as_deref() == Some(m.slug.as_str()) })).collect::<Vec<_>>(),
        "periods": Period::choices(today).into_iter().map(|p| json!({ "value": p.code(), "label": p.label(), "selected": p == filters.period })).collect::<Vec<_>>(),
        "period_label": filters.period.label(),
    });
    Ok(Page::new("reports/rollup", "Reports across classes", context).for_staff(&staff))
}

#[get("/reports.csv?<school>&<tier>&<module>&<period>")]
async fn rollup_csv(
    app: &State<App>,
    staff: Staff,
    school: Option<i32>,
    tier: Option<&str>,
    module: Option<&str>,
    period: Option<&str>,
) -> AppResult<(ContentType, String)> {
    let filters = Filters::parse(school, tier, module, period)?;
    let scope = scope(app, &staff, &filters).await?;
    let rows = rollup(&rollup_input(app, scope, &filters).await?);
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(RollupRow::csv_header())
        .map_err(AppError::internal)?;
    for row in &rows {
        writer
            .write_record(row.csv_record())
            .map_err(AppError::internal)?;
    }
    let bytes = writer.into_inner().map_err(AppError::internal)?;
    Ok((
        ContentType::CSV,
        String::from_utf8(bytes).map_err(AppError::internal)?,
    ))
}

/// Item statistics of one module across the schools in scope, for curriculum authors.
async fn item_stats(
    app: &App,
    staff: &Staff,
    module: &str,
    school: Option<i32>,
    period: Option<&str>,
) -> AppResult<(ItemStatistics, Filters)> {
    let filters = Filters::parse(school, None, Some(module), period)?;
    let found = app.curriculum.get(module).ok_or_else(AppError::not_found)?;
    let scope = scope(app, staff, &filters).await?;
    let finished = finished_attempts(app, &scope, &found.slug, &filters).await?;
    let min_group = app.settings.rollup_min_group_size as usize;
    let finished_ids: Vec<i32> = finished.iter().map(|a| a.attempt_id).collect();
    let answers = progress::answer_records(&app.db, &finished_ids, progress::PHASE_MAIN).await?;
    let school_ids: Vec<i32> = scope.schools.keys().copied().collect();
    let vacated: Vec<(i32, chrono::NaiveDateTime)> =
        reports::vacated_places_of_schools(&app.db, &school_ids, &found.slug)
            .await?
            .into_iter()
            .filter(|(_, at)| filters.period.contains(*at))
            .collect();
    Ok((
        item_statistics(found, &finished, &vacated, &answers, min_group),
        filters,
    ))
}

#[get("/reports/items?<module>&<school>&<period>")]
async fn items_page(
    app: &State<App>,
    staff: Staff,
    module: &str,
    school: Option<i32>,
    period: Option<&str>,
) -> AppResult<Page> {
    let (stats, filters) = item_stats(app, &staff, module, school, period).await?;
    let csv = format!(
        "/reports/items.csv?module={}&school={}&period={}",
        stats.module_slug,
        filters.school.map(|s| s.to_string()).unwrap_or_default(),
        filters.period.code(),
    );
    let title = format!("Item statistics: {}", stats.module_title);
    let context = json!({
        "stats": stats,
        "csv": csv,
        "min_group": app.settings.rollup_min_group_size,
        "period_label": filters.period.label(),
    });
    Ok(Page::new("reports/items", title, context).for_staff(&staff))
}

/// The item statistics as CSV: one row per question; empty figures while suppressed.
#[get("/reports/items.csv?<module>&<school>&<period>")]
async fn items_csv(
    app: &State<App>,
    staff: Staff,
    module: &str,
    school: Option<i32>,
    period: Option<&str>,
) -> AppResult<(ContentType, String)> {
    let (stats, _) = item_stats(app, &staff, module, school, period).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "module",
            "question",
            "prompt",
            "knowledge_check",
            "students",
            "facility_percent",
            "discrimination_points",
            "flags",
        ])
        .map_err(AppError::internal)?;
    let students = if stats.suppressed {
        String::new()
    } else {
        stats.students.to_string()
    };
    for item in &stats.items {
        writer
            .write_record([
                stats.module_slug.clone(),
                item.number.to_string(),
                item.prompt.clone(),
                item.check.to_string(),
                students.clone(),
                item.facility.map(|f| f.to_string()).unwrap_or_default(),
                item.discrimination
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                item.flags.join("; "),
            ])
            .map_err(AppError::internal)?;
    }
    let bytes = writer.into_inner().map_err(AppError::internal)?;
    Ok((
        ContentType::CSV,
        String::from_utf8(bytes).map_err(AppError::internal)?,
    ))
}
