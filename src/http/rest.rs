//! The REST paths of the Django app (SPEC §3), as a table. Each route runs a
//! fixed GraphQL document on the shared schema and maps the outcome: data to
//! the documented success status, `extensions.code` to the status of SPEC §6.
//! Adding a route is adding an entry to `ROUTES`.

use async_graphql::parser::types::ExecutableDocument;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{RawPathParams, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value};

use std::sync::Arc;

use super::body::{self, MediaType};
use super::problem::Problem;
use super::{AppState, add_rate_limit_headers};
use crate::accounts::Caller;
use crate::domain::messages;
use crate::error::{Error, ErrorCode, FieldErrors};
use crate::graphql::RateLimitNote;

/// One documented REST route.
pub struct RestRoute {
    /// Path without the trailing slash; both forms are served.
    pub path: &'static str,
    /// Runs with `$input` built from the body fields, and the path parameter
    /// as its own variable. The root field is aliased `result`; aliases below
    /// it give the snake_case keys of the Django API.
    pub document: &'static str,
    /// Body fields, all required, passed as `$input`.
    pub body_fields: &'static [&'static str],
    /// GraphQL variable filled from the `{param}` segment of the path.
    pub path_variable: Option<&'static str>,
    pub success: StatusCode,
    /// What `/openapi.json` says of the route (`openapi.rs` builds the path
    /// from it).
    pub doc: RouteDoc,
}

/// The documentation of one REST route. Schemas are named as registered in
/// `openapi::ApiDoc`; a test checks that every `$ref` resolves.
pub struct RouteDoc {
    pub operation_id: &'static str,
    pub summary: &'static str,
    /// Schema of the body, accepted as JSON and as a form; `None` for a route
    /// that reads no body.
    pub request: Option<&'static str>,
    /// Schema of the success body, and what the success means.
    pub response: &'static str,
    pub outcome: &'static str,
    /// Description of the `{param}` segment of the path, if any.
    pub path_parameter: Option<&'static str>,
    /// Whether the route needs `Authorization: Bearer`.
    pub bearer: bool,
    /// The codes of SPEC §6 this route can answer besides the ones every route
    /// can (malformed body, size, media type, deadlines, overload).
    pub errors: &'static [ErrorCode],
}

pub static ROUTES: &[RestRoute] = &[
    RestRoute {
        path: "/user/register",
        document: "mutation Register($input: RegisterInput!) {
            result: register(input: $input) {
                id username email date_joined: dateJoined
            }
        }",
        body_fields: &["username", "email", "password"],
        path_variable: None,
        success: StatusCode::CREATED,
        doc: RouteDoc {
            operation_id: "register",
            summary: "Register an account.",
            request: Some("RegisterRequest"),
            response: "User",
            outcome: "Registered",
            path_parameter: None,
            bearer: false,
            errors: &[
                ErrorCode::ValidationFailed,
                ErrorCode::UsernameTaken,
                ErrorCode::EmailTaken,
                ErrorCode::RateLimited,
            ],
        },
    },
    RestRoute {
        path: "/user/login",
        document: "mutation Login($input: LoginInput!) {
            result: login(input: $input) {
                token token_type: tokenType expires_at: expiresAt
                user { id username email date_joined: dateJoined last_login: lastLogin }
            }
        }",
        body_fields: &["username", "password"],
        path_variable: None,
        success: StatusCode::OK,
        doc: RouteDoc {
            operation_id: "login",
            summary: "Log in: check the password and open a session.",
            request: Some("LoginRequest"),
            response: "LoginResponse",
            outcome: "Logged in",
            path_parameter: None,
            bearer: false,
            errors: &[
                ErrorCode::ValidationFailed,
                ErrorCode::UserNotFound,
                ErrorCode::InvalidPassword,
                ErrorCode::AccountDisabled,
                ErrorCode::RateLimited,
            ],
        },
    },
    RestRoute {
        path: "/user/logout/{user_id}",
        document: "mutation Logout($userId: ID!) {
            result: logout(userId: $userId) { user_id: userId sessions_revoked: sessionsRevoked }
        }",
        body_fields: &[],
        path_variable: Some("userId"),
        success: StatusCode::OK,
        doc: RouteDoc {
            operation_id: "logout",
            summary: "Log out: end the session of the bearer token, which must belong to `user_id`.",
            request: None,
            response: "LogoutResponse",
            outcome: "Logged out",
            path_parameter: Some("The user's id (UUID)"),
            bearer: true,
            errors: &[ErrorCode::InvalidUserId, ErrorCode::Unauthenticated],
        },
    },
];

impl RestRoute {
    /// The route's document, parsed. The documents are constants and a unit
    /// test parses each one, so a failure here cannot ship.
    pub fn parse(&self) -> ExecutableDocument {
        async_graphql::parser::parse_query(self.document)
            .unwrap_or_else(|err| panic!("REST document of {} does not parse: {err}", self.path))
    }
}

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

/// Decodes a REST body as the handlers do: by its `Content-Type`, into the
/// route's required string fields. Public for the fuzz targets.
pub fn decode_body(
    headers: &HeaderMap,
    bytes: &[u8],
    fields: &[&str],
) -> Result<Map<String, Value>, Error> {
    let decoded = decode_fields(MediaType::of(headers), bytes)?;
    required_strings(fields, &decoded)
}

/// The body as a field map. JSON must be an object; a form's repeated key
/// keeps its last value, as Django's `QueryDict` does. An empty body is an
/// empty map whatever its type, so its fields are reported as missing.
fn decode_fields(media_type: MediaType, bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match media_type {
        MediaType::Json | MediaType::Unspecified => match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(Error::BadRequest("The JSON body must be an object.".into())),
            Err(err) => Err(Error::BadRequest(format!(
                "The body is not valid JSON (line {}, column {}).",
                err.line(),
                err.column()
            ))),
        },
        MediaType::Form => {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
                .map_err(|_| Error::BadRequest("The form body is malformed.".into()))?;
            Ok(pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect())
        }
        MediaType::Other => Err(Error::UnsupportedMediaType),
    }
}

/// Picks the required fields as strings. Like Django REST Framework's
/// `CharField`, a number is taken as its text; a missing, null, boolean, list
/// or object value is a validation error naming the field.
fn required_strings(
    names: &[&str],
    fields: &Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    let mut input = Map::new();
    let mut errors = FieldErrors::new();
    for &name in names {
        let message = match fields.get(name) {
            Some(Value::String(s)) => {
                input.insert(name.into(), Value::String(s.clone()));
                continue;
            }
            Some(Value::Number(n)) => {
                input.insert(name.into(), Value::String(n.to_string()));
                continue;
            }
            None => messages::REQUIRED,
            Some(Value::Null) => messages::NULL,
            Some(_) => messages::NOT_A_STRING,
        };
        errors.insert(name.into(), vec![message.into()]);
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(Error::Validation(errors))
    }
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

#[cfg(test)]
mod tests {
    use super::ROUTES;

    #[test]
    fn every_route_document_parses_and_aliases_its_root_field_result() {
        for route in ROUTES {
            let parsed = route.parse();
            assert_eq!(parsed.operations.iter().count(), 1, "{}", route.path);
            assert!(route.document.contains("result:"), "{}", route.path);
        }
    }
}
