//! Drives the index for `bench/images/index_bench.py`: builds it from a file
//! of hashes, answers a file of queries, and reports build time, memory,
//! query throughput and save/load times as one JSON object on stdout.
//!
//! ```text
//! index_bench --db DB.bin --queries Q.bin --radius 31 --results OUT.txt [--persist FILE] [--substrings M]
//! ```
//!
//! `DB.bin` and `Q.bin` are raw concatenated 32-byte hashes; the hash at
//! index `i` of `DB.bin` is stored under id `i`. `OUT.txt` gets one line per
//! query: `id:distance` pairs separated by spaces, in the index's order.

use std::error::Error;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::time::Instant;

use ipguard_hashindex::{HashIndex, IndexConfig, Match};
use rayon::prelude::*;

struct Options {
    db: String,
    queries: String,
    radius: u32,
    results: String,
    persist: Option<String>,
    substrings: Option<usize>,
}

fn parse_options() -> Result<Options, Box<dyn Error>> {
    let mut db = None;
    let mut queries = None;
    let mut radius = ipguard_hashindex::DEFAULT_RADIUS;
    let mut results = None;
    let mut persist = None;
    let mut substrings = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--db" => db = Some(value),
            "--queries" => queries = Some(value),
            "--radius" => radius = value.parse()?,
            "--results" => results = Some(value),
            "--persist" => persist = Some(value),
            "--substrings" => substrings = Some(value.parse()?),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(Options {
        db: db.ok_or("--db is required")?,
        queries: queries.ok_or("--queries is required")?,
        radius,
        results: results.ok_or("--results is required")?,
        persist,
        substrings,
    })
}

fn read_hashes(path: &str) -> Result<Vec<[u8; 32]>, Box<dyn Error>> {
    let bytes = fs::read(path)?;
    if bytes.len() % 32 != 0 {
        return Err(format!("{path}: length is not a multiple of 32").into());
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|chunk| {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(chunk);
            hash
        })
        .collect())
}

/// Resident memory of this process, from /proc (Linux only; 0 elsewhere).
fn resident_bytes() -> usize {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<usize>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// CPU time this thread has used, in seconds, from /proc (Linux only; 0
/// elsewhere). On a shared machine it leaves out the time other processes
/// held the core, which wall-clock time counts.
fn thread_cpu_seconds() -> f64 {
    let stat = fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // The fields after the command name, which ends with the last ')';
    // utime and stime are the 12th and 13th of them, in clock ticks (100/s).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|field| field.parse::<f64>().ok())
    };
    ticks(11)
        .zip(ticks(12))
        .map_or(0.0, |(user, system)| (user + system) / 100.0)
}

fn main() -> Result<(), Box<dyn Error>> {
    let options = parse_options()?;
    let queries = read_hashes(&options.queries)?;
    let resident_before = resident_bytes();

    let hashes = read_hashes(&options.db)?;
    let count = hashes.len();
    let started = Instant::now();
    let config = IndexConfig {
        substrings: options.substrings,
        ..IndexConfig::default()
    };
    let index = HashIndex::from_entries(
        config,
        hashes
            .into_iter()
            .enumerate()
            .map(|(id, hash)| (id as u64, hash)),
    );
    let build_seconds = started.elapsed().as_secs_f64();
    let resident_growth = resident_bytes().saturating_sub(resident_before);
    let heap_bytes = index.heap_bytes();

    let started = Instant::now();
    let cpu_started = thread_cpu_seconds();
    let answers: Vec<Vec<Match>> = queries
        .iter()
        .map(|query| index.query(query, options.radius))
        .collect();
    let single_thread_seconds = started.elapsed().as_secs_f64();
    let single_thread_cpu_seconds = thread_cpu_seconds() - cpu_started;

    let started = Instant::now();
    let parallel_answers: Vec<Vec<Match>> = queries
        .par_iter()
        .map(|query| index.query(query, options.radius))
        .collect();
    let all_threads_seconds = started.elapsed().as_secs_f64();
    if parallel_answers != answers {
        return Err("parallel answers differ from single-threaded ones".into());
    }

    let mut results = BufWriter::new(File::create(&options.results)?);
    for matches in &answers {
        let line: Vec<String> = matches
            .iter()
            .map(|found| format!("{}:{}", found.id, found.distance))
            .collect();
        writeln!(results, "{}", line.join(" "))?;
    }
    results.flush()?;

    let mut persistence = String::new();
    if let Some(path) = &options.persist {
        let started = Instant::now();
        index.save(BufWriter::new(File::create(path)?))?;
        let save_seconds = started.elapsed().as_secs_f64();
        let file_bytes = fs::metadata(path)?.len();
        drop(index);
        let started = Instant::now();
        let loaded = HashIndex::load(File::open(path)?, config)?;
        let load_seconds = started.elapsed().as_secs_f64();
        let reloaded_answers: Vec<Vec<Match>> = queries
            .par_iter()
            .map(|query| loaded.query(query, options.radius))
            .collect();
        if reloaded_answers != answers {
            return Err("the reloaded index answers differently".into());
        }
        persistence = format!(
            r#", "save_seconds": {save_seconds:.3}, "load_seconds": {load_seconds:.3}, "file_bytes": {file_bytes}"#
        );
    }

    let matches: usize = answers.iter().map(Vec::len).sum();
    println!(
        concat!(
            r#"{{"hashes": {}, "queries": {}, "radius": {}, "matches": {}, "build_seconds": {:.3}, "#,
            r#""heap_bytes_per_hash": {:.2}, "resident_bytes_per_hash": {:.2}, "#,
            r#""queries_per_second_1_thread": {:.1}, "queries_per_cpu_second_1_thread": {:.1}, "#,
            r#""queries_per_second_all_threads": {:.1}, "threads": {}{}}}"#
        ),
        count,
        queries.len(),
        options.radius,
        matches,
        build_seconds,
        heap_bytes as f64 / count.max(1) as f64,
        resident_growth as f64 / count.max(1) as f64,
        queries.len() as f64 / single_thread_seconds,
        queries.len() as f64 / single_thread_cpu_seconds,
        queries.len() as f64 / all_threads_seconds,
        rayon::current_num_threads(),
        persistence,
    );
    Ok(())
}
