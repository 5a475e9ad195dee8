//! Prometheus metrics, served as text on `GET /metrics`.
//!
//! Each server owns its recorder (`metrics-exporter-prometheus`), rather than
//! installing one for the whole process, so that two servers in one process
//! (the tests) count apart. Every series is registered from a fixed set of
//! label values: the outcome of an operation is one of the enums below, an
//! HTTP request is labelled by its route template (never its path), its
//! method folded to the methods the service knows, and its status. No label
//! ever carries a user id, a username or a token, so a flood of random
//! paths or names adds no series. With `--metrics off` every handle is a
//! no-op and nothing is kept.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use metrics::{Counter, Gauge, Histogram, Key, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::error::Error;
use crate::names::names;

/// Seconds: HTTP latency, from a cached read to a slow hash.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Seconds: one hash or verification, from cheap test settings to Django's
/// costliest formats.
const HASH_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0];

static METADATA: Metadata<'static> = Metadata::new("gatehouse", Level::INFO, None);

/// The route label of a request that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

names! {
    /// How a registration ended.
    Registered {
        Created => "created",
        Taken => "taken",
        Invalid => "invalid",
        RateLimited => "rate_limited",
        Overloaded => "overloaded",
        Error => "error",
    }
}

names! {
    /// How a login ended, whatever `--uniform-login` shows the client.
    LoggedIn {
        Ok => "ok",
        UnknownUser => "unknown_user",
        WrongPassword => "wrong_password",
        Disabled => "disabled",
        /// Refused by the per-account throttle.
        Throttled => "throttled",
        /// Refused by the per-client rate limit.
        RateLimited => "rate_limited",
        Invalid => "invalid",
        Overloaded => "overloaded",
        Error => "error",
    }
}

names! {
    /// How a logout ended.
    LoggedOut {
        Ok => "ok",
        Unauthenticated => "unauthenticated",
        InvalidUserId => "invalid_user_id",
        Error => "error",
    }
}

impl Registered {
    pub fn of<T>(outcome: &Result<T, Error>) -> Self {
        match outcome {
            Ok(_) => Self::Created,
            Err(Error::UsernameTaken | Error::EmailTaken) => Self::Taken,
            Err(Error::Validation(_)) => Self::Invalid,
            Err(Error::RateLimited { .. }) => Self::RateLimited,
            Err(Error::Overloaded { .. } | Error::DatabaseUnavailable(_)) => Self::Overloaded,
            Err(_) => Self::Error,
        }
    }
}

impl LoggedIn {
    /// `refused`: the per-client rate limit turned it away before it ran;
    /// otherwise a `RateLimited` came from the account's throttle.
    pub fn of<T>(outcome: &Result<T, Error>, refused: bool) -> Self {
        match outcome {
            Ok(_) => Self::Ok,
            Err(Error::UserNotFound) => Self::UnknownUser,
            Err(Error::InvalidPassword) => Self::WrongPassword,
            Err(Error::AccountDisabled) => Self::Disabled,
            Err(Error::RateLimited { .. }) if refused => Self::RateLimited,
            Err(Error::RateLimited { .. }) => Self::Throttled,
            Err(Error::Validation(_)) => Self::Invalid,
            Err(Error::Overloaded { .. } | Error::DatabaseUnavailable(_)) => Self::Overloaded,
            Err(_) => Self::Error,
        }
    }
}

impl LoggedOut {
    pub fn of<T>(outcome: &Result<T, Error>) -> Self {
        match outcome {
            Ok(_) => Self::Ok,
            Err(Error::Unauthenticated) => Self::Unauthenticated,
            Err(Error::InvalidUserId) => Self::InvalidUserId,
            Err(_) => Self::Error,
        }
    }
}

/// The hashing pool's instruments, handed to its threads.
#[derive(Clone)]
pub struct HashMetrics {
    /// Jobs waiting for a thread.
    pub queued: Gauge,
    /// Threads hashing now.
    pub busy: Gauge,
    /// Jobs refused because the queue was full (answered 503).
    pub rejected: Counter,
    /// How long one job took on its thread.
    pub duration: Histogram,
}

impl Default for HashMetrics {
    /// Instruments that record nothing (benchmarks, unit tests, `--metrics off`).
    fn default() -> Self {
        Self {
            queued: Gauge::noop(),
            busy: Gauge::noop(),
            rejected: Counter::noop(),
            duration: Histogram::noop(),
        }
    }
}

/// What a database pool holds right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub in_use: u32,
    pub idle: u32,
}

/// A server's metrics. Cheap to clone.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    exporter: Option<(PrometheusRecorder, PrometheusHandle)>,
    registered: Vec<Counter>,
    logged_in: Vec<Counter>,
    logged_out: Vec<Counter>,
    hashing: HashMetrics,
    sessions_live: Gauge,
    acquire_timeouts: Counter,
    audit_events_lost: Counter,
}

