use super::DbArgs;
use clap::Subcommand;
use ipguard_store::Store;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit log's hash chain; exits 1 naming the first bad entry.
    Verify(DbArgs),
}

pub async fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify(args) => {
            let store = Store::connect(&args.db).await?;
            let result = ipguard_store::audit::verify(&store).await;
            store.close().await;
            match result {
                Ok(count) => {
                    println!("audit log intact: {count} entries verified");
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => {
                    eprintln!("ipguard: audit log check failed: {err}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
