//! The immutable, compacted bulk of the index.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::Match;
use crate::hash::Hash256;
use crate::plan::{Layout, MAX_RADIUS, Plan, Substring, plans};

/// Below this many hashes a segment builds no tables: a linear scan of a few
/// thousand hashes is as fast as probing and costs no memory.
const MIN_INDEXED_LEN: usize = 4096;

/// Sorted, immutable hashes with their multi-index tables.
///
/// Hashes are stored in ascending id order, so a hash's position is the rank
/// of its id and removing by id needs only a binary search, not a map.
pub(crate) struct Segment {
    ids: Vec<u64>,
    hashes: Vec<Hash256>,
    tables: Option<Tables>,
}

struct Tables {
    layout: Layout,
    tables: Vec<Table>,
    /// Bytes per entry (see [`Layout::entry_bytes`]).
    entry_bytes: usize,
    /// The plan for each radius 0..=MAX_RADIUS, worked out once per segment.
    plans: Vec<Plan>,
}

/// One substring's table: entries grouped by the top `directory_bits` of the
/// substring, bucket `p` being entries `directory[p]..directory[p + 1]`.
/// Each entry is `residual << position_bits | position`, stored in as few
/// bytes as it needs: three bytes instead of four leave room for more tables.
struct Table {
    directory: Vec<u32>,
    entries: Vec<u8>,
}

