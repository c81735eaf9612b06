//! Checks on what a module says rather than how its file is shaped: reading level, question
//! length for read-aloud, phrases that blame victims, and hotline numbers that must match the
//! help contacts the server is configured with.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use rust_embed::Embed;
use serde::Deserialize;

use super::loader::CurriculumError;
use super::model::*;
use super::render::end_sentence;

#[derive(Embed)]
#[folder = "curriculum/"]
#[include = "avoid.toml"]
struct AvoidFile;

/// Highest Flesch-Kincaid grade of each tier's English text.
pub fn max_grade(tier: Tier) -> f64 {
    match tier {
        Tier::K2 => 3.0,
        Tier::G3to5 => 5.0,
        Tier::G6to8 => 8.0,
        Tier::G9to12 => 10.0,
    }
}

/// K-2 questions are read aloud; these keep them short enough to follow.
const K2_PROMPT_WORDS: usize = 20;
const K2_OPTION_WORDS: usize = 12;

/// Flesch-Kincaid grade of everything a student reads in the module.
pub fn reading_grade(module: &Module) -> f64 {
    let mut prose = String::new();
    for text in &module.student_text {
        prose.push_str(text);
        end_sentence(&mut prose);
    }
    textstat::flesch_kincaid_grade(&prose)
}

#[derive(Debug, Clone, Deserialize)]
pub struct AvoidPhrase {
    pub text: String,
    pub why: String,
    pub instead: String,
}

/// A phrase to avoid with its whole-word pattern, compiled once for every module.
#[derive(Debug, Clone)]
pub struct AvoidRule {
    pub phrase: AvoidPhrase,
    pattern: Regex,
}

/// The avoid list as rules; a phrase that cannot be a pattern is matched literally.
pub fn avoid_rules() -> Vec<AvoidRule> {
    avoid_phrases()
        .into_iter()
        .filter_map(AvoidRule::new)
        .collect()
}

impl AvoidRule {
    /// The phrase as whole words; its characters are escaped, so `.` or `(` match only
    /// themselves.
    fn new(phrase: AvoidPhrase) -> Option<Self> {
        let text = normalise(&phrase.text);
        // A word boundary only where the phrase begins or ends with a word character: after
        // "?" there is none to find.
        let edge = |c: Option<char>| {
            if c.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                r"\b"
            } else {
                ""
            }
        };
        let pattern = format!(
            "{}{}{}",
            edge(text.chars().next()),
            regex::escape(&text),
            edge(text.chars().last())
        );
        Regex::new(&pattern)
            .ok()
            .map(|pattern| AvoidRule { phrase, pattern })
    }
}

#[derive(Deserialize)]
struct AvoidList {
    phrase: Vec<AvoidPhrase>,
}

/// The phrases in `curriculum/avoid.toml`, compiled into the binary.
pub fn avoid_phrases() -> Vec<AvoidPhrase> {
    let file = AvoidFile::get("avoid.toml").expect("avoid.toml is embedded at build time");
    let text = String::from_utf8_lossy(&file.data);
    toml::from_str::<AvoidList>(&text)
        .expect("curriculum/avoid.toml is valid; a unit test parses it")
        .phrase
}

/// Curly apostrophes and quotes count as straight ones, so that a phrase cannot slip past.
fn normalise(text: &str) -> String {
    text.to_lowercase()
        .replace(['\u{2019}', '\u{2018}'], "'")
        .replace(['\u{201c}', '\u{201d}'], "\"")
}

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\b1[-. ])?\(?\b\d{3}\)?[-. ]\d{3}[-. ]\d{4}\b").expect("valid regex")
});
/// Short codes such as 988, 233733 or 741741 follow a verb like "call" or "text".
static SHORT_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:call|text|dial|llama|llamar|marca|marcar|env[ií]a|enviar|textea|mensaje de texto)\b[^.\d]{0,24}?\b(\d{3,6})\b",
    )
    .expect("valid regex")
});

/// Phone numbers and short codes in a text, as bare digits without a leading country code.
pub fn phone_numbers(text: &str) -> BTreeSet<String> {
    let mut numbers = BTreeSet::new();
    for found in PHONE.find_iter(text) {
        let digits: String = found
            .as_str()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let digits = match digits.strip_prefix('1') {
            Some(rest) if digits.len() == 11 => rest.to_string(),
            _ => digits,
        };
        numbers.insert(digits);
    }
    let without_phones = PHONE.replace_all(text, " ");
    for captures in SHORT_CODE.captures_iter(&without_phones) {
        numbers.insert(captures[1].to_string());
    }
    numbers
}

