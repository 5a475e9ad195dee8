//! Logins with the password hashes Django wrote (tests/fixtures/django, made
//! by Django 5.2 itself): each format logs in with its password, and the
//! first login replaces the hash with argon2id.

use crate::django_fixture::account;
use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};
use reqwest::StatusCode;

/// Registers `username` and gives it `hash` as its stored password hash, as
/// an import would.
async fn with_hash(app: &TestApp, username: &str, hash: &str) {
    app.register_ok(username).await;
    app.exec(&format!(
        "UPDATE users SET password_hash = '{}' WHERE username = '{username}'",
        hash.replace('\'', "''")
    ))
    .await;
}

#[tokio::test]
async fn every_django_format_logs_in_and_is_upgraded_to_argon2id() {
    let app = spawn_app().await;
    for name in [
        "legacy_pbkdf2_36k",
        "legacy_pbkdf2_sha1",
        "legacy_argon2",
        "legacy_bcrypt_sha256",
        "legacy_bcrypt",
        "legacy_scrypt",
        "legacy_md5",
    ] {
        let account = account(name);
        with_hash(&app, name, &account.hash).await;
        // A wrong password fails and leaves the hash as it was.
        let wrong = app.login(name, "not-the-password-1").await;
        problem(wrong, StatusCode::UNAUTHORIZED, "INVALID_PASSWORD").await;
        assert_eq!(app.stored_hash(name).await, account.hash, "{name}");

        let response = app.login(name, &account.password).await;
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let upgraded = app.stored_hash(name).await;
        assert!(
            upgraded.starts_with("$argon2id$v=19$m=256,t=1,p=1$"),
            "{name}: {upgraded}"
        );
        // The new hash holds the same password.
        let again = app.login(name, &account.password).await;
        assert_eq!(again.status(), StatusCode::OK, "{name}");
        assert_eq!(
            app.stored_hash(name).await,
            upgraded,
            "{name}: no second upgrade"
        );
    }
}

#[tokio::test]
async fn unusable_and_unknown_hashes_match_no_password() {
    let app = spawn_app().await;
    let unusable = account("unusable_pw");
    with_hash(&app, "unusable_pw", &unusable.hash).await;
    for password in [unusable.password.as_str(), unusable.hash.as_str(), ""] {
        let response = app.login("unusable_pw", password).await;
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::BAD_REQUEST].contains(&response.status()),
            "{password:?}"
        );
    }
    for (name, hash) in [
        (
            "old_sha1",
            "sha1$salt$2bb80d537b1da3e38bd30361aa855686bde0eacd",
        ),
        ("old_unsalted", "md5$$5f4dcc3b5aa765d61d8327deb882cf99"),
        ("old_crypt", "crypt$$ab1Hv2Lg7ltQo"),
        ("garbage", "just some text"),
        (
            "bare_bcrypt",
            "$2b$12$abcdefghijklmnopqrstuuAbCdEfGhIjKlMnOpQrStUvWxYz01234",
        ),
        (
            "costly",
            "pbkdf2_sha256$999999999$salt$AmH690IXhN4mVvntpeSvnKdG/ugjES9UNaM7PtQs6Yw=",
        ),
    ] {
        with_hash(&app, name, hash).await;
        let response = app.login(name, "password").await;
        problem(response, StatusCode::UNAUTHORIZED, "INVALID_PASSWORD").await;
        assert_eq!(app.stored_hash(name).await, hash, "{name}: left as it was");
    }
    // The service is fine afterwards.
    app.assert_healthy().await;
}

/// Concurrent first logins of an imported account: one of them stores the
/// argon2id hash first, and the others, which checked the Django hash, are
/// decided again on the new one; every one of them logs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_logins_all_succeed() {
    let app = spawn_app_with(&["--login-throttle", "off"]).await;
    let account = account("legacy_md5");
    with_hash(&app, "legacy_md5", &account.hash).await;
    let logins = (0..8).map(|_| app.login("legacy_md5", &account.password));
    for response in futures::future::join_all(logins).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert!(
        app.stored_hash("legacy_md5")
            .await
            .starts_with("$argon2id$")
    );
}