impl Segment {
    /// Builds a segment from records sorted by id with no id repeated.
    pub(crate) fn build(ids: Vec<u64>, hashes: Vec<Hash256>, substrings: Option<usize>) -> Self {
        debug_assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        let tables = if ids.len() < MIN_INDEXED_LEN {
            None
        } else {
            Layout::for_len(ids.len(), substrings).map(|layout| Tables::build(layout, &hashes))
        };
        Segment {
            ids,
            hashes,
            tables,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(crate) fn position_of(&self, id: u64) -> Option<u32> {
        // Positions fit in u32 in any segment a machine can hold: 2^32 hashes
        // would take over 170 GB for the hashes and ids alone.
        self.ids
            .binary_search(&id)
            .ok()
            .map(|position| position as u32)
    }

    pub(crate) fn records(&self) -> impl Iterator<Item = (u64, Hash256)> + '_ {
        self.ids.iter().copied().zip(self.hashes.iter().copied())
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let tables = self.tables.as_ref().map_or(0, |tables| {
            tables
                .tables
                .iter()
                .map(|table| table.directory.capacity() * 4 + table.entries.capacity())
                .sum()
        });
        self.ids.capacity() * size_of::<u64>()
            + self.hashes.capacity() * size_of::<Hash256>()
            + tables
    }

    /// Appends to `out` every live hash within `radius` of `query`; positions
    /// in `removed` are tombstones and are skipped.
    pub(crate) fn query(
        &self,
        query: &Hash256,
        radius: u32,
        removed: &HashSet<u32>,
        out: &mut Vec<Match>,
    ) {
        let radius = radius.min(MAX_RADIUS);
        match &self.tables {
            Some(tables) => match &tables.plans[radius as usize] {
                Plan::Tables { radii, found_by } => {
                    self.query_tables(tables, radii, *found_by, query, radius, removed, out)
                }
                Plan::Linear => self.query_linear(query, radius, removed, out),
            },
            None => self.query_linear(query, radius, removed, out),
        }
    }

    fn query_linear(
        &self,
        query: &Hash256,
        radius: u32,
        removed: &HashSet<u32>,
        out: &mut Vec<Match>,
    ) {
        for (position, hash) in self.hashes.iter().enumerate() {
            let distance = hash.distance(query);
            if distance <= radius && !removed.contains(&(position as u32)) {
                out.push(Match {
                    id: self.ids[position],
                    distance,
                });
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn query_tables(
        &self,
        tables: &Tables,
        radii: &[i32],
        found_by: u32,
        query: &Hash256,
        radius: u32,
        removed: &HashSet<u32>,
        out: &mut Vec<Match>,
    ) {
        SCRATCH.with_borrow_mut(|scratch| {
            // Only when each match is found at least twice: positions found
            // so far, marked at position modulo the bitmap's size.
            let mut seen = (found_by >= 2).then(|| {
                scratch.seen.fill(0);
                &mut *scratch.seen
            });
            let buckets = &mut scratch.buckets;
            tables.buckets(radii, query, buckets);
            // Software pipelining: while one group of buckets is scanned and
            // counted, the next group's entries are on their way from memory,
            // and so are the hashes of the candidates verified at the end.
            // Each step is a likely cache miss (directory, bucket, hash);
            // waiting for them group by group left the core idle for about a
            // third of a query.
            let mut groups = buckets.chunks(GROUP_BUCKETS).peekable();
            if let Some(first) = groups.peek() {
                tables.prefetch_entries(first);
            }
            let (candidates, verify) = (&mut scratch.candidates, &mut scratch.verify);
            verify.clear();
            while let Some(group) = groups.next() {
                if let Some(next) = groups.peek() {
                    tables.prefetch_entries(next);
                }
                tables.touch_entries(group);
                tables.scan(group, seen.as_deref_mut(), candidates);
                for &position in candidates.iter() {
                    if let Some(hash) = self.hashes.get(position as usize) {
                        prefetch(hash);
                    }
                }
                verify.extend_from_slice(candidates);
            }
            let mut matches = Vec::new();
            for &position in verify.iter() {
                let distance = self.hashes[position as usize].distance(query);
                if distance <= radius {
                    matches.push((position, distance));
                }
            }
            self.report(matches, removed, out);
        });
    }

    /// Appends `matches` (position, distance) to `out`, each once and
    /// without tombstones.
    fn report(&self, mut matches: Vec<(u32, u32)>, removed: &HashSet<u32>, out: &mut Vec<Match>) {
        // A hash close to the query on several substrings is found by several
        // tables; the few matches are sorted so that each is reported once.
        matches.sort_unstable();
        matches.dedup();
        for (position, distance) in matches {
            if !removed.contains(&position) {
                out.push(Match {
                    id: self.ids[position as usize],
                    distance,
                });
            }
        }
    }
}

/// The bitmap of positions found so far has this many 64-bit words
/// (64 KiB, in the L2 cache). Measured at a million hashes, half the size
/// was slower (more positions share a bit and get verified) and twice the
/// size no faster.
const SEEN_WORDS: usize = 8192;

/// A query's working memory, kept per thread (about 100 KiB at a million
/// hashes): allocating the 64 KiB bitmap afresh for every query cost page
/// faults on top of clearing it (9 % of a query at a million hashes).
struct Scratch {
    seen: Box<[u64; SEEN_WORDS]>,
    buckets: Vec<Bucket>,
    candidates: Vec<u32>,
    verify: Vec<u32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch {
        seen: Box::new([0; SEEN_WORDS]),
        buckets: Vec::new(),
        candidates: Vec::new(),
        verify: Vec::new(),
    });
}

/// Marks `position` in `seen` if it passed the residual filter, and adds it
/// to `found_twice` if it was marked before. Positions that share a bitmap
/// bit pass too, which costs a verification but never loses a match.
#[inline(always)]
fn mark(seen: &mut [u64; SEEN_WORDS], position: u32, passes: bool, found_twice: &mut Vec<u32>) {
    let slot = position as usize % (SEEN_WORDS * 64);
    let word = &mut seen[slot / 64];
    // A zero bit for an entry that failed the filter keeps this free of a
    // branch on the filter, which would mispredict; the branch on the bit is
    // rarely taken (a few dozen entries of 8,000 at a million hashes), so it
    // predicts well and most entries cost no store but the bitmap's.
    let bit = u64::from(passes) << (slot % 64);
    if *word & bit != 0 {
        found_twice.push(position);
    }
    *word |= bit;
}

/// Buckets are scanned in groups of this many, the next group's entries
/// being fetched meanwhile. Measured at a million hashes, 32 to 64 were
/// best, 128 slower and 256 slower still (the prefetches wait for room).
const GROUP_BUCKETS: usize = 64;

impl Tables {
    /// Replaces `buckets` with the buckets to scan, table after table.
    fn buckets(&self, radii: &[i32], query: &Hash256, buckets: &mut Vec<Bucket>) {
        // The directory entries are scattered cache misses: all are requested
        // before the first is read, so that they arrive together.
        self.for_each_probe(radii, query, |table, prefix, _, _| {
            if let Some(start) = self.tables[table].directory.get(prefix) {
                prefetch(start);
            }
        });
        buckets.clear();
        self.for_each_probe(
            radii,
            query,
            |index, prefix, query_residual, residual_limit| {
                let table = &self.tables[index];
                buckets.push(Bucket {
                    table: index as u32,
                    start: table.directory[prefix],
                    end: table.directory[prefix + 1],
                    query_residual,
                    residual_limit,
                });
            },
        );
    }

    /// Calls `visit(table, directory prefix, query residual, residual limit)`
    /// for every bucket within the tables' radii of the query.
    fn for_each_probe(
        &self,
        radii: &[i32],
        query: &Hash256,
        mut visit: impl FnMut(usize, usize, u32, u32),
    ) {
        let layout = &self.layout;
        for (index, substring) in layout.substrings.iter().enumerate() {
            let table_radius = radii[index];
            let residual_bits = substring.width - layout.directory_bits;
            let key = query.bits(substring.start, substring.width);
            let query_prefix = key >> residual_bits;
            let query_residual = (key & ((1u32 << residual_bits) - 1)) << layout.position_bits;
            for prefix_distance in 0..=table_radius.min(layout.directory_bits as i32) {
                let residual_limit = (table_radius - prefix_distance) as u32;
                for_each_flip(layout.directory_bits, prefix_distance as u32, |flip| {
                    visit(
                        index,
                        (query_prefix ^ flip) as usize,
                        query_residual,
                        residual_limit,
                    );
                });
            }
        }
    }

    /// The first and last bytes of a bucket's entries. A bucket often spans
    /// two cache lines, so both ends are fetched (the processor fetches a
    /// line between them by itself).
    fn bucket_ends(&self, bucket: &Bucket) -> [Option<&u8>; 2] {
        let entries = &self.tables[bucket.table as usize].entries;
        let first = bucket.start as usize * self.entry_bytes;
        let last = (bucket.end as usize * self.entry_bytes).saturating_sub(1);
        [entries.get(first), entries.get(last)]
    }

    /// Asks for the buckets' entries without waiting for them.
    fn prefetch_entries(&self, buckets: &[Bucket]) {
        for byte in buckets
            .iter()
            .flat_map(|bucket| self.bucket_ends(bucket))
            .flatten()
        {
            prefetch(byte);
        }
    }

    /// Loads the buckets' entries, prefetched into the L2 cache, into L1 in
    /// one pass of independent loads: the scan's vectorised reads of 3-byte
    /// entries wait on each other, so from L2 they took twice as long.
    fn touch_entries(&self, buckets: &[Bucket]) {
        touch(
            buckets
                .iter()
                .flat_map(|bucket| self.bucket_ends(bucket))
                .map(|end| end.copied().map_or(0, u32::from)),
        );
    }

    /// Replaces `candidates` with the positions in `buckets` whose residual
    /// is within the bucket's limit of the query's; with `seen`, only those
    /// found for at least the second time this query, marking the others.
    fn scan(
        &self,
        buckets: &[Bucket],
        seen: Option<&mut [u64; SEEN_WORDS]>,
        candidates: &mut Vec<u32>,
    ) {
        match self.entry_bytes {
            3 => self.collect::<3>(buckets, seen, candidates),
            _ => self.collect::<4>(buckets, seen, candidates),
        }
    }

    fn collect<const BYTES: usize>(
        &self,
        buckets: &[Bucket],
        seen: Option<&mut [u64; SEEN_WORDS]>,
        candidates: &mut Vec<u32>,
    ) {
        candidates.clear();
        if let Some(seen) = seen {
            // Counting as the entries are read: a separate pass over all of
            // them was measured 2-7 % slower.
            self.for_each_entry::<BYTES>(buckets, |position, passes| {
                mark(seen, position, passes, candidates)
            });
            return;
        }
        // Every scanned entry is written to the next free slot, and the count
        // of kept ones advances only if it passes the filter: no branch
        // depends on the entries, which would mispredict often.
        let scanned: usize = buckets
            .iter()
            .map(|bucket| (bucket.end - bucket.start) as usize)
            .sum();
        candidates.resize(scanned, 0);
        let mut kept = 0;
        self.for_each_entry::<BYTES>(buckets, |position, passes| {
            candidates[kept] = position;
            kept += usize::from(passes);
        });
        candidates.truncate(kept);
    }

    /// Calls `visit(position, passes)` for every entry of `buckets`, where
    /// `passes` says whether its residual is within the bucket's limit of
    /// the query's.
    #[inline(always)]
    fn for_each_entry<const BYTES: usize>(
        &self,
        buckets: &[Bucket],
        mut visit: impl FnMut(u32, bool),
    ) {
        let layout = &self.layout;
        let position_bits = layout.position_bits;
        let position_mask = (1u32 << position_bits) - 1;
        for bucket in buckets {
            let index = bucket.table as usize;
            let table = &self.tables[index];
            let residual_bits = layout.substrings[index].width - layout.directory_bits;
            let (limit, query_residual) = (bucket.residual_limit, bucket.query_residual);
            let entries = bucket_entries::<BYTES>(&table.entries, bucket);
            // The residual sits above the position bits, so shifting the XOR
            // down leaves only residual bits.
            if limit >= residual_bits {
                for entry in entries {
                    visit(entry & position_mask, true);
                }
            } else if let Some(allowed) = within_limit_mask(residual_bits, limit) {
                for entry in entries {
                    let passes = (allowed >> ((entry ^ query_residual) >> position_bits)) & 1;
                    visit(entry & position_mask, passes != 0);
                }
            } else {
                for entry in entries {
                    let residual = (entry ^ query_residual) >> position_bits;
                    visit(entry & position_mask, residual.count_ones() <= limit);
                }
            }
        }
    }
}

/// The entries of `bucket` in a table's `entries`, each `BYTES` bytes
/// little-endian. Tables are padded so that four bytes can be read at every
/// entry, which lets the compiler read each with one load.
fn bucket_entries<const BYTES: usize>(
    entries: &[u8],
    bucket: &Bucket,
) -> impl Iterator<Item = u32> {
    let bytes = entries
        .get(bucket.start as usize * BYTES..bucket.end as usize * BYTES + 4 - BYTES)
        .unwrap_or_default();
    // Hidden from the optimiser, which would otherwise split each 4-byte
    // read into a 2-byte and a 1-byte load to skip the masked byte (measured
    // about 10 % slower per query at a million hashes).
    let mask = std::hint::black_box(u32::MAX >> (32 - 8 * BYTES));
    bytes
        .windows(4)
        .step_by(BYTES)
        .map(move |word| u32::from_le_bytes([word[0], word[1], word[2], word[3]]) & mask)
}

/// A directory bucket of table `table` to scan, and how far its entries' residual bits may
/// differ from the query's.
struct Bucket {
    table: u32,
    start: u32,
    end: u32,
    /// The query's residual, shifted as in the entries.
    query_residual: u32,
    residual_limit: u32,
}

/// Loads every value and discards the result. The loads are independent,
/// so they overlap, and the pass that then uses the same memory finds it in
/// the L1 cache.
fn touch(values: impl Iterator<Item = u32>) {
    std::hint::black_box(values.fold(0u32, |all, value| all ^ value));
}

/// Starts loading the cache line holding `value` into the L2 cache, without
/// waiting for it: unlike a load, a prefetch leaves the processor's window
/// at once, so the work that follows runs while the line is on its way.
/// Prefetching into L1 instead was measured to bring far fewer lines in
/// time (a 256-line batch: 2.5 µs cold, 0.65 µs after prefetching into L1,
/// 0.27 µs after prefetching into L2, 0.17 µs from L1).
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    safe_arch::prefetch_t1(value);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = value;
}

/// Residuals of up to this many bits are filtered through [`WITHIN_LIMIT`].
const MASKED_RESIDUAL_BITS: u32 = 6;

/// `WITHIN_LIMIT[bits][limit]` has bit `v` set for every `bits`-bit value `v`
/// with at most `limit` ones. Looking a residual XOR up in it replaces a
/// popcount per scanned entry, which this build may not have as an
/// instruction (the baseline x86-64 target has none).
const WITHIN_LIMIT: [[u64; 7]; 7] = {
    let mut table = [[0u64; 7]; 7];
    let mut bits = 0;
    while bits <= MASKED_RESIDUAL_BITS as usize {
        let mut limit = 0;
        while limit <= MASKED_RESIDUAL_BITS as usize {
            let mut value = 0u32;
            while value < 1 << bits {
                if value.count_ones() as usize <= limit {
                    table[bits][limit] |= 1 << value;
                }
                value += 1;
            }
            limit += 1;
        }
        bits += 1;
    }
    table
};

fn within_limit_mask(bits: u32, limit: u32) -> Option<u64> {
    (bits <= MASKED_RESIDUAL_BITS)
        .then(|| WITHIN_LIMIT[bits as usize][limit.min(MASKED_RESIDUAL_BITS) as usize])
}

/// Calls `visit` with every `bits`-bit mask that has exactly `count` bits set,
/// in increasing order (Gosper's hack).
fn for_each_flip(bits: u32, count: u32, mut visit: impl FnMut(u32)) {
    if count > bits {
        return;
    }
    if count == 0 {
        visit(0);
        return;
    }
    let limit = 1u64 << bits;
    let mut mask = (1u64 << count) - 1;
    while mask < limit {
        visit(mask as u32);
        // The next larger integer with the same number of ones. Gosper's
        // version divides by `lowest`, a power of two, so shift instead.
        let lowest = mask & mask.wrapping_neg();
        let ripple = mask + lowest;
        mask = (((ripple ^ mask) >> 2) >> lowest.trailing_zeros()) | ripple;
    }
}

impl Tables {
    fn build(layout: Layout, hashes: &[Hash256]) -> Self {
        // One chunk of tables per thread, each reusing one scratch buffer:
        // a fresh buffer per table would be faulted in page by page again.
        let per_thread = layout
            .substrings
            .len()
            .div_ceil(rayon::current_num_threads());
        let tables = layout
            .substrings
            .par_chunks(per_thread.max(1))
            .flat_map_iter(|substrings| {
                let mut staged = Vec::new();
                substrings
                    .iter()
                    .map(|substring| Table::build(&layout, substring, hashes, &mut staged))
                    .collect::<Vec<_>>()
            })
            .collect();
        let plans = plans(&layout, hashes.len());
        let entry_bytes = layout.entry_bytes();
        Tables {
            layout,
            tables,
            entry_bytes,
            plans,
        }
    }
}

/// The first radix pass splits a table's entries by this many top bits of
/// the directory prefix.
const PARTITION_BITS: u32 = 8;

impl Table {
    /// Groups positions by directory prefix with a two-pass radix sort.
    ///
    /// A single counting sort would write each of millions of entries to a
    /// random place in a table far larger than the caches, one cache miss
    /// (and TLB miss) per entry, which made building 10 million hashes take
    /// tens of seconds. The first pass writes to only 256 sequential streams;
    /// the second sorts one partition at a time, whose counters and entries
    /// fit in cache. Both passes are stable, so each bucket lists positions
    /// in ascending order.
    ///
    /// `staged` is scratch space, reused across the tables one thread builds
    /// so that building allocates it once rather than once per table.
    fn build(
        layout: &Layout,
        substring: &Substring,
        hashes: &[Hash256],
        staged: &mut Vec<u64>,
    ) -> Self {
        let residual_bits = substring.width - layout.directory_bits;
        let partition_bits = layout.directory_bits.min(PARTITION_BITS);
        let low_bits = layout.directory_bits - partition_bits;
        let partition_shift = residual_bits + low_bits;
        let key_of = |hash: &Hash256| hash.bits(substring.start, substring.width);

        let mut partition_starts = vec![0usize; (1 << partition_bits) + 1];
        for hash in hashes {
            partition_starts[(key_of(hash) >> partition_shift) as usize + 1] += 1;
        }
        for partition in 0..1 << partition_bits {
            partition_starts[partition + 1] += partition_starts[partition];
        }
        // Each staged item is the substring in the high half and the
        // position in the low half.
        staged.clear();
        staged.resize(hashes.len(), 0);
        let mut cursor = partition_starts.clone();
        for (position, hash) in hashes.iter().enumerate() {
            let key = key_of(hash);
            let partition = (key >> partition_shift) as usize;
            staged[cursor[partition]] = (u64::from(key) << 32) | position as u64;
            cursor[partition] += 1;
        }

        let low_mask = (1u32 << low_bits) - 1;
        let residual_mask = (1u32 << residual_bits) - 1;
        let mut directory = vec![0u32; (1 << layout.directory_bits) + 1];
        let entry_bytes = layout.entry_bytes();
        // Padding lets every entry be read as four bytes.
        let mut entries = vec![0u8; staged.len() * entry_bytes + 4 - entry_bytes];
        let mut counts = vec![0usize; (1 << low_bits) + 1];
        for partition in 0..1usize << partition_bits {
            let base = partition_starts[partition];
            let items = &staged[base..partition_starts[partition + 1]];
            counts.fill(0);
            for &item in items {
                let key = (item >> 32) as u32;
                counts[((key >> residual_bits) & low_mask) as usize + 1] += 1;
            }
            for low in 0..1usize << low_bits {
                counts[low + 1] += counts[low];
                directory[(partition << low_bits) + low] = (base + counts[low]) as u32;
            }
            for &item in items {
                let key = (item >> 32) as u32;
                let low = ((key >> residual_bits) & low_mask) as usize;
                let position = item as u32;
                let entry = ((key & residual_mask) << layout.position_bits) | position;
                let start = (base + counts[low]) * entry_bytes;
                entries[start..start + entry_bytes]
                    .copy_from_slice(&entry.to_le_bytes()[..entry_bytes]);
                counts[low] += 1;
            }
        }
        directory[1 << layout.directory_bits] = staged.len() as u32;
        Table { directory, entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::table_radii;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn flip_bits(hash: Hash256, count: u32, rng: &mut StdRng) -> Hash256 {
        let mut flipped = hash;
        let mut positions: Vec<u32> = (0..256).collect();
        for step in 0..count.min(256) as usize {
            let pick = rng.gen_range(step..positions.len());
            positions.swap(step, pick);
            let bit = positions[step];
            flipped.0[(bit / 64) as usize] ^= 1 << (bit % 64);
        }
        flipped
    }

    fn sorted(mut matches: Vec<Match>) -> Vec<Match> {
        matches.sort_unstable();
        matches
    }

    /// Plants hashes at distance 0, `radius`, `radius + 1` and in between
    /// from a query, and checks that the tables (searched at every radius,
    /// including those where the planner would choose a linear scan) find
    /// exactly what a linear scan finds.
    fn check_tables_against_linear(
        seed: u64,
        len: usize,
        layout: Layout,
        radius: u32,
        found_by: u32,
    ) -> Result<(), TestCaseError> {
        let mut rng = StdRng::seed_from_u64(seed);
        let query = Hash256(rng.r#gen());
        let hashes: Vec<Hash256> = (0..len)
            .map(|index| match index % 5 {
                0 => flip_bits(query, radius, &mut rng),
                1 => flip_bits(query, radius + 1, &mut rng),
                2 => flip_bits(query, rng.gen_range(0..=radius), &mut rng),
                3 => flip_bits(query, 0, &mut rng),
                _ => Hash256(rng.r#gen()),
            })
            .collect();
        let Some(radii) = table_radii(&layout, len, radius, found_by) else {
            return Ok(());
        };
        let tables = Tables::build(layout, &hashes);
        let segment = Segment {
            ids: (0..len as u64).map(|id| id * 3).collect(),
            hashes,
            tables: None,
        };
        let removed: HashSet<u32> = (0..len as u32)
            .filter(|position| position % 7 == 3)
            .collect();

        let mut expected = Vec::new();
        segment.query_linear(&query, radius, &removed, &mut expected);
        let mut found = Vec::new();
        segment.query_tables(
            &tables, &radii, found_by, &query, radius, &removed, &mut found,
        );
        prop_assert_eq!(sorted(found), sorted(expected));
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn tables_find_exactly_what_a_linear_scan_finds(
            seed: u64,
            len in 1usize..700,
            substrings in 8usize..=17,
            radius in 0u32..=72,
            found_by in 1u32..=2,
        ) {
            let layout = Layout::for_len(len, Some(substrings)).unwrap();
            check_tables_against_linear(seed, len, layout, radius, found_by)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Large indexes keep only a few residual bits per entry (filtered
        /// through `WITHIN_LIMIT`); small ones keep many (filtered by
        /// popcount). This covers both with small data by setting the
        /// directory width directly.
        #[test]
        fn tables_with_any_residual_width_find_what_a_linear_scan_finds(
            seed: u64,
            len in 1usize..400,
            residual_bits in 0u32..=8,
            radius in 0u32..=40,
            found_by in 1u32..=2,
        ) {
            let mut layout = Layout::for_len(len, Some(13)).unwrap();
            let narrow = layout.substrings.iter().map(|substring| substring.width).min().unwrap();
            layout.directory_bits = narrow - residual_bits;
            check_tables_against_linear(seed, len, layout, radius, found_by)?;
        }
    }

    #[test]
    fn flips_enumerate_every_mask_of_the_given_weight_once() {
        for bits in [1, 5, 16] {
            for count in 0..=3 {
                let mut seen = Vec::new();
                for_each_flip(bits, count, |mask| seen.push(mask));
                let expected: Vec<u32> = (0..1u32 << bits)
                    .filter(|mask| mask.count_ones() == count)
                    .collect();
                assert_eq!(seen, expected, "bits {bits} count {count}");
            }
        }
    }
}
