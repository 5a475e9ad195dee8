//! The objects of a signed-in user's account management: their sessions,
//! and what changing the password or deleting the account answers.

use async_graphql::{ID, InputObject, Object};
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::types::User;
use crate::accounts::{LogoutOutcome, PasswordChanged, RevokedSession, SessionInfo};

/// A count of sessions as GraphQL's `Int`.
pub(super) fn count(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub struct Session(pub SessionInfo);

/// One of the user's live sessions. Its id names it for `revokeSession`; it
/// is not a token and authenticates nothing.
#[Object]
impl Session {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When its token was last used, to the minute.
    async fn last_used_at(&self) -> DateTime<Utc> {
        self.0.last_used_at
    }

    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }

    /// The `User-Agent` of the login that opened it, shortened to 256 bytes.
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }

    /// The client address of the login that opened it.
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }

    /// True for the session of the bearer token of this request.
    async fn current(&self) -> bool {
        self.0.current
    }
}

pub struct RevokeSessionPayload(pub RevokedSession);

#[Object]
impl RevokeSessionPayload {
    async fn session_id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// True when the ended session was this request's own: its token now fails.
    async fn current(&self) -> bool {
        self.0.current
    }
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    pub current_password: String,
    pub new_password: String,
}

impl From<ChangePasswordInput> for crate::accounts::ChangePasswordInput {
    fn from(input: ChangePasswordInput) -> Self {
        Self {
            current_password: SecretString::from(input.current_password),
            new_password: SecretString::from(input.new_password),
        }
    }
}

pub struct ChangePasswordPayload(pub PasswordChanged);

#[Object]
impl ChangePasswordPayload {
    async fn user(&self) -> User {
        User(self.0.user.clone())
    }

    /// How many of the user's other sessions ended; this one stays.
    async fn sessions_revoked(&self) -> i32 {
        count(self.0.sessions_revoked)
    }
}

pub struct DeleteAccountPayload(pub LogoutOutcome);

#[Object]
impl DeleteAccountPayload {
    /// The id the deleted account had.
    async fn user_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }

    async fn sessions_revoked(&self) -> i32 {
        count(self.0.sessions_revoked)
    }
}
