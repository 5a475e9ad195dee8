//! Logout with group commit. On SQLite all writes go through one connection,
//! so ending sessions one statement at a time caps logouts at the speed of
//! that connection. A single task instead takes every logout that is waiting
//! and ends them in one statement: it deletes each session whose token hash,
//! user, expiry and active account all match, and answers each caller with
//! whether its own session was deleted. A logout that matched needs no other
//! query; one that did not is examined by the caller to say why (unknown
//! token, or someone else's id). Under light load a batch is one logout;
//! under heavy load one commit ends many. Each caller is answered only after
//! the commit.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::sea_query::{Condition, Query};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::domain::TokenHash;
use crate::entities::{sessions, users};
use crate::error::Error;

/// Most sessions deleted by one statement (bounded by bind-parameter limits).
const MAX_BATCH: usize = 256;
/// Deletions allowed to wait; past it, callers wait to enqueue.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<bool, DbErr>>;

/// One logout: the session of this token, if it belongs to this user.
type Request = ((TokenHash, Uuid), Reply);

pub struct SessionDeleter {
    requests: mpsc::Sender<Request>,
}

impl SessionDeleter {
    /// Starts the deleting task on the current runtime; it ends when the
    /// deleter is dropped.
    pub fn spawn(writer: DatabaseConnection) -> Self {
        let (requests, mut queue) = mpsc::channel::<Request>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let matches = batch
                    .iter()
                    .fold(Condition::any(), |any, ((hash, user_id), _)| {
                        any.add(
                            Condition::all()
                                .add(sessions::Column::TokenHash.eq(hash.0.to_vec()))
                                .add(sessions::Column::UserId.eq(*user_id)),
                        )
                    });
                let active_users = Query::select()
                    .column(users::Column::Id)
                    .from(users::Entity)
                    .and_where(users::Column::IsActive.eq(true))
                    .to_owned();
                // The IN list lets the unique index find the rows; the pairs
                // then keep only the sessions of the named users.
                let hashes: Vec<Vec<u8>> =
                    batch.iter().map(|((hash, _), _)| hash.0.to_vec()).collect();
                let outcome = sessions::Entity::delete_many()
                    .filter(sessions::Column::TokenHash.is_in(hashes))
                    .filter(matches)
                    .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
                    .filter(sessions::Column::UserId.in_subquery(active_users))
                    .exec_with_returning(&writer)
                    .await
                    .map(|deleted| {
                        deleted
                            .into_iter()
                            .map(|s| s.token_hash)
                            .collect::<HashSet<_>>()
                    });
                for ((hash, _), reply) in batch.drain(..) {
                    let answer = match &outcome {
                        Ok(deleted) => Ok(deleted.contains(hash.0.as_slice())),
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
    pub async fn end(&self, token: TokenHash, user_id: Uuid) -> Result<bool, Error> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(((token, user_id), reply))
            .await
            .map_err(|_| Error::internal("the session deleter stopped"))?;
        let deleted = answer
            .await
            .map_err(|_| Error::internal("the session deleter dropped a request"))??;
        Ok(deleted)
    }
}
