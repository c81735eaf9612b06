//! Curriculum files: the bundled modules and the README example are valid; every kind of
//! mistake an author can make is reported with file, line and field; `check-curriculum` and the
//! server refuse an invalid curriculum.

mod common;

use std::process::Command;

use tellwise::curriculum::{CurriculumError, load_dir, parse_module};

const VALID: &str = r#"slug = "demo"
title = "Demo"
tier = "6-8"
summary = "A demo."
minutes = 20

[[sources]]
title = "Online Enticement"
publisher = "NCMEC"
url = "https://www.missingkids.org/theissues/onlineenticement"

[[steps]]
id = "intro"
kind = "reading"
title = "Welcome"
body = "Hello"

[[steps]]
id = "chat"
kind = "chat"
title = "Chat"
intro = "Read the chat."
contact = "Sam"
[[steps.messages]]
id = "hi"
from = "them"
text = "hi"
red_flag = false
reason = "A hello is fine."
[[steps.messages]]
id = "reply"
from = "you"
text = "hey"
[[steps.messages]]
id = "secret"
from = "them"
text = "keep this secret"
red_flag = true
reason = "Secrecy is a red flag."

[[steps]]
id = "q1"
kind = "single_choice"
prompt = "What do you do?"
[[steps.options]]
id = "tell"
text = "Tell an adult"
correct = true
feedback = "Yes."
[[steps.options]]
id = "keep"
text = "Keep it secret"
correct = false
feedback = "Telling helps."

[[help]]
name = "Trusted adult"
contact = "Your teacher"
"#;

fn errors_for(text: &str) -> Vec<CurriculumError> {
    parse_module("curriculum/demo/module.toml", "demo", text).expect_err("should be invalid")
}

/// Asserts one error names this line and field and says `message`.
fn assert_error(text: &str, line: usize, field: &str, message: &str) {
    let errors = errors_for(text);
    assert!(
        errors
            .iter()
            .any(|e| e.line == line && e.field == field && e.message.contains(message)),
        "expected line {line}, field {field:?}, {message:?}; got:\n{}",
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        errors
            .iter()
            .all(|e| e.file == "curriculum/demo/module.toml")
    );
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle in text")
        + 1
}

#[test]
fn the_valid_example_parses() {
    let module = parse_module("curriculum/demo/module.toml", "demo", VALID).expect("valid");
    assert_eq!(module.steps.len(), 3);
    assert_eq!(module.question_count(), 1);
    assert_eq!(module.version.len(), 16);
    let edited = parse_module("x", "demo", &VALID.replace("Hello", "Hello!")).expect("valid");
    assert_ne!(
        edited.version, module.version,
        "any edit changes the content version"
    );
}

