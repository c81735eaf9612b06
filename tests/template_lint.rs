//! A lint over every file under `templates/`: Handlebars escapes `{{x}}`, so the only way a
//! template can put unescaped text into a page is `{{{x}}}` (or `{{& x}}`, or a raw block). Each
//! of those must be on the reviewed allow-list below, with the reason it is safe and where in the
//! source that reason can be checked; an entry that no longer matches the templates fails too, so
//! the list stays true. The CSP (`script-src 'self'`) forbids inline scripts and event-handler
//! attributes, so templates must not contain them (nor `javascript:` URLs).

use std::collections::BTreeMap;
use std::path::Path;

/// One reviewed use of unescaped output.
struct Allowed {
    /// Path under `templates/`.
    file: &'static str,
    /// The expression inside `{{{ }}}`.
    expression: &'static str,
    /// How many times it appears in that file.
    count: usize,
    reason: &'static str,
    /// Source text that shows the reason still holds: (file, text), whitespace-insensitive.
    evidence: &'static [(&'static str, &'static str)],
}

/// Every place Markdown from the curriculum becomes HTML goes through this sanitiser.
const SANITISER: &[(&str, &str)] = &[
    ("src/curriculum/render.rs", "ammonia::Builder::default()"),
    (
        "src/curriculum/loader.rs",
        "fn student_markdown(&mut self, markdown: &str) -> String { self.student_text.push(markdown_to_plain_text(markdown)); markdown_to_safe_html(markdown) }",
    ),
];

