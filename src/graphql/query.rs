use async_graphql::{Context, Object};

use super::context::{accounts, caller};
use super::error::into_graphql;
use super::types::User;

pub struct Query;

#[Object]
impl Query {
    /// The user of the bearer token, or null without a valid one.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let session = accounts(ctx)?
            .session(caller(ctx)?)
            .await
            .map_err(into_graphql)?;
        Ok(session.map(|s| User(s.user.clone())))
    }
}
