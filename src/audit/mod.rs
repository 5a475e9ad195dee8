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
mod jsonb;

use std::borrow::Borrow;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use sea_orm::sqlx::sqlite::SqliteArguments;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    Statement,
};
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

    /// Its row for sea-orm's insert (PostgreSQL's; SQLite's are
    /// `rows_jsonb` and `push_sqlite_insert`).
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

/// Most events one statement inserts: with sea-orm's insert, 8 values each,
/// under every backend's bound on statement parameters; on SQLite, a JSON
/// parameter of bounded size.
const ROWS_PER_STATEMENT: usize = 500;

/// Writes `records` on `db` (a transaction, usually), 500 to a statement.
pub async fn insert<R: Borrow<Record>>(
    db: &impl ConnectionTrait,
    records: &[R],
) -> Result<(), DbErr> {
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        if db.get_database_backend() == DbBackend::Sqlite {
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                SQLITE_INSERT,
                [rows_jsonb(chunk).finish().into()],
            ))
            .await?;
        } else {
            audit_events::Entity::insert_many(chunk.iter().map(|r| r.borrow().row()))
                .exec_without_returning(db)
                .await?;
        }
    }
    Ok(())
}

/// SQLite: events inserted from one JSONB array of rows (`rows_jsonb`), so
/// that the statement has one text and one parameter whatever the number of
/// events. It is prepared once per connection; sea-orm's multi-row insert
/// was a statement of its own for each batch size, built anew (eight
/// values a row) for each batch. The columns are stored as sea-orm stores
/// them: the ids as 16-byte blobs, the time as sqlx writes a
/// `DateTime<Utc>`. `jsonb_each`, not `json_each`: it hands each row to
/// `->>` in SQLite's binary form, which `->>` reads as it is; `json_each`
/// turned the row back into text for each of the eight `e.value`, for
/// `->>` to look up again in SQLite's cache of parsed texts. That was a
/// third of the writer's time per event (4.4 → 2.9 µs of CPU per failed
/// login, its thread's time from /proc, three alternated runs). Needs
/// SQLite 3.45 or later (`unhex`, 3.41); the bundled one is 3.51. The paths
/// are written out (`'$[0]'`): given a bare index, `->>` builds that path
/// anew on every call (800 instructions an event, callgrind).
const SQLITE_INSERT: &str = "INSERT INTO audit_events (id, at, event, user_id, actor, ip, request_id, detail) \
     SELECT unhex(e.value ->> '$[0]'), e.value ->> '$[1]', e.value ->> '$[2]', unhex(e.value ->> '$[3]'), \
            e.value ->> '$[4]', e.value ->> '$[5]', e.value ->> '$[6]', e.value ->> '$[7]' \
     FROM jsonb_each(?) AS e";

/// SQLite: appends to a script (`text`, whose values so far are `args`) a
/// statement inserting `records`, for a transaction opened below sea-orm:
/// the logout batch's (at most 256 events). Unlike `SQLITE_INSERT`, the
/// rows are bound values, one `VALUES` row each, in a statement of exactly
/// as many rows as there are events: a text of its own for each batch size,
/// prepared once per size in the writer's statement cache, like the batch's
/// delete before it. On a logout flood the sizes are few and small, and the
/// rows cost the writer less than reading them out of JSON text: 20,000
/// instead of 30,000 instructions per event (callgrind), 13,080 instead of
/// 12,380 logouts a second (four alternated rounds, BENCHMARKS). The failed
/// logins' batch keeps `SQLITE_INSERT`: its batches are larger and of many
/// sizes, and there the bound rows measured slower (why was not found).
/// The parameters are bare `?`s, which sqlx binds in order across a
/// script's statements: a numbered one (`?N`) costs a search of the
/// statement's names each time it is bound. Each row binds the values
/// `Record::row` gives sea-orm, so both store the same (a test checks it).
pub fn push_sqlite_insert<R: Borrow<Record>>(
    records: impl IntoIterator<Item = R>,
    text: &mut String,
    args: &mut SqliteArguments,
) -> Result<(), DbErr> {
    use sea_orm::sqlx::Arguments as _;
    // sqlx keeps each bound text as an `Arc`: a `&'static str` would be
    // copied into a new one for every row, so the names are shared.
    static EVENTS: LazyLock<Vec<Arc<str>>> =
        LazyLock::new(|| Event::ALL.iter().map(|e| e.as_str().into()).collect());
    static ACTORS: LazyLock<Vec<Arc<str>>> =
        LazyLock::new(|| Actor::ALL.iter().map(|a| a.as_str().into()).collect());
    const ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?)";
    let bound = |err| DbErr::Custom(format!("binding an audit event: {err}"));
    text.push_str(
        "INSERT INTO audit_events (id, at, event, user_id, actor, ip, request_id, detail) VALUES ",
    );
    for (i, record) in records.into_iter().enumerate() {
        let record = record.borrow();
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(ROW);
        args.add(id_at(record.at)).map_err(bound)?;
        args.add(time_text(record.at)).map_err(bound)?;
        args.add(EVENTS[record.event as usize].clone())
            .map_err(bound)?;
        args.add(record.user_id).map_err(bound)?;
        args.add(ACTORS[record.origin.actor as usize].clone())
            .map_err(bound)?;
        args.add(record.origin.ip.map(ip_text)).map_err(bound)?;
        args.add(record.origin.request_id.clone()).map_err(bound)?;
        args.add(record.detail_json()).map_err(bound)?;
    }
    text.push_str(";\n");
    Ok(())
}

