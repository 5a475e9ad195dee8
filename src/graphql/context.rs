//! What a resolver reads from the request's context: the account service
//! and the caller, put there by the schema and the transport; and where it
//! leaves what the transport must show that is not GraphQL data.

use std::sync::{Arc, Mutex};

use async_graphql::Context;

use super::error::into_graphql;
use crate::accounts::{Accounts, Caller, Limited, RateState};
use crate::error::Error;

/// The account service the schema was built with.
pub fn accounts<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Accounts> {
    ctx.data::<Arc<Accounts>>()
        .map(|a| a.as_ref())
        .map_err(|_| into_graphql(Error::internal("schema built without the account service")))
}

/// The caller of this operation, put into the request by the transport.
pub fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Caller> {
    ctx.data::<Arc<Caller>>()
        .map(|caller| caller.as_ref())
        .map_err(|_| into_graphql(Error::internal("request executed without a caller")))
}

/// The rate-limit state of the last limited operation of a request, for the
/// transport's response headers. The transport puts one into each request's
/// data and reads it back after execution; without one, nothing is kept.
#[derive(Debug, Default)]
pub struct RateLimitNote(Mutex<Option<RateState>>);

impl RateLimitNote {
    pub fn get(&self) -> Option<RateState> {
        self.0.lock().map(|state| state.clone()).unwrap_or(None)
    }

    fn set(&self, state: RateState) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(state);
        }
    }
}

/// The outcome of a rate-limited action, its bucket's state noted for the
/// transport.
pub fn note_rate_limit<T>(ctx: &Context<'_>, limited: Limited<T>) -> async_graphql::Result<T> {
    if let (Some(state), Some(note)) = (limited.rate, ctx.data_opt::<Arc<RateLimitNote>>()) {
        note.set(state);
    }
    limited.outcome.map_err(into_graphql)
}
