//! `gatehouse import …`: bringing accounts in from another system.

use clap::{Args, Subcommand};

use super::{DatabaseArgs, LogArgs};

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub from: ImportFrom,
}

#[derive(Debug, Subcommand)]
pub enum ImportFrom {
    /// Import the accounts of a Django app (its `auth_user`): usernames,
    /// emails, password hashes, active state, dates and ids. Exit 0: all
    /// imported; 1: some conflicted or were skipped, the rest imported; 2: an
    /// error (nothing imported when it came before the first batch).
    Django(DjangoImportArgs),
}

#[derive(Debug, Args)]
pub struct DjangoImportArgs {
    /// A Django SQLite database file, a `postgres://…` URL of a Django
    /// database, or a `manage.py dumpdata auth.user` JSON file (`-` reads it
    /// from standard input).
    pub source: String,

    /// Read and check everything, report what would happen, write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Import inactive accounts as enabled. For Django apps that marked users
    /// logged in and out through `is_active` (as the app Gatehouse replaces
    /// did), where `is_active = false` means "logged out", not "disabled".
    #[arg(long)]
    pub active_means_logged_in: bool,

    /// Accounts read and written per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..=5000))]
    pub batch_size: u16,

    /// The Gatehouse database to import into (migrated first).
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
