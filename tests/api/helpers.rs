//! `spawn_app` and one helper per endpoint.

use std::net::SocketAddr;

use clap::Parser;
use gatehouse::app::Application;
use gatehouse::config::Cli;
use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tempfile::TempDir;

/// A password that passes every rule.
pub const PASSWORD: &str = "Vq7#kPz!rw";

pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub db_url: String,
    /// Keeps the database file alive for the test.
    pub dir: TempDir,
}

/// Cheap hashing so tests stay quick; the pool and its limits are still real.
pub const FAST_HASHING: &[&str] = &["--argon2-memory-kib", "256", "--argon2-iterations", "1"];

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts a server with extra command-line flags on a fresh database.
pub async fn spawn_app_with(flags: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("gatehouse.db").display()
    );
    spawn_on(dir, db_url, flags).await
}

/// Starts a server on an existing database (e.g. to restart with new settings).
pub async fn spawn_on(dir: TempDir, db_url: String, flags: &[&str]) -> TestApp {
    let mut args = vec![
        "gatehouse",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        &db_url,
        "--log-level",
        "warn",
    ];
    args.extend_from_slice(FAST_HASHING);
    args.extend_from_slice(flags);
    let cli = Cli::try_parse_from(args).expect("valid test flags");
    let application = Application::build(&cli.serve).await.expect("server starts");
    let address = application.local_addr().expect("bound");
    tokio::spawn(application.run_until(std::future::pending()));
    let db = gatehouse::app::connect(&cli.serve.database)
        .await
        .expect("test db connection");
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        db,
        db_url,
        dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    pub async fn register(&self, username: &str, email: &str, password: &str) -> Response {
        self.post_json(
            "/user/register/",
            &json!({ "username": username, "email": email, "password": password }),
        )
        .await
    }

    /// Registers `username` with `PASSWORD` and returns its id.
    pub async fn register_ok(&self, username: &str) -> String {
        let response = self
            .register(username, &format!("{username}@example.com"), PASSWORD)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "register {username}"
        );
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post_json(
            "/user/login/",
            &json!({ "username": username, "password": password }),
        )
        .await
    }

    /// Logs in and returns (token, user id).
    pub async fn login_ok(&self, username: &str) -> (String, String) {
        let response = self.login(username, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "login {username}");
        let body: Value = response.json().await.unwrap();
        (
            body["token"].as_str().unwrap().to_owned(),
            body["user"]["id"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn logout(&self, user_id: &str, token: Option<&str>) -> Response {
        let mut request = self
            .client
            .post(self.url(&format!("/user/logout/{user_id}/")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// Runs a GraphQL document; returns the status and the JSON body.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }

    pub async fn me(&self, token: &str) -> Value {
        let (_, body) = self
            .graphql("{ me { id username isLoggedIn } }", json!({}), Some(token))
            .await;
        body["data"]["me"].clone()
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

/// Reads a response as a problem: checks its media type, returns the body.
pub async fn problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["detail"].is_string());
    body
}

/// The `extensions.code` of the first GraphQL error.
pub fn gql_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}
