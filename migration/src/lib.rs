//! Schema migrations for Gatehouse, applied on start by `gatehouse serve` and by
//! `gatehouse migrate`. One change per file; every `down()` undoes its `up()`.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_users;
mod m20261124_000002_create_sessions;
mod m20261124_000003_add_login_throttle;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_users::Migration),
            Box::new(m20261124_000002_create_sessions::Migration),
            Box::new(m20261124_000003_add_login_throttle::Migration),
        ]
    }
}
