//! `gatehouse users …` and `gatehouse sessions revoke`, run as the binary
//! against the database a real server is serving, while it serves.

use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, problem, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

/// Runs `gatehouse <args> --database-url <the app's database>`, with no
/// standard input.
pub fn gatehouse(app: &TestApp, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .args(["--database-url", &app.database.url, "--log-level", "warn"])
        .env_remove("DATABASE_URL")
        .env_remove("GATEHOUSE_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_while_the_server_runs_refuses_the_token_and_the_password() {
    let app = spawn_app().await;
    let id = app.register_ok("alice").await;
    let (token, _) = app.login_ok("alice").await;
    assert_eq!(app.me(&token).await["id"], id.as_str());

    let output = gatehouse(&app, &["users", "disable", "ALICE"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout(&output),
        format!("disabled \"alice\" ({id}); 1 session(s) ended\n")
    );
    assert!(app.me(&token).await.is_null(), "the old token is refused");
    let response = app.login("alice", PASSWORD).await;
    problem(response, StatusCode::FORBIDDEN, "ACCOUNT_DISABLED").await;

    let shown = stdout(&gatehouse(&app, &["users", "show", &id]));
    assert!(shown.contains("state        disabled"), "{shown}");
    assert!(shown.contains("sessions     0 live"), "{shown}");

    let output = gatehouse(&app, &["users", "enable", "alice"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(app.login("alice", PASSWORD).await.status(), StatusCode::OK);
    let shown = stdout(&gatehouse(&app, &["users", "show", "alice"]));
    assert!(shown.contains("state        enabled"), "{shown}");
    assert!(shown.contains("sessions     1 live"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shows_every_account_or_only_the_disabled_ones() {
    let app = spawn_app().await;
    for name in ["ann", "ben", "cat"] {
        app.register_ok(name).await;
    }
    assert!(
        gatehouse(&app, &["users", "disable", "ben"])
            .status
            .success()
    );

    let table = stdout(&gatehouse(&app, &["users", "list"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "id\tusername\temail\tdate_joined\tlast_login\tstate"
    );
    assert_eq!(lines.len(), 5, "{table}");
    assert!(
        lines[1].contains("\tann\tann@example.com\t") && lines[1].ends_with("\tnever\tenabled")
    );
    assert!(lines[2].contains("\tben\t") && lines[2].ends_with("\tdisabled"));
    assert_eq!(lines[4], "(3 accounts)");

    let output = gatehouse(&app, &["users", "list", "--disabled", "--json"]);
    let listed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["username"], "ben");
    assert_eq!(listed[0]["state"], "disabled");
    assert!(listed[0].get("password_hash").is_none());
    let empty: Value =
        serde_json::from_str(&stdout(&gatehouse(&app, &["users", "list", "--json"]))).unwrap();
    assert_eq!(empty.as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_asks_first_then_frees_the_name() {
    let app = spawn_app().await;
    app.register_ok("bob").await;
    let (token, _) = app.login_ok("bob").await;

    // No terminal to ask on, and no --yes: refused, nothing deleted.
    let output = gatehouse(&app, &["users", "delete", "bob"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--yes"), "{output:?}");
    assert!(!app.me(&token).await.is_null());

    let output = gatehouse(&app, &["users", "delete", "bob", "--yes"]);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).starts_with("deleted \"bob\""));
    assert!(app.me(&token).await.is_null());
    let response = app.login("bob", PASSWORD).await;
    problem(response, StatusCode::BAD_REQUEST, "USER_NOT_FOUND").await;
    app.register_ok("bob").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_sessions_logs_the_user_out_everywhere() {
    let app = spawn_app().await;
    app.register_ok("dan").await;
    let (first, _) = app.login_ok("dan").await;
    let (second, _) = app.login_ok("dan").await;
    let output = gatehouse(&app, &["sessions", "revoke", "--user", "dan"]);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).starts_with("ended 2 session(s) of \"dan\""));
    assert!(app.me(&first).await.is_null() && app.me(&second).await.is_null());
    // The account itself is fine.
    assert_eq!(app.login("dan", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_is_a_clear_error() {
    let app = spawn_app().await;
    app.register_ok("eve").await;
    for args in [
        vec!["users", "show", "nobody"],
        vec!["users", "disable", "00000000-0000-0000-0000-000000000000"],
        vec!["users", "enable", "42"],
        vec!["users", "delete", "nobody", "--yes"],
        vec!["sessions", "revoke", "--user", "bad name!"],
    ] {
        let output = gatehouse(&app, &args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).starts_with("gatehouse: no user "),
            "{output:?}"
        );
        assert!(stdout(&output).is_empty());
    }
    assert_eq!(app.login("eve", PASSWORD).await.status(), StatusCode::OK);
}

/// SQLite lets one connection write at a time; a command that must wait for
/// the server's writes waits (its busy timeout), and never fails for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_while_the_server_writes_waits_its_turn() {
    let app = spawn_app().await;
    app.register_ok("busy").await;
    let names: Vec<String> = (0..16).map(|i| format!("gone{i}")).collect();
    for name in &names {
        app.register_ok(name).await;
    }
    // Logins are writes (a session row each): four at a time, until told.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let writer = |mut stopped: tokio::sync::watch::Receiver<bool>| {
        let app = &app;
        async move {
            let mut logins = 0;
            while !*stopped.borrow_and_update() && logins < 2_000 {
                assert_eq!(app.login("busy", PASSWORD).await.status(), StatusCode::OK);
                logins += 1;
            }
            logins
        }
    };
    let writers = futures::future::join_all((0..4).map(|_| writer(stopped.clone())));
    let deleter = async {
        for name in &names {
            let args = ["users", "delete", name.as_str(), "--yes"];
            let output = tokio::task::block_in_place(|| gatehouse(&app, &args));
            assert!(output.status.success(), "{name}: {output:?}");
        }
        let _ = stop.send(true);
    };
    let (logins, ()) = tokio::join!(writers, deleter);
    assert!(logins.iter().sum::<i32>() > 0);
    for name in &names {
        problem(
            app.login(name, PASSWORD).await,
            StatusCode::BAD_REQUEST,
            "USER_NOT_FOUND",
        )
        .await;
    }
}
