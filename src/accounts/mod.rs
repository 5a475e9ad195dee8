//! The account service: every rule about registering, logging in and out.
//! GraphQL resolvers call these functions; nothing else touches accounts.

mod auth;
mod hashing;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set, SqlErr, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

pub use auth::{Caller, Credentials};
pub use hashing::{HashPool, HashingConfig, Verification};

use crate::domain::{self, Email, NewPassword, PasswordPolicy, SessionToken, Username, messages};
use crate::entities::{sessions, users};
use crate::error::{Error, FieldErrors};

/// Settings of the account rules.
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    pub password_policy: PasswordPolicy,
    pub session_ttl: std::time::Duration,
    /// Django's tokenless logout (SPEC §3).
    pub legacy_logout: bool,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            password_policy: PasswordPolicy::default(),
            session_ttl: std::time::Duration::from_secs(7 * 24 * 60 * 60),
            legacy_logout: false,
        }
    }
}

pub struct RegisterInput {
    pub username: String,
    pub email: String,
    pub password: SecretString,
}

pub struct LoginInput {
    pub username: String,
    pub password: SecretString,
}

#[derive(Debug)]
pub struct LoginOutcome {
    pub token: SessionToken,
    pub expires_at: DateTime<Utc>,
    pub user: users::Model,
}

#[derive(Debug, Clone, Copy)]
pub struct LogoutOutcome {
    pub user_id: Uuid,
    pub sessions_revoked: u64,
}

/// A request's live session and its user.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub session_id: Uuid,
    pub user: users::Model,
}

pub struct Accounts {
    db: DatabaseConnection,
    hash_pool: HashPool,
    config: AccountsConfig,
}

