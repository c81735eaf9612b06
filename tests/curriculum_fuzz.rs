//! The curriculum parser and its checks under generated input (proptest, since `cargo fuzz`
//! needs a nightly compiler): arbitrary text and mutated real modules never panic, and every
//! refusal names the file, a line inside it, and says what to fix. Run longer by hand with
//! `PROPTEST_CASES=20000 cargo test --release --test curriculum_fuzz`.

use proptest::prelude::*;
use tellwise::curriculum::{ContentRules, load_dir, parse_module};

const MODULES: [&str; 4] = [
    include_str!("../curriculum/fake-profiles/module.toml"),
    include_str!("../curriculum/check-first-and-say-no/module.toml"),
    include_str!("../curriculum/when-in-doubt-talk-it-out/module.toml"),
    include_str!("../curriculum/financial-sextortion/module.es.toml"),
];

fn rules() -> ContentRules {
    let contacts: Vec<String> = tellwise::config::national_help()
        .into_iter()
        .map(|c| c.contact)
        .collect();
    ContentRules::for_contacts(contacts.iter().map(String::as_str))
}

/// One edit of a real module: cut a piece out, paste text in, repeat a line or swap two.
#[derive(Debug, Clone)]
enum Edit {
    Cut(usize, usize),
    Paste(usize, String),
    RepeatLine(usize),
    SwapLines(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0usize..200).prop_map(|(at, len)| Edit::Cut(at, len)),
        (
            any::<usize>(),
            prop_oneof![
                "\\PC{0,40}",
                Just("\n[[steps]]\n".to_string()),
                Just("\"\"\"".to_string()),
                Just(" = ".to_string()),
                Just("[".to_string()),
                Just("\nkind = \"reply\"\n".to_string()),
                Just("\ncorrect = [99]\n".to_string()),
                Just("\ncheck = true\n".to_string()),
                Just("\u{0}".to_string()),
            ]
        )
            .prop_map(|(at, text)| Edit::Paste(at, text)),
        any::<usize>().prop_map(Edit::RepeatLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut text = text.to_string();
    let boundary = |text: &str, at: usize| {
        let mut at = at % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    for edit in edits {
        match edit {
            Edit::Cut(at, len) => {
                let from = boundary(&text, *at);
                let to = boundary(&text, from.saturating_add(*len).min(text.len()));
                text.replace_range(from..to.max(from), "");
            }
            Edit::Paste(at, pasted) => {
                let at = boundary(&text, *at);
                text.insert_str(at, pasted);
            }
            Edit::RepeatLine(at) => {
                let mut lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let i = at % lines.len();
                    lines.insert(i, lines[i]);
                }
                text = lines.join("\n");
            }
            Edit::SwapLines(a, b) => {
                let mut lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let (a, b) = (a % lines.len(), b % lines.len());
                    lines.swap(a, b);
                }
                text = lines.join("\n");
            }
        }
    }
    text
}

fn refusals_are_precise(
    text: &str,
    result: Result<tellwise::curriculum::Module, Vec<tellwise::curriculum::CurriculumError>>,
) -> Result<(), TestCaseError> {
    if let Err(errors) = result {
        prop_assert!(!errors.is_empty());
        let lines = text.lines().count().max(1);
        for error in &errors {
            prop_assert_eq!(error.file.as_str(), "fuzz/module.toml");
            prop_assert!(error.line <= lines + 1, "line {} of {}", error.line, lines);
            prop_assert!(!error.message.trim().is_empty());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_parsed_or_refused_without_panicking(text in "\\PC{0,400}") {
        let result = parse_module("fuzz/module.toml", "fuzz", &text);
        refusals_are_precise(&text, result)?;
    }

    #[test]
    fn edited_real_modules_are_parsed_or_refused_precisely(
        which in 0usize..MODULES.len(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let text = apply(MODULES[which], &edits);
        let result = parse_module("fuzz/module.toml", "fuzz", &text);
        refusals_are_precise(&text, result)?;
    }
}

proptest! {
    // Each case writes a folder and runs every check a school's module gets (translation,
    // reading level, avoid list, hotlines), so fewer cases.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_schools_edited_module_folder_is_loaded_or_refused_without_panicking(
        english in prop::collection::vec(edit(), 0..3),
        spanish in prop::collection::vec(edit(), 0..3),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = dir.path().join("our-module");
        std::fs::create_dir_all(&folder).expect("folder");
        let en = include_str!("../curriculum/fake-profiles/module.toml");
        let es = include_str!("../curriculum/fake-profiles/module.es.toml");
        std::fs::write(folder.join("module.toml"), apply(en, &english)).expect("write");
        std::fs::write(folder.join("module.es.toml"), apply(es, &spanish)).expect("write");
        match load_dir(dir.path(), &rules()) {
            Ok(modules) => prop_assert!(!modules.is_empty()),
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for error in &errors {
                    prop_assert!(error.file.contains("our-module"), "{}", error.file);
                    prop_assert!(!error.message.trim().is_empty());
                }
            }
        }
    }
}
