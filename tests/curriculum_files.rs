//! Curriculum files: the bundled modules and the README example are valid; every kind of
//! mistake an author can make is reported with file, line and field; `check-curriculum` and the
//! server refuse an invalid curriculum.

mod common;

use std::process::Command;

use tellwise::curriculum::{
    ContentRules, Curriculum, CurriculumError, Language, StepKind, Tier, load_dir, parse_module,
    quality,
};

const VALID: &str = r#"slug = "demo"
title = "Demo"
tier = "6-8"
summary = "A demo."
minutes = 20

[teacher]
prepare = "Read the lesson first."

[family]
learned = "Secrets that worry you are the ones to tell."
talk = "Ask: who are your trusted adults?"

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
check = true
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

[[steps]]
id = "q2"
kind = "true_false"
check = true
prompt = "It is your fault if someone tricks you."
[[steps.options]]
id = "true"
text = "True"
correct = false
feedback = "It is never your fault."
[[steps.options]]
id = "false"
text = "False"
correct = true
feedback = "Right."

[[steps]]
id = "q3"
kind = "true_false"
check = true
prompt = "You can tell another adult if the first one does not help."
[[steps.options]]
id = "true"
text = "True"
correct = true
feedback = "Yes."
[[steps.options]]
id = "false"
text = "False"
correct = false
feedback = "Keep on telling."

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
    assert_eq!(module.steps.len(), 5);
    assert_eq!(module.question_count(), 3);
    assert_eq!(module.check_steps(), vec![2, 3, 4]);
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

fn rules() -> ContentRules {
    let contacts: Vec<String> = tellwise::config::national_help()
        .into_iter()
        .map(|c| c.contact)
        .collect();
    ContentRules::for_contacts(contacts.iter().map(String::as_str))
}

