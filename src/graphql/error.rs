//! A service error as a GraphQL error: its message, `extensions.code`
//! (SPEC §6), field messages and `retryAfter` for clients, and the typed
//! error itself as the source, which REST maps to its problem without
//! reading the extensions back.

use async_graphql::indexmap::IndexMap;
use async_graphql::{ErrorExtensionValues, Name, Value};

use crate::error::Error;

pub fn into_graphql(err: Error) -> async_graphql::Error {
    err.log_if_internal();
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", err.code().as_str());
    if let Some(fields) = err.fields() {
        let fields: IndexMap<Name, Value> = fields
            .into_iter()
            .map(|(field, messages)| {
                let messages = messages.into_iter().map(Value::from).collect();
                (Name::new(field), Value::List(messages))
            })
            .collect();
        extensions.set("fields", Value::Object(fields));
    }
    if let Some(secs) = err.retry_after_secs() {
        extensions.set("retryAfter", secs);
    }
    let mut error = async_graphql::Error::new_with_source(err);
    error.extensions = Some(extensions);
    error
}
