//! Reading module files: TOML into raw structs (with source spans), then one `parse_module`
//! that turns them into the typed model or a list of errors naming file, line and field.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use rust_embed::Embed;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::model::*;
use super::render::markdown_to_safe_html;

pub const MODULE_FILE: &str = "module.toml";

/// The curriculum shipped inside the binary.
#[derive(Embed)]
#[folder = "curriculum/"]
#[include = "*/module.toml"]
struct Bundled;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurriculumError {
    pub file: String,
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl fmt::Display for CurriculumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(
                f,
                "{}:{}: {}: {}",
                self.file, self.line, self.field, self.message
            )
        }
    }
}

/// Loads `DIR/<slug>/module.toml` for every folder in `dir`.
pub fn load_dir(dir: &Path) -> Result<Vec<Module>, Vec<CurriculumError>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![CurriculumError {
            file: dir.display().to_string(),
            line: 0,
            field: String::new(),
            message: format!("cannot read the curriculum directory: {e}"),
        }]
    })?;
    let mut folders: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for folder in folders {
        let path = folder.join(MODULE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push((path.display().to_string(), text)),
            Err(e) => errors.push(CurriculumError {
                file: path.display().to_string(),
                line: 0,
                field: String::new(),
                message: format!("every module folder needs a {MODULE_FILE}: {e}"),
            }),
        }
    }
    collect(files, errors)
}

/// Loads the curriculum compiled into the binary.
pub fn load_bundled() -> Result<Vec<Module>, Vec<CurriculumError>> {
    let mut files = Vec::new();
    for path in Bundled::iter() {
        if let Some(file) = Bundled::get(&path) {
            let text = String::from_utf8_lossy(&file.data).into_owned();
            files.push((format!("curriculum/{path}"), text));
        }
    }
    files.sort();
    collect(files, Vec::new())
}

