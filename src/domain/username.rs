//! The username rule of SPEC §5.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::{case_key, messages};

pub const MAX_CHARS: usize = 150;
const INVALID: &str = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";

/// A username that passed the rules: trimmed, NFKC-normalised, 1–150 letters,
/// digits (any script) and `@ . + - _`.
#[derive(Clone, PartialEq, Eq)]
pub struct Username {
    value: String,
    key: String,
}

impl Username {
    /// Parses a username as typed by a person. The error lists every rule it broke.
    pub fn parse(raw: &str) -> Result<Self, Vec<String>> {
        let value: String = raw.trim().nfkc().collect();
        // NFKC can expose new outer whitespace (e.g. U+3000 becomes a space).
        let value = value.trim().to_owned();
        if value.is_empty() {
            return Err(vec![messages::BLANK.to_owned()]);
        }
        let mut errors = Vec::new();
        if value.chars().count() > MAX_CHARS {
            errors.push(format!(
                "Ensure this field has no more than {MAX_CHARS} characters."
            ));
        }
        let mut chars = value.chars();
        let first_ok = chars.next().is_some_and(is_username_char);
        // Combining marks (Devanagari vowel signs, Thai tone marks …) belong
        // to the letter before them; they may not start a name.
        if !first_ok || !chars.all(|c| is_username_char(c) || is_combining_mark(c)) {
            errors.push(INVALID.to_owned());
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let key = case_key(&value);
        Ok(Self { value, key })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The case-folded form that uniqueness and login are decided on.
    pub fn key(&self) -> &str {
        &self.key
    }
}

fn is_username_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-' | '_')
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Username").field(&self.value).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_normalises() {
        let name = Username::parse("  ｊｏｈｎ  ").unwrap();
        assert_eq!(name.as_str(), "john");
        assert_eq!(name.key(), "john");
    }

    #[test]
    fn key_is_case_folded() {
        assert_eq!(Username::parse("Alice").unwrap().key(), "alice");
        assert_eq!(
            Username::parse("STRASSE").unwrap().key(),
            Username::parse("straße").unwrap().key()
        );
    }

    #[test]
    fn accepts_any_script_and_punctuation() {
        for ok in [
            "łukasz",
            "Иван",
            "山田",
            "a.b+c-d_e@f",
            "١٢٣",
            "हिन्दी",
            "สมชาย",
        ] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_bad_characters_and_lengths() {
        for bad in [
            "a b",
            "semi;colon",
            "slash/",
            "emoji😀",
            "tab\there",
            "nul\0",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Username::parse(&"a".repeat(150)).is_ok());
        assert!(Username::parse(&"a".repeat(151)).is_err());
        assert_eq!(Username::parse("   ").unwrap_err(), vec![messages::BLANK]);
    }
}
