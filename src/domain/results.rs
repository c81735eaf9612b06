//! Aggregate results for one assigned module in one class, with small groups suppressed.
//!
//! Figures cover finished attempts only, and only whole groups of the minimum size, in the order
//! students finished: with a minimum of 5, nothing until 5 have finished, then the first 5 until
//! 10 have, and so on. Two reports therefore differ by at least a whole group, so neither a
//! total nor a before-and-after comparison can single out one student's answers, even though
//! the teacher sees each student's status. A student removed after finishing (a family opt-out,
//! a deleted record) leaves a vacated place, so the groups after theirs do not move up.

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
    /// Places of finished students whose results were removed since (opt-outs, deletions);
    /// each keeps its group out of the figures.
    pub vacated: usize,
    /// Mean first-attempt score of the included students, in percent; `None` when suppressed.
    pub average_score_percent: Option<u32>,
    pub score_suppressed: bool,
    /// How many included students scored in each band; empty when suppressed.
    pub score_bands: Vec<ScoreBand>,
    pub questions: Vec<QuestionResult>,
    pub chats: Vec<ChatResult>,
    pub sorts: Vec<SortResult>,
    pub replies: Vec<ReplyResult>,
    pub gain: GainResult,
}

#[derive(Debug, Serialize)]
pub struct ScoreBand {
    pub label: &'static str,
    pub count: usize,
    pub percent: u32,
}

/// Score bands in percent correct: (label, lowest score in the band).
const SCORE_BANDS: [(&str, u32); 4] = [
    ("0-49%", 0),
    ("50-69%", 50),
    ("70-89%", 70),
    ("90-100%", 90),
];

/// Knowledge before and after the lesson, over the students who answered the checks both times.
#[derive(Debug, Serialize)]
pub struct GainResult {
    pub suppressed: bool,
    /// Included students who answered every check before the lesson and in its quiz.
    pub matched: Option<usize>,
    pub before_percent: Option<u32>,
    pub after_percent: Option<u32>,
    pub change: Option<i32>,
    pub items: Vec<GainItem>,
}

#[derive(Debug, Serialize)]
pub struct GainItem {
    pub step_id: String,
    pub number: usize,
    pub prompt: String,
    pub before_percent: Option<u32>,
    pub after_percent: Option<u32>,
    pub change: Option<i32>,
}

/// The wrong answer chosen most often, with the feedback students saw, to re-teach.
#[derive(Debug, Serialize)]
pub struct WrongAnswer {
    pub text: String,
    pub feedback: String,
    pub percent: u32,
}

#[derive(Debug, Serialize)]
pub struct SortResult {
    pub step_id: String,
    pub title: String,
    pub suppressed: bool,
    pub responses: Option<usize>,
    pub items: Vec<SortItemResult>,
}

