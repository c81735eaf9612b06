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
use super::render::{markdown_to_plain_text, markdown_to_safe_html};
use super::{quality, translation};

pub const MODULE_FILE: &str = "module.toml";
pub const SPANISH_FILE: &str = "module.es.toml";

/// The curriculum shipped inside the binary.
#[derive(Embed)]
#[folder = "curriculum/"]
#[include = "*/module.toml"]
#[include = "*/module.es.toml"]
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

/// What a module's content is checked against besides its own file.
pub struct ContentRules {
    /// Phone numbers and short codes (bare digits) that the help page shows.
    pub allowed_numbers: BTreeSet<String>,
    pub avoid: Vec<quality::AvoidRule>,
}

impl ContentRules {
    /// Rules for a server whose help page shows these contact texts.
    pub fn for_contacts<'a>(contacts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut allowed_numbers = BTreeSet::new();
        for contact in contacts {
            allowed_numbers.extend(quality::phone_numbers(contact));
        }
        Self {
            allowed_numbers,
            avoid: quality::avoid_rules(),
        }
    }
}

/// The files of one module folder as (path, text).
struct ModuleFiles {
    folder: String,
    english: Result<(String, String), CurriculumError>,
    spanish: Result<(String, String), CurriculumError>,
}

/// Loads `DIR/<slug>/module.toml` and `module.es.toml` for every folder in `dir`.
pub fn load_dir(dir: &Path, rules: &ContentRules) -> Result<Vec<Module>, Vec<CurriculumError>> {
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
    let read = |path: std::path::PathBuf, what: &str| {
        std::fs::read_to_string(&path)
            .map(|text| (path.display().to_string(), text))
            .map_err(|e| CurriculumError {
                file: path.display().to_string(),
                line: 0,
                field: String::new(),
                message: format!("every module folder needs {what}: {e}"),
            })
    };
    let modules = folders
        .into_iter()
        .map(|folder| ModuleFiles {
            english: read(folder.join(MODULE_FILE), "a module.toml"),
            spanish: read(
                folder.join(SPANISH_FILE),
                "a Spanish translation, module.es.toml",
            ),
            folder: folder
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        })
        .collect();
    collect(modules, rules)
}

/// Loads the curriculum compiled into the binary.
pub fn load_bundled(rules: &ContentRules) -> Result<Vec<Module>, Vec<CurriculumError>> {
    let mut folders = BTreeSet::new();
    for path in Bundled::iter() {
        if let Some((folder, _)) = path.split_once('/') {
            folders.insert(folder.to_string());
        }
    }
    let read = |folder: &str, name: &str| {
        let file = format!("curriculum/{folder}/{name}");
        Bundled::get(&format!("{folder}/{name}"))
            .map(|f| (file.clone(), String::from_utf8_lossy(&f.data).into_owned()))
            .ok_or(CurriculumError {
                file,
                line: 0,
                field: String::new(),
                message: "is missing: every module needs module.toml and module.es.toml"
                    .to_string(),
            })
    };
    let modules = folders
        .into_iter()
        .map(|folder| ModuleFiles {
            english: read(&folder, MODULE_FILE),
            spanish: read(&folder, SPANISH_FILE),
            folder,
        })
        .collect();
    collect(modules, rules)
}

