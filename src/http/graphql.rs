//! `POST /graphql` runs documents; `GET /graphql` runs queries from the query
//! string (never mutations) or serves the GraphiQL playground.
//!
//! Errors keep the GraphQL response shape (`{"errors": [...]}`) so GraphQL
//! clients can read them; every error carries `extensions.code`.

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, ErrorExtensionValues, Value as GqlValue};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::body::{self, MediaType};
use crate::accounts::{Caller, Credentials};
use crate::error::{Error, ErrorCode};

/// Most operations in one batched request.
pub const MAX_BATCH: usize = 10;

pub async fn post_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        match MediaType::of(&headers) {
            MediaType::Json | MediaType::Unspecified => {}
            MediaType::Form | MediaType::Other => return Err(Error::UnsupportedMediaType),
        }
        let bytes = body::read(&headers, body, state.body_limit).await?;
        let batch: BatchRequest = serde_json::from_slice(&bytes).map_err(|err| {
            Error::BadRequest(format!(
                "The body is not a GraphQL request (line {}, column {}).",
                err.line(),
                err.column()
            ))
        })?;
        Ok(batch)
    }
    .await;
    let batch = match result {
        Ok(batch) => batch,
        Err(err) => return error_response(&err, err.code().status()),
    };
    if let BatchRequest::Batch(requests) = &batch
        && (requests.is_empty() || requests.len() > MAX_BATCH)
    {
        let err = Error::BadRequest(format!("A batch holds 1 to {MAX_BATCH} operations."));
        return error_response(&err, StatusCode::BAD_REQUEST);
    }
    execute(&state, &headers, batch).await
}

pub async fn get_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        if state.playground {
            return no_store(
                Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response(),
            );
        }
        let err = Error::BadRequest("GET /graphql needs a `query` parameter.".into());
        return error_response(&err, StatusCode::BAD_REQUEST);
    };
    let request = match async_graphql::http::parse_query_string(&query) {
        Ok(request) => request,
        Err(err) => {
            let err =
                Error::BadRequest(format!("The query string is not a GraphQL request: {err}"));
            return error_response(&err, StatusCode::BAD_REQUEST);
        }
    };
    // Mutations change state and GET must be safe (RFC 9110 §9.2.1).
    if is_mutation(&request) {
        let mut response = json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &error_body(
                ErrorCode::MethodNotAllowed,
                "Mutations are only accepted over POST.",
            ),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return response;
    }
    execute(&state, &headers, BatchRequest::Single(request)).await
}

async fn execute(state: &AppState, headers: &HeaderMap, batch: BatchRequest) -> Response {
    let credentials =
        || Credentials::from_header(headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()));
    let batch = match batch {
        BatchRequest::Single(request) => {
            BatchRequest::Single(request.data(Caller::new(credentials())))
        }
        BatchRequest::Batch(requests) => BatchRequest::Batch(
            requests
                .into_iter()
                .map(|request| request.data(Caller::new(credentials())))
                .collect(),
        ),
    };
    let mut response = state.schema.execute_batch(batch).await;
    match &mut response {
        BatchResponse::Single(single) => add_default_codes(single),
        BatchResponse::Batch(many) => many.iter_mut().for_each(add_default_codes),
    }
    match serde_json::to_value(&response) {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(err) => error_response(&Error::internal(err), StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// Errors raised by async-graphql itself (parse, validation, depth and
/// complexity limits) carry no code; they are all the client's: BAD_REQUEST.
fn add_default_codes(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        if extensions.get("code").is_none() {
            extensions.set("code", GqlValue::from(ErrorCode::BadRequest.as_str()));
        }
    }
}

fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false; // execution reports the syntax error
    };
    let operations: Vec<_> = document.operations.iter().collect();
    let chosen = match &request.operation_name {
        Some(name) => operations
            .iter()
            .find(|(op_name, _)| op_name.is_some_and(|n| n.as_str() == name.as_str())),
        None => operations.first(),
    };
    chosen.is_some_and(|(_, op)| op.node.ty == OperationType::Mutation)
}

fn error_body(code: ErrorCode, message: &str) -> serde_json::Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] })
}

fn error_response(err: &Error, status: StatusCode) -> Response {
    err.log_if_internal();
    let mut body = error_body(err.code(), &err.to_string());
    if let Some(secs) = err.retry_after_secs() {
        body["errors"][0]["extensions"]["retryAfter"] = json!(secs);
    }
    let mut response = json_response(status, &body);
    if let Some(secs) = err.retry_after_secs() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    no_store((status, axum::Json(body)).into_response())
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
