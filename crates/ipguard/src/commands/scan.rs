//! `ipguard scan` and `ipguard eval`: the detection engine over files.

use super::photo_match::PhotoMatcher;
use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ipguard_detect::{
    Catalog, DetectionConfig, Engine, ScanOptions, evaluate, read_labelled, scan_jsonl_with,
};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Protected brands and category rules (JSON, DESIGN.md's catalog format).
    #[arg(long)]
    catalog: PathBuf,
    /// Listings, one JSON object a line; `-` reads stdin.
    #[arg(long)]
    input: String,
    /// Findings, one JSON object a line in input order; `-` writes stdout.
    #[arg(long)]
    output: String,
    /// Detection settings (TOML): thresholds, weights, currency rates.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Hamming distance (of 256 bits) within which a listing photo matches
    /// a reference photo.
    #[arg(long, default_value_t = ipguard_hashindex::DEFAULT_RADIUS)]
    radius: u32,
}

fn load_catalog(path: &Path) -> anyhow::Result<Catalog> {
    let file = File::open(path).with_context(|| format!("opening catalog {}", path.display()))?;
    serde_json::from_reader(BufReader::new(file))
        .with_context(|| format!("reading catalog {}", path.display()))
}

pub fn load_engine(catalog: &Catalog, config: Option<&Path>) -> anyhow::Result<Engine> {
    let config = match config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("opening {}", path.display()))?;
            toml::from_str::<DetectionConfig>(&text)
                .with_context(|| format!("reading {}", path.display()))?
        }
        None => DetectionConfig::default(),
    };
    Ok(Engine::new(catalog, config)?)
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(&args.catalog)?;
    let engine = load_engine(&catalog, args.config.as_deref())?;
    let catalog_dir = args.catalog.parent().unwrap_or(Path::new("."));
    let listings_dir = (args.input != "-")
        .then(|| Path::new(&args.input).parent().map(Path::to_path_buf))
        .flatten();
    let photos = PhotoMatcher::load(&catalog, catalog_dir, listings_dir, args.radius);
    let evidence = |listing: &ipguard_detect::Listing| {
        photos
            .as_ref()
            .map_or_else(Vec::new, |p| p.reasons(listing))
    };
    let input: Box<dyn BufRead + Send> = if args.input == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = File::open(&args.input).with_context(|| format!("opening {}", args.input))?;
        Box::new(BufReader::with_capacity(1 << 20, file))
    };
    let total = std::fs::metadata(&args.input)
        .map(|m| m.len())
        .ok()
        .filter(|_| args.input != "-");
    let output: Box<dyn Write + Send> = if args.output == "-" {
        Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout()))
    } else {
        let file =
            File::create(&args.output).with_context(|| format!("creating {}", args.output))?;
        Box::new(BufWriter::with_capacity(1 << 20, file))
    };
    let bar = progress_bar(total);
    let progress = |_lines: u64, bytes: u64| bar.set_position(bytes);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()?;
    let summary = pool.install(|| {
        scan_jsonl_with(
            &engine,
            input,
            output,
            &ScanOptions::default(),
            &progress,
            &evidence,
        )
    })?;
    bar.finish_and_clear();
    if let Some(unreadable) = photos
        .as_ref()
        .map(PhotoMatcher::unreadable)
        .filter(|n| *n > 0)
    {
        eprintln!(
            "ipguard scan: {unreadable} listing photos could not be read and were not matched"
        );
    }
    eprintln!(
        "scanned {} listings ({} malformed) in {:.2}s: {:.0} listings/s, {:.1} MB/s; allow {}, review {}, block {}",
        summary.lines,
        summary.errors,
        summary.elapsed.as_secs_f64(),
        summary.listings_per_second(),
        summary.megabytes_per_second(),
        summary.allow,
        summary.review,
        summary.block
    );
    Ok(ExitCode::SUCCESS)
}

/// A byte-based bar on a terminal; nothing when stderr is redirected.
fn progress_bar(total: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(total) => ProgressBar::new(total),
        None => ProgressBar::no_length(),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Catalog the labelled listings refer to.
    #[arg(long, default_value = "eval/catalog.json")]
    catalog: PathBuf,
    /// Labelled listings (JSON lines).
    #[arg(long, default_value = "eval/listings.jsonl")]
    labelled: PathBuf,
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Prints precision and recall per reason kind on a labelled set.
pub fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let engine = load_engine(&load_catalog(&args.catalog)?, args.config.as_deref())?;
    let file = File::open(&args.labelled)
        .with_context(|| format!("opening {}", args.labelled.display()))?;
    let labelled = read_labelled(BufReader::new(file))?;
    let report = evaluate(&engine, labelled);
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}
