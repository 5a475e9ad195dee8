use sea_orm::entity::prelude::*;

/// One account event of the audit trail. Never a password, token or hash:
/// `detail` is a small JSON object of what `audit::Event` allows.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub event: String,
    pub user_id: Option<Uuid>,
    pub actor: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// A JSON object.
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
