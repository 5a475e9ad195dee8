//! Criterion benchmarks of the hot paths (`cargo bench`): argon2 hash and
//! verify at the server's default parameters; token issue and check; and one
//! logout done four ways — the account service called directly, the GraphQL
//! mutation on the schema, POST /graphql through the HTTP stack, and the REST
//! route through the HTTP stack — so the cost of the REST-over-GraphQL
//! adapter is a measured number; and introspection, answered and refused.
//! Everything runs on a real SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up step should stop it loudly

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use chrono::Utc;
use clap::Parser;
use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse::accounts::{Accounts, Caller, Credentials, HashPool, HashingConfig, RegisterInput};
use gatehouse::app::Services;
use gatehouse::config::Cli;
use gatehouse::domain::SessionToken;
use gatehouse::entities::sessions;
use gatehouse::graphql::{SchemaLimits, build_schema};
use std::time::Instant;

use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use secrecy::SecretString;
use tower::ServiceExt;
use uuid::Uuid;

const PASSWORD: &str = "Vq7#kPz!rw";
const LOGOUT: &str = "mutation($id: ID!) { logout(userId: $id) { userId sessionsRevoked } }";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    services: Services,
    user_id: Uuid,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let cli = Cli::try_parse_from([
        "gatehouse",
        "--database-url",
        &url,
        "--rate-limit",
        "off",
        "--login-throttle",
        "off",
        "--log-level",
        "off",
    ])
    .unwrap();
    let (services, user_id) = runtime.block_on(async {
        let services = Services::build(&cli.serve).await.unwrap();
        let input = RegisterInput {
            username: "bench".into(),
            email: "bench@example.com".into(),
            password: SecretString::from(PASSWORD),
        };
        let caller = Caller::new(Credentials::Missing, None);
        let user = services
            .accounts
            .register(input, &caller)
            .await
            .outcome
            .unwrap();
        (services, user.id)
    });
    Fixture {
        runtime,
        services,
        user_id,
        _dir: dir,
    }
}

/// A live session of the bench user, written straight into the database so
/// that setting up each logout costs no password hash.
async fn session(accounts: &Accounts, user_id: Uuid) -> String {
    let token = SessionToken::generate().unwrap();
    let now = Utc::now();
    sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        token_hash: Set(token.hash().0.to_vec()),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::days(1)),
        ..Default::default()
    }
    .insert(accounts.db())
    .await
    .unwrap();
    token.expose().to_owned()
}

fn hashing(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = HashingConfig {
        workers: 1,
        ..HashingConfig::default()
    };
    let pool = HashPool::new(config, Default::default()).unwrap();
    let stored = runtime
        .block_on(pool.hash(SecretString::from(PASSWORD)))
        .unwrap();
    let mut group = c.benchmark_group("argon2id m=19456 t=2 p=1");
    group.sample_size(30);
    group.bench_function("hash", |b| {
        b.to_async(&runtime)
            .iter(|| pool.hash(SecretString::from(PASSWORD)))
    });
    group.bench_function("verify", |b| {
        b.to_async(&runtime).iter(|| {
            pool.verify(
                SecretString::from(PASSWORD),
                SecretString::from(PASSWORD),
                stored.clone(),
            )
        })
    });
    group.finish();

    // A first login of an imported account: the Django hash checked, then
    // replaced by argon2id of the configured cost. One account per format of
    // the fixture Django 5.2 made.
    let mut group = c.benchmark_group("django hash, verified then rehashed");
    group.sample_size(10);
    for (format, stored, password) in django_fixture_hashes() {
        group.bench_function(format, |b| {
            b.to_async(&runtime).iter(|| {
                let password = || SecretString::from(password.as_str());
                pool.verify(password(), password(), stored.clone())
            })
        });
    }
    group.finish();
}

/// (format label, stored hash, password) for the first account of each
/// hasher in tests/fixtures/django.
fn django_fixture_hashes() -> Vec<(String, String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/django");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{name}")).unwrap()).unwrap()
    };
    let (dump, manifest) = (read("dumpdata.json"), read("manifest.json"));
    let mut seen = Vec::new();
    for account in manifest["accounts"].as_array().unwrap() {
        let label = account["hasher"].as_str().unwrap().to_owned();
        if account["expect"] != "login" || seen.iter().any(|(l, _, _)| *l == label) {
            continue;
        }
        let row = dump
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["pk"] == account["id"])
            .unwrap();
        let stored = row["fields"]["password"].as_str().unwrap().to_owned();
        seen.push((
            label,
            stored,
            account["password"].as_str().unwrap().to_owned(),
        ));
    }
    seen
}

fn tokens(c: &mut Criterion) {
    let fixture = fixture();
    let accounts = Arc::clone(&fixture.services.accounts);
    let token = fixture
        .runtime
        .block_on(session(&accounts, fixture.user_id));
    let mut group = c.benchmark_group("token");
    group.bench_function("issue (CSPRNG + checksum + SHA-256)", |b| {
        b.iter(|| SessionToken::generate().unwrap().hash())
    });
    group.bench_function("check format (no database)", |b| {
        b.iter(|| SessionToken::parse(&token).unwrap().hash())
    });
    group.bench_function("authenticate (database)", |b| {
        let credentials = Credentials::Bearer(token.clone());
        b.to_async(&fixture.runtime)
            .iter(|| accounts.authenticate(&credentials))
    });
    group.finish();
}

