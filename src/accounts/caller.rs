//! Who is calling: the credentials a request carried and the client's
//! address, as the transport read them. Nothing here knows how they were
//! sent; the HTTP layer parses the `Authorization` header into `Credentials`.

use std::net::IpAddr;

use tokio::sync::OnceCell;

use super::Authenticated;
use crate::audit::{Actor, Origin};

/// The credentials of a request.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// None were sent.
    Missing,
    /// A bearer token; not checked yet.
    Bearer(String),
    /// A bearer credential with no usable token in it.
    Unusable,
    /// Credentials of another scheme (`Basic …`).
    OtherScheme,
}

impl Credentials {
    /// Whether the client sent credentials at all. Any kind counts: a logout
    /// that sent credentials has them checked, never the legacy tokenless path.
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

/// The longest user agent a session keeps, in bytes; longer ones are cut at
/// a character boundary. Real browsers send a few hundred.
const USER_AGENT_MAX: usize = 256;

/// The longest request id a client may choose, in characters.
const REQUEST_ID_MAX: usize = 64;

/// Whether a client's request id is one to keep, echo, log and store as
/// sent: 1 to 64 printable ASCII characters. The HTTP layer replaces any
/// other with one it generates.
pub fn is_usable_request_id(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= REQUEST_ID_MAX && id.iter().all(u8::is_ascii_graphic)
}

/// The caller of one operation: its credentials, its address and user
/// agent, and the session they resolve to once `Accounts::session` has
/// looked it up.
#[derive(Debug)]
pub struct Caller {
    pub(super) credentials: Credentials,
    client: Option<IpAddr>,
    user_agent: Option<String>,
    request_id: Option<std::sync::Arc<str>>,
    pub(super) session: OnceCell<Option<Authenticated>>,
}

impl Caller {
    pub fn new(credentials: Credentials, client: Option<IpAddr>) -> Self {
        Self {
            credentials,
            client,
            user_agent: None,
            request_id: None,
            session: OnceCell::new(),
        }
    }

    /// The client's `User-Agent`, kept with a session it opens: shortened,
    /// control characters dropped, and nothing if that leaves it empty.
    pub fn with_user_agent(mut self, user_agent: Option<&str>) -> Self {
        self.user_agent = user_agent.and_then(|agent| {
            let mut kept = String::with_capacity(agent.len().min(USER_AGENT_MAX));
            for c in agent.trim().chars().filter(|c| !c.is_control()) {
                if kept.len() + c.len_utf8() > USER_AGENT_MAX {
                    break;
                }
                kept.push(c);
            }
            (!kept.is_empty()).then_some(kept)
        });
        self
    }

    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// The request's id (`x-request-id`), kept with its audit events if it
    /// is usable (`is_usable_request_id`).
    pub fn with_request_id(mut self, request_id: Option<&str>) -> Self {
        self.request_id = request_id
            .filter(|id| is_usable_request_id(id.as_bytes()))
            .map(Into::into);
        self
    }

    /// Where this caller's audit events come from: the account's own user
    /// (or someone trying to be them), from this address and request.
    pub fn origin(&self) -> Origin {
        Origin {
            actor: Actor::Myself,
            ip: self.client,
            request_id: self.request_id.clone(),
        }
    }

    /// The client's address (the peer, or the first untrusted hop of
    /// `X-Forwarded-For` behind a trusted proxy).
    pub fn client(&self) -> Option<IpAddr> {
        self.client
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
}
