//! `GET /metrics` (Prometheus text), and the middleware that counts and
//! times every request by its route template.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::problem::Problem;
use crate::error::ErrorCode;
use crate::metrics::{Metrics, UNMATCHED_ROUTE};

/// The content type of the Prometheus text format, version 0.0.4.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The exposition of this server's metrics.
pub async fn exposition(State(state): State<AppState>) -> Response {
    let (reader, writer) = state.accounts.pools();
    let pools = crate::db::pool_usage(reader, writer);
    match state.metrics.render(&pools, crate::db::acquire_timeouts()) {
        Some(text) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(TEXT_FORMAT)),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            text,
        )
            .into_response(),
        None => Problem::new(ErrorCode::NotFound, "There is nothing at this path.").into_response(),
    }
}

/// The router of `--metrics-bind`'s own listener: `/metrics` and nothing
/// else.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(exposition))
        .fallback(|| async {
            Problem::new(ErrorCode::NotFound, "This listener serves /metrics only.")
        })
        .with_state(state)
}

/// Counts and times a request under the route it matched. It runs outside
/// every other layer, so a timeout's 503 and a caught panic's 500 are counted
/// as what the client got.
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let response = next.run(request).await;
    let route = matched
        .as_ref()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
    metrics.http_request(route, &method, response.status(), started.elapsed());
    response
}
