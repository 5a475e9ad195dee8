//! Events that are writes of their own (a failed login changes nothing
//! else), written behind the answer and in batches.
//!
//! A failed login is answered at once; its event is queued, and one task
//! writes what the queue holds in one statement. Waiting for that commit
//! would cost a flood of cheap failures (unknown names) a fifth of its
//! throughput: every commit makes each reader connection drop its page
//! cache, and with clients waiting a commit carries only the few events
//! that arrived during the previous one. Written behind, the task gathers
//! for `GATHER` after the first event, so one commit carries every event
//! of that window. The queue is bounded: past `QUEUE` waiting events a
//! failed login waits for room, so a flood can neither grow memory nor
//! drop events. What is lost is what a crash catches in the queue, about
//! one window's worth; a graceful stop writes it out (`flush`). Each event
//! is logged when it happens, as it is queued, so the log has it whether
//! or not the table does; one that cannot be written is logged again at
//! `error` and counted (`gatehouse_audit_events_lost_total`).

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

use super::{Record, insert};
use crate::error::Error;
use crate::metrics::Metrics;

/// Most events one batch writes: one statement's worth.
const MAX_BATCH: usize = super::ROWS_PER_STATEMENT;
/// Events allowed to wait; past it, callers wait to enqueue.
const QUEUE: usize = 8192;
/// How long the writer gathers events after the first of a batch.
const GATHER: Duration = Duration::from_millis(5);

enum Request {
    Write(Record),
    /// Answered once every event queued before it is written.
    Flush(oneshot::Sender<()>),
}

pub struct AuditBatch {
    requests: mpsc::Sender<Request>,
}

impl AuditBatch {
    /// Starts the writing task on the current runtime; it ends, after
    /// writing what is queued, when the batch is dropped.
    pub fn spawn(writer: DatabaseConnection, metrics: Metrics) -> Self {
        let (requests, mut queue) = mpsc::channel::<Request>(QUEUE);
        tokio::spawn(async move {
            let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
            while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
                gather(&mut queue, &mut batch).await;
                let mut records = Vec::with_capacity(batch.len());
                let mut flushed = Vec::new();
                for request in batch.drain(..) {
                    match request {
                        Request::Write(record) => records.push(record),
                        Request::Flush(done) => flushed.push(done),
                    }
                }
                write(&writer, &metrics, &records).await;
                for done in flushed {
                    let _ = done.send(());
                }
            }
        });
        Self { requests }
    }

    /// Logs `record` and queues it to be written; waits only if the queue
    /// is full.
    pub async fn write(&self, record: Record) -> Result<(), Error> {
        let room = self
            .requests
            .reserve()
            .await
            .map_err(|_| Error::internal("the audit batch stopped"))?;
        record.log();
        room.send(Request::Write(record));
        Ok(())
    }

    /// Returns once every event queued before the call is written (or
    /// counted as lost).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.requests.send(Request::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// Adds to `batch` what arrives within `GATHER` of its first event, up to
/// `MAX_BATCH`. It sleeps out the window and then takes what is waiting,
/// rather than waking for each event as it comes; a flush waits the
/// window too. A batch already full (a backlog) does not wait.
async fn gather(queue: &mut mpsc::Receiver<Request>, batch: &mut Vec<Request>) {
    if batch.len() >= MAX_BATCH {
        return;
    }
    tokio::time::sleep(GATHER).await;
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(request) => batch.push(request),
            Err(_) => return,
        }
    }
}

/// Writes `records`; if that fails, logs and counts each as lost.
async fn write(writer: &DatabaseConnection, metrics: &Metrics, records: &[Record]) {
    if records.is_empty() {
        return;
    }
    let Err(err) = insert(writer, records).await else {
        return;
    };
    metrics.audit_events_lost(records.len() as u64);
    for record in records {
        tracing::error!(
            target: "gatehouse::audit",
            event = record.event.as_str(),
            user_id = record.user_id.map(|id| id.to_string()).as_deref(),
            request_id = record.origin.request_id.as_deref(),
            error = %err,
            "audit event lost: it could not be written"
        );
    }
}
