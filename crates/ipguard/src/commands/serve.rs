use clap::Args;
use ipguard_server::config::Config;
use ipguard_server::{AppState, launch_with_tcp_listener};
use ipguard_store::Store;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Database URL: `sqlite:PATH` (created if missing) or `postgres://…`.
    #[arg(long, env = "IPGUARD_DB", default_value = "sqlite:ipguard.db")]
    pub db: String,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "IPGUARD_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// TOML configuration file (policy numbers, limits); see config/ipguard.example.toml.
    #[arg(long, env = "IPGUARD_CONFIG")]
    pub config: Option<PathBuf>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(args.config.as_deref())?;
    let store = Store::open(&args.db).await?;
    serve(store, config, &args.bind, |_| {}).await
}

/// Binds, prints the address as the first line on stdout, runs until Ctrl-C.
pub async fn serve(
    store: Store,
    config: Config,
    bind: &str,
    announce: impl FnOnce(&str),
) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    let address = listener.local_addr()?;
    let url = format!("http://{address}");
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on {url}")?;
        stdout.flush()?;
    }
    announce(&url);
    let state = AppState::new(store.clone(), config)?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    launch_with_tcp_listener(listener, state, shutdown).await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