fn joined(errors: &[CurriculumError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_bundled_curriculum_has_five_modules_per_tier_in_two_languages() {
    let modules = load_dir(std::path::Path::new("curriculum"), &rules())
        .unwrap_or_else(|e| panic!("{}", joined(&e)));
    let curriculum = Curriculum::new(modules);
    let mut kinds = std::collections::BTreeSet::new();
    for tier in Tier::ALL {
        let in_tier: Vec<_> = curriculum
            .modules()
            .into_iter()
            .filter(|m| m.tier == tier)
            .collect();
        assert!(in_tier.len() >= 5, "{tier} has {} modules", in_tier.len());
        for module in in_tier {
            let spanish = curriculum
                .get_in(&module.slug, Language::Es)
                .expect("a translation");
            assert_eq!(spanish.language, Language::Es, "{} in Spanish", module.slug);
            assert_ne!(spanish.title, module.title, "{} is translated", module.slug);
            assert_eq!(spanish.version, module.version);
            assert!((15..=45).contains(&module.minutes), "{}", module.slug);
            assert!(module.question_count() >= 6, "{} has a quiz", module.slug);
            assert!(
                (3..=5).contains(&module.check_steps().len()),
                "{}",
                module.slug
            );
            assert!(
                module
                    .steps
                    .iter()
                    .any(|s| s.kind.is_answered() && !matches!(s.kind, StepKind::Question(_))),
                "{} has an activity",
                module.slug
            );
            assert!(!module.help.is_empty() && !module.sources.is_empty());
            assert!(!module.family.learned_html.is_empty() && !module.teacher_html.is_empty());
            assert!(
                quality::reading_grade(module) <= quality::max_grade(tier),
                "{} reads above its tier",
                module.slug
            );
            kinds.extend(module.steps.iter().map(|s| s.kind.name()));
        }
    }
    for kind in ["reading", "chat", "feed", "reply", "sort"] {
        assert!(kinds.contains(kind), "some module uses a {kind} step");
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
        "outside 15 to 45",
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

/// Writes a module and a "translation" with the same structure (the same text will do).
fn write_module(dir: &std::path::Path, folder: &str, text: &str) {
    std::fs::create_dir_all(dir.join(folder)).expect("folder");
    std::fs::write(dir.join(folder).join("module.toml"), text).expect("write");
    std::fs::write(dir.join(folder).join("module.es.toml"), text).expect("write");
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
    assert!(
        stdout.contains(
            "empty-folder/module.es.toml:0: every module folder needs a Spanish translation"
        ),
        "{stdout}"
    );
    // Each of the two broken files reports two errors, and the empty folder two missing files.
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("6 error(s)"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
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

/// VALID with one more step inserted before the first question.
fn with_step(step: &str) -> String {
    VALID.replace(
        "[[steps]]\nid = \"q1\"",
        &format!("{step}\n[[steps]]\nid = \"q1\""),
    )
}

const FEED: &str = r#"[[steps]]
id = "feed"
kind = "feed"
title = "Feed"
intro = "Tap the red flags."
[[steps.posts]]
id = "coach"
type = "post"
author = "Coach"
text = "Great game!"
red_flag = false
reason = "A coach cheering is fine."
[[steps.posts]]
id = "gift"
type = "friend_request"
author = "stranger"
text = "Free coins if you keep it secret"
red_flag = true
reason = "Gifts plus secrecy."
[[steps.posts]]
id = "cousin"
type = "like"
author = "Cousin"
text = "liked your drawing"
red_flag = false
reason = "Family you know."
"#;

const REPLY: &str = r#"[[steps]]
id = "talk"
kind = "reply"
title = "What would you say?"
intro = "Jay writes."
contact = "Jay"
[[steps.nodes]]
id = "start"
say = ["what school do you go to?"]
[[steps.nodes.replies]]
text = "I don't share that."
next = "safe"
[[steps.nodes.replies]]
text = "Lincoln!"
next = "risky"
[[steps.nodes]]
id = "safe"
ending = "safe"
feedback = "Good choice."
[[steps.nodes]]
id = "risky"
ending = "risky"
feedback = "It is never your fault. Tell an adult now."
"#;

const SORT: &str = r#"[[steps]]
id = "sort"
kind = "sort"
title = "Sort"
intro = "Put each in a box."
[[steps.buckets]]
id = "surprise"
label = "Surprise"
[[steps.buckets]]
id = "unsafe"
label = "Unsafe secret"
[[steps.items]]
id = "cake"
text = "A cake for Grandma"
bucket = "surprise"
feedback = "A happy surprise."
[[steps.items]]
id = "dont-tell"
text = "Don't tell your mom"
bucket = "unsafe"
feedback = "Tell a grown-up."
[[steps.items]]
id = "party"
text = "A party for your teacher"
bucket = "surprise"
feedback = "Everyone will know soon."
"#;

#[test]
fn feed_reply_and_sort_steps_parse() {
    let text = with_step(&format!("{FEED}\n{REPLY}\n{SORT}"));
    let module = parse_module("curriculum/demo/module.toml", "demo", &text)
        .unwrap_or_else(|e| panic!("{}", joined(&e)));
    let kinds: Vec<&str> = module.steps.iter().map(|s| s.kind.name()).collect();
    assert_eq!(kinds[..5], ["reading", "chat", "feed", "reply", "sort"]);
}

#[test]
fn feed_mistakes_are_reported() {
    let text = with_step(&FEED.replace("red_flag = true", "red_flag = false"));
    assert_error(
        &text,
        line_of(&text, "[[steps.posts]]"),
        "steps.feed.posts",
        "at least one post as a red flag",
    );
    let text = with_step(&FEED.replace("type = \"like\"", "type = \"poke\""));
    assert_error(
        &text,
        line_of(&text, "poke"),
        "steps.feed.posts.cousin.type",
        "not a post type",
    );
    let text = with_step(&FEED.replace("reason = \"Family you know.\"\n", ""));
    let errors = errors_for(&text);
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("missing field `reason`")),
        "{}",
        joined(&errors)
    );
}

#[test]
fn reply_mistakes_are_reported() {
    let text = with_step(&REPLY.replace("next = \"risky\"", "next = \"nowhere\""));
    assert_error(
        &text,
        line_of(&text, "nowhere"),
        "steps.talk.nodes.start.replies.next",
        "not a node",
    );
    // A loop back to the start would never end.
    let looping = REPLY.replace(
        "[[steps.nodes]]\nid = \"risky\"\nending = \"risky\"\nfeedback = \"It is never your fault. Tell an adult now.\"",
        "[[steps.nodes]]\nid = \"risky\"\nsay = [\"ok\"]\n[[steps.nodes.replies]]\ntext = \"again\"\nnext = \"start\"\n[[steps.nodes.replies]]\ntext = \"stop\"\nnext = \"safe\"",
    );
    let text = with_step(&looping);
    assert_error(
        &text,
        line_of(&text, "next = \"start\""),
        "steps.talk.nodes.risky.replies.next",
        "further down",
    );
    let text = with_step(&REPLY.replace("ending = \"risky\"", "ending = \"safe\""));
    assert_error(
        &text,
        line_of(&text, "[[steps.nodes]]"),
        "steps.talk.nodes",
        "at least one risky ending",
    );
    let text = with_step(&REPLY.replace("feedback = \"Good choice.\"\n", ""));
    assert_error(
        &text,
        line_of(&text, "ending = \"safe\""),
        "steps.talk.nodes.safe.feedback",
        "needs feedback",
    );
    let orphan =
        format!("{REPLY}[[steps.nodes]]\nid = \"orphan\"\nending = \"safe\"\nfeedback = \"x\"\n");
    let text = with_step(&orphan);
    assert_error(
        &text,
        line_of(&text, "id = \"orphan\""),
        "steps.talk.nodes.orphan",
        "no reply leads",
    );
}

#[test]
fn sort_mistakes_are_reported() {
    let text = with_step(&SORT.replace("bucket = \"unsafe\"", "bucket = \"scary\""));
    assert_error(
        &text,
        line_of(&text, "scary"),
        "steps.sort.items.dont-tell.bucket",
        "not one of this sort's boxes",
    );
    let errors = errors_for(&text);
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("no item goes in the box \"unsafe\"")),
        "{}",
        joined(&errors)
    );
}

#[test]
fn knowledge_checks_are_counted_and_come_at_the_end() {
    let text = VALID.replace(
        "check = true\nprompt = \"What do you do?\"",
        "prompt = \"What do you do?\"",
    );
    assert_error(&text, 1, "steps.check", "found 2");
    let text = VALID.replace(
        "[[help]]",
        "[[steps]]\nid = \"late-reading\"\nkind = \"reading\"\ntitle = \"More\"\nbody = \"More.\"\n\n[[steps]]\nid = \"later\"\nkind = \"reading\"\ntitle = \"Even more\"\nbody = \"More.\"\n\n[[help]]",
    );
    assert_error(
        &text,
        line_of(&text, "id = \"later\""),
        "steps.later",
        "after the first check question",
    );
}

#[test]
fn sensitive_modules_need_a_content_note() {
    let text = VALID.replace(
        "body = \"Hello\"",
        "body = \"Today we learn about sextortion.\"",
    );
    assert_error(&text, 1, "content_note", "\"sextortion\"");
    let noted = text.replace(
        "minutes = 20",
        "minutes = 20\ncontent_note = \"This lesson talks about threats online.\"",
    );
    parse_module("curriculum/demo/module.toml", "demo", &noted)
        .unwrap_or_else(|e| panic!("{}", joined(&e)));
}

#[test]
fn teacher_and_family_notes_are_required() {
    let text = VALID.replace("[teacher]\nprepare = \"Read the lesson first.\"\n", "");
    assert_error(&text, 1, "teacher", "[teacher]");
    let text = VALID.replace("[family]\nlearned = \"Secrets that worry you are the ones to tell.\"\ntalk = \"Ask: who are your trusted adults?\"\n", "");
    assert_error(&text, 1, "family", "[family]");
}

/// Loads one module folder with these English and Spanish files.
fn load_pair(
    english: &str,
    spanish: &str,
) -> Result<Vec<tellwise::curriculum::Module>, Vec<CurriculumError>> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("demo")).expect("folder");
    std::fs::write(dir.path().join("demo/module.toml"), english).expect("write");
    std::fs::write(dir.path().join("demo/module.es.toml"), spanish).expect("write");
    load_dir(dir.path(), &rules())
}

