#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The index must answer exactly as a brute-force scan over what was stored,
//! through inserts, removes, compactions and a save/load round trip.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ipguard_hashindex::{HashIndex, IndexConfig, Match, PersistError, hamming_distance};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What the index should hold, and the answers a brute-force scan gives.
#[derive(Default)]
struct Model(BTreeMap<u64, [u8; 32]>);

impl Model {
    fn query(&self, query: &[u8; 32], radius: u32) -> Vec<Match> {
        let mut matches: Vec<Match> = self
            .0
            .iter()
            .map(|(&id, hash)| Match {
                id,
                distance: hamming_distance(hash, query),
            })
            .filter(|found| found.distance <= radius)
            .collect();
        matches.sort_by_key(|found| (found.distance, found.id));
        matches
    }
}

fn flip_bits(hash: [u8; 32], count: u32, rng: &mut StdRng) -> [u8; 32] {
    let mut flipped = hash;
    let mut bits: Vec<usize> = (0..256).collect();
    for step in 0..count.min(256) as usize {
        let pick = rng.gen_range(step..bits.len());
        bits.swap(step, pick);
        flipped[bits[step] / 8] ^= 1 << (bits[step] % 8);
    }
    flipped
}

/// Random hashes plus hashes planted at distance 0, `radius`, `radius + 1`
/// and in between from each query, with ids in scrambled order.
fn planted_entries(
    rng: &mut StdRng,
    queries: &[[u8; 32]],
    radius: u32,
    random: usize,
) -> Vec<(u64, [u8; 32])> {
    let mut hashes: Vec<[u8; 32]> = (0..random).map(|_| rng.r#gen()).collect();
    for query in queries {
        for distance in [0, radius, radius + 1, rng.gen_range(0..=radius), radius / 2] {
            hashes.push(flip_bits(*query, distance, rng));
        }
    }
    hashes
        .into_iter()
        .map(|hash| (rng.r#gen::<u64>() >> 8, hash))
        .collect()
}

fn model_of(entries: &[(u64, [u8; 32])]) -> Model {
    Model(entries.iter().copied().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Large enough that the main segment has tables and the planner uses them
    /// up to radius 40.
    #[test]
    fn bulk_built_index_answers_like_brute_force(seed: u64, radius in prop::sample::select(vec![0u32, 1, 8, 15, 24, 31, 32, 40, 64])) {
        let mut rng = StdRng::seed_from_u64(seed);
        let queries: Vec<[u8; 32]> = (0..12).map(|_| rng.r#gen()).collect();
        let entries = planted_entries(&mut rng, &queries, radius, 20_000);
        let model = model_of(&entries);
        let index = HashIndex::from_entries(IndexConfig::default(), entries);
        prop_assert_eq!(index.len(), model.0.len());
        for query in &queries {
            let expected = model.query(query, radius);
            prop_assert!(expected.iter().any(|found| found.distance == radius), "a hash is planted at the radius");
            prop_assert_eq!(index.query(query, radius), expected);
        }
    }

    #[test]
    fn fixed_table_counts_all_answer_like_brute_force(seed: u64, substrings in 8usize..=17) {
        let mut rng = StdRng::seed_from_u64(seed);
        let queries: Vec<[u8; 32]> = (0..8).map(|_| rng.r#gen()).collect();
        let entries = planted_entries(&mut rng, &queries, 31, 5000);
        let model = model_of(&entries);
        let config = IndexConfig { substrings: Some(substrings), ..IndexConfig::default() };
        let index = HashIndex::from_entries(config, entries);
        for query in &queries {
            prop_assert_eq!(index.query(query, 31), model.query(query, 31));
        }
    }
}

#[derive(Clone, Debug)]
enum Operation {
    Insert {
        id: u64,
        query: usize,
        distance: u32,
    },
    Remove {
        id: u64,
    },
    Compact,
}

fn operation() -> impl Strategy<Value = Operation> {
    // Ids collide often, so inserts replace and removes hit stored ids.
    prop_oneof![
        4 => (0u64..64, 0usize..4, 0u32..40).prop_map(|(id, query, distance)| Operation::Insert { id, query, distance }),
        3 => (0u64..64).prop_map(|id| Operation::Remove { id }),
        1 => Just(Operation::Compact),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// A main segment with tables, a tiny delta limit so that automatic
    /// compactions happen mid-sequence, and queries checked after every step.
    #[test]
    fn inserts_and_removes_interleave_like_brute_force(seed: u64, operations in prop::collection::vec(operation(), 1..60)) {
        let mut rng = StdRng::seed_from_u64(seed);
        let queries: Vec<[u8; 32]> = (0..4).map(|_| rng.r#gen()).collect();
        let mut base: Vec<(u64, [u8; 32])> = (0..5000u64).map(|offset| (1000 + offset, rng.r#gen())).collect();
        for id in 0..32u64 {
            base.push((id, flip_bits(queries[id as usize % 4], 20, &mut rng)));
        }
        let mut model = model_of(&base);
        let config = IndexConfig { delta_limit: 5, ..IndexConfig::default() };
        let index = HashIndex::from_entries(config, base);
        for operation in operations {
            match operation {
                Operation::Insert { id, query, distance } => {
                    let hash = flip_bits(queries[query], distance, &mut rng);
                    prop_assert_eq!(index.insert(id, hash), model.0.insert(id, hash).is_some());
                }
                Operation::Remove { id } => prop_assert_eq!(index.remove(id), model.0.remove(&id).is_some()),
                Operation::Compact => {
                    index.compact();
                    prop_assert_eq!(index.pending_changes(), 0);
                }
            }
            prop_assert_eq!(index.len(), model.0.len());
            for query in &queries {
                prop_assert_eq!(index.query(query, 31), model.query(query, 31));
            }
        }
    }
}

fn sample_index(rng: &mut StdRng, queries: &[[u8; 32]]) -> (HashIndex, Model) {
    let entries = planted_entries(rng, queries, 31, 5000);
    let mut model = model_of(&entries);
    let index = HashIndex::from_entries(IndexConfig::default(), entries);
    // Leave some changes in the delta and the tombstones, uncompacted.
    for id in model.0.keys().copied().step_by(97).collect::<Vec<_>>() {
        assert!(index.remove(id));
        model.0.remove(&id);
    }
    for (offset, query) in queries.iter().enumerate() {
        let hash = flip_bits(*query, 3, rng);
        index.insert(u64::MAX - offset as u64, hash);
        model.0.insert(u64::MAX - offset as u64, hash);
    }
    (index, model)
}

#[test]
fn save_then_load_gives_the_same_answers() {
    let mut rng = StdRng::seed_from_u64(11);
    let queries: Vec<[u8; 32]> = (0..10).map(|_| rng.r#gen()).collect();
    let (index, model) = sample_index(&mut rng, &queries);
    let mut file = Vec::new();
    index.save(&mut file).unwrap();
    let loaded = HashIndex::load(file.as_slice(), IndexConfig::default()).unwrap();
    assert_eq!(loaded.len(), model.0.len());
    for query in &queries {
        assert_eq!(loaded.query(query, 31), model.query(query, 31));
        assert_eq!(loaded.query(query, 31), index.query(query, 31));
    }
}

#[test]
fn empty_index_saves_loads_and_finds_nothing() {
    let index = HashIndex::new(IndexConfig::default());
    let mut file = Vec::new();
    index.save(&mut file).unwrap();
    let loaded = HashIndex::load(file.as_slice(), IndexConfig::default()).unwrap();
    assert!(loaded.is_empty());
    assert!(loaded.query(&[0; 32], 256).is_empty());
}

fn small_saved_file() -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(3);
    let index = HashIndex::from_entries(IndexConfig::default(), (0..6).map(|id| (id, rng.r#gen())));
    let mut file = Vec::new();
    index.save(&mut file).unwrap();
    file
}

#[test]
fn every_truncation_of_a_saved_file_is_reported_as_truncated() {
    let file = small_saved_file();
    for length in 0..file.len() {
        let result = HashIndex::load(&file[..length], IndexConfig::default());
        assert!(
            matches!(result, Err(PersistError::Truncated)),
            "length {length}: {result:?}"
        );
    }
}

#[test]
fn every_single_byte_corruption_is_an_error() {
    let file = small_saved_file();
    for position in 0..file.len() {
        let mut corrupt = file.clone();
        corrupt[position] ^= 0x41;
        let result = HashIndex::load(corrupt.as_slice(), IndexConfig::default());
        assert!(
            result.is_err(),
            "byte {position} flipped but the file loaded"
        );
    }
}

#[test]
fn foreign_and_future_files_get_their_own_errors() {
    let file = small_saved_file();
    let mut foreign = file.clone();
    foreign[..8].copy_from_slice(b"GIF89a\0\0");
    assert!(matches!(
        HashIndex::load(foreign.as_slice(), IndexConfig::default()),
        Err(PersistError::NotAnIndex)
    ));
    let mut future = file;
    future[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert!(matches!(
        HashIndex::load(future.as_slice(), IndexConfig::default()),
        Err(PersistError::UnsupportedVersion(2))
    ));
}

#[test]
fn a_huge_record_count_fails_without_reserving_memory_for_it() {
    let mut file = small_saved_file();
    file[12..20].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    assert!(matches!(
        HashIndex::load(file.as_slice(), IndexConfig::default()),
        Err(PersistError::Truncated)
    ));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_loader(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut file = b"IPGHIDX\0\x01\0\0\0".to_vec();
        file.extend(bytes);
        prop_assert!(HashIndex::load(file.as_slice(), IndexConfig::default()).is_err());
    }
}

#[test]
fn repeated_ids_in_a_bulk_build_keep_the_last_hash() {
    let first = [0u8; 32];
    let last = [0xffu8; 32];
    let index =
        HashIndex::from_entries(IndexConfig::default(), [(7, first), (8, first), (7, last)]);
    assert_eq!(index.len(), 2);
    assert_eq!(index.query(&last, 0), vec![Match { id: 7, distance: 0 }]);
    assert_eq!(index.query(&first, 0), vec![Match { id: 8, distance: 0 }]);
}

/// Writers insert while readers query; each reader must find every hash whose
/// insert had completed before its query started, across compactions.
#[test]
fn concurrent_readers_see_every_completed_insert() {
    let config = IndexConfig {
        delta_limit: 64,
        ..IndexConfig::default()
    };
    let mut rng = StdRng::seed_from_u64(5);
    let base: Vec<(u64, [u8; 32])> = (0..5000u64).map(|id| (1 << 40 | id, rng.r#gen())).collect();
    let index = Arc::new(HashIndex::from_entries(config, base));
    let hashes: Arc<Vec<[u8; 32]>> = Arc::new((0..600).map(|_| rng.r#gen()).collect());
    let inserted = Arc::new(AtomicU64::new(0));

    let writer = {
        let (index, hashes, inserted) = (
            Arc::clone(&index),
            Arc::clone(&hashes),
            Arc::clone(&inserted),
        );
        std::thread::spawn(move || {
            for (id, hash) in hashes.iter().enumerate() {
                index.insert(id as u64, *hash);
                inserted.store(id as u64 + 1, Ordering::Release);
            }
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (index, hashes, inserted) = (
                Arc::clone(&index),
                Arc::clone(&hashes),
                Arc::clone(&inserted),
            );
            std::thread::spawn(move || {
                let mut checked = 0;
                loop {
                    let done = inserted.load(Ordering::Acquire);
                    for id in (0..done).rev().take(8) {
                        let matches = index.query(&hashes[id as usize], 0);
                        assert!(
                            matches.contains(&Match { id, distance: 0 }),
                            "id {id} inserted but not found"
                        );
                        checked += 1;
                    }
                    if done == hashes.len() as u64 {
                        return checked;
                    }
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for reader in readers {
        assert!(reader.join().unwrap() > 0);
    }
    assert_eq!(index.len(), 5600);
}
