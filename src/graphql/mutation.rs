use async_graphql::{Context, ID, Object};

use super::context::{accounts, caller, note_rate_limit};
use super::error::into_graphql;
use super::lifecycle::{
    ChangePasswordInput, ChangePasswordPayload, DeleteAccountPayload, RevokeSessionPayload,
};
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

    /// Ends one of the bearer token's user's live sessions, this one
    /// included. Any other id is `INVALID_SESSION_ID`.
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<RevokeSessionPayload> {
        let revoked = accounts(ctx)?
            .revoke_session(&id, caller(ctx)?)
            .await
            .map_err(into_graphql)?;
        Ok(RevokeSessionPayload(revoked))
    }

    /// Ends every session of the bearer token's user, this one included.
    async fn logout_everywhere(&self, ctx: &Context<'_>) -> async_graphql::Result<LogoutPayload> {
        let outcome = accounts(ctx)?
            .logout_everywhere(caller(ctx)?)
            .await
            .map_err(into_graphql)?;
        Ok(LogoutPayload(outcome))
    }

    /// Checks the current password (throttled as login is), sets the new
    /// one, and ends every other session of the user.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<ChangePasswordPayload> {
        let limited = accounts(ctx)?
            .change_password(input.into(), caller(ctx)?)
            .await;
        Ok(ChangePasswordPayload(note_rate_limit(ctx, limited)?))
    }

    /// Checks the password (throttled as login is), then deletes the
    /// account and every session of it. The username and email are free again.
    async fn delete_account(
        &self,
        ctx: &Context<'_>,
        password: String,
    ) -> async_graphql::Result<DeleteAccountPayload> {
        let limited = accounts(ctx)?
            .delete_account(password.into(), caller(ctx)?)
            .await;
        Ok(DeleteAccountPayload(note_rate_limit(ctx, limited)?))
    }
}