#[test]
fn a_translation_must_match_the_english_structure() {
    let spanish = VALID
        .replace("Hello", "Hola")
        .replace("Tell an adult", "Cuéntale a un adulto");
    let modules = load_pair(VALID, &spanish).unwrap_or_else(|e| panic!("{}", joined(&e)));
    assert_eq!(modules.len(), 2);
    assert_eq!(
        modules[0].version, modules[1].version,
        "one version for both files"
    );

    let wrong_answer = VALID.replace(
        "correct = true\nfeedback = \"Yes.\"\n[[steps.options]]\nid = \"keep\"\ntext = \"Keep it secret\"\ncorrect = false",
        "correct = false\nfeedback = \"Yes.\"\n[[steps.options]]\nid = \"keep\"\ntext = \"Keep it secret\"\ncorrect = true",
    );
    let errors = load_pair(VALID, &wrong_answer).expect_err("answers differ");
    let text = joined(&errors);
    assert!(text.contains("demo/module.es.toml"), "{text}");
    assert!(
        text.contains(
            "steps.q1.options.tell: is correct=false in the translation but correct=true in English"
        ),
        "{text}"
    );

    let missing_step = VALID.replace(
        "[[steps]]\nid = \"intro\"\nkind = \"reading\"\ntitle = \"Welcome\"\nbody = \"Hello\"\n",
        "",
    );
    let errors = load_pair(VALID, &missing_step).expect_err("a step is missing");
    assert!(
        joined(&errors).contains("steps.intro.kind: is missing from the translation"),
        "{}",
        joined(&errors)
    );
}

