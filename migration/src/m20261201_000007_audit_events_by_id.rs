//! Fewer indexes on `audit_events`, each of which every event's insert must
//! update: an event's id is now a UUIDv7 made from its own time (the
//! millisecond, then its fraction), so the primary key orders the trail by
//! time and serves
//! the reads that `at` served (newest first, `--since`, the retention
//! sweep). What stays is one index for the reads by account, on
//! `(user_id, id)`. The indexes by time and by event go: `--event` scans
//! the trail newest first, which an operator's command can afford.
//!
//! Events written before this migration have ids a few milliseconds after
//! their time; the sweep deletes such an event at most one sweep late.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The index this migration keeps, and those it replaces.
const BY_USER: &str = "audit_events_user_id_idx";
const REPLACED: [(&str, &[AuditEvents]); 3] = [
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
            .create_index(
                Index::create()
                    .name(BY_USER)
                    .table(AuditEvents::Table)
                    .col(AuditEvents::UserId)
                    .col(AuditEvents::Id)
                    .to_owned(),
            )
            .await?;
        for (name, _) in REPLACED {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(AuditEvents::Table)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, columns) in REPLACED {
            let mut index = Index::create();
            index.name(name).table(AuditEvents::Table);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name(BY_USER)
                    .table(AuditEvents::Table)
                    .to_owned(),
            )
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
}
