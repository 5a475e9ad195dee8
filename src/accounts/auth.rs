//! Who is calling: the bearer credentials of one request, resolved against the
//! database at most once however many resolvers ask.

use std::net::IpAddr;
use std::sync::Mutex;

use tokio::sync::OnceCell;

use super::limits::RateState;
use super::{Accounts, Authenticated};
use crate::error::Error;

/// What the `Authorization` header carried.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No `Authorization` header.
    Missing,
    /// `Authorization: Bearer <token>`; the token is not checked yet.
    Bearer(String),
    /// `Authorization: Bearer` with nothing usable after it, or a value that
    /// is not text.
    Unusable,
    /// An `Authorization` header of another scheme (`Basic …`).
    OtherScheme,
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
        let value = value.trim();
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Self::OtherScheme;
        }
        let token = token.trim();
        if token.is_empty() {
            Self::Unusable
        } else {
            Self::Bearer(token.to_owned())
        }
    }

    /// Whether the client sent an `Authorization` header at all. Any header
    /// counts: a logout that sent credentials has them checked, never the
    /// legacy tokenless path.
    pub fn were_sent(&self) -> bool {
        !matches!(self, Self::Missing)
    }

    /// Whether a bearer token was attempted, so that a refusal names it
    /// (RFC 6750 §3.1: `error="invalid_token"`); without one, or with another
    /// scheme, the challenge carries no error code.
    pub fn attempted_bearer(&self) -> bool {
        matches!(self, Self::Bearer(_) | Self::Unusable)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Missing => "Missing",
            Self::Bearer(_) => "Bearer([redacted])",
            Self::Unusable => "Unusable",
            Self::OtherScheme => "OtherScheme",
        })
    }
}

/// The caller of one request: its credentials and its address. Put into
/// each GraphQL request's data by the HTTP layer, REST and GraphQL alike; the
/// HTTP layer reads the rate-limit state back for the response headers.
#[derive(Debug)]
pub struct Caller {
    credentials: Credentials,
    client: Option<IpAddr>,
    session: OnceCell<Option<Authenticated>>,
    rate: Mutex<Option<RateState>>,
}

impl Caller {
    pub fn new(credentials: Credentials, client: Option<IpAddr>) -> Self {
        Self {
            credentials,
            client,
            session: OnceCell::new(),
            rate: Mutex::new(None),
        }
    }

    /// The client's address (the peer, or the first untrusted hop of
    /// `X-Forwarded-For` behind a trusted proxy).
    pub fn client(&self) -> Option<IpAddr> {
        self.client
    }

    /// The last rate-limit state an action of this request produced.
    pub fn rate_state(&self) -> Option<RateState> {
        self.rate.lock().map(|state| state.clone()).unwrap_or(None)
    }

    pub(super) fn set_rate_state(&self, state: RateState) {
        if let Ok(mut slot) = self.rate.lock() {
            *slot = Some(state);
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
