//! Item statistics for curriculum authors, across every class in scope: how hard each question
//! is (facility: the share who answer it right) and how well it separates students who learned
//! the module from those who did not (discrimination: facility among the top 27% of total scores
//! minus facility among the bottom 27%), with the questions worth a second look flagged, as
//! Moodle's quiz statistics do. Figures cover each school's whole groups of the roll-up minimum
//! in finishing order, and nothing is shown below it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use serde::Serialize;

use super::results::ResponseRecord;
use super::rollup::FinishedAttempt;
use super::{Place, included_in_whole_groups, percent};
use crate::curriculum::Module;

/// Above this facility a question is too easy to tell anyone apart.
const TOO_EASY: u32 = 90;
/// Below this facility a question may be unclear or wrongly keyed.
const TOO_HARD: u32 = 30;
/// Discrimination below this (in points) does not separate stronger from weaker answers.
const WEAK_DISCRIMINATION: i32 = 20;
/// The share of students in each of the upper and lower groups, in percent.
const GROUP_PERCENT: usize = 27;

#[derive(Debug, Serialize)]
pub struct ItemStatistics {
    pub module_slug: String,
    pub module_title: String,
    pub suppressed: bool,
    /// Finished attempts the figures cover.
    pub students: usize,
    pub items: Vec<ItemResult>,
}

#[derive(Debug, Serialize)]
pub struct ItemResult {
    pub number: usize,
    pub step_id: String,
    pub prompt: String,
    pub check: bool,
    pub facility: Option<u32>,
    /// Upper-group facility minus lower-group facility, in points (-100 to 100).
    pub discrimination: Option<i32>,
    pub flags: Vec<&'static str>,
}

pub fn item_statistics(
    module: &Module,
    finished: &[FinishedAttempt],
    vacated: &[(i32, NaiveDateTime)],
    responses: &[ResponseRecord],
    min_group: usize,
) -> ItemStatistics {
    let attempts = included_attempts(module, finished, vacated, min_group.max(1));
    let shown = !attempts.is_empty();
    let included: BTreeSet<i32> = attempts.iter().map(|a| a.attempt_id).collect();
    let correct: BTreeMap<(i32, &str), bool> = responses
        .iter()
        .filter(|r| included.contains(&r.attempt_id))
        .map(|r| ((r.attempt_id, r.step_id.as_str()), r.correct))
        .collect();

    // Upper and lower groups by total score; ties are broken by finishing order, so the
    // groups are stable from one report to the next.
    let mut ranked = attempts.clone();
    ranked.sort_by(|a, b| {
        let score = |x: &FinishedAttempt| x.score.0 as f64 / x.score.1.max(1) as f64;
        score(b).total_cmp(&score(a))
    });
    let group = (ranked.len() * GROUP_PERCENT).div_ceil(100).max(1);
    let upper: Vec<i32> = ranked.iter().take(group).map(|a| a.attempt_id).collect();
    let lower: Vec<i32> = ranked
        .iter()
        .rev()
        .take(group)
        .map(|a| a.attempt_id)
        .collect();
    let facility_of = |ids: &[i32], step: &str| {
        let answered: Vec<bool> = ids
            .iter()
            .filter_map(|id| correct.get(&(*id, step)).copied())
            .collect();
        percent(answered.iter().filter(|c| **c).count(), answered.len())
    };

    let items = module
        .questions()
        .enumerate()
        .map(|(i, (step, question))| {
            let all: Vec<i32> = attempts.iter().map(|a| a.attempt_id).collect();
            let facility = shown.then(|| facility_of(&all, &step.id));
            let discrimination = shown.then(|| {
                facility_of(&upper, &step.id) as i32 - facility_of(&lower, &step.id) as i32
            });
            let mut flags = Vec::new();
            if let Some(f) = facility {
                if f > TOO_EASY {
                    flags.push("too easy");
                }
                if f < TOO_HARD {
                    flags.push("too hard");
                }
            }
            if discrimination.is_some_and(|d| d < WEAK_DISCRIMINATION)
                && !flags.contains(&"too easy")
            {
                flags.push("does not discriminate");
            }
            ItemResult {
                number: i + 1,
                step_id: step.id.clone(),
                prompt: question.prompt.clone(),
                check: question.check,
                facility,
                discrimination,
                flags,
            }
        })
        .collect();
    ItemStatistics {
        module_slug: module.slug.clone(),
        module_title: module.title.clone(),
        suppressed: !shown,
        students: attempts.len(),
        items,
    }
}

