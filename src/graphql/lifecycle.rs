//! What a signed-in user's account management answers: ending a session,
//! changing the password, deleting the account (the sessions themselves are
//! `types::Session`).

use async_graphql::{ID, InputObject, Object};
use secrecy::SecretString;

use super::types::{User, count};
use crate::accounts::{LogoutOutcome, PasswordChanged, RevokedSession};

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
