//! The audit trail: every account event lands in `audit_events` with its
//! actor, address and request id, in the transaction of its change; old
//! events are swept; `gatehouse audit` reads them back.

use gatehouse::entities::audit_events;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
use serde_json::{Value, json};

use crate::admin_cli::{gatehouse, stderr, stdout};
use crate::client::{Api, gql_code};
use crate::django_fixture::{FIXTURE, account};
use crate::helpers::{PASSWORD, TestApp, TestDatabase, spawn_app, spawn_app_with, spawn_on};

const NEW_PASSWORD: &str = "Tq9!nw#Lzc";

/// Every event, oldest first.
async fn trail(app: &TestApp) -> Vec<audit_events::Model> {
    audit_events::Entity::find()
        .order_by_asc(audit_events::Column::At)
        .order_by_asc(audit_events::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

/// Asks `check` every 10 ms, for up to 5 s, until it says yes; whether it
/// did. What is written behind an answer (a failed login's event) or by
/// another server (a sweep) lands a little later.
async fn eventually<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    for _ in 0..500 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

/// Waits until `n` failed-login events (`login_failed`, `throttled`) are
/// written: they are written behind the answer, a few milliseconds later.
async fn failed_logins_written(app: &TestApp, n: usize) {
    let written = eventually(|| async {
        let trail = trail(app).await;
        let failed = trail
            .iter()
            .filter(|e| e.event == "login_failed" || e.event == "throttled");
        failed.count() >= n
    })
    .await;
    assert!(written, "{n} failed-login events not written within 5 s");
}

/// The one event `event` of request `request_id`.
fn the<'a>(
    trail: &'a [audit_events::Model],
    event: &str,
    request_id: &str,
) -> &'a audit_events::Model {
    let found: Vec<_> = trail
        .iter()
        .filter(|e| e.event == event && e.request_id.as_deref() == Some(request_id))
        .collect();
    assert_eq!(found.len(), 1, "{event} of {request_id}: {trail:#?}");
    found[0]
}

fn detail(event: &audit_events::Model) -> Value {
    serde_json::from_str(&event.detail).unwrap()
}

/// A client request's event: from 127.0.0.1, as `self`, about `user`.
fn assert_from_client(event: &audit_events::Model, user: Option<&str>) {
    assert_eq!(event.actor, "self", "{event:?}");
    assert_eq!(event.ip.as_deref(), Some("127.0.0.1"), "{event:?}");
    assert_eq!(
        event.user_id.map(|id| id.to_string()).as_deref(),
        user,
        "{event:?}"
    );
}

/// An operator's event: no address, no request.
fn assert_from_cli(event: &audit_events::Model, user: &str) {
    assert_eq!(event.actor, "admin-cli", "{event:?}");
    assert_eq!(event.ip, None);
    assert_eq!(event.request_id, None);
    assert_eq!(event.user_id.unwrap().to_string(), user);
}

fn cli(app: &TestApp, args: &[&str]) -> String {
    let output = tokio::task::block_in_place(|| gatehouse(app, args));
    assert!(output.status.success(), "{args:?}: {output:?}");
    stdout(&output)
}

