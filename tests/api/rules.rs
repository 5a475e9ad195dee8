//! SPEC §5 rules at their boundaries, through the public API.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, problem, spawn_app, spawn_app_with};

async fn field_errors(app: &TestApp, username: &str, email: &str, password: &str) -> Value {
    let response = app.register(username, email, password).await;
    problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await["errors"].clone()
}

#[tokio::test]
async fn username_length_is_1_to_150_characters() {
    let app = spawn_app().await;
    let name150 = "ü".repeat(150);
    assert_eq!(
        app.register(&name150, "a@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::CREATED
    );
    let errors = field_errors(&app, &"a".repeat(151), "b@example.com", PASSWORD).await;
    assert_eq!(
        errors["username"][0],
        "Ensure this field has no more than 150 characters."
    );
    // Whitespace around the name does not count.
    let padded = format!("  {}  ", "b".repeat(150));
    assert_eq!(
        app.register(&padded, "c@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.login(&"B".repeat(150), PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn username_characters_are_letters_digits_and_five_symbols() {
    let app = spawn_app().await;
    for (i, good) in ["a.b+c-d_e@f", "Łódź", "東京", "Ελένη", "user٣"]
        .iter()
        .enumerate()
    {
        let response = app
            .register(good, &format!("u{i}@example.com"), PASSWORD)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{good}");
    }
    for bad in ["a b", "a/b", "a#b", "a'b", "a;b", "😀", "a\u{0}b", "a\nb"] {
        let errors = field_errors(&app, bad, "z@example.com", PASSWORD).await;
        assert!(
            errors["username"][0]
                .as_str()
                .unwrap()
                .starts_with("Enter a valid username"),
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn usernames_are_unique_across_case_and_nfkc_look_alikes() {
    let app = spawn_app().await;
    let response = app
        .register("  ｊｏｈｎ  ", "john@example.com", PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["username"], "john",
        "stored trimmed and NFKC-normalised"
    );
    for twin in ["john", "JOHN", "Ｊｏｈｎ", "jOhN"] {
        let response = app
            .register(twin, &format!("{}@example.org", twin.len()), PASSWORD)
            .await;
        problem(response, StatusCode::BAD_REQUEST, "USERNAME_TAKEN").await;
        assert_eq!(
            app.login(twin, PASSWORD).await.status(),
            StatusCode::OK,
            "{twin}"
        );
    }
}

#[tokio::test]
async fn email_is_a_bare_address_of_at_most_254_characters() {
    let app = spawn_app().await;
    let address = |len: usize| {
        let last = len - 65 - 2 * 64 - 4;
        format!(
            "{}@{}.{}.{}.com",
            "a".repeat(64),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(last)
        )
    };
    assert_eq!(
        app.register("long", &address(254), PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let errors = field_errors(&app, "longer", &address(255), PASSWORD).await;
    assert_eq!(
        errors["email"][0],
        "Ensure this field has no more than 254 characters."
    );
    for bad in [
        "Jane <jane@example.com>",
        "jane",
        "jane@example",
        "jane@exa mple.com",
        "<jane@example.com>",
    ] {
        let errors = field_errors(&app, "jane", bad, PASSWORD).await;
        assert_eq!(errors["email"][0], "Enter a valid email address.", "{bad}");
    }
    let response = app.register("trim", "  trim@example.com\t", PASSWORD).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], "trim@example.com");
}

#[tokio::test]
async fn password_length_is_8_to_256_code_points() {
    let app = spawn_app().await;
    let errors = field_errors(&app, "p7", "p7@example.com", "Xk9#mQ2").await;
    assert_eq!(
        errors["password"][0],
        "This password is too short. It must contain at least 8 characters."
    );
    assert_eq!(
        app.register("p8", "p8@example.com", "Xk9#mQ2v")
            .await
            .status(),
        StatusCode::CREATED
    );
    // Code points, not bytes: 8 two-byte characters are enough.
    assert_eq!(
        app.register("p8u", "p8u@example.com", "ЖжЖжЁёЁё")
            .await
            .status(),
        StatusCode::CREATED
    );
    let p256 = "Zq".repeat(128);
    assert_eq!(
        app.register("p256", "p256@example.com", &p256)
            .await
            .status(),
        StatusCode::CREATED
    );
    let errors = field_errors(&app, "p257", "p257@example.com", &format!("{p256}Z")).await;
    assert_eq!(
        errors["password"][0],
        "Ensure this field has no more than 256 characters."
    );
}

#[tokio::test]
async fn the_minimum_length_is_configurable() {
    let app = spawn_app_with(&["--password-min-length", "12"]).await;
    let errors = field_errors(&app, "min", "min@example.com", "Xk9#mQ2vL0p").await;
    assert!(
        errors["password"][0]
            .as_str()
            .unwrap()
            .contains("at least 12")
    );
    assert_eq!(
        app.register("min", "min@example.com", "Xk9#mQ2vL0pw")
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn passwords_keep_their_spaces_and_are_nfkc_normalised() {
    let app = spawn_app().await;
    let spaced = "  password-with-spaces  ";
    assert_eq!(
        app.register("padded", "s@example.com", spaced)
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(app.login("padded", spaced).await.status(), StatusCode::OK);
    assert_eq!(
        app.login("padded", spaced.trim()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Full-width letters are NFKC-equal to ASCII ones: either spelling logs in.
    assert_eq!(
        app.register("wide", "w@example.com", "Ｖｑ７kPz!rw")
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.login("wide", "Vq7kPz!rw").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.register("nist", "n@example.com", "Vq7#kPz!")
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn common_passwords_and_the_username_inside_are_refused() {
    let app = spawn_app().await;
    for common in [
        "password",
        "PassWord1",
        "iloveyou",
        "qwertyuiop",
        "12345678",
    ] {
        let errors = field_errors(&app, "carol", "carol@example.com", common).await;
        assert!(
            errors["password"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "This password is too common."),
            "{common}: {errors}"
        );
    }
    let errors = field_errors(&app, "carol", "carol@example.com", "my-CAROL-pass-99").await;
    assert_eq!(
        errors["password"][0],
        "This password contains the username."
    );
}
