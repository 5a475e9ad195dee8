//! The HTTP surface: routes, and the middleware every response passes through.

mod body;
mod client_ip;
mod graphql;
mod health;
mod metrics;
pub mod openapi;
mod problem;
pub mod rest;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header,
};
use axum::response::IntoResponse;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyDeadlineLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

pub use problem::Problem;

use crate::accounts::{Accounts, Caller, Credentials, is_usable_request_id};
use crate::error::ErrorCode;
use crate::graphql::{RateLimitNote, Schemas};
use crate::metrics::Metrics;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schemas: Schemas,
    pub accounts: Arc<Accounts>,
    pub body_limit: usize,
    pub playground: bool,
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    pub metrics: Metrics,
}

impl AppState {
    /// The caller of a request, from its headers and socket.
    pub fn caller(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Arc<Caller> {
        let credentials = credentials(headers.get(header::AUTHORIZATION));
        let client = client_ip::client_ip(peer, headers, &self.trusted_proxies);
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|agent| std::str::from_utf8(agent.as_bytes()).ok());
        let request_id = headers
            .get(&REQUEST_ID)
            .and_then(|id| std::str::from_utf8(id.as_bytes()).ok());
        Arc::new(
            Caller::new(credentials, client)
                .with_user_agent(user_agent)
                .with_request_id(request_id),
        )
    }
}

/// What an `Authorization` header carries (RFC 6750 §2.1; the scheme is
/// case-insensitive).
fn credentials(value: Option<&HeaderValue>) -> Credentials {
    let Some(value) = value else {
        return Credentials::Missing;
    };
    let Ok(value) = std::str::from_utf8(value.as_bytes()) else {
        return Credentials::Unusable;
    };
    let value = value.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Credentials::OtherScheme;
    }
    let token = token.trim();
    if token.is_empty() {
        Credentials::Unusable
    } else {
        Credentials::Bearer(token.to_owned())
    }
}

/// A client's `x-request-id` is kept, echoed, logged and stored in the
/// audit trail as sent if it is usable (`accounts::is_usable_request_id`);
/// any other is dropped, so that the request gets a generated id, one and
/// the same everywhere. A plain function under tower's `MapRequestLayer`:
/// axum's `map_request` clones and boxes the service behind it for every
/// request: 1,700 instructions per request (bench/instructions.sh).
fn drop_unusable_request_id(mut request: Request<Body>) -> Request<Body> {
    if request
        .headers()
        .get(&REQUEST_ID)
        .is_some_and(|id| !is_usable_request_id(id.as_bytes()))
    {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// The peer address hyper's connection put into the request.
fn peer(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0)
}

/// Adds the IETF rate-limit headers (draft-ietf-httpapi-ratelimit-headers)
/// for the client's bucket after the request's last limited operation.
fn add_rate_limit_headers(response: &mut axum::response::Response, note: &RateLimitNote) {
    let Some(state) = note.get() else {
        return;
    };
    let policy = format!(
        "\"{}\";q={};w={}",
        state.policy, state.quota, state.window_secs
    );
    let remaining = format!(
        "\"{}\";r={};t={}",
        state.policy, state.remaining, state.reset_secs
    );
    for (name, value) in [("ratelimit-policy", policy), ("ratelimit", remaining)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
}

/// Settings of the HTTP layer that are not the handlers'.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub cors_origins: Vec<HeaderValue>,
    /// Longest time to answer a request (503 past it).
    pub request_timeout: Duration,
    /// Longest time to receive a whole request body (408 past it).
    pub body_timeout: Duration,
    /// Serve `/metrics` on this router (metrics on, and no listener of
    /// their own).
    pub metrics_route: bool,
}

/// The router of the metrics' own listener (`--metrics-bind`).
pub fn metrics_router(state: AppState) -> Router {
    metrics::router(state)
}

pub fn router(state: AppState, config: &HttpConfig) -> Router {
    let api = Router::new()
        .route(
            "/graphql",
            get(graphql::get_graphql).post(graphql::post_graphql),
        )
        .route(
            "/graphql/",
            get(graphql::get_graphql).post(graphql::post_graphql),
        )
        .merge(rest::router());
    let cors = (!config.cors_origins.is_empty()).then(|| {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(config.cors_origins.clone()))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, REQUEST_ID])
            .expose_headers([REQUEST_ID, header::RETRY_AFTER, header::WWW_AUTHENTICATE])
            .max_age(Duration::from_secs(600))
    });

    let mut routes = Router::new().merge(api);
    if config.metrics_route {
        routes = routes.route("/metrics", get(metrics::exposition));
    }
    let metrics = state.metrics.clone();
    routes
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(web::docs))
        .route("/assets/{*file}", get(web::asset))
        .fallback(not_found)
        .with_state(state)
        .layer(option_layer(cors))
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn_with_state(
                    metrics,
                    metrics::track,
                ))
                .layer(tower::util::MapRequestLayer::new(drop_unusable_request_id))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_request(())
                        .on_response(log_response)
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(axum::middleware::map_response(problem_for_bare_errors))
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    config.request_timeout,
                ))
                .layer(RequestBodyDeadlineLayer::new(config.body_timeout)),
        )
}

fn option_layer<L>(layer: Option<L>) -> tower::util::Either<L, tower::layer::util::Identity> {
    match layer {
        Some(layer) => tower::util::Either::Left(layer),
        None => tower::util::Either::Right(tower::layer::util::Identity::new()),
    }
}

async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(<openapi::ApiDoc as utoipa::OpenApi>::openapi())
}

async fn not_found() -> Problem {
    Problem::new(ErrorCode::NotFound, "There is nothing at this path.")
}

/// Responses made by the framework rather than a handler carry no body: 405
/// from routing, 503 from the request timeout. Give them a problem body and
/// keep their headers (`Allow`).
async fn problem_for_bare_errors<B>(response: Response<B>) -> Response<Body>
where
    B: http_body::Body<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let problem = match response.status() {
        _ if response.headers().contains_key(header::CONTENT_TYPE) => None,
        StatusCode::METHOD_NOT_ALLOWED => Some(Problem::new(
            ErrorCode::MethodNotAllowed,
            "This path does not accept that method.",
        )),
        StatusCode::SERVICE_UNAVAILABLE => Some(
            Problem::new(
                ErrorCode::Overloaded,
                "The request took too long to answer.",
            )
            .with_retry_after(Some(1)),
        ),
        _ => None,
    };
    let Some(problem) = problem else {
        return response.map(Body::new);
    };
    let (parts, _) = response.into_parts();
    let mut replaced = problem.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            replaced.headers_mut().insert(name.clone(), value.clone());
        }
    }
    replaced
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    tracing::error!("a request handler panicked");
    Problem::new(ErrorCode::Internal, "Internal server error.").into_response()
}

/// The span of one request: its id, method and path (never the query string
/// or headers, which may carry credentials).
fn request_span(request: &Request<Body>) -> Span {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}

fn log_response<B>(response: &Response<B>, latency: Duration, _span: &Span) {
    tracing::info!(
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request handled"
    );
}
