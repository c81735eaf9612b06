//! The JSON API under `/api/v1/`: everything a teacher can do in the pages, with bearer tokens
//! (no cookies, so no CSRF), `{"data": ...}` envelopes and `{"errors": [...]}` on failure.
//! The OpenAPI document is generated from the annotations here and served at
//! `/api/v1/openapi.json`.

use rocket::data::{self, Data, FromData};
use rocket::http::{ContentType, Status};
use rocket::outcome::Outcome;
use rocket::request::Request;
use rocket::serde::json::Json;
use rocket::{Route, State, delete, get, post, routes};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{OpenApi, ToSchema};

use super::staff::check_credentials;
use super::teacher::{assign_module, assignment_report, new_class, new_students};
use crate::App;
use crate::auth::{ApiStaff, Audience, ClientAddress};
use crate::curriculum::{Language, Tier};
use crate::db::entities::{assignment, class, student};
use crate::db::queries::{classes, staff as staff_queries};
use crate::error::{AppError, AppResult, note_error};

pub fn routes() -> Vec<Route> {
    routes![
        openapi,
        create_token,
        revoke_tokens,
        list_modules,
        list_classes,
        create_class,
        get_class,
        list_students,
        add_students,
        list_assignments,
        create_assignment,
        delete_assignment,
        results,
        results_csv,
    ]
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tellwise API",
        description = "Classes, students, assignments and aggregate results for teachers. \
Authenticate with POST /api/v1/tokens and send `Authorization: Bearer <token>`. Errors come as `{\"errors\":[{\"status\":400,\"detail\":\"...\"}]}`."
    ),
    paths(
        create_token,
        revoke_tokens,
        list_modules,
        list_classes,
        create_class,
        get_class,
        list_students,
        add_students,
        list_assignments,
        create_assignment,
        delete_assignment,
        results,
        results_csv
    ),
    components(schemas(
        TokenRequest,
        NewClass,
        NewStudents,
        NewAssignment,
        ClassJson,
        StudentJson,
        AssignmentJson,
        ModuleJson,
        TokenJson,
        ErrorEnvelope
    ))
)]
struct ApiDoc;

#[get("/api/v1/openapi.json")]
fn openapi(app: &State<App>) -> Json<Value> {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let modules: Vec<String> = app
        .curriculum
        .modules()
        .iter()
        .map(|m| m.slug.clone())
        .collect();
    state_the_rules(&mut document, &modules);
    add_common_responses(&mut document);
    Json(document)
}

/// Something other than spaces, and no control characters: what `domain::input::parse_name`
/// accepts.
const NAME_PATTERN: &str = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";

/// Writes the input rules the handlers enforce into the request schemas, so that a client (or
/// a fuzzer) knows which values are accepted: lengths, name characters, grade bands, languages
/// and the modules of this installation's curriculum.
fn state_the_rules(document: &mut Value, modules: &[String]) {
    let schemas = &mut document["components"]["schemas"];
    let name = |max: usize| json!({ "type": "string", "maxLength": max, "pattern": NAME_PATTERN });
    let class = &mut schemas["NewClass"]["properties"];
    class["name"] = name(100);
    class["tier"] = json!({
        "type": "string",
        "enum": Tier::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
    });
    let mut languages: Vec<Value> = Language::ALL.iter().map(|l| json!(l.code())).collect();
    languages.push(Value::Null);
    class["language"] = json!({ "type": ["string", "null"], "enum": languages });
    schemas["NewStudents"]["properties"]["names"] = json!({
        "type": "array",
        "minItems": 1,
        "maxItems": 100,
        "items": name(60),
    });
    let assignment = &mut schemas["NewAssignment"]["properties"];
    assignment["module"] = json!({ "type": "string", "enum": modules });
    assignment["due_on"] = json!({ "type": ["string", "null"], "format": "date" });
}

/// Answers every operation can give: 401 without a valid token, 403 for a partner account,
/// 404 for an id the caller cannot see, 400/422 for a body that cannot be used.
fn add_common_responses(document: &mut Value) {
    let error = |description: &str| {
        json!({
            "description": description,
            "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/ErrorEnvelope" } } }
        })
    };
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(operations) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in operations.iter_mut() {
            let has_body = operation.get("requestBody").is_some();
            let Some(responses) = operation["responses"].as_object_mut() else {
                continue;
            };
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status)
                    .or_insert_with(|| error(description));
            };
            let signing_in = path == "/api/v1/tokens" && method == "post";
            if signing_in {
                add("429", "Too many sign-in attempts: wait a minute");
            } else {
                add("401", "No valid bearer token");
                add(
                    "403",
                    "Not allowed for this account (partners have no classes)",
                );
            }
            if path.contains('{') {
                add("404", "No such id among the caller's classes");
                add("422", "An id in the path is not a whole number in range");
            }
            if has_body {
                add(
                    "400",
                    "The body is not valid JSON, or a value breaks a rule",
                );
                add(
                    "422",
                    "The body is JSON but a field is missing or of the wrong type",
                );
            }
        }
    }
}