impl Metrics {
    /// A recorder of this server's own, with every metric described and
    /// every outcome series present from the start (at zero), so that rates
    /// and alerts work before the first event.
    pub fn recording() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(
                    "gatehouse_http_request_duration_seconds".into(),
                ),
                LATENCY_BUCKETS,
            )
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(
                        "gatehouse_hash_duration_seconds".into(),
                    ),
                    HASH_BUCKETS,
                )
            })
            // Both bucket lists are non-empty constants, and only an empty
            // one is refused.
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        describe(&recorder);
        let handle = recorder.handle();
        let inner = Inner::with(Some(&recorder));
        recorder
            .register_gauge(
                &Key::from_parts(
                    "gatehouse_build_info",
                    vec![Label::new("version", env!("CARGO_PKG_VERSION"))],
                ),
                &METADATA,
            )
            .set(1.0);
        Self(Arc::new(Inner {
            exporter: Some((recorder, handle)),
            ..inner
        }))
    }

    /// Metrics switched off: every instrument does nothing.
    pub fn off() -> Self {
        Self(Arc::new(Inner::with(None)))
    }

    pub fn is_on(&self) -> bool {
        self.0.exporter.is_some()
    }

    pub fn registered(&self, outcome: Registered) {
        self.0.registered[outcome as usize].increment(1);
    }

    pub fn logged_in(&self, outcome: LoggedIn) {
        self.0.logged_in[outcome as usize].increment(1);
    }

    pub fn logged_out(&self, outcome: LoggedOut) {
        self.0.logged_out[outcome as usize].increment(1);
    }

    pub fn hashing(&self) -> HashMetrics {
        self.0.hashing.clone()
    }

    /// Audit events written behind the answer (failed logins) that could
    /// not be written.
    pub fn audit_events_lost(&self, count: u64) {
        self.0.audit_events_lost.increment(count);
    }

    /// Sets the live-session gauge (refreshed by the expiry sweep).
    pub fn set_sessions_live(&self, live: u64) {
        self.0.sessions_live.set(live as f64);
    }

    /// One HTTP request: `route` is the template it matched (or
    /// `UNMATCHED_ROUTE`), never the path itself.
    pub fn http_request(&self, route: &str, method: &Method, status: StatusCode, took: Duration) {
        let Some((recorder, _)) = &self.0.exporter else {
            return;
        };
        let route = Label::new("route", route.to_owned());
        let method = Label::new("method", method_label(method));
        let counter = Key::from_parts(
            "gatehouse_http_requests_total",
            vec![
                route.clone(),
                method.clone(),
                Label::new("status", status_label(status)),
            ],
        );
        recorder.register_counter(&counter, &METADATA).increment(1);
        let histogram = Key::from_parts(
            "gatehouse_http_request_duration_seconds",
            vec![route, method],
        );
        recorder
            .register_histogram(&histogram, &METADATA)
            .record(took.as_secs_f64());
    }

    /// The exposition: the database pools as they are now, then every
    /// series. `None` with metrics off.
    pub fn render(
        &self,
        pools: &[(&'static str, PoolUsage)],
        acquire_timeouts: u64,
    ) -> Option<String> {
        let (recorder, handle) = self.0.exporter.as_ref()?;
        for (pool, usage) in pools {
            for (state, count) in [("in_use", usage.in_use), ("idle", usage.idle)] {
                let key = Key::from_parts(
                    "gatehouse_db_connections",
                    vec![Label::new("pool", *pool), Label::new("state", state)],
                );
                recorder
                    .register_gauge(&key, &METADATA)
                    .set(f64::from(count));
            }
        }
        self.0.acquire_timeouts.absolute(acquire_timeouts);
        Some(handle.render())
    }

    /// Folds recorded histogram samples into their buckets. Run it now and
    /// then: between scrapes, samples are otherwise kept one by one.
    pub fn upkeep(&self) {
        if let Some((_, handle)) = &self.0.exporter {
            handle.run_upkeep();
        }
    }
}

impl Inner {
    fn with(recorder: Option<&PrometheusRecorder>) -> Self {
        let counter = |name: &'static str, labels: Vec<Label>| match recorder {
            Some(recorder) => recorder.register_counter(&Key::from_parts(name, labels), &METADATA),
            None => Counter::noop(),
        };
        let gauge = |name: &'static str| match recorder {
            Some(recorder) => recorder.register_gauge(&Key::from_name(name), &METADATA),
            None => Gauge::noop(),
        };
        let by_result = |name: &'static str, labels: &[&'static str]| -> Vec<Counter> {
            labels
                .iter()
                .map(|result| counter(name, vec![Label::new("result", *result)]))
                .collect()
        };
        let hashing = match recorder {
            Some(recorder) => HashMetrics {
                queued: recorder
                    .register_gauge(&Key::from_name("gatehouse_hash_queued"), &METADATA),
                busy: recorder.register_gauge(&Key::from_name("gatehouse_hash_busy"), &METADATA),
                rejected: recorder
                    .register_counter(&Key::from_name("gatehouse_hash_rejected_total"), &METADATA),
                duration: recorder.register_histogram(
                    &Key::from_name("gatehouse_hash_duration_seconds"),
                    &METADATA,
                ),
            },
            None => HashMetrics::default(),
        };
        Self {
            exporter: None,
            registered: by_result(
                "gatehouse_register_total",
                &Registered::ALL
                    .iter()
                    .map(|o| o.as_str())
                    .collect::<Vec<_>>(),
            ),
            logged_in: by_result(
                "gatehouse_login_total",
                &LoggedIn::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
            ),
            logged_out: by_result(
                "gatehouse_logout_total",
                &LoggedOut::ALL
                    .iter()
                    .map(|o| o.as_str())
                    .collect::<Vec<_>>(),
            ),
            hashing,
            sessions_live: gauge("gatehouse_sessions_live"),
            acquire_timeouts: counter("gatehouse_db_acquire_timeouts_total", Vec::new()),
            audit_events_lost: counter("gatehouse_audit_events_lost_total", Vec::new()),
        }
    }
}