#[test]
fn wording_that_blames_victims_fails_in_either_language() {
    let english = VALID.replace(
        "feedback = \"It is never your fault.\"",
        "feedback = \"Some say they asked for it. They did not.\"",
    );
    let errors = load_pair(&english, &english).expect_err("avoid list");
    assert!(
        joined(&errors).contains("wording: \"asked for it\" blames the victim"),
        "{}",
        joined(&errors)
    );
    let spanish = VALID.replace("body = \"Hello\"", "body = \"Una esclava sexual\"");
    let errors = load_pair(VALID, &spanish).expect_err("avoid list in Spanish");
    let text = joined(&errors);
    assert!(
        text.contains("module.es.toml:") && text.contains("esclava sexual"),
        "{text}"
    );
    // Curly apostrophes do not slip past.
    let curly = VALID.replace("body = \"Hello\"", "body = \"Why didn’t she just leave?\"");
    let errors = load_pair(&curly, &curly).expect_err("curly apostrophe");
    assert!(
        joined(&errors).contains("why didn't she just leave"),
        "{}",
        joined(&errors)
    );
}

#[test]
fn hotline_numbers_must_be_configured_help_contacts() {
    let english = VALID.replace(
        "contact = \"Your teacher\"",
        "contact = \"Call 1-888-373-7888 or text 233733\"",
    );
    load_pair(&english, &english).unwrap_or_else(|e| panic!("{}", joined(&e)));
    let wrong = VALID.replace(
        "contact = \"Your teacher\"",
        "contact = \"Call 1-800-555-0199\"",
    );
    let errors = load_pair(&wrong, &wrong).expect_err("unknown number");
    assert!(
        joined(&errors)
            .contains("the number 8005550199 is not one of the configured help contacts"),
        "{}",
        joined(&errors)
    );
}

#[test]
fn reading_level_and_k2_question_length_are_checked() {
    let hard = VALID.replace(
        "body = \"Hello\"",
        "body = \"Comprehensive organisational responsibilities necessitate extraordinarily sophisticated institutional accountability mechanisms, notwithstanding considerable jurisdictional heterogeneity regarding implementation methodologies and interdepartmental communication infrastructures.\"",
    );
    let errors = load_pair(&hard, &hard).expect_err("too hard to read");
    assert!(
        joined(&errors).contains("reading level: Flesch-Kincaid grade"),
        "{}",
        joined(&errors)
    );
    let k2 = VALID
        .replace("tier = \"6-8\"", "tier = \"K-2\"")
        .replace(
            "prompt = \"What do you do?\"",
            "prompt = \"When somebody you met in a game asks you to keep your chats a secret from your family, what should you do next?\"",
        );
    let errors = load_pair(&k2, &k2).expect_err("too long to read aloud");
    assert!(
        joined(&errors).contains("steps.q1.prompt: 23 words; K-2 prompts have at most 20"),
        "{}",
        joined(&errors)
    );
}

#[rocket::async_test]
async fn a_school_adds_its_own_modules_next_to_the_bundled_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let own = VALID.replace("slug = \"demo\"", "slug = \"our-school-rules\"");
    write_module(dir.path(), "our-school-rules", &own);
    let env = common::TestEnv::with(|f| f.merge(("extra_curriculum_dirs", vec![dir.path()]))).await;
    let rocket = tellwise::setup(env.figment.clone()).await.expect("starts");
    let app = rocket.state::<tellwise::App>().expect("app");
    assert!(app.curriculum.get("our-school-rules").is_some());
    assert!(app.curriculum.get("safe-and-unsafe-secrets").is_some());

    let clash = VALID.replace("slug = \"demo\"", "slug = \"safe-and-unsafe-secrets\"");
    let dir = tempfile::tempdir().expect("tempdir");
    write_module(dir.path(), "safe-and-unsafe-secrets", &clash);
    let env = common::TestEnv::with(|f| f.merge(("extra_curriculum_dirs", vec![dir.path()]))).await;
    let Err(error) = tellwise::setup(env.figment.clone()).await else {
        panic!("a school module replaced a bundled one");
    };
    assert!(error.contains("is already a module"), "{error}");
}
