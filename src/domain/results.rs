//! Aggregate results for one assigned module in one class, with small groups suppressed.
//!
//! Figures cover finished attempts only, and only whole groups of the minimum size, in the order
//! students finished: with a minimum of 5, nothing until 5 have finished, then the first 5 until
//! 10 have, and so on. Two reports therefore differ by at least a whole group, so neither a
//! total nor a before-and-after comparison can single out one student's answers, even though
//! the teacher sees each student's status.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::percent;
use crate::curriculum::{Module, StepKind};

/// What the results need to know about one student's attempt.
#[derive(Debug, Clone)]
pub struct AttemptSummary {
    pub attempt_id: i32,
    pub finished_at: Option<chrono::NaiveDateTime>,
    /// (correct, total) for finished attempts.
    pub score: Option<(i32, i32)>,
}

/// One saved answer: the first one a student gave to a step.
#[derive(Debug, Clone)]
pub struct ResponseRecord {
    pub attempt_id: i32,
    pub step_id: String,
    pub answer: BTreeSet<String>,
    pub correct: bool,
}

#[derive(Debug, Serialize)]
pub struct ModuleResults {
    pub roster: usize,
    pub finished: usize,
    pub in_progress: usize,
    pub not_started: usize,
    pub min_group: usize,
    /// How many finished students the figures below cover (a multiple of `min_group`).
    pub included: usize,
    /// Mean first-attempt score of the included students, in percent; `None` when suppressed.
    pub average_score_percent: Option<u32>,
    pub score_suppressed: bool,
    pub questions: Vec<QuestionResult>,
    pub chats: Vec<ChatResult>,
}

#[derive(Debug, Serialize)]
pub struct QuestionResult {
    pub step_id: String,
    pub number: usize,
    pub prompt: String,
    pub suppressed: bool,
    pub responses: Option<usize>,
    pub percent_correct: Option<u32>,
    pub options: Vec<OptionResult>,
}

