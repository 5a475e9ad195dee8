//! The token parser: total on any string, and a parsed token is the input.
#![no_main]

use gatehouse::domain::SessionToken;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Ok(token) = SessionToken::parse(raw) {
        assert_eq!(token.expose(), raw);
        let _ = token.hash();
    }
});
