//! Streaming scan of JSON-lines listings into JSON-lines findings.
//!
//! Input is read in chunks of lines by a reader thread while the previous
//! chunk is scanned on all cores (rayon) and written out in input order, so
//! memory stays bounded by a few chunks whatever the input size.

use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::engine::Engine;
use crate::model::{Action, Listing, Reason, SellerContext};

/// How a streaming scan cuts its input.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Lines per chunk handed to the thread pool.
    pub chunk_lines: usize,
    /// A chunk is also closed once it holds this many bytes, which bounds
    /// memory when lines are long.
    pub chunk_bytes: usize,
    /// Longer lines are not kept in memory; they get an error record.
    pub max_line_bytes: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            chunk_lines: 8192,
            chunk_bytes: 8 << 20,
            max_line_bytes: 4 << 20,
        }
    }
}

/// What a finished scan did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScanSummary {
    /// Input lines, each of which produced one output line.
    pub lines: u64,
    /// Lines that could not be read as a listing (an error record each).
    pub errors: u64,
    pub bytes: u64,
    pub allow: u64,
    pub review: u64,
    pub block: u64,
    pub elapsed: Duration,
}

impl ScanSummary {
    pub fn listings_per_second(&self) -> f64 {
        self.lines as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn megabytes_per_second(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Errors that stop a scan: reading the input or writing the output failed.
/// Malformed lines do not stop it; they become error records.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("reading listings: {0}")]
    Read(#[source] std::io::Error),
    #[error("writing findings: {0}")]
    Write(#[source] std::io::Error),
}

/// The record written in place of a finding for a line that is not a listing.
#[derive(Serialize)]
struct LineError<'a> {
    line: u64,
    error: &'a str,
}

/// Consecutive input lines in one buffer (one allocation per chunk, not per line).
struct Chunk {
    first_line: u64,
    data: Vec<u8>,
    /// End offset of each line in `data`.
    ends: Vec<usize>,
    /// Lines cut short because they exceeded the maximum line length.
    cut: Vec<bool>,
    /// Input bytes consumed, including the parts of cut lines not kept.
    consumed: u64,
}

impl Chunk {
    fn line(&self, index: usize) -> &[u8] {
        let start = index
            .checked_sub(1)
            .and_then(|i| self.ends.get(i))
            .copied()
            .unwrap_or(0);
        let end = self.ends.get(index).copied().unwrap_or(start);
        self.data.get(start..end).unwrap_or_default()
    }
}

enum Outcome {
    Finding(Action),
    Error,
}

/// Scans JSON-lines listings from `input` and writes one JSON line per input
/// line to `output`, in input order: the finding, or `{"line":N,"error":…}`
/// (lines numbered from 1) when the line is not a valid listing.
///
/// Runs on the current rayon thread pool (wrap the call in
/// `ThreadPool::install` to choose the number of threads). `progress` is
/// called after each chunk with the lines and bytes done so far.
pub fn scan_jsonl<R: BufRead + Send, W: Write>(
    engine: &Engine,
    input: R,
    output: W,
    options: &ScanOptions,
    progress: &dyn Fn(u64, u64),
) -> Result<ScanSummary, ScanError> {
    scan_jsonl_with(engine, input, output, options, progress, &|_| Vec::new())
}

/// [`scan_jsonl`] with evidence the engine cannot see in the text, such as
/// photo matches: `evidence` is asked for each listing's extra reasons
/// (it runs on the scanning threads).
pub fn scan_jsonl_with<R: BufRead + Send, W: Write>(
    engine: &Engine,
    input: R,
    mut output: W,
    options: &ScanOptions,
    progress: &dyn Fn(u64, u64),
    evidence: &(dyn Fn(&Listing) -> Vec<Reason> + Sync),
) -> Result<ScanSummary, ScanError> {
    let started = Instant::now();
    let mut summary = ScanSummary::default();
    let chunk_lines = options.chunk_lines.max(1);
    let chunk_bytes = options.chunk_bytes.max(1);
    let max_line_bytes = options.max_line_bytes.max(1);
    // Two chunks in flight: one being scanned, one being read. Scanned
    // chunks go back to the reader to be refilled, so their buffers are
    // allocated once.
    let (sender, receiver) = mpsc::sync_channel::<Result<Chunk, std::io::Error>>(1);
    let (recycle, recycled) = mpsc::channel::<Chunk>();
    std::thread::scope(|scope| {
        let limits = Limits {
            chunk_lines,
            chunk_bytes,
            max_line_bytes,
        };
        scope.spawn(move || read_chunks(input, limits, &sender, &recycled));
        let mut rendered: Vec<(Vec<u8>, Outcome)> = Vec::new();
        for chunk in receiver {
            let chunk = chunk.map_err(ScanError::Read)?;
            (0..chunk.ends.len())
                .into_par_iter()
                .map(|i| {
                    let number = chunk.first_line + i as u64;
                    if chunk.cut.get(i).copied().unwrap_or(false) {
                        too_long(number, max_line_bytes)
                    } else {
                        render(engine, evidence, number, chunk.line(i))
                    }
                })
                .collect_into_vec(&mut rendered);
            for (bytes, outcome) in &rendered {
                output.write_all(bytes).map_err(ScanError::Write)?;
                match outcome {
                    Outcome::Finding(Action::Allow) => summary.allow += 1,
                    Outcome::Finding(Action::Review) => summary.review += 1,
                    Outcome::Finding(Action::Block) => summary.block += 1,
                    Outcome::Error => summary.errors += 1,
                }
            }
            summary.lines += chunk.ends.len() as u64;
            summary.bytes += chunk.consumed;
            progress(summary.lines, summary.bytes);
            // The reader may have finished already; then the chunk is dropped.
            let _ = recycle.send(chunk);
        }
        output.flush().map_err(ScanError::Write)
    })?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

#[derive(Clone, Copy)]
struct Limits {
    chunk_lines: usize,
    chunk_bytes: usize,
    max_line_bytes: usize,
}

fn read_chunks<R: BufRead>(
    mut input: R,
    limits: Limits,
    sender: &mpsc::SyncSender<Result<Chunk, std::io::Error>>,
    recycled: &mpsc::Receiver<Chunk>,
) {
    let mut next_line = 1;
    loop {
        let mut chunk = match recycled.try_recv() {
            Ok(mut chunk) => {
                chunk.first_line = next_line;
                chunk.data.clear();
                chunk.ends.clear();
                chunk.cut.clear();
                chunk.consumed = 0;
                chunk
            }
            Err(_) => Chunk {
                first_line: next_line,
                data: Vec::with_capacity(limits.chunk_bytes.min(1 << 20)),
                ends: Vec::with_capacity(limits.chunk_lines),
                cut: Vec::with_capacity(limits.chunk_lines),
                consumed: 0,
            },
        };
        let mut finished = false;
        while chunk.ends.len() < limits.chunk_lines && chunk.data.len() < limits.chunk_bytes {
            match read_line_capped(&mut input, &mut chunk.data, limits.max_line_bytes) {
                Ok((0, _)) => {
                    finished = true;
                    break;
                }
                Ok((consumed, cut)) => {
                    chunk.ends.push(chunk.data.len());
                    chunk.cut.push(cut);
                    chunk.consumed += consumed as u64;
                }
                Err(error) => {
                    // The receiver is gone only if the scan already failed.
                    let _ = sender.send(Err(error));
                    return;
                }
            }
        }
        next_line += chunk.ends.len() as u64;
        if !chunk.ends.is_empty() && sender.send(Ok(chunk)).is_err() {
            return;
        }
        if finished {
            return;
        }
    }
}

/// Appends one line (with its newline) to `data`, keeping at most `max`
/// bytes of it; returns the bytes consumed and whether the line was cut.
/// Unlike `read_until`, a gigantic line cannot exhaust memory.
fn read_line_capped<R: BufRead>(
    input: &mut R,
    data: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<(usize, bool)> {
    let (mut consumed, mut kept) = (0, 0);
    loop {
        let buffer = match input.fill_buf() {
            Ok(buffer) => buffer,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if buffer.is_empty() {
            return Ok((consumed, kept < consumed));
        }
        let (piece, done) = match memchr::memchr(b'\n', buffer) {
            Some(newline) => (buffer.get(..=newline).unwrap_or(buffer), true),
            None => (buffer, false),
        };
        let keep = piece.len().min(max.saturating_sub(kept));
        data.extend_from_slice(piece.get(..keep).unwrap_or_default());
        kept += keep;
        let length = piece.len();
        consumed += length;
        input.consume(length);
        if done {
            return Ok((consumed, kept < consumed));
        }
    }
}

fn too_long(line_number: u64, max_line_bytes: usize) -> (Vec<u8>, Outcome) {
    let error = format!("line longer than {max_line_bytes} bytes");
    let mut bytes = serde_json::to_vec(&LineError {
        line: line_number,
        error: &error,
    })
    .unwrap_or_default();
    bytes.push(b'\n');
    (bytes, Outcome::Error)
}

/// One output line (with its newline) for one input line.
fn render(
    engine: &Engine,
    evidence: &(dyn Fn(&Listing) -> Vec<Reason> + Sync),
    line_number: u64,
    line: &[u8],
) -> (Vec<u8>, Outcome) {
    let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
    let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
    let parsed = if trimmed.iter().all(u8::is_ascii_whitespace) {
        Err("empty line".to_owned())
    } else {
        serde_json::from_slice::<Listing>(trimmed).map_err(|error| error.to_string())
    };
    let (serialized, outcome) = match parsed {
        Ok(listing) => {
            let finding = engine.scan_with(&listing, &SellerContext::default(), evidence(&listing));
            let action = finding.action;
            (serde_json::to_vec(&finding), Outcome::Finding(action))
        }
        Err(error) => (
            serde_json::to_vec(&LineError {
                line: line_number,
                error: &error,
            }),
            Outcome::Error,
        ),
    };
    // Serialising our own plain structs cannot fail; should it ever, the
    // line still gets a record rather than vanishing.
    let mut bytes = serialized.unwrap_or_else(|_| {
        format!("{{\"line\":{line_number},\"error\":\"internal: cannot serialise finding\"}}")
            .into_bytes()
    });
    bytes.push(b'\n');
    (bytes, outcome)
}
