//! Writing one batch of Django accounts into Gatehouse's `users`, in one
//! transaction: accounts already imported (same Django id) are left alone,
//! accounts that clash with another by Gatehouse's uniqueness rules (SPEC
//! §5: usernames ignoring case, emails ignoring case) are reported, and the
//! rest are inserted. Rows come in ascending Django id, so of two clashing
//! accounts the earlier one is the one imported.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, SqlErr,
    TransactionTrait,
};
use uuid::{Timestamp, Uuid};

use super::account::{DjangoUser, Row};
use super::{Options, Tally};
use crate::audit::{self, Event, Origin, Record};
use crate::db::is_unavailable;
use crate::domain::{Email, Username};
use crate::entities::users;

/// An account already in Gatehouse, as a conflict names it.
#[derive(Clone)]
struct Holder {
    username: String,
    django_id: Option<i64>,
    id: Uuid,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.django_id {
            Some(id) => write!(f, "{:?} (Django #{id})", self.username),
            None => write!(f, "{:?} (Gatehouse {})", self.username, self.id),
        }
    }
}

/// Keys taken by accounts this run has accepted but not written (a dry run
/// writes nothing, so the database cannot tell it about them).
#[derive(Default)]
pub struct Seen {
    usernames: HashMap<String, Holder>,
    emails: HashMap<String, Holder>,
}

/// One account, checked against Gatehouse's rules and ready to insert.
struct Candidate<'a> {
    row: users::ActiveModel,
    holder: Holder,
    username_key: String,
    email_key: String,
    django: &'a DjangoUser,
}

/// How many times a batch is tried when a running server gets in its way: a
/// registration takes a name between the batch's check and its insert, or
/// SQLite is busy with a server's write.
const ATTEMPTS: u32 = 5;

