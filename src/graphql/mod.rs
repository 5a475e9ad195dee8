//! The GraphQL API (SPEC §4): the one API surface. REST routes run documents
//! on this same schema.

mod context;
mod error;
mod lifecycle;
mod mutation;
mod query;
mod schema;
mod types;

pub use context::RateLimitNote;
pub use schema::{SchemaLimits, Schemas, build_schema, sdl};
