//! Wiring: connect the database, apply migrations, build the account service,
//! the schema and the router, then serve until SIGINT/SIGTERM.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::HeaderValue;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use migration::{Migrator, MigratorTrait};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::accounts::{Accounts, HashPool};
use crate::config::ServeArgs;
use crate::db::connect_pools;
use crate::graphql::build_schema;
use crate::http::{AppState, HttpConfig, metrics_router, router};
use crate::metrics::Metrics;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Limits on what one connection may send before a request reaches a handler.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    header_timeout: Duration,
    max_header_bytes: usize,
    max_headers: usize,
}

/// Everything a server serves, without the socket: the router, and the
/// account service behind it (benchmarks drive these directly).
pub struct Services {
    pub router: axum::Router,
    pub accounts: Arc<Accounts>,
    /// The router of `--metrics-bind`'s listener, when it has one.
    pub metrics_router: Option<axum::Router>,
}

impl Services {
    /// Connects, migrates, and builds the account service, schema and router.
    pub async fn build(args: &ServeArgs) -> Result<Self, BoxError> {
        let pools = connect_pools(&args.database).await?;
        Migrator::up(&pools.writer, None).await?;
        let metrics = if args.metrics.is_on() {
            Metrics::recording()
        } else {
            Metrics::off()
        };
        let hash_pool = HashPool::new(args.hashing(), metrics.hashing())?;
        let accounts = Arc::new(Accounts::new(
            pools.reader,
            pools.writer,
            hash_pool,
            args.accounts(),
            args.client_limits(),
            metrics.clone(),
        ));
        spawn_housekeeping(Arc::downgrade(&accounts), metrics.clone());
        let schemas = build_schema(Arc::clone(&accounts), args.schema_limits());
        let state = AppState {
            schemas,
            accounts: Arc::clone(&accounts),
            body_limit: args.body_limit,
            playground: args.graphql_playground.is_on(),
            trusted_proxies: Arc::new(args.trusted_proxy.clone()),
            metrics: metrics.clone(),
        };
        let cors_origins = args
            .cors_origins
            .iter()
            .map(|origin| HeaderValue::from_str(origin))
            .collect::<Result<Vec<_>, _>>()?;
        let own_listener = metrics.is_on() && args.metrics_bind.is_some();
        let http_config = HttpConfig {
            cors_origins,
            request_timeout: args.request_timeout,
            body_timeout: args.body_timeout,
            metrics_route: metrics.is_on() && !own_listener,
        };
        Ok(Self {
            metrics_router: own_listener.then(|| metrics_router(state.clone())),
            router: router(state, &http_config),
            accounts,
        })
    }
}

/// A server bound to its address, ready to run.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    /// `--metrics-bind`: the metrics' own listener and router.
    metrics: Option<(TcpListener, axum::Router)>,
    limits: ConnectionLimits,
    shutdown_grace: Duration,
    /// Kept to write out its queued audit events when the server stops.
    accounts: Arc<Accounts>,
}

impl Application {
    /// Connects, migrates and binds. `--bind 127.0.0.1:0` picks a free port
    /// (and so does `--metrics-bind 127.0.0.1:0`).
    pub async fn build(args: &ServeArgs) -> Result<Self, BoxError> {
        let Services {
            router,
            metrics_router,
            accounts,
        } = Services::build(args).await?;
        let listener = TcpListener::bind(args.bind).await?;
        let metrics = match (metrics_router, args.metrics_bind) {
            (Some(router), Some(address)) => Some((TcpListener::bind(address).await?, router)),
            _ => None,
        };
        Ok(Self {
            listener,
            router,
            metrics,
            limits: ConnectionLimits {
                header_timeout: args.header_timeout,
                max_header_bytes: args.max_header_bytes as usize,
                max_headers: args.max_headers as usize,
            },
            shutdown_grace: args.shutdown_grace,
            accounts,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address of the metrics' own listener, with `--metrics-bind`.
    pub fn metrics_addr(&self) -> Option<std::io::Result<SocketAddr>> {
        self.metrics
            .as_ref()
            .map(|(listener, _)| listener.local_addr())
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight
    /// requests finish (at most the grace period), and returns. The metrics'
    /// own listener, if any, is served the same way beside the main one.
    ///
    /// hyper is driven directly rather than through `axum::serve` because
    /// the head of a request needs limits `axum::serve` does not expose: a
    /// read timeout (slow-loris clients), a size and a field count (431).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), BoxError> {
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_timeout)
            .max_buf_size(self.limits.max_header_bytes)
            .max_headers(self.limits.max_headers);
        let graceful = GracefulShutdown::new();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        {
            let main = accept(
                self.listener,
                self.router,
                &http,
                &graceful,
                stopped.clone(),
            );
            let metrics = async {
                if let Some((listener, router)) = self.metrics {
                    accept(listener, router, &http, &graceful, stopped).await;
                }
            };
            let serving = async {
                tokio::join!(main, metrics);
            };
            tokio::pin!(serving);
            tokio::select! {
                () = shutdown => {}
                () = &mut serving => {}
            }
            let _ = stop.send(true);
            serving.await;
        }
        tracing::info!("shutting down: draining in-flight requests");
        // One grace period for both the requests and the audit events.
        let deadline = tokio::time::Instant::now() + self.shutdown_grace;
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep_until(deadline) => {
                tracing::warn!("shutdown grace period over; dropping open connections");
            }
        }
        // The failed logins answered last have their events still queued.
        if tokio::time::timeout_at(deadline, self.accounts.flush_audit())
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period over; queued audit events not written");
        }
        Ok(())
    }
}

/// Accepts connections on `listener` and serves `router` on each, until
/// `stopped` turns true; then the listener is closed, and the connections
/// already open are left to `graceful`.
async fn accept(
    listener: TcpListener,
    router: axum::Router,
    http: &hyper::server::conn::http1::Builder,
    graceful: &GracefulShutdown,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            // Only `true` is ever sent: any change is the stop.
            _ = stopped.changed() => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(request)
            },
        );
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Client resets and timeouts end connections; nothing to report.
            let _ = connection.await;
        });
    }
}

/// Every five seconds, fold the metrics' histogram samples into their
/// buckets (so that memory does not grow between scrapes); every minute,
/// forget rate-limiter entries of clients that went quiet, so its memory
/// follows the number of active clients; every ten minutes, delete expired
/// sessions (they are already refused; this only reclaims the rows), count
/// the live ones, and delete audit events past `--audit-retention`. Ends
/// with the service.
fn spawn_housekeeping(accounts: std::sync::Weak<Accounts>, metrics: Metrics) {
    const TICK: Duration = Duration::from_secs(5);
    const TICKS_A_MINUTE: u64 = 12;
    tokio::spawn(async move {
        let mut every_tick = tokio::time::interval(TICK);
        for tick in 0u64.. {
            every_tick.tick().await;
            let Some(accounts) = accounts.upgrade() else {
                return;
            };
            metrics.upkeep();
            if tick % TICKS_A_MINUTE != 0 {
                continue;
            }
            accounts.forget_idle_clients();
            if tick % (10 * TICKS_A_MINUTE) == 0 {
                if let Err(err) = accounts.delete_expired_sessions().await {
                    err.log_if_internal();
                }
                if let Err(err) = accounts.delete_old_audit_events().await {
                    err.log_if_internal();
                }
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
