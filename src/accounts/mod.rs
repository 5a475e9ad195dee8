//! The account service: every rule about registering, logging in and out.
//! The GraphQL resolvers call it, and REST reaches it through them. It knows
//! the database and nothing of HTTP or GraphQL; the HTTP layer's health
//! check reaches the database only through `Accounts::ping`.
//!
//! One file per behaviour: `register.rs`, `login.rs`, `logout.rs`;
//! `sessions.rs` (authenticating a token, opening a session, the expiry
//! sweep); `own_sessions.rs` (a user listing and ending their sessions);
//! `change_password.rs`; `delete_account.rs`; `password_check.rs` (a
//! password checked under the throttle); `throttle.rs` (the per-account
//! login throttle); `rate_limit.rs` (the per-client limiter);
//! `logout_batch.rs` (logouts ended in batches); `hashing/` (the argon2id
//! pool); `django_hash/` (Django's formats); `caller.rs` (who is calling).

mod account;
mod caller;
mod change_password;
mod delete_account;
mod django_hash;
mod hashing;
mod login;
mod logout;
mod logout_batch;
mod own_sessions;
mod password_check;
pub mod rate_limit;
mod register;
mod sessions;
mod throttle;

use sea_orm::DatabaseConnection;

use crate::metrics::Metrics;

pub use account::Account;
pub use caller::{Caller, Credentials, is_usable_request_id};
pub use change_password::{ChangePasswordInput, PasswordChanged};
pub use hashing::{HashPool, HashingConfig, Verification};
pub use login::{LoginInput, LoginOutcome};
pub use logout::LogoutOutcome;
pub use own_sessions::{RevokedSession, SESSIONS_LISTED, SessionInfo};
pub use rate_limit::{ClientLimits, RateState};
pub use register::RegisterInput;
pub use sessions::Authenticated;
pub use throttle::LoginThrottle;

use crate::domain::PasswordPolicy;
use crate::error::Error;
use rate_limit::Action;

/// Settings of the account rules.
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    pub password_policy: PasswordPolicy,
    pub session_ttl: std::time::Duration,
    /// Django's tokenless logout (SPEC §3).
    pub legacy_logout: bool,
    /// `--uniform-login`: every failed login looks the same (OWASP ASVS
    /// 6.3.8); see `login.rs`.
    pub uniform_login: bool,
    /// Per-account login throttling; `None` switches it off.
    pub login_throttle: Option<LoginThrottle>,
    /// How long audit events are kept (`--audit-retention`).
    pub audit_retention: std::time::Duration,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            password_policy: PasswordPolicy::default(),
            session_ttl: std::time::Duration::from_secs(7 * 24 * 60 * 60),
            legacy_logout: false,
            uniform_login: false,
            login_throttle: Some(LoginThrottle::default()),
            audit_retention: std::time::Duration::from_secs(90 * 24 * 60 * 60),
        }
    }
}

/// The outcome of a rate-limited action (register, login), with the state
/// of the client's bucket after it, for the transport to show (the IETF
/// `RateLimit` headers). `rate` is `None` when no limit applied.
#[derive(Debug)]
pub struct Limited<T> {
    pub rate: Option<RateState>,
    pub outcome: Result<T, Error>,
    /// The client's bucket was empty: the action did not run.
    refused: bool,
}

pub struct Accounts {
    /// Reads.
    db: DatabaseConnection,
    /// Writes. On SQLite a pool of one connection, so writers queue in the
    /// pool instead of meeting SQLite's lock and its sleeping busy handler;
    /// on PostgreSQL the same pool as `db`.
    writer: DatabaseConnection,
    logout_batch: logout_batch::LogoutBatch,
    /// Audit events that are writes of their own (failed logins).
    audit: crate::audit::AuditBatch,
    hash_pool: HashPool,
    config: AccountsConfig,
    client_limits: ClientLimits,
    metrics: Metrics,
    touches: sessions::Touches,
}

impl Accounts {
    /// Must be called inside a tokio runtime (it starts the logout batch).
    pub fn new(
        db: DatabaseConnection,
        writer: DatabaseConnection,
        hash_pool: HashPool,
        config: AccountsConfig,
        client_limits: ClientLimits,
        metrics: Metrics,
    ) -> Self {
        Self {
            db,
            logout_batch: logout_batch::LogoutBatch::spawn(writer.clone()),
            audit: crate::audit::AuditBatch::spawn(writer.clone(), metrics.clone()),
            writer,
            hash_pool,
            config,
            client_limits,
            metrics,
            touches: sessions::Touches::default(),
        }
    }

    /// Returns once the audit events queued so far (those written behind
    /// the answer: failed logins) are written.
    pub async fn flush_audit(&self) {
        self.audit.flush().await;
    }

    /// The reading pool, for benchmarks and tests that set up rows directly.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Succeeds while the database answers a query on the account tables.
    pub async fn ping(&self) -> Result<(), Error> {
        use sea_orm::{EntityTrait, QuerySelect};
        crate::entities::sessions::Entity::find()
            .select_only()
            .column(crate::entities::sessions::Column::Id)
            .limit(1)
            .into_tuple::<uuid::Uuid>()
            .one(&self.db)
            .await?;
        Ok(())
    }

    /// The reading and the writing pool (the same pool on PostgreSQL), for
    /// the metrics to look at.
    pub fn pools(&self) -> (&DatabaseConnection, &DatabaseConnection) {
        (&self.db, &self.writer)
    }

    /// Forgets idle clients of the rate limiter; see `ClientLimits::forget_idle`.
    pub fn forget_idle_clients(&self) {
        self.client_limits.forget_idle();
    }

    /// Runs `action` for `caller` if the caller's bucket for `kind` has room.
    async fn limited<T>(
        &self,
        kind: Action,
        caller: &Caller,
        action: impl Future<Output = Result<T, Error>>,
    ) -> Limited<T> {
        match self.client_limits.check(kind, caller.client()) {
            Ok(rate) => Limited {
                rate,
                outcome: action.await,
                refused: false,
            },
            Err(refused) => Limited {
                rate: Some(refused.state),
                outcome: Err(Error::RateLimited {
                    retry_after_secs: refused.retry_after_secs,
                }),
                refused: true,
            },
        }
    }
}

pub(crate) use crate::clock::now;