/// `count` live sessions of the bench user, written in one statement.
async fn sessions_for(accounts: &Accounts, user_id: Uuid, count: u64) -> Vec<String> {
    let now = Utc::now();
    let mut tokens = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..count {
        let token = SessionToken::generate().unwrap();
        rows.push(sessions::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            token_hash: Set(token.hash().0.to_vec()),
            created_at: Set(now),
            expires_at: Set(now + chrono::Duration::days(1)),
            ..Default::default()
        });
        tokens.push(token.expose().to_owned());
    }
    for chunk in rows.chunks(2000) {
        sessions::Entity::insert_many(chunk.to_vec())
            .exec(accounts.db())
            .await
            .unwrap();
    }
    tokens
}

/// Times `logout_one` over `iters` fresh sessions; creating them is not timed.
macro_rules! time_logouts {
    ($accounts:expr, $user_id:expr, $iters:expr, |$token:ident| $logout_one:expr) => {{
        let tokens = sessions_for(&$accounts, $user_id, $iters).await;
        let started = Instant::now();
        for $token in tokens {
            $logout_one;
        }
        started.elapsed()
    }};
}

fn logout(c: &mut Criterion) {
    let fixture = fixture();
    let accounts = Arc::clone(&fixture.services.accounts);
    let schema = build_schema(Arc::clone(&accounts), SchemaLimits::default());
    let router = fixture.services.router.clone();
    let user_id = fixture.user_id;
    let runtime = &fixture.runtime;

    let mut group = c.benchmark_group("logout");
    group.bench_function("service", |b| {
        b.to_async(runtime).iter_custom(|iters| {
            let accounts = Arc::clone(&accounts);
            async move {
                time_logouts!(accounts, user_id, iters, |token| {
                    let caller = Caller::new(Credentials::Bearer(token), None);
                    accounts
                        .logout(&user_id.to_string(), &caller)
                        .await
                        .unwrap();
                })
            }
        })
    });
    group.bench_function("graphql schema", |b| {
        b.to_async(runtime).iter_custom(|iters| {
            let (accounts, schema) = (Arc::clone(&accounts), schema.clone());
            async move {
                time_logouts!(accounts, user_id, iters, |token| {
                    let request = async_graphql::Request::new(LOGOUT)
                        .variables(async_graphql::Variables::from_json(
                            serde_json::json!({ "id": user_id.to_string() }),
                        ))
                        .data(Arc::new(Caller::new(Credentials::Bearer(token), None)));
                    let response = schema.execute(request).await;
                    assert!(response.errors.is_empty());
                })
            }
        })
    });
    group.bench_function("POST /graphql (HTTP stack)", |b| {
        b.to_async(runtime).iter_custom(|iters| {
            let (accounts, router) = (Arc::clone(&accounts), router.clone());
            async move {
                time_logouts!(accounts, user_id, iters, |token| {
                    let body = serde_json::json!({ "query": LOGOUT, "variables": { "id": user_id.to_string() } });
                    let request = Request::post("/graphql")
                        .header("content-type", "application/json")
                        .header("authorization", format!("Bearer {token}"))
                        .body(Body::from(body.to_string()))
                        .unwrap();
                    let response = router.clone().oneshot(request).await.unwrap();
                    assert!(response.status().is_success());
                })
            }
        })
    });
    group.bench_function("POST /user/logout/{id}/ (HTTP stack)", |b| {
        b.to_async(runtime).iter_custom(|iters| {
            let (accounts, router) = (Arc::clone(&accounts), router.clone());
            async move {
                time_logouts!(accounts, user_id, iters, |token| {
                    let request = Request::post(format!("/user/logout/{user_id}/"))
                        .header("authorization", format!("Bearer {token}"))
                        .body(Body::empty())
                        .unwrap();
                    let response = router.clone().oneshot(request).await.unwrap();
                    assert!(response.status().is_success());
                })
            }
        })
    });
    group.finish();
}

/// POST /graphql through the HTTP stack: graphql-js's full introspection
/// query (every option on), and the hostile introspection documents that the
/// introspection bound refuses (each must be refused well under 100 ms).
fn introspection(c: &mut Criterion) {
    let fixture = fixture();
    let router = fixture.services.router.clone();
    let full = include_str!("../tests/fixtures/introspection/graphql-js-all-options.graphql");
    let chain = format!(
        "{{ __type(name: \"User\") {} name {} }}",
        "{ ofType ".repeat(60),
        "}".repeat(60)
    );
    let aliases: String = (0..300)
        .map(|i| format!("s{i}: __schema {{ __typename }} "))
        .collect();
    let aliases = format!("{{ {aliases} }}");
    let mut group = c.benchmark_group("introspection");
    for (name, query, answered) in [
        ("full query (graphql-js, every option)", full, true),
        ("refused: ofType chain 60 deep", chain.as_str(), false),
        ("refused: 300 aliased __schema", aliases.as_str(), false),
    ] {
        let body = serde_json::json!({ "query": query }).to_string();
        group.bench_function(name, |b| {
            b.to_async(&fixture.runtime).iter(|| {
                let (router, body) = (router.clone(), body.clone());
                async move {
                    let request = Request::post("/graphql")
                        .header("content-type", "application/json")
                        .body(Body::from(body))
                        .unwrap();
                    let response = router.oneshot(request).await.unwrap();
                    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                        .await
                        .unwrap();
                    let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                    assert_eq!(answer.get("errors").is_none(), answered, "{answer}");
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, hashing, tokens, logout, introspection);
criterion_main!(benches);
