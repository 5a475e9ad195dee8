//! Logout with group commit. On SQLite all writes go through one connection,
//! so ending sessions one statement at a time caps logouts at the speed of
//! that connection. A single task instead takes every logout that is waiting
//! and ends them in one statement: it deletes each session whose token hash,
//! user, expiry and active account all match, and answers each caller with
//! whether its own session was deleted. A logout that matched needs no other
//! query; one that did not is examined by the caller to say why (unknown
//! token, or someone else's id). Under light load a batch is one logout;
//! under heavy load one commit ends many. The `logged_out` audit events of
//! the deleted sessions are inserted in the same transaction, after the
//! delete, in one statement; on SQLite the whole transaction is one call
//! to the driver when every session the batch names ends. Each caller is
//! answered only after the commit.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::sqlx::sqlite::{Sqlite, SqliteArguments, SqliteRow};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    QueryFilter, RuntimeErr, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::audit::{self, Event, Origin, Record};
use crate::domain::TokenHash;
use crate::entities::{sessions, users};
use crate::error::Error;

/// Most sessions deleted by one statement (bounded by bind-parameter limits).
const MAX_BATCH: usize = 256;
/// Deletions allowed to wait; past it, callers wait to enqueue.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<bool, DbErr>>;

/// One logout: the session of this token, if it belongs to this user, and
/// where the request came from.
type Request = ((TokenHash, Uuid, Origin), Reply);

pub struct LogoutBatch {
    requests: mpsc::Sender<Request>,
}

impl LogoutBatch {
    /// Starts the deleting task on the current runtime; it ends when the
    /// batch is dropped.
    pub fn spawn(writer: DatabaseConnection) -> Self {
        let (requests, mut queue) = mpsc::channel::<Request>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let outcome = end_batch(&writer, &batch).await;
                for (i, (_, reply)) in batch.drain(..).enumerate() {
                    let answer = match &outcome {
                        Ok(ended) => Ok(ended[i]),
                        Err(err) => Err(err.clone()),
                    };
                    let _ = reply.send(answer);
                }
            }
        });
        Self { requests }
    }

    /// Ends the live session of `token` if it belongs to `user_id` (an
    /// active user); `true` when it did and is now deleted.
    pub async fn end(
        &self,
        token: TokenHash,
        user_id: Uuid,
        origin: Origin,
    ) -> Result<bool, Error> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(((token, user_id, origin), reply))
            .await
            .map_err(|_| Error::internal("the logout batch stopped"))?;
        let deleted = answer
            .await
            .map_err(|_| Error::internal("the logout batch dropped a request"))??;
        Ok(deleted)
    }
}

/// Ends the sessions of one batch and records their events, in one
/// transaction; returns, for each request in order, whether it ended its
/// session. Only a request naming the deleted row's own token and user
/// ended it, and only the first of several identical requests: the others
/// fall back to explaining why not. The events are logged once committed.
async fn end_batch(writer: &DatabaseConnection, batch: &[Request]) -> Result<Vec<bool>, DbErr> {
    let events: Vec<Record> = batch
        .iter()
        .map(|((_, user_id, origin), _)| {
            Record::new(Event::LoggedOut, Some(*user_id), origin).count("sessions", 1)
        })
        .collect();
    let ended = match writer.get_database_backend() {
        DbBackend::Sqlite => end_on_sqlite(writer, batch, &events).await?,
        _ => end_in_transaction(writer, batch, &events).await?,
    };
    audit::logged(of_ended(&events, &ended));
    Ok(ended)
}

/// The events of the requests that ended their session.
fn of_ended<'a>(events: &'a [Record], ended: &'a [bool]) -> impl Iterator<Item = &'a Record> {
    events
        .iter()
        .zip(ended)
        .filter(|(_, ended)| **ended)
        .map(|(event, _)| event)
}

/// Which requests ended their session, given the deleted rows' token
/// hashes and users: the first request naming each.
fn ended(batch: &[Request], mut deleted: HashSet<(Vec<u8>, Uuid)>) -> Vec<bool> {
    batch
        .iter()
        .map(|((hash, user_id, _), _)| deleted.remove(&(hash.0.to_vec(), *user_id)))
        .collect()
}

/// SQLite: the conditions a session must meet to be ended, on top of its
/// token and user: unexpired (a parameter: now), of an active account. The
/// account is looked up by its key for each session: `user_id IN (SELECT
/// id FROM users WHERE is_active)` would have SQLite list every active
/// account for every batch.
const LIVE: &str = "sessions.expires_at > ? AND EXISTS (SELECT 1 FROM users AS u WHERE u.id = sessions.user_id AND u.is_active = TRUE)";

