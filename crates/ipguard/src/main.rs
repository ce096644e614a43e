//! The `ipguard` command.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "ipguard",
    version,
    about = "Intellectual-property protection for online marketplaces"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API, the portal and the background jobs.
    Serve(commands::serve::ServeArgs),
    /// Create a database of realistic generated data, then serve it.
    Demo(commands::demo::DemoArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate(commands::DbArgs),
    /// Scan JSON-lines listings against a brand catalog; one finding per listing.
    Scan(commands::scan::ScanArgs),
    /// Precision and recall of detection on a labelled set (default: eval/).
    Eval(commands::scan::EvalArgs),
    /// PDQ perceptual hashes: one `PDQHEX QUALITY FILE` line per image.
    Hash(commands::hash::HashArgs),
    /// Manage users.
    User {
        #[command(subcommand)]
        command: commands::user::UserCommand,
    },
    /// Audit-log tools.
    Audit {
        #[command(subcommand)]
        command: commands::audit::AuditCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("IPGUARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(err) => Err(err.into()),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // One line: the error and its causes, as an operator reads it.
            let chain: Vec<String> = err.chain().map(ToString::to_string).collect();
            eprintln!("ipguard: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => commands::serve::run(args).await,
        Command::Demo(args) => commands::demo::run(args).await,
        Command::Migrate(args) => commands::migrate(args).await,
        Command::Audit { command } => commands::audit::run(command).await,
        Command::User { command } => commands::user::run(command).await,
        Command::Scan(args) => tokio::task::block_in_place(|| commands::scan::run(args)),
        Command::Eval(args) => commands::scan::eval(args),
        Command::Hash(args) => tokio::task::block_in_place(|| commands::hash::run(args)),
    }
}
