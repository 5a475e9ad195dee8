//! Liveness and readiness probes (SPEC §7).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::problem::Problem;
use crate::error::ErrorCode;

/// 200 while the process runs.
pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// 200 while the database answers a ping within a second, else 503.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let ping = tokio::time::timeout(Duration::from_secs(1), state.accounts.ping()).await;
    match ping {
        Ok(Ok(())) => Json(json!({ "status": "ready" })).into_response(),
        _ => Problem::new(ErrorCode::Overloaded, "The database is not answering.")
            .with_retry_after(Some(1))
            .into_response(),
    }
}