#[derive(Debug, Serialize)]
pub struct SortItemResult {
    pub text: String,
    pub right_box: String,
    pub percent_right: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct ReplyResult {
    pub step_id: String,
    pub title: String,
    pub suppressed: bool,
    pub responses: Option<usize>,
    pub percent_safe: Option<u32>,
    pub endings: Vec<EndingResult>,
}

#[derive(Debug, Serialize)]
pub struct EndingResult {
    pub safe: bool,
    pub feedback: String,
    pub percent: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct QuestionResult {
    pub step_id: String,
    pub number: usize,
    pub prompt: String,
    /// A knowledge check, also asked before the lesson.
    pub check: bool,
    pub suppressed: bool,
    pub most_common_wrong: Option<WrongAnswer>,
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

/// The finished attempts the class figures cover: whole groups of `min_group` in finishing order,
/// where a removed attempt's vacated place still counts and hides its group.
pub fn included_finishers<'a>(
    attempts: &'a [AttemptSummary],
    vacated: &[chrono::NaiveDateTime],
    min_group: usize,
) -> Vec<&'a AttemptSummary> {
    let places = attempts
        .iter()
        .filter_map(|a| Some((a.finished_at?, Some((a.attempt_id, a)))))
        .chain(vacated.iter().map(|at| (*at, None)))
        .collect();
    super::included_in_whole_groups(places, min_group)
}

/// Computes the class's results; `responses` are the lesson's answers, `before` the answers to
/// the knowledge checks before it, and `min_group` the configured minimum group size.
pub fn module_results(
    module: &Module,
    roster: usize,
    attempts: &[AttemptSummary],
    vacated: &[chrono::NaiveDateTime],
    responses: &[ResponseRecord],
    before: &[ResponseRecord],
    min_group: usize,
) -> ModuleResults {
    let min_group = min_group.max(1);
    let finished_count = attempts.iter().filter(|a| a.finished_at.is_some()).count();
    let in_progress = attempts.len() - finished_count;
    let included_attempts = included_finishers(attempts, vacated, min_group);
    let included: BTreeSet<i32> = included_attempts.iter().map(|a| a.attempt_id).collect();

    let scores: Vec<f64> = included_attempts
        .iter()
        .filter_map(|a| a.score)
        .filter(|(_, total)| *total > 0)
        .map(|(correct, total)| correct as f64 / total as f64)
        .collect();
    let average_score_percent = (scores.len() >= min_group)
        .then(|| (scores.iter().sum::<f64>() * 100.0 / scores.len() as f64).round() as u32);
    let score_bands = if average_score_percent.is_some() {
        SCORE_BANDS
            .iter()
            .enumerate()
            .map(|(i, (label, low))| {
                let high = SCORE_BANDS.get(i + 1).map_or(u32::MAX, |(_, next)| *next);
                let count = scores
                    .iter()
                    .map(|s| (s * 100.0).round() as u32)
                    .filter(|s| (*low..high).contains(s))
                    .count();
                ScoreBand {
                    label,
                    count,
                    percent: percent(count, scores.len()),
                }
            })
            .collect()
    } else {
        Vec::new()
    };

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
    let mut sorts = Vec::new();
    let mut replies = Vec::new();
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
                check: question.check,
                suppressed: !shown,
                most_common_wrong: question
                    .options
                    .iter()
                    .filter(|o| !o.correct && shown)
                    .map(|o| (o, count(&o.id)))
                    .filter(|(_, chosen)| *chosen > 0)
                    .max_by_key(|(_, chosen)| *chosen)
                    .map(|(o, chosen)| WrongAnswer {
                        text: o.text.clone(),
                        feedback: o.feedback.clone(),
                        percent: percent(chosen, n),
                    }),
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
            StepKind::Sort(sort) => sorts.push(SortResult {
                step_id: step.id.clone(),
                title: sort.title.clone(),
                suppressed: !shown,
                responses: shown.then_some(n),
                items: sort
                    .items
                    .iter()
                    .map(|item| SortItemResult {
                        text: item.text.clone(),
                        right_box: sort
                            .buckets
                            .iter()
                            .find(|b| b.id == item.bucket)
                            .map(|b| b.label.clone())
                            .unwrap_or_default(),
                        percent_right: shown
                            .then(|| percent(count(&format!("{}={}", item.id, item.bucket)), n)),
                    })
                    .collect(),
            }),
            StepKind::Reply(reply) => replies.push(ReplyResult {
                step_id: step.id.clone(),
                title: reply.title.clone(),
                suppressed: !shown,
                responses: shown.then_some(n),
                percent_safe: shown
                    .then(|| percent(answers.iter().filter(|r| r.correct).count(), n)),
                endings: reply
                    .nodes
                    .iter()
                    .filter_map(|node| {
                        let ending = node.ending.as_ref()?;
                        Some(EndingResult {
                            safe: ending.safe,
                            feedback: ending.feedback.clone(),
                            percent: shown.then(|| percent(count(&format!("end={}", node.id)), n)),
                        })
                    })
                    .collect(),
            }),
            StepKind::Reading(_) => {}
        }
    }
    let gain = knowledge_gain(module, &included, responses, before, min_group);

    ModuleResults {
        roster,
        finished: finished_count,
        in_progress,
        included: included.len(),
        vacated: vacated.len(),
        not_started: roster.saturating_sub(attempts.len()),
        min_group,
        score_suppressed: average_score_percent.is_none(),
        average_score_percent,
        score_bands,
        questions,
        chats,
        sorts,
        replies,
        gain,
    }
}

