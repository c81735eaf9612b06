//! Parsing what people type into values that are valid from then on. Each error says what to fix.

use chrono::NaiveDate;

/// A staff email address, lower-cased. Deliberately loose: the mail server is the real judge.
pub fn parse_email(input: &str) -> Result<String, String> {
    let email = input.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if valid {
        Ok(email)
    } else {
        Err(format!(
            "{:?} is not an email address like name@school.org.",
            input.trim()
        ))
    }
}

/// A name for a person or a class: trimmed, single-spaced, 1 to `max` characters.
pub fn parse_name(input: &str, what: &str, max: usize) -> Result<String, String> {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    // Counted as typed, spaces included, so the limit is the one the API schema states.
    if input.chars().count() > max {
        return Err(format!(
            "The {what} {name:?} is longer than {max} characters (spaces included): shorten it."
        ));
    }
    if name.is_empty() {
        return Err(format!("Enter a {what}."));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("The {what} cannot contain control characters."));
    }
    Ok(name)
}

/// A student's display name (no surname needed: a first name and an initial is enough).
pub fn parse_student_name(input: &str) -> Result<String, String> {
    parse_name(input, "student name", 60)
}

/// Student names pasted one per line; blank lines are skipped.
pub fn parse_student_names(input: &str) -> Result<Vec<String>, String> {
    let names = input
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(parse_student_name)
        .collect::<Result<Vec<_>, _>>()?;
    if names.is_empty() {
        return Err("Enter at least one student name, one per line.".into());
    }
    if names.len() > 100 {
        return Err(format!(
            "Add at most 100 students at a time ({} entered).",
            names.len()
        ));
    }
    Ok(names)
}

/// An optional due date from a date field (`YYYY-MM-DD`); empty means none.
pub fn parse_due_date(input: &str) -> Result<Option<NaiveDate>, String> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    let not_a_date = || format!("{input:?} is not a date: use the form 2026-12-31.");
    // chrono alone would also take 2026-1-5; the form is exactly YYYY-MM-DD.
    let shape_ok = input.len() == 10
        && input.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(not_a_date());
    }
    NaiveDate::parse_from_str(input, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| not_a_date())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            parse_email(" Ana@School.ORG ").as_deref(),
            Ok("ana@school.org")
        );
        assert!(parse_email("ana").is_err());
        assert!(parse_email("ana @school.org").is_err());
        assert!(parse_email("@school.org").is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_student_name("  Ana   M. ").as_deref(), Ok("Ana M."));
        assert!(parse_student_name("   ").is_err());
        assert!(parse_student_name(&"x".repeat(61)).is_err());
        assert!(
            parse_student_name(&format!("Ana{}", " ".repeat(58))).is_err(),
            "the limit counts what was typed"
        );
        assert!(parse_student_name("Ana\u{7}").is_err());
        assert_eq!(
            parse_student_names("Ana\n\n Ben \n").expect("names"),
            vec!["Ana", "Ben"]
        );
        assert!(parse_student_names("\n \n").is_err());
    }

    #[test]
    fn due_dates_are_optional_iso_dates() {
        assert_eq!(parse_due_date(""), Ok(None));
        assert!(parse_due_date("2026-12-31").expect("date").is_some());
        assert!(parse_due_date("31/12/2026").is_err());
        assert!(parse_due_date("2026-1-5").is_err());
        assert!(parse_due_date("2026-02-30").is_err());
        assert!(parse_due_date("+2026-12-31").is_err());
    }
}
