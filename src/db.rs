//! The database: opening the pools, and what the backends' errors mean. The
//! only place that knows PostgreSQL from SQLite but two, both writes on a
//! hot path that SQLite takes a way of its own: the logout batch's scripts
//! (`accounts/logout_batch.rs`) and the audit trail's insert (`audit`).
//! The account service otherwise sees sea-orm and the meanings below.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::unique::{USERS_EMAIL_KEY, USERS_USERNAME_KEY, UniqueIndex};
use sea_orm::sqlx::error::ErrorKind;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnAcquireErr, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseConnectionType, DbBackend, DbErr, EntityTrait, RuntimeErr, Select, SelectTwo, Selector,
    SelectorTrait,
};
use secrecy::ExposeSecret;

use crate::config::DatabaseArgs;
use crate::error::Error;
use crate::metrics::PoolUsage;

/// The connection pools the service uses: `reader` for queries, `writer`
/// for changes. SQLite allows one writer at a time; giving it a pool of one
/// connection makes writers wait their turn in the pool (fair, async) rather
/// than in SQLite's busy handler, which sleeps and retries. PostgreSQL
/// handles concurrent writers itself and gets one shared pool.
pub struct Pools {
    pub reader: DatabaseConnection,
    pub writer: DatabaseConnection,
}

pub async fn connect_pools(args: &DatabaseArgs) -> Result<Pools, DbErr> {
    let reader = connect(args).await?;
    let writer = match reader.get_database_backend() {
        DbBackend::Sqlite => {
            let mut single = args.clone();
            single.db_max_connections = 1;
            connect(&single).await?
        }
        _ => reader.clone(),
    };
    Ok(Pools { reader, writer })
}

/// Opens the connection pool. PostgreSQL gets a statement timeout; SQLite gets WAL (readers never wait for the
/// writer), foreign keys on, and `synchronous=NORMAL`: in WAL mode a commit
/// survives a crash or `kill -9` of the process; only an OS crash or power
/// loss can take back the last commits.
pub async fn connect(args: &DatabaseArgs) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(args.url().expose_secret().to_owned());
    let statement_timeout_ms = args.db_statement_timeout.as_millis().to_string();
    options
        .max_connections(args.db_max_connections)
        .acquire_timeout(args.db_acquire_timeout)
        .connect_timeout(args.db_acquire_timeout)
        // sqlx would log every statement; requests are logged once by the HTTP layer.
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        })
        // An embedded database's connections cannot go stale: skip the ping
        // sqlx would otherwise send before handing out each connection, which
        // doubles the cost of a short query. PostgreSQL keeps it, so that a
        // connection broken by an outage is replaced rather than used.
        .map_sqlx_sqlite_pool_opts(|pool| pool.test_before_acquire(false))
        .map_sqlx_postgres_opts(move |opts| {
            opts.options([("statement_timeout", statement_timeout_ms.as_str())])
        });
    Database::connect(options).await
}

/// The uniqueness rule a failed write broke, among those the service tells
/// apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueKey {
    Username,
    Email,
}

/// Locks the user rows `which` selects for the rest of `txn`, as its first
/// statement; returns how many it locked. It is a write that changes
/// nothing (`is_active = is_active`). On PostgreSQL that takes the row lock,
/// as `SELECT … FOR UPDATE` would. SQLite has no `FOR UPDATE`, and a
/// transaction there that begins by reading and then writes fails at once
/// with `SQLITE_BUSY` when another connection (another process) wrote
/// meanwhile; one that begins by writing waits its turn instead.
pub async fn lock_user_rows(
    txn: &sea_orm::DatabaseTransaction,
    which: sea_orm::Condition,
) -> Result<u64, DbErr> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{EntityTrait, QueryFilter};

    use crate::entities::users;
    Ok(users::Entity::update_many()
        .col_expr(users::Column::IsActive, Expr::col(users::Column::IsActive))
        .filter(which)
        .exec(txn)
        .await?
        .rows_affected)
}

/// Connections a pool could not hand out within `--db-acquire-timeout`,
/// since the process started. They are counted where a database error
/// becomes a service error, which has no handle on a server's metrics, so
/// this one count is the process's, not a server's.
static ACQUIRE_TIMEOUTS: AtomicU64 = AtomicU64::new(0);

pub fn acquire_timeouts() -> u64 {
    ACQUIRE_TIMEOUTS.load(Ordering::Relaxed)
}