#[derive(Debug, Serialize)]
pub struct OptionResult {
    pub id: String,
    pub text: String,
    pub correct: bool,
    pub chosen: Option<usize>,
    pub percent: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct ChatResult {
    pub step_id: String,
    pub title: String,
    pub suppressed: bool,
    pub responses: Option<usize>,
    pub messages: Vec<MessageResult>,
}

#[derive(Debug, Serialize)]
pub struct MessageResult {
    pub id: String,
    pub text: String,
    pub red_flag: bool,
    pub flagged: Option<usize>,
    pub percent: Option<u32>,
}

/// Computes the class's results; `min_group` is the configured minimum group size.
pub fn module_results(
    module: &Module,
    roster: usize,
    attempts: &[AttemptSummary],
    responses: &[ResponseRecord],
    min_group: usize,
) -> ModuleResults {
    let min_group = min_group.max(1);
    let mut finished: Vec<&AttemptSummary> = attempts
        .iter()
        .filter(|a| a.finished_at.is_some())
        .collect();
    finished.sort_by_key(|a| (a.finished_at, a.attempt_id));
    let in_progress = attempts.len() - finished.len();
    let included_attempts = &finished[..finished.len() / min_group * min_group];
    let included: BTreeSet<i32> = included_attempts.iter().map(|a| a.attempt_id).collect();

    let scores: Vec<f64> = included_attempts
        .iter()
        .filter_map(|a| a.score)
        .filter(|(_, total)| *total > 0)
        .map(|(correct, total)| correct as f64 / total as f64)
        .collect();
    let average_score_percent = (scores.len() >= min_group)
        .then(|| (scores.iter().sum::<f64>() * 100.0 / scores.len() as f64).round() as u32);

    let mut by_step: BTreeMap<&str, Vec<&ResponseRecord>> = BTreeMap::new();
    for response in responses
        .iter()
        .filter(|r| included.contains(&r.attempt_id))
    {
        by_step
            .entry(response.step_id.as_str())
            .or_default()
            .push(response);
    }

    let mut questions = Vec::new();
    let mut chats = Vec::new();
    for step in &module.steps {
        let answers = by_step
            .get(step.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let n = answers.len();
        let shown = n >= min_group;
        let count = |id: &str| answers.iter().filter(|r| r.answer.contains(id)).count();
        match &step.kind {
            StepKind::Question(question) => questions.push(QuestionResult {
                step_id: step.id.clone(),
                number: questions.len() + 1,
                prompt: question.prompt.clone(),
                suppressed: !shown,
                responses: shown.then_some(n),
                percent_correct: shown
                    .then(|| percent(answers.iter().filter(|r| r.correct).count(), n)),
                options: question
                    .options
                    .iter()
                    .map(|o| OptionResult {
                        id: o.id.clone(),
                        text: o.text.clone(),
                        correct: o.correct,
                        chosen: shown.then(|| count(&o.id)),
                        percent: shown.then(|| percent(count(&o.id), n)),
                    })
                    .collect(),
            }),
            StepKind::Chat(chat) => chats.push(ChatResult {
                step_id: step.id.clone(),
                title: chat.title.clone(),
                suppressed: !shown,
                responses: shown.then_some(n),
                messages: chat
                    .messages
                    .iter()
                    .filter(|m| m.from_them)
                    .map(|m| MessageResult {
                        id: m.id.clone(),
                        text: m.text.clone(),
                        red_flag: m.red_flag,
                        flagged: shown.then(|| count(&m.id)),
                        percent: shown.then(|| percent(count(&m.id), n)),
                    })
                    .collect(),
            }),
            StepKind::Feed(feed) => chats.push(ChatResult {
                step_id: step.id.clone(),
                title: feed.title.clone(),
                suppressed: !shown,
                responses: shown.then_some(n),
                messages: feed
                    .posts
                    .iter()
                    .map(|p| MessageResult {
                        id: p.id.clone(),
                        text: format!("{}: {}", p.author, p.text),
                        red_flag: p.red_flag,
                        flagged: shown.then(|| count(&p.id)),
                        percent: shown.then(|| percent(count(&p.id), n)),
                    })
                    .collect(),
            }),
            StepKind::Reading(_) | StepKind::Reply(_) | StepKind::Sort(_) => {}
        }
    }

    ModuleResults {
        roster,
        finished: finished.len(),
        in_progress,
        included: included.len(),
        not_started: roster.saturating_sub(attempts.len()),
        min_group,
        score_suppressed: average_score_percent.is_none(),
        average_score_percent,
        questions,
        chats,
    }
}

impl ModuleResults {
    /// The same aggregates as CSV: one row per figure, suppressed figures left blank and marked.
    pub fn to_csv(&self, module: &Module) -> Result<String, String> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut row = |fields: [&str; 6]| writer.write_record(fields).map_err(|e| e.to_string());
        let opt = |v: Option<usize>| v.map(|v| v.to_string()).unwrap_or_default();
        let pct = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
        let note = |suppressed: bool| {
            if suppressed {
                "not enough responses yet"
            } else {
                ""
            }
        };
        row(["section", "item", "answer", "count", "percent", "note"])?;
        row(["module", &module.slug, &module.version, "", "", ""])?;
        row(["progress", "roster", "", &self.roster.to_string(), "", ""])?;
        row([
            "progress",
            "finished",
            "",
            &self.finished.to_string(),
            "",
            "",
        ])?;
        row([
            "progress",
            "in progress",
            "",
            &self.in_progress.to_string(),
            "",
            "",
        ])?;
        row([
            "progress",
            "not started",
            "",
            &self.not_started.to_string(),
            "",
            "",
        ])?;
        let score_suppressed = self.average_score_percent.is_none();
        row([
            "score",
            "average first-attempt score",
            "",
            "",
            &pct(self.average_score_percent),
            note(score_suppressed),
        ])?;
        for q in &self.questions {
            let item = format!("Q{} {}", q.number, q.prompt);
            row([
                "question",
                &item,
                "(correct)",
                &opt(q.responses),
                &pct(q.percent_correct),
                note(q.suppressed),
            ])?;
            for o in &q.options {
                let answer = if o.correct {
                    format!("{} (correct answer)", o.text)
                } else {
                    o.text.clone()
                };
                row([
                    "option",
                    &item,
                    &answer,
                    &opt(o.chosen),
                    &pct(o.percent),
                    note(q.suppressed),
                ])?;
            }
        }
        for c in &self.chats {
            for m in &c.messages {
                let answer = if m.red_flag {
                    format!("{} (red flag)", m.text)
                } else {
                    m.text.clone()
                };
                row([
                    "chat flagged",
                    &c.title,
                    &answer,
                    &opt(m.flagged),
                    &pct(m.percent),
                    note(c.suppressed),
                ])?;
            }
        }
        let bytes = writer.into_inner().map_err(|e| e.to_string())?;
        String::from_utf8(bytes).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curriculum::parse_module;

    fn module() -> Module {
        let text = r#"
slug = "m"
title = "M"
tier = "3-5"
summary = "S"
minutes = 15
[teacher]
prepare = "P"
[family]
learned = "L"
talk = "T"
[[sources]]
title = "T"
publisher = "P"
url = "https://example.org"
[[steps]]
id = "chat"
kind = "chat"
title = "Chat"
intro = "Read it."
contact = "Sam"
[[steps.messages]]
id = "hi"
from = "them"
text = "hi"
red_flag = false
reason = "fine"
[[steps.messages]]
id = "secret"
from = "them"
text = "keep it secret"
red_flag = true
reason = "secrecy"
[[steps]]
id = "q1"
kind = "true_false"
check = true
prompt = "Secrets from parents are fine?"
[[steps.options]]
id = "true"
text = "True"
correct = false
feedback = "No"
[[steps.options]]
id = "false"
text = "False"
correct = true
feedback = "Yes"
[[steps]]
id = "q2"
kind = "true_false"
check = true
prompt = "You can tell?"
[[steps.options]]
id = "true"
text = "True"
correct = true
feedback = "Yes"
[[steps.options]]
id = "false"
text = "False"
correct = false
feedback = "No"
[[steps]]
id = "q3"
kind = "true_false"
check = true
prompt = "It is your fault?"
[[steps.options]]
id = "true"
text = "True"
correct = false
feedback = "No"
[[steps.options]]
id = "false"
text = "False"
correct = true
feedback = "Yes"
[[help]]
name = "Adult"
contact = "Teacher"
"#;
        parse_module("m/module.toml", "m", text).expect("valid module")
    }

    /// Students finish in the order of their ids.
    fn finished_at(id: i32) -> chrono::NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + i64::from(id) * 60, 0)
            .expect("valid time")
            .naive_utc()
    }