const ALLOWED: &[Allowed] = &[
    Allowed {
        file: "layout.hbs",
        expression: "body",
        count: 1,
        reason: "the page's own template, rendered (with escaping) by Views::render just before the layout",
        evidence: &[
            ("src/views/mod.rs", ".render_with_context(name, &context)"),
            (
                "src/views/mod.rs",
                r#"fields.insert("body".into(), Value::String(body));"#,
            ),
        ],
    },
    Allowed {
        file: "family.hbs",
        expression: "page.learned_html",
        count: 1,
        reason: "curriculum Markdown (family.learned) sanitised by ammonia in markdown_to_safe_html",
        evidence: &[
            (
                "src/curriculum/loader.rs",
                "learned_html: markdown_to_safe_html(&learned)",
            ),
            (
                "src/routes/student.rs",
                r#""learned_html": module.family.learned_html"#,
            ),
        ],
    },
    Allowed {
        file: "family.hbs",
        expression: "page.talk_html",
        count: 1,
        reason: "curriculum Markdown (family.talk) sanitised by ammonia in markdown_to_safe_html",
        evidence: &[
            (
                "src/curriculum/loader.rs",
                "talk_html: markdown_to_safe_html(&talk)",
            ),
            (
                "src/routes/student.rs",
                r#""talk_html": module.family.talk_html"#,
            ),
        ],
    },
    Allowed {
        file: "teacher/module.hbs",
        expression: "page.teacher_html",
        count: 1,
        reason: "curriculum Markdown (teacher.prepare) sanitised by ammonia in markdown_to_safe_html",
        evidence: &[
            (
                "src/curriculum/loader.rs",
                "markdown_to_safe_html(&prepare)",
            ),
            (
                "src/routes/teacher.rs",
                r#""teacher_html": module.teacher_html"#,
            ),
        ],
    },
    Allowed {
        file: "student/step.hbs",
        expression: "body_html",
        count: 1,
        reason: "a reading step's Markdown body, sanitised by ammonia (Checker::student_markdown)",
        evidence: &[
            (
                "src/curriculum/loader.rs",
                "body_html: check.student_markdown(&body)",
            ),
            ("src/routes/student.rs", r#""body_html": reading.body_html"#),
        ],
    },
    Allowed {
        file: "student/step.hbs",
        expression: "intro_html",
        count: 4,
        reason: "the Markdown intro of a chat, feed, reply or sort step, sanitised by ammonia (Checker::student_markdown)",
        evidence: &[
            (
                "src/curriculum/loader.rs",
                "intro_html: check.student_markdown(&intro)",
            ),
            ("src/routes/student.rs", r#""intro_html": chat.intro_html"#),
            ("src/routes/student.rs", r#""intro_html": feed.intro_html"#),
            ("src/routes/student.rs", r#""intro_html": reply.intro_html"#),
            ("src/routes/student.rs", r#""intro_html": sort.intro_html"#),
        ],
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `{{{x}}}`, `{{& x}}` or a raw block that is not on the allow-list.
    Unescaped,
    /// An allow-list entry whose expression is no longer in its file.
    Stale,
    /// An allow-list entry whose expression appears a different number of times.
    CountChanged,
    /// `<script>` with content, or without a same-site `src`.
    InlineScript,
    /// An `on...=` attribute.
    EventHandler,
    /// An attribute whose value is a `javascript:` URL.
    JavascriptUrl,
}

#[derive(Debug)]
struct Finding {
    file: String,
    line: usize,
    kind: Kind,
    detail: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "templates/{}:{}: {:?}: {}",
            self.file, self.line, self.kind, self.detail
        )
    }
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// Where a mustache that starts at `at` (`{{`) ends, just past its closing braces.
fn mustache_end(text: &str, at: usize) -> usize {
    let rest = &text[at..];
    let close = if rest.starts_with("{{!--") {
        "--}}"
    } else {
        "}}"
    };
    match rest[2..].find(close) {
        Some(i) => {
            let mut end = at + 2 + i + close.len();
            while text[end..].starts_with('}') {
                end += 1;
            }
            end
        }
        None => text.len(),
    }
}

/// Every unescaped output in a template: (line, expression, syntax).
fn unescaped_outputs(text: &str) -> Vec<(usize, String, &'static str)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(i) = text[at..].find("{{") {
        let start = at + i;
        let inner = text[start + 2..].trim_start_matches(['~', ' ', '\t', '\n', '\r']);
        let syntax = if inner.starts_with("{{") {
            Some("{{{{raw block}}}}")
        } else if inner.starts_with('{') {
            Some("{{{triple-stash}}}")
        } else if inner.starts_with('&') {
            Some("{{& ampersand}}")
        } else {
            None
        };
        let end = mustache_end(text, start);
        if let Some(syntax) = syntax {
            let body = inner.trim_start_matches(['{', '&']);
            let body = &body[..body.find('}').unwrap_or(body.len())];
            let expression = body.trim_matches(|c: char| c == '~' || c.is_whitespace());
            // The end of a raw block (`{{{{/raw}}}}`) outputs nothing itself.
            if !expression.starts_with('/') {
                found.push((line_of(text, start), expression.to_string(), syntax));
            }
        }
        at = end.max(start + 2);
    }
    found
}

/// The template with every mustache blanked out (same length and line breaks), so that the
/// HTML around it can be read without Handlebars' own quotes and `>`.
fn without_mustaches(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(i) = text[at..].find("{{") {
        let start = at + i;
        out.push_str(&text[at..start]);
        let end = mustache_end(text, start);
        for c in text[start..end].chars() {
            if c == '\n' {
                out.push('\n');
            } else {
                // As many spaces as the character has bytes, so offsets match `text`.
                out.push_str(&" ".repeat(c.len_utf8()));
            }
        }
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
    /// Byte offsets of `<` and just past `>`.
    start: usize,
    end: usize,
}

/// The start tags of an HTML text (comments, closing tags and doctypes skipped).
fn tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut tags = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        if html[i..].starts_with("<!--") {
            i = html[i..].find("-->").map_or(bytes.len(), |e| i + e + 3);
            continue;
        }
        if !bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        let name_start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-') {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        let mut attributes = Vec::new();
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' {
                i += 1;
                break;
            }
            let attr_start = i;
            while i < bytes.len()
                && !bytes[i].is_ascii_whitespace()
                && !matches!(bytes[i], b'=' | b'>' | b'/')
            {
                i += 1;
            }
            if i == attr_start {
                // A stray `=` or quote: not an attribute.
                i += 1;
                continue;
            }
            let attr = html[attr_start..i].to_ascii_lowercase();
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < bytes.len() && matches!(bytes[i], b'"' | b'\'') {
                    let quote = bytes[i];
                    let value_start = i + 1;
                    i = value_start;
                    while i < bytes.len() && bytes[i] != quote {
                        i += 1;
                    }
                    value = html[value_start..i.min(bytes.len())].to_string();
                    i += 1;
                } else {
                    let value_start = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    value = html[value_start..i].to_string();
                }
            }
            attributes.push((attr, value));
        }
        tags.push(Tag {
            name,
            attributes,
            start,
            end: i.min(bytes.len()),
        });
    }
    tags
}