#[test]
fn the_example_in_the_authoring_guide_is_valid() {
    let guide = include_str!("../curriculum/README.md");
    let example = common::between(guide, "```toml\n", "```").expect("an example in the guide");
    let module = parse_module(
        "curriculum/secrets-and-surprises/module.toml",
        "secrets-and-surprises",
        &example,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(module.tier.as_str(), "K-2");
}

#[test]
fn the_bundled_curriculum_is_valid_with_one_module_per_tier() {
    let modules = load_dir(std::path::Path::new("curriculum")).unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    for tier in tellwise::curriculum::Tier::ALL {
        let module = modules
            .iter()
            .find(|m| m.tier == tier)
            .unwrap_or_else(|| panic!("a module for {tier}"));
        assert!(module.question_count() >= 6, "{} has a quiz", module.slug);
        assert!(
            module
                .steps
                .iter()
                .any(|s| matches!(s.kind, tellwise::curriculum::StepKind::Chat(_)))
        );
        assert!(!module.help.is_empty() && !module.sources.is_empty());
    }
}

#[test]
fn toml_syntax_errors_name_the_line() {
    let text = VALID.replace("minutes = 20", "minutes = = 20");
    assert_error(&text, 5, "minutes", "");
}

#[test]
fn missing_and_unknown_fields_are_named() {
    assert_error(
        &VALID.replace("summary = \"A demo.\"\n", ""),
        1,
        "summary",
        "missing field",
    );
    let text = VALID.replace("minutes = 20", "minutes = 20\ncolour = \"red\"");
    assert_error(&text, 6, "colour", "unknown field");
    let text = VALID.replace("feedback = \"Telling helps.\"\n", "");
    let errors = errors_for(&text);
    assert!(
        errors
            .iter()
            .any(|e| e.field == "feedback" && e.message.contains("missing field")),
        "{errors:?}"
    );
}

#[test]
fn module_level_mistakes_are_reported() {
    assert_error(
        &VALID.replace("tier = \"6-8\"", "tier = \"7\""),
        3,
        "tier",
        "is not a tier",
    );
    assert_error(
        &VALID.replace("minutes = 20", "minutes = 500"),
        5,
        "minutes",
        "outside 5 to 90",
    );
    assert_error(
        &VALID.replace("slug = \"demo\"", "slug = \"other\""),
        1,
        "slug",
        "must equal the folder name",
    );
    assert_error(
        &VALID.replace("slug = \"demo\"", "slug = \"Demo Module\""),
        1,
        "slug",
        "lowercase letters",
    );
    assert_error(
        &VALID.replace("title = \"Demo\"", "title = \"  \""),
        2,
        "title",
        "must not be empty",
    );
    let text = VALID.replace(
        "url = \"https://www.missingkids.org/theissues/onlineenticement\"",
        "url = \"javascript:alert(1)\"",
    );
    assert_error(
        &text,
        line_of(&text, "javascript:"),
        "sources[1].url",
        "https://",
    );
    let no_sources = VALID.replace(
        "[[sources]]\ntitle = \"Online Enticement\"\npublisher = \"NCMEC\"\nurl = \"https://www.missingkids.org/theissues/onlineenticement\"\n",
        "",
    );
    assert_error(&no_sources, 1, "sources", "at least one source");
    let no_help = VALID.replace(
        "[[help]]\nname = \"Trusted adult\"\ncontact = \"Your teacher\"\n",
        "",
    );
    let errors = errors_for(&no_help);
    assert!(
        errors
            .iter()
            .any(|e| e.field == "help" && e.message.contains("help")),
        "{errors:?}"
    );
}

#[test]
fn step_mistakes_are_reported() {
    let text = VALID.replace("id = \"chat\"", "id = \"intro\"");
    assert_error(
        &text,
        line_of(&text, "kind = \"chat\"") - 1,
        "steps.id",
        "used by another step",
    );
    let text = VALID.replace("kind = \"reading\"", "kind = \"essay\"");
    assert_error(
        &text,
        line_of(&text, "essay"),
        "steps.intro.kind",
        "not a step kind",
    );
    let text = VALID.replace("body = \"Hello\"", "body = \"Hello\"\nprompt = \"Stray\"");
    assert_error(
        &text,
        line_of(&text, "Stray"),
        "steps.intro.prompt",
        "not used by reading steps",
    );
    let text = VALID.replace("body = \"Hello\"\n", "");
    assert_error(
        &text,
        line_of(&text, "id = \"intro\""),
        "steps.intro.body",
        "required for reading steps",
    );
}

#[test]
fn question_mistakes_are_reported() {
    let both = VALID.replace(
        "correct = false\nfeedback = \"Telling helps.\"",
        "correct = true\nfeedback = \"Telling helps.\"",
    );
    assert_error(
        &both,
        line_of(&both, "[[steps.options]]"),
        "steps.q1.options",
        "exactly one option must be correct, found 2",
    );
    let none = VALID.replace(
        "correct = true\nfeedback = \"Yes.\"",
        "correct = false\nfeedback = \"Yes.\"",
    );
    assert_error(
        &none,
        line_of(&none, "[[steps.options]]"),
        "steps.q1.options",
        "found 0",
    );
    let blank = VALID.replace("feedback = \"Yes.\"", "feedback = \"\"");
    assert_error(
        &blank,
        line_of(&blank, "feedback = \"\""),
        "steps.q1.options.tell.feedback",
        "must not be empty",
    );
    let same = VALID.replace("text = \"Keep it secret\"", "text = \"tell an adult\"");
    assert_error(
        &same,
        line_of(&same, "text = \"tell an adult\""),
        "steps.q1.options.keep.text",
        "repeats the text",
    );
    let dup = VALID.replace("id = \"keep\"", "id = \"tell\"");
    let errors = errors_for(&dup);
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("used by another option")),
        "{errors:?}"
    );
    let tf = VALID.replace("kind = \"single_choice\"", "kind = \"true_false\"").replace(
        "[[help]]",
        "[[steps.options]]\nid = \"maybe\"\ntext = \"Maybe\"\ncorrect = false\nfeedback = \"Hm.\"\n\n[[help]]",
    );
    let errors = errors_for(&tf);
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("exactly two options, found 3")),
        "{errors:?}"
    );
    let all_right = VALID
        .replace("kind = \"single_choice\"", "kind = \"multiple_choice\"")
        .replace(
            "correct = false\nfeedback = \"Telling helps.\"",
            "correct = true\nfeedback = \"Telling helps.\"",
        );
    let errors = errors_for(&all_right);
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("at least one wrong")),
        "{errors:?}"
    );
}

