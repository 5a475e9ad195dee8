//! Hostile input: every case gets a 4xx from SPEC §6 (or a 2xx where the input
//! is in fact valid), never a 5xx, a hang or a crash, and the service still
//! answers afterwards.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp};

const CODES: &[&str] = &[
    "VALIDATION_FAILED",
    "USERNAME_TAKEN",
    "EMAIL_TAKEN",
    "USER_NOT_FOUND",
    "INVALID_PASSWORD",
    "INVALID_USER_ID",
    "UNAUTHENTICATED",
    "BAD_REQUEST",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "RATE_LIMITED",
];

/// A server whose victim account is not throttled by the hostile logins, so
/// that "still answering" can be checked with a real login at the end.
async fn spawn_app() -> TestApp {
    crate::helpers::spawn_app_with(&["--login-throttle", "off"]).await
}

/// Sends a raw request and checks the answer is a client error with a
/// SPEC code (or a success), within a bounded time.
async fn send(app: &TestApp, label: &str, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = tokio::time::timeout(Duration::from_secs(10), request.send())
        .await
        .unwrap_or_else(|_| panic!("{label}: no answer within 10 s"))
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let status = response.status();
    assert!(status.as_u16() < 500, "{label}: {status}");
    let media = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status.is_client_error() && status != StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE {
        let code = if media.starts_with("application/problem+json") {
            body["code"].as_str().unwrap_or_default().to_owned()
        } else {
            body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            CODES.contains(&code.as_str()),
            "{label}: {status} with code {code:?}: {text}"
        );
    }
    let _ = app;
    (status, body)
}

fn json_post(app: &TestApp, path: &str, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
    app.raw_post(path, "application/json", body)
}

async fn still_alive(app: &TestApp) {
    app.assert_healthy().await;
    app.login_ok("victim").await;
}

#[tokio::test]
async fn wrong_types_and_shapes_are_client_errors() {
    let app = spawn_app().await;
    app.register_ok("victim").await;
    let valid = json!({"username": "new1", "email": "new1@example.com", "password": PASSWORD});
    for field in ["username", "email", "password"] {
        for wrong in [
            json!(true),
            json!([]),
            json!(["a"]),
            json!({}),
            json!({"a": 1}),
            json!(null),
            json!(1.5e300),
        ] {
            let mut body = valid.clone();
            body[field] = wrong.clone();
            let label = format!("register {field}={wrong}");
            for path in ["/user/register/", "/user/login/"] {
                send(&app, &label, json_post(&app, path, body.to_string())).await;
            }
        }
    }
    for body in [
        "[]",
        "\"text\"",
        "1",
        "true",
        "null",
        "",
        " ",
        "{}",
        "{\"username\": }",
    ] {
        for path in [
            "/user/register/",
            "/user/login/",
            "/user/logout/x/",
            "/graphql",
        ] {
            send(
                &app,
                &format!("{path} {body:?}"),
                json_post(&app, path, body),
            )
            .await;
        }
    }
    still_alive(&app).await;
}

