//! `POST /graphql` runs documents; `GET /graphql` runs queries from the query
//! string (never mutations) or serves the GraphiQL playground.
//!
//! A request that cannot become a GraphQL request at all (too large, wrong
//! media type, not JSON, too many operations, a mutation over GET) is a
//! transport error and gets problem+json like every other HTTP error. Once a
//! request is parsed, the answer is a GraphQL response, and every error in it
//! carries `extensions.code`.

use async_graphql::parser::types::OperationType;
use async_graphql::{
    BatchRequest, BatchResponse, ErrorExtensionValues, ParseRequestError, Value as GqlValue,
};
use async_graphql_axum::{GraphQLBatchRequest, GraphQLRequest};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::body::{self, MediaType};
use super::problem::Problem;
use super::web;
use super::{AppState, add_rate_limit_headers};
use crate::error::{Error, ErrorCode};
use crate::graphql::RateLimitNote;

/// Most operations in one batched request.
pub const MAX_BATCH: usize = 10;

pub async fn post_graphql(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    let peer = super::peer(request.extensions());
    match read_batch(&state, request).await {
        Ok(batch) => execute(&state, &headers, peer, batch).await,
        Err(err) => no_store(Problem::from(&err).into_response()),
    }
}

/// async-graphql-axum extracts the request. Around it: it would read any
/// media type as JSON (and multipart as file uploads), and reads bodies
/// without a limit, so the media type and the size are checked here.
async fn read_batch(state: &AppState, request: Request) -> Result<BatchRequest, Error> {
    match MediaType::of(request.headers()) {
        MediaType::Json | MediaType::Unspecified => {}
        MediaType::Form | MediaType::Other => return Err(Error::UnsupportedMediaType),
    }
    body::check_announced_length(request.headers(), state.body_limit)?;
    let (parts, body) = request.into_parts();
    let (body, failure) = body::limited(body, state.body_limit);
    let request = Request::from_parts(parts, body);
    let batch = match GraphQLBatchRequest::<Rejected>::from_request(request, state).await {
        Ok(batch) => batch.into_inner(),
        // The body's own failure (413, 408) is the typed one.
        Err(Rejected(err)) => return Err(failure.take().unwrap_or_else(|| not_graphql(&err))),
    };
    if let BatchRequest::Batch(requests) = &batch
        && (requests.is_empty() || requests.len() > MAX_BATCH)
    {
        return Err(Error::BadRequest(format!(
            "A batch holds 1 to {MAX_BATCH} operations."
        )));
    }
    Ok(batch)
}

/// async-graphql-axum's rejection, kept typed: its own response is the
/// error's `Debug` text as `text/plain`.
struct Rejected(ParseRequestError);

impl From<ParseRequestError> for Rejected {
    fn from(err: ParseRequestError) -> Self {
        Self(err)
    }
}

impl IntoResponse for Rejected {
    fn into_response(self) -> Response {
        no_store(Problem::from(&not_graphql(&self.0)).into_response())
    }
}

fn not_graphql(err: &ParseRequestError) -> Error {
    let json = match err {
        ParseRequestError::InvalidRequest(cause) => cause.downcast_ref::<serde_json::Error>(),
        _ => None,
    };
    Error::BadRequest(match json {
        Some(json) => format!(
            "The body is not a GraphQL request (line {}, column {}).",
            json.line(),
            json.column()
        ),
        None => "The request is not a GraphQL request.".into(),
    })
}

