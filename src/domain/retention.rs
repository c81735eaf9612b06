//! When a class's student data is removed. A class ends when its teacher ends it; otherwise it
//! ends on 1 August after the school year of its latest activity, so a class still in use is
//! never cut off. The data goes the configured number of days later.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use super::rollup::Period;

/// The moment a class ends: its explicit end, else the start of the school year after the one
/// of its last activity.
pub fn class_ends(ended_at: Option<NaiveDateTime>, last_activity: NaiveDateTime) -> NaiveDateTime {
    ended_at.unwrap_or_else(|| {
        let next_year = Period::school_year_of(last_activity.date()) + 1;
        NaiveDate::from_ymd_opt(next_year, 8, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or(NaiveDateTime::MAX)
    })
}

/// The moment its student data is due for removal.
pub fn purge_due(
    ended_at: Option<NaiveDateTime>,
    last_activity: NaiveDateTime,
    retention_days: u32,
) -> NaiveDateTime {
    class_ends(ended_at, last_activity)
        .checked_add_signed(TimeDelta::days(i64::from(retention_days)))
        .unwrap_or(NaiveDateTime::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(10, 30, 0))
            .expect("valid date")
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("valid date")
    }

    #[test]
    fn a_class_ends_with_the_school_year_of_its_last_activity() {
        assert_eq!(class_ends(None, at(2025, 9, 10)), day(2026, 8, 1));
        assert_eq!(class_ends(None, at(2026, 7, 31)), day(2026, 8, 1));
        assert_eq!(class_ends(None, at(2026, 8, 1)), day(2027, 8, 1));
    }

    #[test]
    fn an_explicit_end_wins() {
        assert_eq!(
            class_ends(Some(at(2026, 3, 2)), at(2026, 5, 1)),
            at(2026, 3, 2)
        );
    }

    #[test]
    fn data_goes_the_retention_period_after_the_end() {
        assert_eq!(purge_due(None, at(2025, 9, 10), 180), day(2027, 1, 28));
        assert_eq!(
            purge_due(Some(at(2026, 3, 2)), at(2026, 3, 1), 0),
            at(2026, 3, 2)
        );
        assert_eq!(
            purge_due(Some(NaiveDateTime::MAX), at(2026, 3, 1), 30),
            NaiveDateTime::MAX
        );
    }
}
