use async_graphql::{Context, ID, Object, ResultExt};

use super::schema::{accounts, caller};
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
        let user = accounts(ctx)?
            .register(input.into(), caller(ctx)?)
            .await
            .extend()?;
        Ok(User(user))
    }

    /// Checks the password and opens a session.
    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<LoginPayload> {
        let outcome = accounts(ctx)?
            .login(input.into(), caller(ctx)?)
            .await
            .extend()?;
        Ok(LoginPayload(outcome))
    }

    /// Ends the session of the bearer token, which must belong to `userId`.
    async fn logout(&self, ctx: &Context<'_>, user_id: ID) -> async_graphql::Result<LogoutPayload> {
        let outcome = accounts(ctx)?
            .logout(&user_id, caller(ctx)?)
            .await
            .extend()?;
        Ok(LogoutPayload(outcome))
    }
}
