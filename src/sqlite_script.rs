//! SQLite only: a transaction of a hot path as a few calls to sqlx's
//! SQLite driver, below sea-orm. Each call is a hand-off to the
//! connection's thread and back; a transaction through sea-orm makes one
//! per statement plus one each for `BEGIN` and `COMMIT`, and on a hot path
//! those hand-offs cost more than the SQL. Its users are the two batches
//! that write on every request of a flood: the logout batch
//! (`accounts/logout_batch.rs`) and the failed logins' audit events
//! (`audit/batch.rs`). It knows nothing of either, so that both can use it
//! without importing each other.

use sea_orm::sqlx::query::Query;
use sea_orm::sqlx::sqlite::{Sqlite, SqliteArguments, SqliteRow};
use sea_orm::{DatabaseConnection, DbErr, RuntimeErr};

/// A statement, or a script of several, for one call to the driver.
pub type Script<'q> = Query<'q, Sqlite, SqliteArguments>;

/// Runs `first`, which opens a transaction (`BEGIN IMMEDIATE; …`), then
/// each of the scripts `then` makes of the rows it returned, in order, the
/// last of which must end the transaction (`COMMIT`); all on one of
/// `writer`'s connections, each script in one call, the write lock held
/// from the first to the last. If any fails, the ones after it are not run
/// and the transaction is rolled back on the same connection before it goes
/// back to the pool; a connection that cannot roll back is closed instead,
/// as is one whose scripts are cut off (their future dropped).
pub async fn run<'q>(
    writer: &DatabaseConnection,
    first: Script<'q>,
    then: impl FnOnce(&[SqliteRow]) -> Result<Vec<Script<'q>>, DbErr>,
) -> Result<(), DbErr> {
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
    let outcome = async {
        let rows = first
            .fetch_all(&mut **cut_off.conn)
            .await
            .map_err(exec_err)?;
        for script in then(&rows)? {
            script
                .execute(&mut **cut_off.conn)
                .await
                .map_err(exec_err)?;
        }
        Ok(())
    }
    .await;
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
