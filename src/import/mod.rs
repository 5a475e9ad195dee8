//! `gatehouse import django SOURCE`: bring a Django deployment's accounts
//! into Gatehouse, so every user logs in with the password they already
//! have (their Django hash is kept verbatim and upgraded at their first
//! login, see `accounts::django_hash`).
//!
//! The source is read in batches of `--batch-size` accounts, each written in
//! a transaction of its own, so memory stays flat however many accounts there
//! are, and a run stopped halfway loses at most its current batch: running it
//! again imports what is missing and nothing twice (an account is known by
//! its Django id).

mod account;
mod dumpdata;
mod source;
mod target;

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressStyle};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use secrecy::ExposeSecret;

use crate::config::{DatabaseArgs, DjangoImportArgs};
use crate::db;
use source::Source;

/// What the caller chose.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Work everything out, write nothing.
    pub dry_run: bool,
    /// Import inactive accounts as enabled: the Django app marked users
    /// logged in and out through `is_active`.
    pub active_means_logged_in: bool,
}

/// What became of the accounts.
#[derive(Debug, Default)]
pub struct Tally {
    pub imported: u64,
    pub already_present: u64,
    /// One line per account not imported because it clashes with another,
    /// naming both.
    pub conflicts: Vec<String>,
    /// One line per account Gatehouse's rules do not accept, or whose row
    /// could not be read.
    pub skipped: Vec<String>,
}

impl Tally {
    fn conflict(&mut self, line: String) {
        self.conflicts.push(line);
    }

    fn skip(&mut self, line: String) {
        self.skipped.push(line);
    }

    fn add(&mut self, other: Self) {
        self.imported += other.imported;
        self.already_present += other.already_present;
        self.conflicts.extend(other.conflicts);
        self.skipped.extend(other.skipped);
    }

    pub fn processed(&self) -> u64 {
        let listed = self.conflicts.len() + self.skipped.len();
        self.imported + self.already_present + u64::try_from(listed).unwrap_or(u64::MAX)
    }

    /// The exit status: 0 when every account is in Gatehouse, 1 when some
    /// conflicted or were skipped (the rest was imported).
    pub fn exit_code(&self) -> u8 {
        u8::from(!(self.conflicts.is_empty() && self.skipped.is_empty()))
    }

    /// The summary printed at the end.
    pub fn render(&self, dry_run: bool) -> String {
        let mut out = String::new();
        if dry_run {
            out.push_str("dry run: nothing was written; a real run would give\n");
        }
        for (label, count) in [
            ("imported", self.imported),
            ("already present", self.already_present),
            ("conflicts", self.conflicts.len() as u64),
            ("skipped", self.skipped.len() as u64),
        ] {
            out.push_str(&format!("{label:<16} {count}\n"));
        }
        for line in &self.conflicts {
            out.push_str(&format!("conflict: {line}\n"));
        }
        for line in &self.skipped {
            out.push_str(&format!("skipped: {line}\n"));
        }
        out
    }
}

/// An import that could not run, or stopped: the exit status is 2.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The source is missing, unreadable or not a Django account store.
    #[error("{0}")]
    Source(String),
    #[error("the target database failed: {0}")]
    Target(#[from] sea_orm::DbErr),
}

impl ImportError {
    fn source(message: String) -> Self {
        Self::Source(message)
    }
}

/// What a run came to: the tally so far, and the error that stopped it.
pub struct Outcome {
    pub tally: Tally,
    pub error: Option<ImportError>,
}

/// Runs `gatehouse import django`. An error before the first batch leaves
/// the target as it was; one after it leaves the batches written so far,
/// which a second run keeps and completes.
pub async fn django(args: &DjangoImportArgs) -> Outcome {
    let mut tally = Tally::default();
    let error = run(args, &mut tally).await.err();
    Outcome { tally, error }
}

async fn run(args: &DjangoImportArgs, tally: &mut Tally) -> Result<(), ImportError> {
    let options = Options {
        dry_run: args.dry_run,
        active_means_logged_in: args.active_means_logged_in,
    };
    // The source first: a bad one fails before the target is touched.
    let source = Source::open(&args.source).await?;
    let total = source.total();
    let target = open_target(&args.database, options.dry_run).await?;

    let progress = Progress::new(total);
    let (mut batches, reader) = source.read(usize::from(args.batch_size));
    let mut seen = target::Seen::default();
    while let Some(batch) = batches.recv().await {
        let batch = batch?;
        target::write(target.as_ref(), &batch, &options, &mut seen, tally).await?;
        progress.set(tally.processed(), total);
    }
    progress.finish();
    // The channel also closes if the reader died: say so rather than end as
    // if the source were done.
    reader
        .await
        .map_err(|e| ImportError::source(format!("reading the source failed: {e}")))
}

/// The target, migrated first. A dry run writes nothing, so it migrates
/// nothing: it reads a target that is up to date, takes one that does not
/// exist yet (or has no tables yet) as empty (`None`), and refuses one that
/// is partly migrated.
async fn open_target(
    args: &DatabaseArgs,
    dry_run: bool,
) -> Result<Option<DatabaseConnection>, ImportError> {
    if !dry_run {
        let target = db::connect(args).await?;
        Migrator::up(&target, None).await?;
        return Ok(Some(target));
    }
    let url = args.url();
    if let Some(path) = sqlite_file(url.expose_secret())
        && !path.exists()
    {
        return Ok(None);
    }
    let target = db::connect(args).await?;
    let applied = target
        .query_one_raw(Statement::from_string(
            target.get_database_backend(),
            "SELECT COUNT(*) AS n FROM seaql_migrations",
        ))
        .await;
    let Ok(Some(row)) = applied else {
        return Ok(None); // no migration table: nothing is there yet
    };
    let applied = row.try_get::<i64>("", "n")?;
    if usize::try_from(applied).ok() == Some(Migrator::migrations().len()) {
        Ok(Some(target))
    } else {
        Err(ImportError::source(
            "the target database is not up to date; a dry run writes nothing, so apply its \
             migrations first (gatehouse migrate)"
                .to_owned(),
        ))
    }
}

/// The file a `sqlite:` URL names, if it names one.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.starts_with(':')).then(|| path.into())
}

/// A progress bar on a terminal; otherwise a log line per batch.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(total: u64) -> Self {
        if !std::io::stderr().is_terminal() {
            tracing::info!(total, "importing");
            return Self(None);
        }
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} accounts ({per_sec}, {eta} left)")
        {
            bar.set_style(style);
        }
        Self(Some(bar))
    }

    fn set(&self, done: u64, total: u64) {
        match &self.0 {
            Some(bar) => bar.set_position(done),
            None => tracing::info!(done, total, "imported so far"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
