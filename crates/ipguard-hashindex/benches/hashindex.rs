#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Query and build speed on random hashes. The comparison with faiss lives in
//! `bench/images/index_bench.py`, which drives `examples/index_bench.rs`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipguard_hashindex::{DEFAULT_RADIUS, HashIndex, IndexConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn random_entries(rng: &mut StdRng, count: usize) -> Vec<(u64, [u8; 32])> {
    (0..count as u64).map(|id| (id, rng.r#gen())).collect()
}

/// Queries half of which are a stored hash with a few bits flipped, so that
/// answers are not all empty.
fn queries(rng: &mut StdRng, entries: &[(u64, [u8; 32])], count: usize) -> Vec<[u8; 32]> {
    (0..count)
        .map(|index| {
            if index % 2 == 0 {
                return rng.r#gen();
            }
            let mut hash = entries[rng.gen_range(0..entries.len())].1;
            for _ in 0..rng.gen_range(0..=DEFAULT_RADIUS) {
                let bit = rng.gen_range(0..256);
                hash[bit / 8] ^= 1 << (bit % 8);
            }
            hash
        })
        .collect()
}

fn bench_query(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("query_radius_31");
    group.sample_size(20);
    for size in [100_000usize, 1_000_000] {
        let mut rng = StdRng::seed_from_u64(size as u64);
        let entries = random_entries(&mut rng, size);
        let queries = queries(&mut rng, &entries, 256);
        let index = HashIndex::from_entries(IndexConfig::default(), entries);
        group.throughput(Throughput::Elements(queries.len() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(size),
            &queries,
            |bencher, queries| {
                bencher.iter(|| {
                    queries
                        .iter()
                        .map(|query| index.query(query, DEFAULT_RADIUS).len())
                        .sum::<usize>()
                });
            },
        );
    }
    group.finish();
}

fn bench_build(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("build");
    group.sample_size(10);
    let size = 1_000_000;
    let entries = random_entries(&mut StdRng::seed_from_u64(7), size);
    group.throughput(Throughput::Elements(size as u64));
    group.bench_function(BenchmarkId::from_parameter(size), |bencher| {
        bencher.iter(|| {
            HashIndex::from_entries(IndexConfig::default(), entries.iter().copied()).len()
        });
    });
    group.finish();
}

criterion_group!(benches, bench_query, bench_build);
criterion_main!(benches);
