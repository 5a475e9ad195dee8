//! RFC 9457 problem details, the body of every REST and transport error.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{Error, ErrorCode, FieldErrors};

const PROBLEM_JSON: &str = "application/problem+json";

/// The REST status of each code (SPEC §6).
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::ValidationFailed
        | ErrorCode::UsernameTaken
        | ErrorCode::EmailTaken
        | ErrorCode::UserNotFound
        | ErrorCode::InvalidUserId
        | ErrorCode::InvalidSessionId
        | ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::InvalidPassword | ErrorCode::InvalidCredentials | ErrorCode::Unauthenticated => {
            StatusCode::UNAUTHORIZED
        }
        ErrorCode::AccountDisabled => StatusCode::FORBIDDEN,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<FieldErrors>,
    #[serde(skip)]
    pub headers: HeaderMap,
}

impl Problem {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        let status = status_of(code);
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.as_str(),
            errors: None,
            headers: HeaderMap::new(),
        }
    }

    pub fn with_errors(mut self, errors: Option<FieldErrors>) -> Self {
        self.errors = errors.filter(|e| !e.is_empty());
        self
    }

    pub fn with_retry_after(mut self, secs: Option<u64>) -> Self {
        if let Some(secs) = secs {
            self.headers
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        self
    }

    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl Problem {
    /// The problem for an error already logged where it left the service
    /// (a resolver's, through GraphQL).
    pub fn of_logged(err: &Error) -> Self {
        Problem::new(err.code(), err.to_string())
            .with_errors(err.fields())
            .with_retry_after(err.retry_after_secs())
    }
}

impl From<&Error> for Problem {
    fn from(err: &Error) -> Self {
        err.log_if_internal();
        Self::of_logged(err)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response.headers_mut().extend(self.headers);
        response
    }
}
