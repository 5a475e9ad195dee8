//! Registration (SPEC §3, §5): parse every field, then let the unique indexes
//! decide who gets a name or an email.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, TransactionTrait,
};
use secrecy::SecretString;
use uuid::Uuid;

use super::rate_limit::Action;
use super::{Account, Accounts, Caller, Limited, now};
use crate::audit::{self, Event, Record};
use crate::domain::{Email, NewPassword, Username};
use crate::entities::users;
use crate::error::{Error, FieldErrors};
use crate::metrics::Registered;

pub struct RegisterInput {
    pub username: String,
    pub email: String,
    pub password: SecretString,
}

impl Accounts {
    /// Creates an account, if the caller's register bucket has room.
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, input: RegisterInput, caller: &Caller) -> Limited<Account> {
        let limited = self
            .limited(Action::Register, caller, self.create_account(input, caller))
            .await;
        self.metrics.registered(Registered::of(&limited.outcome));
        limited
    }

    async fn create_account(
        &self,
        input: RegisterInput,
        caller: &Caller,
    ) -> Result<Account, Error> {
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
        if self
            .key_exists(users::Column::UsernameKey, username.key())
            .await?
        {
            return Err(Error::UsernameTaken);
        }
        if self
            .key_exists(users::Column::EmailKey, email.key())
            .await?
        {
            return Err(Error::EmailTaken);
        }

        let password_hash = self.hash_pool.hash(password.secret().clone()).await?;
        let row = users::ActiveModel {
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
            django_id: Set(None),
        };
        let txn = self.writer.begin().await?;
        match row.insert(&txn).await {
            Ok(row) => {
                let event = Record::new(Event::Registered, Some(row.id), &caller.origin());
                audit::commit(txn, &[event]).await?;
                Ok(Account::from(row))
            }
            Err(err) => {
                txn.rollback().await?;
                Err(crate::db::unique_violation(&err)
                    .map(Error::from)
                    .unwrap_or_else(|| err.into()))
            }
        }
    }

    /// Whether a user's case-folded username or email (`column`) is `key`.
    async fn key_exists(&self, column: users::Column, key: &str) -> Result<bool, Error> {
        let count = users::Entity::find()
            .filter(column.eq(key))
            .count(&self.db)
            .await?;
        Ok(count > 0)
    }
}
