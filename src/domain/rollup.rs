//! Roll-up reports across classes and schools: participation, completion, average score and
//! knowledge gain per school and module, for school administrators, the district and
//! prevention partners. The rule of the class report holds here with a larger group
//! (`rollup_min_group_size`, 10 by default): counts appear only for groups of at least that many
//! students, and figures cover whole groups of finished students in finishing order, so two
//! reports differ by a whole group or not at all. Periods are fixed (school years and terms),
//! never arbitrary dates, so that no two windows can be slid against each other to single out
//! a student.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::percent;
use super::results::GainResult;
use crate::curriculum::Module;

/// A school year runs from August 1 to July 31; its fall term ends December 31.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    All,
    SchoolYear(i32),
    Fall(i32),
    Spring(i32),
}

impl Period {
    /// `all`, `2026-27`, `2026-27-fall` or `2026-27-spring`.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if value.is_empty() || value == "all" {
            return Some(Period::All);
        }
        let (year, term) = match value.split_once("-fall") {
            Some((year, "")) => (year, "fall"),
            _ => match value.split_once("-spring") {
                Some((year, "")) => (year, "spring"),
                _ => (value, ""),
            },
        };
        let (start, end) = year.split_once('-')?;
        let start: i32 = start.parse().ok()?;
        let end: i32 = end.parse().ok()?;
        if end != (start + 1) % 100 || !(2000..=2100).contains(&start) {
            return None;
        }
        Some(match term {
            "fall" => Period::Fall(start),
            "spring" => Period::Spring(start),
            _ => Period::SchoolYear(start),
        })
    }

    pub fn code(self) -> String {
        match self {
            Period::All => "all".into(),
            Period::SchoolYear(y) => format!("{y}-{:02}", (y + 1) % 100),
            Period::Fall(y) => format!("{y}-{:02}-fall", (y + 1) % 100),
            Period::Spring(y) => format!("{y}-{:02}-spring", (y + 1) % 100),
        }
    }

    pub fn label(self) -> String {
        match self {
            Period::All => "All time".into(),
            Period::SchoolYear(y) => format!("School year {y}-{:02}", (y + 1) % 100),
            Period::Fall(y) => format!("Fall term {y}"),
            Period::Spring(y) => format!("Spring term {}", y + 1),
        }
    }

    /// The period as a half-open range of times, or `None` for all time.
    pub fn bounds(self) -> Option<(NaiveDateTime, NaiveDateTime)> {
        let at = |y: i32, m: u32| {
            NaiveDate::from_ymd_opt(y, m, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or_default()
        };
        match self {
            Period::All => None,
            Period::SchoolYear(y) => Some((at(y, 8), at(y + 1, 8))),
            Period::Fall(y) => Some((at(y, 8), at(y + 1, 1))),
            Period::Spring(y) => Some((at(y + 1, 1), at(y + 1, 8))),
        }
    }

    /// The school year a date falls in (by its starting calendar year).
    pub fn school_year_of(date: NaiveDate) -> i32 {
        if date.month() >= 8 {
            date.year()
        } else {
            date.year() - 1
        }
    }

    pub fn contains(self, at: NaiveDateTime) -> bool {
        let year = Self::school_year_of(at.date());
        match self {
            Period::All => true,
            Period::SchoolYear(y) => year == y,
            Period::Fall(y) => year == y && at.month() >= 8,
            Period::Spring(y) => year == y && at.month() < 8,
        }
    }

    /// This school year and the two before it, each with its terms, newest first.
    pub fn choices(today: NaiveDate) -> Vec<Period> {
        let current = Self::school_year_of(today);
        let mut periods = vec![Period::All];
        for year in (current - 2..=current).rev() {
            periods.extend([
                Period::SchoolYear(year),
                Period::Fall(year),
                Period::Spring(year),
            ]);
        }
        periods
    }
}

/// One finished attempt, with where it belongs.
#[derive(Debug, Clone)]
pub struct FinishedAttempt {
    pub attempt_id: i32,
    pub school_id: i32,
    pub module_slug: String,
    pub finished_at: NaiveDateTime,
    /// (correct, total)
    pub score: (i32, i32),
    /// Knowledge checks: (total, right before, right after), when answered both times.
    pub checks: Option<(i32, i32, i32)>,
}

