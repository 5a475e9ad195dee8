//! Login (SPEC §3): check the password on the hashing pool, under the
//! per-account throttle, and open a session. Under `--uniform-login` an
//! unknown name, a wrong password and a disabled account all answer
//! `InvalidCredentials`, each after one argon2id verification.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::rate_limit::Action;
use super::{Account, Accounts, Caller, Limited, now};
use crate::audit::{Event, Record};
use crate::db::ByKey;
use crate::domain::{self, SessionToken, Username, messages};
use crate::entities::users;
use crate::error::{Error, FieldErrors};
use crate::metrics::LoggedIn;

pub struct LoginInput {
    pub username: String,
    pub password: SecretString,
}

#[derive(Debug)]
pub struct LoginOutcome {
    pub token: SessionToken,
    pub expires_at: DateTime<Utc>,
    /// The account as it is after this login.
    pub user: Account,
}

impl Accounts {
    /// Checks a password and opens a session, if the caller's login bucket
    /// has room.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, input: LoginInput, caller: &Caller) -> Limited<LoginOutcome> {
        let password = self.config.uniform_login.then(|| input.password.clone());
        let mut account = None;
        let attempt = async {
            self.try_login(input, caller).await.map_err(|failed| {
                account = failed.user_id;
                failed.err
            })
        };
        let mut limited = self.limited(Action::Login, caller, attempt).await;
        // The real reason, whatever the client is shown, and whether or not
        // its event can be written.
        self.metrics
            .logged_in(LoggedIn::of(&limited.outcome, limited.refused));
        if !limited.refused
            && let Err(err) = &limited.outcome
            && let Some(event) = failure_event(err, account, caller)
            && let Err(failed) = self.audit.write(event).await
        {
            limited.outcome = Err(failed);
        }
        // The client's own rate limit says nothing about any account, and
        // stays as it is under `--uniform-login`.
        if let Some(password) = password
            && !limited.refused
            && let Err(err) = limited.outcome
        {
            limited.outcome = Err(self.uniform(err, password).await);
        }
        limited
    }

    async fn try_login(&self, input: LoginInput, caller: &Caller) -> Result<LoginOutcome, Failed> {
        let mut errors = FieldErrors::new();
        if input.username.trim().is_empty() {
            errors.insert("username".into(), vec![messages::BLANK.into()]);
        }
        if input.password.expose_secret().is_empty() {
            errors.insert("password".into(), vec![messages::BLANK.into()]);
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors).into());
        }

        // Every stored name passed `Username::parse`, so a name that does not
        // parse has no account; it never reaches the database (PostgreSQL
        // would refuse a NUL byte in it with an error, not a miss).
        let row = match Username::parse(&input.username) {
            Ok(name) => {
                users::Entity::find()
                    .filter(users::Column::UsernameKey.eq(name.key()))
                    .by_key(&self.db)
                    .await?
            }
            Err(_) => None,
        };
        let Some(mut row) = row else {
            return Err(Error::UserNotFound.into());
        };

        // The row can change while its password is checked: another login
        // upgrades its hash, the password is changed, the account disabled
        // or deleted. A session opens only on the row as checked; otherwise
        // the row is read again and the login decided on what it holds now.
        for _ in 0..2 {
            let rehashed = self
                .confirm_password(&row, input.password.clone())
                .await
                .map_err(|err| Failed::of(err, row.id))?
                .rehashed;
            // Only someone who knows the password learns that the account is disabled.
            if !row.is_active {
                return Err(Failed::of(Error::AccountDisabled, row.id));
            }
            let logged_in_at = now();
            // Boxed: opening a session (its insert, its audit events) is a
            // large future, and inline it would make every login's as
            // large, copied whole on each one, failed ones too: with the
            // audit commit's, those copies were 20,000 instructions of an
            // unknown-user login's 294,000 (bench/instructions.sh).
            let opened = Box::pin(self.open_session(
                &row,
                logged_in_at,
                rehashed.as_ref().map(|(new, from)| (new.as_str(), *from)),
                caller,
            ))
            .await?;
            let Some((token, expires_at)) = opened else {
                match users::Entity::find_by_id(row.id).by_key(&self.db).await? {
                    Some(current) => row = current,
                    None => return Err(Failed::of(Error::UserNotFound, row.id)),
                }
                continue;
            };
            let mut user = Account::from(row);
            user.last_login = Some(logged_in_at);
            return Ok(LoginOutcome {
                token,
                expires_at,
                user,
            });
        }
        // Changed again while it was checked a second time: retry shortly.
        Err(Error::Overloaded {
            retry_after_secs: 1,
        }
        .into())
    }

    /// A failed login as `--uniform-login` shows it: an unknown name, a wrong
    /// password, a disabled account and a throttled one are all
    /// `InvalidCredentials`. The two that checked no password (an unknown
    /// name, an account inside a throttling window) spend one argon2id
    /// verification of a decoy on the same pool first, so that none answers
    /// sooner than a wrong password. The throttle still holds: a throttled
    /// account's password is not checked. Anything else (a full queue, a
    /// database error) is answered as it is.
    async fn uniform(&self, err: Error, password: SecretString) -> Error {
        match err {
            Error::UserNotFound | Error::RateLimited { .. } => {
                let decoy = self
                    .hash_pool
                    .verify_decoy(domain::normalise_password(&password))
                    .await;
                match decoy {
                    Ok(()) => Error::InvalidCredentials,
                    Err(busy) => busy,
                }
            }
            Error::InvalidPassword | Error::AccountDisabled => Error::InvalidCredentials,
            other => other,
        }
    }
}

/// A failed login: its error, and the account it was for, if there is one.
struct Failed {
    err: Error,
    user_id: Option<Uuid>,
}

impl Failed {
    fn of(err: Error, user_id: Uuid) -> Self {
        Self {
            err,
            user_id: Some(user_id),
        }
    }
}

impl From<Error> for Failed {
    fn from(err: Error) -> Self {
        Self { err, user_id: None }
    }
}

impl From<sea_orm::DbErr> for Failed {
    fn from(err: sea_orm::DbErr) -> Self {
        Error::from(err).into()
    }
}

/// The audit event of a failed login, if it is an account event: a wrong
/// password, an unknown name (whose name is not kept: people type
/// passwords into it) and a disabled account are `login_failed` with the
/// code; a refusal by the account's throttle is `throttled`. Other failures
/// (a blank field, a full hashing queue, a database error) are not.
fn failure_event(err: &Error, user_id: Option<Uuid>, caller: &Caller) -> Option<Record> {
    let origin = caller.origin();
    match err {
        Error::UserNotFound | Error::InvalidPassword | Error::AccountDisabled => Some(
            Record::new(Event::LoginFailed, user_id, &origin).name("reason", err.code().as_str()),
        ),
        Error::RateLimited { .. } => Some(Record::new(Event::Throttled, user_id, &origin)),
        _ => None,
    }
}
