//! The email rule of SPEC §5, on the `email_address` crate's RFC 5321/5322
//! parser rather than a home-made pattern.

use std::fmt;

use email_address::{EmailAddress, Options};

use super::messages;

pub const MAX_CHARS: usize = 254;
const INVALID: &str = "Enter a valid email address.";

/// A bare address (`local@domain.tld`), trimmed, at most 254 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    value: String,
    key: String,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Vec<String>> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(vec![messages::BLANK.to_owned()]);
        }
        if value.chars().count() > MAX_CHARS {
            return Err(vec![format!(
                "Ensure this field has no more than {MAX_CHARS} characters."
            )]);
        }
        // A bare address only: no `Name <a@b.c>`, no `[192.0.2.1]` literal,
        // and a domain with a dot, as a mailbox people receive mail at has.
        let options = Options {
            allow_display_text: false,
            allow_domain_literal: false,
            minimum_sub_domains: 2,
            allow_long_local_parts: false,
        };
        let parsed = EmailAddress::parse_with_options(value, options)
            .map_err(|_| vec![INVALID.to_owned()])?;
        // Reject anything the parser would have altered (it should alter nothing).
        if parsed.as_str() != value || value.chars().any(char::is_control) {
            return Err(vec![INVALID.to_owned()]);
        }
        Ok(Self {
            value: value.to_owned(),
            key: value.to_lowercase(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// Lower-cased form that uniqueness is decided on.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Email").field(&self.value).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_bare_addresses() {
        let email = Email::parse("  Jane.Doe+tag@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Jane.Doe+tag@Example.COM");
        assert_eq!(email.key(), "jane.doe+tag@example.com");
    }

    #[test]
    fn rejects_non_bare_addresses() {
        for bad in [
            "Jane <jane@example.com>",
            "jane",
            "jane@",
            "@example.com",
            "jane@example",
            "jane@[192.0.2.1]",
            "a b@example.com",
            "jane@@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// An address of `len` characters: a 64-character local part and 63-character labels.
    pub(crate) fn address_of_len(len: usize) -> String {
        let last = len - 65 - 2 * 64 - 4;
        format!(
            "{}@{}.{}.{}.com",
            "a".repeat(64),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(last)
        )
    }

    #[test]
    fn length_boundary() {
        assert_eq!(address_of_len(254).len(), 254);
        assert!(Email::parse(&address_of_len(254)).is_ok());
        assert!(Email::parse(&address_of_len(255)).is_err());
    }
}