/// A JSON body whose parse errors reach the client as a message saying what to fix.
pub struct ApiJson<T>(pub T);

#[rocket::async_trait]
impl<'r, T: serde::de::DeserializeOwned + Send + 'r> FromData<'r> for ApiJson<T> {
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        match Json::<T>::from_data(req, data).await {
            Outcome::Success(json) => Outcome::Success(ApiJson(json.into_inner())),
            Outcome::Error((status, error)) => {
                note_error(req, format!("The JSON body could not be read: {error}"));
                Outcome::Error((status, ()))
            }
            Outcome::Forward(forward) => Outcome::Forward(forward),
        }
    }
}

type ApiResult = AppResult<Json<Value>>;

fn data(value: impl Serialize) -> Json<Value> {
    Json(json!(Envelope { data: value }))
}

/// `{"data": ...}`: the envelope of every successful answer.
#[derive(Serialize, ToSchema)]
struct Envelope<T> {
    data: T,
}

#[derive(Serialize, ToSchema)]
struct TokenJson {
    token: String,
    /// Always `Bearer`
    token_type: String,
    /// Seconds until the token expires
    expires_in: i64,
}

/// `{"errors": [{"status": 400, "detail": "what to fix"}]}`
#[derive(Serialize, ToSchema)]
struct ErrorEnvelope {
    errors: Vec<ErrorItem>,
}

#[derive(Serialize, ToSchema)]
struct ErrorItem {
    status: u16,
    detail: String,
}

#[derive(Deserialize, ToSchema)]
struct TokenRequest {
    email: String,
    password: String,
}

#[derive(Deserialize, ToSchema)]
struct NewClass {
    name: String,
    /// K-2, 3-5, 6-8 or 9-12
    tier: String,
    /// The students' default language: en (the default) or es
    #[serde(default)]
    language: Option<String>,
}