/// Writes one batch (or, in a dry run, works out what it would write) and
/// counts each account's outcome.
pub async fn write(
    db: Option<&DatabaseConnection>,
    batch: &[Row],
    options: &Options,
    seen: &mut Seen,
    tally: &mut Tally,
) -> Result<(), DbErr> {
    let mut candidates = Vec::with_capacity(batch.len());
    for row in batch {
        let user = match row {
            Ok(user) => user,
            Err(unreadable) => {
                tally.skip(format!(
                    "Django #{}: {}; not imported",
                    unreadable.id, unreadable.reason
                ));
                continue;
            }
        };
        match candidate(user, options) {
            Ok(candidate) => candidates.push(candidate),
            Err(reason) => tally.skip(format!(
                "Django #{} {:?}: {reason}; not imported",
                user.id, user.username
            )),
        }
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut outcome = Tally::default();
        let mut accepted = Seen::default();
        match write_once(db, &candidates, options, seen, &mut accepted, &mut outcome).await {
            Ok(()) => {
                // Written accounts are in the database for the next batch to
                // find; only a dry run has to remember them.
                if options.dry_run {
                    seen.usernames.extend(accepted.usernames);
                    seen.emails.extend(accepted.emails);
                }
                tally.add(outcome);
                return Ok(());
            }
            Err(err)
                if attempt < ATTEMPTS && (is_unique_violation(&err) || is_unavailable(&err)) =>
            {
                tracing::debug!(attempt, error = %err, "the batch met a running server; retrying");
                let pause = std::time::Duration::from_millis(50 * u64::from(attempt));
                tokio::time::sleep(pause).await;
            }
            Err(err) => return Err(err),
        }
    }
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// `db` is `None` for a dry run into a database that does not exist yet:
/// nothing is there to clash with.
async fn write_once(
    db: Option<&DatabaseConnection>,
    candidates: &[Candidate<'_>],
    options: &Options,
    seen: &Seen,
    accepted: &mut Seen,
    tally: &mut Tally,
) -> Result<(), DbErr> {
    let txn = match db {
        Some(db) => Some(db.begin().await?),
        None => None,
    };
    let existing = match &txn {
        Some(txn) => {
            users::Entity::find()
                .filter(
                    Condition::any()
                        .add(users::Column::DjangoId.is_in(candidates.iter().map(|c| c.django.id)))
                        .add(
                            users::Column::UsernameKey
                                .is_in(candidates.iter().map(|c| c.username_key.clone())),
                        )
                        .add(
                            users::Column::EmailKey.is_in(
                                candidates
                                    .iter()
                                    .filter(|c| !c.email_key.is_empty())
                                    .map(|c| c.email_key.clone()),
                            ),
                        ),
                )
                .all(txn)
                .await?
        }
        None => Vec::new(),
    };
    let present: HashSet<i64> = existing.iter().filter_map(|row| row.django_id).collect();
    let holder = |row: &users::Model| Holder {
        username: row.username.clone(),
        django_id: row.django_id,
        id: row.id,
    };
    let by_username: HashMap<&str, Holder> = existing
        .iter()
        .map(|row| (row.username_key.as_str(), holder(row)))
        .collect();
    let by_email: HashMap<&str, Holder> = existing
        .iter()
        .filter(|row| !row.email_key.is_empty())
        .map(|row| (row.email_key.as_str(), holder(row)))
        .collect();

    let mut rows = Vec::new();
    let mut events = Vec::new();
    let origin = Origin::admin_cli();
    for candidate in candidates {
        let django = candidate.django;
        if present.contains(&django.id) {
            tally.already_present += 1;
            continue;
        }
        let taken_name = by_username
            .get(candidate.username_key.as_str())
            .or_else(|| seen.usernames.get(&candidate.username_key))
            .or_else(|| accepted.usernames.get(&candidate.username_key));
        let taken_email = (!candidate.email_key.is_empty())
            .then(|| {
                by_email
                    .get(candidate.email_key.as_str())
                    .or_else(|| seen.emails.get(&candidate.email_key))
                    .or_else(|| accepted.emails.get(&candidate.email_key))
            })
            .flatten();
        let clash = match (taken_name, taken_email) {
            (Some(other), _) => Some(("username", other)),
            (None, Some(other)) => Some(("email", other)),
            (None, None) => None,
        };
        if let Some((what, other)) = clash {
            tally.conflict(format!(
                "Django #{} {:?} <{}>: its {what} is taken by {other}; not imported",
                django.id, django.username, django.email
            ));
            continue;
        }
        accepted
            .usernames
            .insert(candidate.username_key.clone(), candidate.holder.clone());
        if !candidate.email_key.is_empty() {
            accepted
                .emails
                .insert(candidate.email_key.clone(), candidate.holder.clone());
        }
        rows.push(candidate.row.clone());
        events.push(
            Record::new(Event::Imported, Some(candidate.holder.id), &origin)
                .id("django_id", django.id),
        );
        tally.imported += 1;
    }
    let Some(txn) = txn else {
        return Ok(());
    };
    if options.dry_run {
        return txn.rollback().await;
    }
    // 500 rows of 12 columns stay under every backend's bound on statement
    // parameters.
    for chunk in rows.chunks(500) {
        users::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    audit::commit(txn, &events).await
}

/// The Gatehouse account for a Django one, or why it cannot be one.
fn candidate<'a>(user: &'a DjangoUser, options: &Options) -> Result<Candidate<'a>, String> {
    let username = Username::parse(&user.username)
        .map_err(|errors| format!("the username is not accepted ({})", errors.join(" ")))?;
    let (email, email_key) = if user.email.trim().is_empty() {
        // Django allows a blank email; it is kept blank, and a blank key is
        // left out of the unique email index.
        (String::new(), String::new())
    } else {
        let email = Email::parse(&user.email)
            .map_err(|errors| format!("the email is not accepted ({})", errors.join(" ")))?;
        (email.as_str().to_owned(), email.key().to_owned())
    };
    let id = id_for(user);
    let holder = Holder {
        username: username.as_str().to_owned(),
        django_id: Some(user.id),
        id,
    };
    let row = users::ActiveModel {
        id: Set(id),
        username: Set(username.as_str().to_owned()),
        username_key: Set(username.key().to_owned()),
        email: Set(email),
        email_key: Set(email_key.clone()),
        password_hash: Set(user.password.clone()),
        is_active: Set(user.is_active || options.active_means_logged_in),
        date_joined: Set(user.date_joined),
        last_login: Set(user.last_login),
        failed_logins: Set(0),
        locked_until: Set(None),
        django_id: Set(Some(user.id)),
    };
    Ok(Candidate {
        row,
        holder,
        username_key: username.key().to_owned(),
        email_key,
        django: user,
    })
}

/// A UUID v7 stamped with the account's `date_joined`, so ids keep sorting
/// by creation time across native and imported accounts.
fn id_for(user: &DjangoUser) -> Uuid {
    let seconds = u64::try_from(user.date_joined.timestamp()).unwrap_or(0);
    Uuid::new_v7(Timestamp::from_unix(
        uuid::NoContext,
        seconds,
        user.date_joined.timestamp_subsec_nanos(),
    ))
}
