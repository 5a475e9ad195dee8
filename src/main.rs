//! `gatehouse [serve|migrate|schema]`: parse the command line, start logging,
//! run the chosen subcommand.

use std::process::ExitCode;

use clap::Parser;
use gatehouse::app::{self, Application};
use gatehouse::config::{
    Cli, Command, ImportArgs, ImportFrom, MigrateAction, MigrateArgs, ServeArgs,
};
use gatehouse::error::ErrorChain;
use gatehouse::{admin, db, graphql, telemetry};
use migration::{Migrator, MigratorTrait};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Schema) => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Some(Command::Migrate(args)) => migrate(args).await,
        Some(Command::Import(args)) => return import(args).await,
        Some(Command::Users(args)) => {
            telemetry::init(&args.target().log);
            return admin_exit(admin::cli::users(&args).await);
        }
        Some(Command::Sessions(args)) => {
            telemetry::init(&args.target().log);
            return admin_exit(admin::cli::sessions(&args).await);
        }
        Some(Command::Audit(args)) => {
            telemetry::init(&args.on.log);
            return admin_exit(admin::trail::command(&args).await);
        }
        Some(Command::Serve(args)) => serve(*args).await,
        None => serve(cli.serve).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %ErrorChain(err.as_ref()), "gatehouse failed");
            eprintln!("gatehouse: {}", ErrorChain(err.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), app::BoxError> {
    telemetry::init(&args.log);
    let application = Application::build(&args).await?;
    tracing::info!(address = %application.local_addr()?, "gatehouse listening");
    application.run_until(app::shutdown_signal()).await?;
    tracing::info!("gatehouse stopped");
    Ok(())
}

/// An operator's command: 0 when done, 1 with a message when not.
fn admin_exit(result: Result<(), admin::cli::CommandError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gatehouse: {}", ErrorChain(&err));
            ExitCode::FAILURE
        }
    }
}

/// Exit 0: every account imported; 1: some conflicted or were skipped; 2:
/// the import failed.
async fn import(args: ImportArgs) -> ExitCode {
    let ImportFrom::Django(args) = args.from;
    telemetry::init(&args.log);
    let outcome = gatehouse::import::django(&args).await;
    match outcome.error {
        None => {
            print!("{}", outcome.tally.render(args.dry_run));
            ExitCode::from(outcome.tally.exit_code())
        }
        Some(err) => {
            // What was done before the error stays done: say what it was.
            if outcome.tally.processed() > 0 {
                print!("{}", outcome.tally.render(args.dry_run));
            }
            eprintln!("gatehouse import: {}", ErrorChain(&err));
            ExitCode::from(2)
        }
    }
}

async fn migrate(args: MigrateArgs) -> Result<(), app::BoxError> {
    telemetry::init(&args.log);
    let db = db::connect(&args.database).await?;
    match args.action {
        MigrateAction::Apply => {
            Migrator::up(&db, None).await?;
            println!("migrations applied");
        }
        MigrateAction::Status => {
            let applied: Vec<String> = Migrator::get_applied_migrations(&db)
                .await?
                .iter()
                .map(|m| m.name().to_owned())
                .collect();
            for migration in Migrator::migrations() {
                let name = migration.name().to_owned();
                let state = if applied.contains(&name) {
                    "applied"
                } else {
                    "pending"
                };
                println!("{state}\t{name}");
            }
        }
    }
    Ok(())
}
