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
