//! Events that are writes of their own (a failed login changes nothing
//! else), written in batches: one task takes every event that is waiting
//! and inserts them in one statement, as logouts are ended in one. Under a
//! login flood one commit then carries many events, and each caller is
//! answered once its event is committed.

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{mpsc, oneshot};

use super::{Record, insert, logged};
use crate::error::Error;

/// Most events one statement inserts (8 values each, far below every
/// backend's bind-parameter limit).
const MAX_BATCH: usize = 256;
/// Events allowed to wait; past it, callers wait to enqueue.
const QUEUE: usize = 4096;

type Request = (Record, oneshot::Sender<Result<(), DbErr>>);

pub struct AuditBatch {
    requests: mpsc::Sender<Request>,
}

impl AuditBatch {
    /// Starts the writing task on the current runtime; it ends when the
    /// batch is dropped.
    pub fn spawn(writer: DatabaseConnection) -> Self {
        let (requests, mut queue) = mpsc::channel::<Request>(QUEUE);
        tokio::spawn(async move {
            let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
            while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (records, replies): (Vec<Record>, Vec<_>) = batch.drain(..).unzip();
                let written = insert(&writer, &records).await;
                if written.is_ok() {
                    logged(&records);
                }
                for reply in replies {
                    let _ = reply.send(written.clone());
                }
            }
        });
        Self { requests }
    }

    /// Writes `record` with whatever else is waiting; returns once it is
    /// committed.
    pub async fn write(&self, record: Record) -> Result<(), Error> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send((record, reply))
            .await
            .map_err(|_| Error::internal("the audit batch stopped"))?;
        answer
            .await
            .map_err(|_| Error::internal("the audit batch dropped an event"))??;
        Ok(())
    }
}
