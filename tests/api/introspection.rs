//! Introspection as GraphQL clients send it: the standard queries are
//! answered in full under the default limits, the schema they describe is
//! `schema.graphql`, and introspection documents past every standard tool's
//! size are refused before they run.

use std::collections::BTreeMap;
use std::time::Instant;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{
    ConstDirective, InputValueDefinition, TypeKind, TypeSystemDefinition,
};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, gql_code, spawn_app, spawn_app_with};

/// graphql-js 17.1.0 `getIntrospectionQuery` with every option on
/// (descriptions, specifiedByUrl, directiveIsRepeatable, schemaDescription,
/// inputValueDeprecation, oneOf).
const ALL_OPTIONS: &str = include_str!("../fixtures/introspection/graphql-js-all-options.graphql");
/// graphql-js 17.1.0 `getIntrospectionQuery()` with its defaults.
const DEFAULT_OPTIONS: &str = include_str!("../fixtures/introspection/graphql-js-default.graphql");
/// The query GraphiQL 5.4.0 sends, with both of its options on.
const GRAPHIQL: &str = include_str!("../fixtures/introspection/graphiql-5.4.0.graphql");

const SDL: &str = include_str!("../../schema.graphql");

/// Scalars every GraphQL schema has; SDL printers leave them out.
const BUILT_IN_SCALARS: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];

async fn introspect(app: &TestApp, query: &str) -> Value {
    let (status, body) = app.graphql(query, json!({}), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.get("errors").is_none(),
        "introspection refused: {body}"
    );
    body["data"]["__schema"].clone()
}

#[tokio::test]
async fn the_full_introspection_query_describes_exactly_schema_graphql() {
    let app = spawn_app().await;
    let started = Instant::now();
    let schema = introspect(&app, ALL_OPTIONS).await;
    eprintln!(
        "full introspection query answered in {:?}",
        started.elapsed()
    );
    assert_eq!(
        schema["description"].as_str().map(|d| !d.is_empty()),
        Some(true)
    );
    let (mut client, mut printed) = (from_introspection(&schema), from_sdl(SDL));
    let (client_custom, client_specified) = split_directives(&mut client);
    let (printed_custom, printed_specified) = split_directives(&mut printed);
    assert_eq!(client, printed, "types or root types differ");
    assert_eq!(client_custom, printed_custom, "directives differ");
    // The spec's own directives: SDL printers leave some out and print the
    // rest without argument descriptions; what they print is what is served.
    for (name, signature) in &printed_specified {
        assert_eq!(client_specified.get(name), Some(signature), "@{name}");
    }
}

/// The directives the GraphQL spec defines.
const SPECIFIED_DIRECTIVES: &[&str] = &["include", "skip", "deprecated", "specifiedBy", "oneOf"];

/// Takes the directives out of a description: the schema's own in full, and
/// the spec's by their signature (locations and argument types).
fn split_directives(described: &mut Value) -> (Map<String, Value>, Map<String, Value>) {
    let Value::Object(directives) = described["directives"].take() else {
        panic!("directives");
    };
    let (mut custom, mut specified) = (Map::new(), Map::new());
    for (name, directive) in directives {
        if SPECIFIED_DIRECTIVES.contains(&name.as_str()) {
            let args: Vec<Value> = directive["args"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|arg| json!([arg["name"], arg["type"]]))
                .collect();
            specified.insert(
                name,
                json!({"locations": directive["locations"], "args": args}),
            );
        } else {
            custom.insert(name, directive);
        }
    }
    (custom, specified)
}

#[tokio::test]
async fn graphiqls_and_the_default_introspection_queries_are_answered_too() {
    let app = spawn_app().await;
    let schema = introspect(&app, GRAPHIQL).await;
    assert!(schema["description"].is_string(), "{schema}");
    let schema = introspect(&app, DEFAULT_OPTIONS).await;
    // Neither asks for `specifiedByURL`.
    let without_urls = |mut described: Value| {
        for ty in described["types"]
            .as_object_mut()
            .expect("types")
            .values_mut()
        {
            ty["specifiedByURL"] = Value::Null;
        }
        described["types"].take()
    };
    assert_eq!(
        without_urls(from_introspection(&schema)),
        without_urls(from_sdl(SDL))
    );
}

