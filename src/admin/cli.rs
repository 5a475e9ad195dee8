//! `gatehouse users …` and `gatehouse sessions revoke`: what each command
//! does and prints (its arguments are in `config/admin.rs`).

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use super::AdminError;
use crate::accounts::Account;
use crate::config::{SessionsAction, SessionsArgs, UsersAction, UsersArgs};
use crate::db;

/// Why a command stopped, as the operator reads it.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("{0}")]
    Refused(String),
    #[error("the database failed: {0}")]
    Database(#[from] sea_orm::DbErr),
}

pub async fn users(args: &UsersArgs) -> Result<(), CommandError> {
    let db = db::connect(&args.target().database).await?;
    let mut out = std::io::stdout().lock();
    match &args.action {
        UsersAction::List { disabled, json, .. } => {
            if *json {
                let _ = write!(out, "[");
                let mut first = true;
                super::list(&db, *disabled, |account| {
                    let separator = if std::mem::take(&mut first) { "" } else { "," };
                    let _ = write!(out, "{separator}\n  {}", as_json(account));
                })
                .await?;
                let _ = writeln!(out, "\n]");
            } else {
                let _ = writeln!(out, "id\tusername\temail\tdate_joined\tlast_login\tstate");
                let listed = super::list(&db, *disabled, |account| {
                    let _ = writeln!(out, "{}", as_row(account));
                })
                .await?;
                let _ = writeln!(out, "({listed} accounts)");
            }
        }
        UsersAction::Show { user, .. } => {
            let account = super::find(&db, user).await?;
            let live = super::live_sessions(&db, account.id).await?;
            let _ = writeln!(out, "id           {}", account.id);
            let _ = writeln!(out, "username     {}", account.username);
            let _ = writeln!(out, "email        {}", account.email);
            let _ = writeln!(out, "date joined  {}", account.date_joined.to_rfc3339());
            let last = account.last_login.map(|t| t.to_rfc3339());
            let _ = writeln!(out, "last login   {}", last.as_deref().unwrap_or("never"));
            let _ = writeln!(out, "state        {}", state(&account));
            let _ = writeln!(out, "sessions     {live} live");
        }
        UsersAction::Disable { user, .. } => {
            let account = super::find(&db, user).await?;
            let _ = match super::set_active(&db, &account, false).await? {
                Some(ended) => writeln!(
                    out,
                    "disabled {:?} ({}); {ended} session(s) ended",
                    account.username, account.id
                ),
                None => writeln!(
                    out,
                    "{:?} ({}) was already disabled",
                    account.username, account.id
                ),
            };
        }
        UsersAction::Enable { user, .. } => {
            let account = super::find(&db, user).await?;
            let _ = match super::set_active(&db, &account, true).await? {
                Some(_) => writeln!(out, "enabled {:?} ({})", account.username, account.id),
                None => writeln!(
                    out,
                    "{:?} ({}) was already enabled",
                    account.username, account.id
                ),
            };
        }
        UsersAction::Delete { user, yes, .. } => {
            let account = super::find(&db, user).await?;
            if !yes {
                confirm(&account)?;
            }
            let ended = super::delete(&db, &account).await?;
            let _ = writeln!(
                out,
                "deleted {:?} ({}); {ended} session(s) ended",
                account.username, account.id
            );
        }
    }
    Ok(())
}

pub async fn sessions(args: &SessionsArgs) -> Result<(), CommandError> {
    let db = db::connect(&args.target().database).await?;
    let SessionsAction::Revoke { user, .. } = &args.action;
    let account = super::find(&db, user).await?;
    let ended = super::revoke_sessions(&db, account.id).await?;
    println!(
        "ended {ended} session(s) of {:?} ({})",
        account.username, account.id
    );
    Ok(())
}

/// Asks the operator to type the username back before a delete.
fn confirm(account: &Account) -> Result<(), CommandError> {
    if !std::io::stdin().is_terminal() {
        return Err(CommandError::Refused(
            "deleting needs --yes when standard input is not a terminal".to_owned(),
        ));
    }
    eprint!(
        "Delete {:?} ({}) and all its sessions? Type the username to confirm: ",
        account.username, account.id
    );
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == account.username {
        Ok(())
    } else {
        Err(CommandError::Refused(
            "not confirmed; nothing deleted".to_owned(),
        ))
    }
}

fn state(account: &Account) -> &'static str {
    if account.is_active {
        "enabled"
    } else {
        "disabled"
    }
}

fn as_row(account: &Account) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        account.id,
        account.username,
        account.email,
        account.date_joined.to_rfc3339(),
        account
            .last_login
            .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339()),
        state(account)
    )
}

fn as_json(account: &Account) -> serde_json::Value {
    serde_json::json!({
        "id": account.id,
        "username": account.username,
        "email": account.email,
        "date_joined": account.date_joined,
        "last_login": account.last_login,
        "state": state(account),
    })
}
