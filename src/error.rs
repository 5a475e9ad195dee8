//! The one error type of Gatehouse and its stable codes (SPEC §6). How an
//! error is shown belongs to each transport: `graphql::error` (a GraphQL
//! error with `extensions.code`) and `http::problem` (RFC 9457 problem
//! details, with the status of SPEC §6). Internal causes are logged once,
//! where an error leaves the service, and never shown. Database errors become
//! it in `db.rs`, which knows what each backend's errors mean.

use std::collections::BTreeMap;
use std::fmt;

/// Field name → messages, as in the `errors` object of a problem.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// The codes of SPEC §6. The string form is the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    ValidationFailed,
    UsernameTaken,
    EmailTaken,
    UserNotFound,
    InvalidPassword,
    InvalidUserId,
    InvalidSessionId,
    InvalidCredentials,
    Unauthenticated,
    AccountDisabled,
    RateLimited,
    Overloaded,
    BadRequest,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    NotFound,
    MethodNotAllowed,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ValidationFailed => "VALIDATION_FAILED",
            Self::UsernameTaken => "USERNAME_TAKEN",
            Self::EmailTaken => "EMAIL_TAKEN",
            Self::UserNotFound => "USER_NOT_FOUND",
            Self::InvalidPassword => "INVALID_PASSWORD",
            Self::InvalidUserId => "INVALID_USER_ID",
            Self::InvalidSessionId => "INVALID_SESSION_ID",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::AccountDisabled => "ACCOUNT_DISABLED",
            Self::RateLimited => "RATE_LIMITED",
            Self::Overloaded => "OVERLOADED",
            Self::BadRequest => "BAD_REQUEST",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::RequestTimeout => "REQUEST_TIMEOUT",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::NotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in Gatehouse, as its callers need to tell apart.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Invalid input.")]
    Validation(FieldErrors),
    #[error("A user with that username already exists.")]
    UsernameTaken,
    #[error("A user with that email already exists.")]
    EmailTaken,
    #[error("No user with that username.")]
    UserNotFound,
    #[error("Incorrect password.")]
    InvalidPassword,
    #[error("The user id is malformed, unknown, or not the authenticated user's.")]
    InvalidUserId,
    #[error("The session id is malformed, unknown, or not one of your live sessions.")]
    InvalidSessionId,
    /// `--uniform-login`: an unknown name, a wrong password and a disabled
    /// account, told apart by nothing.
    #[error("Unable to log in with the provided credentials.")]
    InvalidCredentials,
    #[error("Authentication required: the bearer token is missing, invalid or expired.")]
    Unauthenticated,
    #[error("This account is disabled.")]
    AccountDisabled,
    #[error("Too many attempts; retry later.")]
    RateLimited { retry_after_secs: u64 },
    #[error("The server is busy; retry later.")]
    Overloaded { retry_after_secs: u64 },
    #[error("{0}")]
    BadRequest(String),
    #[error("The request body is larger than {limit} bytes.")]
    PayloadTooLarge { limit: usize },
    #[error("The request body was not received in time.")]
    RequestTimeout,
    #[error("The request body must be application/json or application/x-www-form-urlencoded.")]
    UnsupportedMediaType,
    #[error("The database is unavailable.")]
    DatabaseUnavailable(#[source] sea_orm::DbErr),
    #[error("Internal server error.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// One validation failure on one field.
    pub fn field(field: &str, messages: Vec<String>) -> Self {
        Self::Validation(FieldErrors::from([(field.to_owned(), messages)]))
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::UsernameTaken => ErrorCode::UsernameTaken,
            Self::EmailTaken => ErrorCode::EmailTaken,
            Self::UserNotFound => ErrorCode::UserNotFound,
            Self::InvalidPassword => ErrorCode::InvalidPassword,
            Self::InvalidUserId => ErrorCode::InvalidUserId,
            Self::InvalidSessionId => ErrorCode::InvalidSessionId,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::AccountDisabled => ErrorCode::AccountDisabled,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Overloaded { .. } | Self::DatabaseUnavailable(_) => ErrorCode::Overloaded,
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::RequestTimeout => ErrorCode::RequestTimeout,
            Self::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Field errors to show, for validation failures and conflicts.
    pub fn fields(&self) -> Option<FieldErrors> {
        let single = |field: &str, message: &str| {
            Some(FieldErrors::from([(
                field.to_owned(),
                vec![message.to_owned()],
            )]))
        };
        match self {
            Self::Validation(fields) => Some(fields.clone()),
            Self::UsernameTaken => single("username", "A user with that username already exists."),
            Self::EmailTaken => single("email", "A user with that email already exists."),
            _ => None,
        }
    }

    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs } | Self::Overloaded { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            Self::DatabaseUnavailable(_) => Some(1),
            _ => None,
        }
    }

    /// Writes the cause of a server-side failure to the log, with its chain.
    /// Called where the error leaves the service, so each is logged once.
    pub fn log_if_internal(&self) {
        match self {
            Self::Internal(cause) => {
                tracing::error!(error = %ErrorChain(cause.as_ref()), "internal error");
            }
            Self::DatabaseUnavailable(cause) => {
                tracing::warn!(error = %ErrorChain(cause), "database unavailable");
            }
            _ => {}
        }
    }
}

/// Displays an error and each of its sources, `a: b: c`.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
