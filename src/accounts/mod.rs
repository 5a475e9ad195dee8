//! The account service: every rule about registering, logging in and out.
//! GraphQL resolvers call these functions; nothing else touches accounts.

mod auth;
mod hashing;
pub mod limits;
mod revocations;

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
pub use limits::ClientLimits;

use limits::Action;

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
    /// Per-account login throttling; `None` switches it off.
    pub login_throttle: Option<LoginThrottle>,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            password_policy: PasswordPolicy::default(),
            session_ttl: std::time::Duration::from_secs(7 * 24 * 60 * 60),
            legacy_logout: false,
            login_throttle: Some(LoginThrottle::default()),
        }
    }
}

/// Per-account login throttling (NIST SP 800-63B §5.2.2, OWASP Authentication
/// Cheat Sheet): after `free_failures` consecutive failures, each further
/// attempt must wait a delay that doubles from one second up to `max_delay`.
/// Never a permanent lockout: a locked-out owner waits at most `max_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    pub free_failures: u32,
    pub max_delay: std::time::Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            free_failures: 5,
            max_delay: std::time::Duration::from_secs(15 * 60),
        }
    }
}

impl LoginThrottle {
    /// The wait after `failures` consecutive failures, if any.
    pub fn delay_after(&self, failures: u32) -> Option<std::time::Duration> {
        let doublings = failures.checked_sub(self.free_failures)?;
        let delay = 1u64.checked_shl(doublings.min(63)).unwrap_or(u64::MAX);
        Some(std::time::Duration::from_secs(delay).min(self.max_delay))
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
    /// Reads.
    db: DatabaseConnection,
    /// Writes. On SQLite a pool of one connection, so writers queue in the
    /// pool instead of meeting SQLite's lock and its sleeping busy handler;
    /// on PostgreSQL the same pool as `db`.
    writer: DatabaseConnection,
    session_deleter: revocations::SessionDeleter,
    hash_pool: HashPool,
    config: AccountsConfig,
    client_limits: ClientLimits,
}

impl Accounts {
    /// Must be called inside a tokio runtime (it starts the session deleter).
    pub fn new(
        db: DatabaseConnection,
        writer: DatabaseConnection,
        hash_pool: HashPool,
        config: AccountsConfig,
        client_limits: ClientLimits,
    ) -> Self {
        Self {
            db,
            session_deleter: revocations::SessionDeleter::spawn(writer.clone()),
            writer,
            hash_pool,
            config,
            client_limits,
        }
    }

    /// Forgets idle clients of the rate limiter; see `ClientLimits::forget_idle`.
    pub fn forget_idle_clients(&self) {
        self.client_limits.forget_idle();
    }

    /// Deletes every expired session; returns how many.
    pub async fn delete_expired_sessions(&self) -> Result<u64, Error> {
        let deleted = sessions::Entity::delete_many()
            .filter(sessions::Column::ExpiresAt.lte(now()))
            .exec(&self.writer)
            .await?
            .rows_affected;
        if deleted > 0 {
            tracing::debug!(deleted, "expired sessions deleted");
        }
        Ok(deleted)
    }