/// What the service's pools hold now, by pool: `reader` and `writer` on
/// SQLite, `shared` on PostgreSQL (one pool serves both).
pub fn pool_usage(
    reader: &DatabaseConnection,
    writer: &DatabaseConnection,
) -> Vec<(&'static str, PoolUsage)> {
    let usage = |size: u32, idle: usize| {
        let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
        PoolUsage {
            in_use: size - idle,
            idle,
        }
    };
    let of = |conn: &DatabaseConnection| match &conn.inner {
        DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
            let pool = conn.get_sqlite_connection_pool();
            Some(usage(pool.size(), pool.num_idle()))
        }
        DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
            let pool = conn.get_postgres_connection_pool();
            Some(usage(pool.size(), pool.num_idle()))
        }
        _ => None,
    };
    match &writer.inner {
        DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
            of(writer).map(|u| ("shared", u)).into_iter().collect()
        }
        _ => [("reader", reader), ("writer", writer)]
            .into_iter()
            .filter_map(|(name, conn)| of(conn).map(|u| (name, u)))
            .collect(),
    }
}

/// A database error as the service reports it: unavailable (503) or internal.
impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        if is_acquire_timeout(&err) {
            ACQUIRE_TIMEOUTS.fetch_add(1, Ordering::Relaxed);
        }
        if is_unavailable(&err) {
            Self::DatabaseUnavailable(err)
        } else {
            Self::Internal(Box::new(err))
        }
    }
}

impl From<UniqueKey> for Error {
    fn from(key: UniqueKey) -> Self {
        match key {
            UniqueKey::Username => Error::UsernameTaken,
            UniqueKey::Email => Error::EmailTaken,
        }
    }
}

/// Which known unique index `err` violated, if it is such a violation; any
/// other error, a violation of another index included, is `None`.
/// PostgreSQL names the index; SQLite names the column, as `table.column`.
pub fn unique_violation(err: &DbErr) -> Option<UniqueKey> {
    let database = sqlx_error(err)?.as_database_error()?;
    if database.kind() != ErrorKind::UniqueViolation {
        return None;
    }
    // A server that leaves out the constraint field still names the index
    // in PostgreSQL's message ("… unique constraint \"users_email_key_idx\"").
    let is = |index: UniqueIndex| match database.constraint() {
        Some(name) => name == index.name,
        None => {
            let message = database.message();
            message.contains(&format!("\"{}\"", index.name))
                || message.ends_with(&format!("{}.{}", index.table, index.column))
        }
    };
    if is(USERS_USERNAME_KEY) {
        Some(UniqueKey::Username)
    } else if is(USERS_EMAIL_KEY) {
        Some(UniqueKey::Email)
    } else {
        None
    }
}

/// Whether a database error means "the database cannot serve right now"
/// (answered with 503 and `Retry-After`) rather than a bug (500): no pooled
/// connection in time, a broken connection, PostgreSQL refusing connections
/// or cancelling a statement on timeout, SQLite still locked after its busy
/// timeout.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as SqlxError;
    if matches!(err, DbErr::ConnectionAcquire(_)) {
        return true;
    }
    let Some(sqlx) = sqlx_error(err) else {
        return false;
    };
    match sqlx {
        SqlxError::Io(_)
        | SqlxError::Tls(_)
        | SqlxError::PoolTimedOut
        | SqlxError::PoolClosed
        | SqlxError::WorkerCrashed => true,
        SqlxError::Database(db) => db.code().is_some_and(|code| {
            // PostgreSQL SQLSTATE: class 08 connection exceptions, 57014
            // statement timeout, 57P01–57P03 shutdown / cannot connect now,
            // 53300 too many connections.
            // SQLite (numeric codes, never five characters like a SQLSTATE):
            // 5 SQLITE_BUSY, 6 SQLITE_LOCKED and their extended codes.
            if code.len() == 5 {
                code.starts_with("08")
                    || matches!(
                        code.as_ref(),
                        "57014" | "57P01" | "57P02" | "57P03" | "53300"
                    )
            } else {
                matches!(code.parse::<i32>().map(|c| c & 0xff), Ok(5 | 6))
            }
        }),
        _ => false,
    }
}

