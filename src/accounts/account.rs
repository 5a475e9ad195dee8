//! An account as the service shows it to its callers.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::entities::users;

/// What callers of the service may know about an account: never its
/// password hash or its throttle counters, which stay in the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub is_active: bool,
    pub date_joined: DateTime<Utc>,
    pub last_login: Option<DateTime<Utc>>,
}

impl From<users::Model> for Account {
    fn from(row: users::Model) -> Self {
        Self {
            id: row.id,
            username: row.username,
            email: row.email,
            is_active: row.is_active,
            date_joined: row.date_joined,
            last_login: row.last_login,
        }
    }
}