#[tokio::test]
async fn introspection_is_answered_on_get_and_in_a_batch() {
    let app = spawn_app().await;
    let response = app.graphql_get(ALL_OPTIONS).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    let batch = [
        json!({"query": ALL_OPTIONS}),
        json!({"query": "{ me { id } }"}),
    ];
    let (_, body) = app.graphql_batch(&batch).await;
    assert!(body[0].get("errors").is_none(), "{body}");
    assert_eq!(body[1], json!({"data": {"me": null}}));
}

/// Refused: a GraphQL error with the request-error code, status 200 on the
/// `application/json` transport, and no data.
async fn assert_refused(app: &TestApp, label: &str, query: &str) {
    let started = Instant::now();
    let (status, body) = app.graphql(query, json!({}), None).await;
    let elapsed = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{label}: {body}");
    assert_eq!(gql_code(&body), "BAD_REQUEST", "{label}: {body}");
    assert!(body["data"].is_null(), "{label}: {body}");
    // The time is reported, not asserted: this machine is shared. The bound
    // is checked by `cargo bench -- introspection`.
    eprintln!("{label}: refused in {elapsed:?}");
}

#[tokio::test]
async fn introspection_past_every_standard_query_is_refused() {
    let app = spawn_app().await;
    let chain_60 = format!(
        "{{ __type(name: \"User\") {} name {} }}",
        "{ ofType ".repeat(60),
        "}".repeat(60)
    );
    assert_refused(&app, "ofType chain 60 deep", &chain_60).await;
    let chain_20 = format!(
        "{{ __type(name: \"User\") {} name {} }}",
        "{ ofType ".repeat(20),
        "}".repeat(20)
    );
    assert_refused(&app, "ofType chain 20 deep", &chain_20).await;
    let aliases: String = (0..300)
        .map(|i| format!("s{i}: __schema {{ __typename }} "))
        .collect();
    assert_refused(&app, "300 aliased __schema", &format!("{{ {aliases} }}")).await;
    let full_twice = ALL_OPTIONS.replacen(
        "__schema {",
        "again: __schema { types { ...FullType } } __schema {",
        1,
    );
    assert_refused(&app, "the full query with its types twice", &full_twice).await;
    // Through fragments the same bound holds.
    let spread: String = (0..300)
        .map(|i| format!("s{i}: __schema {{ __typename }} "))
        .collect();
    let via_fragment = format!("{{ ...F }} fragment F on Query {{ {spread} }}");
    assert_refused(&app, "300 aliases in a fragment", &via_fragment).await;
}

#[tokio::test]
async fn operations_keep_their_own_limits() {
    let app = spawn_app().await;
    // Mixing an ordinary field into the introspection query puts the whole
    // operation under the operation limits (depth 10, complexity 100).
    let mixed = ALL_OPTIONS.replacen("__schema {", "me { id } __schema {", 1);
    let (_, body) = app.graphql(&mixed, json!({}), None).await;
    assert_eq!(gql_code(&body), "BAD_REQUEST", "{body}");
    let wide: String = (0..101).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let (_, body) = app.graphql(&format!("{{ {wide} }}"), json!({}), None).await;
    assert_eq!(gql_code(&body), "BAD_REQUEST", "{body}");
    // A mutation is never introspection, even when it asks only `__typename`.
    let (_, body) = app
        .graphql("mutation { __typename }", json!({}), None)
        .await;
    assert_eq!(body, json!({"data": {"__typename": "Mutation"}}));
}

#[tokio::test]
async fn introspection_switched_off_answers_null() {
    let app = spawn_app_with(&["--graphql-introspection", "false"]).await;
    let (status, body) = app.graphql(ALL_OPTIONS, json!({}), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["data"]["__schema"].is_null(), "{body}");
}

// ---------------------------------------------------------------------------
// Both sides become the same plain description: types by name, fields and
// arguments in order, directives by name. Built-in scalars and `__` types are
// left out on both, as SDL printers do.