fn collect(
    folders: Vec<ModuleFiles>,
    rules: &ContentRules,
) -> Result<Vec<Module>, Vec<CurriculumError>> {
    let mut modules: Vec<Module> = Vec::new();
    let mut errors = Vec::new();
    for files in folders {
        let parse = |file: &Result<(String, String), CurriculumError>,
                     errors: &mut Vec<CurriculumError>| match file {
            Ok((path, text)) => match parse_module(path, &files.folder, text) {
                Ok(module) => {
                    errors.extend(quality::check_module(
                        &module,
                        text,
                        path,
                        &rules.allowed_numbers,
                        &rules.avoid,
                    ));
                    Some(module)
                }
                Err(errs) => {
                    errors.extend(errs);
                    None
                }
            },
            Err(e) => {
                errors.push(e.clone());
                None
            }
        };
        let english = parse(&files.english, &mut errors);
        let spanish = parse(&files.spanish, &mut errors);
        if let (Some(mut english), Some(mut spanish), Ok((_, en_text)), Ok((es_file, es_text))) =
            (english, spanish, &files.english, &files.spanish)
        {
            errors.extend(translation::compare(&english, &spanish, es_file, es_text));
            let version = content_version(&[en_text, es_text]);
            english.version.clone_from(&version);
            spanish.version = version;
            modules.push(english);
            modules.push(spanish);
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
    teacher: Option<RawTeacher>,
    family: Option<RawFamily>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeacher {
    prepare: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFamily {
    learned: Spanned<String>,
    talk: Spanned<String>,
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
    check: Option<Spanned<bool>>,
    posts: Option<Spanned<Vec<RawPost>>>,
    nodes: Option<Spanned<Vec<RawNode>>>,
    buckets: Option<Spanned<Vec<RawBucket>>>,
    items: Option<Spanned<Vec<RawItem>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPost {
    id: Spanned<String>,
    #[serde(rename = "type")]
    post_type: Spanned<String>,
    author: Spanned<String>,
    text: Spanned<String>,
    red_flag: Spanned<bool>,
    reason: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    id: Spanned<String>,
    #[serde(default)]
    say: Vec<Spanned<String>>,
    #[serde(default)]
    replies: Vec<RawReply>,
    ending: Option<Spanned<String>>,
    feedback: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReply {
    text: Spanned<String>,
    next: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBucket {
    id: Spanned<String>,
    label: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    text: Spanned<String>,
    bucket: Spanned<String>,
    feedback: Spanned<String>,
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
    /// Student-facing text as plain prose, for the reading-level check.
    student_text: Vec<String>,
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

    /// A required text that students read.
    fn student(&mut self, value: &Spanned<String>, field: &str) -> String {
        let text = self.text(value, field);
        self.student_text.push(text.clone());
        text
    }

    /// Student-facing Markdown, rendered to safe HTML.
    fn student_markdown(&mut self, markdown: &str) -> String {
        self.student_text.push(markdown_to_plain_text(markdown));
        markdown_to_safe_html(markdown)
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
        student_text: Vec::new(),
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
    let title = check.student(&raw.title, "title");
    let summary = check.student(&raw.summary, "summary");
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
    if !(MIN_MINUTES..=MAX_MINUTES).contains(&minutes) {
        check.error(
            &raw.minutes,
            "minutes",
            format!("{minutes} is outside {MIN_MINUTES} to {MAX_MINUTES}"),
        );
    }
    let content_note = raw
        .content_note
        .as_ref()
        .map(|n| check.student(n, "content_note"));

    let mut other_text = Vec::new();
    let teacher_html = match &raw.teacher {
        Some(teacher) => {
            let prepare = check.text(&teacher.prepare, "teacher.prepare");
            other_text.push(prepare.clone());
            markdown_to_safe_html(&prepare)
        }
        None => {
            check.error_at(
                0,
                "teacher",
                "add a [teacher] table with `prepare`: how teachers get ready for this lesson",
            );
            String::new()
        }
    };
    let family = match &raw.family {
        Some(family) => {
            let learned = check.text(&family.learned, "family.learned");
            let talk = check.text(&family.talk, "family.talk");
            other_text.push(learned.clone());
            other_text.push(talk.clone());
            FamilyPage {
                learned_html: markdown_to_safe_html(&learned),
                talk_html: markdown_to_safe_html(&talk),
            }
        }
        None => {
            check.error_at(
                0,
                "family",
                "add a [family] table with `learned` and `talk` for the take-home page",
            );
            FamilyPage {
                learned_html: String::new(),
                talk_html: String::new(),
            }
        }
    };

    if raw.sources.is_empty() {
        check.error_at(
            0,
            "sources",
            "cite at least one source in a [[sources]] table",
        );
    }
    let sources: Vec<Source> = raw
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
    for source in &sources {
        other_text.push(format!("{} {}", source.title, source.publisher));
    }

    if raw.help.is_empty() {
        check.error_at(
            text.len(),
            "help",
            "end the module with at least one [[help]] resource",
        );
    }
    let help: Vec<HelpResource> = raw
        .help
        .iter()
        .enumerate()
        .map(|(i, h)| HelpResource {
            name: check.text(&h.name, &format!("help[{}].name", i + 1)),
            contact: check.text(&h.contact, &format!("help[{}].contact", i + 1)),
            description: h.description.as_ref().map(|d| d.trim().to_string()),
        })
        .collect();
    for resource in &help {
        other_text.push(resource.name.clone());
        other_text.push(resource.contact.clone());
        other_text.extend(resource.description.clone());
    }

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
    check_knowledge_items(&mut check, &raw.steps, &steps);

    if content_note.is_none()
        && let Some(word) = sensitive_word(check.student_text.iter().chain(&other_text))
    {
        check.error_at(
            0,
            "content_note",
            format!(
                "the module mentions {word:?}: add a content_note that students see before they start"
            ),
        );
    }

    if !check.errors.is_empty() {
        return Err(check.errors);
    }
    let language = if file.ends_with(SPANISH_FILE) {
        Language::Es
    } else {
        Language::En
    };
    Ok(Module {
        slug,
        language,
        title,
        tier,
        summary,
        minutes: minutes as u32,
        content_note,
        sources,
        steps,
        help,
        teacher_html,
        family,
        version: content_version(&[text]),
        student_text: check.student_text,
        other_text,
    })
}

pub const MIN_MINUTES: i64 = 15;
pub const MAX_MINUTES: i64 = 45;
/// Knowledge checks per module: enough to measure, few enough to ask twice.
const CHECK_ITEMS: std::ops::RangeInclusive<usize> = 3..=5;

/// Words that make a module sensitive enough to need a content note, in both languages.
const SENSITIVE_WORDS: [&str; 12] = [
    "abuse",
    "sextortion",
    "trafficking",
    "trafficked",
    "nude",
    "grooming",
    "abuso",
    "sextorsión",
    "trata",
    "desnud",
    "grooming",
    "explotación",
];

fn sensitive_word<'a>(texts: impl Iterator<Item = &'a String>) -> Option<&'static str> {
    let texts: Vec<String> = texts.map(|t| t.to_lowercase()).collect();
    SENSITIVE_WORDS
        .into_iter()
        .find(|word| texts.iter().any(|t| t.contains(word)))
}

/// Three to five check questions, and once the first appears only questions and at most one
/// closing reading follow, so that the "after" answer really comes after the lesson.
fn check_knowledge_items(check: &mut Checker, raw: &[RawStep], steps: &[Step]) {
    let checks: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(&s.kind, StepKind::Question(q) if q.check))
        .map(|(i, _)| i)
        .collect();
    if !CHECK_ITEMS.contains(&checks.len()) {
        check.error_at(
            0,
            "steps.check",
            format!(
                "mark 3 to 5 questions with `check = true` (found {}): they are asked before and after the lesson",
                checks.len()
            ),
        );
    }
    let Some(&first) = checks.first() else {
        return;
    };
    let mut readings_after = 0;
    for (step, raw_step) in steps.iter().zip(raw).skip(first) {
        match &step.kind {
            StepKind::Question(_) => {}
            StepKind::Reading(_) if readings_after == 0 => readings_after += 1,
            other => check.error(
                &raw_step.id,
                format!("steps.{}", step.id),
                format!(
                    "a {} step comes after the first check question; move the check questions to the closing quiz",
                    other.name()
                ),
            ),
        }
    }
}

fn content_version(texts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for text in texts {
        hasher.update(text.as_bytes());
    }
    let digest = hasher.finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Fields that only some kinds use; naming the stray ones catches typos in `kind`.
fn reject_unused(check: &mut Checker, step: &RawStep, id: &str, kind: &str, allowed: &[&str]) {
    fn at<T>(value: &Option<Spanned<T>>) -> Option<usize> {
        value.as_ref().map(|v| v.span().start)
    }
    let present = [
        ("title", at(&step.title)),
        ("body", at(&step.body)),
        ("intro", at(&step.intro)),
        ("contact", at(&step.contact)),
        ("messages", at(&step.messages)),
        ("prompt", at(&step.prompt)),
        ("options", at(&step.options)),
        ("check", at(&step.check)),
        ("posts", at(&step.posts)),
        ("nodes", at(&step.nodes)),
        ("buckets", at(&step.buckets)),
        ("items", at(&step.items)),
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
    let student = |check: &mut Checker, value: &Option<Spanned<String>>, name: &str| {
        let text = check.required(value, &step.id, &field(name), kind);
        check.student_text.push(text.clone());
        text
    };
    match kind {
        "reading" => {
            reject_unused(check, step, id, kind, &["title", "body"]);
            let title = student(check, &step.title, "title");
            let body = check.required(&step.body, &step.id, &field("body"), kind);
            check_alt_text(check, &step.id, &field("body"), &body);
            Some(StepKind::Reading(Reading {
                title,
                body_html: check.student_markdown(&body),
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
            let title = student(check, &step.title, "title");
            let intro = check.required(&step.intro, &step.id, &field("intro"), kind);
            let contact = student(check, &step.contact, "contact");
            let messages = parse_messages(check, id, step);
            Some(StepKind::Chat(Chat {
                title,
                intro_html: check.student_markdown(&intro),
                contact,
                messages,
            }))
        }
        "feed" => {
            reject_unused(check, step, id, kind, &["title", "intro", "posts"]);
            let title = student(check, &step.title, "title");
            let intro = check.required(&step.intro, &step.id, &field("intro"), kind);
            let posts = parse_posts(check, id, step);
            Some(StepKind::Feed(Feed {
                title,
                intro_html: check.student_markdown(&intro),
                posts,
            }))
        }
        "reply" => {
            reject_unused(
                check,
                step,
                id,
                kind,
                &["title", "intro", "contact", "nodes"],
            );
            let title = student(check, &step.title, "title");
            let intro = check.required(&step.intro, &step.id, &field("intro"), kind);
            let contact = student(check, &step.contact, "contact");
            let nodes = parse_nodes(check, id, step);
            Some(StepKind::Reply(Reply {
                title,
                intro_html: check.student_markdown(&intro),
                contact,
                nodes,
            }))
        }
        "sort" => {
            reject_unused(
                check,
                step,
                id,
                kind,
                &["title", "intro", "buckets", "items"],
            );
            let title = student(check, &step.title, "title");
            let intro = check.required(&step.intro, &step.id, &field("intro"), kind);
            let (buckets, items) = parse_sort(check, id, step);
            Some(StepKind::Sort(Sort {
                title,
                intro_html: check.student_markdown(&intro),
                buckets,
                items,
            }))
        }
        "single_choice" | "multiple_choice" | "true_false" => {
            reject_unused(check, step, id, kind, &["prompt", "options", "check"]);
            let prompt = student(check, &step.prompt, "prompt");
            let question_kind = match kind {
                "single_choice" => QuestionKind::SingleChoice,
                "multiple_choice" => QuestionKind::MultipleChoice,
                _ => QuestionKind::TrueFalse,
            };
            let options = parse_options(check, id, step, question_kind);
            Some(StepKind::Question(Question {
                kind: question_kind,
                check: step.check.as_ref().is_some_and(|c| *c.get_ref()),
                prompt,
                options,
            }))
        }
        other => {
            check.error(
                &step.kind,
                field("kind"),
                format!("{other:?} is not a step kind: use reading, chat, feed, reply, sort, single_choice, multiple_choice or true_false"),
            );
            None
        }
    }
}

/// Markdown pictures must describe themselves for screen readers and read-aloud.
fn check_alt_text(check: &mut Checker, at: &Spanned<String>, field: &str, markdown: &str) {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut in_image = false;
    let mut alt = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Image { .. }) => {
                in_image = true;
                alt.clear();
            }
            Event::Text(text) if in_image => alt.push_str(&text),
            Event::End(TagEnd::Image) => {
                in_image = false;
                if alt.trim().is_empty() {
                    check.error(
                        at,
                        field,
                        "every picture needs alt text: ![what it shows](...)",
                    );
                }
            }
            _ => {}
        }
    }
}

fn parse_posts(check: &mut Checker, id: &str, step: &RawStep) -> Vec<FeedPost> {
    let Some(raw) = &step.posts else {
        check.error(
            &step.id,
            format!("steps.{id}.posts"),
            "a feed needs [[steps.posts]] entries",
        );
        return Vec::new();
    };
    let mut seen = BTreeSet::new();
    let mut posts = Vec::new();
    for p in raw.get_ref() {
        let pid = check.id(&p.id, &format!("steps.{id}.posts.id"));
        let field = |name: &str| format!("steps.{id}.posts.{pid}.{name}");
        if !seen.insert(pid.clone()) {
            check.error(&p.id, field("id"), "is used by another post in this feed");
        }
        let post_type = p.post_type.get_ref().trim().to_string();
        if !POST_TYPES.contains(&post_type.as_str()) {
            check.error(
                &p.post_type,
                field("type"),
                format!(
                    "{post_type:?} is not a post type: use {}",
                    POST_TYPES.join(", ")
                ),
            );
        }
        posts.push(FeedPost {
            id: pid.clone(),
            post_type,
            author: check.student(&p.author, &field("author")),
            text: check.student(&p.text, &field("text")),
            red_flag: *p.red_flag.get_ref(),
            reason: check.student(&p.reason, &field("reason")),
        });
    }
    let field = format!("steps.{id}.posts");
    if posts.len() < 3 {
        check.error(raw, &field, "a feed needs at least three posts");
    }
    if !posts.iter().any(|p| p.red_flag) {
        check.error(raw, &field, "mark at least one post as a red flag");
    }
    if !posts.iter().any(|p| !p.red_flag) {
        check.error(raw, &field, "include at least one harmless post");
    }
    posts
}

/// Longest path through a reply conversation; long enough for a real exchange, short enough
/// to finish in a lesson.
const MAX_REPLY_PATH: usize = 8;

fn parse_nodes(check: &mut Checker, id: &str, step: &RawStep) -> Vec<ReplyNode> {
    let Some(raw) = &step.nodes else {
        check.error(
            &step.id,
            format!("steps.{id}.nodes"),
            "a reply conversation needs [[steps.nodes]] entries",
        );
        return Vec::new();
    };
    let mut nodes: Vec<ReplyNode> = Vec::new();
    for n in raw.get_ref() {
        let nid = check.id(&n.id, &format!("steps.{id}.nodes.id"));
        let field = |name: &str| format!("steps.{id}.nodes.{nid}.{name}");
        if nodes.iter().any(|other| other.id == nid) {
            check.error(
                &n.id,
                field("id"),
                "is used by another node in this conversation",
            );
        }
        let say = n
            .say
            .iter()
            .map(|line| check.student(line, &field("say")))
            .collect();
        let replies: Vec<ReplyChoice> = n
            .replies
            .iter()
            .map(|r| ReplyChoice {
                text: check.student(&r.text, &field("replies.text")),
                next: r.next.get_ref().trim().to_string(),
            })
            .collect();
        let ending = match (&n.ending, &n.feedback) {
            (Some(ending), feedback) => {
                let safe = match ending.get_ref().trim() {
                    "safe" => true,
                    "risky" => false,
                    other => {
                        check.error(
                            ending,
                            field("ending"),
                            format!("{other:?} must be \"safe\" or \"risky\""),
                        );
                        false
                    }
                };
                let feedback = match feedback {
                    Some(feedback) => check.student(feedback, &field("feedback")),
                    None => {
                        check.error(ending, field("feedback"), "every ending needs feedback");
                        String::new()
                    }
                };
                if !replies.is_empty() {
                    check.error(
                        ending,
                        field("replies"),
                        "a node is either an ending or offers replies, not both",
                    );
                }
                Some(Ending { safe, feedback })
            }
            (None, Some(feedback)) => {
                check.error(feedback, field("feedback"), "only endings have feedback");
                None
            }
            (None, None) => {
                if replies.len() < 2 {
                    check.error(
                        &n.id,
                        field("replies"),
                        "offer two or more [[steps.nodes.replies]], or make the node an ending",
                    );
                }
                None
            }
        };
        nodes.push(ReplyNode {
            id: nid,
            say,
            replies,
            ending,
        });
    }
    // Every `next` points forward, so there are no cycles and every path ends.
    for (index, (node, raw_node)) in nodes.iter().zip(raw.get_ref()).enumerate() {
        for (reply, raw_reply) in node.replies.iter().zip(&raw_node.replies) {
            match nodes.iter().position(|n| n.id == reply.next) {
                Some(target) if target > index => {}
                Some(_) => check.error(
                    &raw_reply.next,
                    format!("steps.{id}.nodes.{}.replies.next", node.id),
                    format!("{:?} must name a node further down the file", reply.next),
                ),
                None => check.error(
                    &raw_reply.next,
                    format!("steps.{id}.nodes.{}.replies.next", node.id),
                    format!("{:?} is not a node in this conversation", reply.next),
                ),
            }
        }
    }
    let field = format!("steps.{id}.nodes");
    if !nodes
        .iter()
        .any(|n| n.ending.as_ref().is_some_and(|e| e.safe))
    {
        check.error(raw, &field, "include at least one safe ending");
    }
    if !nodes
        .iter()
        .any(|n| n.ending.as_ref().is_some_and(|e| !e.safe))
    {
        check.error(raw, &field, "include at least one risky ending");
    }
    // Depth of every node from the start; nodes that nothing leads to are never seen.
    let mut depth: Vec<Option<usize>> = vec![None; nodes.len()];
    if !nodes.is_empty() {
        depth[0] = Some(1);
    }
    for index in 0..nodes.len() {
        let Some(d) = depth[index] else { continue };
        for reply in &nodes[index].replies {
            if let Some(target) = nodes.iter().position(|n| n.id == reply.next)
                && target > index
            {
                depth[target] = Some(depth[target].map_or(d + 1, |t| t.max(d + 1)));
            }
        }
    }
    for ((node, raw_node), d) in nodes.iter().zip(raw.get_ref()).zip(&depth) {
        match d {
            None => check.error(
                &raw_node.id,
                format!("steps.{id}.nodes.{}", node.id),
                "no reply leads to this node",
            ),
            Some(d) if *d > MAX_REPLY_PATH => check.error(
                &raw_node.id,
                format!("steps.{id}.nodes.{}", node.id),
                format!("the path to this node is {d} nodes long; keep paths to {MAX_REPLY_PATH}"),
            ),
            _ => {}
        }
    }
    nodes
}

fn parse_sort(check: &mut Checker, id: &str, step: &RawStep) -> (Vec<Bucket>, Vec<SortItem>) {
    let mut buckets: Vec<Bucket> = Vec::new();
    match &step.buckets {
        Some(raw) => {
            for b in raw.get_ref() {
                let bid = check.id(&b.id, &format!("steps.{id}.buckets.id"));
                if buckets.iter().any(|other| other.id == bid) {
                    check.error(
                        &b.id,
                        format!("steps.{id}.buckets.{bid}.id"),
                        "is used by another box in this sort",
                    );
                }
                let label = check.student(&b.label, &format!("steps.{id}.buckets.{bid}.label"));
                buckets.push(Bucket { id: bid, label });
            }
            if !(2..=4).contains(&buckets.len()) {
                check.error(
                    raw,
                    format!("steps.{id}.buckets"),
                    format!("a sort has two to four boxes, found {}", buckets.len()),
                );
            }
        }
        None => check.error(
            &step.id,
            format!("steps.{id}.buckets"),
            "a sort needs [[steps.buckets]] entries",
        ),
    }
    let mut items: Vec<SortItem> = Vec::new();
    match &step.items {
        Some(raw) => {
            for item in raw.get_ref() {
                let iid = check.id(&item.id, &format!("steps.{id}.items.id"));
                let field = |name: &str| format!("steps.{id}.items.{iid}.{name}");
                if items.iter().any(|other| other.id == iid) {
                    check.error(
                        &item.id,
                        field("id"),
                        "is used by another item in this sort",
                    );
                }
                let bucket = item.bucket.get_ref().trim().to_string();
                if !buckets.iter().any(|b| b.id == bucket) {
                    check.error(
                        &item.bucket,
                        field("bucket"),
                        format!("{bucket:?} is not one of this sort's boxes"),
                    );
                }
                items.push(SortItem {
                    id: iid.clone(),
                    text: check.student(&item.text, &field("text")),
                    bucket,
                    feedback: check.student(&item.feedback, &field("feedback")),
                });
            }
            if items.len() < 3 {
                check.error(
                    raw,
                    format!("steps.{id}.items"),
                    "a sort needs at least three items",
                );
            }
            for bucket in &buckets {
                if !items.iter().any(|i| i.bucket == bucket.id) {
                    check.error(
                        raw,
                        format!("steps.{id}.items"),
                        format!("no item goes in the box {:?}", bucket.id),
                    );
                }
            }
        }
        None => check.error(
            &step.id,
            format!("steps.{id}.items"),
            "a sort needs [[steps.items]] entries",
        ),
    }
    (buckets, items)
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
        let text = check.student(&m.text, &field("text"));
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
                Some(reason) => Some(check.student(reason, &field("reason"))),
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
        let text = check.student(&o.text, &field("text"));
        if !seen_texts.insert(text.to_lowercase()) {
            check.error(&o.text, field("text"), "repeats the text of another option");
        }
        let feedback = check.student(&o.feedback, &field("feedback"));
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
