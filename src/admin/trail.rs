//! `gatehouse audit`: the audit trail, newest first, filtered by account,
//! event and age, read a page at a time so any length of trail prints in
//! flat memory.

use std::io::Write as _;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::AdminError;
use super::cli::CommandError;
use crate::audit::{self, Event};
use crate::config::AuditArgs;
use crate::db;
use crate::entities::audit_events;

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub user_id: Option<Uuid>,
    pub event: Option<Event>,
    pub since: Option<DateTime<Utc>>,
    pub limit: Option<u64>,
}

/// The events `filter` selects, newest first, handed to `each` a page at a
/// time; returns how many.
pub async fn events(
    db: &DatabaseConnection,
    filter: &Filter,
    mut each: impl FnMut(&audit_events::Model),
) -> Result<u64, AdminError> {
    const PAGE: u64 = 500;
    let mut before: Option<Uuid> = None;
    let mut listed = 0;
    loop {
        let wanted = filter.limit.map_or(PAGE, |limit| PAGE.min(limit - listed));
        if wanted == 0 {
            return Ok(listed);
        }
        // Ids are made from the event's time (`audit::id_at`): the primary
        // key orders the trail.
        let mut query = audit_events::Entity::find()
            .order_by_desc(audit_events::Column::Id)
            .limit(wanted);
        if let Some(user_id) = filter.user_id {
            query = query.filter(audit_events::Column::UserId.eq(user_id));
        }
        if let Some(event) = filter.event {
            query = query.filter(audit_events::Column::Event.eq(event.as_str()));
        }
        if let Some(since) = filter.since {
            query = query
                .filter(audit_events::Column::Id.gte(audit::first_id_at(since)))
                .filter(audit_events::Column::At.gte(since));
        }
        if let Some(id) = before {
            query = query.filter(audit_events::Column::Id.lt(id));
        }
        let page = query.all(db).await?;
        for row in &page {
            each(row);
        }
        listed += page.len() as u64;
        match page.last() {
            Some(last) if page.len() as u64 == wanted => before = Some(last.id),
            _ => return Ok(listed),
        }
    }
}

/// `gatehouse audit [--user U] [--event E] [--since D] [--limit N] [--json]`.
pub async fn command(args: &AuditArgs) -> Result<(), CommandError> {
    let db = db::connect(&args.on.database).await?;
    let user_id = match &args.user {
        None => None,
        // A user id names the account even once it is deleted: its events
        // outlive it.
        Some(reference) => match Uuid::parse_str(reference.trim()) {
            Ok(id) => Some(id),
            Err(_) => Some(super::find(&db, reference).await?.id),
        },
    };
    let since = match args.since {
        None => None,
        Some(age) => {
            let age = chrono::Duration::from_std(age)
                .map_err(|_| CommandError::Refused("--since is too long".into()))?;
            Some(
                Utc::now()
                    .checked_sub_signed(age)
                    .ok_or_else(|| CommandError::Refused("--since is too long".into()))?,
            )
        }
    };
    let filter = Filter {
        user_id,
        event: args.event,
        since,
        limit: args.limit,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let _ = write!(out, "[");
        let mut first = true;
        events(&db, &filter, |row| {
            let separator = if std::mem::take(&mut first) { "" } else { "," };
            let _ = write!(out, "{separator}\n  {}", as_json(row));
        })
        .await?;
        let _ = writeln!(out, "\n]");
    } else {
        let _ = writeln!(out, "at\tevent\tuser_id\tactor\tip\trequest_id\tdetail");
        let listed = events(&db, &filter, |row| {
            let _ = writeln!(out, "{}", as_line(row));
        })
        .await?;
        let _ = writeln!(out, "({listed} events)");
    }
    Ok(())
}

fn as_line(row: &audit_events::Model) -> String {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
        row.at.to_rfc3339(),
        row.event,
        or_dash(row.user_id.map(|id| id.to_string())),
        row.actor,
        or_dash(row.ip.clone()),
        or_dash(row.request_id.clone()),
        row.detail,
    )
}

fn as_json(row: &audit_events::Model) -> serde_json::Value {
    let detail: serde_json::Value =
        serde_json::from_str(&row.detail).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "id": row.id,
        "at": row.at,
        "event": row.event,
        "user_id": row.user_id,
        "actor": row.actor,
        "ip": row.ip,
        "request_id": row.request_id,
        "detail": detail,
    })
}
