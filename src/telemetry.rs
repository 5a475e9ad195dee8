//! The tracing subscriber: human-readable lines or JSON, one event per line.
//! Secrets are kept out by construction: the types that hold them redact
//! their `Debug`, and spans name the fields they record (`skip_all`).

use tracing_subscriber::EnvFilter;

use crate::config::{LogArgs, LogFormat};

/// Installs the global subscriber. A second call (as in tests) is a no-op.
pub fn init(args: &LogArgs) {
    let filter = EnvFilter::try_new(&args.log_level).unwrap_or_else(|err| {
        eprintln!(
            "gatehouse: invalid log filter {:?} ({err}); using \"info\"",
            args.log_level
        );
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match args.log_format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}
