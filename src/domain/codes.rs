//! Join codes for classes and secret words for students: short, easy to read aloud and to type
//! on a Chromebook, with no look-alike characters.

use rand::RngExt;
use rand::seq::IndexedRandom;

/// A fresh random value for security stamps, tokens and keys, as hex.
pub fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// No 0/O, 1/I/L, 5/S or 8/B, which children (and adults) confuse.
const CODE_ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTUVWXY234679";
pub const CODE_LENGTH: usize = 6;

/// A class join code, normalised: upper case, no spaces or dashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinCode(String);

impl JoinCode {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let code = (0..CODE_LENGTH)
            .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
            .collect();
        Self(code)
    }

    /// Accepts what a student types: any case, spaces and dashes ignored.
    pub fn parse(input: &str) -> Result<Self, String> {
        let code: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if code.len() != CODE_LENGTH || !code.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
            return Err(format!(
                "A class code has {CODE_LENGTH} letters and numbers, like HK4-MPR. Check the code on your card."
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Split in two for reading aloud: `HK4-MPR`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..3], &self.0[3..])
    }
}

const COLOURS: &[&str] = &[
    "red", "blue", "green", "yellow", "orange", "purple", "pink", "silver", "gold", "brown",
    "sunny", "happy", "brave", "quiet", "quick", "gentle", "lucky", "fuzzy", "shiny", "jolly",
];
const THINGS: &[&str] = &[
    "apple", "tiger", "rocket", "turtle", "banana", "dolphin", "pencil", "rabbit", "cloud",
    "garden", "panda", "kitten", "puppy", "river", "forest", "planet", "button", "castle", "lemon",
    "otter", "whale", "zebra", "robot", "star", "moon", "train", "kite", "drum", "owl", "bear",
];

/// A secret made of two short words and a number, e.g. `brave otter 427`: 540,000 possibilities
/// within one class, behind sign-in rate limits.
pub fn generate_secret() -> String {
    let mut rng = rand::rng();
    let colour = COLOURS.choose(&mut rng).copied().unwrap_or("blue");
    let thing = THINGS.choose(&mut rng).copied().unwrap_or("otter");
    let number: u16 = rng.random_range(100..1000);
    format!("{colour} {thing} {number}")
}

/// Compares what a student typed with their secret: case and extra spaces do not matter.
pub fn secret_matches(secret: &str, typed: &str) -> bool {
    let normalise = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let (a, b) = (normalise(secret), normalise(typed));
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_parse_back_in_any_typing() {
        for _ in 0..100 {
            let code = JoinCode::generate();
            assert_eq!(
                JoinCode::parse(&code.display().to_lowercase()),
                Ok(code.clone())
            );
        }
    }

    #[test]
    fn ambiguous_or_short_codes_are_refused() {
        assert!(JoinCode::parse("HK0MPR").is_err());
        assert!(JoinCode::parse("HK4MP").is_err());
        assert!(JoinCode::parse("").is_err());
    }

    #[test]
    fn secrets_match_loosely_but_not_wrongly() {
        let secret = generate_secret();
        assert!(secret_matches(
            &secret,
            &format!("  {}  ", secret.to_uppercase())
        ));
        assert!(!secret_matches("brave otter 427", "brave otter 428"));
    }
}
