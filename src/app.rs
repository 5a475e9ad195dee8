//! Wiring: connect the database, apply migrations, build the account service,
//! the schema and the router, then serve until SIGINT/SIGTERM.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::accounts::{Accounts, HashPool};
use crate::config::{DatabaseArgs, ServeArgs};
use crate::graphql::build_schema;
use crate::http::{AppState, HttpConfig, router};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the connection pool. This is the only place that knows the backend:
/// PostgreSQL gets a statement timeout; SQLite gets WAL (readers never wait for the
/// writer), foreign keys on, and `synchronous=NORMAL`: in WAL mode a commit
/// survives a crash or `kill -9` of the process; only an OS crash or power
/// loss can take back the last commits.
pub async fn connect(args: &DatabaseArgs) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(args.url().expose_secret().to_owned());
    let statement_timeout_ms = args.db_statement_timeout.as_millis().to_string();
    options
        .max_connections(args.db_max_connections)
        .acquire_timeout(args.db_acquire_timeout)
        .connect_timeout(args.db_acquire_timeout)
        // sqlx would log every statement; requests are logged once by the HTTP layer.
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        })
        .map_sqlx_postgres_opts(move |opts| {
            opts.options([("statement_timeout", statement_timeout_ms.as_str())])
        });
    Database::connect(options).await
}

/// A server bound to its address, ready to run.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    shutdown_grace: Duration,
}

impl Application {
    /// Connects, migrates and binds. `--bind 127.0.0.1:0` picks a free port.
    pub async fn build(args: &ServeArgs) -> Result<Self, BoxError> {
        let db = connect(&args.database).await?;
        Migrator::up(&db, None).await?;
        let hash_pool = HashPool::new(args.hashing())?;
        let accounts = Arc::new(Accounts::new(
            db,
            hash_pool,
            args.accounts(),
            args.client_limits(),
        ));
        spawn_limiter_housekeeping(Arc::downgrade(&accounts));
        let schema = build_schema(Arc::clone(&accounts), args.schema_limits());
        let state = AppState {
            schema,
            accounts,
            body_limit: args.body_limit,
            playground: args.graphql_playground,
            trusted_proxies: Arc::new(args.trusted_proxy.clone()),
        };
        let cors_origins = args
            .cors_origins
            .iter()
            .filter(|origin| !origin.trim().is_empty())
            .map(|origin| HeaderValue::from_str(origin))
            .collect::<Result<Vec<_>, _>>()?;
        let router = router(state, &HttpConfig { cors_origins });
        let listener = TcpListener::bind(args.bind).await?;
        Ok(Self {
            listener,
            router,
            shutdown_grace: args.shutdown_grace,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight
    /// requests finish (at most the grace period), and returns.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), BoxError> {
        let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(self.listener, service).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: draining in-flight requests");
            let _ = stopping_tx.send(true);
        });
        let grace = self.shutdown_grace;
        let deadline = async move {
            let _ = stopping_rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = server => result?,
            () = deadline => tracing::warn!("shutdown grace period over; dropping open connections"),
        }
        Ok(())
    }
}

/// Every minute, forget rate-limiter entries of clients that went quiet, so
/// its memory follows the number of active clients. Ends with the service.
fn spawn_limiter_housekeeping(accounts: std::sync::Weak<Accounts>) {
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            match accounts.upgrade() {
                Some(accounts) => accounts.forget_idle_clients(),
                None => return,
            }
        }
    });
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