#[tokio::test]
async fn deep_nesting_nul_bytes_bad_encodings_and_long_fields() {
    let app = spawn_app().await;
    app.register_ok("victim").await;
    let deep_json = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(3000), "}".repeat(3000));
    for body in [deep_json.clone(), deep_object] {
        for path in ["/user/register/", "/user/login/", "/graphql"] {
            send(
                &app,
                &format!("deep {path}"),
                json_post(&app, path, body.clone()),
            )
            .await;
        }
    }
    let deep_graphql = json!({"query": format!("{}{}", "{ a ".repeat(2500), "}".repeat(2500))});
    send(
        &app,
        "deep graphql",
        json_post(&app, "/graphql", deep_graphql.to_string()),
    )
    .await;
    let deep_variables =
        format!("{{\"query\": \"{{ me {{ id }} }}\", \"variables\": {{\"v\": {deep_json}}}}}");
    send(
        &app,
        "deep variables",
        json_post(&app, "/graphql", deep_variables),
    )
    .await;

    for (i, hostile) in [
        "a\u{0}b",
        "\u{0}",
        "nul\u{0}@example.com",
        "\u{202e}admin",
        "\u{feff}",
        "\u{fffd}",
    ]
    .iter()
    .enumerate()
    {
        let body = json!({"username": hostile, "email": format!("x{i}@example.com"), "password": PASSWORD});
        send(
            &app,
            &format!("register {hostile:?}"),
            json_post(&app, "/user/register/", body.to_string()),
        )
        .await;
        let body = json!({"username": "victim", "password": hostile});
        send(
            &app,
            &format!("login {hostile:?}"),
            json_post(&app, "/user/login/", body.to_string()),
        )
        .await;
    }
    let invalid_utf8: Vec<u8> = b"{\"username\": \"\xff\xfe\", \"password\": \"x\"}".to_vec();
    send(
        &app,
        "invalid UTF-8 JSON",
        json_post(&app, "/user/login/", invalid_utf8),
    )
    .await;
    let form = app.raw_post(
        "/user/login/",
        "application/x-www-form-urlencoded",
        b"username=%FF%FE%00&password=%C0%80".to_vec(),
    );
    send(&app, "invalid UTF-8 form", form).await;
    for surrogate in ["\\ud800", "\\udfff", "\\ud800\\ud800"] {
        let body = format!("{{\"username\": \"{surrogate}\", \"password\": \"x\"}}");
        send(&app, surrogate, json_post(&app, "/user/login/", body)).await;
    }
    for field in ["username", "email", "password"] {
        let mut body =
            json!({"username": "long", "email": "long@example.com", "password": PASSWORD});
        body[field] = json!("x".repeat(10_000));
        send(
            &app,
            &format!("10k {field}"),
            json_post(&app, "/user/register/", body.to_string()),
        )
        .await;
        send(
            &app,
            &format!("10k {field}"),
            json_post(&app, "/user/login/", body.to_string()),
        )
        .await;
    }
    still_alive(&app).await;
}

#[tokio::test]
async fn hostile_authorization_headers_and_ids() {
    let app = spawn_app().await;
    let id = app.register_ok("victim").await;
    let (token, _) = app.login_ok("victim").await;
    let mut altered = token.clone().into_bytes();
    altered[10] ^= 0x01;
    let altered = String::from_utf8_lossy(&altered).into_owned();
    let long = format!("Bearer {}", "A".repeat(10_000));
    let huge = format!("Bearer {}", "A".repeat(40_000));
    let headers: Vec<reqwest::header::HeaderValue> = vec![
        "Bearer".parse().unwrap(),
        "Bearer gat_".parse().unwrap(),
        format!("Bearer {altered}").parse().unwrap(),
        format!("Bearer {token}{token}").parse().unwrap(),
        format!("bearer   {}", token.to_uppercase())
            .parse()
            .unwrap(),
        "Bearer ' OR '1'='1".parse().unwrap(),
        long.parse().unwrap(),
        huge.parse().unwrap(),
        reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe\xfd").unwrap(),
        reqwest::header::HeaderValue::from_bytes("Bearer gat_ñññ".as_bytes()).unwrap(),
    ];
    for header in headers {
        let label = format!(
            "authorization {:?}",
            &header.as_bytes()[..header.len().min(30)]
        );
        let logout = app.post_with_authorization(&format!("/user/logout/{id}/"), header.clone());
        let (status, _) = send(&app, &label, logout).await;
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            ]
            .contains(&status),
            "{label}: {status}"
        );
        let me = app
            .post_with_authorization("/graphql", header)
            .json(&json!({"query": "{ me { id } }"}));
        send(&app, &label, me).await;
    }
    for bad_id in [
        "'%20OR%201=1--",
        "..%2F..%2Fetc%2Fpasswd",
        "%00",
        "00000000-0000-0000-0000-000000000000",
        &"9".repeat(5000),
        "%F0%9F%98%80",
    ] {
        let logout = app.post_with_authorization(
            &format!("/user/logout/{bad_id}/"),
            format!("Bearer {token}"),
        );
        send(&app, bad_id, logout).await;
    }
    // The real session survived all of that.
    assert_eq!(app.me(&token).await["id"], id.as_str());
    still_alive(&app).await;
}

