//! Per-account login throttling: counted in the database, doubling windows,
//! never permanent, not bypassed by GraphQL batching or by another instance.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, TestDatabase, problem, spawn_app, spawn_app_with, spawn_at,
};

async fn fail(app: &TestApp, times: usize) {
    for _ in 0..times {
        let response = app.login("alice", "wrong-password").await;
        problem(response, StatusCode::UNAUTHORIZED, "INVALID_PASSWORD").await;
    }
}

async fn throttled(app: &TestApp, password: &str) -> u64 {
    let response = app.login("alice", password).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    problem(response, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    retry_after
}

#[tokio::test]
async fn five_failures_then_doubling_windows_then_a_reset() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    fail(&app, 5).await;
    assert_eq!(throttled(&app, "wrong-password").await, 1);
    assert_eq!(
        throttled(&app, PASSWORD).await,
        1,
        "the right password waits too"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    fail(&app, 1).await; // the sixth failure opens a 2 s window
    assert_eq!(throttled(&app, PASSWORD).await, 2);

    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.login_ok("alice").await;
    // The success reset the count: five more failures are free again.
    fail(&app, 4).await;
    app.login_ok("alice").await;
    let rows = app.sql("SELECT failed_logins FROM users").await;
    assert_eq!(rows[0].try_get::<i32>("", "failed_logins").unwrap(), 0);
}

#[tokio::test]
async fn the_window_is_capped() {
    let app = spawn_app_with(&[
        "--login-throttle-after",
        "1",
        "--login-throttle-max-delay",
        "2s",
    ])
    .await;
    app.register_ok("alice").await;
    fail(&app, 1).await;
    for expected in [1, 2, 2] {
        let wait = throttled(&app, "wrong-password").await;
        assert_eq!(wait, expected);
        tokio::time::sleep(Duration::from_millis(wait * 1000 + 100)).await;
        fail(&app, 1).await;
    }
}

#[tokio::test]
async fn graphql_aliases_and_batches_do_not_bypass_it() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let fields: String = (0..8)
        .map(|i| {
            format!(
                "a{i}: login(input: {{username: \"alice\", password: \"wrong-{i}\"}}) {{ token }} "
            )
        })
        .collect();
    let (_, body) = app
        .graphql(&format!("mutation {{ {fields} }}"), json!({}), None)
        .await;
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes.iter().filter(|c| **c == "INVALID_PASSWORD").count(),
        5,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == "RATE_LIMITED").count(),
        3,
        "{codes:?}"
    );

    let batch: Vec<Value> = (0..5)
        .map(|_| {
            json!({"query": "mutation($i: LoginInput!) { login(input: $i) { token } }",
                   "variables": {"i": {"username": "alice", "password": PASSWORD}}})
        })
        .collect();
    let (_, body) = app.graphql_batch(&batch).await;
    for item in body.as_array().unwrap() {
        assert_eq!(
            item["errors"][0]["extensions"]["code"], "RATE_LIMITED",
            "{item}"
        );
    }
}

#[tokio::test]
async fn the_count_is_shared_by_instances_on_one_database() {
    let a = spawn_app().await;
    let url = a.database.url.clone();
    let b = spawn_at(TestDatabase::borrowed(&url), &url, &[]).await;
    a.register_ok("alice").await;
    fail(&a, 3).await;
    fail(&b, 2).await;
    assert_eq!(throttled(&a, PASSWORD).await, 1);
    assert_eq!(throttled(&b, PASSWORD).await, 1);
}

#[tokio::test]
async fn it_can_be_switched_off() {
    let app = spawn_app_with(&["--login-throttle", "off"]).await;
    app.register_ok("alice").await;
    fail(&app, 12).await;
    app.login_ok("alice").await;
}

#[tokio::test]
async fn unknown_users_and_other_accounts_are_not_affected() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    app.register_ok("bob").await;
    fail(&app, 5).await;
    throttled(&app, PASSWORD).await;
    app.login_ok("bob").await;
    let response = app.login("nobody", PASSWORD).await;
    problem(response, StatusCode::BAD_REQUEST, "USER_NOT_FOUND").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_guesses_at_a_window_edge_get_one_try() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    fail(&app, 5).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let guesses = (0..10).map(|i| app.login("alice", if i == 0 { "wrong-0" } else { "wrong-x" }));
    let statuses: Vec<StatusCode> = futures::future::join_all(guesses)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, refused), (1, 9), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_correct_logins_below_the_threshold_are_never_throttled() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    fail(&app, 3).await;
    let logins = (0..12).map(|_| app.login("alice", PASSWORD));
    for response in futures::future::join_all(logins).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
}
