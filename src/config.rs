//! Command line and environment: every setting is a flag with a matching
//! `GATEHOUSE_*` variable (SPEC §2).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ipnet::IpNet;
use secrecy::SecretString;

use crate::accounts::{AccountsConfig, ClientLimits, HashingConfig, LoginThrottle};
use crate::domain::PasswordPolicy;
use crate::graphql::SchemaLimits;

mod admin;
mod import;
mod parse;
pub use admin::{AuditArgs, SessionsAction, SessionsArgs, Target, UsersAction, UsersArgs};
pub use import::{DjangoImportArgs, ImportArgs, ImportFrom};
use parse::{parse_cidr, parse_origin, parse_retention, parse_session_ttl};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://gatehouse.db?mode=rwc";

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "User-account service: register, log in, log out over GraphQL and the legacy REST paths"
)]
#[command(args_conflicts_with_subcommands = true, args_override_self = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// `serve` settings, accepted without the subcommand too.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve(Box<ServeArgs>),
    /// Apply pending migrations, or show their status.
    Migrate(MigrateArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Import accounts from another system (`import django SOURCE`).
    Import(ImportArgs),
    /// List, show, disable, enable or delete accounts.
    Users(UsersArgs),
    /// End an account's sessions.
    Sessions(SessionsArgs),
    /// Read the audit trail, newest first.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// What to do.
    #[arg(value_enum, default_value_t = MigrateAction::Apply)]
    pub action: MigrateAction,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MigrateAction {
    /// Apply every pending migration (the default).
    Apply,
    /// List migrations and whether each is applied.
    Status,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://USER:PASS@HOST/DB`.
    /// `DATABASE_URL` is read when `GATEHOUSE_DATABASE_URL` is unset.
    #[arg(long, env = "GATEHOUSE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// Most connections the pool opens.
    #[arg(long, env = "GATEHOUSE_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// How long a request waits for a pooled connection before it fails with 503.
    #[arg(long, env = "GATEHOUSE_DB_ACQUIRE_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub db_acquire_timeout: Duration,

    /// Longest a single SQL statement may run (PostgreSQL `statement_timeout`;
    /// SQLite has no such setting and waits at most 5 s for a lock instead).
    #[arg(long, env = "GATEHOUSE_DB_STATEMENT_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub db_statement_timeout: Duration,
}

impl DatabaseArgs {
    /// The URL in force: the flag, `GATEHOUSE_DATABASE_URL`, `DATABASE_URL`,
    /// then `gatehouse.db` in the working directory.
    pub fn url(&self) -> SecretString {
        self.database_url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok().map(SecretString::from))
            .unwrap_or_else(|| SecretString::from(DEFAULT_DATABASE_URL))
    }
}

/// Every on/off setting: `--name on` or `--name off`, and a bare `--name`
/// means `on`. `true`/`false` (and `yes`/`no`, `1`/`0`) are accepted too,
/// so the spellings of earlier versions keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    #[value(alias = "true", alias = "yes", alias = "1")]
    On,
    #[value(alias = "false", alias = "no", alias = "0")]
    Off,
}

