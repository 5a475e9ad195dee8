//! `gatehouse users …`, `gatehouse sessions …` and `gatehouse audit`:
//! managing accounts, and reading what happened to them.

use std::time::Duration;

use clap::{Args, Subcommand};

use super::{DatabaseArgs, LogArgs};
use crate::audit::Event;

#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub action: UsersAction,
}

/// The database a command works on, and its logging: given after the
/// command's own arguments.
#[derive(Debug, Args)]
pub struct Target {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// Every account, oldest first: id, username, email, date joined, last
    /// login, state.
    List {
        /// Only the disabled accounts.
        #[arg(long)]
        disabled: bool,
        /// A JSON array instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        on: Target,
    },
    /// One account and its number of live sessions.
    Show {
        /// A username, a user id, or a Django id.
        user: String,
        #[command(flatten)]
        on: Target,
    },
    /// Disable an account and end every session of it: its password then
    /// answers 403 ACCOUNT_DISABLED.
    Disable {
        user: String,
        #[command(flatten)]
        on: Target,
    },
    /// Enable a disabled account.
    Enable {
        user: String,
        #[command(flatten)]
        on: Target,
    },
    /// Delete an account and its sessions; its username and email are free
    /// again.
    Delete {
        user: String,
        /// Do not ask; needed when standard input is not a terminal.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        on: Target,
    },
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    #[command(subcommand)]
    pub action: SessionsAction,
}

#[derive(Debug, Subcommand)]
pub enum SessionsAction {
    /// End every session of an account (log it out everywhere).
    Revoke {
        /// A username, a user id, or a Django id.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        on: Target,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this account's events: a username, a Django id, or a user id
    /// (a deleted account's too).
    #[arg(long)]
    pub user: Option<String>,
    /// Only this event: registered, login_succeeded, login_failed, throttled,
    /// logged_out, session_revoked, logged_out_everywhere, password_changed,
    /// hash_upgraded, account_disabled, account_enabled, account_deleted,
    /// imported.
    #[arg(long, value_parser = parse_event)]
    pub event: Option<Event>,
    /// Only the events of this last stretch of time: `1h`, `7d`, `30m`.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub since: Option<Duration>,
    /// At most this many events (the newest).
    #[arg(long)]
    pub limit: Option<u64>,
    /// A JSON array instead of lines.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub on: Target,
}

fn parse_event(name: &str) -> Result<Event, String> {
    Event::parse(name).ok_or_else(|| {
        let known: Vec<_> = Event::ALL.iter().map(|e| e.as_str()).collect();
        format!("no event {name:?}; the events are {}", known.join(", "))
    })
}

impl UsersArgs {
    pub fn target(&self) -> &Target {
        match &self.action {
            UsersAction::List { on, .. }
            | UsersAction::Show { on, .. }
            | UsersAction::Disable { on, .. }
            | UsersAction::Enable { on, .. }
            | UsersAction::Delete { on, .. } => on,
        }
    }
}

impl SessionsArgs {
    pub fn target(&self) -> &Target {
        let SessionsAction::Revoke { on, .. } = &self.action;
        on
    }
}
