//! The audit trail: one `audit_events` row per account event, written in the
//! same transaction as the change it records (`commit`), so neither exists
//! without the other, and logged as one `info` line once it is committed
//! (a failed login's, which changes nothing, once it is queued: `batch`),
//! so a log pipeline has every event without reading the table.
//!
//! An event names its user by id, its actor (`self`, `admin-cli`,
//! `system`), the client address and request id when a request caused it,
//! and a small JSON detail built only from what this module's `Record`
//! accepts: counts, reason codes, hash format names, ids. Never a password,
//! token or hash.

mod batch;

use std::borrow::Borrow;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait};
use serde::ser::SerializeMap;
use uuid::Uuid;

pub use batch::AuditBatch;

use crate::entities::audit_events;
use crate::names::names;

names! {
    /// What happened.
    Event {
        Registered => "registered",
        LoginSucceeded => "login_succeeded",
        /// `detail.reason`: the error code the login met.
        LoginFailed => "login_failed",
        /// A login inside the account's throttling window: not checked.
        Throttled => "throttled",
        LoggedOut => "logged_out",
        SessionRevoked => "session_revoked",
        LoggedOutEverywhere => "logged_out_everywhere",
        PasswordChanged => "password_changed",
        /// `detail.from`: the format the old hash was in.
        HashUpgraded => "hash_upgraded",
        AccountDisabled => "account_disabled",
        AccountEnabled => "account_enabled",
        AccountDeleted => "account_deleted",
        Imported => "imported",
    }
}

names! {
    /// Who did it.
    Actor {
        /// The account's own user, or a client trying to be them.
        Myself => "self",
        /// An operator, through `gatehouse users|sessions|import`.
        AdminCli => "admin-cli",
        /// The service on its own account (a hash upgraded at login).
        System => "system",
    }
}

/// Where an event came from: the actor, and the request that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub actor: Actor,
    pub ip: Option<IpAddr>,
    /// Shared, not copied, by each event of the request.
    pub request_id: Option<Arc<str>>,
}

impl Origin {
    /// An operator's command: no address, no request.
    pub fn admin_cli() -> Self {
        Self {
            actor: Actor::AdminCli,
            ip: None,
            request_id: None,
        }
    }

    /// The same request, acting as `actor`.
    pub fn as_actor(&self, actor: Actor) -> Self {
        Self {
            actor,
            ..self.clone()
        }
    }
}

/// One event, ready to be written.
#[derive(Debug, Clone)]
pub struct Record {
    pub at: DateTime<Utc>,
    pub event: Event,
    pub user_id: Option<Uuid>,
    pub origin: Origin,
    detail: Detail,
}

/// An event's detail: a few named values, stored as a JSON object in the
/// order they were first set, a name set again keeping its place (as the
/// `serde_json::Map` it replaces did, with `preserve_order`). A failed
/// login's is one reason code, so this is a short list of borrowed names
/// rather than a map of owned strings: a flood of failed logins builds one
/// for each.
#[derive(Debug, Clone, Default)]
struct Detail(Vec<(&'static str, DetailValue)>);

#[derive(Debug, Clone)]
enum DetailValue {
    Count(u64),
    Name(&'static str),
    Text(String),
}

impl Detail {
    fn set(&mut self, key: &'static str, value: DetailValue) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => *old = value,
            None => self.0.push((key, value)),
        }
    }
}

impl serde::Serialize for Detail {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            match value {
                DetailValue::Count(n) => map.serialize_entry(key, n)?,
                DetailValue::Name(name) => map.serialize_entry(key, name)?,
                DetailValue::Text(text) => map.serialize_entry(key, text)?,
            }
        }
        map.end()
    }
}

impl Record {
    pub fn new(event: Event, user_id: Option<Uuid>, origin: &Origin) -> Self {
        Self {
            at: crate::clock::now(),
            event,
            user_id,
            origin: origin.clone(),
            detail: Detail::default(),
        }
    }

    /// A count in the detail (sessions ended, say).
    pub fn count(mut self, key: &'static str, n: u64) -> Self {
        self.detail.set(key, DetailValue::Count(n));
        self
    }

    /// A name in the detail, from a fixed set: a reason code, a hash format.
    pub fn name(mut self, key: &'static str, name: &'static str) -> Self {
        self.detail.set(key, DetailValue::Name(name));
        self
    }

    /// An id in the detail: a session's, a Django account's.
    pub fn id(mut self, key: &'static str, id: impl std::fmt::Display) -> Self {
        self.detail.set(key, DetailValue::Text(id.to_string()));
        self
    }

