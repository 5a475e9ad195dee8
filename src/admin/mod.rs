//! What an operator does to accounts from the command line (`gatehouse
//! users …`, `gatehouse sessions revoke`), on the same database the servers
//! use. Every change is one transaction, and sessions live in the database,
//! so a running server sees it at its next request: a disabled or deleted
//! account's tokens are refused at once, on every instance. Each change
//! records its audit event (actor `admin-cli`) in its transaction.

pub mod cli;
pub mod trail;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use crate::accounts::Account;
use crate::audit::{self, Event, Origin, Record};
use crate::domain::Username;
use crate::entities::{sessions, users};

/// Why an operator's command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no user {0:?} (give a username, a user id, or a Django id)")]
    UnknownUser(String),
    #[error("the database failed: {0}")]
    Database(#[from] DbErr),
}

/// The account `reference` names: a user id (UUID), else a Django id (an
/// imported account's integer id), else a username (ignoring case, as login
/// does). The first of these that names an account wins.
pub async fn find(db: &DatabaseConnection, reference: &str) -> Result<Account, AdminError> {
    let reference = reference.trim();
    let mut filters = Vec::new();
    if let Ok(id) = Uuid::parse_str(reference) {
        filters.push(users::Column::Id.eq(id));
    }
    if let Ok(django_id) = reference.parse::<i64>() {
        filters.push(users::Column::DjangoId.eq(django_id));
    }
    if let Ok(name) = Username::parse(reference) {
        filters.push(users::Column::UsernameKey.eq(name.key().to_owned()));
    }
    for filter in filters {
        if let Some(row) = users::Entity::find().filter(filter).one(db).await? {
            return Ok(Account::from(row));
        }
    }
    Err(AdminError::UnknownUser(reference.to_owned()))
}

/// The account's sessions that have not expired.
pub async fn live_sessions(db: &DatabaseConnection, user_id: Uuid) -> Result<u64, AdminError> {
    Ok(sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
        .count(db)
        .await?)
}

/// Enables or disables an account. Disabling ends every session of it in
/// the same transaction; returns how many ended, or `None` when the
/// account already was in that state (nothing changes, nothing is
/// recorded).
pub async fn set_active(
    db: &DatabaseConnection,
    account: &Account,
    active: bool,
) -> Result<Option<u64>, AdminError> {
    let user_id = account.id;
    let txn = db.begin().await?;
    let changed = users::Entity::update_many()
        .col_expr(users::Column::IsActive, active.into())
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::IsActive.eq(!active))
        .exec(&txn)
        .await?
        .rows_affected;
    if changed == 0 {
        txn.rollback().await?;
        // Deleted since it was looked up, or already so.
        let exists = users::Entity::find_by_id(user_id).count(db).await? > 0;
        return if exists {
            Ok(None)
        } else {
            Err(AdminError::UnknownUser(account.username.clone()))
        };
    }
    let (event, ended) = if active {
        (Event::AccountEnabled, 0)
    } else {
        (Event::AccountDisabled, end_sessions(&txn, user_id).await?)
    };
    let event =
        Record::new(event, Some(user_id), &Origin::admin_cli()).count("sessions_ended", ended);
    audit::commit(txn, &[event]).await?;
    Ok(Some(ended))
}

/// Deletes an account and every session of it; its username and email are
/// free again. Returns how many sessions ended.
pub async fn delete(db: &DatabaseConnection, account: &Account) -> Result<u64, AdminError> {
    let user_id = account.id;
    let txn = db.begin().await?;
    // The user's row first, as a login takes it, so the two never wait on
    // each other in a circle.
    let locked =
        crate::db::lock_user_rows(&txn, Condition::all().add(users::Column::Id.eq(user_id)))
            .await?;
    if locked == 0 {
        // Deleted since it was looked up (by its user, say).
        txn.rollback().await?;
        return Err(AdminError::UnknownUser(account.username.clone()));
    }
    let ended = end_sessions(&txn, user_id).await?;
    users::Entity::delete_by_id(user_id).exec(&txn).await?;
    let event = Record::new(Event::AccountDeleted, Some(user_id), &Origin::admin_cli())
        .username(&account.username)
        .count("sessions", ended);
    audit::commit(txn, &[event]).await?;
    Ok(ended)
}

/// Ends every session of an account; returns how many there were.
pub async fn revoke_sessions(db: &DatabaseConnection, user_id: Uuid) -> Result<u64, AdminError> {
    let txn = db.begin().await?;
    let ended = end_sessions(&txn, user_id).await?;
    let event = Record::new(
        Event::LoggedOutEverywhere,
        Some(user_id),
        &Origin::admin_cli(),
    )
    .count("sessions", ended);
    audit::commit(txn, &[event]).await?;
    Ok(ended)
}

async fn end_sessions(txn: &sea_orm::DatabaseTransaction, user_id: Uuid) -> Result<u64, DbErr> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user_id))
        .exec(txn)
        .await?
        .rows_affected)
}

/// Every account (or only the disabled ones), oldest first, handed to `each`
/// a page at a time, so a million accounts never sit in memory.
pub async fn list(
    db: &DatabaseConnection,
    disabled_only: bool,
    mut each: impl FnMut(&Account),
) -> Result<u64, AdminError> {
    const PAGE: u64 = 500;
    let mut after: Option<(DateTime<Utc>, Uuid)> = None;
    let mut listed = 0;
    loop {
        let mut query = users::Entity::find()
            .order_by_asc(users::Column::DateJoined)
            .order_by_asc(users::Column::Id)
            .limit(PAGE);
        if disabled_only {
            query = query.filter(users::Column::IsActive.eq(false));
        }
        if let Some((joined, id)) = after {
            query = query.filter(
                Condition::any()
                    .add(users::Column::DateJoined.gt(joined))
                    .add(
                        Condition::all()
                            .add(users::Column::DateJoined.eq(joined))
                            .add(users::Column::Id.gt(id)),
                    ),
            );
        }
        let page = query.all(db).await?;
        for row in &page {
            each(&Account::from(row.clone()));
            listed += 1;
        }
        match page.last() {
            Some(last) if page.len() as u64 == PAGE => after = Some((last.date_joined, last.id)),
            _ => return Ok(listed),
        }
    }
}
