//! Login (SPEC §3): check the password on the hashing pool, under the
//! per-account throttle, and open a session.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::{ExposeSecret, SecretString};

use super::django_hash::report_unknown;
use super::rate_limit::Action;
use super::{Account, Accounts, Caller, Limited, Verification, now};
use crate::domain::{self, SessionToken, Username, messages};
use crate::entities::users;
use crate::error::{Error, FieldErrors};

pub struct LoginInput {
    pub username: String,
    pub password: SecretString,
}

#[derive(Debug)]
pub struct LoginOutcome {
    pub token: SessionToken,
    pub expires_at: DateTime<Utc>,
    /// The account as it is after this login.
    pub user: Account,
}

impl Accounts {
    /// Checks a password and opens a session, if the caller's login bucket
    /// has room.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, input: LoginInput, caller: &Caller) -> Limited<LoginOutcome> {
        self.limited(Action::Login, caller, self.check_password(input))
            .await
    }

    async fn check_password(&self, input: LoginInput) -> Result<LoginOutcome, Error> {
        let mut errors = FieldErrors::new();
        if input.username.trim().is_empty() {
            errors.insert("username".into(), vec![messages::BLANK.into()]);
        }
        if input.password.expose_secret().is_empty() {
            errors.insert("password".into(), vec![messages::BLANK.into()]);
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }

        // Every stored name passed `Username::parse`, so a name that does not
        // parse has no account; it never reaches the database (PostgreSQL
        // would refuse a NUL byte in it with an error, not a miss).
        let name = Username::parse(&input.username).map_err(|_| Error::UserNotFound)?;
        let row = users::Entity::find()
            .filter(users::Column::UsernameKey.eq(name.key()))
            .one(&self.db)
            .await?
            .ok_or(Error::UserNotFound)?;

        // Inside a throttling window the password is not even checked. An
        // attempt that would start a window is counted before the check, so
        // concurrent guesses at a window's edge get one try between them.
        let counted = self.claim_login_attempt(&row).await?;

        let password = domain::normalise_password(&input.password);
        let stored = row.password_hash.clone();
        let verification = self
            .hash_pool
            .verify(password, input.password, stored)
            .await?;
        let rehashed = match verification {
            Verification::UnknownFormat { format } => {
                report_unknown(format, row.id);
                if !counted {
                    self.record_failed_login(row.id).await?;
                }
                return Err(Error::InvalidPassword);
            }
            Verification::Mismatch => {
                if !counted {
                    self.record_failed_login(row.id).await?;
                }
                return Err(Error::InvalidPassword);
            }
            Verification::Match { rehashed, format } => rehashed.map(|new| (new, format)),
        };
        // Only someone who knows the password learns that the account is disabled.
        if !row.is_active {
            return Err(Error::AccountDisabled);
        }

        let logged_in_at = now();
        let (token, expires_at) = self
            .open_session(
                row.id,
                logged_in_at,
                rehashed.as_ref().map(|(new, _)| new.as_str()),
            )
            .await?;
        if let Some((_, from)) = rehashed {
            tracing::info!(user_id = %row.id, from, "password hash upgraded to current parameters");
        }
        tracing::debug!(user_id = %row.id, "logged in");
        let mut user = Account::from(row);
        user.last_login = Some(logged_in_at);
        Ok(LoginOutcome {
            token,
            expires_at,
            user,
        })
    }
}