fn from_introspection(schema: &Value) -> Value {
    let mut types = Map::new();
    for ty in schema["types"].as_array().expect("types") {
        let name = ty["name"].as_str().expect("type name");
        if name.starts_with("__") || BUILT_IN_SCALARS.contains(&name) {
            continue;
        }
        let mut described = Map::new();
        described.insert("kind".into(), ty["kind"].clone());
        described.insert("description".into(), ty["description"].clone());
        described.insert("specifiedByURL".into(), ty["specifiedByURL"].clone());
        described.insert(
            "isOneOf".into(),
            Value::Bool(ty["isOneOf"].as_bool().unwrap_or(false)),
        );
        let fields: Vec<Value> = ty["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|field| {
                json!({
                    "name": field["name"],
                    "description": field["description"],
                    "args": input_values(&field["args"]),
                    "type": type_ref(&field["type"]),
                    "deprecated": deprecation(field),
                })
            })
            .collect();
        described.insert("fields".into(), Value::Array(fields));
        described.insert(
            "inputFields".into(),
            Value::Array(input_values(&ty["inputFields"])),
        );
        described.insert("interfaces".into(), sorted_names(&ty["interfaces"]));
        described.insert("possibleTypes".into(), sorted_names(&ty["possibleTypes"]));
        let values: Vec<Value> = ty["enumValues"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|value| {
                json!({
                    "name": value["name"],
                    "description": value["description"],
                    "deprecated": deprecation(value),
                })
            })
            .collect();
        described.insert("enumValues".into(), Value::Array(values));
        types.insert(name.to_owned(), Value::Object(described));
    }
    let mut directives = Map::new();
    for directive in schema["directives"].as_array().expect("directives") {
        let mut locations: Vec<String> = directive["locations"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| l.as_str().expect("location").to_owned())
            .collect();
        locations.sort();
        directives.insert(
            directive["name"]
                .as_str()
                .expect("directive name")
                .to_owned(),
            json!({
                "description": directive["description"],
                "locations": locations,
                "args": input_values(&directive["args"]),
                "isRepeatable": directive["isRepeatable"].as_bool().unwrap_or(false),
            }),
        );
    }
    json!({
        "query": schema["queryType"]["name"],
        "mutation": schema["mutationType"]["name"],
        "subscription": schema["subscriptionType"]["name"],
        "types": types,
        "directives": directives,
    })
}

fn input_values(values: &Value) -> Vec<Value> {
    values
        .as_array()
        .into_iter()
        .flatten()
        .map(|value| {
            json!({
                "name": value["name"],
                "description": value["description"],
                "type": type_ref(&value["type"]),
                "defaultValue": value["defaultValue"],
                "deprecated": deprecation(value),
            })
        })
        .collect()
}

/// `[String!]!`-style text of an introspection type reference.
fn type_ref(ty: &Value) -> String {
    match ty["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_ref(&ty["ofType"])),
        Some("LIST") => format!("[{}]", type_ref(&ty["ofType"])),
        _ => ty["name"].as_str().expect("named type").to_owned(),
    }
}

fn deprecation(item: &Value) -> Value {
    if item["isDeprecated"].as_bool().unwrap_or(false) {
        item["deprecationReason"].clone()
    } else {
        Value::Bool(false)
    }
}

