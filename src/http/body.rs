//! Reading request bodies: the size limit (413) and the media types (415).

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::Error;

/// The media types a body may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Json,
    Form,
    /// No `Content-Type` header.
    Unspecified,
    Other,
}

impl MediaType {
    /// Classifies `Content-Type`. Type and subtype match case-insensitively
    /// and parameters such as `charset` are allowed (RFC 9110 §8.3.1);
    /// `+json` structured syntax suffixes count as JSON.
    pub fn of(headers: &HeaderMap) -> Self {
        let Some(value) = headers.get(header::CONTENT_TYPE) else {
            return Self::Unspecified;
        };
        let Some(mime) = value
            .to_str()
            .ok()
            .and_then(|v| v.parse::<mime::Mime>().ok())
        else {
            return Self::Other;
        };
        let (kind, subtype) = (mime.type_().as_str(), mime.subtype().as_str());
        let is_json = subtype.eq_ignore_ascii_case("json")
            || mime
                .suffix()
                .is_some_and(|s| s.as_str().eq_ignore_ascii_case("json"));
        if kind.eq_ignore_ascii_case("application") && is_json {
            Self::Json
        } else if kind.eq_ignore_ascii_case("application")
            && subtype.eq_ignore_ascii_case("x-www-form-urlencoded")
        {
            Self::Form
        } else {
            Self::Other
        }
    }
}

/// Reads the whole body, refusing one larger than `limit` bytes whether or
/// not it announced its length.
pub async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Error> {
    check_announced_length(headers, limit)?;
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) => Err(classify(err.as_ref(), limit)),
    }
}

/// Refuses a body whose `Content-Length` is over `limit`, before reading it.
pub fn check_announced_length(headers: &HeaderMap, limit: usize) -> Result<(), Error> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit as u64) {
        return Err(Error::PayloadTooLarge { limit });
    }
    Ok(())
}

/// Why a body could not be read, kept for readers that keep only an error's
/// text: async-graphql-axum's extractor turns body errors into
/// `io::Error::other(text)`.
#[derive(Clone, Default)]
pub struct BodyFailure(Arc<Mutex<Option<Error>>>);

impl BodyFailure {
    /// The failure, if the body failed.
    pub fn take(&self) -> Option<Error> {
        self.0.lock().ok().and_then(|mut failure| failure.take())
    }
}

/// The body cut off after `limit` bytes; a failure to read it (too long, or
/// past the body deadline) is recorded in the returned `BodyFailure`.
pub fn limited(body: Body, limit: usize) -> (Body, BodyFailure) {
    let failure = BodyFailure::default();
    let recorder = failure.clone();
    let body = Limited::new(body, limit).map_err(move |err| {
        if let Ok(mut slot) = recorder.0.lock() {
            slot.get_or_insert_with(|| classify(err.as_ref(), limit));
        }
        err
    });
    (Body::new(body), failure)
}

fn classify(err: &(dyn std::error::Error + Send + Sync + 'static), limit: usize) -> Error {
    if err.is::<LengthLimitError>() {
        Error::PayloadTooLarge { limit }
    } else if caused_by_timeout(err) {
        Error::RequestTimeout
    } else {
        Error::BadRequest("The request body could not be read.".into())
    }
}

/// Whether a body error comes from the body deadline (`--body-timeout`).
fn caused_by_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = err.source();
    }
    false
}
