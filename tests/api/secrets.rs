//! What is stored: no token, no password; hashes are argon2id and upgrade.

use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{PASSWORD, TestDatabase, is_postgres, spawn_app, spawn_on};

#[tokio::test]
async fn the_database_holds_no_token_and_no_password() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let response = app.login("alice", PASSWORD).await;
    let text = response.text().await.unwrap();
    assert!(!text.contains(PASSWORD));
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    let token = body["token"].as_str().unwrap().to_owned();

    let users = app.sql("SELECT password_hash FROM users").await;
    let hash: String = users[0].try_get("", "password_hash").unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains(PASSWORD));

    let sessions = app.sql("SELECT token_hash FROM sessions").await;
    let stored: Vec<u8> = sessions[0].try_get("", "token_hash").unwrap();
    assert_eq!(stored, Sha256::digest(token.as_bytes()).to_vec());

    // Nowhere in any column of any row, as text.
    let dump = if is_postgres() {
        let rows = app
            .sql("SELECT CAST(u.* AS text) || ' ' || COALESCE((SELECT string_agg(CAST(s.* AS text), ' ') FROM sessions s), '') AS dump FROM users u")
            .await;
        rows.iter()
            .map(|r| r.try_get::<String>("", "dump").unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        // The SQLite file and its WAL, byte for byte.
        let db_path = app.database.dir.path().join("gatehouse.db");
        let mut bytes = std::fs::read(&db_path).unwrap();
        if let Ok(wal) = std::fs::read(db_path.with_extension("db-wal")) {
            bytes.extend(wal);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    };
    assert!(dump.contains("alice"), "the dump holds the data");
    assert!(!dump.contains(PASSWORD));
    assert!(!dump.contains(&token));
    assert!(!dump.contains(&token[4..]));
}

#[test]
fn the_default_hashing_parameters_are_owasps() {
    use clap::Parser;
    let cli = gatehouse::config::Cli::try_parse_from(["gatehouse"]).unwrap();
    let hashing = cli.serve.hashing();
    assert_eq!(
        (hashing.memory_kib, hashing.iterations, hashing.parallelism),
        (19_456, 2, 1)
    );
    assert_eq!(
        hashing.workers,
        std::thread::available_parallelism().unwrap().get()
    );
}

#[tokio::test]
async fn stored_hashes_are_phc_strings_of_the_configured_parameters() {
    // Set explicitly, since the test helper uses cheap parameters.
    let app = spawn_on(
        TestDatabase::create().await,
        &[
            "--argon2-memory-kib",
            "19456",
            "--argon2-iterations",
            "2",
            "--argon2-parallelism",
            "1",
        ],
    )
    .await;
    app.register_ok("alice").await;
    let users = app.sql("SELECT password_hash FROM users").await;
    let hash: String = users[0].try_get("", "password_hash").unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}

#[tokio::test]
async fn no_response_body_ever_holds_the_password() {
    let app = spawn_app().await;
    let secret = "Unusual-Secret-7731";
    let mut bodies = Vec::new();
    for response in [
        app.register("alice", "alice@example.com", secret).await,
        app.register("alice", "alice2@example.com", secret).await,
        app.register("bob", "bad-email", secret).await,
        app.register("unusual", "u@example.com", "unusual-unusual")
            .await,
        app.login("alice", secret).await,
        app.login("alice", "Unusual-Secret-7732").await,
        app.login("nobody", secret).await,
    ] {
        bodies.push(response.text().await.unwrap());
    }
    let (_, gql) = app
        .graphql(
            "mutation($i: LoginInput!) { login(input: $i) { token } }",
            json!({"i": {"username": "alice", "password": 7731}}),
            None,
        )
        .await;
    bodies.push(gql.to_string());
    for body in &bodies {
        assert!(!body.contains("Unusual-Secret"), "{body}");
        assert!(!body.contains("unusual-unusual"), "{body}");
        assert!(!body.contains("$argon2"), "{body}");
    }
}

#[tokio::test]
async fn a_weaker_stored_hash_is_upgraded_on_the_next_login() {
    let app = spawn_app().await; // m=256, t=1
    app.register_ok("alice").await;
    let read_hash = |app: &crate::helpers::TestApp| {
        let db = app.db.clone();
        async move {
            let rows = db
                .query_all_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    "SELECT password_hash FROM users".to_owned(),
                ))
                .await
                .unwrap();
            rows[0].try_get::<String>("", "password_hash").unwrap()
        }
    };
    use sea_orm::ConnectionTrait;
    let weak = read_hash(&app).await;
    assert!(weak.contains("m=256,t=1,p=1"), "{weak}");

    // The same database, served with stronger parameters.
    let stronger = spawn_on(
        app.database,
        &["--argon2-memory-kib", "512", "--argon2-iterations", "2"],
    )
    .await;
    assert_eq!(
        stronger.login("alice", "wrong-password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        read_hash(&stronger).await,
        weak,
        "a failed login changes nothing"
    );
    stronger.login_ok("alice").await;
    let upgraded = read_hash(&stronger).await;
    assert!(upgraded.contains("m=512,t=2,p=1"), "{upgraded}");
    stronger.login_ok("alice").await;
    assert_eq!(
        read_hash(&stronger).await,
        upgraded,
        "a current hash is left alone"
    );
}