/// Everything the quality rules find in one module, in the order an author fixes them.
pub fn check_module(
    module: &Module,
    source: &str,
    file: &str,
    allowed_numbers: &BTreeSet<String>,
    avoid: &[AvoidRule],
) -> Vec<CurriculumError> {
    let mut errors = Vec::new();
    let error = |line: usize, field: &str, message: String| CurriculumError {
        file: file.to_string(),
        line,
        field: field.to_string(),
        message,
    };

    if module.language == Language::En {
        let grade = reading_grade(module);
        let max = max_grade(module.tier);
        if grade > max {
            errors.push(error(
                1,
                "reading level",
                format!(
                    "Flesch-Kincaid grade {grade:.1} is above {max:.0} for {}: use shorter sentences and shorter words",
                    module.tier.label()
                ),
            ));
        }
    }

    if module.tier == Tier::K2 {
        for step in &module.steps {
            let StepKind::Question(question) = &step.kind else {
                continue;
            };
            let words = question.prompt.split_whitespace().count();
            if words > K2_PROMPT_WORDS {
                errors.push(error(
                    line_of(source, &format!("id = \"{}\"", step.id)),
                    &format!("steps.{}.prompt", step.id),
                    format!(
                        "{words} words; K-2 prompts have at most {K2_PROMPT_WORDS} so they can be read aloud"
                    ),
                ));
            }
            for option in &question.options {
                let words = option.text.split_whitespace().count();
                if words > K2_OPTION_WORDS {
                    errors.push(error(
                        line_of(source, &option.text),
                        &format!("steps.{}.options.{}.text", step.id, option.id),
                        format!(
                            "{words} words; K-2 options have at most {K2_OPTION_WORDS} so they can be read aloud"
                        ),
                    ));
                }
            }
        }
    }

    let texts: Vec<&String> = module
        .student_text
        .iter()
        .chain(&module.other_text)
        .collect();
    let normalised_source = normalise(source);
    let normalised: Vec<String> = texts.iter().map(|t| normalise(t)).collect();
    for AvoidRule { phrase, pattern } in avoid {
        if normalised.iter().any(|t| pattern.is_match(t)) {
            let line = pattern
                .find(&normalised_source)
                .map_or(1, |m| line_at(&normalised_source, m.start()));
            errors.push(error(
                line,
                "wording",
                format!(
                    "{:?} {}; say instead: {}",
                    phrase.text, phrase.why, phrase.instead
                ),
            ));
        }
    }

    let mut numbers = BTreeSet::new();
    for text in &texts {
        numbers.extend(phone_numbers(text));
    }
    for number in numbers.difference(allowed_numbers) {
        errors.push(error(
            line_of(source, number),
            "help contacts",
            format!(
                "the number {number} is not one of the configured help contacts; use a number from the help page or add it to the `help` configuration"
            ),
        ));
    }
    errors
}

fn line_of(source: &str, needle: &str) -> usize {
    source
        .find(needle)
        .map_or(1, |offset| line_at(source, offset))
}

fn line_at(source: &str, offset: usize) -> usize {
    source.as_bytes()[..offset.min(source.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_avoid_list_parses_and_every_entry_explains_itself() {
        let phrases = avoid_phrases();
        assert!(phrases.len() >= 10);
        for phrase in phrases {
            assert!(!phrase.text.trim().is_empty());
            assert!(!phrase.why.trim().is_empty() && !phrase.instead.trim().is_empty());
        }
    }

    #[test]
    fn avoid_phrases_match_literally_even_with_pattern_characters() {
        let rule = AvoidRule::new(AvoidPhrase {
            text: "just a (harmless) joke?".into(),
            why: "test".into(),
            instead: "test".into(),
        })
        .expect("a rule");
        assert!(
            rule.pattern
                .is_match(&normalise("It was just a (harmless) joke? No."))
        );
        assert!(
            !rule
                .pattern
                .is_match(&normalise("It was just a harmless joke"))
        );
        assert!(!rule.pattern.is_match(&normalise("just a (harmless) jokeX")));
    }

    #[test]
    fn phone_numbers_and_short_codes_are_found() {
        let found = phone_numbers(
            "Call 1-888-373-7888 or text 233733. Call or text 988. In 2016 there were 100 calls. Llama al 911.",
        );
        let expected: BTreeSet<String> = ["8883737888", "233733", "988", "911"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn simple_text_reads_at_a_low_grade() {
        let easy = "The cat sat. The dog ran. We can play. Tell a grown-up.";
        let hard = "Comprehensive organisational responsibilities necessitate extraordinarily sophisticated institutional accountability mechanisms.";
        assert!(textstat::flesch_kincaid_grade(easy) < 3.0);
        assert!(textstat::flesch_kincaid_grade(hard) > 10.0);
    }
}