/// How many students a school was assigned a module and how many started it.
#[derive(Debug, Clone, Default)]
pub struct Participation {
    pub assigned: usize,
    pub started: usize,
}

#[derive(Debug, Serialize)]
pub struct RollupRow {
    /// `None` for the row that sums every school in the report.
    pub school: Option<String>,
    pub module_slug: String,
    pub module_title: String,
    pub tier: String,
    /// Counts are hidden for fewer assigned students than the minimum.
    pub counts_suppressed: bool,
    pub assigned: Option<usize>,
    pub started: Option<usize>,
    pub finished: Option<usize>,
    pub participation_percent: Option<u32>,
    pub completion_percent: Option<u32>,
    /// Figures cover this many finished students: whole groups of the minimum.
    pub included: usize,
    pub suppressed: bool,
    pub average_score_percent: Option<u32>,
    pub gain: GainResult,
}

/// What one school's finished attempts at one module add up to. Computed by the database for
/// whole districts (`db::queries::reports::group_figures`) and by `figures_of` here; the two
/// must agree, and a test checks that they do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupFigures {
    pub finished: usize,
    /// The first whole groups of the minimum, in finishing order.
    pub included: usize,
    /// Sum of (correct / total) over the included attempts that had questions.
    pub score_sum: f64,
    pub scored: usize,
    /// Included attempts with knowledge checks answered both times, and their sums.
    pub matched: usize,
    pub check_total: i64,
    pub check_before: i64,
    pub check_after: i64,
}

impl GroupFigures {
    fn add(&mut self, other: &GroupFigures) {
        self.finished += other.finished;
        self.included += other.included;
        self.score_sum += other.score_sum;
        self.scored += other.scored;
        self.matched += other.matched;
        self.check_total += other.check_total;
        self.check_before += other.check_before;
        self.check_after += other.check_after;
    }
}

/// The figures of one group of finished attempts.
pub fn figures_of(attempts: &[&FinishedAttempt], min_group: usize) -> GroupFigures {
    let mut sorted = attempts.to_vec();
    sorted.sort_by_key(|a| (a.finished_at, a.attempt_id));
    let run = IncludedRun::of(1, sorted.len() as i64, min_group);
    let sums = sorted[..run.included as usize]
        .iter()
        .fold(RunningSums::default(), |sums, a| {
            sums.plus(RunningSums::of_attempt(a.score, a.checks))
        });
    run.figures(sums)
}

/// Sums over finished attempts in finishing order. The database keeps them running, one row per
/// attempt (`rollup_entries`), so that the figures of any run of attempts are the difference of
/// two rows instead of a scan.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunningSums {
    pub scored: i64,
    pub score_sum: f64,
    pub matched: i64,
    pub check_total: i64,
    pub check_before: i64,
    pub check_after: i64,
    /// Places kept for removed attempts (opt-outs, deleted students, unassigned modules): they
    /// count nothing, and a group of the minimum that holds one is left out of the figures.
    pub vacated: i64,
}

impl RunningSums {
    /// One attempt's share: its score (correct, total) and its checks (total, before, after).
    pub fn of_attempt(score: (i32, i32), checks: Option<(i32, i32, i32)>) -> Self {
        let mut sums = RunningSums::default();
        if score.1 > 0 {
            sums.scored = 1;
            sums.score_sum = f64::from(score.0) / f64::from(score.1);
        }
        if let Some((total, before, after)) = checks {
            sums.matched = 1;
            sums.check_total = i64::from(total);
            sums.check_before = i64::from(before);
            sums.check_after = i64::from(after);
        }
        sums
    }

    pub fn plus(self, other: RunningSums) -> Self {
        RunningSums {
            scored: self.scored + other.scored,
            score_sum: self.score_sum + other.score_sum,
            matched: self.matched + other.matched,
            check_total: self.check_total + other.check_total,
            check_before: self.check_before + other.check_before,
            check_after: self.check_after + other.check_after,
            vacated: self.vacated + other.vacated,
        }
    }

