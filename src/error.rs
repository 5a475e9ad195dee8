//! The one error type of Gatehouse, its stable codes (SPEC §6), and how it is
//! shown: as a GraphQL error with `extensions.code`, and as RFC 9457 problem
//! details. Internal causes are logged once, here, and never shown.

use std::collections::BTreeMap;
use std::fmt;

use axum::http::StatusCode;

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
    pub const ALL: [ErrorCode; 17] = [
        Self::ValidationFailed,
        Self::UsernameTaken,
        Self::EmailTaken,
        Self::UserNotFound,
        Self::InvalidPassword,
        Self::InvalidUserId,
        Self::Unauthenticated,
        Self::AccountDisabled,
        Self::RateLimited,
        Self::Overloaded,
        Self::BadRequest,
        Self::PayloadTooLarge,
        Self::RequestTimeout,
        Self::UnsupportedMediaType,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ValidationFailed => "VALIDATION_FAILED",
            Self::UsernameTaken => "USERNAME_TAKEN",
            Self::EmailTaken => "EMAIL_TAKEN",
            Self::UserNotFound => "USER_NOT_FOUND",
            Self::InvalidPassword => "INVALID_PASSWORD",
            Self::InvalidUserId => "INVALID_USER_ID",
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

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The REST status of SPEC §6.
    pub fn status(self) -> StatusCode {
        match self {
            Self::ValidationFailed
            | Self::UsernameTaken
            | Self::EmailTaken
            | Self::UserNotFound
            | Self::InvalidUserId
            | Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::InvalidPassword | Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::AccountDisabled => StatusCode::FORBIDDEN,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
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

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        if is_unavailable(&err) {
            Self::DatabaseUnavailable(err)
        } else {
            Self::Internal(Box::new(err))
        }
    }
}

/// Whether a database error means "the database cannot serve right now"
/// (answered with 503 and `Retry-After`) rather than a bug (500): no pooled
/// connection in time, a broken connection, PostgreSQL refusing connections
/// or cancelling a statement on timeout, SQLite still locked after its busy
/// timeout.
fn is_unavailable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as SqlxError;
    use sea_orm::{DbErr, RuntimeErr};
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return false;
    };
    match sqlx.as_ref() {
        SqlxError::Io(_)
        | SqlxError::Tls(_)
        | SqlxError::PoolTimedOut
        | SqlxError::PoolClosed
        | SqlxError::WorkerCrashed => true,
        SqlxError::Database(db) => db.code().is_some_and(|code| {
            // PostgreSQL SQLSTATE: class 08 connection exceptions, 57014
            // statement timeout, 57P01–57P03 shutdown / cannot connect now.
            // SQLite (numeric codes, never five characters like a SQLSTATE):
            // 5 SQLITE_BUSY, 6 SQLITE_LOCKED and their extended codes.
            if code.len() == 5 {
                code.starts_with("08")
                    || matches!(
                        code.as_ref(),
                        "57014" | "57P01" | "57P02" | "57P03" | "53300"
                    )
            } else {
                matches!(code.parse::<i32>().map(|c| c & 0xff), Ok(5 | 6))
            }
        }),
        _ => false,
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

impl async_graphql::ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        self.log_if_internal();
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code().as_str());
            if let Some(fields) = self.fields() {
                let fields: async_graphql::indexmap::IndexMap<
                    async_graphql::Name,
                    async_graphql::Value,
                > = fields
                    .into_iter()
                    .map(|(field, messages)| {
                        let messages = messages
                            .into_iter()
                            .map(async_graphql::Value::from)
                            .collect();
                        (
                            async_graphql::Name::new(field),
                            async_graphql::Value::List(messages),
                        )
                    })
                    .collect();
                ext.set("fields", async_graphql::Value::Object(fields));
            }
            if let Some(secs) = self.retry_after_secs() {
                ext.set("retryAfter", secs);
            }
        })
    }
}
