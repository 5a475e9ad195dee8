//! The REST routes of the Django app (SPEC §3), as a table: what each runs,
//! reads, answers, and what its documentation says.

use async_graphql::parser::types::ExecutableDocument;
use axum::http::StatusCode;

use crate::error::ErrorCode;

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
                ErrorCode::InvalidCredentials,
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
            path_parameter: Some(
                "The user's id (UUID), or for an account imported from Django its Django id",
            ),
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