#[test]
fn chat_mistakes_are_reported() {
    let no_flag = VALID.replace("red_flag = true", "red_flag = false");
    assert_error(
        &no_flag,
        line_of(&no_flag, "[[steps.messages]]"),
        "steps.chat.messages",
        "at least one message as a red flag",
    );
    let all_flags = VALID.replace("red_flag = false", "red_flag = true");
    assert_error(
        &all_flags,
        line_of(&all_flags, "[[steps.messages]]"),
        "steps.chat.messages",
        "harmless message",
    );
    let no_reason = VALID.replace("reason = \"A hello is fine.\"\n", "");
    assert_error(
        &no_reason,
        line_of(&no_reason, "id = \"hi\""),
        "steps.chat.messages.hi.reason",
        "explain why",
    );
    let bad_from = VALID.replace("from = \"you\"", "from = \"me\"");
    assert_error(
        &bad_from,
        line_of(&bad_from, "from = \"me\""),
        "steps.chat.messages.reply.from",
        "\"them\" or \"you\"",
    );
    let flagged_self = VALID.replace("text = \"hey\"", "text = \"hey\"\nred_flag = true");
    let errors = errors_for(&flagged_self);
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("only messages from them")),
        "{errors:?}"
    );
}

#[test]
fn several_mistakes_are_all_reported_at_once() {
    let text = VALID
        .replace("tier = \"6-8\"", "tier = \"x\"")
        .replace("minutes = 20", "minutes = 1")
        .replace("feedback = \"Yes.\"", "feedback = \"\"");
    assert!(errors_for(&text).len() >= 3);
}

fn write_module(dir: &std::path::Path, folder: &str, text: &str) {
    std::fs::create_dir_all(dir.join(folder)).expect("folder");
    std::fs::write(dir.join(folder).join("module.toml"), text).expect("write");
}

#[test]
fn check_curriculum_prints_every_error_and_exits_non_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_module(dir.path(), "demo", VALID);
    let ok = Command::new(env!("CARGO_BIN_EXE_tellwise"))
        .arg("check-curriculum")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("1 module(s)"));

    write_module(
        dir.path(),
        "broken",
        &VALID
            .replace("slug = \"demo\"", "slug = \"broken\"")
            .replace("tier = \"6-8\"", "tier = \"x\"")
            .replace("red_flag = true", "red_flag = false"),
    );
    std::fs::create_dir_all(dir.path().join("empty-folder")).expect("folder");
    let bad = Command::new(env!("CARGO_BIN_EXE_tellwise"))
        .arg("check-curriculum")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert!(stdout.contains("broken/module.toml:3: tier:"), "{stdout}");
    assert!(
        stdout.contains("steps.chat.messages: mark at least one message as a red flag"),
        "{stdout}"
    );
    assert!(
        stdout.contains("empty-folder/module.toml:0: every module folder needs a module.toml"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("3 error(s)"));
}

#[rocket::async_test]
async fn the_server_refuses_to_start_on_an_invalid_curriculum() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_module(
        dir.path(),
        "demo",
        &VALID.replace("minutes = 20", "minutes = 0"),
    );
    let env = common::TestEnv::with(|f| f.merge(("curriculum_dir", dir.path()))).await;
    let Err(error) = tellwise::setup(env.figment.clone()).await else {
        panic!("the server started on an invalid curriculum");
    };
    assert!(error.contains("demo/module.toml:5: minutes"), "{error}");
}