    /// Takes one attempt from the caller's bucket for `action`.
    fn limit(&self, action: Action, caller: &Caller) -> Result<(), Error> {
        match self.client_limits.check(action, caller.client()) {
            Ok(state) => {
                if let Some(state) = state {
                    caller.set_rate_state(state);
                }
                Ok(())
            }
            Err(refused) => {
                caller.set_rate_state(refused.state);
                Err(Error::RateLimited {
                    retry_after_secs: refused.retry_after_secs,
                })
            }
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Creates an account. Conflicts are decided by the unique indexes.
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        input: RegisterInput,
        caller: &Caller,
    ) -> Result<users::Model, Error> {
        self.limit(Action::Register, caller)?;
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
            failed_logins: Set(0),
            locked_until: Set(None),
        };
        match user.insert(&self.writer).await {
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
    pub async fn login(&self, input: LoginInput, caller: &Caller) -> Result<LoginOutcome, Error> {
        self.limit(Action::Login, caller)?;
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
        let user = users::Entity::find()
            .filter(users::Column::UsernameKey.eq(name.key()))
            .one(&self.db)
            .await?
            .ok_or(Error::UserNotFound)?;

        // Inside a throttling window the password is not even checked. An
        // attempt that would start a window is counted before the check, so
        // concurrent guesses at a window's edge get one try between them.
        let counted = self.claim_login_attempt(&user).await?;

        let password = domain::normalise_password(&input.password);
        let stored = user.password_hash.clone();
        let rehashed = match self.hash_pool.verify(password, stored).await? {
            Verification::Mismatch => {
                if !counted {
                    self.record_failed_login(user.id).await?;
                }
                return Err(Error::InvalidPassword);
            }
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
        let txn = self.writer.begin().await?;
        let mut update = users::Entity::update_many()
            .col_expr(users::Column::LastLogin, Expr::value(logged_in_at))
            .col_expr(users::Column::FailedLogins, Expr::value(0))
            .col_expr(
                users::Column::LockedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
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
        user.failed_logins = 0;
        user.locked_until = None;
        if let Some(hash) = rehashed {
            user.password_hash = hash;
        }
        Ok(LoginOutcome {
            token,
            expires_at,
            user,
        })
    }

    /// Refuses an attempt inside a throttling window (429). An attempt that
    /// would start the next window if it failed is counted now, before its
    /// password is checked, with a compare-and-set on the row: concurrent
    /// attempts on any instance are then counted one by one, and all but the
    /// first meet the window. Returns whether the attempt was counted; a
    /// success resets the count either way. Attempts below the threshold are
    /// counted only if they fail, so a user's concurrent correct logins are
    /// never throttled.
    async fn claim_login_attempt(&self, user: &users::Model) -> Result<bool, Error> {
        let Some(throttle) = self.config.login_throttle else {
            return Ok(false);
        };
        let user_id = user.id;
        // The row as login just read it; re-read only after losing a
        // compare-and-set, so an ordinary login costs no extra query.
        let (mut failures, mut locked_until) = (user.failed_logins, user.locked_until);
        // A few rounds of compare-and-set; losing every round means heavy
        // contention on this account, which is itself worth a short wait.
        for _ in 0..8 {
            let started = now();
            if let Some(until) = locked_until
                && until > started
            {
                let millis = u64::try_from((until - started).num_milliseconds()).unwrap_or(0);
                return Err(Error::RateLimited {
                    retry_after_secs: millis.div_ceil(1000).max(1),
                });
            }
            let attempt = failures.saturating_add(1);
            if u32::try_from(attempt).unwrap_or(u32::MAX) < throttle.free_failures {
                return Ok(false);
            }
            let window = throttle
                .delay_after(u32::try_from(attempt).unwrap_or(u32::MAX))
                .and_then(|delay| chrono::Duration::from_std(delay).ok())
                .and_then(|delay| started.checked_add_signed(delay));
            let claimed = users::Entity::update_many()
                .col_expr(users::Column::FailedLogins, Expr::value(attempt))
                .col_expr(
                    users::Column::LockedUntil,
                    Expr::value(window.or(locked_until)),
                )
                .filter(users::Column::Id.eq(user_id))
                .filter(users::Column::FailedLogins.eq(failures))
                .exec(&self.writer)
                .await?
                .rows_affected;
            if claimed == 1 {
                tracing::debug!(%user_id, attempt, "login throttle window started");
                return Ok(true);
            }
            (failures, locked_until) = users::Entity::find_by_id(user_id)
                .select_only()
                .column(users::Column::FailedLogins)
                .column(users::Column::LockedUntil)
                .into_tuple::<(i32, Option<DateTime<Utc>>)>()
                .one(&self.writer)
                .await?
                .ok_or(Error::UserNotFound)?;
        }
        Err(Error::RateLimited {
            retry_after_secs: 1,
        })
    }

    /// Counts a failed attempt that was not counted before its check, and
    /// starts a window if it reached the threshold. The increment is atomic,
    /// so concurrent failures on any instance all count.
    async fn record_failed_login(&self, user_id: Uuid) -> Result<(), Error> {
        // Scoped: ExprTrait is implemented for every type and shadows `Ord::min`.
        use sea_orm::sea_query::ExprTrait as _;
        let Some(throttle) = self.config.login_throttle else {
            return Ok(());
        };
        users::Entity::update_many()
            .col_expr(
                users::Column::FailedLogins,
                Expr::col(users::Column::FailedLogins).add(1),
            )
            .filter(users::Column::Id.eq(user_id))
            .exec(&self.writer)
            .await?;
        let failures = users::Entity::find_by_id(user_id)
            .select_only()
            .column(users::Column::FailedLogins)
            .into_tuple::<i32>()
            .one(&self.writer)
            .await?
            .unwrap_or(0);
        let window = throttle
            .delay_after(u32::try_from(failures).unwrap_or(0))
            .and_then(|delay| chrono::Duration::from_std(delay).ok())
            .and_then(|delay| now().checked_add_signed(delay));
        if let Some(until) = window {
            users::Entity::update_many()
                .col_expr(users::Column::LockedUntil, Expr::value(until))
                .filter(users::Column::Id.eq(user_id))
                .filter(users::Column::FailedLogins.eq(failures))
                .exec(&self.writer)
                .await?;
        }
        Ok(())
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
                .exec(&self.writer)
                .await?
                .rows_affected;
            tracing::debug!(%user_id, revoked, "logged out (legacy, every session)");
            return Ok(LogoutOutcome {
                user_id,
                sessions_revoked: revoked,
            });
        }

        // The common case, in one batched statement: a well-formed token and
        // id whose live session matches.
        if let (Credentials::Bearer(raw), Ok(id)) = (caller.credentials(), parse_user_id(user_id))
            && let Ok(token) = SessionToken::parse(raw)
            && self.session_deleter.end(token.hash(), id).await?
        {
            tracing::debug!(user_id = %id, "logged out");
            return Ok(LogoutOutcome {
                user_id: id,
                sessions_revoked: 1,
            });
        }
        // Otherwise, say why: no live session (401) comes before a bad id (400).
        let session = caller.session(self).await?.ok_or(Error::Unauthenticated)?;
        let user_id = parse_user_id(user_id)?;
        if user_id != session.user.id {
            return Err(Error::InvalidUserId);
        }
        // The session was live a moment ago but is gone now: a concurrent
        // logout of the same token ended it first.
        Err(Error::Unauthenticated)
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::LoginThrottle;

    #[test]
    fn the_throttle_doubles_from_one_second_to_the_cap() {
        let throttle = LoginThrottle::default();
        assert_eq!(throttle.delay_after(4), None);
        assert_eq!(throttle.delay_after(5), Some(Duration::from_secs(1)));
        assert_eq!(throttle.delay_after(6), Some(Duration::from_secs(2)));
        assert_eq!(throttle.delay_after(10), Some(Duration::from_secs(32)));
        assert_eq!(throttle.delay_after(15), Some(Duration::from_secs(900)));
        assert_eq!(
            throttle.delay_after(u32::MAX),
            Some(Duration::from_secs(900))
        );
    }
}
