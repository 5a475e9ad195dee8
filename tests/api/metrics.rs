//! `GET /metrics`: Prometheus text that parses, counts that match what
//! happened, and labels that never carry a user's data or grow with input.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use reqwest::{Method, StatusCode};

use crate::client::{Api, problem};
use crate::helpers::{PASSWORD, TestDatabase, spawn_app, spawn_app_with, spawn_on};

/// One sample line: its metric name, its labels, its value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed exposition: every sample, and the HELP and TYPE of each family.
#[derive(Debug, Default)]
struct Exposition {
    samples: Vec<Sample>,
    help: BTreeMap<String, String>,
    types: BTreeMap<String, String>,
}

impl Exposition {
    /// The value of the one sample `name{labels}` (labels given in full).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == wanted)
            .map(|s| s.value)
    }

    /// Every series: name and labels.
    fn series(&self) -> BTreeSet<String> {
        self.samples
            .iter()
            .map(|s| format!("{}{:?}", s.name, s.labels))
            .collect()
    }
}

/// The family a sample belongs to: a histogram's `_bucket`, `_sum` and
/// `_count` belong to the histogram.
fn family<'a>(name: &'a str, types: &BTreeMap<String, String>) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && types
                .get(base)
                .is_some_and(|t| t == "histogram" || t == "summary")
        {
            return base;
        }
    }
    name
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses the Prometheus text format (0.0.4) strictly: every line is a
/// HELP, a TYPE or a sample; names and label names are well formed; label
/// values are quoted with the format's escapes; values are numbers; and every
/// sample's family has a HELP and a TYPE. Panics, saying where, otherwise.
fn parse(text: &str) -> Exposition {
    let mut exposition = Exposition::default();
    for (number, line) in text.lines().enumerate() {
        let at = || format!("line {}: {line:?}", number + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let (kind, rest) = comment.split_once(' ').unwrap_or((comment, ""));
            let (name, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            assert!(is_metric_name(name), "{}", at());
            match kind {
                "HELP" => {
                    assert!(!rest.is_empty(), "empty HELP, {}", at());
                    exposition.help.insert(name.into(), rest.into());
                }
                "TYPE" => {
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&rest),
                        "{}",
                        at()
                    );
                    exposition.types.insert(name.into(), rest.into());
                }
                _ => panic!("unknown comment, {}", at()),
            }
            continue;
        }
        let name_end = line
            .find(['{', ' '])
            .unwrap_or_else(|| panic!("no value, {}", at()));
        let name = &line[..name_end];
        assert!(is_metric_name(name), "{}", at());
        let mut rest = &line[name_end..];
        let mut labels = BTreeMap::new();
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices().peekable();
            let mut consumed = None;
            while let Some(&(start, c)) = chars.peek() {
                if c == '}' {
                    consumed = Some(start + 1);
                    break;
                }
                let eq = inner[start..]
                    .find('=')
                    .unwrap_or_else(|| panic!("label without =, {}", at()))
                    + start;
                let label = &inner[start..eq];
                assert!(
                    is_metric_name(label) && !label.contains(':'),
                    "label name, {}",
                    at()
                );
                assert_eq!(&inner[eq + 1..eq + 2], "\"", "unquoted value, {}", at());
                let mut value = String::new();
                let mut escaped = false;
                let mut end = None;
                for (i, c) in inner[eq + 2..].char_indices() {
                    match (escaped, c) {
                        (true, 'n') => value.push('\n'),
                        (true, '\\' | '"') => value.push(c),
                        (true, _) => panic!("bad escape, {}", at()),
                        (false, '\\') => {
                            escaped = true;
                            continue;
                        }
                        (false, '"') => {
                            end = Some(eq + 2 + i + 1);
                            break;
                        }
                        (false, c) => value.push(c),
                    }
                    escaped = false;
                }
                let end = end.unwrap_or_else(|| panic!("unterminated value, {}", at()));
                labels.insert(label.to_owned(), value);
                while chars.peek().is_some_and(|&(i, _)| i < end) {
                    chars.next();
                }
                if chars.peek().is_some_and(|&(_, c)| c == ',') {
                    chars.next();
                }
            }
            let consumed = consumed.unwrap_or_else(|| panic!("unclosed labels, {}", at()));
            rest = &inner[consumed..];
        }
        let value = rest
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("no space before the value, {}", at()));
        let value = value.split(' ').next().unwrap_or_default();
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            number => number
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("value, {}", at())),
        };
        exposition.samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    for sample in &exposition.samples {
        let family = family(&sample.name, &exposition.types);
        assert!(exposition.help.contains_key(family), "no HELP for {family}");
        assert!(
            exposition.types.contains_key(family),
            "no TYPE for {family}"
        );
    }
    exposition
}

