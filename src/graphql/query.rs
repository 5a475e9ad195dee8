use async_graphql::{Context, Object, ResultExt};

use super::schema::{accounts, caller};
use super::types::User;

pub struct Query;

#[Object]
impl Query {
    /// The user of the bearer token, or null without a valid one.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let session = caller(ctx)?.session(accounts(ctx)?).await.extend()?;
        Ok(session.map(|s| User(s.user.clone())))
    }
}
