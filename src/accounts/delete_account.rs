//! Deleting one's own account, confirmed with the password (checked as at
//! login: hashing pool, per-account throttle). The row and every session go
//! in one transaction, so the username and email are free at once and the
//! account's tokens fail on every instance.

use sea_orm::{ColumnTrait, Condition, EntityTrait, TransactionTrait};
use secrecy::{ExposeSecret, SecretString};

use super::change_password::account_gone;
use super::own_sessions::{end_sessions, is_live};
use super::rate_limit::Action;
use super::{Accounts, Caller, Limited, LogoutOutcome};
use crate::audit::{self, Event, Record};
use crate::db::ByKey;
use crate::domain::messages;
use crate::entities::users;
use crate::error::Error;

impl Accounts {
    /// Deletes the caller's account; answers how many sessions ended.
    /// Counted in the caller's login bucket, since it checks a password.
    #[tracing::instrument(skip_all)]
    pub async fn delete_account(
        &self,
        password: SecretString,
        caller: &Caller,
    ) -> Limited<LogoutOutcome> {
        self.limited(Action::Login, caller, self.delete_own(password, caller))
            .await
    }

    async fn delete_own(
        &self,
        password: SecretString,
        caller: &Caller,
    ) -> Result<LogoutOutcome, Error> {
        let own = self.require_session(caller).await?;
        if password.expose_secret().is_empty() {
            return Err(Error::field("password", vec![messages::BLANK.into()]));
        }
        let row = users::Entity::find_by_id(own.user.id)
            .by_key(&self.db)
            .await?
            .ok_or(Error::Unauthenticated)?;
        self.confirm_password(&row, password)
            .await
            .map_err(account_gone)?;

        let txn = self.writer.begin().await?;
        // The user's row first, as a login takes it, so the two never wait
        // on each other in a circle; a login that took it first has its
        // session ended below. Only the row as checked, still active, and
        // only while the caller's session lives: a password changed, an
        // account disabled or deleted, a session ended while the password
        // was checked all win.
        let as_checked = Condition::all()
            .add(users::Column::Id.eq(row.id))
            .add(users::Column::PasswordHash.eq(row.password_hash.as_str()))
            .add(users::Column::IsActive.eq(true));
        if crate::db::lock_user_rows(&txn, as_checked).await? == 0
            || !is_live(&txn, own.session_id).await?
        {
            txn.rollback().await?;
            return Err(Error::Unauthenticated);
        }
        let ended = end_sessions(&txn, row.id, None).await?;
        users::Entity::delete_by_id(row.id).exec(&txn).await?;
        let event = Record::new(Event::AccountDeleted, Some(row.id), &caller.origin())
            .username(&row.username)
            .count("sessions", ended);
        audit::commit(txn, &[event]).await?;
        Ok(LogoutOutcome {
            user_id: row.id,
            sessions_revoked: ended,
        })
    }
}
