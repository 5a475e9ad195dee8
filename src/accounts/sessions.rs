//! Sessions: opening one at login, resolving a bearer token to its live
//! session, and sweeping expired ones. A session row holds the SHA-256 of its
//! token, never the token.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{Account, Accounts, Caller, Credentials, now};
use crate::domain::SessionToken;
use crate::entities::{sessions, users};
use crate::error::Error;

/// How often a session's `last_used_at` is written: at most once a
/// minute, so that an authenticated read stays a read.
const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::minutes(1);

/// A request's live session: which one, and whose it is.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub session_id: Uuid,
    pub user: Account,
}

impl Accounts {
    /// The live session behind the caller's credentials, if any, looked up
    /// once per caller however many resolvers ask.
    pub async fn session<'c>(
        &self,
        caller: &'c Caller,
    ) -> Result<Option<&'c Authenticated>, Error> {
        let session = caller
            .session
            .get_or_try_init(|| self.authenticate(&caller.credentials))
            .await?;
        Ok(session.as_ref())
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
        let now = now();
        let found = sessions::Entity::find()
            .filter(sessions::Column::TokenHash.eq(token.hash().0.to_vec()))
            .filter(sessions::Column::ExpiresAt.gt(now))
            .find_also_related(users::Entity)
            .one(&self.db)
            .await?;
        let Some((session, Some(user))) = found else {
            return Ok(None);
        };
        if !user.is_active {
            return Ok(None);
        }
        let last_used = session.last_used_at.unwrap_or(session.created_at);
        if now - last_used >= LAST_USED_RESOLUTION {
            // In the background: the request does not wait for the writer.
            tokio::spawn(touch_session(self.writer.clone(), session.id, now));
        }
        Ok(Some(Authenticated {
            session_id: session.id,
            user: Account::from(user),
        }))
    }

    /// Opens a session for a user whose password was just checked against
    /// `user` as read, in one transaction with the login's bookkeeping:
    /// `last_login`, the throttle reset, an upgraded hash, and the user's
    /// expired sessions swept. Returns the new token and when it expires.
    ///
    /// The row is updated only if it still holds the hash that was checked
    /// and is still active: a password changed, an account disabled or
    /// deleted while the hash was computed wins, and the login fails as
    /// with a wrong password (no session is left behind, and an old
    /// password's rehash never overwrites a new password).
    pub(super) async fn open_session(
        &self,
        user: &users::Model,
        logged_in_at: DateTime<Utc>,
        rehashed: Option<&str>,
        caller: &Caller,
    ) -> Result<(SessionToken, DateTime<Utc>), Error> {
        let user_id = user.id;
        let token = SessionToken::generate().map_err(Error::internal)?;
        let expires_at = chrono::Duration::from_std(self.config.session_ttl)
            .ok()
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
            .filter(users::Column::Id.eq(user_id))
            .filter(users::Column::PasswordHash.eq(user.password_hash.as_str()))
            .filter(users::Column::IsActive.eq(true));
        if let Some(hash) = rehashed {
            update = update.col_expr(users::Column::PasswordHash, Expr::value(hash.to_owned()));
        }
        if update.exec(&txn).await?.rows_affected == 0 {
            return Err(Error::InvalidPassword);
        }
        sessions::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            token_hash: Set(token.hash().0.to_vec()),
            created_at: Set(logged_in_at),
            expires_at: Set(expires_at),
            last_used_at: Set(Some(logged_in_at)),
            user_agent: Set(caller.user_agent().map(str::to_owned)),
            ip: Set(caller.client().map(|ip| ip.to_string())),
        }
        .insert(&txn)
        .await?;
        // Housekeeping: expired sessions of this user are dead weight.
        sessions::Entity::delete_many()
            .filter(sessions::Column::UserId.eq(user_id))
            .filter(sessions::Column::ExpiresAt.lte(logged_in_at))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok((token, expires_at))
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

    /// Deletes every expired session; returns how many. They are refused
    /// already; this only reclaims the rows. Then counts the live ones for
    /// the `gatehouse_sessions_live` gauge: one scan per sweep rather than
    /// one per scrape.
    pub async fn delete_expired_sessions(&self) -> Result<u64, Error> {
        let now = now();
        let deleted = sessions::Entity::delete_many()
            .filter(sessions::Column::ExpiresAt.lte(now))
            .exec(&self.writer)
            .await?
            .rows_affected;
        if deleted > 0 {
            tracing::debug!(deleted, "expired sessions deleted");
        }
        let live = sessions::Entity::find()
            .filter(sessions::Column::ExpiresAt.gt(now))
            .count(&self.db)
            .await?;
        self.metrics.set_sessions_live(live);
        Ok(deleted)
    }
}

/// Records that a session was used now. Of concurrent requests on any
/// instance, the first one's write wins and the rest change nothing. A
/// failure is logged, not returned: the token was valid either way.
async fn touch_session(writer: DatabaseConnection, session_id: Uuid, now: DateTime<Utc>) {
    let stale = now - LAST_USED_RESOLUTION;
    let touched = sessions::Entity::update_many()
        .col_expr(sessions::Column::LastUsedAt, Expr::value(now))
        .filter(sessions::Column::Id.eq(session_id))
        .filter(
            sea_orm::Condition::any()
                .add(sessions::Column::LastUsedAt.is_null())
                .add(sessions::Column::LastUsedAt.lte(stale)),
        )
        .exec(&writer)
        .await;
    if let Err(err) = touched {
        tracing::warn!(%session_id, error = %err, "could not record a session's last use");
    }
}