#[derive(Deserialize, ToSchema)]
struct NewStudents {
    /// Display names only: no email, no birth date.
    names: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
struct NewAssignment {
    /// A module slug from GET /api/v1/modules.
    module: String,
    /// YYYY-MM-DD
    due_on: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct ClassJson {
    id: i32,
    name: String,
    tier: String,
    /// The students' default language: en or es
    language: String,
    join_code: String,
}

impl From<&class::Model> for ClassJson {
    fn from(c: &class::Model) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            tier: c.tier.clone(),
            language: c.language.clone(),
            join_code: c.join_code.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
struct StudentJson {
    id: i32,
    name: String,
    /// The secret words printed on the student's login card.
    secret: String,
}

impl From<&student::Model> for StudentJson {
    fn from(s: &student::Model) -> Self {
        Self {
            id: s.id,
            name: s.display_name.clone(),
            secret: s.secret.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
struct AssignmentJson {
    id: i32,
    module: String,
    due_on: Option<String>,
}

impl From<&assignment::Model> for AssignmentJson {
    fn from(a: &assignment::Model) -> Self {
        Self {
            id: a.id,
            module: a.module_slug.clone(),
            due_on: a.due_on.map(|d| d.to_string()),
        }
    }
}

#[derive(Serialize, ToSchema)]
struct ModuleJson {
    slug: String,
    title: String,
    tier: String,
    minutes: u32,
    summary: String,
    version: String,
    steps: usize,
}

/// Exchange a staff email and password for a bearer token (valid 12 hours).
#[utoipa::path(post, path = "/api/v1/tokens", request_body = TokenRequest,
    responses((status = 200, body = Envelope<TokenJson>), (status = 401, body = ErrorEnvelope)))]
#[post("/api/v1/tokens", data = "<body>")]
async fn create_token(
    app: &State<App>,
    client: ClientAddress,
    body: ApiJson<TokenRequest>,
) -> ApiResult {
    let address = client.0;
    let Some(user) = check_credentials(app, &body.0.email, &body.0.password, address).await? else {
        tracing::info!(address = ?address, "API sign-in failed");
        return Err(AppError::Unauthorized(
            "That email and password do not match an active account.".into(),
        ));
    };
    let token = app
        .keys
        .issue(Audience::Api, &user.id.to_string(), &user.security_stamp)?;
    tracing::info!(user_id = user.id, address = ?address, "API token issued");
    Ok(data(TokenJson {
        token,
        token_type: "Bearer".into(),
        expires_in: Audience::Api.lifetime_secs(),
    }))
}

/// Revoke every token and session of the caller ("sign out everywhere").
#[utoipa::path(delete, path = "/api/v1/tokens", responses((status = 204), (status = 401, body = ErrorEnvelope)))]
#[delete("/api/v1/tokens")]
async fn revoke_tokens(app: &State<App>, caller: ApiStaff) -> AppResult<Status> {
    staff_queries::rotate_stamp(&app.db, caller.0.user.id).await?;
    tracing::info!(
        user_id = caller.0.user.id,
        "signed out everywhere: every session and token revoked"
    );
    Ok(Status::NoContent)
}

/// The modules in the curriculum.
#[utoipa::path(get, path = "/api/v1/modules", responses((status = 200, body = Envelope<Vec<ModuleJson>>)))]
#[get("/api/v1/modules")]
fn list_modules(app: &State<App>, _caller: ApiStaff) -> Json<Value> {
    let modules: Vec<ModuleJson> = app
        .curriculum
        .modules()
        .into_iter()
        .map(|m| ModuleJson {
            slug: m.slug.clone(),
            title: m.title.clone(),
            tier: m.tier.to_string(),
            minutes: m.minutes,
            summary: m.summary.clone(),
            version: m.version.clone(),
            steps: m.steps.len(),
        })
        .collect();
    data(modules)
}

/// The caller's classes (every class for an administrator).
#[utoipa::path(get, path = "/api/v1/classes", responses((status = 200, body = Envelope<Vec<ClassJson>>)))]
#[get("/api/v1/classes")]
async fn list_classes(app: &State<App>, caller: ApiStaff) -> ApiResult {
    let list = classes::visible_to(&app.db, &caller.0.user).await?;
    Ok(data(list.iter().map(ClassJson::from).collect::<Vec<_>>()))
}

/// Create a class; it gets a join code.
#[utoipa::path(post, path = "/api/v1/classes", request_body = NewClass,
    responses((status = 201, body = Envelope<ClassJson>), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
#[post("/api/v1/classes", data = "<body>")]
async fn create_class(
    app: &State<App>,
    caller: ApiStaff,
    body: ApiJson<NewClass>,
) -> AppResult<(Status, Json<Value>)> {
    let body = body.0;
    let language = body.language.as_deref().unwrap_or("en");
    let class = new_class(app, &caller.0, &body.name, &body.tier, language).await?;
    Ok((Status::Created, data(ClassJson::from(&class))))
}

/// One class. Another teacher's class answers 404.
#[utoipa::path(get, path = "/api/v1/classes/{id}", params(("id" = i32, Path)),
    responses((status = 200, body = Envelope<ClassJson>), (status = 404, body = ErrorEnvelope)))]
#[get("/api/v1/classes/<id>")]
async fn get_class(app: &State<App>, caller: ApiStaff, id: i32) -> ApiResult {
    let class = classes::class_for(&app.db, &caller.0.user, id).await?;
    Ok(data(ClassJson::from(&class)))
}

#[utoipa::path(get, path = "/api/v1/classes/{id}/students", params(("id" = i32, Path)),
    responses((status = 200, body = Envelope<Vec<StudentJson>>), (status = 404, body = ErrorEnvelope)))]
#[get("/api/v1/classes/<id>/students")]
async fn list_students(app: &State<App>, caller: ApiStaff, id: i32) -> ApiResult {
    let class = classes::class_for(&app.db, &caller.0.user, id).await?;
    let students = classes::students(&app.db, class.id).await?;
    Ok(data(
        students.iter().map(StudentJson::from).collect::<Vec<_>>(),
    ))
}

/// Add students by display name; each gets secret words for their login card.
#[utoipa::path(post, path = "/api/v1/classes/{id}/students", params(("id" = i32, Path)), request_body = NewStudents,
    responses((status = 201, body = Envelope<Vec<StudentJson>>), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
#[post("/api/v1/classes/<id>/students", data = "<body>")]
async fn add_students(
    app: &State<App>,
    caller: ApiStaff,
    id: i32,
    body: ApiJson<NewStudents>,
) -> AppResult<(Status, Json<Value>)> {
    let class = classes::class_for(&app.db, &caller.0.user, id).await?;
    if body.0.names.len() > 100 {
        return Err(AppError::bad_request("Add at most 100 students at a time."));
    }
    let added = new_students(app, &class, &body.0.names).await?;
    Ok((
        Status::Created,
        data(added.iter().map(StudentJson::from).collect::<Vec<_>>()),
    ))
}

#[utoipa::path(get, path = "/api/v1/classes/{id}/assignments", params(("id" = i32, Path)),
    responses((status = 200, body = Envelope<Vec<AssignmentJson>>), (status = 404, body = ErrorEnvelope)))]