    /// The username of an account that is being deleted, so the trail can
    /// still say whose it was once the row is gone.
    pub fn username(mut self, username: &str) -> Self {
        self.detail
            .set("username", DetailValue::Text(username.to_owned()));
        self
    }

    /// The detail as it is stored: a JSON object.
    pub fn detail_json(&self) -> String {
        serde_json::to_string(&self.detail).unwrap_or_else(|_| "{}".into())
    }

    /// Its row for sea-orm's insert (`insert`; `sqlite_inserts` binds the
    /// same values).
    fn row(&self) -> audit_events::ActiveModel {
        audit_events::ActiveModel {
            id: Set(id_at(self.at)),
            at: Set(self.at),
            event: Set(self.event.as_str().to_owned()),
            user_id: Set(self.user_id),
            actor: Set(self.origin.actor.as_str().to_owned()),
            ip: Set(self.origin.ip.map(ip_text)),
            request_id: Set(self.origin.request_id.as_deref().map(str::to_owned)),
            detail: Set(self.detail_json()),
        }
    }

    /// The `info` line of an event: once committed, or, for one written
    /// behind the answer, once queued.
    fn log(&self) {
        if !tracing::enabled!(target: "gatehouse::audit", tracing::Level::INFO) {
            return;
        }
        let user_id = self.user_id.map(|id| id.to_string());
        let ip = self.origin.ip.map(ip_text);
        let detail = self.detail_json();
        tracing::info!(
            target: "gatehouse::audit",
            event = self.event.as_str(),
            user_id = user_id.as_deref(),
            actor = self.origin.actor.as_str(),
            ip = ip.as_deref(),
            request_id = self.origin.request_id.as_deref(),
            detail = detail.as_str(),
            "audit"
        );
    }
}

/// An address as it is stored and logged: what its `Display` writes. An
/// IPv4 address, a flood's usual client, is written here digit by digit:
/// through `Display` it cost as much as the rest of its row's values
/// together (1,500 instructions, valgrind).
fn ip_text(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut text = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        if octet >= 100 {
            text.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            text.push(char::from(b'0' + octet / 10 % 10));
        }
        text.push(char::from(b'0' + octet % 10));
    }
    text
}

/// A time as sqlx writes a `DateTime<Utc>` to SQLite, and so as sea-orm
/// stores one: chrono's RFC 3339 with `+00:00` and as many of 3, 6 or 9
/// fractional digits as it needs (`SecondsFormat::AutoSi`). Written here
/// digit by digit for the years of four digits, through chrono's formatter
/// it cost 1,250 instructions a row (valgrind); any other year, and a leap
/// second, go through chrono itself.
fn time_text(at: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let nanos = at.nanosecond();
    if !(0..=9999).contains(&at.year()) || nanos >= 1_000_000_000 {
        return at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
    }
    fn digits(text: &mut String, value: u32, width: u32) {
        for place in (0..width).rev() {
            text.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
        }
    }
    let mut text = String::with_capacity(35);
    digits(&mut text, at.year().unsigned_abs(), 4);
    for (sep, value) in [
        ('-', at.month()),
        ('-', at.day()),
        ('T', at.hour()),
        (':', at.minute()),
        (':', at.second()),
    ] {
        text.push(sep);
        digits(&mut text, value, 2);
    }
    let (fraction, width) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    if width > 0 {
        text.push('.');
        digits(&mut text, fraction, width);
    }
    text.push_str("+00:00");
    text
}

/// The id of an event at `at`: a UUIDv7 of that time, to a quarter of a
/// microsecond (the millisecond, then its fraction in the 12 bits RFC 9562
/// leaves for it), then random bits. The primary key so orders the trail by
/// time, and `first_id_at` bounds it.
pub fn id_at(at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let fraction = u64::from(at.timestamp_subsec_nanos() % 1_000_000) * 4096 / 1_000_000;
    let mut bytes = [0u8; 10];
    bytes[..2].copy_from_slice(&(fraction as u16).to_be_bytes());
    bytes[2..].copy_from_slice(&Uuid::new_v4().as_bytes()[8..]);
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}

/// The smallest id of an event in the millisecond of `at` or later: an
/// event is at or after `at` only if its id is at least this.
pub fn first_id_at(at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &[0; 10]).into_uuid()
}

/// Most events one sea-orm statement inserts: 8 values each, under every
/// backend's bound on statement parameters.
const ROWS_PER_STATEMENT: usize = 500;

