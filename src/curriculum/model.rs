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

/// The languages a module is written in. English is the source; Spanish is a translation with
/// the same structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Es,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Es];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == value.trim())
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
        }
    }

    /// The language's own name, as a student looking for it would read it.
    pub fn name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::Es => "Español",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Module {
    pub slug: String,
    pub language: Language,
    pub title: String,
    pub tier: Tier,
    pub summary: String,
    pub minutes: u32,
    pub content_note: Option<String>,
    pub sources: Vec<Source>,
    pub steps: Vec<Step>,
    pub help: Vec<HelpResource>,
    /// For teachers only: how to prepare the lesson.
    pub teacher_html: String,
    pub family: FamilyPage,
    /// Hash of the module's files (every language), stored with every attempt.
    pub version: String,
    /// Every piece of student-facing text, as written, for the reading-level check.
    #[serde(skip)]
    pub student_text: Vec<String>,
    /// Every other text in the file (teacher and family notes, help, sources), for the phrase
    /// and hotline checks.
    #[serde(skip)]
    pub other_text: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FamilyPage {
    pub learned_html: String,
    pub talk_html: String,
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

    /// The knowledge-check questions, asked before the lesson and again in the closing quiz.
    pub fn check_steps(&self) -> Vec<usize> {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(&s.kind, StepKind::Question(q) if q.check))
            .map(|(i, _)| i)
            .collect()
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
    Feed(Feed),
    Reply(Reply),
    Sort(Sort),
    Question(Question),
}

impl StepKind {
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Reading(_) => "reading",
            StepKind::Chat(_) => "chat",
            StepKind::Feed(_) => "feed",
            StepKind::Reply(_) => "reply",
            StepKind::Sort(_) => "sort",
            StepKind::Question(q) => match q.kind {
                QuestionKind::SingleChoice => "single_choice",
                QuestionKind::MultipleChoice => "multiple_choice",
                QuestionKind::TrueFalse => "true_false",
            },
        }
    }

    /// Steps the student answers (everything but a reading).
    pub fn is_answered(&self) -> bool {
        !matches!(self, StepKind::Reading(_))
    }
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

/// A social feed: posts, comments, likes and requests; the student taps the red flags.
#[derive(Debug, Clone, Serialize)]
pub struct Feed {
    pub title: String,
    pub intro_html: String,
    pub posts: Vec<FeedPost>,
}

impl Feed {
    pub fn red_flags(&self) -> BTreeSet<&str> {
        self.posts
            .iter()
            .filter(|p| p.red_flag)
            .map(|p| p.id.as_str())
            .collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FeedPost {
    pub id: String,
    /// post, comment, like, friend_request or message
    #[serde(rename = "type")]
    pub post_type: String,
    pub author: String,
    pub text: String,
    pub red_flag: bool,
    pub reason: String,
}

pub const POST_TYPES: [&str; 5] = ["post", "comment", "like", "friend_request", "message"];

/// A choose-your-reply conversation: a tree (or a graph without cycles) of nodes, starting at the
/// first, where every path ends in a safe or a risky ending.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    pub title: String,
    pub intro_html: String,
    pub contact: String,
    pub nodes: Vec<ReplyNode>,
}

impl Reply {
    pub fn node(&self, id: &str) -> Option<&ReplyNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Follows the chosen reply numbers from the start; `None` if any choice does not exist.
    pub fn follow(&self, choices: &[usize]) -> Option<Vec<&ReplyNode>> {
        let mut node = self.nodes.first()?;
        let mut path = vec![node];
        for &choice in choices {
            let reply = node.replies.get(choice)?;
            node = self.node(&reply.next)?;
            path.push(node);
        }
        Some(path)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplyNode {
    pub id: String,
    pub say: Vec<String>,
    pub replies: Vec<ReplyChoice>,
    pub ending: Option<Ending>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplyChoice {
    pub text: String,
    pub next: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ending {
    pub safe: bool,
    pub feedback: String,
}

/// Sorting items into two to four boxes (safe / not safe, surprise / secret).
#[derive(Debug, Clone, Serialize)]
pub struct Sort {
    pub title: String,
    pub intro_html: String,
    pub buckets: Vec<Bucket>,
    pub items: Vec<SortItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SortItem {
    pub id: String,
    pub text: String,
    pub bucket: String,
    pub feedback: String,
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
    /// A knowledge-check item: also asked before the lesson.
    pub check: bool,
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
