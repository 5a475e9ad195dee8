use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    /// Case-folded username; unique.
    pub username_key: String,
    pub email: String,
    /// Lower-cased email; unique.
    pub email_key: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub is_active: bool,
    pub date_joined: DateTimeUtc,
    pub last_login: Option<DateTimeUtc>,
    /// Consecutive failed logins since the last successful one.
    pub failed_logins: i32,
    /// Logins are refused with 429 until then (login throttling).
    pub locked_until: Option<DateTimeUtc>,
    /// The account's id in the Django app it was imported from; unique.
    pub django_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::sessions::Entity")]
    Sessions,
}

impl Related<super::sessions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sessions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// Written by hand so the password hash never reaches a log line.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .field("is_active", &self.is_active)
            .field("date_joined", &self.date_joined)
            .field("last_login", &self.last_login)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .field("django_id", &self.django_id)
            .finish()
    }
}