async fn scrape_text(api: &Api) -> String {
    let response = api.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    response.text().await.unwrap()
}

async fn scrape(api: &Api) -> Exposition {
    parse(&scrape_text(api).await)
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_with_help_for_every_family() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    app.login_ok("alice").await;
    let metrics = scrape(&app).await;
    for family in [
        "gatehouse_http_requests_total",
        "gatehouse_http_request_duration_seconds",
        "gatehouse_register_total",
        "gatehouse_login_total",
        "gatehouse_logout_total",
        "gatehouse_hash_queued",
        "gatehouse_hash_busy",
        "gatehouse_hash_rejected_total",
        "gatehouse_hash_duration_seconds",
        "gatehouse_db_connections",
        "gatehouse_db_acquire_timeouts_total",
        "gatehouse_audit_events_lost_total",
        "gatehouse_sessions_live",
        "gatehouse_build_info",
    ] {
        assert!(metrics.help.contains_key(family), "{family}");
    }
    assert_eq!(
        metrics.types["gatehouse_http_request_duration_seconds"],
        "histogram"
    );
    assert_eq!(metrics.types["gatehouse_login_total"], "counter");
    assert_eq!(
        metrics.value(
            "gatehouse_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    // A registration and a login: two hashes timed, none waiting now.
    assert_eq!(
        metrics.value("gatehouse_hash_duration_seconds_count", &[]),
        Some(2.0)
    );
    assert_eq!(metrics.value("gatehouse_hash_queued", &[]), Some(0.0));
    let pools: BTreeSet<_> = metrics
        .samples
        .iter()
        .filter(|s| s.name == "gatehouse_db_connections")
        .map(|s| s.labels["pool"].clone())
        .collect();
    let expected: BTreeSet<String> = if crate::helpers::is_postgres() {
        ["shared".into()].into()
    } else {
        ["reader".into(), "writer".into()].into()
    };
    assert_eq!(pools, expected);
}

#[tokio::test]
async fn a_scripted_sequence_is_counted_exactly() {
    let app = spawn_app().await;
    let alice = app.register_ok("alice").await;
    app.register_ok("bob").await;
    problem(
        app.register("Alice", "other@example.com", PASSWORD).await,
        StatusCode::BAD_REQUEST,
        "USERNAME_TAKEN",
    )
    .await;
    let (token, _) = app.login_ok("alice").await;
    app.login_ok("bob").await;
    assert_eq!(
        app.login("alice", "wrong-password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.logout(&alice, Some(&token)).await.status(),
        StatusCode::OK
    );

    let metrics = scrape(&app).await;
    let result = |name: &str, result: &str| metrics.value(name, &[("result", result)]);
    assert_eq!(result("gatehouse_register_total", "created"), Some(2.0));
    assert_eq!(result("gatehouse_register_total", "taken"), Some(1.0));
    assert_eq!(result("gatehouse_register_total", "invalid"), Some(0.0));
    assert_eq!(result("gatehouse_login_total", "ok"), Some(2.0));
    assert_eq!(result("gatehouse_login_total", "wrong_password"), Some(1.0));
    assert_eq!(result("gatehouse_login_total", "unknown_user"), Some(0.0));
    assert_eq!(result("gatehouse_logout_total", "ok"), Some(1.0));
    let http = |route: &str, status: &str| {
        metrics.value(
            "gatehouse_http_requests_total",
            &[("route", route), ("method", "POST"), ("status", status)],
        )
    };
    assert_eq!(http("/user/register/", "201"), Some(2.0));
    assert_eq!(http("/user/register/", "400"), Some(1.0));
    assert_eq!(http("/user/login/", "200"), Some(2.0));
    assert_eq!(http("/user/login/", "401"), Some(1.0));
    assert_eq!(http("/user/logout/{user_id}/", "200"), Some(1.0));
    assert_eq!(
        metrics.value(
            "gatehouse_http_request_duration_seconds_count",
            &[("route", "/user/login/"), ("method", "POST")]
        ),
        Some(3.0)
    );

    // No label value is a user's id, name, email or token.
    let text = scrape_text(&app).await;
    for secret in [
        alice.as_str(),
        "alice",
        "bob",
        "example.com",
        token.as_str(),
        "gat_",
    ] {
        assert!(!text.contains(secret), "{secret} in the metrics");
    }
}

#[tokio::test]
async fn login_results_keep_the_real_reason_under_uniform_login() {
    let app = spawn_app_with(&["--uniform-login"]).await;
    app.register_ok("alice").await;
    for (username, password) in [("nobody", PASSWORD), ("alice", "wrong-password")] {
        problem(
            app.login(username, password).await,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )
        .await;
    }
    let metrics = scrape(&app).await;
    let result = |result: &str| metrics.value("gatehouse_login_total", &[("result", result)]);
    assert_eq!(result("unknown_user"), Some(1.0));
    assert_eq!(result("wrong_password"), Some(1.0));
}

#[tokio::test]
async fn rate_limited_and_throttled_logins_are_told_apart() {
    let app = spawn_app_with(&["--rate-limit", "on", "--rate-limit-login", "3"]).await;
    app.register_ok("alice").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(app.login("alice", "wrong-password").await.status());
    }
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
    let metrics = scrape(&app).await;
    let result = |result: &str| metrics.value("gatehouse_login_total", &[("result", result)]);
    assert_eq!(result("wrong_password"), Some(3.0), "{statuses:?}");
    assert_eq!(result("rate_limited"), Some(2.0));
    assert_eq!(result("throttled"), Some(0.0));
}

/// A thousand random paths, a hundred random usernames, and invented
/// methods: the series are the same before and after.
#[tokio::test]
async fn random_paths_names_and_methods_add_no_series() {
    let app = spawn_app().await;
    // One of each kind first, so that their series exist.
    app.get("/no/such/path").await;
    app.login("nobody", PASSWORD).await;
    app.request(Method::from_bytes(b"BREW").unwrap(), "/user/login/")
        .await;
    app.request(Method::from_bytes(b"BREW").unwrap(), "/no/such/path")
        .await;
    // The first scrape counts itself under `/metrics` only once it is done.
    scrape(&app).await;
    let before = scrape(&app).await.series();

    let paths: Vec<String> = (0..1000)
        .map(|i| format!("/{}/{i}", uuid::Uuid::new_v4()))
        .collect();
    futures::stream::iter(&paths)
        .for_each_concurrent(16, |path| async {
            assert_eq!(app.get(path).await.status(), StatusCode::NOT_FOUND);
        })
        .await;
    let app = &app;
    futures::stream::iter(0..100)
        .for_each_concurrent(16, |i| async move {
            let name = format!("user{i}-{}", uuid::Uuid::new_v4().simple());
            assert_eq!(
                app.login(&name, PASSWORD).await.status(),
                StatusCode::BAD_REQUEST
            );
        })
        .await;
    for method in ["BREW", "PROPFIND", "X-ANYTHING"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        app.request(method.clone(), "/user/login/").await;
        app.request(method, &paths[0]).await;
    }

    let after = scrape(app).await;
    let added: Vec<_> = after.series().difference(&before).cloned().collect();
    assert!(added.is_empty(), "series were added: {added:?}");
    assert_eq!(
        after.value(
            "gatehouse_http_requests_total",
            &[("route", "unmatched"), ("method", "GET"), ("status", "404")]
        ),
        Some(1001.0)
    );
}

#[tokio::test]
async fn switched_off_there_is_no_metrics_path() {
    let app = spawn_app_with(&["--metrics", "off"]).await;
    problem(
        app.get("/metrics").await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn metrics_bind_moves_them_to_a_listener_of_their_own() {
    let app = spawn_app_with(&["--metrics-bind", "127.0.0.1:0"]).await;
    let private = app.metrics.as_ref().expect("a metrics listener");
    assert_ne!(private.address, app.address);
    problem(
        app.get("/metrics").await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    app.register_ok("alice").await;
    let metrics = scrape(private).await;
    assert_eq!(
        metrics.value("gatehouse_register_total", &[("result", "created")]),
        Some(1.0)
    );
    problem(
        private.get("/graphql").await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

/// The live-session gauge is what the expiry sweep counted: a server that
/// starts on a database with sessions reports them once its first sweep ran.
#[tokio::test]
async fn the_session_gauge_counts_the_live_sessions_at_the_sweep() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    app.login_ok("alice").await;
    app.login_ok("alice").await;
    let url = app.database.url.clone();
    let other = spawn_on(TestDatabase::borrowed(&url), &[]).await;
    let mut live = None;
    for _ in 0..100 {
        live = scrape(&other).await.value("gatehouse_sessions_live", &[]);
        if live == Some(2.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(live, Some(2.0));
}