/// Writes `records` on `db` (a transaction, usually), 500 to a statement,
/// with sea-orm's insert: the events of changes, which are few. SQLite's
/// hot paths, the batches that write an event for each request of a flood,
/// use `sqlite_inserts` instead.
pub async fn insert<R: Borrow<Record>>(
    db: &impl ConnectionTrait,
    records: &[R],
) -> Result<(), DbErr> {
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        audit_events::Entity::insert_many(chunk.iter().map(|r| r.borrow().row()))
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Rows in the largest of `sqlite_inserts`' statements.
const MOST_ROWS: usize = 256;

/// SQLite: `records` as a few multi-row inserts of prepared texts, each
/// for one call to the driver inside a transaction the caller holds
/// (`sqlite_script::run`). The rows go in chunks of powers of two, largest
/// first (77 events are 64 + 8 + 4 + 1), so that nine statement texts,
/// each prepared once per connection, serve every batch; sea-orm's insert
/// is a text of its own for each batch size, built anew for each batch.
/// Each row binds the values `Record::row` gives sea-orm, so both store the
/// same. It replaced one statement that read the rows from a JSON
/// parameter (`jsonb_each`), whose JSON functions and serde's escaping were
/// over half of what an event cost: counted by valgrind, a failed login's
/// event took 26,300 instructions that way and takes 20,900 this way (see
/// BENCHMARKS), most of the rest in allocation (sqlx copies each bound
/// text twice).
pub fn sqlite_inserts<R: Borrow<Record>>(
    records: &[R],
) -> Result<Vec<crate::sqlite_script::Script<'static>>, DbErr> {
    use sea_orm::sqlx::{self, Arguments as _, sqlite::SqliteArguments};
    static TEXTS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let row = "(?, ?, ?, ?, ?, ?, ?, ?)";
        (0..=MOST_ROWS.ilog2())
            .map(|power| {
                format!(
                    "INSERT INTO audit_events (id, at, event, user_id, actor, ip, request_id, detail) VALUES {}",
                    vec![row; 1 << power].join(", ")
                )
            })
            .collect()
    });
    let mut scripts = Vec::new();
    let mut rest = records;
    while !rest.is_empty() {
        let power = rest.len().min(MOST_ROWS).ilog2();
        let (chunk, after) = rest.split_at(1 << power);
        let mut args = SqliteArguments::default();
        args.reserve(8 * chunk.len(), 0);
        for record in chunk {
            bind_row(&mut args, record.borrow()).map_err(|err| DbErr::Custom(err.to_string()))?;
        }
        scripts.push(sqlx::query_with(TEXTS[power as usize].as_str(), args));
        rest = after;
    }
    Ok(scripts)
}

/// Binds `record`'s row for `sqlite_inserts`: the values `Record::row`
/// gives sea-orm, in the order of its statements' columns.
fn bind_row(
    args: &mut sea_orm::sqlx::sqlite::SqliteArguments,
    record: &Record,
) -> Result<(), sea_orm::sqlx::error::BoxDynError> {
    use sea_orm::sqlx::Arguments as _;
    // sqlx keeps each bound text as an `Arc`; a `&'static str` would be
    // copied into a new one for every row, so the names are shared.
    static EVENTS: std::sync::LazyLock<Vec<Arc<str>>> =
        std::sync::LazyLock::new(|| Event::ALL.iter().map(|e| e.as_str().into()).collect());
    static ACTORS: std::sync::LazyLock<Vec<Arc<str>>> =
        std::sync::LazyLock::new(|| Actor::ALL.iter().map(|a| a.as_str().into()).collect());
    args.add(id_at(record.at))?;
    args.add(time_text(record.at))?;
    args.add(EVENTS[record.event as usize].clone())?;
    args.add(record.user_id)?;
    args.add(ACTORS[record.origin.actor as usize].clone())?;
    args.add(record.origin.ip.map(ip_text))?;
    args.add(record.origin.request_id.clone())?;
    args.add(record.detail_json())?;
    Ok(())
}

/// Writes `records` in `txn`, commits it, and logs them: the one way a
/// change and its events are committed together.
pub async fn commit(txn: DatabaseTransaction, records: &[Record]) -> Result<(), DbErr> {
    insert(&txn, records).await?;
    txn.commit().await?;
    logged(records);
    Ok(())
}

/// Most events one statement of the retention sweep deletes: a short hold
/// of SQLite's one writer, and far below PostgreSQL's statement timeout,
/// however many events a flood left behind.
const SWEPT_PER_STATEMENT: u64 = 5_000;