/// Whether no pooled connection came within the acquire timeout.
fn is_acquire_timeout(err: &DbErr) -> bool {
    matches!(err, DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
        || matches!(sqlx_error(err), Some(sea_orm::sqlx::Error::PoolTimedOut))
}

/// The driver's error inside a sea-orm error, if it came from the driver.
fn sqlx_error(err: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(sqlx))
        | DbErr::Exec(RuntimeErr::SqlxError(sqlx))
        | DbErr::Query(RuntimeErr::SqlxError(sqlx)) => Some(sqlx.as_ref()),
        _ => None,
    }
}

/// The row a query by a unique key finds, if any: `.one()` without its
/// `LIMIT`. sea-orm's `.one()` binds `LIMIT ?`, and SQLite, which reads a
/// bound limit while it plans, marks such a statement to be prepared again
/// every time it is bound anew. For a lookup by key, planning costs more
/// than the lookup: about a seventh of the server's time on a flood of
/// unknown-name logins. A unique key finds at most one row anyway.
pub(crate) trait ByKey {
    type Row;

    async fn by_key(self, db: &impl ConnectionTrait) -> Result<Option<Self::Row>, DbErr>;
}

/// The one row of a lookup by key.
fn first<T>(rows: Vec<T>) -> Option<T> {
    debug_assert!(rows.len() <= 1, "by_key on a query not by a unique key");
    rows.into_iter().next()
}

impl<E: EntityTrait> ByKey for Select<E> {
    type Row = E::Model;

    async fn by_key(self, db: &impl ConnectionTrait) -> Result<Option<E::Model>, DbErr> {
        Ok(first(self.all(db).await?))
    }
}

impl<E: EntityTrait, F: EntityTrait> ByKey for SelectTwo<E, F> {
    type Row = (E::Model, Option<F::Model>);

    async fn by_key(self, db: &impl ConnectionTrait) -> Result<Option<Self::Row>, DbErr> {
        Ok(first(self.all(db).await?))
    }
}

impl<S: SelectorTrait> ByKey for Selector<S> {
    type Row = S::Item;

    async fn by_key(self, db: &impl ConnectionTrait) -> Result<Option<S::Item>, DbErr> {
        Ok(first(self.all(db).await?))
    }
}

/// Tests: a migrated in-memory SQLite database. One connection, since each
/// connection to `sqlite::memory:` is a database of its own.
#[cfg(test)]
pub(crate) async fn in_memory() -> DatabaseConnection {
    use migration::{Migrator, MigratorTrait};
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).sqlx_logging(false);
    let db = Database::connect(options).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    db
}

#[cfg(test)]
mod tests {
    use sea_orm::Statement;

    use super::*;

    /// The index names and columns the code matches on are the ones the
    /// migration made, and a violation of each is told apart on SQLite.
    #[tokio::test]
    async fn violations_of_each_unique_index_are_told_apart() {
        let db = in_memory().await;
        let insert = |id: &str, username_key: &str, email_key: &str| {
            Statement::from_string(
                DbBackend::Sqlite,
                format!(
                    "INSERT INTO users (id, username, username_key, email, email_key, \
                     password_hash, is_active, date_joined, failed_logins) VALUES \
                     ('{id}', 'x', '{username_key}', 'x', '{email_key}', 'x', 1, \
                     '2026-01-01T00:00:00Z', 0)"
                ),
            )
        };
        db.execute_raw(insert("00000000-0000-0000-0000-000000000001", "a", "a@x"))
            .await
            .unwrap();
        let same_name = db
            .execute_raw(insert("00000000-0000-0000-0000-000000000002", "a", "b@x"))
            .await
            .unwrap_err();
        assert_eq!(unique_violation(&same_name), Some(UniqueKey::Username));
        let same_email = db
            .execute_raw(insert("00000000-0000-0000-0000-000000000003", "b", "a@x"))
            .await
            .unwrap_err();
        assert_eq!(unique_violation(&same_email), Some(UniqueKey::Email));
        let same_id = db
            .execute_raw(insert("00000000-0000-0000-0000-000000000001", "c", "c@x"))
            .await
            .unwrap_err();
        assert_eq!(
            unique_violation(&same_id),
            None,
            "the primary key is not a known index"
        );
        let indexes = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT name FROM sqlite_master WHERE type = 'index'",
            ))
            .await
            .unwrap();
        let names: Vec<String> = indexes
            .iter()
            .map(|row| row.try_get::<String>("", "name").unwrap())
            .collect();
        for index in [USERS_USERNAME_KEY, USERS_EMAIL_KEY] {
            assert!(names.iter().any(|n| n == index.name), "{names:?}");
        }
    }
}
