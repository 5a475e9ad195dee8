use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn logout_with_the_token_ends_that_session() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let (token, id) = app.login_ok("alice").await;
    for path in [format!("/user/logout/{id}"), format!("/user/logout/{id}/")] {
        let (token, _) = app.login_ok("alice").await;
        let response = app.logout_at(&path, Some(&token)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"user_id": id, "sessions_revoked": 1}));
    }
    let response = app.logout(&id, Some(&token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    // The token is dead now: it names no user, and logs nothing out again.
    assert!(app.me(&token).await.is_null());
    let again = app.logout(&id, Some(&token)).await;
    problem(again, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn logout_ends_only_its_own_session() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let (first, id) = app.login_ok("alice").await;
    let (second, _) = app.login_ok("alice").await;
    assert_eq!(app.logout(&id, Some(&first)).await.status(), StatusCode::OK);
    assert!(app.me(&first).await.is_null());
    let me = app.me(&second).await;
    assert_eq!(me["id"], id.as_str());
    assert_eq!(me["isLoggedIn"], true);
    assert_eq!(
        app.logout(&id, Some(&second)).await.status(),
        StatusCode::OK
    );
    assert!(app.me(&second).await.is_null());
}

#[tokio::test]
async fn a_logged_out_token_is_refused_with_a_challenge() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let (token, id) = app.login_ok("alice").await;
    assert_eq!(app.logout(&id, Some(&token)).await.status(), StatusCode::OK);
    let response = app.logout(&id, Some(&token)).await;
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    problem(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn a_missing_token_gets_a_bare_challenge() {
    let app = spawn_app().await;
    let id = app.register_ok("alice").await;
    app.login_ok("alice").await;
    let response = app.logout(&id, None).await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    problem(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn junk_altered_and_expired_tokens_are_401() {
    let app = spawn_app_with(&["--session-ttl", "1s"]).await;
    app.register_ok("alice").await;
    let (token, id) = app.login_ok("alice").await;
    let mut altered = token.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for bad in ["junk", "gat_", altered.as_str(), &token[..token.len() - 1]] {
        let response = app.logout(&id, Some(bad)).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\""
        );
        problem(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    let logout_with = |header: &'static str| {
        app.post_with_authorization(&format!("/user/logout/{id}/"), header)
            .send()
    };
    for header in ["Bearer", "Bearer    ", "bearer junk"] {
        let response = logout_with(header).await.unwrap();
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\"",
            "{header}"
        );
        problem(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    // Another scheme is not a refused bearer token: a bare challenge.
    for header in ["Basic YWxpY2U6cHc=", "token abc", "Digest"] {
        let response = logout_with(header).await.unwrap();
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{header}");
        problem(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = app.logout(&id, Some(&token)).await;
    problem(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn a_bad_user_id_is_400() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let bob = app.register_ok("bob").await;
    let (token, _) = app.login_ok("alice").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    for id in ["42", "not-a-uuid", "%FF%FE", unknown.as_str(), bob.as_str()] {
        let response = app.logout(id, Some(&token)).await;
        problem(response, StatusCode::BAD_REQUEST, "INVALID_USER_ID").await;
    }
    // The session survived the refused attempts.
    assert!(!app.me(&token).await.is_null());
}

#[tokio::test]
async fn legacy_mode_logs_out_every_session_without_a_token() {
    let app = spawn_app_with(&["--legacy-logout"]).await;
    app.register_ok("alice").await;
    let (first, id) = app.login_ok("alice").await;
    let (second, _) = app.login_ok("alice").await;
    let response = app.logout(&id, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"user_id": id, "sessions_revoked": 2}));
    assert!(app.me(&first).await.is_null());
    assert!(app.me(&second).await.is_null());
    // 200 also when nothing was active.
    let response = app.logout(&id, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["sessions_revoked"], 0);
    // Unknown and malformed ids are 400.
    let unknown = uuid::Uuid::now_v7().to_string();
    for bad in [unknown.as_str(), "12"] {
        problem(
            app.logout(bad, None).await,
            StatusCode::BAD_REQUEST,
            "INVALID_USER_ID",
        )
        .await;
    }
    // A token, when sent, is still checked.
    let response = app.logout(&id, Some(&first)).await;
    problem(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let (third, _) = app.login_ok("alice").await;
    let response = app.logout(&id, Some(&third)).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn default_mode_refuses_tokenless_logout_even_for_a_real_id() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let (token, id) = app.login_ok("alice").await;
    problem(
        app.logout(&id, None).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    assert!(!app.me(&token).await.is_null(), "the session is untouched");
}