/// Deletes the events from before `cutoff`, oldest first, a chunk per
/// statement, letting other writers in between; returns how many. The
/// primary key finds them: an event's id is made from its time (`id_at`).
pub async fn delete_before(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    use sea_orm::sea_query::{Order, Query};
    use sea_orm::{ColumnTrait, QueryFilter};
    let bound = first_id_at(cutoff + chrono::Duration::milliseconds(1));
    let mut deleted = 0;
    loop {
        let oldest = Query::select()
            .column(audit_events::Column::Id)
            .from(audit_events::Entity)
            .and_where(audit_events::Column::Id.lt(bound))
            .and_where(audit_events::Column::At.lt(cutoff))
            .order_by(audit_events::Column::Id, Order::Asc)
            .limit(SWEPT_PER_STATEMENT)
            .to_owned();
        let chunk = audit_events::Entity::delete_many()
            .filter(audit_events::Column::Id.in_subquery(oldest))
            .exec(db)
            .await?
            .rows_affected;
        deleted += chunk;
        if chunk < SWEPT_PER_STATEMENT {
            return Ok(deleted);
        }
        tokio::task::yield_now().await;
    }
}

/// Logs records already committed.
pub fn logged<'a>(records: impl IntoIterator<Item = &'a Record>) {
    for record in records {
        record.log();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_stored_as_display_writes_it() {
        // Every octet in every place, over a spread of the IPv4 space.
        let mut addresses: Vec<IpAddr> = (0..=u32::MAX)
            .step_by(16_777_259)
            .chain((0..=255).map(|octet| u32::from_be_bytes([octet, 9, 99, 255 - octet])))
            .chain((0..=255).map(|octet| u32::from_be_bytes([100, octet, octet, 10])))
            .map(|bits| std::net::Ipv4Addr::from(bits).into())
            .collect();
        addresses.extend(
            ["::1", "2001:db8::1", "::ffff:192.0.2.7", "fe80::1:2:3:4"]
                .map(|a| a.parse::<IpAddr>().unwrap()),
        );
        for ip in addresses {
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }

    #[test]
    fn a_time_is_stored_as_sqlx_writes_it() {
        use chrono::TimeZone;
        let mut times: Vec<DateTime<Utc>> =
            [0, 1, 999_999_999, 1_000, 120_000, 7_000_000, 999_000_000]
                .into_iter()
                .map(|nanos| Utc.timestamp_opt(1_764_612_000, nanos).unwrap())
                .collect();
        // A spread of instants and fractions from 1970 to 9999.
        times.extend((0..2_000i64).map(|i| {
            Utc.timestamp_opt(
                i * 1_262_304_007 % 253_402_300_799,
                (i as u32).wrapping_mul(2_654_435_761) % 1_000_000_000,
            )
            .unwrap()
        }));
        times.push(Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap());
        times.push(Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap());
        times.push(Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap());
        times.push(crate::clock::now());
        for at in times {
            assert_eq!(
                time_text(at),
                at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
                "{at:?}"
            );
        }
    }

    /// `sqlite_inserts` finds a name's shared text by its variant's number.
    #[test]
    fn each_name_is_numbered_by_its_place() {
        for (i, event) in Event::ALL.iter().enumerate() {
            assert_eq!(*event as usize, i);
        }
        for (i, actor) in Actor::ALL.iter().enumerate() {
            assert_eq!(*actor as usize, i);
        }
    }

    #[test]
    fn names_read_back_and_unknown_ones_do_not() {
        for event in Event::ALL {
            assert_eq!(Event::parse(event.as_str()), Some(*event));
        }
        assert_eq!(Actor::parse("admin-cli"), Some(Actor::AdminCli));
        assert_eq!(Event::parse("LOGIN_FAILED"), None);
        assert_eq!(Event::ALL.len(), 13);
    }

    #[test]
    fn ids_order_events_by_time_and_first_id_at_bounds_them() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = id_at(at);
        assert_eq!(id.get_version_num(), 7);
        assert!(first_id_at(at) <= id);
        assert!(id < first_id_at(at + chrono::Duration::milliseconds(1)));
        assert!(id_at(at - chrono::Duration::milliseconds(1)) < first_id_at(at));
        assert!(id_at(at) < id_at(at + chrono::Duration::days(1)));
        assert!(
            id_at(at) < id_at(at + chrono::Duration::microseconds(1)),
            "to the microsecond"
        );
    }

    /// SQLite's hot-path insert stores each column as sea-orm's insert of
    /// the same event does: same types, same text, same time format.
    #[tokio::test]
    async fn the_bound_insert_stores_what_sea_orm_stores() {
        use sea_orm::{ActiveModelTrait, DbBackend, Statement};
        let db = crate::db::in_memory().await;
        let pool = db.get_sqlite_connection_pool();
        let origin = Origin {
            actor: Actor::Myself,
            ip: Some("2001:db8::1".parse().unwrap()),
            request_id: Some("r-\"quoted\" \\ é".into()),
        };
        let cases = [
            Record::new(Event::LoginFailed, Some(Uuid::now_v7()), &origin)
                .name("reason", "INVALID_PASSWORD"),
            Record::new(Event::LoginFailed, None, &Origin::admin_cli()),
            Record::new(
                Event::AccountDeleted,
                Some(Uuid::now_v7()),
                &Origin {
                    ip: Some(std::net::Ipv4Addr::new(192, 0, 2, 7).into()),
                    ..origin.clone()
                },
            )
            .username("bob \"o'neil\"")
            .count("sessions", 2),
        ];
        for record in &cases {
            for script in sqlite_inserts(&[record]).unwrap() {
                script.execute(pool).await.unwrap();
            }
            record.row().insert(&db).await.unwrap();
            let rows = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT typeof(id) || length(id), at, event, typeof(user_id), quote(user_id), \
                     actor, quote(ip), quote(request_id), detail FROM audit_events",
                ))
                .await
                .unwrap();
            assert_eq!(rows.len(), 2);
            let columns = |row: &sea_orm::QueryResult| -> Vec<String> {
                (0..9)
                    .map(|i| row.try_get_by_index::<String>(i).unwrap())
                    .collect()
            };
            let (bound, sea_orm) = (columns(&rows[0]), columns(&rows[1]));
            assert_eq!(bound, sea_orm);
            assert_eq!(bound[0], "blob16");
            db.execute_unprepared("DELETE FROM audit_events")
                .await
                .unwrap();
        }
    }

    /// A batch goes in chunks of powers of two, largest first, at most 256
    /// rows each; every event lands once.
    #[tokio::test]
    async fn the_bound_insert_writes_every_event_in_few_statements() {
        let db = crate::db::in_memory().await;
        let pool = db.get_sqlite_connection_pool();
        for (events, statements) in [(0, 0), (1, 1), (77, 4), (256, 1), (300, 4), (511, 9)] {
            let records: Vec<Record> = (0..events)
                .map(|_| Record::new(Event::LoginFailed, None, &Origin::admin_cli()))
                .collect();
            let scripts = sqlite_inserts(&records).unwrap();
            assert_eq!(scripts.len(), statements, "{events} events");
            for script in scripts {
                script.execute(pool).await.unwrap();
            }
            let stored: i64 =
                sea_orm::sqlx::query_scalar("SELECT count(DISTINCT id) FROM audit_events")
                    .fetch_one(pool)
                    .await
                    .unwrap();
            assert_eq!(stored, events as i64);
            db.execute_unprepared("DELETE FROM audit_events")
                .await
                .unwrap();
        }
    }

    #[test]
    fn the_detail_holds_only_what_was_put_in() {
        let record = Record::new(Event::LoginFailed, None, &Origin::admin_cli())
            .name("reason", "INVALID_PASSWORD")
            .count("sessions", 2);
        let row = record.row();
        let sea_orm::ActiveValue::Set(detail) = row.detail else {
            panic!("detail set");
        };
        assert_eq!(detail, r#"{"reason":"INVALID_PASSWORD","sessions":2}"#);
    }

    /// As the `serde_json::Map` it replaces (with `preserve_order`) did:
    /// names in the order first set, a name set twice kept once, in its
    /// first place, with its last value; text escaped.
    #[test]
    fn the_detail_keeps_the_order_names_were_first_set_in() {
        let record = Record::new(Event::AccountDeleted, None, &Origin::admin_cli())
            .username("a \"b\" \\ é")
            .count("sessions", 2)
            .name("reason", "A")
            .name("reason", "B")
            .id("django_id", 7);
        assert_eq!(
            record.detail_json(),
            r#"{"username":"a \"b\" \\ é","sessions":2,"reason":"B","django_id":"7"}"#
        );
        // The two events that have two names, as they were stored before.
        let deleted = Record::new(Event::AccountDeleted, None, &Origin::admin_cli())
            .username("bob")
            .count("sessions", 0);
        assert_eq!(deleted.detail_json(), r#"{"username":"bob","sessions":0}"#);
        let legacy = Record::new(Event::LoggedOut, None, &Origin::admin_cli())
            .count("sessions", 3)
            .name("mode", "legacy");
        assert_eq!(legacy.detail_json(), r#"{"sessions":3,"mode":"legacy"}"#);
        assert_eq!(
            Record::new(Event::Registered, None, &Origin::admin_cli()).detail_json(),
            "{}"
        );
    }
}