fn collect(
    files: Vec<(String, String)>,
    mut errors: Vec<CurriculumError>,
) -> Result<Vec<Module>, Vec<CurriculumError>> {
    let mut modules: Vec<Module> = Vec::new();
    for (file, text) in files {
        let folder = Path::new(&file)
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match parse_module(&file, &folder, &text) {
            Ok(module) => modules.push(module),
            Err(mut errs) => errors.append(&mut errs),
        }
    }
    if errors.is_empty() {
        Ok(modules)
    } else {
        Err(errors)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    slug: Spanned<String>,
    title: Spanned<String>,
    tier: Spanned<String>,
    summary: Spanned<String>,
    minutes: Spanned<i64>,
    content_note: Option<Spanned<String>>,
    #[serde(default)]
    sources: Vec<RawSource>,
    #[serde(default)]
    steps: Vec<RawStep>,
    #[serde(default)]
    help: Vec<RawHelp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    title: Spanned<String>,
    publisher: Spanned<String>,
    url: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHelp {
    name: Spanned<String>,
    contact: Spanned<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    kind: Spanned<String>,
    title: Option<Spanned<String>>,
    body: Option<Spanned<String>>,
    intro: Option<Spanned<String>>,
    contact: Option<Spanned<String>>,
    messages: Option<Spanned<Vec<RawMessage>>>,
    prompt: Option<Spanned<String>>,
    options: Option<Spanned<Vec<RawOption>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessage {
    id: Spanned<String>,
    from: Spanned<String>,
    text: Spanned<String>,
    red_flag: Option<Spanned<bool>>,
    reason: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    id: Spanned<String>,
    text: Spanned<String>,
    correct: Spanned<bool>,
    feedback: Spanned<String>,
}

/// Collects every problem in one file instead of stopping at the first.
struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<CurriculumError>,
}

impl Checker<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn error_at(&mut self, offset: usize, field: impl Into<String>, message: impl Into<String>) {
        let line = self.line_of(offset);
        self.errors.push(CurriculumError {
            file: self.file.to_string(),
            line,
            field: field.into(),
            message: message.into(),
        });
    }

    fn error<T>(&mut self, at: &Spanned<T>, field: impl Into<String>, message: impl Into<String>) {
        self.error_at(at.span().start, field, message);
    }

    /// A required, non-blank text.
    fn text(&mut self, value: &Spanned<String>, field: &str) -> String {
        let text = value.get_ref().trim();
        if text.is_empty() {
            self.error(value, field, "must not be empty");
        }
        text.to_string()
    }

    /// A required text on a step, whose kind decides whether it is needed.
    fn required(
        &mut self,
        value: &Option<Spanned<String>>,
        at: &Spanned<String>,
        field: &str,
        kind: &str,
    ) -> String {
        match value {
            Some(value) => self.text(value, field),
            None => {
                self.error(at, field, format!("is required for {kind} steps"));
                String::new()
            }
        }
    }

    fn id(&mut self, value: &Spanned<String>, field: &str) -> String {
        let id = value.get_ref().as_str();
        if !is_slug(id) {
            self.error(
                value,
                field,
                format!("{id:?} must use only lowercase letters, digits and dashes"),
            );
        }
        id.to_string()
    }
}

fn is_slug(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 100
        && !value.starts_with('-')
        && !value.ends_with('-')
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Parses one module file. `folder` is the name of the folder holding it, which must equal the
/// slug.
pub fn parse_module(file: &str, folder: &str, text: &str) -> Result<Module, Vec<CurriculumError>> {
    let mut check = Checker {
        file,
        text,
        errors: Vec::new(),
    };
    let raw: RawModule = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let message = e.message();
            // Serde names the field in backticks; for a syntax error, name the key on that line.
            let field = if message.contains("field") || message.contains("key") {
                message
                    .split('`')
                    .nth(1)
                    .map(str::to_string)
                    .unwrap_or_default()
            } else {
                let line_start = text[..offset.min(text.len())]
                    .rfind('\n')
                    .map_or(0, |i| i + 1);
                let line = text[line_start..].lines().next().unwrap_or("");
                line.split_once('=')
                    .map(|(key, _)| key.trim().to_string())
                    .unwrap_or_default()
            };
            check.error_at(offset, field, e.message().trim().to_string());
            return Err(check.errors);
        }
    };

    let slug = check.id(&raw.slug, "slug");
    if slug != folder {
        check.error(
            &raw.slug,
            "slug",
            format!("{slug:?} must equal the folder name {folder:?}"),
        );
    }
    let title = check.text(&raw.title, "title");
    let summary = check.text(&raw.summary, "summary");
    let tier = Tier::parse(raw.tier.get_ref()).unwrap_or_else(|| {
        check.error(
            &raw.tier,
            "tier",
            format!(
                "{:?} is not a tier: use K-2, 3-5, 6-8 or 9-12",
                raw.tier.get_ref()
            ),
        );
        Tier::K2
    });
    let minutes = *raw.minutes.get_ref();
    if !(5..=90).contains(&minutes) {
        check.error(
            &raw.minutes,
            "minutes",
            format!("{minutes} is outside 5 to 90"),
        );
    }
    let content_note = raw
        .content_note
        .as_ref()
        .map(|n| check.text(n, "content_note"));

    if raw.sources.is_empty() {
        check.error_at(
            0,
            "sources",
            "cite at least one source in a [[sources]] table",
        );
    }
    let sources = raw
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let field = format!("sources[{}]", i + 1);
            let url = check.text(&s.url, &format!("{field}.url"));
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                check.error(
                    &s.url,
                    format!("{field}.url"),
                    "must start with https:// or http://",
                );
            }
            Source {
                title: check.text(&s.title, &format!("{field}.title")),
                publisher: check.text(&s.publisher, &format!("{field}.publisher")),
                url,
            }
        })
        .collect();

    if raw.help.is_empty() {
        check.error_at(
            text.len(),
            "help",
            "end the module with at least one [[help]] resource",
        );
    }
    let help = raw
        .help
        .iter()
        .enumerate()
        .map(|(i, h)| HelpResource {
            name: check.text(&h.name, &format!("help[{}].name", i + 1)),
            contact: check.text(&h.contact, &format!("help[{}].contact", i + 1)),
            description: h.description.as_ref().map(|d| d.trim().to_string()),
        })
        .collect();

    if raw.steps.is_empty() {
        check.error_at(0, "steps", "a module needs at least one [[steps]] table");
    }
    let mut seen_steps = BTreeSet::new();
    let mut steps = Vec::new();
    for raw_step in &raw.steps {
        let id = check.id(&raw_step.id, "steps.id");
        if !seen_steps.insert(id.clone()) {
            check.error(
                &raw_step.id,
                "steps.id",
                format!("{id:?} is used by another step"),
            );
        }
        if let Some(kind) = parse_step(&mut check, &id, raw_step) {
            steps.push(Step { id, kind });
        }
    }

    if !check.errors.is_empty() {
        return Err(check.errors);
    }
    Ok(Module {
        slug,
        title,
        tier,
        summary,
        minutes: minutes as u32,
        content_note,
        sources,
        steps,
        help,
        version: content_version(text),
    })
}