/// Inline scripts, event handlers and `javascript:` URLs in one template.
fn csp_findings(file: &str, text: &str) -> Vec<Finding> {
    let html = without_mustaches(text);
    let mut findings = Vec::new();
    let mut push = |at: usize, kind: Kind, detail: String| {
        findings.push(Finding {
            file: file.to_string(),
            line: line_of(&html, at),
            kind,
            detail,
        });
    };
    for tag in tags(&html) {
        let source = text.get(tag.start..tag.end).unwrap_or_default().trim();
        for (name, value) in &tag.attributes {
            if name.starts_with("on") {
                push(
                    tag.start,
                    Kind::EventHandler,
                    format!("event-handler attribute `{name}` in {source}"),
                );
            }
            let url: String = value
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase();
            if url.starts_with("javascript:") {
                push(
                    tag.start,
                    Kind::JavascriptUrl,
                    format!("`{name}` is a javascript: URL in {source}"),
                );
            }
        }
        if tag.name == "script" {
            let src = tag
                .attributes
                .iter()
                .find(|(name, _)| name == "src")
                .map(|(_, value)| value.trim());
            let content_end = html[tag.end..]
                .to_ascii_lowercase()
                .find("</script")
                .map_or(html.len(), |e| tag.end + e);
            let content = &html[tag.end..content_end];
            match src {
                Some(src) if src.starts_with('/') && !src.starts_with("//") => {}
                _ => push(
                    tag.start,
                    Kind::InlineScript,
                    format!("a script needs a same-site `src`: {source}"),
                ),
            }
            if !content.trim().is_empty() {
                push(
                    tag.start,
                    Kind::InlineScript,
                    format!("inline script block: {source}…"),
                );
            }
        }
    }
    findings
}

/// The whole lint: `files` are (path under templates/, text).
fn lint(files: &[(String, String)], allowed: &[Allowed]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut counts: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (file, text) in files {
        for (line, expression, syntax) in unescaped_outputs(text) {
            let listed = allowed
                .iter()
                .any(|a| a.file == file && a.expression == expression);
            if listed {
                counts
                    .entry((file.clone(), expression))
                    .or_default()
                    .push(line);
            } else {
                findings.push(Finding {
                    file: file.clone(),
                    line,
                    kind: Kind::Unescaped,
                    detail: format!(
                        "unescaped output `{expression}` ({syntax}) is not on the reviewed allow-list: use {{{{{expression}}}}}, or review it and add it with a reason"
                    ),
                });
            }
        }
        findings.extend(csp_findings(file, text));
    }
    for entry in allowed {
        let lines = counts
            .get(&(entry.file.to_string(), entry.expression.to_string()))
            .cloned()
            .unwrap_or_default();
        if lines.is_empty() {
            findings.push(Finding {
                file: entry.file.to_string(),
                line: 0,
                kind: Kind::Stale,
                detail: format!(
                    "the allow-list names `{{{{{{{}}}}}}}` but the template no longer has it: remove the entry",
                    entry.expression
                ),
            });
        } else if lines.len() != entry.count {
            findings.push(Finding {
                file: entry.file.to_string(),
                line: lines[0],
                kind: Kind::CountChanged,
                detail: format!(
                    "`{{{{{{{}}}}}}}` appears {} times (lines {lines:?}), the allow-list says {}: review the new ones and update the count",
                    entry.expression,
                    lines.len(),
                    entry.count
                ),
            });
        }
    }
    findings
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Allow-list reasons whose evidence is no longer in the source.
fn missing_evidence(root: &Path, allowed: &[Allowed]) -> Vec<String> {
    let mut missing = Vec::new();
    let all = allowed
        .iter()
        .flat_map(|a| a.evidence.iter().map(move |e| (Some(a), e)))
        .chain(SANITISER.iter().map(|e| (None, e)));
    for (entry, (file, text)) in all {
        let source =
            std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("read {file}: {e}"));
        if !collapse(&source).contains(&collapse(text)) {
            let which = entry.map_or("the sanitiser".to_string(), |a| {
                format!("templates/{} `{}` ({})", a.file, a.expression, a.reason)
            });
            missing.push(format!(
                "{which}: {file} no longer contains {text:?}; check the reason still holds"
            ));
        }
    }
    missing
}

