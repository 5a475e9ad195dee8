//! Races decided by the database, and the hashing pool under a burst.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, assert_race_creates_one, spawn_app, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_concurrent_registrations_of_one_name_create_one_user() {
    let app = spawn_app().await;
    let attempts: Vec<_> = (0..30)
        .map(|i| (&*app, "racer".into(), format!("racer{i}@example.com")))
        .collect();
    assert_race_creates_one(&attempts, "USERNAME_TAKEN").await;
    let rows = app.sql("SELECT id FROM users").await;
    assert_eq!(rows.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_email_create_one_user() {
    let app = spawn_app().await;
    let attempts: Vec<_> = (0..20)
        .map(|i| {
            let email = if i % 2 == 0 {
                "Shared@Example.com"
            } else {
                "shared@example.com"
            };
            (&*app, format!("user{i}"), email.to_owned())
        })
        .collect();
    assert_race_creates_one(&attempts, "EMAIL_TAKEN").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_logins_get_twenty_working_tokens() {
    let app = spawn_app().await;
    let id = app.register_ok("alice").await;
    let logins = (0..20).map(|_| app.login_ok("alice"));
    let tokens: Vec<String> = futures::future::join_all(logins)
        .await
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(tokens.iter().collect::<HashSet<_>>().len(), 20);
    for token in &tokens {
        assert_eq!(app.me(token).await["id"], id.as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_hashing_queue_answers_503_with_retry_after() {
    // Real argon2 cost, one worker, one waiting place.
    let app = spawn_app_with(&[
        "--argon2-memory-kib",
        "19456",
        "--argon2-iterations",
        "2",
        "--hash-workers",
        "1",
        "--hash-queue",
        "1",
    ])
    .await;
    app.register_ok("alice").await;
    let burst = (0..12).map(|_| async {
        let response = app.login("alice", PASSWORD).await;
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        (status, retry_after, body)
    });
    let results = futures::future::join_all(burst).await;
    let ok = results
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::OK)
        .count();
    let busy: Vec<_> = results
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert_eq!(
        ok + busy.len(),
        results.len(),
        "only 200 and 503: {results:?}"
    );
    assert!(ok >= 1 && !busy.is_empty(), "ok={ok}, busy={}", busy.len());
    for (_, retry_after, body) in busy {
        assert!(
            retry_after
                .as_deref()
                .is_some_and(|v| v.parse::<u64>().is_ok())
        );
        assert_eq!(body["code"], "OVERLOADED");
        assert_eq!(body["status"], 503);
    }
    // Still answering afterwards.
    app.assert_healthy().await;
    assert_eq!(app.login("alice", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_logouts_of_one_token_succeed_once() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let (token, id) = app.login_ok("alice").await;
    let (other, _) = app.login_ok("alice").await;
    let attempts = (0..10).map(|_| app.logout(&id, Some(&token)));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| [StatusCode::OK, StatusCode::UNAUTHORIZED].contains(s))
    );
    assert!(
        !app.me(&other).await.is_null(),
        "the other session lives on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_logged_out_concurrently_under_two_ids_ends_only_for_its_owner() {
    let app = spawn_app().await;
    let alice = app.register_ok("alice").await;
    let bob = app.register_ok("bob").await;
    for _ in 0..5 {
        let (token, _) = app.login_ok("alice").await;
        let (mine, theirs) = futures::join!(
            app.logout(&alice, Some(&token)),
            app.logout(&bob, Some(&token))
        );
        assert_eq!(mine.status(), StatusCode::OK);
        assert!(
            [StatusCode::BAD_REQUEST, StatusCode::UNAUTHORIZED].contains(&theirs.status()),
            "{}",
            theirs.status()
        );
    }
}
