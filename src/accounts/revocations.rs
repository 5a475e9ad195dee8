//! Session deletion with group commit. Every logout ends in one DELETE, and
//! on SQLite all writes go through one connection, so deleting sessions one
//! statement at a time caps logouts at the speed of that connection. A
//! single task instead takes every deletion that is waiting, deletes them in
//! one statement, and answers each caller with whether its own session was
//! still there. Under light load a batch is one session and costs what a
//! lone DELETE costs; under heavy load one commit ends many logouts. Each
//! caller is answered only after the commit.

use std::collections::HashSet;

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::entities::sessions;
use crate::error::Error;

/// Most sessions deleted by one statement (bounded by bind-parameter limits).
const MAX_BATCH: usize = 256;
/// Deletions allowed to wait; past it, callers wait to enqueue.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<bool, DbErr>>;

pub struct SessionDeleter {
    requests: mpsc::Sender<(Uuid, Reply)>,
}

impl SessionDeleter {
    /// Starts the deleting task on the current runtime; it ends when the
    /// deleter is dropped.
    pub fn spawn(writer: DatabaseConnection) -> Self {
        let (requests, mut queue) = mpsc::channel::<(Uuid, Reply)>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let ids: Vec<Uuid> = batch.iter().map(|(id, _)| *id).collect();
                let outcome = sessions::Entity::delete_many()
                    .filter(sessions::Column::Id.is_in(ids))
                    .exec_with_returning(&writer)
                    .await
                    .map(|deleted| deleted.into_iter().map(|s| s.id).collect::<HashSet<_>>());
                for (id, reply) in batch.drain(..) {
                    let answer = match &outcome {
                        Ok(deleted) => Ok(deleted.contains(&id)),
                        Err(err) => Err(err.clone()),
                    };
                    let _ = reply.send(answer);
                }
            }
        });
        Self { requests }
    }

    /// Deletes one session; `true` when it existed until now.
    pub async fn delete(&self, id: Uuid) -> Result<bool, Error> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send((id, reply))
            .await
            .map_err(|_| Error::internal("the session deleter stopped"))?;
        let deleted = answer
            .await
            .map_err(|_| Error::internal("the session deleter dropped a request"))??;
        Ok(deleted)
    }
}