/// The rows of `records` for `SQLITE_INSERT`: each an array of the eight
/// columns, the ids in hex, in SQLite's own binary form of JSON (JSONB),
/// which `jsonb_each` reads as it is. As JSON text the rows cost serde's
/// escaping of every string and SQLite a parse into that form: 3,200
/// instructions of a failed login (callgrind, bench/instructions.sh). The
/// strings go in raw, unescaped; the ids, the time and the address are
/// written into buffers reused from row to row, not `String`s of their own.
fn rows_jsonb<R: Borrow<Record>>(records: &[R]) -> jsonb::Rows {
    let mut rows = jsonb::Rows::with_capacity(records.len());
    let mut hex = Uuid::encode_buffer();
    let mut text = String::with_capacity(64);
    for record in records {
        let record = record.borrow();
        rows.text(id_at(record.at).simple().encode_lower(&mut hex));
        text.clear();
        write_time(&mut text, record.at);
        rows.text(&text);
        rows.text(record.event.as_str());
        rows.text_or_null(
            record
                .user_id
                .map(|id| &*id.simple().encode_lower(&mut hex)),
        );
        rows.text(record.origin.actor.as_str());
        match record.origin.ip {
            Some(ip) => {
                text.clear();
                write_ip(&mut text, ip);
                rows.text(&text);
            }
            None => rows.null(),
        }
        rows.text_or_null(record.origin.request_id.as_deref());
        rows.text(&record.detail_json());
        rows.end_row();
    }
    rows
}

/// An address as it is stored and logged: what its `Display` writes. An
/// IPv4 address, a flood's usual client, is written here digit by digit:
/// through `Display` it cost about as much as the rest of its row's values
/// together (valgrind).
fn ip_text(ip: IpAddr) -> String {
    let mut text = String::with_capacity(15);
    write_ip(&mut text, ip);
    text
}

/// `ip_text`, appended to `text`.
fn write_ip(text: &mut String, ip: IpAddr) {
    let IpAddr::V4(v4) = ip else {
        use std::fmt::Write as _;
        // Writing to a `String` cannot fail.
        let _ = write!(text, "{ip}");
        return;
    };
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
}

/// A time as sqlx writes a `DateTime<Utc>` to SQLite, and so as sea-orm
/// stores one: chrono's RFC 3339 with `+00:00` and as many of 3, 6 or 9
/// fractional digits as it needs (`SecondsFormat::AutoSi`). Written here
/// digit by digit for the years of four digits; through chrono's formatter
/// it cost 1,200 instructions a row (valgrind). Any other year, and a leap
/// second, go through chrono itself.
fn time_text(at: DateTime<Utc>) -> String {
    let mut text = String::with_capacity(35);
    write_time(&mut text, at);
    text
}

/// `time_text`, appended to `text`.
fn write_time(text: &mut String, at: DateTime<Utc>) {
    use chrono::{Datelike, Timelike};
    /// `value`'s last digits, zero-padded, filling `field`.
    fn digits(field: &mut [u8], mut value: u32) {
        for digit in field.iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    let nanos = at.nanosecond();
    if !(0..=9999).contains(&at.year()) || nanos >= 1_000_000_000 {
        text.push_str(&at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false));
        return;
    }
    let mut buffer = *b"0000-00-00T00:00:00.000000000";
    digits(&mut buffer[0..4], at.year().unsigned_abs());
    digits(&mut buffer[5..7], at.month());
    digits(&mut buffer[8..10], at.day());
    digits(&mut buffer[11..13], at.hour());
    digits(&mut buffer[14..16], at.minute());
    digits(&mut buffer[17..19], at.second());
    let (fraction, width) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    digits(&mut buffer[20..20 + width], fraction);
    let end = if width == 0 { 19 } else { 20 + width };
    // Digits and separators only: ASCII.
    text.push_str(std::str::from_utf8(&buffer[..end]).unwrap_or_default());
    text.push_str("+00:00");
}

