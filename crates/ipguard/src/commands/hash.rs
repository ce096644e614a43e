//! `ipguard hash FILE...`: one `PDQHEX QUALITY FILE` line per image.

use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct HashArgs {
    /// Image files (JPEG, PNG, WebP, GIF).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Hashes in parallel, prints in argument order; a bad file gets one line on
/// stderr and a non-zero exit, and the others still hash.
pub fn run(args: HashArgs) -> anyhow::Result<ExitCode> {
    let results = ipguard_pdq::hash_files_parallel(&args.files);
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    for (path, result) in args.files.iter().zip(results) {
        match result {
            Ok(hashed) => writeln!(
                stdout,
                "{} {} {}",
                hashed.hash.to_hex(),
                hashed.quality,
                path.display()
            )?,
            Err(err) => {
                failed = true;
                eprintln!("ipguard: {}: {err}", path.display());
            }
        }
    }
    stdout.flush()?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