fn walk(dir: &Path, root: &Path, files: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, root, files);
        } else {
            let name = path
                .strip_prefix(root)
                .expect("under templates/")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("templates/{name} is not UTF-8 text: {e}"));
            files.push((name, text));
        }
    }
}

fn templates() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files
}

#[test]
fn templates_escape_everything_outside_the_reviewed_allow_list() {
    let files = templates();
    assert!(
        files.len() >= 20 && files.iter().any(|(name, _)| name == "layout.hbs"),
        "the walk found the templates: {:?}",
        files.iter().map(|(name, _)| name).collect::<Vec<_>>()
    );
    let findings = lint(&files, ALLOWED);
    assert!(
        findings.is_empty(),
        "{} template problem(s):\n{}",
        findings.len(),
        findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!(
        "template lint: {} files, {} reviewed unescaped outputs",
        files.len(),
        ALLOWED.iter().map(|a| a.count).sum::<usize>()
    );
}

#[test]
fn every_allow_list_reason_can_still_be_checked_in_the_source() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let missing = missing_evidence(root, ALLOWED);
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    for entry in ALLOWED {
        assert!(
            !entry.reason.trim().is_empty() && !entry.evidence.is_empty() && entry.count > 0,
            "templates/{} `{}` needs a reason, evidence and a count",
            entry.file,
            entry.expression
        );
    }
}

