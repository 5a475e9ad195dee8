//! The OpenAPI 3.1 document of the REST routes (`GET /openapi.json`) and its
//! reference page (`GET /docs`, Scalar). These types describe the wire
//! format only; the bodies themselves come from the GraphQL documents of the
//! REST table, and a test checks that every route of the table is here.

#![allow(dead_code)] // the types exist for their schemas, never built

use std::collections::BTreeMap;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// Body of `POST /user/register/` (JSON or form).
#[derive(ToSchema)]
pub struct RegisterRequest {
    /// 1–150 letters, digits and `@ . + - _`; trimmed, NFKC; unique ignoring case.
    #[schema(example = "alice", min_length = 1, max_length = 150)]
    username: String,
    /// A bare address, at most 254 characters; unique ignoring case.
    #[schema(example = "alice@example.com", format = "email", max_length = 254)]
    email: String,
    /// 8–256 code points after NFKC; not a common password; not containing the username.
    #[schema(example = "Vq7#kPz!rw", min_length = 8, max_length = 256)]
    password: String,
}

/// Body of `POST /user/login/` (JSON or form).
#[derive(ToSchema)]
pub struct LoginRequest {
    /// Found ignoring case.
    #[schema(example = "alice")]
    username: String,
    #[schema(example = "Vq7#kPz!rw")]
    password: String,
}

/// A registered user.
#[derive(ToSchema)]
pub struct User {
    /// UUID v7.
    id: uuid::Uuid,
    username: String,
    email: String,
    date_joined: chrono::DateTime<chrono::Utc>,
}

/// A user as login returns it.
#[derive(ToSchema)]
pub struct LoggedInUser {
    id: uuid::Uuid,
    username: String,
    email: String,
    date_joined: chrono::DateTime<chrono::Utc>,
    last_login: Option<chrono::DateTime<chrono::Utc>>,
}

/// A new session.
#[derive(ToSchema)]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer <token>`; `gat_` + 48 characters.
    #[schema(example = "gat_OXKBBdwwYM_vIAtbCst1AcQyxvuPcwD5_x3IjLIEYeV-p3OY")]
    token: String,
    #[schema(example = "Bearer")]
    token_type: String,
    expires_at: chrono::DateTime<chrono::Utc>,
    user: LoggedInUser,
}

/// The outcome of a logout.
#[derive(ToSchema)]
pub struct LogoutResponse {
    user_id: uuid::Uuid,
    /// 1 for a token logout; any number in legacy mode.
    sessions_revoked: i32,
}

/// RFC 9457 problem details.
#[derive(ToSchema)]
pub struct Problem {
    #[schema(rename = "type", example = "about:blank")]
    kind: String,
    #[schema(example = "Bad Request")]
    title: String,
    #[schema(example = 400)]
    status: u16,
    detail: String,
    /// Stable error code (SPEC §6).
    #[schema(example = "VALIDATION_FAILED")]
    code: String,
    /// Field → messages, for validation failures and conflicts.
    errors: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse REST API",
        description = "The REST paths kept from the Django app. Each runs a GraphQL document on the \
                       same schema as POST /graphql. Paths also work without the trailing slash.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(register, login, logout),
    components(schemas(RegisterRequest, LoginRequest, User, LoggedInUser, LoginResponse, LogoutResponse, Problem)),
    modifiers(&BearerAuth),
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

/// Register an account.
#[utoipa::path(
    post,
    path = "/user/register/",
    tag = "accounts",
    request_body(content(
        (RegisterRequest = "application/json"),
        (RegisterRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "Registered", body = User),
        (status = 400, description = "VALIDATION_FAILED, USERNAME_TAKEN, EMAIL_TAKEN or BAD_REQUEST", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "RATE_LIMITED", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "OVERLOADED", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
fn register() {}

/// Log in: check the password and open a session.
#[utoipa::path(
    post,
    path = "/user/login/",
    tag = "accounts",
    request_body(content(
        (LoginRequest = "application/json"),
        (LoginRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "VALIDATION_FAILED, USER_NOT_FOUND or BAD_REQUEST", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "INVALID_PASSWORD", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "ACCOUNT_DISABLED", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "RATE_LIMITED (per client, or this account is throttled)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "OVERLOADED", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
fn login() {}

/// Log out: end the session of the bearer token, which must belong to `user_id`.
#[utoipa::path(
    post,
    path = "/user/logout/{user_id}/",
    tag = "accounts",
    params(("user_id" = String, Path, description = "The user's id (UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Logged out", body = LogoutResponse),
        (status = 400, description = "INVALID_USER_ID or BAD_REQUEST", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED", body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "Bearer challenge (RFC 6750)"))),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "OVERLOADED", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
fn logout() {}
