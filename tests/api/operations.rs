//! Health, readiness, request ids and the checked-in SDL.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_and_readyz_answer_200() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn readyz_is_503_when_the_database_stops_answering() {
    let app = spawn_app().await;
    // The schema disappears under the running server: it can no longer serve.
    app.exec("DROP TABLE sessions").await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let health = app.get("/healthz").await;
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "liveness does not depend on the database"
    );
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
    let response = app.get("/healthz").await;
    let generated = response.headers()["x-request-id"].to_str().unwrap();
    uuid::Uuid::parse_str(generated).unwrap();
    let response = app.post_empty("/user/login/").await;
    assert!(
        response.headers().contains_key("x-request-id"),
        "errors carry it too"
    );
}

#[test]
fn schema_graphql_is_what_the_code_prints() {
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(
        checked_in == gatehouse::graphql::sdl(),
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql`"
    );
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys_and_sessions_cascade() {
    let app = spawn_app().await;
    if !crate::helpers::is_postgres() {
        let mode = app.sql("PRAGMA journal_mode").await;
        assert_eq!(mode[0].try_get_by_index::<String>(0).unwrap(), "wal");
        let fk = app.sql("PRAGMA foreign_keys").await;
        assert_eq!(fk[0].try_get_by_index::<i32>(0).unwrap(), 1);
    }
    app.register_ok("alice").await;
    app.login_ok("alice").await;
    assert_eq!(app.sql("SELECT id FROM sessions").await.len(), 1);
    app.exec("DELETE FROM users").await;
    assert!(
        app.sql("SELECT id FROM sessions").await.is_empty(),
        "sessions go with their user"
    );
}

#[tokio::test]
async fn cors_is_closed_unless_origins_are_configured() {
    let preflight = |app: &crate::helpers::TestApp| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "POST")
            .send()
    };
    let closed = spawn_app().await;
    let response = preflight(&closed).await.unwrap();
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let open = crate::helpers::spawn_app_with(&["--cors-origin", "https://app.example.com"]).await;
    let response = preflight(&open).await.unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
}

#[tokio::test]
async fn expired_sessions_are_swept_on_start_and_never_accepted() {
    let app = crate::helpers::spawn_app_with(&["--session-ttl", "1s"]).await;
    app.register_ok("alice").await;
    let (token, _) = app.login_ok("alice").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(app.me(&token).await.is_null());
    assert_eq!(
        app.sql("SELECT id FROM sessions").await.len(),
        1,
        "refused, not yet swept"
    );
    // A restart runs the sweep at once (the first housekeeping tick).
    let again = crate::helpers::spawn_on(app.database, &[]).await;
    let mut swept = false;
    for _ in 0..50 {
        if again.sql("SELECT id FROM sessions").await.is_empty() {
            swept = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(swept, "expired sessions were deleted");
}

#[tokio::test]
async fn every_migration_can_be_undone_and_applied_again() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let applied = Migrator::get_applied_migrations(&app.db).await.unwrap();
    assert_eq!(applied.len(), Migrator::migrations().len());
    // Back one at a time, so each down() runs against its own up().
    for _ in 0..applied.len() {
        Migrator::down(&app.db, Some(1)).await.unwrap();
    }
    assert!(
        Migrator::get_applied_migrations(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        app.db
            .query_all_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                "SELECT id FROM users".to_owned(),
            ))
            .await
            .is_err(),
        "the users table is gone"
    );
    Migrator::up(&app.db, None).await.unwrap();
    assert_eq!(
        Migrator::get_applied_migrations(&app.db)
            .await
            .unwrap()
            .len(),
        Migrator::migrations().len()
    );
}
