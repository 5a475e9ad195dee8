//! What a user sees of their own sessions (`me { sessions }`): when each was
//! last used, and the user agent and address that opened it; and an index
//! to list them newest first. Sessions from
//! before this migration count as last used when they were created, and
//! their agent and address stay unknown (NULL).

use sea_orm_migration::prelude::*;

use super::m20261124_000002_create_sessions::Sessions;

const SESSIONS_USER_CREATED_IDX: &str = "sessions_user_created_idx";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too: a session table with some of the
    /// columns and not the others is never left behind.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            ColumnDef::new(Details::LastUsedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Details::UserAgent).text().null().to_owned(),
            ColumnDef::new(Details::Ip).string_len(45).null().to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // `me { sessions }` lists a user's sessions newest first.
        manager
            .create_index(
                Index::create()
                    .name(SESSIONS_USER_CREATED_IDX)
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .col(Sessions::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Sessions::Table)
                    .value(Details::LastUsedAt, Expr::col(Sessions::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(SESSIONS_USER_CREATED_IDX)
                    .table(Sessions::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Details::Ip, Details::UserAgent, Details::LastUsedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Details {
    LastUsedAt,
    UserAgent,
    Ip,
}
