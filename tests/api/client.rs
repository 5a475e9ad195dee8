//! `Api`: a real HTTP client for one running server, with a helper for
//! each request the tests send. The in-process servers (`TestApp`) and the
//! spawned binaries (`binary.rs`) both hand one out, so no test writes a
//! request by hand that another test also writes.

use std::net::SocketAddr;

use reqwest::header::HeaderValue;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::PASSWORD;

#[derive(Clone)]
pub struct Api {
    pub address: SocketAddr,
    pub client: reqwest::Client,
}

impl Api {
    pub fn new(address: SocketAddr) -> Self {
        Self {
            address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    /// An `Api` to the same server whose every request carries
    /// `x-request-id: id`.
    pub fn with_request_id(&self, id: &str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-request-id", id.parse().expect("a header value"));
        Self {
            address: self.address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(headers)
                .build()
                .expect("client"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Checks the service still answers: `/healthz` is 200.
    pub async fn assert_healthy(&self) {
        assert_eq!(self.get("/healthz").await.status(), StatusCode::OK);
    }

    /// A POST with the body as given, under any `Content-Type`.
    pub fn raw_post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> RequestBuilder {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.raw_post(path, content_type, body)
            .send()
            .await
            .expect("request")
    }

    /// A POST with an `Authorization` header exactly as given, well-formed or not.
    pub fn post_with_authorization<V>(&self, path: &str, authorization: V) -> RequestBuilder
    where
        V: TryInto<HeaderValue>,
        V::Error: std::fmt::Debug,
    {
        let value = authorization.try_into().expect("a header value");
        self.client
            .post(self.url(path))
            .header("authorization", value)
    }

    /// `GET /graphql?query=…`.
    pub async fn graphql_get(&self, query: &str) -> Response {
        self.client
            .get(self.url("/graphql"))
            .query(&[("query", query)])
            .send()
            .await
            .expect("request")
    }

    /// Posts a batch (a JSON array of GraphQL requests); returns the status
    /// and the JSON body.
    pub async fn graphql_batch(&self, batch: &[Value]) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(batch)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }

    /// A POST with no body and no headers of its own.
    pub async fn post_empty(&self, path: &str) -> Response {
        self.request(Method::POST, path).await
    }

    /// A request with no body, by any method.
    pub async fn request(&self, method: Method, path: &str) -> Response {
        self.client
            .request(method, self.url(path))
            .send()
            .await
            .expect("request")
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
        self.try_register(username, email, password)
            .await
            .expect("request")
    }

    /// A registration whose connection may fail (the server may be killed).
    pub async fn try_register(
        &self,
        username: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Result<Response> {
        self.client
            .post(self.url("/user/register/"))
            .json(&json!({ "username": username, "email": email, "password": password }))
            .send()
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
        self.login_ok_with(username, PASSWORD).await
    }

    /// Logs in with `PASSWORD`, sending `agent` as the `User-Agent`; returns
    /// the token.
    pub async fn login_with_agent(&self, username: &str, agent: &str) -> String {
        let response = self
            .client
            .post(self.url("/user/login/"))
            .header("user-agent", agent)
            .json(&json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "login {username}");
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// Logs in with `password` and returns (token, user id).
    pub async fn login_ok_with(&self, username: &str, password: &str) -> (String, String) {
        let response = self.login(username, password).await;
        assert_eq!(response.status(), StatusCode::OK, "login {username}");
        let body: Value = response.json().await.unwrap();
        (
            body["token"].as_str().unwrap().to_owned(),
            body["user"]["id"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn logout(&self, user_id: &str, token: Option<&str>) -> Response {
        self.logout_at(&format!("/user/logout/{user_id}/"), token)
            .await
    }

    /// A logout at a path as written (with or without the trailing slash).
    pub async fn logout_at(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.client.post(self.url(path));
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

/// Reads a response as a 405 `METHOD_NOT_ALLOWED` problem whose `Allow`
/// header lists exactly `allowed`.
pub async fn assert_method_not_allowed(response: Response, allowed: &[&str]) {
    let allow = response
        .headers()
        .get("allow")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let mut listed: Vec<&str> = allow.split(',').map(str::trim).collect();
    listed.sort_unstable();
    let mut expected = allowed.to_vec();
    expected.sort_unstable();
    assert_eq!(listed, expected, "Allow: {allow}");
    problem(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
    )
    .await;
}

/// The `extensions.code` of the first GraphQL error.
pub fn gql_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// Races registrations, each `(server, username, email)` sent at once (the
/// servers may differ), then checks exactly one was created and every other
/// attempt is a 400 with `code`, never anything else.
pub async fn assert_race_creates_one(attempts: &[(&Api, String, String)], code: &str) {
    let requests = attempts.iter().map(|(api, username, email)| async move {
        let response = api.register(username, email, PASSWORD).await;
        let status = response.status();
        let body: Value = response.json().await.expect("JSON body");
        (status, body)
    });
    let results = futures::future::join_all(requests).await;
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["code"], code);
    }
}

/// The keys of a JSON object, in the order the server wrote them.
pub fn keys(body: &Value) -> Vec<&str> {
    body.as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Reads a response as an HTML page: 200, `text/html`; returns its headers
/// and text.
pub async fn html_page(response: Response) -> (reqwest::header::HeaderMap, String) {
    assert_eq!(response.status(), StatusCode::OK, "{}", response.url());
    let headers = response.headers().clone();
    let content_type = headers["content-type"].to_str().expect("ASCII");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    (headers, response.text().await.expect("text"))
}
