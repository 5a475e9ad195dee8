//! Fewer trees for each event's insert to update.
//!
//! On SQLite, `audit_events` becomes a `WITHOUT ROWID` table, stored in
//! the order of its primary key. A table with a rowid keeps the rows in
//! one tree and the id's unique index in another, so every insert wrote
//! both. The id is a UUIDv7 of the event's time, so the new table is still
//! read in time order.
//!
//! The index by account now leaves out the events that have no account
//! (failed logins under unknown names, which are most of a flood's
//! events). `gatehouse audit --user` asks for `user_id = ?`, and both
//! backends use a partial index for that.
//!
//! On SQLite the table is copied, in the migration's transaction: about 12 s
//! for a million events (measured with the generated SQL), while the
//! database is locked for writing. The old table's pages become free pages
//! of the file, which later inserts reuse (`VACUUM` gives them back), and
//! the WAL grows by the table's size until the next checkpoint. On
//! PostgreSQL the index is built anew in the migration's transaction,
//! which blocks writes to `audit_events` (so every audited change) for the
//! time it takes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BY_USER: &str = "audit_events_user_id_idx";
/// Where the copy is built before it takes the table's name.
const COPY: &str = "audit_events_copy";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_by_user(manager).await?;
        if manager.get_database_backend() == DbBackend::Sqlite {
            rebuild(manager, Some("WITHOUT ROWID")).await?;
        }
        create_by_user(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_by_user(manager).await?;
        if manager.get_database_backend() == DbBackend::Sqlite {
            rebuild(manager, None).await?;
        }
        create_by_user(manager, false).await
    }
}

/// SQLite: copies `audit_events` into a table of the same columns (and
/// `extra` options), which then takes its place.
async fn rebuild(manager: &SchemaManager<'_>, extra: Option<&str>) -> Result<(), DbErr> {
    let mut table = Table::create();
    table
        .table(COPY)
        .col(
            ColumnDef::new(AuditEvents::Id)
                .uuid()
                .not_null()
                .primary_key(),
        )
        .col(
            ColumnDef::new(AuditEvents::At)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(ColumnDef::new(AuditEvents::Event).string_len(32).not_null())
        .col(ColumnDef::new(AuditEvents::UserId).uuid().null())
        .col(ColumnDef::new(AuditEvents::Actor).string_len(16).not_null())
        .col(ColumnDef::new(AuditEvents::Ip).string_len(45).null())
        .col(ColumnDef::new(AuditEvents::RequestId).string_len(64).null())
        .col(ColumnDef::new(AuditEvents::Detail).text().not_null());
    if let Some(extra) = extra {
        table.extra(extra);
    }
    manager.create_table(table.to_owned()).await?;
    let columns = [
        AuditEvents::Id,
        AuditEvents::At,
        AuditEvents::Event,
        AuditEvents::UserId,
        AuditEvents::Actor,
        AuditEvents::Ip,
        AuditEvents::RequestId,
        AuditEvents::Detail,
    ];
    let copy = Query::insert()
        .into_table(COPY)
        .columns(columns)
        .select_from(
            Query::select()
                .columns(columns)
                .from(AuditEvents::Table)
                .to_owned(),
        )
        .map_err(|err| DbErr::Migration(err.to_string()))?
        .to_owned();
    manager.exec_stmt(copy).await?;
    manager
        .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
        .await?;
    manager
        .rename_table(Table::rename().table(COPY, AuditEvents::Table).to_owned())
        .await
}

async fn drop_by_user(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .name(BY_USER)
                .table(AuditEvents::Table)
                .to_owned(),
        )
        .await
}

/// The index by account on `(user_id, id)`; `partial`: of the events that
/// have one.
async fn create_by_user(manager: &SchemaManager<'_>, partial: bool) -> Result<(), DbErr> {
    let mut index = Index::create();
    index
        .name(BY_USER)
        .table(AuditEvents::Table)
        .col(AuditEvents::UserId)
        .col(AuditEvents::Id);
    if partial {
        index.and_where(Expr::col(AuditEvents::UserId).is_not_null());
    }
    manager.create_index(index.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEvents {
    Table,
    Id,
    At,
    Event,
    UserId,
    Actor,
    Ip,
    RequestId,
    Detail,
}
