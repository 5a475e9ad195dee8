//! REST body decoding: any bytes under any media type decode or fail cleanly.
#![no_main]

use axum::http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;

const MEDIA_TYPES: [&str; 6] = [
    "application/json",
    "application/x-www-form-urlencoded",
    "APPLICATION/JSON; charset=utf-8",
    "application/problem+json",
    "text/plain",
    "",
];

fuzz_target!(|input: (u8, &[u8])| {
    let (selector, body) = input;
    let mut headers = HeaderMap::new();
    let media = MEDIA_TYPES[usize::from(selector) % MEDIA_TYPES.len()];
    if !media.is_empty() {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    }
    if let Ok(fields) =
        gatehouse::http::rest::decode_body(&headers, body, &["username", "password"])
    {
        assert!(fields.values().all(serde_json::Value::is_string) || fields.is_empty());
    }
});
