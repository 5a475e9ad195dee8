//! Schema migrations for Gatehouse, applied on start by `gatehouse serve` and by
//! `gatehouse migrate`. One change per file; every `down()` undoes its `up()`.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_users;
mod m20261124_000002_create_sessions;
mod m20261124_000003_add_login_throttle;
mod m20261125_000004_django_import;
mod m20261125_000005_session_details;
mod m20261201_000006_audit_events;
mod m20261201_000007_audit_events_by_id;
mod m20261201_000008_audit_events_clustered;

/// Unique indexes whose violation the application tells apart, shared with
/// it so that a renamed index cannot silently change what an error means.
pub mod unique {
    /// A unique index on one column.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct UniqueIndex {
        pub name: &'static str,
        pub table: &'static str,
        pub column: &'static str,
    }

    /// One account per case-folded username (SPEC §5).
    pub const USERS_USERNAME_KEY: UniqueIndex = UniqueIndex {
        name: "users_username_key_idx",
        table: "users",
        column: "username_key",
    };

    /// One account per Django id (`gatehouse import django`).
    pub const USERS_DJANGO_ID: UniqueIndex = UniqueIndex {
        name: "users_django_id_idx",
        table: "users",
        column: "django_id",
    };

    /// One account per lower-cased email (SPEC §5); blank emails, which
    /// only imported Django accounts have, are left out of it.
    pub const USERS_EMAIL_KEY: UniqueIndex = UniqueIndex {
        name: "users_email_key_idx",
        table: "users",
        column: "email_key",
    };
}

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_users::Migration),
            Box::new(m20261124_000002_create_sessions::Migration),
            Box::new(m20261124_000003_add_login_throttle::Migration),
            Box::new(m20261125_000004_django_import::Migration),
            Box::new(m20261125_000005_session_details::Migration),
            Box::new(m20261201_000006_audit_events::Migration),
            Box::new(m20261201_000007_audit_events_by_id::Migration),
            Box::new(m20261201_000008_audit_events_clustered::Migration),
        ]
    }
}
