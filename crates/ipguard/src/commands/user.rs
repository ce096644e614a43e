use super::DbArgs;
use anyhow::Context;
use clap::{Args, Subcommand};
use ipguard_server::AppState;
use ipguard_server::api::accounts::bootstrap_user;
use ipguard_server::config::Config;
use ipguard_store::Store;
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (e.g. the first administrator); reads the password from
    /// the first line of stdin and prints the new user's API key.
    Create(CreateArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long)]
    email: String,
    /// admin, reviewer, rights_holder or seller.
    #[arg(long)]
    role: ipguard_server::Role,
    /// Organisation of a rights_holder user.
    #[arg(long)]
    organisation_id: Option<i64>,
    /// Seller account (internal id) of a seller user.
    #[arg(long)]
    seller_id: Option<i64>,
}

pub async fn run(command: UserCommand) -> anyhow::Result<ExitCode> {
    let UserCommand::Create(args) = command;
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("reading the password from stdin")?;
    let password = password.trim_end_matches(['\r', '\n']);
    let store = Store::open(&args.db.db).await?;
    let state = AppState::new(store.clone(), Config::default())?;
    let created = bootstrap_user(
        &state,
        &args.email,
        password,
        args.role,
        args.organisation_id,
        args.seller_id,
    )
    .await;
    store.close().await;
    match created {
        Ok((id, key)) => {
            println!("created user {id} ({}) with API key {key}", args.role);
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => anyhow::bail!("{}", err.detail),
    }
}
