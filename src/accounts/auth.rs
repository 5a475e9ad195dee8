//! Who is calling: the bearer credentials of one request, resolved against the
//! database at most once however many resolvers ask.

use tokio::sync::OnceCell;

use super::{Accounts, Authenticated};
use crate::error::Error;

/// What the `Authorization` header carried.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No `Authorization` header.
    Missing,
    /// `Authorization: Bearer <token>`; the token is not checked yet.
    Bearer(String),
    /// An `Authorization` header that is not a bearer token.
    Unusable,
}

impl Credentials {
    /// Reads an `Authorization` header value (RFC 6750 §2.1; the scheme is
    /// case-insensitive).
    pub fn from_header(value: Option<&[u8]>) -> Self {
        let Some(value) = value else {
            return Self::Missing;
        };
        let Ok(value) = std::str::from_utf8(value) else {
            return Self::Unusable;
        };
        match value.trim().split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                let token = token.trim();
                if token.is_empty() {
                    Self::Unusable
                } else {
                    Self::Bearer(token.to_owned())
                }
            }
            _ => Self::Unusable,
        }
    }

    /// Whether the client sent any credentials at all (RFC 6750 §3: decides
    /// between a bare challenge and `error="invalid_token"`).
    pub fn were_sent(&self) -> bool {
        !matches!(self, Self::Missing)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Missing => "Missing",
            Self::Bearer(_) => "Bearer([redacted])",
            Self::Unusable => "Unusable",
        })
    }
}

/// The caller of one request. Put into each GraphQL request's data by the
/// HTTP layer, REST and GraphQL alike.
#[derive(Debug)]
pub struct Caller {
    credentials: Credentials,
    session: OnceCell<Option<Authenticated>>,
}

impl Caller {
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            session: OnceCell::new(),
        }
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The live session behind the credentials, if any.
    pub async fn session(&self, accounts: &Accounts) -> Result<Option<&Authenticated>, Error> {
        let session = self
            .session
            .get_or_try_init(|| accounts.authenticate(&self.credentials))
            .await?;
        Ok(session.as_ref())
    }
}