/// The lint on a small sample: each kind of problem is found, on the right line, and safe
/// markup that only looks similar is not.
#[test]
fn the_lint_finds_what_it_should_and_nothing_else() {
    let sample = |name: &str, text: &str| (name.to_string(), text.to_string());
    let files = vec![
        sample(
            "bad.hbs",
            "<p>{{{evil}}}</p>\n<p>{{& also}}</p>\n<p>{{~{ trimmed }~}}</p>\n{{{{raw}}}}<b>x</b>{{{{/raw}}}}\n{{{allowed}}}\n",
        ),
        sample(
            "csp.hbs",
            "<script>alert(1)</script>\n\
             <script src=\"https://cdn.example/x.js\"></script>\n\
             <button type=\"button\" onclick=\"go()\">x</button>\n\
             <a href=\" javascript:alert(1)\">x</a>\n\
             <div {{#if x}}onmouseover=\"y\"{{/if}}>z</div>\n\
             <img src=x ONERROR=alert(1)>\n",
        ),
        sample(
            "good.hbs",
            "<!-- <script>alert(1)</script> onclick=\"x\" -->\n\
             <script src=\"/static/app.js\" defer></script>\n\
             <p>{{name}} {{t \"on=\" name}} Turn on the light; onions=3</p>\n\
             <input value=\"{{value}}\" data-onclick=\"1\" content=\"x\" action=\"/y\" aria-label=\"{{t \"a.b\"}}\">\n\
             <option value=\"{{id}}\"{{#if selected}} selected{{/if}}>{{> partials/x}}</option>\n\
             <p class=\"{{#if on}}on{{/if}}\">{{!-- {{{commented}}} renders nothing --}}</p>\n\
             {{{allowed}}}\n",
        ),
    ];
    let allowed = [
        Allowed {
            file: "good.hbs",
            expression: "allowed",
            count: 1,
            reason: "test",
            evidence: &[],
        },
        Allowed {
            file: "good.hbs",
            expression: "gone",
            count: 1,
            reason: "test",
            evidence: &[],
        },
        Allowed {
            file: "csp.hbs",
            expression: "twice",
            count: 2,
            reason: "test",
            evidence: &[],
        },
    ];
    let findings = lint(&files, &allowed);
    let got: Vec<(String, usize, Kind)> = findings
        .iter()
        .map(|f| (f.file.clone(), f.line, f.kind))
        .collect();
    let expected: Vec<(String, usize, Kind)> = [
        ("bad.hbs", 1, Kind::Unescaped),
        ("bad.hbs", 2, Kind::Unescaped),
        ("bad.hbs", 3, Kind::Unescaped),
        ("bad.hbs", 4, Kind::Unescaped),
        // `allowed` is listed for good.hbs only.
        ("bad.hbs", 5, Kind::Unescaped),
        ("csp.hbs", 1, Kind::InlineScript),
        ("csp.hbs", 1, Kind::InlineScript),
        ("csp.hbs", 2, Kind::InlineScript),
        ("csp.hbs", 3, Kind::EventHandler),
        ("csp.hbs", 4, Kind::JavascriptUrl),
        ("csp.hbs", 5, Kind::EventHandler),
        ("csp.hbs", 6, Kind::EventHandler),
        ("good.hbs", 0, Kind::Stale),
        ("csp.hbs", 0, Kind::Stale),
    ]
    .into_iter()
    .map(|(f, l, k)| (f.to_string(), l, k))
    .collect();
    assert_eq!(
        got,
        expected,
        "findings:\n{}",
        findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let expressions: Vec<&str> = findings
        .iter()
        .filter(|f| f.file == "bad.hbs")
        .map(|f| f.detail.split('`').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        expressions,
        ["evil", "also", "trimmed", "raw", "allowed"],
        "the expressions are named"
    );

    // A listed expression that appears more often than reviewed.
    let twice = vec![sample("t.hbs", "{{{x}}}\n{{{x}}}\n")];
    let once = [Allowed {
        file: "t.hbs",
        expression: "x",
        count: 1,
        reason: "test",
        evidence: &[],
    }];
    let findings = lint(&twice, &once);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].kind, Kind::CountChanged);

    // The evidence check fails when the text is not in the source.
    let bogus = [Allowed {
        file: "t.hbs",
        expression: "x",
        count: 1,
        reason: "test",
        evidence: &[("src/views/mod.rs", "this text is not in the source")],
    }];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(missing_evidence(root, &bogus).len(), 1);
}

/// ASVS V6.2.6: every field that takes a password or a student's secret words is masked, and
/// tells the browser what it is for.
#[test]
fn password_and_secret_fields_are_masked() {
    let secret_names = ["password", "current_password", "new_password", "secret"];
    let mut fields = 0;
    for (file, text) in templates() {
        for tag in tags(&without_mustaches(&text)) {
            let attribute = |name: &str| {
                tag.attributes
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            if tag.name != "input" || !attribute("name").is_some_and(|n| secret_names.contains(&n))
            {
                continue;
            }
            fields += 1;
            assert_eq!(
                attribute("type"),
                Some("password"),
                "{file}: {:?}",
                tag.attributes
            );
            assert!(
                attribute("autocomplete").is_some(),
                "{file}: {:?}",
                tag.attributes
            );
        }
    }
    assert!(
        fields >= 6,
        "found only {fields} password and secret fields"
    );
}
