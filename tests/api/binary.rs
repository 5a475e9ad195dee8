//! The `gatehouse` binary itself: its subcommands, its signals, its logs.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use gatehouse::entities::audit_events;
use reqwest::StatusCode;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait,
};
use serde_json::Value;

use crate::helpers::{Api, PASSWORD, TEST_FLAGS, TestDatabase, assert_race_creates_one};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

/// A `gatehouse serve` child process logging JSON, with its output captured.
struct Served {
    child: Child,
    api: Api,
    lines: Arc<Mutex<Vec<String>>>,
}

fn serve(database: &TestDatabase, extra: &[&str]) -> Served {
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--log-format", "json"])
        .args(["--database-url", &database.url])
        .args(extra)
        .current_dir(database.dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("GATEHOUSE_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    for stream in [
        Box::new(stdout) as Box<dyn std::io::Read + Send>,
        Box::new(stderr),
    ] {
        let lines = Arc::clone(&lines);
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && event["message"] == "gatehouse listening"
                {
                    let _ = tx.send(
                        event["address"]
                            .as_str()
                            .unwrap()
                            .parse::<SocketAddr>()
                            .unwrap(),
                    );
                }
                lines.lock().unwrap().push(line);
            }
        });
    }
    let address = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("server announced its address");
    Served {
        child,
        api: Api::new(address),
        lines,
    }
}

impl std::ops::Deref for Served {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Served {
    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status();
        assert!(status.unwrap().success());
    }

    /// Waits (bounded) for the process to exit and returns its exit code.
    fn wait_exit(&mut self) -> Option<i32> {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("server did not exit within 30 s");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn every_setting_has_a_gatehouse_variable_and_help() {
    use clap::CommandFactory;
    let command = gatehouse::config::Cli::command();
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if ["help", "version"].contains(&id) {
            continue;
        }
        let variable = arg.get_env().and_then(|v| v.to_str()).unwrap_or_default();
        assert!(
            variable.starts_with("GATEHOUSE_"),
            "--{id} has no GATEHOUSE_* variable"
        );
        let long = arg
            .get_long()
            .unwrap_or_default()
            .replace('-', "_")
            .to_uppercase();
        assert_eq!(
            variable,
            format!("GATEHOUSE_{long}"),
            "flag and variable match"
        );
        assert!(arg.get_help().is_some(), "--{id} is documented");
    }
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for subcommand in ["serve", "migrate", "schema"] {
        assert!(help.contains(subcommand));
    }
    assert!(help.contains("GATEHOUSE_BIND") && help.contains("127.0.0.1:8000"));
}

#[test]
fn schema_subcommand_prints_the_checked_in_sdl() {
    let output = Command::new(BIN).arg("schema").output().unwrap();
    assert!(output.status.success());
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), checked_in);
}