/// Share correct on the knowledge checks before and after the lesson, over the included
/// students who answered every check both times. Hidden below the minimum group size.
fn knowledge_gain(
    module: &Module,
    included: &BTreeSet<i32>,
    after: &[ResponseRecord],
    before: &[ResponseRecord],
    min_group: usize,
) -> GainResult {
    let checks: Vec<(usize, &crate::curriculum::Step, &str)> = module
        .steps
        .iter()
        .filter_map(|step| match &step.kind {
            StepKind::Question(q) => Some((step, q)),
            _ => None,
        })
        .enumerate()
        .filter(|(_, (_, q))| q.check)
        .map(|(i, (step, q))| (i + 1, step, q.prompt.as_str()))
        .collect();
    // Indexed once: roll-ups pass the answers of thousands of students.
    type Index = std::collections::HashMap<(i32, String), bool>;
    let index = |records: &[ResponseRecord]| -> Index {
        records
            .iter()
            .filter(|r| included.contains(&r.attempt_id))
            .map(|r| ((r.attempt_id, r.step_id.clone()), r.correct))
            .collect()
    };
    let (before_index, after_index) = (index(before), index(after));
    let answered =
        |index: &Index, attempt: i32, step: &str| index.get(&(attempt, step.to_string())).copied();
    let matched: Vec<i32> = included
        .iter()
        .copied()
        .filter(|&a| {
            !checks.is_empty()
                && checks.iter().all(|(_, step, _)| {
                    answered(&before_index, a, &step.id).is_some()
                        && answered(&after_index, a, &step.id).is_some()
                })
        })
        .collect();
    let shown = matched.len() >= min_group;
    let share = |index: &Index, step: &str| {
        let right = matched
            .iter()
            .filter(|&&a| answered(index, a, step) == Some(true))
            .count();
        percent(right, matched.len())
    };
    let items: Vec<GainItem> = checks
        .iter()
        .map(|(number, step, prompt)| {
            let before_percent = shown.then(|| share(&before_index, &step.id));
            let after_percent = shown.then(|| share(&after_index, &step.id));
            GainItem {
                step_id: step.id.clone(),
                number: *number,
                prompt: (*prompt).to_string(),
                change: before_percent
                    .zip(after_percent)
                    .map(|(b, a)| a as i32 - b as i32),
                before_percent,
                after_percent,
            }
        })
        .collect();
    let mean = |pick: fn(&GainItem) -> Option<u32>| {
        let values: Vec<u32> = items.iter().filter_map(pick).collect();
        (!values.is_empty())
            .then(|| (values.iter().sum::<u32>() as f64 / values.len() as f64).round() as u32)
    };
    let before_percent = mean(|i| i.before_percent);
    let after_percent = mean(|i| i.after_percent);
    GainResult {
        suppressed: !shown,
        matched: shown.then_some(matched.len()),
        change: before_percent
            .zip(after_percent)
            .map(|(b, a)| a as i32 - b as i32),
        before_percent,
        after_percent,
        items,
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
        for band in &self.score_bands {
            row([
                "score band",
                band.label,
                "",
                &band.count.to_string(),
                &band.percent.to_string(),
                "",
            ])?;
        }
        let gain = &self.gain;
        row([
            "knowledge gain",
            "students compared",
            "",
            &opt(gain.matched),
            "",
            note(gain.suppressed),
        ])?;
        for (label, value) in [
            ("before the lesson", gain.before_percent),
            ("after the lesson", gain.after_percent),
        ] {
            row([
                "knowledge gain",
                "all checks",
                label,
                "",
                &pct(value),
                note(gain.suppressed),
            ])?;
        }
        for item in &gain.items {
            let name = format!("Q{} {}", item.number, item.prompt);
            for (label, value) in [
                ("before the lesson", item.before_percent),
                ("after the lesson", item.after_percent),
            ] {
                row([
                    "knowledge gain",
                    &name,
                    label,
                    "",
                    &pct(value),
                    note(gain.suppressed),
                ])?;
            }
        }
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
        for sort in &self.sorts {
            for item in &sort.items {
                let answer = format!("{} (right box: {})", item.text, item.right_box);
                row([
                    "sort right",
                    &sort.title,
                    &answer,
                    "",
                    &pct(item.percent_right),
                    note(sort.suppressed),
                ])?;
            }
        }
        for reply in &self.replies {
            for ending in &reply.endings {
                let answer = format!(
                    "{} ({})",
                    ending.feedback,
                    if ending.safe { "safe" } else { "risky" }
                );
                row([
                    "conversation ending",
                    &reply.title,
                    &answer,
                    "",
                    &pct(ending.percent),
                    note(reply.suppressed),
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
        let results = module_results(&module(), 7, &attempts, &[], &responses, &[], 5);
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
        let results = module_results(&module(), 30, &attempts, &[], &responses, &[], 5);
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
        let results = module_results(&module(), 5, &attempts, &[], &responses, &[], 5);
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
        let results = module_results(&module(), 8, &attempts, &[], &responses, &[], 5);
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
            let results = module_results(&module(), 30, &a, &[], &r, &[], min);
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

    /// Check answers for attempts `0..n`: `right(attempt, step)` decides each.
    fn check_answers(n: i32, right: impl Fn(i32, &str) -> bool) -> Vec<ResponseRecord> {
        (0..n)
            .flat_map(|id| {
                ["q1", "q2", "q3"].map(|step| ResponseRecord {
                    attempt_id: id,
                    step_id: step.into(),
                    answer: ["x".to_string()].into(),
                    correct: right(id, step),
                })
            })
            .collect()
    }

    #[test]
    fn knowledge_gain_compares_the_same_students_before_and_after() {
        let (attempts, _) = answers(6, 6);
        let before = check_answers(6, |_, step| step == "q2");
        let after = check_answers(6, |id, step| step != "q1" || id < 4);
        let results = module_results(&module(), 6, &attempts, &[], &after, &before, 5);
        let gain = &results.gain;
        assert!(!gain.suppressed);
        assert_eq!(gain.matched, Some(5), "the first whole group of five");
        let q1 = &gain.items[0];
        assert_eq!(
            (q1.before_percent, q1.after_percent, q1.change),
            (Some(0), Some(80), Some(80))
        );
        let q2 = &gain.items[1];
        assert_eq!(
            (q2.before_percent, q2.after_percent, q2.change),
            (Some(100), Some(100), Some(0))
        );
        assert_eq!(
            (gain.before_percent, gain.after_percent),
            (Some(33), Some(93))
        );
    }

    #[test]
    fn knowledge_gain_is_hidden_until_enough_students_answered_both_times() {
        let (attempts, _) = answers(5, 5);
        // One student never answered the checks before the lesson: only four are matched.
        let before: Vec<ResponseRecord> = check_answers(5, |_, _| false)
            .into_iter()
            .filter(|r| r.attempt_id != 2)
            .collect();
        let after = check_answers(5, |_, _| true);
        let results = module_results(&module(), 5, &attempts, &[], &after, &before, 5);
        assert!(results.gain.suppressed);
        assert_eq!(results.gain.matched, None);
        assert!(
            results
                .gain
                .items
                .iter()
                .all(|i| i.before_percent.is_none() && i.after_percent.is_none())
        );
    }

    #[test]
    fn the_most_common_wrong_answer_and_score_bands_are_shown_with_the_figures() {
        let (attempts, responses) = answers(5, 2);
        let results = module_results(&module(), 5, &attempts, &[], &responses, &[], 5);
        let wrong = results.questions[0]
            .most_common_wrong
            .as_ref()
            .expect("a wrong answer");
        assert_eq!((wrong.text.as_str(), wrong.percent), ("True", 60));
        assert_eq!(wrong.feedback, "No");
        let bands: Vec<(&str, usize)> = results
            .score_bands
            .iter()
            .map(|b| (b.label, b.count))
            .collect();
        assert_eq!(
            bands,
            [("0-49%", 3), ("50-69%", 0), ("70-89%", 0), ("90-100%", 2)]
        );

        let (attempts, responses) = answers(4, 2);
        let results = module_results(&module(), 5, &attempts, &[], &responses, &[], 5);
        assert!(results.questions[0].most_common_wrong.is_none());
        assert!(results.score_bands.is_empty());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn attempts_and_answers(rights: &[bool]) -> (Vec<AttemptSummary>, Vec<ResponseRecord>) {
            let attempts = (0..rights.len() as i32)
                .map(|id| AttemptSummary {
                    attempt_id: id,
                    finished_at: Some(finished_at(id)),
                    score: Some((i32::from(rights[id as usize]), 1)),
                })
                .collect();
            let responses = rights
                .iter()
                .enumerate()
                .map(|(id, right)| ResponseRecord {
                    attempt_id: id as i32,
                    step_id: "q1".into(),
                    answer: [if *right { "false" } else { "true" }.to_string()].into(),
                    correct: *right,
                })
                .collect();
            (attempts, responses)
        }

        proptest! {
            /// One more student finishing changes no figure unless it completes a whole group,
            /// so comparing reports over time never isolates one student's answers.
            #[test]
            fn one_more_finisher_changes_nothing_until_a_group_is_complete(
                rights in prop::collection::vec(any::<bool>(), 0..40),
                min_group in 1usize..10,
            ) {
                let (attempts, responses) = attempts_and_answers(&rights);
                let module = module();
                let n = rights.len();
                let before = module_results(&module, 50, &attempts[..n.saturating_sub(1)], &[], &responses, &[], min_group);
                let after = module_results(&module, 50, &attempts, &[], &responses, &[], min_group);
                prop_assert!(after.included.is_multiple_of(min_group));
                prop_assert!(after.included <= n && n - after.included < min_group);
                if !n.is_multiple_of(min_group) {
                    prop_assert_eq!(before.included, after.included);
                    prop_assert_eq!(before.average_score_percent, after.average_score_percent);
                    prop_assert_eq!(&before.questions[0].percent_correct, &after.questions[0].percent_correct);
                }
                for q in &after.questions {
                    prop_assert_eq!(q.suppressed, q.responses.is_none());
                    if let Some(responses) = q.responses {
                        prop_assert!(responses >= min_group);
                    }
                }
            }

            /// Removing finished students (an opt-out, a deleted record) never brings anyone into
            /// the figures who was not in them before, and takes out whole groups: the report
            /// before and after differ by at least `min_group` students or not at all, now and
            /// as more students finish later.
            #[test]
            fn removing_a_finisher_never_moves_another_into_the_figures(
                finishers in 0usize..40,
                removed in prop::collection::btree_set(0usize..40, 1..4),
                later in 0usize..12,
                min_group in 1usize..10,
            ) {
                let rights: Vec<bool> = (0..finishers + later).map(|i| i % 3 != 0).collect();
                let (all, _) = attempts_and_answers(&rights);
                let removed: BTreeSet<usize> = removed.into_iter().filter(|r| *r < finishers).collect();
                let vacated: Vec<chrono::NaiveDateTime> = removed
                    .iter()
                    .filter_map(|r| all[*r].finished_at)
                    .collect();
                let kept: Vec<AttemptSummary> = all
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !removed.contains(i))
                    .map(|(_, a)| a.clone())
                    .collect();
                let ids = |list: Vec<&AttemptSummary>| list.iter().map(|a| a.attempt_id).collect::<BTreeSet<i32>>();
                let before = ids(included_finishers(&all[..finishers], &[], min_group));
                let now_kept: Vec<AttemptSummary> = kept
                    .iter()
                    .filter(|a| (a.attempt_id as usize) < finishers)
                    .cloned()
                    .collect();
                let after = ids(included_finishers(&now_kept, &vacated, min_group));
                prop_assert!(after.is_subset(&before), "{:?} not within {:?}", after, before);
                let gone = before.len() - after.len();
                prop_assert!(gone == 0 || gone >= min_group);
                prop_assert!(after.len().is_multiple_of(min_group));
                // Later finishers join only in whole groups of their own.
                let eventually = ids(included_finishers(&kept, &vacated, min_group));
                prop_assert!(after.is_subset(&eventually));
                prop_assert!((eventually.len() - after.len()).is_multiple_of(min_group));
            }
        }
    }
}
