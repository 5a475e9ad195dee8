//! A signed-in user managing their account over GraphQL: `me { sessions }`,
//! `revokeSession`, `logoutEverywhere`, `changePassword`, `deleteAccount`.
//! Each is tried as it should work, against another user's data, without a
//! token, and with an expired one.

use chrono::{DateTime, Utc};
use gatehouse::entities::sessions;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::client::{Api, gql_code};
use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};

const SESSIONS: &str =
    "{ me { sessions { id createdAt lastUsedAt expiresAt userAgent ip current } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeSession(id: $id) { sessionId current } }";
const EVERYWHERE: &str = "mutation { logoutEverywhere { userId sessionsRevoked } }";
const CHANGE: &str = "mutation($input: ChangePasswordInput!) {
    changePassword(input: $input) { user { id username } sessionsRevoked } }";
const DELETE: &str = "mutation($password: String!) { deleteAccount(password: $password) { userId sessionsRevoked } }";
const NEW_PASSWORD: &str = "Tq9!nw#Lzc";

/// The sessions `me` lists for `token`.
async fn sessions_of(api: &Api, token: &str) -> Vec<Value> {
    let (status, body) = api.graphql(SESSIONS, json!({}), Some(token)).await;
    assert_eq!(status, StatusCode::OK);
    body["data"]["me"]["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

/// Runs `query` and returns the code of its error (`<none>` without one)
/// and its data.
async fn run(api: &Api, query: &str, variables: Value, token: Option<&str>) -> (String, Value) {
    let (status, body) = api.graphql(query, variables, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (gql_code(&body).to_owned(), body["data"].clone())
}

fn change(current: &str, new: &str) -> Value {
    json!({ "input": { "currentPassword": current, "newPassword": new } })
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn me_lists_the_live_sessions_newest_first_with_their_agent_and_address() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let phone = app.login_with_agent("alice", "Phone/1.0").await;
    let laptop = app.login_with_agent("alice", "Läptop/2.0\t(x)").await;

    let listed = sessions_of(&app, &phone).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(
        listed[0]["userAgent"], "Läptop/2.0(x)",
        "control characters dropped"
    );
    assert_eq!(listed[1]["userAgent"], "Phone/1.0");
    assert_eq!(
        listed
            .iter()
            .map(|s| s["current"].as_bool())
            .collect::<Vec<_>>(),
        [Some(false), Some(true)]
    );
    for session in &listed {
        assert_eq!(session["ip"], "127.0.0.1");
        assert_eq!(
            session["lastUsedAt"], session["createdAt"],
            "a login is a use"
        );
        assert!(time(&session["expiresAt"]) > time(&session["createdAt"]));
    }
    assert!(time(&listed[0]["createdAt"]) >= time(&listed[1]["createdAt"]));
    assert_eq!(sessions_of(&app, &laptop).await[0]["current"], true);

    // A long agent is cut to 256 bytes, at a character boundary.
    let long = app.login_with_agent("alice", &"é".repeat(300)).await;
    let kept = sessions_of(&app, &long).await[0]["userAgent"].clone();
    assert_eq!(kept.as_str().unwrap(), "é".repeat(128));

    // A session id is not a token.
    let id = listed[0]["id"].as_str().unwrap();
    assert!(app.me(id).await.is_null());
    assert!(app.me(&format!("gat_{id}")).await.is_null());
}

#[tokio::test]
async fn another_users_sessions_cannot_be_read() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    app.register_ok("bob").await;
    let (bob, _) = app.login_ok("bob").await;
    // Bob's token, and no token, reading the sessions of the user a login
    // answers with: null, and the login itself succeeds.
    let login =
        "mutation($input: LoginInput!) { login(input: $input) { token user { sessions { id } } } }";
    let input = json!({ "input": { "username": "alice", "password": PASSWORD } });
    for token in [Some(bob.as_str()), None] {
        let (code, data) = run(&app, login, input.clone(), token).await;
        assert_eq!(code, "<none>", "{data}");
        assert!(data["login"]["token"].is_string());
        assert!(data["login"]["user"]["sessions"].is_null(), "{data}");
    }
}

#[tokio::test]
async fn last_used_at_is_written_at_most_once_a_minute() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let (token, _) = app.login_ok("alice").await;
    let listed = sessions_of(&app, &token).await;
    let created = time(&listed[0]["createdAt"]);
    assert_eq!(
        time(&listed[0]["lastUsedAt"]),
        created,
        "used within the minute"
    );

    // Two minutes pass, as far as the row knows.
    let earlier = created - chrono::Duration::minutes(2);
    sessions::Entity::update_many()
        .col_expr(sessions::Column::LastUsedAt, Expr::value(earlier))
        .filter(
            sessions::Column::Id.eq(listed[0]["id"]
                .as_str()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap()),
        )
        .exec(&app.db)
        .await
        .unwrap();
    app.me(&token).await;
    // The write happens beside the request; give it a moment.
    let mut used = earlier;
    for _ in 0..50 {
        used = time(&sessions_of(&app, &token).await[0]["lastUsedAt"]);
        if used > earlier {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(used >= created, "the use was written: {used} < {created}");
}

#[tokio::test]
async fn revoke_session_ends_one_own_session_and_nothing_else() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    app.register_ok("bob").await;
    let (first, _) = app.login_ok("alice").await;
    let (second, _) = app.login_ok("alice").await;
    let (bob, _) = app.login_ok("bob").await;
    let second_id = sessions_of(&app, &second).await[0]["id"].clone();
    let bob_id = sessions_of(&app, &bob).await[0]["id"].clone();

    // Another user's id, a malformed one, an unknown one: nothing is revealed.
    let unknown = json!(uuid::Uuid::now_v7().to_string());
    for id in [bob_id, json!("not-a-uuid"), json!(""), unknown] {
        let (code, data) = run(&app, REVOKE, json!({ "id": id }), Some(&first)).await;
        assert_eq!(code, "INVALID_SESSION_ID", "{id}");
        assert!(data.is_null(), "{data}");
    }
    assert!(!app.me(&bob).await.is_null(), "Bob's session lives");

    let (code, data) = run(&app, REVOKE, json!({ "id": second_id }), Some(&first)).await;
    assert_eq!(code, "<none>");
    assert_eq!(
        data["revokeSession"],
        json!({ "sessionId": second_id, "current": false })
    );
    assert!(app.me(&second).await.is_null(), "the revoked token fails");
    assert!(!app.me(&first).await.is_null());
    // Again: it is gone.
    let (code, _) = run(&app, REVOKE, json!({ "id": second_id }), Some(&first)).await;
    assert_eq!(code, "INVALID_SESSION_ID");

    // Its own session.
    let own = sessions_of(&app, &first).await[0]["id"].clone();
    let (_, data) = run(&app, REVOKE, json!({ "id": own }), Some(&first)).await;
    assert_eq!(data["revokeSession"]["current"], true);
    assert!(app.me(&first).await.is_null());
    let (code, _) = run(&app, REVOKE, json!({ "id": own }), None).await;
    assert_eq!(code, "UNAUTHENTICATED");
}

#[tokio::test]
async fn logout_everywhere_ends_every_session_of_the_user_only() {
    let app = spawn_app().await;
    let alice_id = app.register_ok("alice").await;
    app.register_ok("bob").await;
    let tokens: Vec<String> = futures::future::join_all((0..3).map(|_| app.login_ok("alice")))
        .await
        .into_iter()
        .map(|(token, _)| token)
        .collect();
    let (bob, _) = app.login_ok("bob").await;

    let (code, data) = run(&app, EVERYWHERE, json!({}), Some(&tokens[1])).await;
    assert_eq!(code, "<none>");
    assert_eq!(
        data["logoutEverywhere"],
        json!({ "userId": alice_id, "sessionsRevoked": 3 })
    );
    for token in &tokens {
        assert!(app.me(token).await.is_null());
    }
    assert!(!app.me(&bob).await.is_null(), "Bob is still signed in");
    let (code, _) = run(&app, EVERYWHERE, json!({}), Some(&tokens[1])).await;
    assert_eq!(code, "UNAUTHENTICATED");
    let (code, _) = run(&app, EVERYWHERE, json!({}), None).await;
    assert_eq!(code, "UNAUTHENTICATED");
}

#[tokio::test]
async fn change_password_keeps_this_session_and_ends_the_others() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    app.register_ok("bob").await;
    let (this, _) = app.login_ok("alice").await;
    let (other, _) = app.login_ok("alice").await;
    let (bob, _) = app.login_ok("bob").await;

    let (code, data) = run(&app, CHANGE, change(PASSWORD, NEW_PASSWORD), Some(&this)).await;
    assert_eq!(code, "<none>");
    assert_eq!(data["changePassword"]["sessionsRevoked"], 1);
    assert_eq!(data["changePassword"]["user"]["username"], "alice");
    assert!(!app.me(&this).await.is_null(), "this session stays");
    assert!(app.me(&other).await.is_null(), "the other one ended");
    assert!(!app.me(&bob).await.is_null(), "another user's stays");

    assert_eq!(
        app.login("alice", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "the old password fails"
    );
    app.login_ok_with("alice", NEW_PASSWORD).await;
    let stored = app.stored_hash("alice").await;
    assert!(stored.starts_with("$argon2id$"), "{stored}");
}

#[tokio::test]
async fn change_password_refuses_bad_input_and_changes_nothing() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let (token, _) = app.login_ok("alice").await;
    let stored = app.stored_hash("alice").await;

    let cases = [
        (
            change("wrong-password", NEW_PASSWORD),
            "INVALID_PASSWORD",
            None,
        ),
        (
            change(PASSWORD, "short"),
            "VALIDATION_FAILED",
            Some("newPassword"),
        ),
        (
            change(PASSWORD, "password123"),
            "VALIDATION_FAILED",
            Some("newPassword"),
        ),
        (
            change(PASSWORD, "alice-is-my-name"),
            "VALIDATION_FAILED",
            Some("newPassword"),
        ),
        (
            change(PASSWORD, PASSWORD),
            "VALIDATION_FAILED",
            Some("newPassword"),
        ),
        (
            change("", NEW_PASSWORD),
            "VALIDATION_FAILED",
            Some("currentPassword"),
        ),
    ];
    for (variables, expected, field) in cases {
        let (status, body) = app.graphql(CHANGE, variables.clone(), Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(gql_code(&body), expected, "{variables}: {body}");
        if let Some(field) = field {
            let fields = &body["errors"][0]["extensions"]["fields"];
            assert!(fields[field][0].is_string(), "{variables}: {body}");
        }
    }
    let (code, _) = run(&app, CHANGE, change(PASSWORD, NEW_PASSWORD), None).await;
    assert_eq!(code, "UNAUTHENTICATED");
    assert_eq!(app.stored_hash("alice").await, stored, "nothing changed");
    assert!(!app.me(&token).await.is_null());
}

#[tokio::test]
async fn change_password_shares_the_login_throttle() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let (token, _) = app.login_ok("alice").await;
    // Five free failures; the fifth opens a one-second window.
    for attempt in 1..=5 {
        let (code, _) = run(
            &app,
            CHANGE,
            change("wrong-password", NEW_PASSWORD),
            Some(&token),
        )
        .await;
        assert_eq!(code, "INVALID_PASSWORD", "attempt {attempt}");
    }
    let (code, _) = run(&app, CHANGE, change(PASSWORD, NEW_PASSWORD), Some(&token)).await;
    assert_eq!(code, "RATE_LIMITED", "even the right password waits");
    assert_eq!(
        app.login("alice", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "and so does login"
    );
}

#[tokio::test]
async fn delete_account_frees_the_name_and_ends_every_session() {
    let app = spawn_app().await;
    let alice_id = app.register_ok("alice").await;
    app.register_ok("bob").await;
    let (token, _) = app.login_ok("alice").await;
    let (other, _) = app.login_ok("alice").await;
    let (bob, _) = app.login_ok("bob").await;

    for (password, expected) in [
        ("wrong-password", "INVALID_PASSWORD"),
        ("", "VALIDATION_FAILED"),
    ] {
        let (code, _) = run(&app, DELETE, json!({ "password": password }), Some(&token)).await;
        assert_eq!(code, expected);
    }
    let (code, _) = run(&app, DELETE, json!({ "password": PASSWORD }), None).await;
    assert_eq!(code, "UNAUTHENTICATED");
    assert!(!app.me(&token).await.is_null(), "still there");

    let (code, data) = run(&app, DELETE, json!({ "password": PASSWORD }), Some(&token)).await;
    assert_eq!(code, "<none>");
    assert_eq!(
        data["deleteAccount"],
        json!({ "userId": alice_id, "sessionsRevoked": 2 })
    );
    assert!(app.me(&token).await.is_null());
    assert!(app.me(&other).await.is_null());
    assert!(!app.me(&bob).await.is_null());
    assert_eq!(
        app.login("alice", PASSWORD).await.status(),
        StatusCode::BAD_REQUEST,
        "USER_NOT_FOUND"
    );
    let again = app.register_ok("alice").await;
    assert_ne!(again, alice_id);
    assert_eq!(
        app.sql("SELECT id FROM sessions").await.len(),
        1,
        "Bob's only"
    );
}

#[tokio::test]
async fn an_expired_token_can_do_none_of_it() {
    let app = spawn_app_with(&["--session-ttl", "1s"]).await;
    app.register_ok("alice").await;
    let (token, _) = app.login_ok("alice").await;
    let id = sessions_of(&app, &token).await[0]["id"].clone();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let (code, data) = run(&app, SESSIONS, json!({}), Some(&token)).await;
    assert_eq!((code.as_str(), &data["me"]), ("<none>", &Value::Null));
    let operations = [
        (REVOKE, json!({ "id": id })),
        (EVERYWHERE, json!({})),
        (CHANGE, change(PASSWORD, NEW_PASSWORD)),
        (DELETE, json!({ "password": PASSWORD })),
    ];
    for (query, variables) in operations {
        let (code, _) = run(&app, query, variables, Some(&token)).await;
        assert_eq!(code, "UNAUTHENTICATED", "{query}");
    }
    app.login_ok("alice").await;
}

/// Logins with the old password racing a password change: whatever the
/// order, none of them leaves a live session behind, and none is a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_racing_a_password_change_leave_no_session_behind() {
    let app = spawn_app_with(&["--login-throttle", "off"]).await;
    app.register_ok("alice").await;
    let (token, _) = app.login_ok("alice").await;
    let logins = (0..12).map(|_| app.login("alice", PASSWORD));
    let change = app.graphql(CHANGE, change(PASSWORD, NEW_PASSWORD), Some(&token));
    let (responses, (_, changed)) = tokio::join!(futures::future::join_all(logins), change);
    assert_eq!(
        changed["data"]["changePassword"]["user"]["username"], "alice",
        "{changed}"
    );
    for response in responses {
        let status = response.status();
        assert!(
            status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
            "{status}"
        );
        if status == StatusCode::OK {
            let body: Value = response.json().await.unwrap();
            let old = body["token"].as_str().unwrap();
            assert!(
                app.me(old).await.is_null(),
                "a session of the old password lives"
            );
        }
    }
    assert_eq!(
        sessions_of(&app, &token).await.len(),
        1,
        "only the changer's"
    );
    app.login_ok_with("alice", NEW_PASSWORD).await;
}

/// Logins racing the account's deletion: each one either succeeds and is
/// ended with the account, or fails as an unknown or wrong login; never 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_racing_a_deletion_never_fail_with_a_server_error() {
    let app = spawn_app_with(&["--login-throttle", "off"]).await;
    app.register_ok("alice").await;
    let (token, _) = app.login_ok("alice").await;
    let logins = (0..12).map(|_| app.login("alice", PASSWORD));
    let delete = app.graphql(DELETE, json!({ "password": PASSWORD }), Some(&token));
    let (responses, (_, deleted)) = tokio::join!(futures::future::join_all(logins), delete);
    assert!(
        deleted["data"]["deleteAccount"]["userId"].is_string(),
        "{deleted}"
    );
    for response in responses {
        let status = response.status();
        assert!(
            [
                StatusCode::OK,
                StatusCode::BAD_REQUEST,
                StatusCode::UNAUTHORIZED
            ]
            .contains(&status),
            "{status}"
        );
        if status == StatusCode::OK {
            let body: Value = response.json().await.unwrap();
            assert!(app.me(body["token"].as_str().unwrap()).await.is_null());
        }
    }
    assert!(app.sql("SELECT id FROM sessions").await.is_empty());
    assert!(app.sql("SELECT id FROM users").await.is_empty());
}

