//! Sessions: opening one at login, resolving a bearer token to its live
//! session, and sweeping expired ones. A session row holds the SHA-256 of its
//! token, never the token.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{Account, Accounts, Caller, Credentials, now};
use crate::audit::{self, Actor, Event, Record};
use crate::db::ByKey;
use crate::domain::SessionToken;
use crate::entities::{sessions, users};
use crate::error::Error;

/// How often a session's `last_used_at` is written: at most once a
/// minute, so that an authenticated read stays a read.
const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::minutes(1);

/// The sessions whose `last_used_at` is being written now, so that the
/// requests that arrive before the first write commits start no write of
/// their own.
#[derive(Debug, Default, Clone)]
pub(super) struct Touches(Arc<Mutex<HashSet<Uuid>>>);

/// A claim on writing one session's last use; released when dropped.
struct Touch {
    touches: Touches,
    session_id: Uuid,
}

impl Touches {
    fn claim(&self, session_id: Uuid) -> Option<Touch> {
        let mut pending = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        pending.insert(session_id).then(|| Touch {
            touches: self.clone(),
            session_id,
        })
    }
}

impl Drop for Touch {
    fn drop(&mut self) {
        let mut pending = self
            .touches
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        pending.remove(&self.session_id);
    }
}

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
            .by_key(&self.db)
            .await?;
        let Some((session, Some(user))) = found else {
            return Ok(None);
        };
        if !user.is_active {
            return Ok(None);
        }
        let last_used = session.last_used_at.unwrap_or(session.created_at);
        if now - last_used >= LAST_USED_RESOLUTION
            && let Some(touch) = self.touches.claim(session.id)
        {
            // In the background: the request does not wait for the writer.
            tokio::spawn(touch_session(self.writer.clone(), touch, now));
        }
        Ok(Some(Authenticated {
            session_id: session.id,
            user: Account::from(user),
        }))
    }

    /// Opens a session for a user whose password was just checked against
    /// `user` as read, in one transaction with the login's bookkeeping:
    /// `last_login`, the throttle reset, an upgraded hash (`rehashed`: the
    /// new PHC string, and the old hash's format), the user's expired
    /// sessions swept, and the audit events. Returns the new token and when
    /// it expires.
    ///
    /// The row is updated only if it still holds the hash that was checked
    /// and is still active. `None` when it does not: a hash upgraded by
    /// another login, a password changed, an account disabled or deleted
    /// while the hash was computed wins, no session is opened, and an old
    /// password's rehash never overwrites a new password.
    pub(super) async fn open_session(
        &self,
        user: &users::Model,
        logged_in_at: DateTime<Utc>,
        rehashed: Option<(&str, &'static str)>,
        caller: &Caller,
    ) -> Result<Option<(SessionToken, DateTime<Utc>)>, Error> {
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
        if let Some((hash, _)) = rehashed {
            update = update.col_expr(users::Column::PasswordHash, Expr::value(hash.to_owned()));
        }
        if update.exec(&txn).await?.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(None);
        }
        let session_id = Uuid::now_v7();
        sessions::ActiveModel {
            id: Set(session_id),
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
        let origin = caller.origin();
        let mut events = vec![
            Record::new(Event::LoginSucceeded, Some(user_id), &origin).id("session_id", session_id),
        ];
        if let Some((_, from)) = rehashed {
            events.push(
                Record::new(
                    Event::HashUpgraded,
                    Some(user_id),
                    &origin.as_actor(Actor::System),
                )
                .name("from", from),
            );
        }
        audit::commit(txn, &events).await?;
        Ok(Some((token, expires_at)))
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

impl Accounts {
    /// Deletes the audit events older than `--audit-retention`; returns how
    /// many.
    pub async fn delete_old_audit_events(&self) -> Result<u64, Error> {
        let kept =
            chrono::Duration::from_std(self.config.audit_retention).map_err(Error::internal)?;
        let cutoff = now()
            .checked_sub_signed(kept)
            .ok_or_else(|| Error::internal("audit retention out of range"))?;
        let deleted = audit::delete_before(&self.writer, cutoff).await?;
        if deleted > 0 {
            tracing::debug!(deleted, "old audit events deleted");
        }
        Ok(deleted)
    }
}

/// Records that a session was used now, holding `touch` until it is
/// written. Within a process only the holder of the claim writes; across
/// instances the first write wins and the others change nothing. A
/// failure is logged, not returned: the token was valid either way.
async fn touch_session(writer: DatabaseConnection, touch: Touch, now: DateTime<Utc>) {
    let session_id = touch.session_id;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_per_session_until_it_is_released() {
        let touches = Touches::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let first = touches.claim(a).unwrap();
        assert!(touches.claim(a).is_none(), "already being written");
        let other = touches.claim(b).unwrap();
        drop(first);
        assert!(touches.claim(a).is_some(), "free again once written");
        drop(other);
        assert!(touches.0.lock().unwrap().is_empty());
    }
}