/// HELP for every metric.
fn describe(recorder: &PrometheusRecorder) {
    let counters = [
        (
            "gatehouse_http_requests_total",
            "HTTP requests answered, by route template, method and status.",
        ),
        ("gatehouse_register_total", "Registrations, by result."),
        (
            "gatehouse_login_total",
            "Logins, by result (the real reason, also under --uniform-login).",
        ),
        ("gatehouse_logout_total", "Logouts, by result."),
        (
            "gatehouse_hash_rejected_total",
            "Password hashes refused because the hashing queue was full (503).",
        ),
        (
            "gatehouse_db_acquire_timeouts_total",
            "Operations that failed because no database connection came within --db-acquire-timeout (process-wide; each request of a failed batch counts).",
        ),
        (
            "gatehouse_audit_events_lost_total",
            "Audit events of failed logins (written behind the answer) that could not be written; each is also logged at error.",
        ),
    ];
    for (name, help) in counters {
        recorder.describe_counter(name.into(), None, help.into());
    }
    let gauges = [
        (
            "gatehouse_hash_queued",
            "Password hashes waiting for a hashing thread.",
        ),
        (
            "gatehouse_hash_busy",
            "Hashing threads computing a hash now.",
        ),
        (
            "gatehouse_db_connections",
            "Database pool connections, by pool and state (in_use, idle).",
        ),
        (
            "gatehouse_sessions_live",
            "Unexpired sessions, as counted by the last expiry sweep.",
        ),
        ("gatehouse_build_info", "The running build; always 1."),
    ];
    for (name, help) in gauges {
        recorder.describe_gauge(name.into(), None, help.into());
    }
    recorder.describe_histogram(
        "gatehouse_http_request_duration_seconds".into(),
        Some(Unit::Seconds),
        "Time to answer an HTTP request, by route template and method.".into(),
    );
    recorder.describe_histogram(
        "gatehouse_hash_duration_seconds".into(),
        Some(Unit::Seconds),
        "Time one password hash or verification took on its hashing thread.".into(),
    );
}

/// The methods the service answers, and `other` for any other, so that an
/// invented method adds no series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "other",
    }
}

/// A status code as a label: one of at most 500 values.
fn status_label(status: StatusCode) -> String {
    status.as_u16().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_series_exists_from_the_start_with_help() {
        let metrics = Metrics::recording();
        let text = metrics.render(&[], 0).unwrap();
        for (name, labels) in [
            (
                "gatehouse_register_total",
                Registered::ALL
                    .iter()
                    .map(|o| o.as_str())
                    .collect::<Vec<_>>(),
            ),
            (
                "gatehouse_login_total",
                LoggedIn::ALL.iter().map(|o| o.as_str()).collect(),
            ),
            (
                "gatehouse_logout_total",
                LoggedOut::ALL.iter().map(|o| o.as_str()).collect(),
            ),
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "{text}");
            for label in labels {
                assert!(
                    text.contains(&format!("{name}{{result=\"{label}\"}} 0")),
                    "{name} {label}: {text}"
                );
            }
        }
        assert!(text.contains("gatehouse_build_info{version=\""), "{text}");
    }

    #[test]
    fn switched_off_it_renders_nothing_and_counts_nothing() {
        let metrics = Metrics::off();
        metrics.logged_in(LoggedIn::Ok);
        metrics.http_request("/x", &Method::GET, StatusCode::OK, Duration::from_millis(1));
        assert!(metrics.render(&[], 0).is_none());
        assert!(!metrics.is_on());
    }

    #[test]
    fn an_invented_method_is_other() {
        let method = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&method), "other");
    }
}
