use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, keys, problem, spawn_app};

#[tokio::test]
async fn register_json_answers_201_with_the_user_and_no_hash() {
    let app = spawn_app().await;
    let response = app.register("alice", "alice@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let fields = keys(&body);
    assert_eq!(fields, ["id", "username", "email", "date_joined"]);
    assert_eq!(body["username"], "alice");
    assert_eq!(body["email"], "alice@example.com");
    let id = uuid::Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    chrono::DateTime::parse_from_rfc3339(body["date_joined"].as_str().unwrap()).unwrap();
}

#[tokio::test]
async fn register_accepts_form_bodies_and_both_path_forms() {
    let app = spawn_app().await;
    let response = app
        .post_form(
            "/user/register",
            &[
                ("username", "bob"),
                ("email", "bob@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = app
        .post_raw(
            "/user/register/",
            "Application/X-WWW-Form-URLEncoded; Charset=UTF-8",
            format!(
                "username=carol&email=carol%40example.com&password={}",
                urlencode(PASSWORD)
            ),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = app
        .post_raw(
            "/user/register",
            "APPLICATION/JSON; charset=utf-8",
            json!({"username": "dave", "email": "dave@example.com", "password": PASSWORD})
                .to_string(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn each_missing_field_is_named() {
    let app = spawn_app().await;
    let full = json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD});
    for field in ["username", "email", "password"] {
        let mut body = full.clone();
        body.as_object_mut().unwrap().remove(field);
        let response = app.post_json("/user/register/", &body).await;
        let problem = problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
        assert_eq!(
            problem["errors"],
            json!({ field: ["This field is required."] })
        );
    }
    let response = app.post_json("/user/register/", &json!({})).await;
    let problem = problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(problem["errors"].as_object().unwrap().len(), 3);
    // An empty body, with or without a media type, is a body with no fields.
    let response = app.post_empty("/user/register/").await;
    let problem =
        crate::helpers::problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(
        problem["errors"]["username"],
        json!(["This field is required."])
    );
}

#[tokio::test]
async fn blank_null_and_wrongly_typed_fields_are_named() {
    let app = spawn_app().await;
    let body = json!({"username": "  ", "email": null, "password": true});
    let response = app.post_json("/user/register/", &body).await;
    let problem = problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(
        problem["errors"]["email"],
        json!(["This field may not be null."])
    );
    assert_eq!(
        problem["errors"]["password"],
        json!(["Not a valid string."])
    );
    let body = json!({"username": "  ", "email": "a@example.com", "password": PASSWORD});
    let response = app.post_json("/user/register/", &body).await;
    let problem =
        crate::helpers::problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(
        problem["errors"],
        json!({"username": ["This field may not be blank."]})
    );
}

#[tokio::test]
async fn numbers_are_taken_as_text_like_django() {
    let app = spawn_app().await;
    let body = json!({"username": 12345, "email": "n@example.com", "password": 98127634519u64});
    let response = app.post_json("/user/register/", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let login = app
        .post_json(
            "/user/login/",
            &json!({"username": "12345", "password": "98127634519"}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_taken_username_or_email_is_400_in_any_case() {
    let app = spawn_app().await;
    app.register_ok("Alice").await;
    let response = app.register("aLICE", "other@example.com", PASSWORD).await;
    let problem = problem(response, StatusCode::BAD_REQUEST, "USERNAME_TAKEN").await;
    assert_eq!(
        problem["errors"]["username"],
        json!(["A user with that username already exists."])
    );
    let response = app.register("someone", "ALICE@Example.com", PASSWORD).await;
    let problem = crate::helpers::problem(response, StatusCode::BAD_REQUEST, "EMAIL_TAKEN").await;
    assert_eq!(
        problem["errors"]["email"],
        json!(["A user with that email already exists."])
    );
}

#[tokio::test]
async fn invalid_values_get_each_rule_named() {
    let app = spawn_app().await;
    let response = app.register("bad name!", "not-an-email", "short").await;
    let problem = problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    let errors = problem["errors"].as_object().unwrap();
    assert!(
        errors["username"][0]
            .as_str()
            .unwrap()
            .starts_with("Enter a valid username.")
    );
    assert_eq!(errors["email"], json!(["Enter a valid email address."]));
    assert!(
        errors["password"][0]
            .as_str()
            .unwrap()
            .contains("too short")
    );
}