#[tokio::test]
async fn sql_looking_strings_are_just_strings() {
    let app = spawn_app().await;
    app.register_ok("victim").await;
    let payloads = [
        "' OR '1'='1",
        "admin'--",
        "'; DROP TABLE users; --",
        "\" OR \"\"=\"",
        "1; SELECT * FROM sessions",
        "Robert'); DROP TABLE sessions;--",
    ];
    for (i, payload) in payloads.iter().enumerate() {
        let register =
            json!({"username": payload, "email": format!("s{i}@example.com"), "password": payload});
        send(
            &app,
            payload,
            json_post(&app, "/user/register/", register.to_string()),
        )
        .await;
        let login = json!({"username": payload, "password": payload});
        send(
            &app,
            payload,
            json_post(&app, "/user/login/", login.to_string()),
        )
        .await;
        let as_password = json!({"username": format!("sql{i}"), "email": format!("q{i}@example.com"), "password": format!("{payload}-Xq9")});
        let (status, _) = send(
            &app,
            payload,
            json_post(&app, "/user/register/", as_password.to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{payload} is a fine password");
        let login = json!({"username": format!("sql{i}"), "password": format!("{payload}-Xq9")});
        let (status, _) = send(
            &app,
            payload,
            json_post(&app, "/user/login/", login.to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(
        app.sql("SELECT id FROM users").await.len(),
        1 + payloads.len()
    );
    still_alive(&app).await;
}

#[tokio::test]
async fn hostile_graphql_documents() {
    let app = spawn_app().await;
    app.register_ok("victim").await;
    let alias_flood: String = (0..2000).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let fragment_cycle =
        "query { me { ...A } } fragment A on User { ...B } fragment B on User { ...A }";
    let directive_flood = format!("{{ me {} {{ id }} }}", "@skip(if: false) ".repeat(500));
    let documents = [
        "{".to_owned(),
        "}}}}".to_owned(),
        "query { me { id } } query { me { id } }".to_owned(),
        "subscription { me { id } }".to_owned(),
        "mutation { logout(userId: 42) { userId } }".to_owned(),
        "mutation { register(input: {username: 1, email: 2, password: 3}) { id } }".to_owned(),
        "{ __typename }".to_owned(),
        format!("{{ {alias_flood} }}"),
        fragment_cycle.to_owned(),
        directive_flood,
        "{ me { id } } \u{0}".to_owned(),
    ];
    for document in &documents {
        let label: String = document.chars().take(60).collect();
        send(
            &app,
            &label,
            json_post(&app, "/graphql", json!({"query": document}).to_string()),
        )
        .await;
    }
    let wrong_variables = [
        json!({"input": "not an object"}),
        json!({"input": {"username": ["a"], "password": {"x": 1}}}),
        json!({"input": null}),
        json!([1, 2, 3]),
    ];
    for variables in wrong_variables {
        let body = json!({"query": "mutation($input: LoginInput!) { login(input: $input) { token } }", "variables": variables});
        send(
            &app,
            &variables.to_string(),
            json_post(&app, "/graphql", body.to_string()),
        )
        .await;
    }
    let huge_batch: Vec<Value> = (0..500)
        .map(|_| json!({"query": "{ me { id } }"}))
        .collect();
    send(
        &app,
        "huge batch",
        json_post(&app, "/graphql", serde_json::to_vec(&huge_batch).unwrap()),
    )
    .await;
    let operation_name = json!({"query": "query A { me { id } }", "operationName": "B"});
    send(
        &app,
        "unknown operation",
        json_post(&app, "/graphql", operation_name.to_string()),
    )
    .await;
    still_alive(&app).await;
}
