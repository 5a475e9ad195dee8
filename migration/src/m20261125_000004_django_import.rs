//! What an import from Django needs (`gatehouse import django`):
//! - `users.django_id`, the account's integer id in the Django app, unique,
//!   so `/user/logout/<django id>/` keeps working and a second import knows
//!   what it already brought;
//! - a blank email, which Django allows, is not unique: the email index
//!   becomes partial and leaves blank keys out.

use sea_orm_migration::prelude::*;

use super::m20261124_000001_create_users::Users;
use crate::unique::{USERS_DJANGO_ID, USERS_EMAIL_KEY};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too (sea-orm-migration uses one only on
    /// PostgreSQL by default): all or nothing, and on one connection. Across
    /// pooled connections, the index re-created under the name just dropped
    /// is refused by a connection whose cached schema still has it.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Django::DjangoId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(USERS_DJANGO_ID.name)
                    .table(Users::Table)
                    .col(Django::DjangoId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(USERS_EMAIL_KEY.name)
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        // Both backends have partial indexes.
        manager
            .create_index(
                Index::create()
                    .name(USERS_EMAIL_KEY.name)
                    .table(Users::Table)
                    .col(Users::EmailKey)
                    .unique()
                    .and_where(Expr::col(Users::EmailKey).ne(""))
                    .to_owned(),
            )
            .await
    }

    /// Fails, changing nothing, while two accounts have a blank email: the
    /// full unique index cannot hold them. Give them addresses first.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(USERS_EMAIL_KEY.name)
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(USERS_EMAIL_KEY.name)
                    .table(Users::Table)
                    .col(Users::EmailKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(USERS_DJANGO_ID.name)
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Django::DjangoId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Django {
    DjangoId,
}
