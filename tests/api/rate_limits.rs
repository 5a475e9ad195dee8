//! Per-client rate limits: 429 with Retry-After and the IETF RateLimit
//! headers; X-Forwarded-For believed only from trusted proxies; IPv6 by /64.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, problem, spawn_app_with, spawn_app_with_default_limits};

async fn login_from(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/user/login/"))
        .json(&json!({"username": "alice", "password": PASSWORD}));
    if let Some(xff) = forwarded_for {
        request = request.header("x-forwarded-for", xff);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn logins_past_the_quota_get_429_and_ratelimit_headers() {
    let app = spawn_app_with(&["--rate-limit", "on", "--rate-limit-login", "3"]).await;
    app.register_ok("alice").await;
    for remaining in [2, 1, 0] {
        let response = login_from(&app, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "ratelimit-policy"), "\"login\";q=3;w=60");
        assert!(header(&response, "ratelimit").starts_with(&format!("\"login\";r={remaining};t=")));
    }
    let response = login_from(&app, None).await;
    let retry_after: u64 = header(&response, "retry-after").parse().unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert!(header(&response, "ratelimit").starts_with("\"login\";r=0;t="));
    problem(response, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    // GraphQL logins draw from the same bucket.
    let (_, body) = app
        .graphql(
            "mutation($i: LoginInput!) { login(input: $i) { token } }",
            json!({"i": {"username": "alice", "password": PASSWORD}}),
            None,
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(
        body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .is_some()
    );
    // Other routes are not limited.
    app.assert_healthy().await;
}

#[tokio::test]
async fn registrations_have_their_own_bucket() {
    let app = spawn_app_with(&["--rate-limit", "on", "--rate-limit-register", "2"]).await;
    app.register_ok("alice").await;
    app.register_ok("bob").await;
    let response = app.register("carol", "carol@example.com", PASSWORD).await;
    assert_eq!(
        header(&response, "ratelimit-policy"),
        "\"register\";q=2;w=60"
    );
    problem(response, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    assert_eq!(login_from(&app, None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn forwarded_for_is_ignored_from_an_untrusted_peer() {
    let app = spawn_app_with(&["--rate-limit", "on", "--rate-limit-login", "2"]).await;
    app.register_ok("alice").await;
    assert_eq!(
        login_from(&app, Some("203.0.113.1")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        login_from(&app, Some("203.0.113.2")).await.status(),
        StatusCode::OK
    );
    let response = login_from(&app, Some("203.0.113.3")).await;
    problem(response, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
}

#[tokio::test]
async fn forwarded_for_from_a_trusted_proxy_names_the_client() {
    let app = spawn_app_with(&[
        "--rate-limit",
        "on",
        "--rate-limit-login",
        "2",
        "--trusted-proxy",
        "127.0.0.0/8,10.0.0.0/8",
    ])
    .await;
    app.register_ok("alice").await;
    for _ in 0..2 {
        assert_eq!(
            login_from(&app, Some("203.0.113.1")).await.status(),
            StatusCode::OK
        );
    }
    let response = login_from(&app, Some("203.0.113.1, 10.1.2.3")).await;
    problem(response, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    // Another client behind the same proxy has its own bucket, whatever a
    // client wrote further left.
    let response = login_from(&app, Some("6.6.6.6, 203.0.113.2")).await;
    assert_eq!(response.status(), StatusCode::OK);
    // IPv6 clients are grouped by /64.
    for _ in 0..2 {
        assert_eq!(
            login_from(&app, Some("2001:db8:0:1::a")).await.status(),
            StatusCode::OK
        );
    }
    let response = login_from(&app, Some("2001:db8:0:1:ffff::b")).await;
    problem(response, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    assert_eq!(
        login_from(&app, Some("2001:db8:0:2::a")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn limits_are_on_by_default() {
    let app = spawn_app_with_default_limits().await;
    app.register_ok("alice").await;
    let response = login_from(&app, None).await;
    assert_eq!(header(&response, "ratelimit-policy"), "\"login\";q=60;w=60");
}