/// Each school's whole groups of the minimum in finishing order, as the roll-ups count them: a
/// removed finisher's place (`vacated`, per school) still counts as a place and leaves its whole
/// group out, so no later finisher moves up into it. Taking whole groups per school, not across
/// the schools in scope, keeps a report of one school and a report of all schools from
/// differing by fewer students than the minimum.
fn included_attempts<'a>(
    module: &Module,
    finished: &'a [FinishedAttempt],
    vacated: &[(i32, NaiveDateTime)],
    min_group: usize,
) -> Vec<&'a FinishedAttempt> {
    let mut by_school: BTreeMap<i32, Vec<Place<'a, FinishedAttempt>>> = BTreeMap::new();
    for attempt in finished.iter().filter(|a| a.module_slug == module.slug) {
        by_school
            .entry(attempt.school_id)
            .or_default()
            .push((attempt.finished_at, Some((attempt.attempt_id, attempt))));
    }
    for (school_id, at) in vacated {
        by_school.entry(*school_id).or_default().push((*at, None));
    }
    let mut included: Vec<&FinishedAttempt> = by_school
        .into_values()
        .flat_map(|places| included_in_whole_groups(places, min_group))
        .collect();
    included.sort_by_key(|a| (a.finished_at, a.attempt_id));
    included
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curriculum::parse_module;

    fn module() -> Module {
        let text = include_str!("../../curriculum/fake-profiles/module.toml");
        parse_module("fake-profiles/module.toml", "fake-profiles", text).expect("bundled module")
    }

    /// `n` students: student i answers question q right when `right(i, q)`.
    fn data(
        module: &Module,
        n: i32,
        right: impl Fn(i32, usize) -> bool,
    ) -> (Vec<FinishedAttempt>, Vec<ResponseRecord>) {
        let questions: Vec<String> = module.questions().map(|(s, _)| s.id.clone()).collect();
        let mut attempts = Vec::new();
        let mut responses = Vec::new();
        for i in 0..n {
            let mut correct = 0;
            for (q, step) in questions.iter().enumerate() {
                let ok = right(i, q);
                correct += i32::from(ok);
                responses.push(ResponseRecord {
                    attempt_id: i,
                    step_id: step.clone(),
                    answer: BTreeSet::new(),
                    correct: ok,
                });
            }
            attempts.push(FinishedAttempt {
                attempt_id: i,
                school_id: 1,
                module_slug: module.slug.clone(),
                finished_at: chrono::DateTime::from_timestamp(1_800_000_000 + i64::from(i), 0)
                    .expect("time")
                    .naive_utc(),
                score: (correct, questions.len() as i32),
                checks: None,
            });
        }
        (attempts, responses)
    }

    /// Each question's facility and discrimination, for comparing two reports.
    fn figures(stats: &ItemStatistics) -> Vec<(Option<u32>, Option<i32>)> {
        stats
            .items
            .iter()
            .map(|i| (i.facility, i.discrimination))
            .collect()
    }

    #[test]
    fn easy_hard_and_non_discriminating_questions_are_flagged() {
        let module = module();
        // Q1: everyone right. Q2: nobody right. Q3: right only for the stronger half.
        // The rest: right for students 0..15 (the stronger ones), so they discriminate.
        let (attempts, responses) = data(&module, 30, |i, q| match q {
            0 => true,
            1 => false,
            2 => i % 2 == 0,
            _ => i < 15,
        });
        let stats = item_statistics(&module, &attempts, &[], &responses, 10);
        assert!(!stats.suppressed);
        assert_eq!(stats.students, 30);
        let q = |n: usize| &stats.items[n - 1];
        assert_eq!(q(1).facility, Some(100));
        assert_eq!(q(1).flags, ["too easy"]);
        assert_eq!(q(2).facility, Some(0));
        assert_eq!(q(2).flags, ["too hard", "does not discriminate"]);
        assert_eq!(q(4).discrimination, Some(100));
        assert!(q(4).flags.is_empty());
    }

    /// A school with 20 finishers and another with one who finished among them: the report
    /// across both must not differ from the first school's own by that one student, or the
    /// two reports side by side would show how they answered.
    #[test]
    fn a_small_school_cannot_be_read_from_the_difference_of_two_reports() {
        let module = module();
        let (mut attempts, responses) =
            data(&module, 21, |i, q| i == 20 || (i + q as i32) % 3 == 0);
        attempts[20].school_id = 2;
        attempts[20].finished_at = attempts[5].finished_at;
        let both = item_statistics(&module, &attempts, &[], &responses, 10);
        let first_school: Vec<FinishedAttempt> = attempts
            .iter()
            .filter(|a| a.school_id == 1)
            .cloned()
            .collect();
        let alone = item_statistics(&module, &first_school, &[], &responses, 10);
        assert_eq!(both.students, 20);
        assert_eq!(figures(&both), figures(&alone));
    }

    /// A removed finisher's place stays: the figures lose that whole group, and the next
    /// finisher does not move into it.
    #[test]
    fn a_removed_finishers_group_leaves_the_figures_whole() {
        let module = module();
        let (attempts, responses) = data(&module, 21, |i, q| (i + q as i32) % 2 == 0);
        let removed = attempts[3].clone();
        let kept: Vec<FinishedAttempt> = attempts
            .iter()
            .filter(|a| a.attempt_id != removed.attempt_id)
            .cloned()
            .collect();
        let stats = item_statistics(
            &module,
            &kept,
            &[(removed.school_id, removed.finished_at)],
            &responses,
            10,
        );
        // Places 1-10 hold the vacated one; places 11-20 are the second group; 21 waits.
        assert_eq!(stats.students, 10);
        let expected: Vec<FinishedAttempt> = attempts[10..20].to_vec();
        let alone = item_statistics(&module, &expected, &[], &responses, 10);
        assert_eq!(figures(&stats), figures(&alone));
    }

    #[test]
    fn nothing_is_shown_below_the_minimum() {
        let module = module();
        let (attempts, responses) = data(&module, 9, |_, _| true);
        let stats = item_statistics(&module, &attempts, &[], &responses, 10);
        assert!(stats.suppressed);
        assert!(
            stats
                .items
                .iter()
                .all(|i| i.facility.is_none() && i.discrimination.is_none())
        );
        assert!(stats.items.iter().all(|i| i.flags.is_empty()));
    }
}
