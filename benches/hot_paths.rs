//! Criterion benchmarks of the hot paths (`cargo bench`): argon2 hash and
//! verify at the server's default parameters; token issue and check; and one
//! logout done four ways — the account service called directly, the GraphQL
//! mutation on the schema, POST /graphql through the HTTP stack, and the REST
//! route through the HTTP stack — so the cost of the REST-over-GraphQL
//! adapter is a measured number. Everything runs on a real SQLite file.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use chrono::Utc;
use clap::Parser;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gatehouse::accounts::{Accounts, Caller, Credentials, HashPool, HashingConfig, RegisterInput};
use gatehouse::app::Services;
use gatehouse::config::Cli;
use gatehouse::domain::SessionToken;
use gatehouse::entities::sessions;
use gatehouse::graphql::{SchemaLimits, build_schema};
use sea_orm::{ActiveModelTrait, Set};
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
        let user = services.accounts.register(input, &caller).await.unwrap();
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
    let pool = HashPool::new(config).unwrap();
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
        b.to_async(&runtime)
            .iter(|| pool.verify(SecretString::from(PASSWORD), stored.clone()))
    });
    group.finish();
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

fn logout(c: &mut Criterion) {
    let fixture = fixture();
    let accounts = Arc::clone(&fixture.services.accounts);
    let schema = build_schema(Arc::clone(&accounts), SchemaLimits::default());
    let router = fixture.services.router.clone();
    let user_id = fixture.user_id;
    let runtime = &fixture.runtime;
    let new_session = || runtime.block_on(session(&accounts, user_id));

    let mut group = c.benchmark_group("logout");
    group.bench_function("service", |b| {
        b.to_async(runtime).iter_batched(
            new_session,
            |token| {
                let accounts = Arc::clone(&accounts);
                async move {
                    let caller = Caller::new(Credentials::Bearer(token), None);
                    accounts
                        .logout(&user_id.to_string(), &caller)
                        .await
                        .unwrap()
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("graphql schema", |b| {
        b.to_async(runtime).iter_batched(
            new_session,
            |token| {
                let schema = schema.clone();
                async move {
                    let request = async_graphql::Request::new(LOGOUT)
                        .variables(async_graphql::Variables::from_json(
                            serde_json::json!({ "id": user_id.to_string() }),
                        ))
                        .data(Arc::new(Caller::new(Credentials::Bearer(token), None)));
                    let response = schema.execute(request).await;
                    assert!(response.errors.is_empty());
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("POST /graphql (HTTP stack)", |b| {
        b.to_async(runtime).iter_batched(
            new_session,
            |token| {
                let router = router.clone();
                async move {
                    let body = serde_json::json!({ "query": LOGOUT, "variables": { "id": user_id.to_string() } });
                    let request = Request::post("/graphql")
                        .header("content-type", "application/json")
                        .header("authorization", format!("Bearer {token}"))
                        .body(Body::from(body.to_string()))
                        .unwrap();
                    let response = router.oneshot(request).await.unwrap();
                    assert!(response.status().is_success());
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("POST /user/logout/{id}/ (HTTP stack)", |b| {
        b.to_async(runtime).iter_batched(
            new_session,
            |token| {
                let router = router.clone();
                async move {
                    let request = Request::post(format!("/user/logout/{user_id}/"))
                        .header("authorization", format!("Bearer {token}"))
                        .body(Body::empty())
                        .unwrap();
                    let response = router.oneshot(request).await.unwrap();
                    assert!(response.status().is_success());
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, hashing, tokens, logout);
criterion_main!(benches);
