pub mod audit;
pub mod demo;
pub mod hash;
mod photo_match;
pub mod scan;
pub mod serve;
pub mod user;

use clap::Args;
use ipguard_store::Store;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct DbArgs {
    /// Database URL: `sqlite:PATH` (created if missing) or `postgres://…`.
    #[arg(long, env = "IPGUARD_DB", default_value = "sqlite:ipguard.db")]
    pub db: String,
}

pub async fn migrate(args: DbArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&args.db).await?;
    store.close().await;
    println!("database {} is up to date", args.db);
    Ok(ExitCode::SUCCESS)
}