    pub fn minus(self, earlier: RunningSums) -> Self {
        RunningSums {
            scored: self.scored - earlier.scored,
            score_sum: self.score_sum - earlier.score_sum,
            matched: self.matched - earlier.matched,
            check_total: self.check_total - earlier.check_total,
            check_before: self.check_before - earlier.check_before,
            check_after: self.check_after - earlier.check_after,
            vacated: self.vacated - earlier.vacated,
        }
    }
}

/// The sums of a run's whole groups that hold no vacated place, and how many such groups there
/// are, from the running sums at every group boundary: the position before the run, then every
/// `min_group` positions. Leaving out a whole group when one of its students is removed keeps
/// any two reports, before and after, from differing by fewer students than the minimum.
pub fn sums_of_whole_groups(boundaries: &[RunningSums]) -> (RunningSums, usize) {
    boundaries
        .windows(2)
        .map(|pair| pair[1].minus(pair[0]))
        .filter(|group| group.vacated == 0)
        .fold((RunningSums::default(), 0), |(sums, kept), group| {
            (sums.plus(group), kept + 1)
        })
}

/// Which of a group's finished attempts a report counts: of the run at positions
/// `first..=last` in finishing order (from 1), the first whole groups of the minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncludedRun {
    pub finished: i64,
    pub included: i64,
    /// The position just before the run, whose running sums are subtracted (0: none).
    pub before: i64,
    /// The position of the last included attempt (`before` when none is included).
    pub last_included: i64,
}

impl IncludedRun {
    pub fn of(first: i64, last: i64, min_group: usize) -> Self {
        let min_group = min_group.max(1) as i64;
        let finished = (last - first + 1).max(0);
        let included = finished - finished % min_group;
        IncludedRun {
            finished,
            included,
            before: first - 1,
            last_included: first - 1 + included,
        }
    }

    /// The figures, given the sums of the included attempts.
    pub fn figures(self, sums: RunningSums) -> GroupFigures {
        let count = |n: i64| n.max(0) as usize;
        GroupFigures {
            finished: count(self.finished),
            included: count(self.included),
            score_sum: sums.score_sum,
            scored: count(sums.scored),
            matched: count(sums.matched),
            check_total: sums.check_total,
            check_before: sums.check_before,
            check_after: sums.check_after,
        }
    }
}

/// Everything a roll-up needs, already narrowed to the schools, modules and period asked for.
pub struct RollupInput<'a> {
    pub modules: Vec<&'a Module>,
    pub schools: BTreeMap<i32, String>,
    /// Per (school, module slug).
    pub participation: BTreeMap<(i32, String), Participation>,
    pub figures: BTreeMap<(i32, String), GroupFigures>,
    pub min_group: usize,
}

/// One row per school and module with any assigned students, then one row per module for all
/// schools together. The total is built from what the school rows show and nothing else, so
/// that a hidden school cannot be worked out by subtracting the others from the total.
pub fn rollup(input: &RollupInput<'_>) -> Vec<RollupRow> {
    let min_group = input.min_group.max(1);
    let none = GroupFigures::default();
    let mut rows = Vec::new();
    for module in &input.modules {
        let mut shown_counts = Participation::default();
        let mut shown = GroupFigures::default();
        let mut any_school = false;
        for (school_id, school) in &input.schools {
            let key = (*school_id, module.slug.clone());
            let Some(participation) = input.participation.get(&key) else {
                continue;
            };
            any_school = true;
            let figures = input.figures.get(&key).unwrap_or(&none);
            let counts_shown = participation.assigned >= min_group;
            if counts_shown {
                shown_counts.assigned += participation.assigned;
                shown_counts.started += participation.started;
                shown.add(&visible_part(figures, min_group));
            }
            rows.push(row(
                module,
                Some(school.clone()),
                counts_shown.then_some(participation),
                if counts_shown { figures } else { &none },
                min_group,
            ));
        }
        if any_school {
            let counts_shown = shown_counts.assigned >= min_group;
            rows.push(row(
                module,
                None,
                counts_shown.then_some(&shown_counts),
                &shown,
                min_group,
            ));
        }
    }
    rows
}

