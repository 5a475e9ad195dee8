use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, ErrorExtensions, Schema};

use super::mutation::Mutation;
use super::query::Query;
use crate::accounts::{Accounts, Caller};
use crate::error::Error;

pub type GatehouseSchema = Schema<Query, Mutation, EmptySubscription>;

/// Limits on what one document may ask for.
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub introspection: bool,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self {
            max_depth: 10,
            max_complexity: 100,
            introspection: true,
        }
    }
}

pub fn build_schema(accounts: Arc<Accounts>, limits: SchemaLimits) -> GatehouseSchema {
    let builder = Schema::build(Query, Mutation, EmptySubscription)
        .data(accounts)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        // Parser recursion: a 5,000-deep document is refused, not a stack overflow.
        .limit_recursive_depth(32)
        .limit_directives(8);
    let builder = if limits.introspection {
        builder
    } else {
        builder.disable_introspection()
    };
    builder.finish()
}

/// The SDL of the schema, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query, Mutation, EmptySubscription)
        .finish()
        .sdl()
}

pub(super) fn accounts<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Accounts> {
    ctx.data::<Arc<Accounts>>()
        .map(|a| a.as_ref())
        .map_err(|_| Error::internal("schema built without the account service").extend())
}

pub(super) fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Caller> {
    ctx.data::<Arc<Caller>>()
        .map(|caller| caller.as_ref())
        .map_err(|_| Error::internal("request executed without a caller").extend())
}
