//! The typed, validated curriculum. Built only by `loader::parse_module`, so every value here
//! already satisfies the rules in `curriculum/README.md`.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Tier {
    #[serde(rename = "K-2")]
    K2,
    #[serde(rename = "3-5")]
    G3to5,
    #[serde(rename = "6-8")]
    G6to8,
    #[serde(rename = "9-12")]
    G9to12,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::K2, Tier::G3to5, Tier::G6to8, Tier::G9to12];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::K2 => "K-2",
            Tier::G3to5 => "3-5",
            Tier::G6to8 => "6-8",
            Tier::G9to12 => "9-12",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tier::K2 => "Grades K-2",
            Tier::G3to5 => "Grades 3-5",
            Tier::G6to8 => "Grades 6-8",
            Tier::G9to12 => "Grades 9-12",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Module {
    pub slug: String,
    pub title: String,
    pub tier: Tier,
    pub summary: String,
    pub minutes: u32,
    pub content_note: Option<String>,
    pub sources: Vec<Source>,
    pub steps: Vec<Step>,
    pub help: Vec<HelpResource>,
    /// Hash of the module file, stored with every attempt.
    pub version: String,
}

impl Module {
    /// The questions that make up the score.
    pub fn questions(&self) -> impl Iterator<Item = (&Step, &Question)> {
        self.steps.iter().filter_map(|s| match &s.kind {
            StepKind::Question(q) => Some((s, q)),
            _ => None,
        })
    }

    pub fn question_count(&self) -> usize {
        self.questions().count()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub title: String,
    pub publisher: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HelpResource {
    pub name: String,
    pub contact: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub id: String,
    pub kind: StepKind,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepKind {
    Reading(Reading),
    Chat(Chat),
    Question(Question),
}

#[derive(Debug, Clone, Serialize)]
pub struct Reading {
    pub title: String,
    /// Sanitised HTML rendered from the Markdown body.
    pub body_html: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chat {
    pub title: String,
    pub intro_html: String,
    pub contact: String,
    pub messages: Vec<ChatMessage>,
}

impl Chat {
    pub fn red_flags(&self) -> BTreeSet<&str> {
        self.messages
            .iter()
            .filter(|m| m.red_flag)
            .map(|m| m.id.as_str())
            .collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatMessage {
    pub id: String,
    pub from_them: bool,
    pub text: String,
    pub red_flag: bool,
    /// Why the message is or is not a red flag; only messages from them have one.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    SingleChoice,
    MultipleChoice,
    TrueFalse,
}

impl QuestionKind {
    pub fn allows_many(self) -> bool {
        self == QuestionKind::MultipleChoice
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub kind: QuestionKind,
    pub prompt: String,
    pub options: Vec<AnswerOption>,
}

impl Question {
    pub fn correct_ids(&self) -> BTreeSet<&str> {
        self.options
            .iter()
            .filter(|o| o.correct)
            .map(|o| o.id.as_str())
            .collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AnswerOption {
    pub id: String,
    pub text: String,
    pub correct: bool,
    pub feedback: String,
}