impl Switch {
    pub fn is_on(self) -> bool {
        self == Self::On
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Log line format.
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// Log filter, in `tracing` `EnvFilter` syntax (e.g. `info`, `gatehouse=debug`).
    #[arg(long, env = "GATEHOUSE_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GATEHOUSE_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,

    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub log: LogArgs,

    /// Prometheus metrics at `GET /metrics`: `on` or `off`.
    #[arg(long, env = "GATEHOUSE_METRICS", value_enum, num_args = 0..=1, default_missing_value = "on", default_value_t = Switch::On)]
    pub metrics: Switch,

    /// Serve `/metrics` on a listener of its own at this address (say
    /// `127.0.0.1:9100`) instead of the main one, which then has no
    /// `/metrics`.
    #[arg(long, env = "GATEHOUSE_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Django's tokenless logout: without a token, `POST /user/logout/<id>/`
    /// ends every session of that user. `on` or `off`.
    #[arg(long, env = "GATEHOUSE_LEGACY_LOGOUT", value_enum, num_args = 0..=1, default_missing_value = "on", default_value_t = Switch::Off)]
    pub legacy_logout: Switch,

    /// One answer for every failed login: an unknown name, a wrong password
    /// and a disabled account are all `401 INVALID_CREDENTIALS`, in the same
    /// time. Off by default: the Django contract tells them apart.
    #[arg(long, env = "GATEHOUSE_UNIFORM_LOGIN", value_enum, num_args = 0..=1, default_missing_value = "on", default_value_t = Switch::Off)]
    pub uniform_login: Switch,

    /// How long audit events are kept; older ones are deleted by the
    /// sweep that runs every ten minutes. At least an hour.
    #[arg(long, env = "GATEHOUSE_AUDIT_RETENTION", default_value = "90d", value_parser = parse_retention)]
    pub audit_retention: Duration,

    /// Per-account login throttling: `on` or `off`.
    #[arg(long, env = "GATEHOUSE_LOGIN_THROTTLE", value_enum, num_args = 0..=1, default_missing_value = "on", default_value_t = Switch::On)]
    pub login_throttle: Switch,

    /// Consecutive failed logins allowed before throttling starts.
    #[arg(long, env = "GATEHOUSE_LOGIN_THROTTLE_AFTER", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub login_throttle_after: u32,

    /// Longest wait the doubling throttle imposes (e.g. `15m`).
    #[arg(long, env = "GATEHOUSE_LOGIN_THROTTLE_MAX_DELAY", default_value = "15m", value_parser = humantime::parse_duration)]
    pub login_throttle_max_delay: Duration,

    /// Per-client rate limits on register and login: `on` or `off`.
    #[arg(long, env = "GATEHOUSE_RATE_LIMIT", value_enum, num_args = 0..=1, default_missing_value = "on", default_value_t = Switch::On)]
    pub rate_limit: Switch,

    /// Logins per minute allowed from one client address (IPv6: one /64).
    #[arg(long, env = "GATEHOUSE_RATE_LIMIT_LOGIN", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate_limit_login: u32,

    /// Registrations per minute allowed from one client address (IPv6: one /64).
    #[arg(long, env = "GATEHOUSE_RATE_LIMIT_REGISTER", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate_limit_register: u32,

    /// Proxies (CIDRs) whose `X-Forwarded-For` is believed, e.g. `10.0.0.0/8`
    /// (repeat, or comma-separated). None by default: the socket's address is the client.
    #[arg(long, env = "GATEHOUSE_TRUSTED_PROXY", value_delimiter = ',', value_parser = parse_cidr)]
    pub trusted_proxy: Vec<IpNet>,

    /// How long a login session lasts (e.g. `7d`, `12h`).
    #[arg(long, env = "GATEHOUSE_SESSION_TTL", default_value = "7d", value_parser = parse_session_ttl)]
    pub session_ttl: Duration,

    /// Shortest password accepted at registration, in Unicode code points.
    #[arg(long, env = "GATEHOUSE_PASSWORD_MIN_LENGTH", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub password_min_length: u16,

    /// Argon2id memory cost in KiB.
    #[arg(long, env = "GATEHOUSE_ARGON2_MEMORY_KIB", default_value_t = 19_456)]
    pub argon2_memory_kib: u32,

    /// Argon2id iterations.
    #[arg(long, env = "GATEHOUSE_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,

    /// Argon2id lanes.
    #[arg(long, env = "GATEHOUSE_ARGON2_PARALLELISM", default_value_t = 1)]
    pub argon2_parallelism: u32,

    /// Password hashes computed at once [default: one per core].
    #[arg(long, env = "GATEHOUSE_HASH_WORKERS", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub hash_workers: Option<u32>,

    /// Password hashes allowed to wait for a worker; past that, 503 + Retry-After.
    #[arg(long, env = "GATEHOUSE_HASH_QUEUE", default_value_t = 64, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub hash_queue: u32,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "GATEHOUSE_BODY_LIMIT", default_value_t = 16 * 1024)]
    pub body_limit: usize,

    /// Deepest selection nesting a GraphQL document may have.
    #[arg(long, env = "GATEHOUSE_GRAPHQL_MAX_DEPTH", default_value_t = 10)]
    pub graphql_max_depth: usize,

    /// Highest complexity (number of fields) a GraphQL document may have.
    #[arg(long, env = "GATEHOUSE_GRAPHQL_MAX_COMPLEXITY", default_value_t = 100)]
    pub graphql_max_complexity: usize,

    /// Answer GraphQL introspection queries: `on` or `off`.
    #[arg(long, env = "GATEHOUSE_GRAPHQL_INTROSPECTION", value_enum, num_args = 0..=1, default_missing_value = "on", default_value_t = Switch::On)]
    pub graphql_introspection: Switch,

    /// Serve the GraphiQL playground on `GET /graphql`: `on` or `off`.
    #[arg(long, env = "GATEHOUSE_GRAPHQL_PLAYGROUND", value_enum, num_args = 0..=1, default_missing_value = "on", default_value_t = Switch::On)]
    pub graphql_playground: Switch,

    /// Origins allowed to call the API from a browser (repeat, or comma-separated).
    /// None by default: CORS stays closed.
    #[arg(long, alias = "cors-origin", env = "GATEHOUSE_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<String>,

    /// Longest time to answer one request; past it, 503 problem+json.
    #[arg(long, env = "GATEHOUSE_REQUEST_TIMEOUT", default_value = "15s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,

    /// Longest time a client may take to send a whole request body; past it, 408.
    #[arg(long, env = "GATEHOUSE_BODY_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub body_timeout: Duration,

    /// Longest time a client may take to send the request line and headers;
    /// past it the connection is closed.
    #[arg(long, env = "GATEHOUSE_HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,

    /// Largest request head (request line and headers) accepted, in bytes;
    /// past it, 431.
    #[arg(long, env = "GATEHOUSE_MAX_HEADER_BYTES", default_value_t = 16 * 1024, value_parser = clap::value_parser!(u32).range(8192..=1_048_576))]
    pub max_header_bytes: u32,

    /// Most header fields in one request; past it, 431.
    #[arg(long, env = "GATEHOUSE_MAX_HEADERS", default_value_t = 64, value_parser = clap::value_parser!(u32).range(8..=1024))]
    pub max_headers: u32,

    /// How long to wait for in-flight requests on SIGINT/SIGTERM.
    #[arg(long, env = "GATEHOUSE_SHUTDOWN_GRACE", default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,
}

impl ServeArgs {
    pub fn hashing(&self) -> HashingConfig {
        let defaults = HashingConfig::default();
        HashingConfig {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
            workers: self.hash_workers.map_or(defaults.workers, |n| n as usize),
            queue: self.hash_queue as usize,
        }
    }

    pub fn accounts(&self) -> AccountsConfig {
        AccountsConfig {
            password_policy: PasswordPolicy {
                min_chars: usize::from(self.password_min_length),
            },
            session_ttl: self.session_ttl,
            legacy_logout: self.legacy_logout.is_on(),
            uniform_login: self.uniform_login.is_on(),
            login_throttle: self.login_throttle.is_on().then_some(LoginThrottle {
                free_failures: self.login_throttle_after,
                max_delay: self.login_throttle_max_delay.max(Duration::from_secs(1)),
            }),
            audit_retention: self.audit_retention,
        }
    }

    pub fn client_limits(&self) -> ClientLimits {
        if !self.rate_limit.is_on() {
            return ClientLimits::disabled();
        }
        ClientLimits::new(
            NonZeroU32::new(self.rate_limit_register),
            NonZeroU32::new(self.rate_limit_login),
        )
    }

    pub fn schema_limits(&self) -> SchemaLimits {
        SchemaLimits {
            max_depth: self.graphql_max_depth,
            max_complexity: self.graphql_max_complexity,
            introspection: self.graphql_introspection.is_on(),
        }
    }
}
