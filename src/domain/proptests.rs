//! Property tests of the parsers: they never panic, normalisation is
//! idempotent, and whatever parses re-parses to the same value.

use proptest::prelude::*;
use secrecy::{ExposeSecret, SecretString};

use super::{Email, NewPassword, PasswordPolicy, SessionToken, Username, normalise_password};

/// Strings that reach the interesting corners: any Unicode, plus runs of
/// letters, marks, full-width forms, whitespace and the allowed symbols.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9@.+_ \\-]{0,160}",
        "[\\p{L}\\p{M}\\p{N}\\p{Zs}@._]{0,40}",
        "[ａ-ｚＡ-Ｚ０-９ﬁﬀ\\u{3000}\\u{00a0}ß İıſK]{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn username_parse_is_total_and_idempotent(raw in text()) {
        if let Ok(name) = Username::parse(&raw) {
            let again = Username::parse(name.as_str()).expect("a parsed name re-parses");
            prop_assert_eq!(again.as_str(), name.as_str());
            prop_assert_eq!(again.key(), name.key());
            prop_assert_eq!(name.as_str().trim(), name.as_str());
            prop_assert!(name.as_str().chars().count() <= 150);
        }
    }

    #[test]
    fn email_parse_is_total_and_idempotent(raw in prop_oneof![text(), "[a-z0-9.+_-]{1,20}@[a-z0-9-]{1,20}\\.[a-z]{2,6}"]) {
        if let Ok(email) = Email::parse(&raw) {
            let again = Email::parse(email.as_str()).expect("a parsed address re-parses");
            prop_assert_eq!(again.as_str(), email.as_str());
            prop_assert_eq!(email.key(), email.as_str().to_lowercase());
            prop_assert!(email.as_str().chars().count() <= 254);
        }
    }

    #[test]
    fn password_normalisation_is_idempotent(raw in text()) {
        let once = normalise_password(&SecretString::from(raw.clone()));
        let twice = normalise_password(&once);
        prop_assert_eq!(once.expose_secret(), twice.expose_secret());
    }

    #[test]
    fn password_parse_is_total_and_stable(raw in text(), name in "[a-z]{1,8}") {
        let username = Username::parse(&name).ok();
        let policy = PasswordPolicy::default();
        let first = NewPassword::parse(&SecretString::from(raw), username.as_ref(), policy);
        if let Ok(password) = first {
            let again = NewPassword::parse(password.secret(), username.as_ref(), policy)
                .expect("an accepted password is accepted again");
            prop_assert_eq!(again.secret().expose_secret(), password.secret().expose_secret());
        }
    }

    #[test]
    fn token_parse_is_total(raw in prop_oneof![any::<String>(), "gat_[A-Za-z0-9_-]{0,60}"]) {
        if let Ok(token) = SessionToken::parse(&raw) {
            prop_assert_eq!(token.expose(), raw.as_str());
        }
    }
}

/// Generated tokens take their randomness from the OS, not from proptest, so
/// this is a plain loop: every one of many parses, and none repeats.
#[test]
fn generated_tokens_always_parse_and_never_repeat() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..2_000 {
        let token = SessionToken::generate().expect("OS randomness");
        let parsed = SessionToken::parse(token.expose()).expect("a generated token parses");
        assert_eq!(parsed.hash(), token.hash());
        assert!(seen.insert(token.expose().to_owned()), "a token repeated");
    }
}
