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
use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, RwLock};

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
    /// Pages rendered once and served to everyone their key covers: see [`Page::shared`].
    shared: RwLock<HashMap<SharedKey, Arc<SharedPage>>>,
}

/// A shared page's template, its language and the caller's key for the rest of its content
/// (module, version, step): everything the page shows except the reader's own slots.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SharedKey {
    template: &'static str,
    language: Language,
    content: String,
}

/// A rendered page cut where the reader's own values go.
#[derive(Debug, Default)]
struct SharedPage {
    pieces: Vec<Piece>,
    text_len: usize,
}

#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    Slot(Slot),
}

/// What differs between two readers of a shared page. Each is rendered as a marker that
/// Handlebars' escaping leaves alone (private-use characters), then cut out.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Csrf,
    Path,
    Name,
}

impl Slot {
    const ALL: [Slot; 3] = [Slot::Csrf, Slot::Path, Slot::Name];

    fn marker(self) -> &'static str {
        match self {
            Slot::Csrf => "\u{E000}tellwise:csrf\u{E000}",
            Slot::Path => "\u{E000}tellwise:path\u{E000}",
            Slot::Name => "\u{E000}tellwise:name\u{E000}",
        }
    }
}

impl SharedPage {
    fn cut(html: &str) -> Self {
        let mut page = Self::default();
        let mut rest = html;
        loop {
            let next = Slot::ALL
                .iter()
                .filter_map(|&slot| rest.find(slot.marker()).map(|at| (at, slot)))
                .min_by_key(|&(at, _)| at);
            let Some((at, slot)) = next else { break };
            page.push_text(&rest[..at]);
            page.pieces.push(Piece::Slot(slot));
            rest = &rest[at + slot.marker().len()..];
        }
        page.push_text(rest);
        page
    }

    fn push_text(&mut self, text: &str) {
        if !text.is_empty() {
            self.text_len += text.len();
            self.pieces.push(Piece::Text(text.to_string()));
        }
    }

    /// The page for one reader: their values escaped as Handlebars would have escaped them.
    fn fill(&self, csrf: &str, path: &str, name: &str) -> String {
        let [csrf, path, name] = [csrf, path, name].map(handlebars::html_escape);
        let mut html = String::with_capacity(self.text_len + 4 * (csrf.len() + path.len()));
        for piece in &self.pieces {
            html.push_str(match piece {
                Piece::Text(text) => text,
                Piece::Slot(Slot::Csrf) => &csrf,
                Piece::Slot(Slot::Path) => &path,
                Piece::Slot(Slot::Name) => &name,
            });
        }
        html
    }
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
        Ok(Self {
            registry,
            shared: RwLock::default(),
        })
    }

    fn shared_page(&self, key: &SharedKey) -> Option<Arc<SharedPage>> {
        self.shared
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(key)
            .cloned()
    }

    fn keep_shared(&self, key: SharedKey, page: SharedPage) -> Arc<SharedPage> {
        let page = Arc::new(page);
        self.shared
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key, page.clone());
        page
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
    /// May open reports across classes (administrators, school administrators and partners).
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
    shared: Option<Shared>,
}

/// Where a shared page stands: already in memory, or to be rendered and kept under its key.
enum Shared {
    Kept(Arc<SharedPage>),
    ToKeep(SharedKey),
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
            shared: None,
        }
    }

    /// A student's page that is the same for every student reading `key` in `language` but for
    /// their CSRF token and address (and name, should a template show it): rendered once, then
    /// served from memory, so `build` (its title and context) runs only the first time. `key`
    /// must name everything else the page depends on; curriculum pages use the module's slug,
    /// version and step, which never change while the server runs. Students only: the
    /// navigation rendered into the page is a student's.
    pub fn shared(
        views: &Views,
        language: Language,
        student_name: &str,
        template: &'static str,
        key: String,
        build: impl FnOnce() -> (String, Value),
    ) -> Self {
        let key = SharedKey {
            template,
            language,
            content: key,
        };
        let (page, shared) = match views.shared_page(&key) {
            Some(kept) => (
                Self::new(template, String::new(), Value::Null),
                Shared::Kept(kept),
            ),
            None => {
                let (title, context) = build();
                (Self::new(template, title, context), Shared::ToKeep(key))
            }
        };
        Self {
            shared: Some(shared),
            ..page
                .in_language(language)
                .for_viewer(Viewer::student(student_name))
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
        let path = req.uri().to_string();
        let failed = |e: String| {
            tracing::error!(error = %e, "template failed");
            Status::InternalServerError
        };
        // What the layout reads around the page's own context.
        let context = |csrf: &str, viewer: &Viewer, path: &str, page: Value| {
            json!({
                "title": self.title,
                "csrf": csrf,
                "viewer": viewer,
                "lang": lang.code(),
                "path": path,
                "page": page,
            })
        };
        let html = match self.shared {
            None => {
                let context = context(&csrf, &self.viewer, &path, self.context);
                views.render(self.template, context).map_err(failed)?
            }
            Some(Shared::Kept(page)) => page.fill(&csrf, &path, &self.viewer.name),
            Some(Shared::ToKeep(key)) => {
                let viewer = Viewer {
                    name: Slot::Name.marker().into(),
                    ..self.viewer.clone()
                };
                let slots = context(
                    Slot::Csrf.marker(),
                    &viewer,
                    Slot::Path.marker(),
                    self.context,
                );
                let html = views.render(self.template, slots).map_err(failed)?;
                views
                    .keep_shared(key, SharedPage::cut(&html))
                    .fill(&csrf, &path, &self.viewer.name)
            }
        };
        Response::build()
            .status(self.status)
            .header(ContentType::HTML)
            .sized_body(html.len(), Cursor::new(html))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_page_is_cut_at_each_slot_and_filled_escaped_as_handlebars_would() {
        let html = format!(
            "<meta content=\"{csrf}\"><p>{name}</p><input value=\"{path}\">{csrf}",
            csrf = Slot::Csrf.marker(),
            path = Slot::Path.marker(),
            name = Slot::Name.marker(),
        );
        let page = SharedPage::cut(&html);
        assert_eq!(page.pieces.len(), 8);
        assert_eq!(
            page.fill("abc", "/a?b=\"<c>\"", "Zoë & Co"),
            "<meta content=\"abc\"><p>Zoë &amp; Co</p>\
             <input value=\"/a?b&#x3D;&quot;&lt;c&gt;&quot;\">abc"
        );
        assert_eq!(SharedPage::cut("no slots").fill("x", "y", "z"), "no slots");
    }
}