/// Writes `records` in `txn`, commits it, and logs them: the one way a
/// change and its events are committed together.
pub async fn commit(txn: DatabaseTransaction, records: &[Record]) -> Result<(), DbErr> {
    // Boxed: sea-orm's insert is a large future, and inline it made every
    // future that may commit an event (a login's, through opening its
    // session) as large, copied whole on each request that makes one.
    Box::pin(insert(&txn, records)).await?;
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
    fn names_read_back_and_unknown_ones_do_not() {
        for event in Event::ALL {
            assert_eq!(Event::parse(event.as_str()), Some(*event));
        }
        assert_eq!(Actor::parse("admin-cli"), Some(Actor::AdminCli));
        assert_eq!(Event::parse("LOGIN_FAILED"), None);
        assert_eq!(Event::ALL.len(), 13);
        // The bound insert finds a name's shared text by its place.
        assert!(Event::ALL.iter().enumerate().all(|(i, e)| *e as usize == i));
        assert!(Actor::ALL.iter().enumerate().all(|(i, a)| *a as usize == i));
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

    /// SQLite's two inserts of their own, from JSONB and of bound rows, store
    /// each column as sea-orm's insert of the same event does: same types,
    /// same text, same time format.
    #[tokio::test]
    async fn the_sqlite_inserts_store_what_sea_orm_stores() {
        use sea_orm::ActiveModelTrait;
        let db = crate::db::in_memory().await;
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
            insert(&db, &[record]).await.unwrap();
            record.row().insert(&db).await.unwrap();
            {
                // The logout batch's, inside the transaction it ends.
                let mut conn = db.get_sqlite_connection_pool().acquire().await.unwrap();
                sea_orm::sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                // After a statement with a value of its own.
                let mut text = String::from("SELECT ? WHERE 0; ");
                let mut args = SqliteArguments::default();
                sea_orm::sqlx::Arguments::add(&mut args, 0).unwrap();
                push_sqlite_insert([record], &mut text, &mut args).unwrap();
                text.push_str("COMMIT;");
                sea_orm::sqlx::query_with(sea_orm::sqlx::AssertSqlSafe(text), args)
                    .execute(&mut *conn)
                    .await
                    .unwrap();
            }
            let rows = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT typeof(id) || length(id), at, event, typeof(user_id), quote(user_id), \
                     actor, quote(ip), quote(request_id), detail FROM audit_events",
                ))
                .await
                .unwrap();
            assert_eq!(rows.len(), 3);
            let columns = |row: &sea_orm::QueryResult| -> Vec<String> {
                (0..9)
                    .map(|i| row.try_get_by_index::<String>(i).unwrap())
                    .collect()
            };
            // In the order of their ids, which are random past the time.
            let first = columns(&rows[0]);
            for row in &rows[1..] {
                assert_eq!(columns(row), first);
            }
            assert_eq!(first[0], "blob16");
            db.execute_unprepared("DELETE FROM audit_events")
                .await
                .unwrap();
        }
    }

    /// The texts written by hand are what `Display` and chrono write.
    #[test]
    fn addresses_and_times_are_written_as_display_and_chrono_write_them() {
        let mut addresses: Vec<IpAddr> = ["::1", "2001:db8::7", "::ffff:192.0.2.1"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        for octet in [0u8, 1, 9, 10, 42, 99, 100, 101, 199, 200, 255] {
            addresses.push(std::net::Ipv4Addr::new(octet, 255 - octet, octet / 2, 7).into());
        }
        for ip in addresses {
            assert_eq!(ip_text(ip), ip.to_string());
        }
        let base = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:05:07Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut times = vec![
            base,
            chrono::DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            chrono::DateTime::parse_from_rfc3339("9999-12-31T23:59:59.999999999Z")
                .unwrap()
                .with_timezone(&Utc),
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
        ];
        for nanos in [1, 7_000, 123_000_000, 123_456_000, 123_456_789, 999_999_999] {
            times.push(base + chrono::Duration::nanoseconds(nanos));
        }
        // A leap second, which chrono keeps as a nanosecond count past 10⁹.
        times.push(
            chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
                .unwrap()
                .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                .unwrap()
                .and_utc(),
        );
        for at in times {
            assert_eq!(
                time_text(at),
                at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
                "{at:?}"
            );
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