/// What SQLite's error says when the batch's script finds that not every
/// session it names was ended (`end_on_sqlite`). No quote in it: SQLite
/// quotes the text into its message, and would double one.
const NOT_ALL_ENDED: &str = "logout batch: not every session named was ended";

/// SQLite: the batch in one call to the driver when every session it names
/// ends, as nearly all do under a flood of logouts, and in two otherwise.
/// Each hand-off to SQLite's thread costs more than the statements, and
/// between two hand-offs the write lock is held while the writer waits.
/// Requests naming the same token and user are sent once, the first of
/// them (`firsts`): only it can end the session.
///
/// The script opens a `BEGIN IMMEDIATE` transaction, so no other writer
/// comes in between; deletes, returning what it ended; checks that it ended
/// as many sessions as it names; inserts the event of each; and commits.
/// The named pairs are distinct and each is at most one session (token
/// hashes are unique), so a full count says that each ended its own.
/// SQLite cannot stop a script on a condition outside a trigger, so the
/// check raises an error: a JSON path that is bad only when the count is
/// short, and whose text (`NOT_ALL_ENDED`) SQLite's message repeats. That
/// error stops the script before the insert, with the deleted rows read and
/// the transaction open: an error a function raises never rolls a
/// transaction back in SQLite (only I/O, full-disk, out-of-memory, busy and
/// interrupt errors may). A second call inserts the events of exactly the
/// sessions deleted and commits. (Inserting the events first, from a join
/// on the sessions the delete would end, found each session twice.)
async fn end_on_sqlite(
    writer: &DatabaseConnection,
    batch: &[Request],
    events: &[Record],
) -> Result<Vec<bool>, DbErr> {
    use sea_orm::sqlx::{self, Arguments as _};
    let bound = |err| DbErr::Custom(format!("binding a logout: {err}"));
    let firsts = firsts(batch);
    let named: Vec<(&TokenHash, Uuid)> = batch
        .iter()
        .zip(&firsts)
        .filter(|(_, first)| **first)
        .map(|(((hash, user_id, _), _), _)| (hash, *user_id))
        .collect();
    // The parameters are bare `?`s, bound in the order they appear (see
    // `audit::push_sqlite_insert`): each named pair's token hash in the
    // `IN` list, which lets the unique index find the rows, then each
    // pair's hash and user, which keep only the sessions of the named
    // users; the time sessions must outlive; how many the batch names; the
    // events.
    // Each batch size is a script of its own in the writer's statement
    // cache. Rounding sizes up to powers of two (repeating the last
    // request) would bound them, but measured no faster (with an earlier
    // script of seven parameters a request): the script grows with its
    // slots.
    let mut args = SqliteArguments::default();
    let mut hashes = String::with_capacity(3 * named.len());
    let mut pairs = String::with_capacity(40 * named.len());
    for (i, (hash, _)) in named.iter().enumerate() {
        hashes.push_str(if i == 0 { "?" } else { ", ?" });
        args.add(hash.0.to_vec()).map_err(bound)?;
    }
    for (i, (hash, user_id)) in named.iter().enumerate() {
        if i > 0 {
            pairs.push_str(" OR ");
        }
        pairs.push_str("(token_hash = ? AND user_id = ?)");
        args.add(hash.0.to_vec()).map_err(bound)?;
        args.add(*user_id).map_err(bound)?;
    }
    args.add(Utc::now()).map_err(bound)?;
    args.add(named.len() as i64).map_err(bound)?;
    let mut script = format!(
        "BEGIN IMMEDIATE;
         DELETE FROM sessions WHERE token_hash IN ({hashes}) AND ({pairs}) AND {LIVE}
         RETURNING token_hash, user_id;
         SELECT 1 WHERE json_extract('0', CASE changes() WHEN ? THEN '$' ELSE '{NOT_ALL_ENDED}' END);
         "
    );
    audit::push_sqlite_insert(of_ended(events, &firsts), &mut script, &mut args)?;
    script.push_str("COMMIT;");
    let query = sqlx::query_with(sqlx::AssertSqlSafe(script), args);

    let mut ended_short = None;
    run_sqlite_script(writer, query, |rows| {
        let ended = ended(batch, deleted(rows)?);
        let mut text = String::new();
        let mut args = SqliteArguments::default();
        if ended.contains(&true) {
            audit::push_sqlite_insert(of_ended(events, &ended), &mut text, &mut args)?;
        }
        text.push_str("COMMIT;");
        ended_short = Some(ended);
        Ok(sqlx::query_with(sqlx::AssertSqlSafe(text), args))
    })
    .await?;
    // Committed in one call: the count said that every named pair ended,
    // so the rows need not be read.
    Ok(ended_short.unwrap_or(firsts))
}

