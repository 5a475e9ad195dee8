//! SeaORM entities: the tables as stored. They are never the API: GraphQL
//! objects are built from them in `graphql::types`.

pub mod audit_events;
pub mod sessions;
pub mod users;
