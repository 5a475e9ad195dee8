//! The username, email and password parsers: total on any input, and what
//! parses re-parses to the same value.
#![no_main]

use gatehouse::domain::{Email, NewPassword, PasswordPolicy, Username};
use libfuzzer_sys::fuzz_target;
use secrecy::{ExposeSecret, SecretString};

fuzz_target!(|input: (&str, &str, &str)| {
    let (username, email, password) = input;
    let name = Username::parse(username).ok();
    if let Some(name) = &name {
        let again = Username::parse(name.as_str()).expect("re-parses");
        assert_eq!(again.key(), name.key());
    }
    if let Ok(address) = Email::parse(email) {
        assert_eq!(
            Email::parse(address.as_str()).expect("re-parses").as_str(),
            address.as_str()
        );
    }
    let policy = PasswordPolicy::default();
    if let Ok(accepted) = NewPassword::parse(&SecretString::from(password), name.as_ref(), policy) {
        let again =
            NewPassword::parse(accepted.secret(), name.as_ref(), policy).expect("re-parses");
        assert_eq!(
            again.secret().expose_secret(),
            accepted.secret().expose_secret()
        );
    }
});