async fn gql(api: &Api, query: &str, variables: Value, token: &str) -> Value {
    let (status, body) = api.graphql(query, variables, Some(token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gql_code(&body), "<none>", "{body}");
    body["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_lands_with_its_actor_address_and_request() {
    let app = spawn_app_with(&["--login-throttle-after", "1"]).await;
    let as_request = |id: &str| app.with_request_id(id);

    let alice = as_request("r-register").register_ok("alice").await;
    let bob = app.register_ok("bob").await;
    let carol = app.register_ok("carol").await;
    let (first, _) = as_request("r-login").login_ok("alice").await;
    let (second, _) = app.login_ok("alice").await;
    as_request("r-unknown").login("nobody", PASSWORD).await;
    as_request("r-wrong").login("carol", "wrong-password").await;
    let throttled = as_request("r-throttled")
        .login("carol", "wrong-password")
        .await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let logout = as_request("r-logout").logout(&alice, Some(&first)).await;
    assert_eq!(logout.status(), StatusCode::OK);

    let sessions = "{ me { sessions { id current } } }";
    let listed = gql(&app, sessions, json!({}), &second).await;
    let own = listed["me"]["sessions"][0]["id"].clone();
    let revoke = "mutation($id: ID!) { revokeSession(id: $id) { sessionId } }";
    gql(
        &as_request("r-revoke"),
        revoke,
        json!({ "id": own }),
        &second,
    )
    .await;

    let (third, _) = app.login_ok("alice").await;
    app.login_ok("alice").await;
    let change = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { sessionsRevoked } }";
    let input = json!({ "input": { "currentPassword": PASSWORD, "newPassword": NEW_PASSWORD } });
    gql(&as_request("r-change"), change, input, &third).await;
    let everywhere = "mutation { logoutEverywhere { sessionsRevoked } }";
    gql(&as_request("r-everywhere"), everywhere, json!({}), &third).await;

    // An imported account's first login upgrades its hash.
    let django = account("legacy_md5");
    let dj = app.register_ok("legacy_md5").await;
    app.exec(&format!(
        "UPDATE users SET password_hash = '{}' WHERE username = 'legacy_md5'",
        django.hash
    ))
    .await;
    as_request("r-upgrade")
        .login_ok_with("legacy_md5", &django.password)
        .await;

    // An operator disables, enables and deletes bob; a disabled login fails.
    cli(&app, &["users", "disable", "bob"]);
    as_request("r-disabled").login("bob", PASSWORD).await;
    cli(&app, &["users", "enable", "bob"]);
    cli(&app, &["users", "delete", "bob", "--yes"]);
    cli(&app, &["sessions", "revoke", "--user", "carol"]);
    // Alice deletes herself.
    let (last, _) = app.login_ok_with("alice", NEW_PASSWORD).await;
    let delete = "mutation($p: String!) { deleteAccount(password: $p) { sessionsRevoked } }";
    gql(
        &as_request("r-delete"),
        delete,
        json!({ "p": NEW_PASSWORD }),
        &last,
    )
    .await;
    // And accounts come in from Django (exit 1: the fixture has clashes).
    let fixture = format!("{FIXTURE}/auth.sqlite3");
    let import = tokio::task::block_in_place(|| gatehouse(&app, &["import", "django", &fixture]));
    assert!(matches!(import.status.code(), Some(0 | 1)), "{import:?}");

    failed_logins_written(&app, 4).await;
    let trail = trail(&app).await;
    let registered = the(&trail, "registered", "r-register");
    assert_from_client(registered, Some(&alice));
    assert_eq!(detail(registered), json!({}));
    let login = the(&trail, "login_succeeded", "r-login");
    assert_from_client(login, Some(&alice));
    assert!(detail(login)["session_id"].is_string());

    for (request, user, reason) in [
        ("r-unknown", None, "USER_NOT_FOUND"),
        ("r-wrong", Some(carol.as_str()), "INVALID_PASSWORD"),
        ("r-disabled", Some(bob.as_str()), "ACCOUNT_DISABLED"),
    ] {
        let failed = the(&trail, "login_failed", request);
        assert_from_client(failed, user);
        assert_eq!(detail(failed), json!({ "reason": reason }), "{request}");
    }
    assert_from_client(the(&trail, "throttled", "r-throttled"), Some(&carol));

    let logged_out = the(&trail, "logged_out", "r-logout");
    assert_from_client(logged_out, Some(&alice));
    assert_eq!(detail(logged_out), json!({ "sessions": 1 }));
    let revoked = the(&trail, "session_revoked", "r-revoke");
    assert_from_client(revoked, Some(&alice));
    assert_eq!(detail(revoked), json!({ "session_id": own }));
    let changed = the(&trail, "password_changed", "r-change");
    assert_from_client(changed, Some(&alice));
    assert_eq!(detail(changed), json!({ "sessions_ended": 1 }));
    let everywhere = the(&trail, "logged_out_everywhere", "r-everywhere");
    assert_from_client(everywhere, Some(&alice));
    assert_eq!(detail(everywhere), json!({ "sessions": 1 }));

    let upgraded = the(&trail, "hash_upgraded", "r-upgrade");
    assert_eq!(upgraded.actor, "system", "the service upgraded it");
    assert_eq!(upgraded.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(upgraded.user_id.unwrap().to_string(), dj);
    assert_eq!(detail(upgraded), json!({ "from": "md5" }));
    assert_from_client(the(&trail, "login_succeeded", "r-upgrade"), Some(&dj));

    let by_cli = |event: &str| -> Vec<&audit_events::Model> {
        trail
            .iter()
            .filter(|e| e.event == event && e.actor == "admin-cli")
            .collect()
    };
    for event in ["account_disabled", "account_enabled"] {
        let found = by_cli(event);
        assert_eq!(found.len(), 1, "{event}");
        assert_from_cli(found[0], &bob);
    }
    let deleted = by_cli("account_deleted");
    assert_eq!(deleted.len(), 1);
    assert_from_cli(deleted[0], &bob);
    assert_eq!(
        detail(deleted[0]),
        json!({ "username": "bob", "sessions": 0 })
    );
    let revoked_all = by_cli("logged_out_everywhere");
    assert_eq!(revoked_all.len(), 1);
    assert_from_cli(revoked_all[0], &carol);

    let self_deleted = the(&trail, "account_deleted", "r-delete");
    assert_from_client(self_deleted, Some(&alice));
    assert_eq!(detail(self_deleted)["username"], "alice");

    let imported = by_cli("imported");
    assert!(!imported.is_empty());
    for event in &imported {
        assert!(event.user_id.is_some());
        assert!(detail(event)["django_id"].is_string(), "{event:?}");
    }

    // Nothing secret, and no name of an account that does not exist.
    let text = format!("{trail:?}");
    for secret in [
        PASSWORD,
        NEW_PASSWORD,
        "wrong-password",
        "nobody",
        "$argon2",
        "gat_",
    ] {
        assert!(!text.contains(secret), "{secret} in the audit trail");
    }
    assert!(!text.contains(&django.hash));
}

/// Make the audit insert fail (its table is renamed away): each change
/// fails with it and leaves nothing behind; back in place, all works.
#[tokio::test]
async fn a_change_and_its_event_are_written_together_or_not_at_all() {
    let app = spawn_app().await;
    let alice = app.register_ok("alice").await;
    let (token, _) = app.login_ok("alice").await;
    app.exec("ALTER TABLE audit_events RENAME TO audit_events_away")
        .await;

    let register = app.register("bob", "bob@example.com", PASSWORD).await;
    assert_eq!(register.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let login = app.login("alice", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let logout = app.logout(&alice, Some(&token)).await;
    assert_eq!(logout.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let change = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { sessionsRevoked } }";
    let input = json!({ "input": { "currentPassword": PASSWORD, "newPassword": NEW_PASSWORD } });
    let (_, body) = app.graphql(change, input, Some(&token)).await;
    assert_eq!(gql_code(&body), "INTERNAL", "{body}");
    // A failed login changes nothing: it is answered as it is, and its
    // event, written behind the answer, is counted as lost.
    let wrong = app.login("alice", "wrong-password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let counted = eventually(|| async {
        let metrics = app.get("/metrics").await.text().await.unwrap();
        metrics.contains("gatehouse_audit_events_lost_total 1\n")
    })
    .await;
    assert!(counted, "the lost event is counted");

    assert!(
        app.sql("SELECT id FROM users WHERE username = 'bob'")
            .await
            .is_empty(),
        "no account without its event"
    );
    assert_eq!(
        app.sql("SELECT id FROM sessions").await.len(),
        1,
        "no new session, and the old one not ended"
    );
    assert!(!app.me(&token).await.is_null());

    app.exec("ALTER TABLE audit_events_away RENAME TO audit_events")
        .await;
    app.login_ok("alice").await;
    assert_eq!(
        app.logout(&alice, Some(&token)).await.status(),
        StatusCode::OK
    );
    app.register_ok("bob").await;
    let events: Vec<String> = trail(&app).await.into_iter().map(|e| e.event).collect();
    assert_eq!(
        events,
        [
            "registered",
            "login_succeeded",
            "login_succeeded",
            "logged_out",
            "registered"
        ]
    );
}

/// The sweep (which runs when a server starts, then every ten minutes)
/// deletes the events older than `--audit-retention`, and only those.
#[tokio::test]
async fn retention_deletes_only_the_older_events() {
    let app = spawn_app().await;
    let now = chrono::Utc::now();
    for (days, event) in [
        (100, "registered"),
        (40, "login_succeeded"),
        (10, "logged_out"),
    ] {
        let at = now - chrono::Duration::days(days);
        audit_events::ActiveModel {
            id: Set(gatehouse::audit::id_at(at)),
            at: Set(at),
            event: Set(event.into()),
            user_id: Set(None),
            actor: Set("self".into()),
            ip: Set(None),
            request_id: Set(None),
            detail: Set("{}".into()),
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let url = app.database.url.clone();
    // A server keeping 30 days starts, and sweeps.
    let _other = spawn_on(TestDatabase::borrowed(&url), &["--audit-retention", "30d"]).await;
    eventually(|| async { trail(&app).await.len() == 1 }).await;
    let left: Vec<String> = trail(&app).await.into_iter().map(|e| e.event).collect();
    assert_eq!(left, ["logged_out"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_command_filters_by_account_event_and_age() {
    let app = spawn_app().await;
    let alice = app.register_ok("alice").await;
    app.register_ok("bob").await;
    app.login_ok("alice").await;
    app.login("alice", "wrong-password").await;
    app.login("bob", "wrong-password").await;
    failed_logins_written(&app, 2).await;
    let two_hours_ago = chrono::Utc::now() - chrono::Duration::hours(2);
    audit_events::ActiveModel {
        id: Set(gatehouse::audit::id_at(two_hours_ago)),
        at: Set(two_hours_ago),
        event: Set("login_failed".into()),
        user_id: Set(Some(alice.parse().unwrap())),
        actor: Set("self".into()),
        ip: Set(None),
        request_id: Set(None),
        detail: Set(r#"{"reason":"INVALID_PASSWORD"}"#.into()),
    }
    .insert(&app.db)
    .await
    .unwrap();

    let json = |args: &[&str]| -> Vec<Value> {
        let mut all = vec!["audit", "--json"];
        all.extend_from_slice(args);
        serde_json::from_str::<Value>(&cli(&app, &all))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let events = |rows: &[Value]| -> Vec<String> {
        rows.iter()
            .map(|r| r["event"].as_str().unwrap().to_owned())
            .collect()
    };

    let everything = json(&[]);
    assert_eq!(everything.len(), 6);
    assert_eq!(
        events(&everything)[..3],
        ["login_failed", "login_failed", "login_succeeded"],
        "newest first"
    );
    let alices = json(&["--user", "alice"]);
    assert_eq!(
        events(&alices),
        [
            "login_failed",
            "login_succeeded",
            "registered",
            "login_failed"
        ]
    );
    assert!(alices.iter().all(|r| r["user_id"] == alice.as_str()));
    assert_eq!(json(&["--user", &alice]).len(), 4, "by id too");
    let failed = json(&["--event", "login_failed"]);
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[0]["detail"], json!({ "reason": "INVALID_PASSWORD" }));
    assert_eq!(json(&["--event", "login_failed", "--since", "1h"]).len(), 2);
    assert_eq!(json(&["--user", "alice", "--since", "1h"]).len(), 3);
    assert_eq!(json(&["--limit", "2"]).len(), 2);

    let lines = cli(&app, &["audit", "--user", "bob"]);
    assert!(lines.starts_with("at\tevent\tuser_id\tactor\tip\trequest_id\tdetail\n"));
    assert!(lines.ends_with("(2 events)\n"), "{lines}");

    let unknown = tokio::task::block_in_place(|| gatehouse(&app, &["audit", "--user", "nobody"]));
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no user \"nobody\""),
        "{unknown:?}"
    );
    let bad = tokio::task::block_in_place(|| gatehouse(&app, &["audit", "--event", "hacked"]));
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("login_failed"),
        "lists the events: {bad:?}"
    );
}

/// An operator's command that changes nothing (the account is already in
/// that state) says so and records nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_changes_nothing_records_nothing() {
    let app = spawn_app().await;
    app.register_ok("bob").await;
    assert!(cli(&app, &["users", "disable", "bob"]).starts_with("disabled \"bob\""));
    let again = cli(&app, &["users", "disable", "bob"]);
    assert!(again.contains("was already disabled"), "{again}");
    let enabled = cli(&app, &["users", "enable", "bob"]);
    assert!(enabled.starts_with("enabled \"bob\""), "{enabled}");
    assert!(cli(&app, &["users", "enable", "bob"]).contains("was already enabled"));
    let events: Vec<String> = trail(&app).await.into_iter().map(|e| e.event).collect();
    assert_eq!(
        events,
        ["registered", "account_disabled", "account_enabled"]
    );
}

/// The request id in the trail is the one the response echoes: a client's
/// own if it is 1 to 64 printable ASCII characters, else a generated one.
#[tokio::test]
async fn the_trail_keeps_the_request_id_the_client_was_given() {
    let app = spawn_app().await;
    let long = "x".repeat(65);
    for (i, (sent, kept)) in [
        ("client-chosen.id_42", true),
        ("has space", false),
        (long.as_str(), false),
        ("ünïcode", false),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("user{i}");
        let response = app
            .client
            .post(app.url("/user/register/"))
            .header("x-request-id", sent)
            .json(&json!({ "username": name, "email": format!("{name}@example.com"), "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "{sent}");
        let echoed = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        if kept {
            assert_eq!(echoed, sent);
        } else {
            assert!(
                uuid::Uuid::parse_str(&echoed).is_ok(),
                "{sent:?} -> {echoed}"
            );
        }
        let stored = trail(&app).await.pop().unwrap();
        assert_eq!(
            stored.request_id.as_deref(),
            Some(echoed.as_str()),
            "{sent:?}"
        );
    }
}

#[tokio::test]
async fn the_trail_survives_being_rebuilt_and_is_read_by_account_through_its_index() {
    use migration::{Migrator, MigratorTrait};
    let app = spawn_app().await;
    let alice = app.register_ok("alice").await;
    app.login_ok("alice").await;
    app.login("nobody", PASSWORD).await;
    failed_logins_written(&app, 1).await;
    let before = trail(&app).await;
    assert_eq!(before.len(), 3, "registered, login_succeeded, login_failed");
    // Migration 8 (the last) copies the table on SQLite, both ways.
    let sqlite = app.db.get_database_backend() == sea_orm::DbBackend::Sqlite;
    let clustered = || async {
        let sql = app
            .sql("SELECT sql FROM sqlite_master WHERE name = 'audit_events'")
            .await;
        let sql: String = sql[0].try_get("", "sql").unwrap();
        sql.contains("WITHOUT ROWID")
    };
    assert!(!sqlite || clustered().await);
    Migrator::down(&app.db, Some(1)).await.unwrap();
    assert_eq!(trail(&app).await, before);
    assert!(!sqlite || !clustered().await);
    Migrator::up(&app.db, None).await.unwrap();
    assert_eq!(trail(&app).await, before);
    assert!(!sqlite || clustered().await);
    if sqlite {
        let plan = app
            .sql(&format!(
                "EXPLAIN QUERY PLAN SELECT * FROM audit_events WHERE user_id = x'{}' ORDER BY id DESC",
                uuid::Uuid::parse_str(&alice).unwrap().simple()
            ))
            .await;
        let detail: String = plan[0].try_get("", "detail").unwrap();
        assert!(
            detail.contains("audit_events_user_id_idx"),
            "read by account through the partial index: {detail}"
        );
    }
}
