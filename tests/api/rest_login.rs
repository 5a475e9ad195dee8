use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, keys, problem, spawn_app};

#[tokio::test]
async fn login_answers_200_with_a_token_and_the_user() {
    let app = spawn_app().await;
    let id = app.register_ok("alice").await;
    let before = chrono::Utc::now();
    let response = app.login("alice", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let fields = keys(&body);
    assert_eq!(fields, ["token", "token_type", "expires_at", "user"]);
    assert_eq!(body["token_type"], "Bearer");
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("gat_") && token.len() > 40, "{token}");
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    let ttl = expires.with_timezone(&chrono::Utc) - before;
    assert!(
        ttl >= chrono::Duration::days(7)
            && ttl < chrono::Duration::days(7) + chrono::Duration::minutes(1)
    );
    let user = &body["user"];
    let fields = keys(user);
    assert_eq!(
        fields,
        ["id", "username", "email", "date_joined", "last_login"]
    );
    assert_eq!(user["id"], id.as_str());
    assert!(user["last_login"].is_string());
}

#[tokio::test]
async fn login_accepts_forms_both_paths_and_any_username_case() {
    let app = spawn_app().await;
    app.register_ok("Alice").await;
    for path in ["/user/login", "/user/login/"] {
        let response = app
            .post_form(path, &[("username", "aLiCe"), ("password", PASSWORD)])
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let response = app.login("  ALICE ", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn missing_fields_are_400() {
    let app = spawn_app().await;
    let response = app
        .post_json("/user/login/", &json!({"password": PASSWORD}))
        .await;
    let body = problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(
        body["errors"],
        json!({"username": ["This field is required."]})
    );
    let response = app
        .post_form("/user/login/", &[("username", "alice")])
        .await;
    let body = problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(
        body["errors"],
        json!({"password": ["This field is required."]})
    );
    let response = app
        .post_json("/user/login/", &json!({"username": "", "password": ""}))
        .await;
    let body = problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(
        body["errors"]["password"],
        json!(["This field may not be blank."])
    );
}

#[tokio::test]
async fn an_unknown_user_is_400() {
    let app = spawn_app().await;
    let response = app.login("nobody", PASSWORD).await;
    problem(response, StatusCode::BAD_REQUEST, "USER_NOT_FOUND").await;
    // A name no account could have is simply not found.
    let response = app.login("no such/name", PASSWORD).await;
    problem(response, StatusCode::BAD_REQUEST, "USER_NOT_FOUND").await;
}

#[tokio::test]
async fn a_wrong_password_is_401() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let response = app.login("alice", "wrong-password").await;
    let body = problem(response, StatusCode::UNAUTHORIZED, "INVALID_PASSWORD").await;
    assert!(!body.to_string().contains("wrong-password"));
    // Passwords are not case-folded or trimmed.
    let response = app.login("alice", &PASSWORD.to_uppercase()).await;
    problem(response, StatusCode::UNAUTHORIZED, "INVALID_PASSWORD").await;
    let response = app.login("alice", &format!(" {PASSWORD}")).await;
    problem(response, StatusCode::UNAUTHORIZED, "INVALID_PASSWORD").await;
}

#[tokio::test]
async fn a_disabled_account_is_403_only_with_the_right_password() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let (token, _) = app.login_ok("alice").await;
    app.exec("UPDATE users SET is_active = false WHERE username = 'alice'")
        .await;
    let response = app.login("alice", PASSWORD).await;
    problem(response, StatusCode::FORBIDDEN, "ACCOUNT_DISABLED").await;
    let response = app.login("alice", "wrong-password").await;
    problem(response, StatusCode::UNAUTHORIZED, "INVALID_PASSWORD").await;
    // A disabled user's earlier sessions stop working too.
    assert!(app.me(&token).await.is_null());
}