pub async fn get_graphql(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    let peer = super::peer(request.extensions());
    let query_len = request.uri().query().map_or(0, str::len);
    if query_len == 0 {
        if state.playground {
            // async-graphql's `GraphiQLSource` page loads React and GraphiQL
            // from a CDN; this one is compiled in.
            return web::graphiql();
        }
        let err = Error::BadRequest("GET /graphql needs a `query` parameter.".into());
        return no_store(Problem::from(&err).into_response());
    }
    // The query string is held to the same limit as a body.
    if query_len > state.body_limit {
        let err = Error::PayloadTooLarge {
            limit: state.body_limit,
        };
        return no_store(Problem::from(&err).into_response());
    }
    let mut request = match GraphQLRequest::<Rejected>::from_request(request, &state).await {
        Ok(request) => request.into_inner(),
        Err(Rejected(err)) => {
            let err =
                Error::BadRequest(format!("The query string is not a GraphQL request: {err}"));
            return no_store(Problem::from(&err).into_response());
        }
    };
    // Mutations change state, and GET must be safe (RFC 9110 §9.2.1).
    if is_mutation(&mut request) {
        let problem = Problem::new(
            ErrorCode::MethodNotAllowed,
            "Mutations are only accepted over POST.",
        )
        .with_header(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return no_store(problem.into_response());
    }
    execute(&state, &headers, peer, BatchRequest::Single(request)).await
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    mut batch: BatchRequest,
) -> Response {
    // One caller per operation, so each resolves its own session once; the
    // operations run in turn, and the last limited one's rate-limit state
    // goes into the response headers.
    let note = Arc::new(RateLimitNote::default());
    let with_caller = |request: async_graphql::Request| {
        request
            .data(state.caller(headers, peer))
            .data(Arc::clone(&note))
    };
    // graphql-over-http: clients that accept `application/graphql-response+json`
    // get that media type and status codes that tell request errors apart.
    let modern = accepts_graphql_response(headers);
    // `parsed_query` keeps the document in the request, so execution does not
    // parse it again.
    let unparsable = match &mut batch {
        BatchRequest::Single(request) if modern => request.parsed_query().is_err(),
        _ => false,
    };
    let batch = match batch {
        BatchRequest::Single(request) => BatchRequest::Single(with_caller(request)),
        BatchRequest::Batch(requests) => {
            BatchRequest::Batch(requests.into_iter().map(with_caller).collect())
        }
    };
    let mut response = state.schemas.execute_batch(batch).await;
    match &mut response {
        BatchResponse::Single(single) => add_default_codes(single),
        BatchResponse::Batch(many) => many.iter_mut().for_each(add_default_codes),
    }
    let (status, media_type) = match &response {
        BatchResponse::Single(single) if modern && is_request_error(single) => {
            let status = if unparsable {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            (status, GRAPHQL_RESPONSE_JSON)
        }
        _ if modern => (StatusCode::OK, GRAPHQL_RESPONSE_JSON),
        // Older clients read `application/json` with 200 for every GraphQL
        // response. (async-graphql-axum's `GraphQLResponse` always answers
        // the new media type, which they reject, so the response is built here.)
        _ => (StatusCode::OK, "application/json"),
    };
    let mut response = match serde_json::to_vec(&response) {
        Ok(body) => no_store((status, [(header::CONTENT_TYPE, media_type)], body).into_response()),
        Err(err) => no_store(Problem::from(&Error::internal(err)).into_response()),
    };
    add_rate_limit_headers(&mut response, &note);
    response
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json; charset=utf-8";

/// Whether `Accept` names `application/graphql-response+json`.
fn accepts_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|item| item.split(';').next())
        .any(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/graphql-response+json")
        })
}

/// A request error: the document was refused before execution (no data, and
/// no error belongs to a field path).
fn is_request_error(response: &async_graphql::Response) -> bool {
    !response.errors.is_empty()
        && matches!(response.data, GqlValue::Null)
        && response.errors.iter().all(|e| e.path.is_empty())
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

/// Whether the operation a request would run is a mutation. The parsed
/// document stays in the request for execution.
fn is_mutation(request: &mut async_graphql::Request) -> bool {
    let operation_name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return false; // execution reports the syntax error
    };
    let mut operations = document.operations.iter();
    let chosen = match &operation_name {
        Some(name) => operations.find(|(op_name, _)| op_name.is_some_and(|n| n.as_str() == name)),
        None => operations.next(),
    };
    chosen.is_some_and(|(_, op)| op.node.ty == OperationType::Mutation)
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
