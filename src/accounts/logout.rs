//! Logout (SPEC §3): end the caller's own session, or, in Django's legacy
//! tokenless mode, every session of the named user.

use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::{Accounts, Caller, Credentials};
use crate::audit::{self, Event, Record};
use crate::db::ByKey;
use crate::domain::SessionToken;
use crate::entities::{sessions, users};
use crate::error::Error;
use crate::metrics::LoggedOut;

#[derive(Debug, Clone, Copy)]
pub struct LogoutOutcome {
    pub user_id: Uuid,
    pub sessions_revoked: u64,
}

impl Accounts {
    /// Ends sessions of `user_id` (SPEC §3): the caller's own session, or, in
    /// legacy mode without credentials, every session of that user.
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, user_id: &str, caller: &Caller) -> Result<LogoutOutcome, Error> {
        let outcome = self.end_sessions_named(user_id, caller).await;
        self.metrics.logged_out(LoggedOut::of(&outcome));
        outcome
    }

    async fn end_sessions_named(
        &self,
        user_id: &str,
        caller: &Caller,
    ) -> Result<LogoutOutcome, Error> {
        if !caller.credentials().were_sent() {
            return self.legacy_logout(user_id, caller).await;
        }

        // The common case, in one batched statement: a well-formed token and
        // id whose live session matches.
        let id = self.resolve_user_id(user_id).await;
        if let (Credentials::Bearer(raw), Ok(id)) = (caller.credentials(), &id)
            && let Ok(token) = SessionToken::parse(raw)
            && self
                .logout_batch
                .end(token.hash(), *id, caller.origin())
                .await?
        {
            tracing::debug!(user_id = %id, "logged out");
            return Ok(LogoutOutcome {
                user_id: *id,
                sessions_revoked: 1,
            });
        }
        // Otherwise, say why: no live session (401) comes before a bad id (400).
        let session = self.session(caller).await?.ok_or(Error::Unauthenticated)?;
        let user_id = id?;
        if user_id != session.user.id {
            return Err(Error::InvalidUserId);
        }
        // The session was live a moment ago but is gone now: a concurrent
        // logout of the same token ended it first.
        Err(Error::Unauthenticated)
    }

    /// Django's tokenless logout, when switched on: every session of the user.
    async fn legacy_logout(&self, user_id: &str, caller: &Caller) -> Result<LogoutOutcome, Error> {
        if !self.config.legacy_logout {
            return Err(Error::Unauthenticated);
        }
        let user_id = self.resolve_user_id(user_id).await?;
        let exists = users::Entity::find_by_id(user_id).count(&self.db).await? > 0;
        if !exists {
            return Err(Error::InvalidUserId);
        }
        let txn = self.writer.begin().await?;
        let revoked = sessions::Entity::delete_many()
            .filter(sessions::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?
            .rows_affected;
        let event = Record::new(Event::LoggedOut, Some(user_id), &caller.origin())
            .count("sessions", revoked)
            .name("mode", "legacy");
        audit::commit(txn, &[event]).await?;
        Ok(LogoutOutcome {
            user_id,
            sessions_revoked: revoked,
        })
    }
}

impl Accounts {
    /// The account a logout path names: its UUID, or the integer id it had in
    /// the Django app it was imported from (`gatehouse import django`), so
    /// old clients holding Django ids keep working. Anything else, and a
    /// Django id no account has, is `InvalidUserId`.
    async fn resolve_user_id(&self, raw: &str) -> Result<Uuid, Error> {
        let raw = raw.trim();
        if let Ok(id) = Uuid::parse_str(raw) {
            return Ok(id);
        }
        let django_id = match raw.parse::<i64>() {
            Ok(id) if id > 0 && raw.bytes().all(|b| b.is_ascii_digit()) => id,
            _ => return Err(Error::InvalidUserId),
        };
        users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .filter(users::Column::DjangoId.eq(django_id))
            .into_tuple::<Uuid>()
            .by_key(&self.db)
            .await?
            .ok_or(Error::InvalidUserId)
    }
}
