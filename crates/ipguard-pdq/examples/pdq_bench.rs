//! Throughput measurements for bench/images/hash_bench.py, which runs the
//! reference `pdqhash` on the same images in the same run.
//!
//! `pdq_bench pixels THREADS SECONDS FILE...` decodes the files once, then
//! hashes the decoded pixels for about SECONDS. `pdq_bench jpeg THREADS
//! SECONDS FILE...` keeps the files' bytes in memory and times decoding alone
//! and decoding and hashing, in alternating rounds. Each prints one JSON object a line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use rayon::prelude::*;

/// The fastest of 20 runs of `work` on each of `count` inputs, in
/// milliseconds: a figure that load from other processes disturbs least.
fn fastest_ms(count: usize, work: impl Fn(usize)) -> f64 {
    (0..count * 20)
        .map(|i| {
            let start = Instant::now();
            work(i % count);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .fold(f64::INFINITY, f64::min)
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// Runs `work(i)` for i = 0, 1, 2, ... on `threads` threads in rounds of
/// `batch` items until `seconds` have passed; returns items per second.
fn rate(threads: usize, seconds: f64, batch: usize, work: impl Fn(usize) + Sync) -> f64 {
    pool(threads).install(|| {
        (0..batch).into_par_iter().for_each(&work);
        let start = Instant::now();
        let mut done = 0usize;
        while start.elapsed() < Duration::from_secs_f64(seconds) {
            (0..batch).into_par_iter().for_each(&work);
            done += batch;
        }
        done as f64 / start.elapsed().as_secs_f64()
    })
}

/// The rates of two kinds of work, measured in alternating rounds for
/// `seconds` each in all, so that load from other processes falls on both
/// alike and their ratio stays fair.
fn paired_rates(
    threads: usize,
    seconds: f64,
    batch: usize,
    first: impl Fn(usize) + Sync,
    second: impl Fn(usize) + Sync,
) -> (f64, f64) {
    pool(threads).install(|| {
        let round = |work: &(dyn Fn(usize) + Sync)| {
            let start = Instant::now();
            (0..batch).into_par_iter().for_each(work);
            start.elapsed()
        };
        round(&first);
        round(&second);
        let (mut first_time, mut second_time, mut done) = (Duration::ZERO, Duration::ZERO, 0usize);
        while first_time + second_time < Duration::from_secs_f64(2.0 * seconds) {
            first_time += round(&first);
            second_time += round(&second);
            done += batch;
        }
        (
            done as f64 / first_time.as_secs_f64(),
            done as f64 / second_time.as_secs_f64(),
        )
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, threads, seconds, files) = (
        args[1].as_str(),
        args[2].parse::<usize>().unwrap(),
        args[3].parse::<f64>().unwrap(),
        &args[4..],
    );
    let batch = files.len() * threads.max(1) * 2;
    match mode {
        "pixels" => {
            let images: Vec<_> = files
                .iter()
                .map(|file| image::open(file).unwrap().into_rgb8())
                .collect();
            let per_second = rate(threads, seconds, batch, |i| {
                let image = &images[i % images.len()];
                let (width, height) = (image.width() as usize, image.height() as usize);
                std::hint::black_box(ipguard_pdq::hash_rgb(width, height, image.as_raw()).unwrap());
            });
            let fastest_ms = fastest_ms(images.len(), |i| {
                let image = &images[i];
                let (width, height) = (image.width() as usize, image.height() as usize);
                std::hint::black_box(ipguard_pdq::hash_rgb(width, height, image.as_raw()).unwrap());
            });
            println!(
                "{{\"mode\":\"pixels\",\"threads\":{threads},\"images_per_second\":{per_second:.2},\
                 \"fastest_ms\":{fastest_ms:.3}}}"
            );
        }
        "jpeg" => {
            let bytes: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
            let (decode, decode_and_hash) = paired_rates(
                threads,
                seconds,
                batch,
                |i| {
                    std::hint::black_box(image::load_from_memory(&bytes[i % bytes.len()]).unwrap());
                },
                |i| {
                    std::hint::black_box(ipguard_pdq::hash_bytes(&bytes[i % bytes.len()]).unwrap());
                },
            );
            let decode_ms = fastest_ms(bytes.len(), |i| {
                std::hint::black_box(image::load_from_memory(&bytes[i]).unwrap());
            });
            let decode_and_hash_ms = fastest_ms(bytes.len(), |i| {
                std::hint::black_box(ipguard_pdq::hash_bytes(&bytes[i]).unwrap());
            });
            // Per file, as flat images take a second, full decode (see
            // ipguard_pdq's crate docs) and cost about twice as much.
            let per_file: Vec<String> = bytes
                .iter()
                .map(|file| {
                    let decode = fastest_ms(1, |_| {
                        std::hint::black_box(image::load_from_memory(file).unwrap());
                    });
                    let both = fastest_ms(1, |_| {
                        std::hint::black_box(ipguard_pdq::hash_bytes(file).unwrap());
                    });
                    format!("{:.3}", both / decode)
                })
                .collect();
            println!(
                "{{\"mode\":\"jpeg\",\"threads\":{threads},\"decode_per_second\":{decode:.2},\
                 \"decode_and_hash_per_second\":{decode_and_hash:.2},\"fastest_decode_ms\":{decode_ms:.3},\
                 \"fastest_decode_and_hash_ms\":{decode_and_hash_ms:.3},\"per_file_ratio\":[{}]}}",
                per_file.join(",")
            );
        }
        other => panic!("unknown mode {other}: use pixels or jpeg"),
    }
}
