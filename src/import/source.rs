//! Reading Django's accounts, a batch at a time, from whichever SOURCE was
//! given: a Django SQLite file, a Django PostgreSQL database (`auth_user`),
//! or a `manage.py dumpdata auth.user` JSON file (`-`: standard input).
//!
//! Every source is checked whole before the first batch is handed out, so a
//! source that is not what it claims fails before anything is written: a
//! database must have `auth_user` with Django's columns, and a JSON file is
//! parsed once to its end (streaming, in constant memory) before the pass
//! that imports it.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use tokio::sync::mpsc;

use super::ImportError;
use super::account::{DjangoUser, Row, Unreadable, parse_time};
use super::dumpdata::{check_json, each_record};

/// A source, checked and ready to be read.
pub enum Source {
    Database {
        db: DatabaseConnection,
        total: u64,
    },
    Json {
        path: PathBuf,
        total: u64,
        /// Holds standard input's copy until the import ends.
        _spool: Option<tempfile::NamedTempFile>,
    },
}

/// How long the source database may take to answer at first.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the batches channel carries.
pub type Batch = Result<Vec<Row>, ImportError>;

impl Source {
    /// Opens and checks SOURCE.
    pub async fn open(source: &str) -> Result<Self, ImportError> {
        if source.starts_with("postgres://") || source.starts_with("postgresql://") {
            let options = ConnectOptions::new(source)
                .sqlx_logging(false)
                .connect_timeout(CONNECT_TIMEOUT)
                .acquire_timeout(CONNECT_TIMEOUT)
                .to_owned();
            let db = Database::connect(options)
                .await
                .map_err(|e| ImportError::source(format!("cannot connect to the source: {e}")))?;
            return Self::database(db).await;
        }
        if source == "-" {
            let mut spool = tempfile::NamedTempFile::new()
                .map_err(|e| ImportError::source(format!("cannot spool standard input: {e}")))?;
            std::io::copy(&mut std::io::stdin().lock(), &mut spool)
                .map_err(|e| ImportError::source(format!("cannot read standard input: {e}")))?;
            let path = spool.path().to_owned();
            let total = check_json(&path).await?;
            return Ok(Self::Json {
                path,
                total,
                _spool: Some(spool),
            });
        }
        let path = Path::new(source);
        let mut head = [0u8; 16];
        let read = File::open(path)
            .and_then(|mut file| file.read(&mut head))
            .map_err(|e| ImportError::source(format!("cannot read {source}: {e}")))?;
        if read == 16 && &head == b"SQLite format 3\0" {
            let options = SqliteConnectOptions::new()
                .filename(path)
                .read_only(true)
                .create_if_missing(false);
            let pool = sea_orm::sqlx::SqlitePool::connect_with(options)
                .await
                .map_err(|e| ImportError::source(format!("cannot open {source}: {e}")))?;
            return Self::database(DatabaseConnection::from(pool)).await;
        }
        let total = check_json(path).await?;
        Ok(Self::Json {
            path: path.to_owned(),
            total,
            _spool: None,
        })
    }

    /// How many accounts the source holds.
    pub fn total(&self) -> u64 {
        match self {
            Self::Database { total, .. } | Self::Json { total, .. } => *total,
        }
    }

    async fn database(db: DatabaseConnection) -> Result<Self, ImportError> {
        let not_django = |e: sea_orm::DbErr| {
            ImportError::source(format!(
                "the source is not a Django account database (no readable auth_user table \
                 with Django's columns): {e}"
            ))
        };
        let backend = db.get_database_backend();
        let count = db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM auth_user",
            ))
            .await
            .map_err(not_django)?
            .ok_or_else(|| ImportError::source("COUNT(*) returned no row".to_owned()))?
            .try_get::<i64>("", "n")
            .map_err(not_django)?;
        // Every column the import reads exists.
        read_batch(&db, i64::MIN, 1).await.map_err(not_django)?;
        Ok(Self::Database {
            db,
            total: u64::try_from(count).unwrap_or(0),
        })
    }

    /// Starts reading: batches of at most `size` accounts, in ascending id
    /// order, on a bounded channel (so at most a few batches are in memory).
    /// The reader's handle tells whether it ended well, should the channel
    /// close early.
    pub fn read(self, size: usize) -> (mpsc::Receiver<Batch>, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(2);
        let reader = match self {
            Self::Database { db, .. } => tokio::spawn(async move {
                let mut after = i64::MIN;
                loop {
                    let batch = read_batch(&db, after, size)
                        .await
                        .map_err(|e| ImportError::source(format!("reading auth_user failed: {e}")));
                    let last = batch.as_ref().ok().and_then(|b| b.last()).map(id_of);
                    let done = !matches!(&batch, Ok(b) if b.len() == size);
                    if tx.send(batch).await.is_err() || done {
                        return;
                    }
                    after = last.unwrap_or(after);
                }
            }),
            Self::Json { path, _spool, .. } => tokio::task::spawn_blocking(move || {
                let _spool = _spool;
                let mut batch = Vec::with_capacity(size);
                let result = each_record(&path, |user| {
                    batch.push(Ok(user?));
                    if batch.len() == size {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(size));
                        tx.blocking_send(Ok(full))
                            .map_err(|_| "the import stopped".to_owned())?;
                    }
                    Ok(())
                });
                let last = match result {
                    Ok(_) => Ok(batch),
                    Err(e) => Err(e),
                };
                let _ = tx.blocking_send(last);
            }),
        };
        (rx, reader)
    }
}

fn id_of(row: &Row) -> i64 {
    match row {
        Ok(user) => user.id,
        Err(unreadable) => unreadable.id,
    }
}

/// Up to `size` rows of `auth_user` with ids above `after`. A row whose
/// fields do not decode is handed on as `Unreadable`, to be reported.
async fn read_batch(
    db: &DatabaseConnection,
    after: i64,
    size: usize,
) -> Result<Vec<Row>, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let placeholders = match backend {
        DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let sql = format!(
        // Django's id is `integer` (AutoField) or `bigint` (BigAutoField).
        "SELECT CAST(id AS BIGINT) AS id, username, email, password, is_active, date_joined, \
         last_login FROM auth_user WHERE id > {} ORDER BY id LIMIT {}",
        placeholders.0, placeholders.1
    );
    let limit = i64::try_from(size).unwrap_or(i64::MAX);
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [after.into(), limit.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("", "id")?;
            let time = |column: &str| -> Result<Option<DateTime<Utc>>, sea_orm::DbErr> {
                match backend {
                    DbBackend::Postgres => Ok(row.try_get::<Option<DateTime<Utc>>>("", column)?),
                    // Django keeps SQLite times as text.
                    _ => row
                        .try_get::<Option<String>>("", column)?
                        .map(|text| {
                            parse_time(&text).ok_or_else(|| {
                                sea_orm::DbErr::Type(format!("{column} {text:?} is not a time"))
                            })
                        })
                        .transpose(),
                }
            };
            let user = || -> Result<DjangoUser, sea_orm::DbErr> {
                Ok(DjangoUser {
                    id,
                    username: row.try_get("", "username")?,
                    email: row.try_get("", "email")?,
                    password: row.try_get("", "password")?,
                    is_active: row.try_get("", "is_active")?,
                    date_joined: time("date_joined")?
                        .ok_or_else(|| sea_orm::DbErr::Type("date_joined is null".into()))?,
                    last_login: time("last_login")?,
                })
            };
            Ok(user().map_err(|e| Unreadable {
                id,
                reason: format!("the row cannot be read ({e})"),
            }))
        })
        .collect()
}
