//! The audit trail (`audit_events`): one row per account event, written in
//! the transaction of the change it records. No foreign key to `users`: an
//! account's events outlive it (its deletion is one of them), until the
//! retention sweep removes them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The reads `gatehouse audit` makes, newest first: everything, one user's,
/// one event's; and the retention sweep's, oldest first.
const INDEXES: [(&str, &[AuditEvents]); 3] = [
    ("audit_events_at_idx", &[AuditEvents::At]),
    (
        "audit_events_user_at_idx",
        &[AuditEvents::UserId, AuditEvents::At],
    ),
    (
        "audit_events_event_at_idx",
        &[AuditEvents::Event, AuditEvents::At],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
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
                    .col(ColumnDef::new(AuditEvents::Detail).text().not_null())
                    .to_owned(),
            )
            .await?;
        for (name, columns) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(AuditEvents::Table);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
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
