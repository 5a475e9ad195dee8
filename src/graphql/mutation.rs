use async_graphql::{Context, ID, Object};

use super::context::{accounts, caller, note_rate_limit};
use super::error::into_graphql;
use super::types::{LoginInput, LoginPayload, LogoutPayload, RegisterInput, User};

pub struct Mutation;

#[Object]
impl Mutation {
    /// Creates an account.
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> async_graphql::Result<User> {
        let limited = accounts(ctx)?.register(input.into(), caller(ctx)?).await;
        Ok(User(note_rate_limit(ctx, limited)?))
    }

    /// Checks the password and opens a session.
    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<LoginPayload> {
        let limited = accounts(ctx)?.login(input.into(), caller(ctx)?).await;
        Ok(LoginPayload(note_rate_limit(ctx, limited)?))
    }

    /// Ends the session of the bearer token, which must belong to `userId`:
    /// the user's id, or for an account imported from Django its Django id.
    async fn logout(&self, ctx: &Context<'_>, user_id: ID) -> async_graphql::Result<LogoutPayload> {
        let outcome = accounts(ctx)?
            .logout(&user_id, caller(ctx)?)
            .await
            .map_err(into_graphql)?;
        Ok(LogoutPayload(outcome))
    }
}
