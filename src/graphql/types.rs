//! The objects of the API, built from the account service's values.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::context::{accounts, caller};
use super::error::into_graphql;
use crate::accounts::{Account, LoginOutcome, LogoutOutcome, SessionInfo};

pub struct User(pub Account);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn username(&self) -> &str {
        &self.0.username
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn date_joined(&self) -> DateTime<Utc> {
        self.0.date_joined
    }

    async fn last_login(&self) -> Option<DateTime<Utc>> {
        self.0.last_login
    }

    /// True while the user holds an unexpired session.
    async fn is_logged_in(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        accounts(ctx)?
            .is_logged_in(self.0.id)
            .await
            .map_err(into_graphql)
    }

    /// The user's live sessions, newest first (at most 100). Only the user's
    /// own bearer token reads them; for any other request, null.
    async fn sessions(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Session>>> {
        let sessions = accounts(ctx)?
            .sessions_of(self.0.id, caller(ctx)?)
            .await
            .map_err(into_graphql)?;
        Ok(sessions.map(|listed| listed.into_iter().map(Session).collect()))
    }
}

pub struct LoginPayload(pub LoginOutcome);

#[Object]
impl LoginPayload {
    /// The bearer token for `Authorization: Bearer <token>`. Shown once.
    async fn token(&self) -> &str {
        self.0.token.expose()
    }

    async fn token_type(&self) -> &str {
        "Bearer"
    }

    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }

    async fn user(&self) -> User {
        User(self.0.user.clone())
    }
}

pub struct LogoutPayload(pub LogoutOutcome);

#[Object]
impl LogoutPayload {
    async fn user_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }

    async fn sessions_revoked(&self) -> i32 {
        count(self.0.sessions_revoked)
    }
}

#[derive(InputObject)]
pub struct RegisterInput {
    pub username: String,
    pub email: String,
    pub password: String,
}

impl From<RegisterInput> for crate::accounts::RegisterInput {
    fn from(input: RegisterInput) -> Self {
        Self {
            username: input.username,
            email: input.email,
            password: SecretString::from(input.password),
        }
    }
}

#[derive(InputObject)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
}

impl From<LoginInput> for crate::accounts::LoginInput {
    fn from(input: LoginInput) -> Self {
        Self {
            username: input.username,
            password: SecretString::from(input.password),
        }
    }
}

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
