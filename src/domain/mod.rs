//! Domain rules with no HTTP or database types: class codes and student secrets, scoring of
//! answers, and the aggregate results with small-group suppression.

pub mod codes;
pub mod input;
pub mod items;
pub mod results;
pub mod rollup;
pub mod scoring;

/// `part` as a whole-number percentage of `whole`, rounded; 0 when `whole` is 0.
pub fn percent(part: usize, whole: usize) -> u32 {
    (part * 100 + whole / 2)
        .checked_div(whole)
        .map_or(0, |p| p.min(100) as u32)
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_rounds_and_survives_zero() {
        assert_eq!(super::percent(1, 3), 33);
        assert_eq!(super::percent(2, 3), 67);
        assert_eq!(super::percent(5, 0), 0);
        assert_eq!(super::percent(7, 7), 100);
    }
}