fn content_version(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Fields that only some kinds use; naming the stray ones catches typos in `kind`.
fn reject_unused(check: &mut Checker, step: &RawStep, id: &str, kind: &str, allowed: &[&str]) {
    let present = [
        ("title", step.title.as_ref().map(|v| v.span().start)),
        ("body", step.body.as_ref().map(|v| v.span().start)),
        ("intro", step.intro.as_ref().map(|v| v.span().start)),
        ("contact", step.contact.as_ref().map(|v| v.span().start)),
        ("messages", step.messages.as_ref().map(|v| v.span().start)),
        ("prompt", step.prompt.as_ref().map(|v| v.span().start)),
        ("options", step.options.as_ref().map(|v| v.span().start)),
    ];
    for (name, offset) in present {
        if let Some(offset) = offset
            && !allowed.contains(&name)
        {
            check.error_at(
                offset,
                format!("steps.{id}.{name}"),
                format!("is not used by {kind} steps"),
            );
        }
    }
}

fn parse_step(check: &mut Checker, id: &str, step: &RawStep) -> Option<StepKind> {
    let kind = step.kind.get_ref().as_str();
    let field = |name: &str| format!("steps.{id}.{name}");
    match kind {
        "reading" => {
            reject_unused(check, step, id, kind, &["title", "body"]);
            let title = check.required(&step.title, &step.id, &field("title"), kind);
            let body = check.required(&step.body, &step.id, &field("body"), kind);
            Some(StepKind::Reading(Reading {
                title,
                body_html: markdown_to_safe_html(&body),
            }))
        }
        "chat" => {
            reject_unused(
                check,
                step,
                id,
                kind,
                &["title", "intro", "contact", "messages"],
            );
            let title = check.required(&step.title, &step.id, &field("title"), kind);
            let intro = check.required(&step.intro, &step.id, &field("intro"), kind);
            let contact = check.required(&step.contact, &step.id, &field("contact"), kind);
            let messages = parse_messages(check, id, step);
            Some(StepKind::Chat(Chat {
                title,
                intro_html: markdown_to_safe_html(&intro),
                contact,
                messages,
            }))
        }
        "single_choice" | "multiple_choice" | "true_false" => {
            reject_unused(check, step, id, kind, &["prompt", "options"]);
            let prompt = check.required(&step.prompt, &step.id, &field("prompt"), kind);
            let question_kind = match kind {
                "single_choice" => QuestionKind::SingleChoice,
                "multiple_choice" => QuestionKind::MultipleChoice,
                _ => QuestionKind::TrueFalse,
            };
            let options = parse_options(check, id, step, question_kind);
            Some(StepKind::Question(Question {
                kind: question_kind,
                prompt,
                options,
            }))
        }
        other => {
            check.error(
                &step.kind,
                field("kind"),
                format!("{other:?} is not a step kind: use reading, chat, single_choice, multiple_choice or true_false"),
            );
            None
        }
    }
}

fn parse_messages(check: &mut Checker, id: &str, step: &RawStep) -> Vec<ChatMessage> {
    let Some(raw) = &step.messages else {
        check.error(
            &step.id,
            format!("steps.{id}.messages"),
            "a chat needs [[steps.messages]] entries",
        );
        return Vec::new();
    };
    let mut seen = BTreeSet::new();
    let mut messages = Vec::new();
    for m in raw.get_ref() {
        let mid = check.id(&m.id, &format!("steps.{id}.messages.id"));
        let field = |name: &str| format!("steps.{id}.messages.{mid}.{name}");
        if !seen.insert(mid.clone()) {
            check.error(
                &m.id,
                field("id"),
                "is used by another message in this chat",
            );
        }
        let text = check.text(&m.text, &field("text"));
        let from_them = match m.from.get_ref().as_str() {
            "them" => true,
            "you" => false,
            other => {
                check.error(
                    &m.from,
                    field("from"),
                    format!("{other:?} must be \"them\" or \"you\""),
                );
                false
            }
        };
        let (red_flag, reason) = if from_them {
            let red_flag = match &m.red_flag {
                Some(flag) => *flag.get_ref(),
                None => {
                    check.error(
                        &m.id,
                        field("red_flag"),
                        "say true or false for every message from them",
                    );
                    false
                }
            };
            let reason = match &m.reason {
                Some(reason) => Some(check.text(reason, &field("reason"))),
                None => {
                    check.error(
                        &m.id,
                        field("reason"),
                        "explain why this message is or is not a red flag",
                    );
                    None
                }
            };
            (red_flag, reason)
        } else {
            if let Some(flag) = &m.red_flag
                && *flag.get_ref()
            {
                check.error(
                    flag,
                    field("red_flag"),
                    "only messages from them can be red flags",
                );
            }
            (
                false,
                m.reason.as_ref().map(|r| r.get_ref().trim().to_string()),
            )
        };
        messages.push(ChatMessage {
            id: mid,
            from_them,
            text,
            red_flag,
            reason,
        });
    }
    if messages.len() < 2 {
        check.error(
            raw,
            format!("steps.{id}.messages"),
            "a chat needs at least two messages",
        );
    }
    if !messages.iter().any(|m| m.red_flag) {
        check.error(
            raw,
            format!("steps.{id}.messages"),
            "mark at least one message as a red flag",
        );
    }
    if !messages.iter().any(|m| m.from_them && !m.red_flag) {
        check.error(
            raw,
            format!("steps.{id}.messages"),
            "include at least one harmless message from them",
        );
    }
    messages
}

fn parse_options(
    check: &mut Checker,
    id: &str,
    step: &RawStep,
    kind: QuestionKind,
) -> Vec<AnswerOption> {
    let Some(raw) = &step.options else {
        check.error(
            &step.id,
            format!("steps.{id}.options"),
            "a question needs [[steps.options]] entries",
        );
        return Vec::new();
    };
    let mut seen_ids = BTreeSet::new();
    let mut seen_texts = BTreeSet::new();
    let mut options = Vec::new();
    for o in raw.get_ref() {
        let oid = check.id(&o.id, &format!("steps.{id}.options.id"));
        let field = |name: &str| format!("steps.{id}.options.{oid}.{name}");
        if !seen_ids.insert(oid.clone()) {
            check.error(
                &o.id,
                field("id"),
                "is used by another option in this question",
            );
        }
        let text = check.text(&o.text, &field("text"));
        if !seen_texts.insert(text.to_lowercase()) {
            check.error(&o.text, field("text"), "repeats the text of another option");
        }
        let feedback = check.text(&o.feedback, &field("feedback"));
        options.push(AnswerOption {
            id: oid,
            text,
            correct: *o.correct.get_ref(),
            feedback,
        });
    }
    let correct = options.iter().filter(|o| o.correct).count();
    let field = format!("steps.{id}.options");
    if options.len() < 2 {
        check.error(raw, &field, "a question needs at least two options");
    }
    match kind {
        QuestionKind::SingleChoice | QuestionKind::TrueFalse if correct != 1 => {
            check.error(
                raw,
                &field,
                format!("exactly one option must be correct, found {correct}"),
            );
        }
        QuestionKind::MultipleChoice if correct == 0 || correct == options.len() => {
            check.error(
                raw,
                &field,
                "mark at least one option correct and at least one wrong",
            );
        }
        _ => {}
    }
    if kind == QuestionKind::TrueFalse && options.len() != 2 {
        check.error(
            raw,
            &field,
            format!(
                "a true_false question has exactly two options, found {}",
                options.len()
            ),
        );
    }
    options
}
