//! Domain rules with no HTTP or database types: class codes and student secrets, scoring of
//! answers, and the aggregate results with small-group suppression.

pub mod codes;
pub mod input;
pub mod items;
pub mod results;
pub mod retention;
pub mod rollup;
pub mod scoring;

/// `part` as a whole-number percentage of `whole`, rounded; 0 when `whole` is 0.
pub fn percent(part: usize, whole: usize) -> u32 {
    (part * 100 + whole / 2)
        .checked_div(whole)
        .map_or(0, |p| p.min(100) as u32)
}

/// One place in a finishing order: when, and the finisher with the id that orders same-time
/// finishers; `None` for the place a removed finisher left (see `included_in_whole_groups`).
pub type Place<'a, T> = (chrono::NaiveDateTime, Option<(i32, &'a T)>);

/// The finishers that figures may cover: whole groups of `min_group` places in finishing order,
/// leaving out every group that holds a vacated place. A removed finisher therefore takes their
/// whole group out of the figures and never lets a later finisher move up into it, so two
/// reports, before and after, differ by whole groups. Within one second, vacated places sort
/// first: the exact order there is not kept (a known limit on databases that store seconds).
pub fn included_in_whole_groups<'a, T>(
    mut places: Vec<Place<'a, T>>,
    min_group: usize,
) -> Vec<&'a T> {
    places.sort_by_key(|(at, finisher)| (*at, finisher.map(|(id, _)| id)));
    places
        .chunks_exact(min_group.max(1))
        .filter(|group| group.iter().all(|(_, finisher)| finisher.is_some()))
        .flat_map(|group| {
            group
                .iter()
                .filter_map(|(_, finisher)| finisher.map(|(_, f)| f))
        })
        .collect()
}

/// Text someone typed, made safe for a CSV cell: a spreadsheet would run a cell that starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return as a formula, so such a cell gets a leading `'`.
pub fn spreadsheet_safe(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn typed_text_never_becomes_a_spreadsheet_formula() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(
                super::spreadsheet_safe(formula).starts_with('\''),
                "{formula:?}"
            );
        }
        for plain in ["Ana", "Mary-Jo", "", "O'Neil"] {
            assert_eq!(super::spreadsheet_safe(plain), plain);
        }
    }

    #[test]
    fn percent_rounds_and_survives_zero() {
        assert_eq!(super::percent(1, 3), 33);
        assert_eq!(super::percent(2, 3), 67);
        assert_eq!(super::percent(5, 0), 0);
        assert_eq!(super::percent(7, 7), 100);
    }
}