#[test]
fn migrate_applies_and_reports_status() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let run = |args: &[&str]| {
        let output = Command::new(BIN)
            .args(args)
            .args(["--database-url", &url])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let before = run(&["migrate", "status"]);
    assert!(before.lines().all(|l| l.starts_with("pending")), "{before}");
    run(&["migrate"]);
    let after = run(&["migrate", "status"]);
    assert!(
        after.lines().count() >= 2 && after.lines().all(|l| l.starts_with("applied")),
        "{after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests_then_exits_0() {
    let database = TestDatabase::create().await;
    let mut served = serve(
        &database,
        &["--argon2-memory-kib", "65536", "--argon2-iterations", "8"],
    );
    let api = served.api.clone();
    let in_flight =
        tokio::spawn(async move { api.try_register("slow", "slow@example.com", PASSWORD).await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    served.signal("TERM");
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request was answered");
    assert_eq!(response.status(), StatusCode::CREATED);
    let code = tokio::task::spawn_blocking(move || served.wait_exit())
        .await
        .unwrap();
    assert_eq!(code, Some(0));
}

/// Failed logins are answered before their audit events are written; a
/// graceful stop right after them still writes every one. The test holds
/// the audit table's write lock over the stop, so the events are still
/// queued when the signal comes, and a stop that did not wait for them
/// would lose them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_writes_the_queued_audit_events_first() {
    let database = TestDatabase::create().await;
    let mut served = serve(&database, TEST_FLAGS);
    let db = sea_orm::Database::connect(&database.url).await.unwrap();
    let lock = db.begin().await.unwrap();
    let take_lock = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "LOCK TABLE audit_events IN EXCLUSIVE MODE",
        _ => "DELETE FROM audit_events WHERE 0 = 1",
    };
    lock.execute_unprepared(take_lock).await.unwrap();
    let logins = (0..40).map(|i| {
        let api = served.api.clone();
        async move {
            let r = api.login(&format!("nobody{i}"), PASSWORD).await;
            (r.status(), r.text().await.unwrap())
        }
    });
    for (status, body) in futures::future::join_all(logins).await {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    served.signal("TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.commit().await.unwrap();
    let code = tokio::task::spawn_blocking(move || served.wait_exit())
        .await
        .unwrap();
    assert_eq!(code, Some(0));
    let written = audit_events::Entity::find()
        .filter(audit_events::Column::Event.eq("login_failed"))
        .count(&db)
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(written, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_exits_0_and_new_connections_are_refused() {
    let database = TestDatabase::create().await;
    let mut served = serve(&database, TEST_FLAGS);
    let url = served.url("/healthz");
    assert_eq!(reqwest::get(&url).await.unwrap().status(), StatusCode::OK);
    served.signal("INT");
    let code = tokio::task::spawn_blocking(move || served.wait_exit())
        .await
        .unwrap();
    assert_eq!(code, Some(0));
    assert!(reqwest::get(&url).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_at_debug_level_holds_a_secret() {
    let database = TestDatabase::create().await;
    let served = serve(
        &database,
        &[
            "--argon2-memory-kib",
            "256",
            "--argon2-iterations",
            "1",
            "--log-level",
            "debug",
        ],
    );
    served.register_ok("alice").await;
    let response = served
        .post_form(
            "/user/login/",
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    let login: Value = response.json().await.unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let id = login["user"]["id"].as_str().unwrap().to_owned();
    let wrong = served.login("alice", "Wrong-Secret-42").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(served.me(&token).await["id"], id.as_str());
    let logout = served.logout(&id, Some(&token)).await;
    assert_eq!(logout.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let lines = served.lines.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("request handled"))
            .count()
            >= 5,
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("\"level\":\"DEBUG\"")),
        "debug logging is on"
    );
    // Each audit event is an info line of its own, with its fields.
    let audited: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["message"] == "audit")
        .collect();
    let events: Vec<&str> = audited.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        events,
        [
            "registered",
            "login_succeeded",
            "login_failed",
            "logged_out"
        ],
        "{audited:#?}"
    );
    assert!(
        audited
            .iter()
            .all(|e| e["level"] == "INFO" && e["actor"] == "self")
    );
    assert_eq!(audited[2]["user_id"], id.as_str());
    assert_eq!(audited[2]["detail"], r#"{"reason":"INVALID_PASSWORD"}"#);
    for line in &lines {
        for secret in [
            PASSWORD,
            "Wrong-Secret-42",
            token.as_str(),
            &token[4..],
            "$argon2id$",
        ] {
            assert!(!line.contains(secret), "a log line leaks a secret: {line}");
        }
        assert!(
            !line.to_ascii_lowercase().contains("authorization"),
            "{line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_registration_survives_sigkill() {
    let database = TestDatabase::create().await;
    let mut served = serve(&database, TEST_FLAGS);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..24 {
        let (api, tx) = (served.api.clone(), tx.clone());
        tokio::spawn(async move {
            let status = api
                .try_register(
                    &format!("durable{i}"),
                    &format!("d{i}@example.com"),
                    PASSWORD,
                )
                .await
                .map(|r| r.status());
            let _ = tx.send((i, status));
        });
    }
    drop(tx);
    // Kill the server as soon as the first registration is acknowledged,
    // while the rest of the burst is still arriving.
    let mut answered = Vec::new();
    let first = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some((i, status)) = rx.recv().await {
            if matches!(status, Ok(s) if s == StatusCode::CREATED) {
                return Some(i);
            }
        }
        None
    })
    .await
    .expect("a registration answered within 30 s")
    .expect("at least one registration succeeded");
    answered.push(first);
    served.signal("KILL");
    while let Some((i, status)) = rx.recv().await {
        if matches!(status, Ok(s) if s == StatusCode::CREATED) {
            answered.push(i);
        }
    }
    let code = tokio::task::spawn_blocking(move || served.wait_exit())
        .await
        .unwrap();
    assert_eq!(code, None, "killed by a signal");

    let restarted = serve(&database, TEST_FLAGS);
    for i in &answered {
        let response = restarted.login(&format!("durable{i}"), PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "durable{i} was answered 201 before the kill"
        );
    }
    eprintln!(
        "{} of 24 registrations were answered before SIGKILL; all of them survived",
        answered.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_server_processes_share_one_database() {
    let database = TestDatabase::create().await;
    let a = serve(&database, TEST_FLAGS);
    let b = serve(&database, TEST_FLAGS);
    a.register_ok("alice").await;
    let (token, id) = b.login_ok("alice").await;
    assert_eq!(
        a.me(&token).await["id"],
        id.as_str(),
        "B's token works on A"
    );
    let logout = a.logout(&id, Some(&token)).await;
    assert_eq!(logout.status(), StatusCode::OK);
    assert!(b.me(&token).await.is_null(), "the logout on A is seen by B");
    let again = b.logout(&id, Some(&token)).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);

    let attempts: Vec<_> = (0..30)
        .map(|i| {
            let server = if i % 2 == 0 { &a } else { &b };
            (&server.api, "racer".into(), format!("r{i}@example.com"))
        })
        .collect();
    assert_race_creates_one(&attempts, "USERNAME_TAKEN").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverifiable_hash_is_reported_once_at_warn_without_the_hash() {
    let database = TestDatabase::create().await;
    let served = serve(&database, TEST_FLAGS);
    let hash = "sha1$oldsalt$2bb80d537b1da3e38bd30361aa855686bde0eacd";
    for name in ["old_one", "old_two"] {
        served.register_ok(name).await;
    }
    let db = sea_orm::Database::connect(&database.url).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        &format!("UPDATE users SET password_hash = '{hash}'"),
    )
    .await
    .unwrap();
    for name in ["old_one", "old_two", "old_one"] {
        let response = served.login(name, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines = served.lines.lock().unwrap().clone();
    let warnings: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("\"level\":\"WARN\"") && l.contains("cannot verify"))
        .collect();
    assert_eq!(warnings.len(), 1, "once per format: {lines:#?}");
    assert!(warnings[0].contains("sha1 (salted)"), "{}", warnings[0]);
    assert!(warnings[0].contains("user_id"), "{}", warnings[0]);
    for line in &lines {
        assert!(
            !line.contains("oldsalt") && !line.contains("2bb80d53"),
            "{line}"
        );
    }
}
