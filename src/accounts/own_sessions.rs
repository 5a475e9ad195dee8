//! A signed-in user's own sessions: listing them, ending one, ending all.
//! Every operation acts for the caller's bearer token and only on its
//! user's sessions; a session id is never a credential.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use super::{Accounts, Authenticated, Caller, LogoutOutcome, now};
use crate::audit::{self, Event, Record};
use crate::db::ByKey;
use crate::entities::sessions;
use crate::error::Error;

/// The most sessions `me { sessions }` lists, newest first. Logging in
/// opens one each time, so a script can pile up thousands; the rest stay
/// live and `logoutEverywhere` still ends them.
pub const SESSIONS_LISTED: u64 = 100;

/// A live session as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// To the minute: it is written at most once a minute.
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// Whether this is the session of the caller's token.
    pub current: bool,
}

/// The outcome of `revoke_session`.
#[derive(Debug, Clone, Copy)]
pub struct RevokedSession {
    pub id: Uuid,
    /// Whether it was the caller's own session, whose token now fails.
    pub current: bool,
}

impl Accounts {
    /// The caller's session, or `Unauthenticated`.
    pub(super) async fn require_session<'c>(
        &self,
        caller: &'c Caller,
    ) -> Result<&'c Authenticated, Error> {
        self.session(caller).await?.ok_or(Error::Unauthenticated)
    }

    /// The live sessions of `user_id`, newest first, which only that
    /// user's own token may read: for any other caller, `None`.
    pub async fn sessions_of(
        &self,
        user_id: Uuid,
        caller: &Caller,
    ) -> Result<Option<Vec<SessionInfo>>, Error> {
        let Some(own) = self.session(caller).await? else {
            return Ok(None);
        };
        if own.user.id != user_id {
            return Ok(None);
        }
        let rows = sessions::Entity::find()
            .filter(sessions::Column::UserId.eq(user_id))
            .filter(sessions::Column::ExpiresAt.gt(now()))
            // Newest first, through the (user_id, created_at) index,
            // stopping at the limit however many sessions the user has.
            .order_by_desc(sessions::Column::CreatedAt)
            .order_by_desc(sessions::Column::Id)
            .limit(SESSIONS_LISTED)
            .all(&self.db)
            .await?;
        Ok(Some(
            rows.into_iter()
                .map(|row| SessionInfo {
                    current: row.id == own.session_id,
                    id: row.id,
                    created_at: row.created_at,
                    last_used_at: row.last_used_at.unwrap_or(row.created_at),
                    expires_at: row.expires_at,
                    user_agent: row.user_agent,
                    ip: row.ip,
                })
                .collect(),
        ))
    }

    /// Ends one of the caller's live sessions, this one included. Any other
    /// id, well-formed or not, is `InvalidSessionId`, whether or not it is
    /// some other user's session.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_session(&self, id: &str, caller: &Caller) -> Result<RevokedSession, Error> {
        let own = self.require_session(caller).await?;
        let id = Uuid::parse_str(id.trim()).map_err(|_| Error::InvalidSessionId)?;
        let txn = self.writer.begin().await?;
        let ended = sessions::Entity::delete_many()
            .filter(sessions::Column::Id.eq(id))
            .filter(sessions::Column::UserId.eq(own.user.id))
            .filter(sessions::Column::ExpiresAt.gt(now()))
            .exec(&txn)
            .await?
            .rows_affected;
        if ended == 0 {
            txn.rollback().await?;
            return Err(Error::InvalidSessionId);
        }
        let event = Record::new(Event::SessionRevoked, Some(own.user.id), &caller.origin())
            .id("session_id", id);
        audit::commit(txn, &[event]).await?;
        Ok(RevokedSession {
            id,
            current: id == own.session_id,
        })
    }

    /// Ends every session of the caller's user, this one included.
    #[tracing::instrument(skip_all)]
    pub async fn logout_everywhere(&self, caller: &Caller) -> Result<LogoutOutcome, Error> {
        let own = self.require_session(caller).await?;
        let txn = self.writer.begin().await?;
        let ended = end_sessions(&txn, own.user.id, None).await?;
        let event = Record::new(
            Event::LoggedOutEverywhere,
            Some(own.user.id),
            &caller.origin(),
        )
        .count("sessions", ended);
        audit::commit(txn, &[event]).await?;
        Ok(LogoutOutcome {
            user_id: own.user.id,
            sessions_revoked: ended,
        })
    }
}

/// Whether the session `id` exists and has not expired.
pub(super) async fn is_live(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, Error> {
    Ok(sessions::Entity::find_by_id(id)
        .filter(sessions::Column::ExpiresAt.gt(now()))
        .by_key(db)
        .await?
        .is_some())
}

/// Deletes every session of `user_id` but `except`, expired ones too, and
/// returns how many of them were live.
pub(super) async fn end_sessions(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    except: Option<Uuid>,
) -> Result<u64, Error> {
    let now = now();
    let others = |query: sea_orm::DeleteMany<sessions::Entity>| {
        let query = query.filter(sessions::Column::UserId.eq(user_id));
        match except {
            Some(keep) => query.filter(sessions::Column::Id.ne(keep)),
            None => query,
        }
    };
    let live = others(sessions::Entity::delete_many())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?
        .rows_affected;
    others(sessions::Entity::delete_many())
        .filter(sessions::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(live)
}
