//! The password policy of SPEC §5, which follows NIST SP 800-63B §3.1.1.2:
//! length and a blocklist, no composition rules, no strength score.

use std::collections::HashSet;
use std::sync::LazyLock;

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;

use super::{Username, case_key, messages};

/// The longest password accepted, in code points after NFKC.
pub const MAX_CHARS: usize = 256;
/// The shortest password accepted by default, in code points after NFKC.
pub const DEFAULT_MIN_CHARS: usize = 8;

/// 19,646 common passwords, lower-case, one per line: the list Django's
/// `CommonPasswordValidator` ships (BSD licence), so the legacy app's
/// blocklist keeps working here.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common_passwords.txt").lines().collect());

/// The configurable part of the policy.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min_chars: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: DEFAULT_MIN_CHARS,
        }
    }
}

/// A password chosen at registration that passed the policy, NFKC-normalised
/// and ready to hash. It is never trimmed: spaces are part of a password.
pub struct NewPassword(SecretString);

impl NewPassword {
    /// Checks `raw` for the account `username`; the error names each failed rule.
    pub fn parse(
        raw: &SecretString,
        username: Option<&Username>,
        policy: PasswordPolicy,
    ) -> Result<Self, Vec<String>> {
        let normalised = normalise(raw);
        let candidate = normalised.expose_secret();
        if candidate.is_empty() {
            return Err(vec![messages::BLANK.to_owned()]);
        }
        let mut errors = Vec::new();
        let chars = candidate.chars().count();
        if chars < policy.min_chars {
            errors.push(format!(
                "This password is too short. It must contain at least {} characters.",
                policy.min_chars
            ));
        }
        if chars > MAX_CHARS {
            errors.push(format!(
                "Ensure this field has no more than {MAX_CHARS} characters."
            ));
        }
        if COMMON_PASSWORDS.contains(candidate.to_lowercase().as_str()) {
            errors.push("This password is too common.".to_owned());
        }
        if let Some(username) = username
            && case_key(candidate).contains(username.key())
        {
            errors.push("This password contains the username.".to_owned());
        }
        if errors.is_empty() {
            Ok(Self(normalised))
        } else {
            Err(errors)
        }
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// NFKC of a password, as hashed at registration and at every login, so that
/// the same password typed on two keyboards verifies (NIST SP 800-63B).
pub fn normalise(raw: &SecretString) -> SecretString {
    SecretString::from(raw.expose_secret().nfkc().collect::<String>())
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(password: &str, username: &str) -> Result<NewPassword, Vec<String>> {
        let username = Username::parse(username).unwrap();
        NewPassword::parse(
            &SecretString::from(password),
            Some(&username),
            PasswordPolicy::default(),
        )
    }

    #[test]
    fn the_list_is_big_enough() {
        assert!(COMMON_PASSWORDS.len() >= 10_000);
    }

    #[test]
    fn nist_examples_pass() {
        assert!(check("Vq7#kPz!", "alice").is_ok());
        assert!(check("  password-with-spaces  ", "alice").is_ok());
    }

    #[test]
    fn length_is_counted_in_code_points() {
        assert!(check("ééééééé", "alice").is_err());
        assert!(check("éééééééé", "alice").is_ok());
        assert!(check(&"ж".repeat(256), "alice").is_ok());
        assert!(check(&"ж".repeat(257), "alice").is_err());
    }

    #[test]
    fn common_passwords_are_refused_case_insensitively() {
        let errors = check("PassWord1", "alice").unwrap_err();
        assert_eq!(errors, vec!["This password is too common."]);
    }

    #[test]
    fn containing_the_username_is_refused() {
        let errors = check("xxAlice-2024xx", "alice").unwrap_err();
        assert_eq!(errors, vec!["This password contains the username."]);
    }

    #[test]
    fn several_failures_are_all_named() {
        assert_eq!(check("qzxv", "qzxv").unwrap_err().len(), 2);
    }

    #[test]
    fn debug_does_not_show_the_password() {
        let password = check("Vq7#kPz!", "alice").unwrap();
        assert!(!format!("{password:?}").contains("Vq7"));
    }
}
