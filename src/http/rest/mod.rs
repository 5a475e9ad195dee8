//! The REST paths of the Django app (SPEC §3), as a table. Each route runs a
//! fixed GraphQL document on the shared schema and maps the outcome: data to
//! the documented success status, `extensions.code` to the status of SPEC §6.
//! Adding a route is adding an entry to `ROUTES`.

mod fields;
mod routes;

pub use fields::decode_body;
pub use routes::{ROUTES, RestRoute, RouteDoc};

use async_graphql::parser::types::ExecutableDocument;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{RawPathParams, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value};

use std::sync::Arc;

use super::body::{self, MediaType};
use super::problem::Problem;
use super::{AppState, add_rate_limit_headers};
use crate::accounts::Caller;
use crate::error::{Error, ErrorCode};
use crate::graphql::RateLimitNote;
use fields::{decode_fields, required_strings};

/// Every route of the table, with and without the trailing slash.
pub fn router() -> Router<AppState> {
    ROUTES.iter().fold(Router::new(), |router, route| {
        // Parsed once here, not per request.
        let document = Arc::new(route.parse());
        let handler = move |state: State<AppState>,
                            params: Result<RawPathParams, RawPathParamsRejection>,
                            request: Request| {
            // A segment that is not UTF-8 once decoded can name no user; pass
            // a value the service refuses like any other malformed id.
            let path_value = match params {
                Ok(params) => params.iter().next().map(|(_, value)| value.to_owned()),
                Err(_) => Some(char::REPLACEMENT_CHARACTER.to_string()),
            };
            handle(route, Arc::clone(&document), state, path_value, request)
        };
        router
            .route(route.path, post(handler.clone()))
            .route(&format!("{}/", route.path), post(handler))
    })
}

async fn handle(
    route: &'static RestRoute,
    document: Arc<ExecutableDocument>,
    State(state): State<AppState>,
    path_value: Option<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let caller = state.caller(&parts.headers, super::peer(&parts.extensions));
    let attempted_bearer = caller.credentials().attempted_bearer();
    let note = Arc::new(RateLimitNote::default());
    let request = Operation {
        route,
        document: &document,
        path_value,
        caller,
        note: Arc::clone(&note),
    };
    let mut response = match run(request, &state, &parts.headers, body).await {
        Ok(response) => response,
        Err(problem) => {
            let mut problem = problem;
            if problem.code == ErrorCode::Unauthenticated.as_str() {
                // RFC 6750 §3: a bare challenge unless a bearer token was refused.
                let challenge = if attempted_bearer {
                    "Bearer error=\"invalid_token\""
                } else {
                    "Bearer"
                };
                problem = problem.with_header(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge),
                );
            }
            problem.into_response()
        }
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    add_rate_limit_headers(&mut response, &note);
    response
}

/// One REST request, ready to run as its route's GraphQL document.
struct Operation<'a> {
    route: &'static RestRoute,
    document: &'a ExecutableDocument,
    path_value: Option<String>,
    caller: Arc<Caller>,
    note: Arc<RateLimitNote>,
}

async fn run(
    operation: Operation<'_>,
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let route = operation.route;
    let bytes = body::read(headers, body, state.body_limit)
        .await
        .map_err(|e| Problem::from(&e))?;
    let fields = decode_fields(MediaType::of(headers), &bytes).map_err(|e| Problem::from(&e))?;

    let mut variables = Map::new();
    if !route.body_fields.is_empty() {
        let input = required_strings(route.body_fields, &fields).map_err(|e| Problem::from(&e))?;
        variables.insert("input".into(), Value::Object(input));
    }
    if let (Some(name), Some(value)) = (route.path_variable, operation.path_value) {
        variables.insert(name.into(), Value::String(value));
    }

    let mut request = async_graphql::Request::new(route.document).variables(
        async_graphql::Variables::from_json(Value::Object(variables)),
    );
    request.set_parsed_query(operation.document.clone());
    let request = request.data(operation.caller).data(operation.note);
    let response = state.schemas.execute(request).await;

    if let Some(error) = response.errors.first() {
        return Err(problem_from_graphql(error));
    }
    let data = response
        .data
        .into_json()
        .map_err(|e| Problem::from(&Error::internal(e)))?;
    let result = data.get("result").cloned().unwrap_or(Value::Null);
    Ok((route.success, axum::Json(result)).into_response())
}

/// The problem for a GraphQL error: the service's own error where a resolver
/// raised one; otherwise async-graphql refused the document (which a fixed
/// document with string variables does only on a bug or a changed schema).
fn problem_from_graphql(error: &async_graphql::ServerError) -> Problem {
    match error.source::<Error>() {
        Some(err) => Problem::of_logged(err),
        None => Problem::new(ErrorCode::BadRequest, error.message.clone()),
    }
}