impl Accounts {
    pub fn new(db: DatabaseConnection, hash_pool: HashPool, config: AccountsConfig) -> Self {
        Self {
            db,
            hash_pool,
            config,
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Creates an account. Conflicts are decided by the unique indexes.
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, input: RegisterInput) -> Result<users::Model, Error> {
        let mut errors = FieldErrors::new();
        let username = Username::parse(&input.username)
            .map_err(|e| errors.insert("username".into(), e))
            .ok();
        let email = Email::parse(&input.email)
            .map_err(|e| errors.insert("email".into(), e))
            .ok();
        let password = NewPassword::parse(
            &input.password,
            username.as_ref(),
            self.config.password_policy,
        )
        .map_err(|e| errors.insert("password".into(), e))
        .ok();
        let (Some(username), Some(email), Some(password)) = (username, email, password) else {
            return Err(Error::Validation(errors));
        };

        // Spare a hash when the answer is already known. This is only an
        // early answer: the unique indexes below decide every race.
        if self.username_key_exists(username.key()).await? {
            return Err(Error::UsernameTaken);
        }
        if self.email_key_exists(email.key()).await? {
            return Err(Error::EmailTaken);
        }

        let password_hash = self.hash_pool.hash(password.secret().clone()).await?;
        let user = users::ActiveModel {
            id: Set(Uuid::now_v7()),
            username: Set(username.as_str().to_owned()),
            username_key: Set(username.key().to_owned()),
            email: Set(email.as_str().to_owned()),
            email_key: Set(email.key().to_owned()),
            password_hash: Set(password_hash),
            is_active: Set(true),
            date_joined: Set(now()),
            last_login: Set(None),
        };
        match user.insert(&self.db).await {
            Ok(user) => {
                tracing::debug!(user_id = %user.id, "registered");
                Ok(user)
            }
            Err(err) => Err(match err.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(detail)) if detail.contains("email_key") => {
                    Error::EmailTaken
                }
                Some(SqlErr::UniqueConstraintViolation(_)) => Error::UsernameTaken,
                _ => err.into(),
            }),
        }
    }

    /// Checks a password and opens a session.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, input: LoginInput) -> Result<LoginOutcome, Error> {
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

        let key = Username::lookup_key(&input.username);
        let user = users::Entity::find()
            .filter(users::Column::UsernameKey.eq(key))
            .one(&self.db)
            .await?
            .ok_or(Error::UserNotFound)?;

        let password = domain::normalise_password(&input.password);
        let rehashed = match self
            .hash_pool
            .verify(password, user.password_hash.clone())
            .await?
        {
            Verification::Mismatch => return Err(Error::InvalidPassword),
            Verification::Match { rehashed } => rehashed,
        };
        // Only someone who knows the password learns that the account is disabled.
        if !user.is_active {
            return Err(Error::AccountDisabled);
        }

        let token = SessionToken::generate().map_err(Error::internal)?;
        let logged_in_at = now();
        let expires_at = self
            .session_ttl()
            .and_then(|ttl| logged_in_at.checked_add_signed(ttl))
            .ok_or_else(|| Error::internal("session lifetime out of range"))?;
        let txn = self.db.begin().await?;
        let mut update = users::Entity::update_many()
            .col_expr(users::Column::LastLogin, Expr::value(logged_in_at))
            .filter(users::Column::Id.eq(user.id));
        if let Some(hash) = &rehashed {
            update = update.col_expr(users::Column::PasswordHash, Expr::value(hash.clone()));
        }
        update.exec(&txn).await?;
        sessions::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user.id),
            token_hash: Set(token.hash().0.to_vec()),
            created_at: Set(logged_in_at),
            expires_at: Set(expires_at),
        }
        .insert(&txn)
        .await?;
        // Housekeeping: expired sessions of this user are dead weight.
        sessions::Entity::delete_many()
            .filter(sessions::Column::UserId.eq(user.id))
            .filter(sessions::Column::ExpiresAt.lte(logged_in_at))
            .exec(&txn)
            .await?;
        txn.commit().await?;

        if rehashed.is_some() {
            tracing::info!(user_id = %user.id, "password hash upgraded to current parameters");
        }
        tracing::debug!(user_id = %user.id, "logged in");
        let mut user = user;
        user.last_login = Some(logged_in_at);
        if let Some(hash) = rehashed {
            user.password_hash = hash;
        }
        Ok(LoginOutcome {
            token,
            expires_at,
            user,
        })
    }

    /// Ends sessions of `user_id` (SPEC §3): the caller's own session, or, in
    /// legacy mode without credentials, every session of that user.
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, user_id: &str, caller: &Caller) -> Result<LogoutOutcome, Error> {
        if !caller.credentials().were_sent() {
            if !self.config.legacy_logout {
                return Err(Error::Unauthenticated);
            }
            let user_id = parse_user_id(user_id)?;
            let exists = users::Entity::find_by_id(user_id).count(&self.db).await? > 0;
            if !exists {
                return Err(Error::InvalidUserId);
            }
            let revoked = sessions::Entity::delete_many()
                .filter(sessions::Column::UserId.eq(user_id))
                .exec(&self.db)
                .await?
                .rows_affected;
            tracing::debug!(%user_id, revoked, "logged out (legacy, every session)");
            return Ok(LogoutOutcome {
                user_id,
                sessions_revoked: revoked,
            });
        }

        let session = caller.session(self).await?.ok_or(Error::Unauthenticated)?;
        let user_id = parse_user_id(user_id)?;
        if user_id != session.user.id {
            return Err(Error::InvalidUserId);
        }
        let revoked = sessions::Entity::delete_by_id(session.session_id)
            .exec(&self.db)
            .await?
            .rows_affected;
        if revoked == 0 {
            // A concurrent logout of the same token got there first.
            return Err(Error::Unauthenticated);
        }
        tracing::debug!(%user_id, "logged out");
        Ok(LogoutOutcome {
            user_id,
            sessions_revoked: revoked,
        })
    }

    /// Resolves bearer credentials to a live session of an active user.
    pub async fn authenticate(
        &self,
        credentials: &Credentials,
    ) -> Result<Option<Authenticated>, Error> {
        let Credentials::Bearer(raw) = credentials else {
            return Ok(None);
        };
        // The checksum refuses junk without a database round trip.
        let Ok(token) = SessionToken::parse(raw) else {
            return Ok(None);
        };
        let found = sessions::Entity::find()
            .filter(sessions::Column::TokenHash.eq(token.hash().0.to_vec()))
            .filter(sessions::Column::ExpiresAt.gt(now()))
            .find_also_related(users::Entity)
            .one(&self.db)
            .await?;
        Ok(match found {
            Some((session, Some(user))) if user.is_active => Some(Authenticated {
                session_id: session.id,
                user,
            }),
            _ => None,
        })
    }

    /// Whether the user holds at least one unexpired session.
    pub async fn is_logged_in(&self, user_id: Uuid) -> Result<bool, Error> {
        let live = sessions::Entity::find()
            .select_only()
            .column(sessions::Column::Id)
            .filter(sessions::Column::UserId.eq(user_id))
            .filter(sessions::Column::ExpiresAt.gt(now()))
            .limit(1)
            .into_tuple::<Uuid>()
            .one(&self.db)
            .await?;
        Ok(live.is_some())
    }

    /// Succeeds while the database answers a query on the account tables.
    pub async fn ping(&self) -> Result<(), Error> {
        sessions::Entity::find()
            .select_only()
            .column(sessions::Column::Id)
            .limit(1)
            .into_tuple::<Uuid>()
            .one(&self.db)
            .await?;
        Ok(())
    }

    fn session_ttl(&self) -> Option<chrono::Duration> {
        chrono::Duration::from_std(self.config.session_ttl).ok()
    }

    async fn username_key_exists(&self, key: &str) -> Result<bool, Error> {
        let count = users::Entity::find()
            .filter(users::Column::UsernameKey.eq(key))
            .count(&self.db)
            .await?;
        Ok(count > 0)
    }

    async fn email_key_exists(&self, key: &str) -> Result<bool, Error> {
        let count = users::Entity::find()
            .filter(users::Column::EmailKey.eq(key))
            .count(&self.db)
            .await?;
        Ok(count > 0)
    }
}

/// Timestamps are kept to the microsecond, the precision PostgreSQL stores, so
/// a value reads back exactly as it was written on every backend.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn parse_user_id(raw: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(raw.trim()).map_err(|_| Error::InvalidUserId)
}