fn sorted_names(list: &Value) -> Value {
    let mut names: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|ty| ty["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    json!(names)
}

fn from_sdl(sdl: &str) -> Value {
    let document = parse_schema(sdl).expect("schema.graphql parses");
    let mut types = Map::new();
    let mut directives = Map::new();
    let mut roots = (Value::Null, Value::Null, Value::Null);
    // Possible types of an interface or union, gathered from the objects.
    let mut possible: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for definition in &document.definitions {
        match definition {
            TypeSystemDefinition::Schema(schema) => {
                let name = |n: &Option<async_graphql::Positioned<async_graphql::Name>>| {
                    n.as_ref().map_or(Value::Null, |n| json!(n.node.as_str()))
                };
                roots = (
                    name(&schema.node.query),
                    name(&schema.node.mutation),
                    name(&schema.node.subscription),
                );
            }
            TypeSystemDefinition::Type(ty) => {
                let ty = &ty.node;
                let name = ty.name.node.to_string();
                let directives = &ty.directives;
                let (kind, fields, input_fields, interfaces, enum_values) = match &ty.kind {
                    TypeKind::Scalar => ("SCALAR", vec![], vec![], vec![], vec![]),
                    TypeKind::Object(object) => {
                        for interface in &object.implements {
                            possible
                                .entry(interface.node.to_string())
                                .or_default()
                                .push(name.clone());
                        }
                        (
                            "OBJECT",
                            sdl_fields(&object.fields),
                            vec![],
                            names(&object.implements),
                            vec![],
                        )
                    }
                    TypeKind::Interface(interface) => (
                        "INTERFACE",
                        sdl_fields(&interface.fields),
                        vec![],
                        names(&interface.implements),
                        vec![],
                    ),
                    TypeKind::Union(union) => {
                        possible.insert(name.clone(), names(&union.members));
                        ("UNION", vec![], vec![], vec![], vec![])
                    }
                    TypeKind::Enum(enumeration) => {
                        let values = enumeration
                            .values
                            .iter()
                            .map(|value| {
                                json!({
                                    "name": value.node.value.node.as_str(),
                                    "description": description(&value.node.description),
                                    "deprecated": sdl_deprecation(&value.node.directives),
                                })
                            })
                            .collect();
                        ("ENUM", vec![], vec![], vec![], values)
                    }
                    TypeKind::InputObject(input) => (
                        "INPUT_OBJECT",
                        vec![],
                        sdl_input_values(&input.fields),
                        vec![],
                        vec![],
                    ),
                };
                let specified_by = directive(directives, "specifiedBy")
                    .and_then(|d| d.get_argument("url"))
                    .map_or(Value::Null, |url| match &url.node {
                        async_graphql::Value::String(url) => json!(url),
                        other => json!(other.to_string()),
                    });
                let mut interfaces = interfaces;
                interfaces.sort();
                types.insert(
                    name,
                    json!({
                        "kind": kind,
                        "description": description(&ty.description),
                        "specifiedByURL": specified_by,
                        "isOneOf": directive(directives, "oneOf").is_some(),
                        "fields": fields,
                        "inputFields": input_fields,
                        "interfaces": interfaces,
                        "possibleTypes": [],
                        "enumValues": enum_values,
                    }),
                );
            }
            TypeSystemDefinition::Directive(directive) => {
                let directive = &directive.node;
                let mut locations: Vec<String> = directive
                    .locations
                    .iter()
                    .map(|l| screaming_snake(&format!("{:?}", l.node)))
                    .collect();
                locations.sort();
                directives.insert(
                    directive.name.node.to_string(),
                    json!({
                        "description": description(&directive.description),
                        "locations": locations,
                        "args": sdl_input_values(&directive.arguments),
                        "isRepeatable": directive.is_repeatable,
                    }),
                );
            }
        }
    }
    for (name, mut members) in possible {
        members.sort();
        if let Some(ty) = types.get_mut(&name) {
            ty["possibleTypes"] = json!(members);
        }
    }
    json!({
        "query": roots.0,
        "mutation": roots.1,
        "subscription": roots.2,
        "types": types,
        "directives": directives,
    })
}

fn sdl_fields(
    fields: &[async_graphql::Positioned<async_graphql::parser::types::FieldDefinition>],
) -> Vec<Value> {
    fields
        .iter()
        .map(|field| {
            let field = &field.node;
            json!({
                "name": field.name.node.as_str(),
                "description": description(&field.description),
                "args": sdl_input_values(&field.arguments),
                "type": field.ty.node.to_string(),
                "deprecated": sdl_deprecation(&field.directives),
            })
        })
        .collect()
}

fn sdl_input_values(values: &[async_graphql::Positioned<InputValueDefinition>]) -> Vec<Value> {
    values
        .iter()
        .map(|value| {
            let value = &value.node;
            json!({
                "name": value.name.node.as_str(),
                "description": description(&value.description),
                "type": value.ty.node.to_string(),
                "defaultValue": value.default_value.as_ref().map(|v| v.node.to_string()),
                "deprecated": sdl_deprecation(&value.directives),
            })
        })
        .collect()
}

fn description(text: &Option<async_graphql::Positioned<String>>) -> Value {
    text.as_ref().map_or(Value::Null, |d| json!(d.node))
}

fn names(list: &[async_graphql::Positioned<async_graphql::Name>]) -> Vec<String> {
    list.iter().map(|n| n.node.to_string()).collect()
}

fn directive<'a>(
    directives: &'a [async_graphql::Positioned<ConstDirective>],
    name: &str,
) -> Option<&'a ConstDirective> {
    directives
        .iter()
        .map(|d| &d.node)
        .find(|d| d.name.node.as_str() == name)
}

/// `@deprecated(reason: …)` as introspection reports it: the reason, or
/// the spec's default reason, or `false` when not deprecated.
fn sdl_deprecation(directives: &[async_graphql::Positioned<ConstDirective>]) -> Value {
    match directive(directives, "deprecated") {
        None => Value::Bool(false),
        Some(deprecated) => match deprecated.get_argument("reason").map(|r| &r.node) {
            Some(async_graphql::Value::String(reason)) => json!(reason),
            _ => json!("No longer supported"),
        },
    }
}

/// `FragmentSpread` → `FRAGMENT_SPREAD`, as introspection names locations.
fn screaming_snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}
