//! The OpenAPI 3.1 document of the REST routes (`GET /openapi.json`) and its
//! reference page (`GET /docs`, Scalar). The paths are built from the REST
//! table (`rest::ROUTES`), so a route is documented where it is declared.
//! The types below describe the wire format only: the bodies themselves come
//! from the GraphQL documents of the table.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, HeaderBuilder, Ref, Required};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use super::problem::status_of;
use super::rest::{ROUTES, RestRoute};
use crate::error::ErrorCode;

/// The codes any REST route can answer, whatever it does: its body is
/// malformed, too large, of another type or too slow, or the service is
/// overloaded.
const EVERY_ROUTE: &[ErrorCode] = &[
    ErrorCode::BadRequest,
    ErrorCode::PayloadTooLarge,
    ErrorCode::UnsupportedMediaType,
    ErrorCode::RequestTimeout,
    ErrorCode::Overloaded,
];

/// Body of `POST /user/register/` (JSON or form).
#[derive(ToSchema)]
pub struct RegisterRequest {
    /// 1–150 letters, digits and `@ . + - _`; trimmed, NFKC; unique ignoring case.
    #[schema(example = "alice", min_length = 1, max_length = 150)]
    pub username: String,
    /// A bare address, at most 254 characters; unique ignoring case.
    #[schema(example = "alice@example.com", format = "email", max_length = 254)]
    pub email: String,
    /// 8–256 code points after NFKC; not a common password; not containing the username.
    #[schema(example = "Vq7#kPz!rw", min_length = 8, max_length = 256)]
    pub password: String,
}

/// Body of `POST /user/login/` (JSON or form).
#[derive(ToSchema)]
pub struct LoginRequest {
    /// Found ignoring case.
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "Vq7#kPz!rw")]
    pub password: String,
}

/// A registered user.
#[derive(ToSchema)]
pub struct User {
    /// UUID v7.
    pub id: uuid::Uuid,
    pub username: String,
    pub email: String,
    pub date_joined: chrono::DateTime<chrono::Utc>,
}

/// A user as login returns it.
#[derive(ToSchema)]
pub struct LoggedInUser {
    pub id: uuid::Uuid,
    pub username: String,
    pub email: String,
    pub date_joined: chrono::DateTime<chrono::Utc>,
    pub last_login: Option<chrono::DateTime<chrono::Utc>>,
}

/// A new session.
#[derive(ToSchema)]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer <token>`; `gat_` + 48 characters.
    #[schema(example = "gat_OXKBBdwwYM_vIAtbCst1AcQyxvuPcwD5_x3IjLIEYeV-p3OY")]
    pub token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub user: LoggedInUser,
}

/// The outcome of a logout.
#[derive(ToSchema)]
pub struct LogoutResponse {
    pub user_id: uuid::Uuid,
    /// 1 for a token logout; any number in legacy mode.
    pub sessions_revoked: i32,
}

/// RFC 9457 problem details.
#[derive(ToSchema)]
pub struct Problem {
    #[schema(rename = "type", example = "about:blank")]
    pub kind: String,
    #[schema(example = "Bad Request")]
    pub title: String,
    #[schema(example = 400)]
    pub status: u16,
    pub detail: String,
    /// Stable error code (SPEC §6).
    #[schema(example = "VALIDATION_FAILED")]
    pub code: String,
    /// Field → messages, for validation failures and conflicts.
    pub errors: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse REST API",
        description = "The REST paths kept from the Django app. Each runs a GraphQL document on the \
                       same schema as POST /graphql. Paths also work without the trailing slash.",
        license(name = "MIT OR Apache-2.0"),
    ),
    components(schemas(RegisterRequest, LoginRequest, User, LoggedInUser, LoginResponse, LogoutResponse, Problem)),
    modifiers(&BearerAuth, &RestPaths),
    tags((name = "accounts", description = "Register, log in, log out")),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("gat_…")
                        .build(),
                ),
            );
        }
    }
}

/// Adds a path for every route of the REST table, with and without the
/// trailing slash served; the document names the slashed form, as the Django
/// API did.
struct RestPaths;

impl Modify for RestPaths {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for route in ROUTES {
            openapi.paths.add_path_operation(
                format!("{}/", route.path),
                vec![HttpMethod::Post],
                operation(route),
            );
        }
    }
}

fn operation(route: &RestRoute) -> utoipa::openapi::path::Operation {
    let doc = &route.doc;
    let mut operation = OperationBuilder::new()
        .operation_id(Some(doc.operation_id))
        .summary(Some(doc.summary))
        .tag("accounts")
        .responses(responses(route));
    if let Some(schema) = doc.request {
        let content = || Content::new(Some(Ref::from_schema_name(schema)));
        operation = operation.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", content())
                .content("application/x-www-form-urlencoded", content())
                .build(),
        ));
    }
    if let (Some(name), Some(description)) = (path_parameter(route.path), doc.path_parameter) {
        operation = operation.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(String::schema())),
        );
    }
    if doc.bearer {
        operation = operation.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
    }
    operation.build()
}

/// The success response, then one problem response per status the route's
/// codes map to (SPEC §6), naming the codes.
fn responses(route: &RestRoute) -> utoipa::openapi::Responses {
    let doc = &route.doc;
    let success = ResponseBuilder::new().description(doc.outcome).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name(doc.response))),
    );
    let mut by_status: BTreeMap<StatusCode, Vec<ErrorCode>> = BTreeMap::new();
    for &code in doc.errors.iter().chain(EVERY_ROUTE) {
        let codes = by_status.entry(status_of(code)).or_default();
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    let mut responses = ResponsesBuilder::new().response(route.success.as_str(), success.build());
    for (status, codes) in by_status {
        let mut response = ResponseBuilder::new().description(one_of(&codes)).content(
            "application/problem+json",
            Content::new(Some(Ref::from_schema_name("Problem"))),
        );
        if matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        ) {
            response = response.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Some(u64::schema()))
                    .description(Some("Seconds to wait"))
                    .build(),
            );
        }
        if status == StatusCode::UNAUTHORIZED && doc.bearer {
            response = response.header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(Some(String::schema()))
                    .description(Some("Bearer challenge (RFC 6750)"))
                    .build(),
            );
        }
        responses = responses.response(status.as_str(), response.build());
    }
    responses.build()
}

/// `A`, `A or B`, `A, B or C`.
fn one_of(codes: &[ErrorCode]) -> String {
    match codes.split_last() {
        Some((last, [])) => last.as_str().to_owned(),
        Some((last, rest)) => {
            let rest: Vec<&str> = rest.iter().map(|code| code.as_str()).collect();
            format!("{} or {last}", rest.join(", "))
        }
        None => String::new(),
    }
}

/// The name of the `{param}` segment of a route's path, if it has one.
fn path_parameter(path: &str) -> Option<&str> {
    let start = path.find('{')?;
    let end = path[start..].find('}')?;
    Some(&path[start + 1..start + end])
}