/// For each request, whether it is the first of the batch to name its
/// session (token and user).
fn firsts(batch: &[Request]) -> Vec<bool> {
    let mut seen = HashSet::with_capacity(batch.len());
    batch
        .iter()
        .map(|((hash, user_id, _), _)| seen.insert((hash.0, *user_id)))
        .collect()
}

/// The deleted sessions' token hashes and users, from the rows the delete
/// returned.
fn deleted(rows: &[SqliteRow]) -> Result<HashSet<(Vec<u8>, Uuid)>, DbErr> {
    use sea_orm::sqlx::Row as _;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sea_orm::sqlx::Error>>()
        .map_err(|err| DbErr::Query(RuntimeErr::SqlxError(err.into())))
}

/// SQLite only: runs `script` on the writer's connection in one call. The
/// script opens a transaction (`BEGIN IMMEDIATE; …`) and ends it (`…; COMMIT`) unless it stops at the error
/// that says `NOT_ALL_ENDED`; then `then`, given the rows so far, makes the
/// script that ends it, run in a second call while the write lock is still
/// held. Each call to sqlx's SQLite driver is a hand-off to the
/// connection's thread and back; a transaction through sea-orm makes one
/// per statement plus one each for `BEGIN` and `COMMIT`, and on a hot path
/// those hand-offs cost more than the SQL. That is why this goes below
/// sea-orm to its driver. On any other error, the transaction is rolled
/// back on the same connection before it goes back to the pool; a
/// connection that cannot roll back is closed instead.
async fn run_sqlite_script<'q>(
    writer: &DatabaseConnection,
    script: sea_orm::sqlx::query::Query<'q, Sqlite, SqliteArguments>,
    then: impl FnOnce(
        &[SqliteRow],
    ) -> Result<sea_orm::sqlx::query::Query<'q, Sqlite, SqliteArguments>, DbErr>,
) -> Result<(), DbErr> {
    use futures_util::StreamExt as _;
    let conn_err = |err: sea_orm::sqlx::Error| DbErr::Conn(RuntimeErr::SqlxError(err.into()));
    let exec_err = |err: sea_orm::sqlx::Error| DbErr::Exec(RuntimeErr::SqlxError(err.into()));
    let mut conn = writer
        .get_sqlite_connection_pool()
        .acquire()
        .await
        .map_err(conn_err)?;
    let mut cut_off = CloseIfCutOff {
        conn: &mut conn,
        done: false,
    };
    // The driver stops a script at its first error, after the rows of the
    // statements before it.
    let mut rows = Vec::new();
    let mut stopped = None;
    {
        let mut results = script.fetch(&mut **cut_off.conn);
        while let Some(result) = results.next().await {
            match result {
                Ok(row) => rows.push(row),
                Err(err) => {
                    stopped = Some(err);
                    break;
                }
            }
        }
    }
    let outcome = match stopped {
        None => Ok(()),
        Some(err) if says_not_all_ended(&err) => match then(&rows) {
            Ok(next) => next
                .execute(&mut **cut_off.conn)
                .await
                .map(|_| ())
                .map_err(exec_err),
            Err(err) => Err(err),
        },
        Some(err) => Err(exec_err(err)),
    };
    if outcome.is_err() {
        // No transaction is open if `BEGIN` itself failed, or if SQLite
        // already rolled it back (an I/O or full-disk error, a failed
        // `COMMIT`); that error says so and is of no interest.
        let rollback = sea_orm::sqlx::query("ROLLBACK")
            .execute(&mut **cut_off.conn)
            .await;
        if let Err(rollback) = rollback
            && !rollback.to_string().contains("no transaction is active")
        {
            tracing::warn!(error = %rollback, "closing a SQLite connection that could not roll back");
            cut_off.conn.close_on_drop();
        }
    }
    cut_off.done = true;
    outcome
}

/// Whether `err` is the script's own check saying that not every session
/// the batch names was ended (the bundled SQLite's "bad JSON path: '…'",
/// as since 3.45).
fn says_not_all_ended(err: &sea_orm::sqlx::Error) -> bool {
    matches!(err, sea_orm::sqlx::Error::Database(db) if db.message().contains(NOT_ALL_ENDED))
}

/// A pooled connection is closed rather than returned to the pool if the
/// scripts on it are cut off (their future dropped, as at shutdown): it may
/// be inside their transaction, which sqlx does not know of.
struct CloseIfCutOff<'a> {
    conn: &'a mut sea_orm::sqlx::pool::PoolConnection<Sqlite>,
    done: bool,
}