/// What a school's row shows of its figures: its knowledge checks count towards the total only
/// when the row shows its gain, so that a hidden gain cannot be worked out from the total.
fn visible_part(figures: &GroupFigures, min_group: usize) -> GroupFigures {
    if figures.included >= min_group && figures.matched >= min_group {
        figures.clone()
    } else {
        GroupFigures {
            matched: 0,
            check_total: 0,
            check_before: 0,
            check_after: 0,
            ..figures.clone()
        }
    }
}

/// A row from its counts (`None` when hidden) and the figures of the attempts it covers.
fn row(
    module: &Module,
    school: Option<String>,
    counts: Option<&Participation>,
    figures: &GroupFigures,
    min_group: usize,
) -> RollupRow {
    let shown = figures.included >= min_group;
    let average_score_percent = (shown && figures.scored > 0)
        .then(|| (figures.score_sum * 100.0 / figures.scored as f64).round() as u32);
    let finished = figures.finished;
    RollupRow {
        school,
        module_slug: module.slug.clone(),
        module_title: module.title.clone(),
        tier: module.tier.to_string(),
        counts_suppressed: counts.is_none(),
        assigned: counts.map(|p| p.assigned),
        started: counts.map(|p| p.started),
        finished: counts.map(|_| finished),
        participation_percent: counts.map(|p| percent(p.started, p.assigned)),
        completion_percent: counts.map(|p| percent(finished, p.assigned)),
        included: if shown { figures.included } else { 0 },
        suppressed: !shown,
        average_score_percent,
        gain: gain_of(figures, shown, min_group),
    }
}

/// Share right on the knowledge checks before and after, over the included students who
/// answered every check both times; hidden when fewer than `min_group` did.
fn gain_of(figures: &GroupFigures, included_shown: bool, min_group: usize) -> GainResult {
    let shown = included_shown && figures.matched >= min_group;
    let share = |right: i64| {
        shown.then(|| percent(right.max(0) as usize, figures.check_total.max(0) as usize))
    };
    let before_percent = share(figures.check_before);
    let after_percent = share(figures.check_after);
    GainResult {
        suppressed: !shown,
        matched: shown.then_some(figures.matched),
        change: before_percent
            .zip(after_percent)
            .map(|(b, a)| a as i32 - b as i32),
        before_percent,
        after_percent,
        items: Vec::new(),
    }
}

impl RollupRow {
    pub fn csv_header() -> [&'static str; 13] {
        [
            "school",
            "module",
            "grades",
            "assigned",
            "started",
            "finished",
            "participation %",
            "completion %",
            "students in figures",
            "average score %",
            "knowledge checks before %",
            "knowledge checks after %",
            "students compared",
        ]
    }

