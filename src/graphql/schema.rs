use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{
    BatchRequest, BatchResponse, EmptySubscription, Request, Response, SDLExportOptions, Schema,
};

use super::mutation::Mutation;
use super::query::Query;
use crate::accounts::Accounts;

type GatehouseSchema = Schema<Query, Mutation, EmptySubscription>;

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

/// Deepest selection an introspection operation may make: that of
/// graphql-js's `getIntrospectionQuery` (16.x and 17.x, every option on),
/// which GraphiQL, Apollo, graphql-codegen, Altair and Insomnia send. As
/// async-graphql counts, it is 15: the operation, `__schema types fields args
/// type`, and nine `ofType`.
const INTROSPECTION_MAX_DEPTH: usize = 15;

/// Largest complexity (fields, counted through fragments; `__typename` is
/// free) of an introspection operation. graphql-js's query counts 220 with its
/// default options and 230 with every option on; the margin leaves room for a
/// few more introspection fields, not for a second copy of the types.
const INTROSPECTION_MAX_COMPLEXITY: usize = 256;

/// The schema twice over, with the same types and data: once with the limits
/// every operation gets, and once with the wider bound an introspection-only
/// query needs, since the default depth and complexity limits count
/// introspection fields and refuse every client's schema query.
#[derive(Clone)]
pub struct Schemas {
    operations: GatehouseSchema,
    /// `None` when introspection is switched off.
    introspection: Option<GatehouseSchema>,
}

impl Schemas {
    /// Runs one request on the schema whose limits fit it.
    pub async fn execute(&self, mut request: Request) -> Response {
        self.for_request(&mut request).execute(request).await
    }

    /// Runs each request of a batch in turn, as async-graphql does.
    pub async fn execute_batch(&self, batch: BatchRequest) -> BatchResponse {
        match batch {
            BatchRequest::Single(request) => BatchResponse::Single(self.execute(request).await),
            BatchRequest::Batch(requests) => {
                let mut responses = Vec::with_capacity(requests.len());
                for request in requests {
                    responses.push(self.execute(request).await);
                }
                BatchResponse::Batch(responses)
            }
        }
    }

    /// The schema for a request. Parsing here keeps the document in the
    /// request, so execution does not parse it again.
    fn for_request(&self, request: &mut Request) -> &GatehouseSchema {
        let Some(introspection) = &self.introspection else {
            return &self.operations;
        };
        let operation_name = request.operation_name.clone();
        match request.parsed_query() {
            Ok(document) if is_introspection(document, operation_name.as_deref()) => introspection,
            _ => &self.operations,
        }
    }
}

pub fn build_schema(accounts: Arc<Accounts>, limits: SchemaLimits) -> Schemas {
    let operations = common(Arc::clone(&accounts))
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity);
    if !limits.introspection {
        return Schemas {
            operations: operations.disable_introspection().finish(),
            introspection: None,
        };
    }
    let introspection = common(accounts)
        .limit_depth(INTROSPECTION_MAX_DEPTH)
        .limit_complexity(INTROSPECTION_MAX_COMPLEXITY)
        // Should an operation reach it that is not introspection after
        // all, its other fields are not resolved.
        .introspection_only();
    Schemas {
        operations: operations.finish(),
        introspection: Some(introspection.finish()),
    }
}

fn common(
    accounts: Arc<Accounts>,
) -> async_graphql::SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query, Mutation, EmptySubscription)
        .data(accounts)
        // Parser recursion: a 5,000-deep document is refused, not a stack overflow.
        .limit_recursive_depth(32)
        .limit_directives(8)
}

/// Whether the operation a document runs is a query that selects nothing
/// but `__schema`, `__type` and `__typename` at its root (through fragments
/// too). Anything else, including a document that names no runnable
/// operation, is left to the operation limits and their errors.
fn is_introspection(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    let mut operations = document.operations.iter();
    let operation = match operation_name {
        Some(name) => operations.find(|(op_name, _)| op_name.is_some_and(|n| n.as_str() == name)),
        None => operations.next(),
    };
    let Some((_, operation)) = operation else {
        return false;
    };
    operation.node.ty == OperationType::Query
        && selects_only_introspection(
            document,
            &operation.node.selection_set.node,
            &mut HashSet::new(),
        )
}

fn selects_only_introspection<'a>(
    document: &'a ExecutableDocument,
    selection_set: &'a SelectionSet,
    seen_fragments: &mut HashSet<&'a str>,
) -> bool {
    selection_set
        .items
        .iter()
        .all(|selection| match &selection.node {
            Selection::Field(field) => matches!(
                field.node.name.node.as_str(),
                "__schema" | "__type" | "__typename"
            ),
            Selection::InlineFragment(fragment) => selects_only_introspection(
                document,
                &fragment.node.selection_set.node,
                seen_fragments,
            ),
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                // A fragment met again adds nothing (and a cycle, which
                // validation refuses, must not loop here).
                if !seen_fragments.insert(name) {
                    return true;
                }
                document
                    .fragments
                    .get(&spread.node.fragment_name.node)
                    .is_some_and(|fragment| {
                        selects_only_introspection(
                            document,
                            &fragment.node.selection_set.node,
                            seen_fragments,
                        )
                    })
            }
        })
}

/// The SDL of the schema, as checked in at `schema.graphql`.
/// `@specifiedBy` is printed, since introspection reports it too.
pub fn sdl() -> String {
    Schema::build(Query, Mutation, EmptySubscription)
        .finish()
        .sdl_with_options(SDLExportOptions::new().include_specified_by())
}
