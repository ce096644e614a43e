//! Throughput benchmark of the whole pipeline, driven by `bench/scan/run.sh`.
//!
//! usage: scan_bench CATALOG LISTINGS [--threads N] [--output FINDINGS]
//!        scan_bench CATALOG LISTINGS --titles TITLES_OUT
//!
//! Builds the engine (timed), then either scans LISTINGS with `scan_jsonl`
//! on N threads (default: all cores), writing findings to nowhere (or to
//! FINDINGS, to check that an optimisation changes no answer), or with
//! `--titles` runs only the normaliser and matcher over each listing's title
//! on one thread (the figure compared with pyahocorasick) and writes the
//! titles it used, one per line, so the comparison reads the same ones.
//! Prints key=value lines, including the process's peak resident memory.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use ipguard_detect::{Catalog, DetectionConfig, Engine, Listing, ScanOptions, scan_jsonl};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(catalog_path), Some(listings_path)) = (args.first(), args.get(1)) else {
        return Err(
            "usage: scan_bench CATALOG LISTINGS [--threads N] [--output FINDINGS] [--titles OUT]"
                .into(),
        );
    };
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };

    let catalog: Catalog = serde_json::from_reader(BufReader::new(File::open(catalog_path)?))?;
    let terms: usize = catalog.brands.iter().map(|b| b.terms.len()).sum();
    let started = Instant::now();
    let engine = Engine::new(&catalog, DetectionConfig::default())?;
    println!("brands={} terms={}", catalog.brands.len(), terms);
    println!(
        "engine_build_seconds={:.3}",
        started.elapsed().as_secs_f64()
    );

    if let Some(titles_out) = flag("--titles") {
        return bench_titles(&engine, listings_path, &titles_out);
    }

    let threads = match flag("--threads") {
        Some(n) => n.parse()?,
        None => std::thread::available_parallelism()?.get(),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let input = BufReader::with_capacity(1 << 20, File::open(listings_path)?);
    let output: Box<dyn Write + Send> = match flag("--output") {
        Some(path) => Box::new(BufWriter::new(File::create(path)?)),
        None => Box::new(std::io::sink()),
    };
    let cpu_before = cpu_seconds();
    let summary =
        pool.install(|| scan_jsonl(&engine, input, output, &ScanOptions::default(), &|_, _| {}))?;
    let cpu = cpu_seconds() - cpu_before;
    println!("threads={threads}");
    println!("listings={} errors={}", summary.lines, summary.errors);
    println!(
        "allow={} review={} block={}",
        summary.allow, summary.review, summary.block
    );
    println!("seconds={:.3}", summary.elapsed.as_secs_f64());
    println!("listings_per_second={:.0}", summary.listings_per_second());
    println!(
        "listings_per_second_per_thread={:.0}",
        summary.listings_per_second() / threads as f64
    );
    println!("megabytes_per_second={:.1}", summary.megabytes_per_second());
    // CPU time is what a busy, shared machine distorts least.
    println!("cpu_seconds={cpu:.3}");
    println!(
        "listings_per_cpu_second={:.0}",
        summary.lines as f64 / cpu.max(1e-9)
    );
    print_peak_memory();
    Ok(())
}

fn bench_titles(engine: &Engine, listings_path: &str, titles_out: &str) -> Result<(), Error> {
    let mut titles = Vec::new();
    for line in BufReader::new(File::open(listings_path)?).lines() {
        let listing: Listing = serde_json::from_str(&line?)?;
        titles.push(listing.title);
    }
    let mut out = BufWriter::new(File::create(titles_out)?);
    for title in &titles {
        writeln!(out, "{title}")?;
    }
    out.flush()?;

    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let mut matches = 0usize;
    for title in &titles {
        matches += engine.match_text(title).len();
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let bytes: usize = titles.iter().map(String::len).sum();
    println!("titles={} matches={matches}", titles.len());
    println!("titles_seconds={seconds:.3}");
    println!("titles_per_second={:.0}", titles.len() as f64 / seconds);
    println!(
        "title_megabytes_per_second={:.1}",
        bytes as f64 / 1e6 / seconds
    );
    println!(
        "titles_per_cpu_second={:.0}",
        titles.len() as f64 / cpu.max(1e-9)
    );
    print_peak_memory();
    Ok(())
}

/// User plus system CPU time of the whole process so far (Linux only).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 12th and 13th of those, in clock ticks (100 per second on Linux).
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident set size as the kernel counts it (Linux only).
fn print_peak_memory() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        println!("peak_memory_mib={:.1}", kib as f64 / 1024.0);
    }
}