    pub fn csv_record(&self) -> [String; 13] {
        let n = |v: Option<usize>| v.map(|v| v.to_string()).unwrap_or_default();
        let p = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
        [
            self.school
                .as_deref()
                .map_or_else(|| "All schools".into(), super::spreadsheet_safe),
            self.module_title.clone(),
            self.tier.clone(),
            n(self.assigned),
            n(self.started),
            n(self.finished),
            p(self.participation_percent),
            p(self.completion_percent),
            self.included.to_string(),
            p(self.average_score_percent),
            p(self.gain.before_percent),
            p(self.gain.after_percent),
            n(self.gain.matched),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .expect("date")
            .and_hms_opt(10, 0, 0)
            .expect("time")
    }

    #[test]
    fn periods_are_school_years_and_terms() {
        assert_eq!(Period::parse("2026-27"), Some(Period::SchoolYear(2026)));
        assert_eq!(Period::parse("2026-27-fall"), Some(Period::Fall(2026)));
        assert_eq!(Period::parse("2026-27-spring"), Some(Period::Spring(2026)));
        assert_eq!(Period::parse(""), Some(Period::All));
        for bad in ["2026", "2026-28", "2026-27-winter", "x-y", "1900-01"] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        for period in Period::choices(date(2026, 11, 24).date()) {
            assert_eq!(Period::parse(&period.code()), Some(period));
        }
        assert!(Period::Fall(2026).contains(date(2026, 8, 1)));
        assert!(Period::Spring(2026).contains(date(2027, 7, 31)));
        assert!(!Period::SchoolYear(2026).contains(date(2026, 7, 31)));
        assert!(Period::SchoolYear(2025).contains(date(2026, 7, 31)));
        for period in Period::choices(date(2026, 11, 24).date()) {
            for at in [
                date(2026, 7, 31),
                date(2026, 8, 1),
                date(2026, 12, 31),
                date(2027, 1, 1),
                date(2027, 7, 31),
            ] {
                let in_bounds = period
                    .bounds()
                    .is_none_or(|(from, to)| from <= at && at < to);
                assert_eq!(in_bounds, period.contains(at), "{period:?} {at}");
            }
        }
    }

    use crate::curriculum::parse_module;
    use proptest::prelude::*;

    fn module() -> Module {
        let text = include_str!("../../curriculum/fake-profiles/module.toml");
        parse_module("fake-profiles/module.toml", "fake-profiles", text).expect("bundled module")
    }

    /// Schools as (assigned, finished scores in percent) with finishing times interleaved.
    fn input_for<'a>(
        module: &'a Module,
        schools: &[(usize, Vec<u8>)],
        min_group: usize,
    ) -> RollupInput<'a> {
        let mut participation = BTreeMap::new();
        let mut finished = Vec::new();
        let mut names = BTreeMap::new();
        for (i, (assigned, scores)) in schools.iter().enumerate() {
            let school_id = i as i32 + 1;
            names.insert(school_id, format!("School {school_id}"));
            let assigned = (*assigned).max(scores.len());
            participation.insert(
                (school_id, module.slug.clone()),
                Participation {
                    assigned,
                    started: scores.len(),
                },
            );
            for (j, score) in scores.iter().enumerate() {
                finished.push(FinishedAttempt {
                    attempt_id: (school_id * 1000) + j as i32,
                    school_id,
                    module_slug: module.slug.clone(),
                    // Schools' students finish interleaved with each other.
                    finished_at: date(2026, 9, 1)
                        + chrono::Duration::minutes((j * 7 + i * 3) as i64),
                    score: (i32::from(*score), 100),
                    // Some students skip the checks before the lesson, so that a school's
                    // gain can be hidden while its scores are shown.
                    checks: (score % 3 != 0).then(|| (4, i32::from(score % 5).min(4), 3)),
                });
            }
        }
        let mut figures = BTreeMap::new();
        for school_id in names.keys() {
            let group: Vec<&FinishedAttempt> = finished
                .iter()
                .filter(|a| a.school_id == *school_id)
                .collect();
            figures.insert(
                (*school_id, module.slug.clone()),
                figures_of(&group, min_group),
            );
        }
        RollupInput {
            modules: vec![module],
            schools: names,
            participation,
            figures,
            min_group,
        }
    }

    #[test]
    fn a_group_with_a_vacated_place_is_left_out_whole() {
        let attempt = RunningSums::of_attempt((1, 1), Some((4, 1, 3)));
        let vacated = RunningSums {
            vacated: 1,
            ..RunningSums::default()
        };
        // Groups of two: [attempt, vacated], [attempt, attempt], [attempt, attempt].
        let places = [attempt, vacated, attempt, attempt, attempt, attempt];
        let boundaries: Vec<RunningSums> = std::iter::once(RunningSums::default())
            .chain(places.iter().scan(RunningSums::default(), |sums, p| {
                *sums = sums.plus(*p);
                Some(*sums)
            }))
            .step_by(2)
            .collect();
        let (sums, kept) = sums_of_whole_groups(&boundaries);
        assert_eq!(kept, 2);
        assert_eq!((sums.scored, sums.matched, sums.check_after), (4, 4, 12));
        assert_eq!(sums.vacated, 0);
    }

    proptest! {
        #[test]
        fn no_figure_covers_a_group_below_the_minimum(
            schools in prop::collection::vec((0usize..30, prop::collection::vec(0u8..=100, 0..25)), 1..5),
            min_group in 2usize..12,
        ) {
            let module = module();
            let rows = rollup(&input_for(&module, &schools, min_group));
            for row in &rows {
                prop_assert!(row.included.is_multiple_of(min_group));
                prop_assert_eq!(row.suppressed, row.included == 0);
                prop_assert_eq!(row.average_score_percent.is_some(), row.included >= min_group);
                if let Some(assigned) = row.assigned {
                    prop_assert!(assigned >= min_group);
                }
            }
        }

        /// What the database does with its running sums (the difference of two rows) gives the
        /// same figures as adding up the attempts of any run one by one.
        #[test]
        fn running_sums_give_the_figures_of_any_run(
            attempts in prop::collection::vec((0i32..=10, 0i32..=10, prop::option::of((1i32..=5, 0i32..=5, 0i32..=5))), 0..60),
            window in (0usize..60, 0usize..60),
            min_group in 1usize..12,
        ) {
            let attempts: Vec<FinishedAttempt> = attempts
                .iter()
                .enumerate()
                .map(|(i, (correct, total, checks))| FinishedAttempt {
                    attempt_id: i as i32,
                    school_id: 1,
                    module_slug: "m".into(),
                    finished_at: date(2026, 9, 1) + chrono::Duration::minutes(i as i64),
                    score: ((*correct).min(*total), *total),
                    checks: *checks,
                })
                .collect();
            let running: Vec<RunningSums> = attempts
                .iter()
                .scan(RunningSums::default(), |sums, a| {
                    *sums = sums.plus(RunningSums::of_attempt(a.score, a.checks));
                    Some(*sums)
                })
                .collect();
            let at = |position: i64| {
                if position == 0 { RunningSums::default() } else { running[position as usize - 1] }
            };
            let first = window.0.min(attempts.len()) + 1;
            let last = window.1.min(attempts.len()).max(first - 1);
            let run = IncludedRun::of(first as i64, last as i64, min_group);
            let from_sums = run.figures(at(run.last_included).minus(at(run.before)));
            let slice: Vec<&FinishedAttempt> = attempts[first - 1..last].iter().collect();
            let mut added = figures_of(&slice, min_group);
            prop_assert!((from_sums.score_sum - added.score_sum).abs() < 1e-9);
            added.score_sum = from_sums.score_sum;
            prop_assert_eq!(from_sums, added);
        }

        #[test]
        fn the_total_is_only_what_the_school_rows_show(
            schools in prop::collection::vec((0usize..30, prop::collection::vec(0u8..=100, 0..25)), 1..5),
            min_group in 2usize..12,
        ) {
            let module = module();
            let rows = rollup(&input_for(&module, &schools, min_group));
            let (total, per_school) = rows.split_last().expect("a total row");
            prop_assert!(total.school.is_none());
            let sum = |pick: fn(&RollupRow) -> Option<usize>| per_school.iter().filter_map(pick).sum::<usize>();
            let shown_assigned = sum(|r| r.assigned);
            if total.assigned.is_some() {
                prop_assert_eq!(total.assigned, Some(shown_assigned));
                prop_assert_eq!(total.finished, Some(sum(|r| r.finished)));
            } else {
                prop_assert!(shown_assigned < min_group);
            }
            // The total's figures cover exactly the students the school rows' figures cover.
            let included: usize = per_school.iter().map(|r| r.included).sum();
            if included >= min_group {
                prop_assert_eq!(total.included, included);
                let weighted: f64 = per_school
                    .iter()
                    .filter_map(|r| Some(f64::from(r.average_score_percent?) * r.included as f64))
                    .sum::<f64>() / included as f64;
                let average = f64::from(total.average_score_percent.expect("shown"));
                prop_assert!((average - weighted).abs() <= 1.0, "{} vs {}", average, weighted);
            } else {
                prop_assert!(total.suppressed);
            }
            // The total's gain covers exactly the students the school rows' gains cover.
            let matched: usize = per_school.iter().filter_map(|r| r.gain.matched).sum();
            if matched >= min_group {
                prop_assert_eq!(total.gain.matched, Some(matched));
            } else {
                prop_assert!(total.gain.suppressed);
            }
        }
    }
}
