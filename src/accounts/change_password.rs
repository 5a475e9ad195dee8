//! Changing one's password while signed in: the current password is checked
//! as at login (hashing pool, per-account throttle), the new one follows
//! every rule of SPEC §5, and every other session ends.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use secrecy::{ExposeSecret, SecretString};

use super::own_sessions::{end_sessions, is_live};
use super::rate_limit::Action;
use super::{Account, Accounts, Caller, Limited};
use crate::audit::{self, Event, Record};
use crate::db::ByKey;
use crate::domain::{self, NewPassword, Username, messages};
use crate::entities::users;
use crate::error::{Error, FieldErrors};

pub struct ChangePasswordInput {
    pub current_password: SecretString,
    pub new_password: SecretString,
}

#[derive(Debug)]
pub struct PasswordChanged {
    pub user: Account,
    /// How many other sessions ended.
    pub sessions_revoked: u64,
}

impl Accounts {
    /// Replaces the caller's password and ends their other sessions; the
    /// caller's own session stays. Counted in the caller's login bucket,
    /// since it checks a password as login does.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        &self,
        input: ChangePasswordInput,
        caller: &Caller,
    ) -> Limited<PasswordChanged> {
        self.limited(Action::Login, caller, self.replace_password(input, caller))
            .await
    }

    async fn replace_password(
        &self,
        input: ChangePasswordInput,
        caller: &Caller,
    ) -> Result<PasswordChanged, Error> {
        let own = self.require_session(caller).await?;
        let username = Username::parse(&own.user.username).ok();
        let new_password = self.check_new_password(&input, username.as_ref())?;
        let mut new_hash = None;

        // The stored hash can change under us: a login that upgrades it, or
        // another change. Each round checks the current password against
        // the row as read and swaps the hash only if the row still holds it.
        for _ in 0..2 {
            let row = users::Entity::find_by_id(own.user.id)
                .by_key(&self.db)
                .await?
                .filter(|row| row.is_active)
                .ok_or(Error::Unauthenticated)?;
            self.confirm_password(&row, input.current_password.clone())
                .await
                .map_err(account_gone)?;
            // Hashed once the current password is known to be right, so a
            // wrong guess costs the pool one hash, as at login.
            let new_hash = match &new_hash {
                Some(hash) => hash,
                None => new_hash.insert(self.hash_pool.hash(new_password.secret().clone()).await?),
            };
            // The change is the transaction's first statement, a write
            // (see `db::lock_user_rows`), and only of the row as checked
            // and still active.
            let txn = self.writer.begin().await?;
            let changed = users::Entity::update_many()
                .col_expr(users::Column::PasswordHash, Expr::value(new_hash.as_str()))
                .col_expr(users::Column::FailedLogins, Expr::value(0))
                .col_expr(
                    users::Column::LockedUntil,
                    Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
                )
                .filter(users::Column::Id.eq(row.id))
                .filter(users::Column::PasswordHash.eq(row.password_hash.as_str()))
                .filter(users::Column::IsActive.eq(true))
                .exec(&txn)
                .await?
                .rows_affected;
            if changed == 0 {
                // Changed, disabled or deleted meanwhile: the next round
                // reads what the row holds now.
                txn.rollback().await?;
                continue;
            }
            // The caller's session ended while the password was checked
            // (a logout everywhere, a revoke): it may not change anything.
            if !is_live(&txn, own.session_id).await? {
                txn.rollback().await?;
                return Err(Error::Unauthenticated);
            }
            let ended = end_sessions(&txn, row.id, Some(own.session_id)).await?;
            let event = Record::new(Event::PasswordChanged, Some(row.id), &caller.origin())
                .count("sessions_ended", ended);
            audit::commit(txn, &[event]).await?;
            return Ok(PasswordChanged {
                user: Account::from(row),
                sessions_revoked: ended,
            });
        }
        // Changed twice while this one checked: the caller is racing itself.
        Err(Error::RateLimited {
            retry_after_secs: 1,
        })
    }

    /// The new password, if both fields are present and it follows every
    /// rule; it must also differ from the current one.
    fn check_new_password(
        &self,
        input: &ChangePasswordInput,
        username: Option<&Username>,
    ) -> Result<NewPassword, Error> {
        let mut errors = FieldErrors::new();
        if input.current_password.expose_secret().is_empty() {
            errors.insert("currentPassword".into(), vec![messages::BLANK.into()]);
        }
        let new = NewPassword::parse(&input.new_password, username, self.config.password_policy)
            .map_err(|e| errors.insert("newPassword".into(), e))
            .ok();
        if let Some(new) = &new
            && new.secret().expose_secret()
                == domain::normalise_password(&input.current_password).expose_secret()
        {
            errors.insert(
                "newPassword".into(),
                vec!["The new password must differ from the current one.".into()],
            );
        }
        match new {
            Some(new) if errors.is_empty() => Ok(new),
            _ => Err(Error::Validation(errors)),
        }
    }
}

/// The account went away while its password was being checked: for a
/// signed-in caller, that is a session that no longer holds.
pub(super) fn account_gone(err: Error) -> Error {
    match err {
        Error::UserNotFound => Error::Unauthenticated,
        other => other,
    }
}
