//! Sessions: opening one at login, resolving a bearer token to its live
//! session, and sweeping expired ones. A session row holds the SHA-256 of its
//! token, never the token.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{Account, Accounts, Caller, Credentials, now};
use crate::domain::SessionToken;
use crate::entities::{sessions, users};
use crate::error::Error;

/// A request's live session: whose it is.
#[derive(Debug, Clone)]
pub struct Authenticated {
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
        let found = sessions::Entity::find()
            .filter(sessions::Column::TokenHash.eq(token.hash().0.to_vec()))
            .filter(sessions::Column::ExpiresAt.gt(now()))
            .find_also_related(users::Entity)
            .one(&self.db)
            .await?;
        Ok(match found {
            Some((_, Some(user))) if user.is_active => Some(Authenticated {
                user: Account::from(user),
            }),
            _ => None,
        })
    }

    /// Opens a session for a user whose password was just checked, in one
    /// transaction with the login's bookkeeping: `last_login`, the throttle
    /// reset, an upgraded hash, and the user's expired sessions swept.
    /// Returns the new token and when it expires.
    pub(super) async fn open_session(
        &self,
        user_id: Uuid,
        logged_in_at: DateTime<Utc>,
        rehashed: Option<&str>,
    ) -> Result<(SessionToken, DateTime<Utc>), Error> {
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
            .filter(users::Column::Id.eq(user_id));
        if let Some(hash) = rehashed {
            update = update.col_expr(users::Column::PasswordHash, Expr::value(hash.to_owned()));
        }
        update.exec(&txn).await?;
        sessions::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            token_hash: Set(token.hash().0.to_vec()),
            created_at: Set(logged_in_at),
            expires_at: Set(expires_at),
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
    /// already; this only reclaims the rows.
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
}
