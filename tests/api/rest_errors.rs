//! Transport-level errors: every one is problem+json with a SPEC §6 code.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, problem, spawn_app};

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
    let response = app
        .client
        .post(app.url("/user/login/"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(" ".repeat(20_000))
        .send()
        .await
        .unwrap();
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
            .client
            .post(app.url("/user/login/"))
            .header("content-type", content_type)
            .body("username=alice&password=x")
            .send()
            .await
            .unwrap();
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
        let response = app
            .client
            .post(app.url("/user/register/"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    }
    let response = app
        .client
        .post(app.url("/user/register/"))
        .header("content-type", "application/json")
        .body(vec![0xFF, 0xFE, b'{', b'}'])
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
    let app = spawn_app().await;
    for path in ["/", "/user", "/user/registe", "/user/logout/", "/admin/"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        problem(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    for path in ["/user/register/", "/user/login", "/user/logout/abc/"] {
        for method in [
            reqwest::Method::GET,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
        ] {
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(response.headers()["allow"], "POST", "{method} {path}");
            problem(
                response,
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
            )
            .await;
        }
    }
    let response = app.client.delete(app.url("/graphql")).send().await.unwrap();
    assert!(
        response.headers()["allow"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    problem(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
    )
    .await;
}

#[tokio::test]
async fn every_response_is_nosniff() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz", "/nope", "/graphql"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
}
