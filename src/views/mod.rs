//! Server-rendered pages: Handlebars templates compiled into the binary (read from disk in
//! debug builds, so template edits need no recompile), one layout, and the `Page` responder that
//! adds what every page needs (the CSRF token, who is signed in).

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};
use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
pub mod charts;

use rust_embed::Embed;
use serde::Serialize;
use serde_json::{Value, json};
use std::io::Cursor;

use crate::App;
use crate::auth::Staff;
use crate::auth::csrf::token_for;
use crate::curriculum::Language;
use crate::db::entities::user::{ROLE_ADMIN, ROLE_PARTNER, ROLE_SCHOOL_ADMIN};
use crate::i18n::language_of;

#[derive(Embed)]
#[folder = "templates/"]
#[include = "*.hbs"]
#[include = "**/*.hbs"]
struct Templates;

pub struct Views {
    registry: Handlebars<'static>,
}

impl Views {
    /// Registers every embedded template under its path without `.hbs`, e.g. `teacher/class`.
    pub fn load() -> Result<Self, String> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_helper("t", Box::new(crate::i18n::t_helper));
        registry.register_helper("csrf_field", Box::new(csrf_field));
        for path in Templates::iter() {
            let Some(file) = Templates::get(&path) else {
                continue;
            };
            let source = String::from_utf8_lossy(&file.data);
            let name = path.trim_end_matches(".hbs");
            registry
                .register_template_string(name, source.as_ref())
                .map_err(|e| format!("template {path}: {e}"))?;
        }
        Ok(Self { registry })
    }

    /// Renders the page's own template, then the layout around it. Two plain renders rather
    /// than a `{{#> layout}}` partial block: Handlebars renders a partial on a copy of the
    /// current context, and inside it copies every item an `#each` visits, which made copying
    /// most of the work of a class page.
    pub fn render(&self, name: &str, context: Value) -> Result<String, String> {
        let failed = |e: handlebars::RenderError| format!("rendering {name}: {e}");
        let mut context = Context::from(context);
        let body = self
            .registry
            .render_with_context(name, &context)
            .map_err(failed)?;
        if let Value::Object(fields) = context.data_mut() {
            fields.insert("body".into(), Value::String(body));
        }
        self.registry
            .render_with_context(LAYOUT, &context)
            .map_err(failed)
    }
}

const LAYOUT: &str = "layout";

/// `{{csrf_field}}`: the hidden CSRF field every form carries, from the page's token. A helper
/// rather than a partial, which would copy the context at each form.
fn csrf_field(
    _: &Helper,
    _: &Handlebars,
    ctx: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let token = ctx
        .data()
        .get("csrf")
        .and_then(Value::as_str)
        .ok_or_else(|| RenderErrorReason::Other("the page has no CSRF token".into()))?;
    out.write(&format!(
        "<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">",
        handlebars::html_escape(token)
    ))?;
    Ok(())
}

/// Who the page is for, which decides the navigation.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Viewer {
    pub staff: bool,
    pub admin: bool,
    /// May open reports across classes (administrators and partners).
    pub reports: bool,
    /// A partner sees aggregates only: no classes.
    pub partner: bool,
    /// Manages their own school's partner access.
    pub school_admin: bool,
    pub student: bool,
    pub name: String,
}

impl Viewer {
    pub fn staff(staff: &Staff) -> Self {
        Self {
            staff: true,
            admin: staff.is_admin(),
            reports: [ROLE_ADMIN, ROLE_SCHOOL_ADMIN, ROLE_PARTNER]
                .contains(&staff.user.role.as_str()),
            partner: staff.user.role == ROLE_PARTNER,
            school_admin: staff.user.role == ROLE_SCHOOL_ADMIN,
            student: false,
            name: staff.user.display_name.clone(),
        }
    }

    pub fn student(name: &str) -> Self {
        Self {
            student: true,
            name: name.to_string(),
            ..Self::default()
        }
    }
}

/// An HTML page: a template, its context, and who is looking.
pub struct Page {
    template: &'static str,
    title: String,
    context: Value,
    viewer: Viewer,
    status: Status,
    language: Option<Language>,
}

impl Page {
    pub fn new(template: &'static str, title: impl Into<String>, context: impl Serialize) -> Self {
        Self {
            template,
            title: title.into(),
            context: serde_json::to_value(context).unwrap_or(Value::Null),
            viewer: Viewer::default(),
            status: Status::Ok,
            language: None,
        }
    }

    /// A page whose language is fixed by its content rather than by the reader's choice.
    pub fn in_language(mut self, language: Language) -> Self {
        self.language = Some(language);
        self
    }

    pub fn for_viewer(mut self, viewer: Viewer) -> Self {
        self.viewer = viewer;
        self
    }

    pub fn for_staff(self, staff: &Staff) -> Self {
        self.for_viewer(Viewer::staff(staff))
    }

    pub fn with_status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }

    pub fn error(status: Status, title: &str, message: &str) -> Self {
        Self::new(
            "error",
            title,
            json!({ "code": status.code, "message": message }),
        )
        .with_status(status)
    }
}

impl<'r> Responder<'r, 'static> for Page {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let (Some(views), Some(app)) = (req.rocket().state::<Views>(), req.rocket().state::<App>())
        else {
            tracing::error!("views or app state missing");
            return Err(Status::InternalServerError);
        };
        let csrf = token_for(req.cookies(), app.settings.secure_cookies);
        // Staff pages are written in English; everything a student sees follows their language.
        let lang = match (self.language, self.viewer.staff) {
            (Some(language), _) => language,
            (None, true) => Language::En,
            (None, false) => language_of(req),
        };
        let context = json!({
            "title": self.title,
            "csrf": csrf,
            "viewer": self.viewer,
            "lang": lang.code(),
            "path": req.uri().to_string(),
            "page": self.context,
        });
        let html = views.render(self.template, context).map_err(|e| {
            tracing::error!(error = %e, "template failed");
            Status::InternalServerError
        })?;
        Response::build()
            .status(self.status)
            .header(ContentType::HTML)
            .sized_body(html.len(), Cursor::new(html))
            .ok()
    }
}