/// Logins racing the account being disabled: each one either opens a
/// session before the change (and the change ends it) or is told the
/// account is disabled; none is refused as a wrong password.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_racing_a_disable_are_never_a_wrong_password() {
    let app = spawn_app_with(&["--login-throttle", "off"]).await;
    app.register_ok("alice").await;
    let logins = futures::future::join_all((0..12).map(|_| app.login("alice", PASSWORD)));
    let disable = async {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        app.exec("UPDATE users SET is_active = false").await;
        app.exec("DELETE FROM sessions").await;
    };
    let (responses, ()) = tokio::join!(logins, disable);
    for response in responses {
        let status = response.status();
        assert!(
            status == StatusCode::OK || status == StatusCode::FORBIDDEN,
            "{status}"
        );
    }
    assert_eq!(
        app.login("alice", PASSWORD).await.status(),
        StatusCode::FORBIDDEN
    );
}

/// changePassword and deleteAccount name no account: they act for the token's
/// own user, and another user's password is just a wrong one.
#[tokio::test]
async fn another_users_password_changes_and_deletes_nothing() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let bobs = "Qz8#wn!Lpx-other";
    assert_eq!(
        app.register("bob", "bob@example.com", bobs).await.status(),
        StatusCode::CREATED
    );
    let (bob, _) = app.login_ok_with("bob", bobs).await;
    let (alice, _) = app.login_ok("alice").await;

    let (code, _) = run(&app, CHANGE, change(PASSWORD, NEW_PASSWORD), Some(&bob)).await;
    assert_eq!(code, "INVALID_PASSWORD");
    let (code, _) = run(&app, DELETE, json!({ "password": PASSWORD }), Some(&bob)).await;
    assert_eq!(code, "INVALID_PASSWORD");

    assert!(!app.me(&alice).await.is_null(), "Alice's session lives");
    assert!(!app.me(&bob).await.is_null(), "and Bob's");
    app.login_ok("alice").await;
    app.login_ok_with("bob", bobs).await;
}
