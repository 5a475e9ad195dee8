//! `spawn_app` and the test databases. The requests themselves are in
//! `client.rs`; a `TestApp` is an `Api` to its server, plus the database.

use std::net::SocketAddr;
use std::ops::Deref;

use clap::Parser;
use gatehouse::app::Application;
use gatehouse::config::Cli;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use tempfile::TempDir;

pub use crate::client::{
    Api, assert_method_not_allowed, assert_race_creates_one, gql_code, html_page, keys, problem,
};

/// A password that passes every rule.
pub const PASSWORD: &str = "Vq7#kPz!rw";

pub struct TestApp {
    pub api: Api,
    /// An `Api` to the metrics' own listener, with `--metrics-bind`.
    pub metrics: Option<Api>,
    /// A connection of the test's own to the server's database.
    pub db: DatabaseConnection,
    pub database: TestDatabase,
}

/// Cheap hashing, so tests stay quick (the pool and its limits are still
/// real).
const CHEAP_HASHING: &[&str] = &["--argon2-memory-kib", "256", "--argon2-iterations", "1"];

/// Flags every test server starts with (a test's own flags come after and
/// win): cheap hashing, and no per-client rate limit, since every test client
/// is 127.0.0.1. The tests of those defences switch them back on, or start
/// with `spawn_app_with_default_limits`.
pub const TEST_FLAGS: &[&str] = &[
    "--argon2-memory-kib",
    "256",
    "--argon2-iterations",
    "1",
    "--rate-limit",
    "off",
];

/// The variable naming a PostgreSQL server to run the suite against; without
/// it the suite runs on SQLite files.
pub const POSTGRES_VARIABLE: &str = "TEST_DATABASE_URL";

/// The PostgreSQL server URL (of a database to connect to for admin work), if
/// this run is a PostgreSQL run.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var(POSTGRES_VARIABLE)
        .ok()
        .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
}

pub fn is_postgres() -> bool {
    postgres_admin_url().is_some()
}

/// A fresh, empty database for one test: a SQLite file in a temporary
/// directory, or a PostgreSQL database created for it and dropped after it.
pub struct TestDatabase {
    pub url: String,
    /// Holds the SQLite file; the working directory of spawned binaries.
    pub dir: TempDir,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match postgres_admin_url() {
            None => {
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("gatehouse.db").display()
                );
                Self {
                    url,
                    dir,
                    postgres: None,
                }
            }
            Some(admin_url) => {
                let name = format!("gatehouse_test_{}", uuid::Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("{POSTGRES_VARIABLE} is set but PostgreSQL does not answer: {e}")
                    });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                let _ = admin.close().await;
                let url = with_database_name(&admin_url, &name);
                Self {
                    url,
                    dir,
                    postgres: Some((admin_url, name)),
                }
            }
        }
    }

    /// A handle on a database another `TestDatabase` owns (and drops).
    pub fn borrowed(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: None,
        }
    }

    /// The same database reached through another host:port (a proxy).
    pub fn url_via(&self, address: SocketAddr) -> String {
        let (scheme, rest) = self.url.split_once("://").expect("URL with a scheme");
        let (credentials, rest) = rest.rsplit_once('@').expect("URL with credentials");
        let path = &rest[rest.find('/').expect("URL with a path")..];
        format!("{scheme}://{credentials}@{address}{path}")
    }
}

/// `postgres://u:p@host:port/admin?x` with the database name replaced.
fn with_database_name(url: &str, name: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = before_query.find("://").map_or(0, |i| i + 3);
    let base = match before_query[authority_start..].find('/') {
        Some(slash) => &before_query[..authority_start + slash],
        None => before_query,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside a test's runtime; do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = admin.execute_unprepared(&sql).await;
                    let _ = admin.close().await;
                }
            });
            Ok::<(), std::io::Error>(())
        })
        .join();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts a server with extra command-line flags on a fresh database.
pub async fn spawn_app_with(flags: &[&str]) -> TestApp {
    spawn_on(TestDatabase::create().await, flags).await
}

/// Starts a server on a given database (e.g. to restart with new settings).
pub async fn spawn_on(database: TestDatabase, flags: &[&str]) -> TestApp {
    let url = database.url.clone();
    spawn_at(database, &url, flags).await
}

/// Starts a server with only cheap hashing set: every defence as shipped.
pub async fn spawn_app_with_default_limits() -> TestApp {
    let database = TestDatabase::create().await;
    let url = database.url.clone();
    start(database, &url, CHEAP_HASHING, &[]).await
}

/// Starts a server on `database`, reaching it at `url`.
pub async fn spawn_at(database: TestDatabase, url: &str, flags: &[&str]) -> TestApp {
    start(database, url, TEST_FLAGS, flags).await
}

/// `TEST_LOG=1` (or a filter, e.g. `TEST_LOG=gatehouse=trace`) shows the
/// servers' logs on standard output; without it tests log nothing.
fn test_log_filter() -> Option<String> {
    let value = std::env::var("TEST_LOG").ok()?;
    match value.as_str() {
        "" | "0" => None,
        "1" => Some("info,gatehouse=debug".into()),
        filter => Some(filter.into()),
    }
}

async fn start(database: TestDatabase, url: &str, base: &[&str], flags: &[&str]) -> TestApp {
    let log_filter = test_log_filter();
    let mut args = vec![
        "gatehouse",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        url,
        "--log-level",
        log_filter.as_deref().unwrap_or("warn"),
    ];
    args.extend_from_slice(base);
    args.extend_from_slice(flags);
    let cli = Cli::try_parse_from(args).expect("valid test flags");
    if log_filter.is_some() {
        // One subscriber for the whole test binary; later calls are no-ops.
        gatehouse::telemetry::init(&cli.serve.log);
    }
    let application = Application::build(&cli.serve).await.expect("server starts");
    let address = application.local_addr().expect("bound");
    let metrics = application
        .metrics_addr()
        .map(|address| Api::new(address.expect("metrics listener bound")));
    tokio::spawn(application.run_until(std::future::pending()));
    let db_args = Cli::try_parse_from(["gatehouse", "--database-url", &database.url])
        .expect("valid flags")
        .serve
        .database;
    let db = gatehouse::db::connect(&db_args)
        .await
        .expect("test db connection");
    TestApp {
        api: Api::new(address),
        metrics,
        db,
        database,
    }
}

impl Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl TestApp {
    /// The password hash stored for `username`.
    pub async fn stored_hash(&self, username: &str) -> String {
        let rows = self
            .sql(&format!(
                "SELECT password_hash FROM users WHERE username = '{}'",
                username.replace('\'', "''")
            ))
            .await;
        rows[0]
            .try_get::<String>("", "password_hash")
            .expect("a password hash")
    }

    /// Runs SQL on the test's database and returns the rows as JSON-ish text.
    pub async fn sql(&self, sql: &str) -> Vec<sea_orm::QueryResult> {
        self.db
            .query_all_raw(Statement::from_string(
                self.db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .expect("query")
    }

    pub async fn exec(&self, sql: &str) {
        self.db
            .execute_raw(Statement::from_string(
                self.db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .expect("statement");
    }
}
