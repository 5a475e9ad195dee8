//! `gatehouse import django`: the binary run against the fixture Django 5.2
//! made (tests/fixtures/django), then a real server on the imported
//! database, every account checked against the fixture's manifest.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::django_fixture::{FIXTURE, account, manifest};
use crate::helpers::{
    PASSWORD, TestApp, TestDatabase, gql_code, is_postgres, postgres_admin_url, problem, spawn_on,
};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

fn expected(expect: &str) -> usize {
    manifest().iter().filter(|a| a["expect"] == expect).count()
}

/// Runs `gatehouse import django <args> --database-url <target>`.
fn import(database: &TestDatabase, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["import", "django"])
        .args(args)
        .args(["--database-url", &database.url, "--log-level", "warn"])
        .env_remove("DATABASE_URL")
        .env_remove("GATEHOUSE_DATABASE_URL")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The `label  count` line of a summary.
fn count(summary: &str, label: &str) -> usize {
    summary
        .lines()
        .find_map(|line| line.strip_prefix(label)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} in {summary}"))
}

/// The imported accounts, comparable across targets (ids aside).
async fn imported_rows(app: &TestApp) -> Vec<Value> {
    let rows = app
        .sql(
            "SELECT django_id, username, email, password_hash, is_active, date_joined, last_login \
             FROM users ORDER BY django_id",
        )
        .await;
    rows.iter()
        .map(|row| {
            let time = |c: &str| {
                row.try_get::<Option<chrono::DateTime<chrono::Utc>>>("", c)
                    .unwrap()
                    .map(|t| t.to_rfc3339())
            };
            json!([
                row.try_get::<i64>("", "django_id").unwrap(),
                row.try_get::<String>("", "username").unwrap(),
                row.try_get::<String>("", "email").unwrap(),
                row.try_get::<String>("", "password_hash").unwrap(),
                row.try_get::<bool>("", "is_active").unwrap(),
                time("date_joined"),
                time("last_login"),
            ])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_imported_account_behaves_as_the_manifest_says() {
    let database = TestDatabase::create().await;
    let output = import(&database, &[&format!("{FIXTURE}/auth.sqlite3")]);
    let summary = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "conflicts exit 1: {output:?}"
    );
    let importable = manifest().len() - expected("conflict");
    assert_eq!(count(&summary, "imported"), importable, "{summary}");
    assert_eq!(count(&summary, "conflicts"), expected("conflict"));
    assert_eq!(count(&summary, "already present"), 0);
    assert_eq!(count(&summary, "skipped"), 0);
    // A line per conflict, naming both accounts.
    assert!(
        summary.contains(r#"Django #15 "casetwin""#)
            && summary.contains(r#"taken by "CaseTwin" (Django #14)"#),
        "{summary}"
    );
    assert!(summary.contains(r#"taken by "shared_email_1" (Django #16)"#));

    let app = spawn_on(database, &[]).await;
    for account in manifest() {
        let (name, password) = (
            account["username"].as_str().unwrap(),
            account["password"].as_str().unwrap(),
        );
        let response = app.login(name, password).await;
        match account["expect"].as_str().unwrap() {
            "login" => {
                assert_eq!(response.status(), StatusCode::OK, "{name}");
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["user"]["username"], name);
                assert_eq!(body["user"]["email"], account["email"]);
                assert!(uuid::Uuid::parse_str(body["user"]["id"].as_str().unwrap()).is_ok());
                let hash = app.stored_hash(name).await;
                assert!(hash.starts_with("$argon2id$"), "{name} upgraded");
                // Over GraphQL too, now on the upgraded hash.
                let (_, body) = app
                    .graphql(
                        "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { user { username } } }",
                        json!({"u": name, "p": password}),
                        None,
                    )
                    .await;
                assert_eq!(body["data"]["login"]["user"]["username"], name, "{body}");
            }
            "disabled" => {
                problem(response, StatusCode::FORBIDDEN, "ACCOUNT_DISABLED").await;
                let wrong = app.login(name, "not-the-password").await;
                problem(wrong, StatusCode::UNAUTHORIZED, "INVALID_PASSWORD").await;
            }
            "no-password" => {
                problem(response, StatusCode::UNAUTHORIZED, "INVALID_PASSWORD").await;
                let (_, body) = app
                    .graphql(
                        "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }",
                        json!({"u": name, "p": password}),
                        None,
                    )
                    .await;
                assert_eq!(gql_code(&body), "INVALID_PASSWORD");
            }
            "conflict" => {
                // Not imported: the name is the earlier account's (401, its
                // password differs) or unknown (400).
                assert!(
                    [StatusCode::UNAUTHORIZED, StatusCode::BAD_REQUEST]
                        .contains(&response.status()),
                    "{name}: {}",
                    response.status()
                );
                let rows = app
                    .sql(&format!(
                        "SELECT id FROM users WHERE django_id = {}",
                        account["id"]
                    ))
                    .await;
                assert!(rows.is_empty(), "{name} was not imported");
            }
            other => panic!("unknown expectation {other}"),
        }
    }

    // The Django id keeps working for logout; responses give the UUID.
    let md5 = account("legacy_md5");
    let (token, uuid) = app.login_ok_with("legacy_md5", &md5.password).await;
    let django_id = md5.id.to_string();
    let response = app.logout(&django_id, Some(&token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user_id"], uuid.as_str());
    assert!(app.me(&token).await.is_null(), "the session ended");
    // Another account's Django id is not this token's user.
    let (token, _) = app.login_ok_with("legacy_md5", &md5.password).await;
    let response = app.logout("1", Some(&token)).await;
    problem(response, StatusCode::BAD_REQUEST, "INVALID_USER_ID").await;
    let response = app.logout("999999", Some(&token)).await;
    problem(response, StatusCode::BAD_REQUEST, "INVALID_USER_ID").await;

    // A second import brings nothing new and leaves upgraded hashes alone.
    let before = imported_rows(&app).await;
    let again = import(&app.database, &[&format!("{FIXTURE}/dumpdata.json")]);
    let summary = stdout(&again);
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    assert_eq!(count(&summary, "imported"), 0, "{summary}");
    assert_eq!(count(&summary, "already present"), importable);
    assert_eq!(imported_rows(&app).await, before, "nothing changed");
}

/// Imports `source` into a fresh database and returns what landed.
async fn import_into_fresh(source: &str, extra: &[&str]) -> (Output, TestApp) {
    let database = TestDatabase::create().await;
    let mut args = vec![source];
    args.extend_from_slice(extra);
    let output = import(&database, &args);
    (output, spawn_on(database, &[]).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dumpdata_json_and_standard_input_give_what_the_sqlite_file_gives() {
    let (_, from_sqlite) = import_into_fresh(&format!("{FIXTURE}/auth.sqlite3"), &[]).await;
    let (output, from_json) = import_into_fresh(&format!("{FIXTURE}/dumpdata.json"), &[]).await;
    assert_eq!(output.status.code(), Some(1));
    let expected = imported_rows(&from_sqlite).await;
    assert_eq!(expected.len(), manifest().len() - 2);
    assert_eq!(imported_rows(&from_json).await, expected);

    let database = TestDatabase::create().await;
    let mut child = Command::new(BIN)
        .args(["import", "django", "-", "--database-url", &database.url])
        .args(["--log-level", "warn"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let json = std::fs::read(format!("{FIXTURE}/dumpdata.json")).unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &json).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let from_stdin = spawn_on(database, &[]).await;
    assert_eq!(imported_rows(&from_stdin).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_django_database_is_a_source() {
    let Some(admin_url) = postgres_admin_url() else {
        eprintln!("skipped: needs PostgreSQL (TEST_DATABASE_URL), as CI's PostgreSQL run has");
        return;
    };
    // A Django database on PostgreSQL, with Django's column types, holding
    // the fixture's rows.
    let name = format!("django_source_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let source_url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    let source = Database::connect(&source_url).await.unwrap();
    source
        .execute_unprepared(
            "CREATE TABLE auth_user (id integer PRIMARY KEY, password varchar(128) NOT NULL, \
             last_login timestamptz NULL, is_superuser boolean NOT NULL, \
             username varchar(150) NOT NULL UNIQUE, first_name varchar(150) NOT NULL, \
             last_name varchar(150) NOT NULL, email varchar(254) NOT NULL, \
             is_staff boolean NOT NULL, is_active boolean NOT NULL, date_joined timestamptz NOT NULL)",
        )
        .await
        .unwrap();
    let dump: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURE}/dumpdata.json")).unwrap())
            .unwrap();
    for record in dump.as_array().unwrap() {
        let f = &record["fields"];
        source
            .execute_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "INSERT INTO auth_user VALUES ($1, $2, $3::timestamptz, false, $4, '', '', $5, false, $6, $7::timestamptz)",
                [
                    record["pk"].as_i64().unwrap().into(),
                    f["password"].as_str().unwrap().into(),
                    f["last_login"].as_str().map(str::to_owned).into(),
                    f["username"].as_str().unwrap().into(),
                    f["email"].as_str().unwrap().into(),
                    f["is_active"].as_bool().unwrap().into(),
                    f["date_joined"].as_str().unwrap().into(),
                ],
            ))
            .await
            .unwrap();
    }
    let _ = source.close().await;

    let (_, from_sqlite) = import_into_fresh(&format!("{FIXTURE}/auth.sqlite3"), &[]).await;
    let (output, from_postgres) = import_into_fresh(&source_url, &[]).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        imported_rows(&from_postgres).await,
        imported_rows(&from_sqlite).await
    );
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_writes_nothing_and_reports_what_would_happen() {
    let database = TestDatabase::create().await;
    // One account per batch: the clashes are found across batches, from
    // memory, since nothing is written.
    let source = format!("{FIXTURE}/dumpdata.json");
    let output = import(&database, &[&source, "--dry-run", "--batch-size", "1"]);
    if !is_postgres() {
        let file = database.dir.path().join("gatehouse.db");
        assert!(!file.exists(), "not even an empty database file");
    }
    let app = spawn_on(database, &[]).await;
    let summary = stdout(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        summary.starts_with("dry run: nothing was written"),
        "{summary}"
    );
    assert_eq!(count(&summary, "imported"), manifest().len() - 2);
    assert_eq!(count(&summary, "conflicts"), 2, "found without writing");
    assert!(app.sql("SELECT id FROM users").await.is_empty());
    // Against a migrated target, it reads what is there.
    app.register_ok("Legacy_MD5").await;
    let output = import(&app.database, &[&source, "--dry-run"]);
    assert_eq!(count(&stdout(&output), "conflicts"), 3, "{output:?}");
    assert_eq!(app.sql("SELECT id FROM users").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clashes_are_found_across_batches_and_with_gatehouse_accounts() {
    let database = TestDatabase::create().await;
    let app = spawn_on(database, &[]).await;
    let native = app.register_ok("Legacy_MD5").await;
    let source = format!("{FIXTURE}/auth.sqlite3");
    let output = import(&app.database, &[&source, "--batch-size", "1"]);
    let summary = stdout(&output);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(count(&summary, "conflicts"), 3, "{summary}");
    assert_eq!(count(&summary, "imported"), manifest().len() - 3);
    assert!(
        summary.contains(&format!(r#"taken by "Legacy_MD5" (Gatehouse {native})"#)),
        "{summary}"
    );
    // The native account is untouched: its own password still logs in.
    assert_eq!(
        app.login("legacy_md5", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_row_is_skipped_and_the_rest_imported() {
    if is_postgres() {
        return; // the source is a SQLite file; the target backend is beside the point
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("auth.sqlite3");
    std::fs::copy(format!("{FIXTURE}/auth.sqlite3"), &copy).unwrap();
    let mut permissions = std::fs::metadata(&copy).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&copy, permissions).unwrap();
    let source = Database::connect(format!("sqlite://{}?mode=rw", copy.display()))
        .await
        .unwrap();
    source
        .execute_unprepared("UPDATE auth_user SET date_joined = 'last spring' WHERE id = 20")
        .await
        .unwrap();
    let _ = source.close().await;
    let (output, app) = import_into_fresh(&copy.display().to_string(), &[]).await;
    let summary = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(count(&summary, "skipped"), 1, "{summary}");
    assert!(
        summary.contains("skipped: Django #20: the row cannot be read"),
        "{summary}"
    );
    assert_eq!(count(&summary, "imported"), manifest().len() - 3);
    assert_eq!(
        app.sql("SELECT id FROM users").await.len(),
        manifest().len() - 3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactive_means_logged_out_when_asked() {
    let (_, app) = import_into_fresh(
        &format!("{FIXTURE}/dumpdata.json"),
        &["--active-means-logged-in"],
    )
    .await;
    let response = app
        .login("inactive_user", &account("inactive_user").password)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_django_id_logs_out_in_legacy_mode_too() {
    let database = TestDatabase::create().await;
    import(&database, &[&format!("{FIXTURE}/dumpdata.json")]);
    let app = spawn_on(database, &["--legacy-logout"]).await;
    let md5 = account("legacy_md5");
    let (token, uuid) = app.login_ok_with("legacy_md5", &md5.password).await;
    let django_id = md5.id.to_string();
    // Without a token: every session of the account named by its Django id.
    let response = app.logout(&django_id, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"user_id": uuid, "sessions_revoked": 1}));
    assert!(app.me(&token).await.is_null());
    let response = app.logout("424242", None).await;
    problem(response, StatusCode::BAD_REQUEST, "INVALID_USER_ID").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_sources_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let json = std::fs::read_to_string(format!("{FIXTURE}/dumpdata.json")).unwrap();
    let truncated = dir.path().join("truncated.json");
    std::fs::write(&truncated, &json[..json.len() * 2 / 3]).unwrap();
    let not_users = dir.path().join("groups.json");
    std::fs::write(
        &not_users,
        r#"[{"model": "auth.group", "pk": 1, "fields": {"username": "x", "password": "x", "date_joined": "2020-01-01T00:00:00Z"}}]"#,
    )
    .unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database").unwrap();
    // A SQLite database, but not Django's: a Gatehouse one.
    let other = TestDatabase::create().await;
    let gatehouse_db = if is_postgres() {
        None
    } else {
        let app = spawn_on(other, &[]).await;
        app.register_ok("someone").await;
        Some(app)
    };
    let mut sources = vec![
        truncated.display().to_string(),
        not_users.display().to_string(),
        text.display().to_string(),
        dir.path().join("missing.sqlite3").display().to_string(),
        "postgres://nobody:wrong@127.0.0.1:1/none".to_owned(),
    ];
    if let Some(app) = &gatehouse_db {
        sources.push(
            app.database
                .dir
                .path()
                .join("gatehouse.db")
                .display()
                .to_string(),
        );
    }
    for source in sources {
        let database = TestDatabase::create().await;
        let output = import(&database, &[&source]);
        assert_eq!(output.status.code(), Some(2), "{source}: {output:?}");
        let message = String::from_utf8(output.stderr.clone()).unwrap();
        assert!(
            message.starts_with("gatehouse import: "),
            "{source}: {message}"
        );
        assert!(stdout(&output).is_empty(), "no summary");
        // Nothing written: the target was not even migrated.
        let app = spawn_on(database, &[]).await;
        assert!(app.sql("SELECT id FROM users").await.is_empty(), "{source}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_halfway_completes_when_run_again() {
    // 3,000 accounts (cheap md5 hashes: importing hashes nothing), written 10
    // per transaction, so the kill lands mid-way.
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("many.json");
    let records: Vec<Value> = (1..=3000)
        .map(|i| {
            json!({"model": "auth.user", "pk": i, "fields": {
                "password": format!("md5$salt{i}$0123456789abcdef0123456789abcdef"),
                "last_login": null, "is_superuser": false, "username": format!("bulk{i}"),
                "first_name": "", "last_name": "",
                // Every 100th has a blank email, which Django allows and
                // which is unique to no one.
                "email": if i % 100 == 0 { String::new() } else { format!("bulk{i}@example.com") },
                "is_staff": false, "is_active": true, "date_joined": "2021-03-04T05:06:07Z",
                "groups": [], "user_permissions": []}})
        })
        .collect();
    std::fs::write(&source, serde_json::to_vec(&records).unwrap()).unwrap();
    let source = source.display().to_string();

    let database = TestDatabase::create().await;
    let app_db = Database::connect(&database.url).await.unwrap();
    let mut child = Command::new(BIN)
        .args(["import", "django", &source, "--batch-size", "10"])
        .args(["--database-url", &database.url, "--log-level", "warn"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut killed_at = None;
    while started.elapsed() < Duration::from_secs(60) {
        let rows = app_db
            .query_all_raw(Statement::from_string(
                app_db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM users",
            ))
            .await
            .map(|rows| rows[0].try_get::<i64>("", "n").unwrap_or(0))
            .unwrap_or(0);
        if rows > 0 {
            child.kill().unwrap(); // SIGKILL
            killed_at = Some(rows);
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = child.wait();
    let killed_at = killed_at.expect("the import started writing within 60 s");
    let _ = app_db.close().await;

    let output = import(&database, &[&source, "--batch-size", "10"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let summary = stdout(&output);
    let app = spawn_on(database, &[]).await;
    let rows = app
        .sql("SELECT COUNT(*) AS n, COUNT(DISTINCT django_id) AS d FROM users")
        .await;
    assert_eq!(rows[0].try_get::<i64>("", "n").unwrap(), 3000, "{summary}");
    assert_eq!(rows[0].try_get::<i64>("", "d").unwrap(), 3000);
    assert_eq!(
        count(&summary, "imported") + count(&summary, "already present"),
        3000
    );
    eprintln!(
        "killed after {killed_at} accounts; the second run imported {}",
        count(&summary, "imported")
    );
    // Native registration still works alongside the imported accounts.
    app.register_ok("native").await;
    assert_eq!(app.login("native", PASSWORD).await.status(), StatusCode::OK);
}
