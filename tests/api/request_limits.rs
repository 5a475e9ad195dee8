//! Request-level limits: slow heads and bodies, oversized heads, slow answers.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{PASSWORD, problem, spawn_app, spawn_app_with};

/// Reads whatever the server sends until it closes (bounded in time).
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received)).await;
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_body_trickled_slower_than_the_body_timeout_gets_408() {
    let app = spawn_app_with(&["--body-timeout", "1s"]).await;
    // REST reads bodies itself; /graphql through async-graphql-axum.
    for path in ["/user/login/", "/graphql"] {
        let mut stream = TcpStream::connect(app.address).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        // One byte every 300 ms: never idle for long, but never done either.
        let answer = tokio::spawn(async move {
            for _ in 0..20 {
                if stream.write_all(b" ").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                let mut probe = [0u8; 1];
                if let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_millis(1), stream.peek(&mut probe)).await
                    && n > 0
                {
                    break;
                }
            }
            read_until_closed(&mut stream).await
        })
        .await
        .unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(answer.contains("REQUEST_TIMEOUT"), "{path}: {answer}");
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{path}: {:?}",
            started.elapsed()
        );
    }
    app.assert_healthy().await;
}

#[tokio::test]
async fn graphql_bodies_without_a_length_are_still_held_to_the_limit() {
    let app = spawn_app().await;
    // Chunked: no Content-Length to refuse up front.
    let chunks: Vec<Result<String, std::io::Error>> = (0..20)
        .map(|_| {
            Ok(format!(
                "{{\"query\": \"{{ me {{ id }} }} #{}",
                "x".repeat(1000)
            ))
        })
        .collect();
    let stream = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let response = app.post_raw("/graphql", "application/json", stream).await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    // Multipart (GraphQL file uploads) is not taken.
    let response = app
        .post_raw(
            "/graphql",
            "multipart/form-data; boundary=x",
            "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n",
        )
        .await;
    problem(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
}

#[tokio::test]
async fn a_head_sent_slower_than_the_header_timeout_is_cut_off() {
    let app = spawn_app_with(&["--header-timeout", "1s"]).await;
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream
        .write_all(b"POST /user/login/ HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    read_until_closed(&mut stream).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "the connection was closed after {took:?}"
    );
}

#[tokio::test]
async fn too_many_or_too_large_headers_get_431() {
    let app = spawn_app().await;
    let mut request = app.client.get(app.url("/healthz"));
    for i in 0..80 {
        request = request.header(format!("x-filler-{i}"), "1");
    }
    let response = request.send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-big", "a".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    // Ordinary requests still pass.
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_request_slower_than_the_request_timeout_gets_503() {
    // A deliberately expensive hash against a short request timeout.
    let app = spawn_app_with(&[
        "--request-timeout",
        "200ms",
        "--argon2-memory-kib",
        "131072",
        "--argon2-iterations",
        "4",
    ])
    .await;
    let response = app
        .post_json(
            "/user/register/",
            &json!({"username": "slow", "email": "slow@example.com", "password": PASSWORD}),
        )
        .await;
    assert!(response.headers().contains_key("retry-after"));
    assert!(response.headers().contains_key("x-request-id"));
    problem(response, StatusCode::SERVICE_UNAVAILABLE, "OVERLOADED").await;
}