impl Drop for CloseIfCutOff<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.conn.close_on_drop();
        }
    }
}

/// Any other backend: the delete, then the events of what it ended, in one
/// sea-orm transaction.
async fn end_in_transaction(
    writer: &DatabaseConnection,
    batch: &[Request],
    events: &[Record],
) -> Result<Vec<bool>, DbErr> {
    let matches = batch
        .iter()
        .fold(Condition::any(), |any, ((hash, user_id, _), _)| {
            any.add(
                Condition::all()
                    .add(sessions::Column::TokenHash.eq(hash.0.to_vec()))
                    .add(sessions::Column::UserId.eq(*user_id)),
            )
        });
    let account_active = Query::select()
        .expr(Expr::val(1))
        .from(users::Entity)
        .and_where(
            Expr::col((users::Entity, users::Column::Id))
                .equals((sessions::Entity, sessions::Column::UserId)),
        )
        .and_where(Expr::col((users::Entity, users::Column::IsActive)).eq(true))
        .to_owned();
    // The IN list lets the unique index find the rows; the pairs then keep
    // only the sessions of the named users.
    let hashes: Vec<Vec<u8>> = batch
        .iter()
        .map(|((hash, _, _), _)| hash.0.to_vec())
        .collect();
    let txn: DatabaseTransaction = writer.begin().await?;
    let deleted: HashSet<(Vec<u8>, Uuid)> = sessions::Entity::delete_many()
        .filter(sessions::Column::TokenHash.is_in(hashes))
        .filter(matches)
        .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
        .filter(Expr::exists(account_active))
        .exec_with_returning(&txn)
        .await?
        .into_iter()
        .map(|s| (s.token_hash, s.user_id))
        .collect();
    let ended = ended(batch, deleted);
    let ended_events: Vec<&Record> = of_ended(events, &ended).collect();
    audit::insert(&txn, &ended_events).await?;
    txn.commit().await?;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use sea_orm::{ActiveModelTrait, Set};

    use super::*;
    use crate::domain::SessionToken;

    async fn user(db: &DatabaseConnection, name: &str) -> Uuid {
        let id = Uuid::now_v7();
        users::ActiveModel {
            id: Set(id),
            username: Set(name.into()),
            username_key: Set(name.into()),
            email: Set(format!("{name}@example.com")),
            email_key: Set(format!("{name}@example.com")),
            password_hash: Set("unused".into()),
            is_active: Set(true),
            date_joined: Set(Utc::now()),
            last_login: Set(None),
            failed_logins: Set(0),
            locked_until: Set(None),
            django_id: Set(None),
        }
        .insert(db)
        .await
        .unwrap();
        id
    }

    async fn session(db: &DatabaseConnection, user_id: Uuid, expires_in: Duration) -> TokenHash {
        let token = SessionToken::generate().unwrap();
        sessions::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            token_hash: Set(token.hash().0.to_vec()),
            created_at: Set(Utc::now()),
            expires_at: Set(Utc::now() + expires_in),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        token.hash()
    }

    fn origin(request_id: &str) -> Origin {
        Origin {
            actor: crate::audit::Actor::Myself,
            ip: None,
            request_id: Some(request_id.into()),
        }
    }

    /// The `logged_out` events written: user and request id.
    async fn logged_out(db: &DatabaseConnection) -> Vec<(Option<Uuid>, Option<String>)> {
        crate::entities::audit_events::Entity::find()
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event == "logged_out")
            .map(|e| (e.user_id, e.request_id))
            .collect()
    }

    /// On a current-thread runtime every request below is queued before the
    /// deleting task runs, so they all land in one batch.
    #[tokio::test(flavor = "current_thread")]
    async fn one_batch_answers_only_the_owner_and_only_once() {
        let db = crate::db::in_memory().await;
        let (alice, bob) = (user(&db, "alice").await, user(&db, "bob").await);
        let hash = session(&db, alice, Duration::days(1)).await;

        let batch = LogoutBatch::spawn(db.clone());
        let (as_bob, as_alice, again) = tokio::join!(
            batch.end(hash, bob, origin("bob")),
            batch.end(hash, alice, origin("alice")),
            batch.end(hash, alice, origin("again")),
        );
        assert!(!as_bob.unwrap(), "someone else's id ends nothing");
        assert!(as_alice.unwrap(), "the owner's logout ends the session");
        assert!(
            !again.unwrap(),
            "a duplicate in the same batch is not told it ended it"
        );
        assert_eq!(
            logged_out(&db).await,
            [(Some(alice), Some("alice".into()))],
            "one event, the owner's, from the request that ended it"
        );
    }

    /// A batch whose every named session ends (on SQLite, the one call):
    /// each session is deleted and recorded once, a repeated request is
    /// told it ended nothing, and no other session is touched.
    #[tokio::test(flavor = "current_thread")]
    async fn a_batch_that_ends_every_session_it_names_records_each_once() {
        let db = crate::db::in_memory().await;
        let (alice, bob) = (user(&db, "alice").await, user(&db, "bob").await);
        let (a1, a2) = (
            session(&db, alice, Duration::days(1)).await,
            session(&db, alice, Duration::days(1)).await,
        );
        let b1 = session(&db, bob, Duration::days(1)).await;
        let untouched = session(&db, bob, Duration::days(1)).await;

        let batch = LogoutBatch::spawn(db.clone());
        let (first, again, second, bobs) = tokio::join!(
            batch.end(a1, alice, origin("a1")),
            batch.end(a1, alice, origin("a1 again")),
            batch.end(a2, alice, origin("a2")),
            batch.end(b1, bob, origin("b1")),
        );
        assert_eq!(
            (
                first.unwrap(),
                again.unwrap(),
                second.unwrap(),
                bobs.unwrap()
            ),
            (true, false, true, true)
        );
        let mut events = logged_out(&db).await;
        events.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(
            events,
            [
                (Some(alice), Some("a1".into())),
                (Some(alice), Some("a2".into())),
                (Some(bob), Some("b1".into())),
            ]
        );
        let left: Vec<Vec<u8>> = sessions::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.token_hash)
            .collect();
        assert_eq!(left, [untouched.0.to_vec()]);
    }

    /// A batch that ends only some of what it names, whose events then
    /// cannot be written (their table renamed away): the whole batch fails
    /// and its delete is rolled back; the writer works on afterwards.
    #[tokio::test(flavor = "current_thread")]
    async fn a_short_batch_whose_events_fail_ends_nothing() {
        use sea_orm::ConnectionTrait;
        let db = crate::db::in_memory().await;
        let (alice, bob) = (user(&db, "alice").await, user(&db, "bob").await);
        let hash = session(&db, alice, Duration::days(1)).await;
        db.execute_unprepared("ALTER TABLE audit_events RENAME TO away")
            .await
            .unwrap();

        let batch = LogoutBatch::spawn(db.clone());
        let (as_alice, as_bob) = tokio::join!(
            batch.end(hash, alice, origin("alice")),
            batch.end(hash, bob, origin("bob")),
        );
        assert!(as_alice.is_err() && as_bob.is_err());
        assert_eq!(sessions::Entity::find().all(&db).await.unwrap().len(), 1);

        db.execute_unprepared("ALTER TABLE away RENAME TO audit_events")
            .await
            .unwrap();
        assert!(batch.end(hash, alice, origin("later")).await.unwrap());
        assert_eq!(logged_out(&db).await, [(Some(alice), Some("later".into()))]);
    }

    /// The events and the delete agree on what a batch ends: neither an
    /// expired session nor a disabled account's, whatever else is in it.
    #[tokio::test(flavor = "current_thread")]
    async fn expired_sessions_and_disabled_accounts_end_nothing_and_record_nothing() {
        let db = crate::db::in_memory().await;
        let (alice, carol) = (user(&db, "alice").await, user(&db, "carol").await);
        let expired = session(&db, alice, Duration::seconds(-1)).await;
        let live = session(&db, alice, Duration::days(1)).await;
        let disabled = session(&db, carol, Duration::days(1)).await;
        users::Entity::update_many()
            .col_expr(
                users::Column::IsActive,
                sea_orm::sea_query::Expr::value(false),
            )
            .filter(users::Column::Id.eq(carol))
            .exec(&db)
            .await
            .unwrap();

        let batch = LogoutBatch::spawn(db.clone());
        let (expired, live, disabled) = tokio::join!(
            batch.end(expired, alice, origin("expired")),
            batch.end(live, alice, origin("live")),
            batch.end(disabled, carol, origin("disabled")),
        );
        assert_eq!(
            (expired.unwrap(), live.unwrap(), disabled.unwrap()),
            (false, true, false)
        );
        assert_eq!(logged_out(&db).await, [(Some(alice), Some("live".into()))]);
        assert_eq!(
            sessions::Entity::find().all(&db).await.unwrap().len(),
            2,
            "the expired and the disabled account's sessions are left to the sweep"
        );
    }
}
