//! Transport-level errors: every one is problem+json with a SPEC §6 code.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, assert_method_not_allowed, problem, spawn_app};

#[tokio::test]
async fn a_body_over_16_kib_is_413() {
    let app = spawn_app().await;
    let big = "a".repeat(16 * 1024 + 1);
    let response = app
        .post_json(
            "/user/register/",
            &json!({"username": big, "email": "a@example.com", "password": PASSWORD}),
        )
        .await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    // Without a Content-Length (chunked), the limit still holds.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 1024])).collect();
    let stream = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let response = app
        .post_raw("/user/login/", "application/json", stream)
        .await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    let response = app
        .post_raw("/graphql", "application/json", " ".repeat(20_000))
        .await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
}

#[tokio::test]
async fn other_media_types_are_415() {
    let app = spawn_app().await;
    for content_type in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
        "garbage",
    ] {
        let response = app
            .post_raw("/user/login/", content_type, "username=alice&password=x")
            .await;
        problem(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .await;
    }
}

#[tokio::test]
async fn malformed_bodies_are_400_bad_request() {
    let app = spawn_app().await;
    for (content_type, body) in [
        ("application/json", "{\"username\": "),
        ("application/json", "[1, 2]"),
        ("application/json", "\"text\""),
        ("application/json", "{\"a\": \"\\ud800\"}"),
    ] {
        let response = app.post_raw("/user/register/", content_type, body).await;
        problem(response, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    }
    let response = app
        .post_raw(
            "/user/register/",
            "application/json",
            vec![0xFF, 0xFE, b'{', b'}'],
        )
        .await;
    problem(response, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
    let app = spawn_app().await;
    for path in ["/", "/user", "/user/registe", "/user/logout/", "/admin/"] {
        let response = app.get(path).await;
        problem(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    for path in ["/user/register/", "/user/login", "/user/logout/abc/"] {
        for method in [
            reqwest::Method::GET,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
        ] {
            let response = app.request(method, path).await;
            assert_method_not_allowed(response, &["POST"]).await;
        }
    }
    let response = app.request(reqwest::Method::DELETE, "/graphql").await;
    assert_method_not_allowed(response, &["GET", "HEAD", "POST"]).await;
}

#[tokio::test]
async fn every_response_is_nosniff() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz", "/nope", "/graphql"] {
        let response = app.get(path).await;
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
}