    fn answers(n: usize, right: usize) -> (Vec<AttemptSummary>, Vec<ResponseRecord>) {
        let attempts = (0..n as i32)
            .map(|id| AttemptSummary {
                attempt_id: id,
                finished_at: Some(finished_at(id)),
                score: Some((i32::from((id as usize) < right), 1)),
            })
            .collect();
        let responses = (0..n as i32)
            .flat_map(|id| {
                let right = (id as usize) < right;
                let choice = if right { "false" } else { "true" };
                [
                    ResponseRecord {
                        attempt_id: id,
                        step_id: "q1".into(),
                        answer: [choice.to_string()].into(),
                        correct: right,
                    },
                    ResponseRecord {
                        attempt_id: id,
                        step_id: "chat".into(),
                        answer: ["secret".to_string()].into(),
                        correct: true,
                    },
                ]
            })
            .collect();
        (attempts, responses)
    }

    #[test]
    fn figures_appear_at_the_minimum() {
        let (attempts, responses) = answers(5, 4);
        let results = module_results(&module(), 7, &attempts, &responses, 5);
        assert_eq!(
            (results.finished, results.in_progress, results.not_started),
            (5, 0, 2)
        );
        assert_eq!(results.average_score_percent, Some(80));
        let q = &results.questions[0];
        assert_eq!((q.responses, q.percent_correct), (Some(5), Some(80)));
        assert_eq!(q.options[0].chosen, Some(1));
        assert_eq!(results.chats[0].messages[1].percent, Some(100));
    }