#[get("/api/v1/classes/<id>/assignments")]
async fn list_assignments(app: &State<App>, caller: ApiStaff, id: i32) -> ApiResult {
    let class = classes::class_for(&app.db, &caller.0.user, id).await?;
    let list = classes::active_assignments(&app.db, class.id).await?;
    Ok(data(
        list.iter().map(AssignmentJson::from).collect::<Vec<_>>(),
    ))
}

/// Assign a module (any tier; the class's own tier is recommended). Assigning again updates the due date.
#[utoipa::path(post, path = "/api/v1/classes/{id}/assignments", params(("id" = i32, Path)), request_body = NewAssignment,
    responses((status = 201, body = Envelope<AssignmentJson>), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
#[post("/api/v1/classes/<id>/assignments", data = "<body>")]
async fn create_assignment(
    app: &State<App>,
    caller: ApiStaff,
    id: i32,
    body: ApiJson<NewAssignment>,
) -> AppResult<(Status, Json<Value>)> {
    let class = classes::class_for(&app.db, &caller.0.user, id).await?;
    // The form sends "" for no date; the API says null.
    if body
        .0
        .due_on
        .as_deref()
        .is_some_and(|d| d.trim().is_empty())
    {
        return Err(AppError::bad_request(
            "due_on is a date (YYYY-MM-DD) or null for none.",
        ));
    }
    let assignment = assign_module(
        app,
        &class,
        &body.0.module,
        body.0.due_on.as_deref().unwrap_or(""),
    )
    .await?;
    Ok((Status::Created, data(AssignmentJson::from(&assignment))))
}

/// Unassign a module. Students' answers are kept and come back if it is assigned again.
#[utoipa::path(delete, path = "/api/v1/classes/{id}/assignments/{assignment_id}",
    params(("id" = i32, Path), ("assignment_id" = i32, Path)), responses((status = 204), (status = 404, body = ErrorEnvelope)))]
#[delete("/api/v1/classes/<id>/assignments/<assignment_id>")]
async fn delete_assignment(
    app: &State<App>,
    caller: ApiStaff,
    id: i32,
    assignment_id: i32,
) -> AppResult<Status> {
    let (_, assignment) =
        classes::class_and_assignment(&app.db, &caller.0.user, id, assignment_id).await?;
    classes::unassign(&app.db, assignment).await?;
    Ok(Status::NoContent)
}

/// Aggregate results, with groups below the minimum size suppressed (`null` figures), and each
/// student's status (never their answers).
#[utoipa::path(get, path = "/api/v1/classes/{id}/assignments/{assignment_id}/results",
    params(("id" = i32, Path), ("assignment_id" = i32, Path)), responses((status = 200), (status = 404, body = ErrorEnvelope)))]
#[get("/api/v1/classes/<id>/assignments/<assignment_id>/results")]
async fn results(app: &State<App>, caller: ApiStaff, id: i32, assignment_id: i32) -> ApiResult {
    let report = assignment_report(app, &caller.0, id, assignment_id).await?;
    Ok(data(json!({
        "module": report.module.slug,
        "results": report.results,
        "students": report.students,
    })))
}

/// The same aggregates as CSV.
#[utoipa::path(get, path = "/api/v1/classes/{id}/assignments/{assignment_id}/results.csv",
    params(("id" = i32, Path), ("assignment_id" = i32, Path)), responses((status = 200, content_type = "text/csv")))]
#[get("/api/v1/classes/<id>/assignments/<assignment_id>/results.csv")]
async fn results_csv(
    app: &State<App>,
    caller: ApiStaff,
    id: i32,
    assignment_id: i32,
) -> AppResult<(ContentType, String)> {
    assignment_report(app, &caller.0, id, assignment_id)
        .await?
        .csv()
}