    #[test]
    fn figures_below_the_minimum_are_hidden_everywhere() {
        let (attempts, responses) = answers(4, 4);
        let results = module_results(&module(), 30, &attempts, &responses, 5);
        assert_eq!(results.average_score_percent, None);
        let q = &results.questions[0];
        assert!(q.suppressed);
        assert!(q.responses.is_none() && q.percent_correct.is_none());
        assert!(
            q.options
                .iter()
                .all(|o| o.chosen.is_none() && o.percent.is_none())
        );
        assert!(
            results.chats[0]
                .messages
                .iter()
                .all(|m| m.flagged.is_none())
        );
        let csv = results.to_csv(&module()).expect("csv");
        assert!(csv.contains("not enough responses yet"));
        for line in csv.lines().filter(|l| {
            l.starts_with("question") || l.starts_with("option") || l.starts_with("chat")
        }) {
            let fields: Vec<&str> = line.rsplitn(4, ',').collect();
            assert_eq!(
                (fields[1], fields[2]),
                ("", ""),
                "a hidden figure leaked: {line}"
            );
        }
    }

    #[test]
    fn responses_from_unknown_attempts_are_ignored() {
        let (attempts, mut responses) = answers(5, 5);
        responses.push(ResponseRecord {
            attempt_id: 99,
            step_id: "q1".into(),
            answer: ["true".into()].into(),
            correct: false,
        });
        let results = module_results(&module(), 5, &attempts, &responses, 5);
        assert_eq!(results.questions[0].responses, Some(5));
    }

    #[test]
    fn only_whole_groups_of_finished_students_count() {
        // Five finish (four right), a sixth finishes wrong, a seventh is still working.
        let (mut attempts, mut responses) = answers(6, 4);
        attempts.push(AttemptSummary {
            attempt_id: 6,
            finished_at: None,
            score: None,
        });
        responses.push(ResponseRecord {
            attempt_id: 6,
            step_id: "q1".into(),
            answer: ["true".into()].into(),
            correct: false,
        });
        let results = module_results(&module(), 8, &attempts, &responses, 5);
        assert_eq!(
            (results.finished, results.in_progress, results.included),
            (6, 1, 5)
        );
        let q = &results.questions[0];
        assert_eq!((q.responses, q.percent_correct), (Some(5), Some(80)));
        assert_eq!(results.average_score_percent, Some(80));
    }

    #[test]
    fn one_more_student_finishing_changes_no_figure_until_a_whole_group_has() {
        let min = 5;
        let (attempts, responses) = answers(9, 3);
        let report = |n: usize| {
            let kept: Vec<i32> = (0..n as i32).collect();
            let a: Vec<AttemptSummary> = attempts
                .iter()
                .filter(|a| kept.contains(&a.attempt_id))
                .cloned()
                .collect();
            let r: Vec<ResponseRecord> = responses
                .iter()
                .filter(|r| kept.contains(&r.attempt_id))
                .cloned()
                .collect();
            let results = module_results(&module(), 30, &a, &r, min);
            let q = &results.questions[0];
            (
                results.average_score_percent,
                q.percent_correct,
                q.options.iter().map(|o| o.chosen).collect::<Vec<_>>(),
            )
        };
        // Between 5 and 9 finished students every figure stays the same, so comparing two
        // reports says nothing about the students who finished in between.
        let first = report(5);
        for n in 6..=9 {
            assert_eq!(report(n), first, "with {n} finished");
        }
        assert_eq!(report(4).0, None);
    }
}
