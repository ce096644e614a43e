//! Exact near-duplicate search over 256-bit perceptual hashes (PDQ).
//!
//! [`HashIndex`] stores tens of millions of `(id, hash)` pairs and returns
//! every stored hash within a Hamming distance of a query, exactly: the same
//! answer as comparing the query with every stored hash, only much faster.
//!
//! The key decision is multi-index hashing (Norouzi, Punjani and Fleet,
//! "Fast Search in Hamming Space with Multi-Index Hashing", 2012): the 256
//! bits are cut into 8–17 substrings, each with a table of positions
//! bucketed by substring value, and a query probes each table only at
//! substring values close to its own; by the pigeonhole principle every hash
//! within the radius turns up in some table. Candidates are then verified on
//! the full 256 bits. With more, narrower tables every hash within the
//! radius turns up in at least two of them, and only candidates found twice
//! are verified: that is how a million hashes are searched (see `plan`).
//! Tables are flat arrays of 3- or 4-byte entries (position plus the
//! substring bits the bucket directory does not cover), so the index costs
//! under 100 bytes per hash, the hash and its id included.
//!
//! Writes go to a small delta that queries scan linearly, and removals
//! leave tombstones; past a limit both are folded into a freshly built
//! immutable segment, built outside the lock so queries never wait for the
//! build.
//!
//! What it deliberately is not: it does not compute hashes (that is
//! `ipguard-pdq`), knows nothing of images, brands or listings, and is no
//! approximate-nearest-neighbour index: it never trades recall for speed.
//! Ids are the caller's; the index only keeps one hash per id.

mod delta;
mod hash;
mod persist;
mod plan;
mod segment;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::iter::Peekable;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use hash::hamming_distance;
pub use persist::PersistError;

use delta::Delta;
use hash::Hash256;
use segment::Segment;

/// The PDQ authors' recommended match threshold, and the default radius.
pub const DEFAULT_RADIUS: u32 = 31;

/// One stored hash within the query radius.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Match {
    /// Hamming distance between the stored hash and the query (0–256). It is
    /// the first field so that matches order by distance, then id.
    pub distance: u32,
    /// The id the hash was inserted with.
    pub id: u64,
}

/// Tuning knobs; [`IndexConfig::default`] suits tens of millions of hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexConfig {
    /// Once the delta and the tombstones together hold more than this many
    /// entries, the next insert or remove rebuilds the main segment (in the
    /// calling thread; queries continue meanwhile). Queries scan the delta
    /// linearly, so a larger limit means fewer rebuilds but slower queries.
    /// `usize::MAX` turns automatic rebuilds off: then call
    /// [`HashIndex::compact`] yourself, say from a background task when
    /// [`HashIndex::pending_changes`] grows.
    pub delta_limit: usize,
    /// Number of substrings (tables), clamped to 8..=17. `None` picks, for
    /// the number of stored hashes, the count the cost model expects to be
    /// fastest at [`DEFAULT_RADIUS`] while staying under 100 bytes per hash
    /// (17 at a million hashes, 12 at ten million). A count given here may
    /// take more memory.
    pub substrings: Option<usize>,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            delta_limit: 8192,
            substrings: None,
        }
    }
}

/// A thread-safe index of 256-bit hashes with exact range queries.
///
/// Queries take `&self` and run concurrently; inserts and removes also take
/// `&self` and hold a write lock only briefly.
pub struct HashIndex {
    config: IndexConfig,
    state: RwLock<State>,
    /// Held by whoever is rebuilding the main segment, so that two rebuilds
    /// never race to replace it.
    compaction: Mutex<()>,
}

struct State {
    contents: Contents,
    /// While a rebuild runs, every change is also recorded here so that it
    /// can be replayed onto the new segment, which was built from a snapshot.
    changes_since_snapshot: Option<Vec<Change>>,
}

#[derive(Clone, Copy)]
enum Change {
    Insert(u64, Hash256),
    Remove(u64),
}

impl State {
    fn apply(&mut self, change: Change) -> bool {
        if let Some(changes) = &mut self.changes_since_snapshot {
            changes.push(change);
        }
        self.contents.apply(change)
    }
}

/// What the index holds. Cloning it is cheap next to a rebuild (the main
/// segment is shared; the delta and tombstones are small), so rebuilds and
/// saves work on a clone without holding the lock.
#[derive(Clone)]
struct Contents {
    main: Arc<Segment>,
    /// Positions in `main` whose hash was removed or replaced.
    removed: HashSet<u32>,
    delta: Delta,
}

impl Contents {
    fn new(main: Segment) -> Self {
        Contents {
            main: Arc::new(main),
            removed: HashSet::new(),
            delta: Delta::default(),
        }
    }

    fn live_main_position(&self, id: u64) -> Option<u32> {
        self.main
            .position_of(id)
            .filter(|position| !self.removed.contains(position))
    }

    fn apply(&mut self, change: Change) -> bool {
        match change {
            Change::Insert(id, hash) => {
                let replaced_in_main = match self.live_main_position(id) {
                    Some(position) => self.removed.insert(position),
                    None => false,
                };
                let replaced_in_delta = self.delta.upsert(id, hash);
                replaced_in_main || replaced_in_delta
            }
            Change::Remove(id) => {
                if self.delta.remove(id) {
                    return true;
                }
                match self.live_main_position(id) {
                    Some(position) => self.removed.insert(position),
                    None => false,
                }
            }
        }
    }

    fn backlog(&self) -> usize {
        self.delta.len() + self.removed.len()
    }

    fn len(&self) -> usize {
        self.main.len() - self.removed.len() + self.delta.len()
    }

    /// Every live record in ascending id order.
    fn records(&self) -> impl Iterator<Item = (u64, Hash256)> + '_ {
        let main = self
            .main
            .records()
            .enumerate()
            .filter(|(position, _)| !self.removed.contains(&(*position as u32)))
            .map(|(_, record)| record);
        let mut delta: Vec<(u64, Hash256)> = self.delta.records().collect();
        delta.sort_unstable_by_key(|(id, _)| *id);
        MergeById {
            left: main.peekable(),
            right: delta.into_iter().peekable(),
        }
    }
}

/// Merges two id-sorted record streams that share no id.
struct MergeById<L: Iterator<Item = (u64, Hash256)>, R: Iterator<Item = (u64, Hash256)>> {
    left: Peekable<L>,
    right: Peekable<R>,
}

impl<L, R> Iterator for MergeById<L, R>
where
    L: Iterator<Item = (u64, Hash256)>,
    R: Iterator<Item = (u64, Hash256)>,
{
    type Item = (u64, Hash256);

    fn next(&mut self) -> Option<Self::Item> {
        match (self.left.peek(), self.right.peek()) {
            (Some(left), Some(right)) if right.0 < left.0 => self.right.next(),
            (Some(_), _) => self.left.next(),
            (None, _) => self.right.next(),
        }
    }
}

impl HashIndex {
    /// An empty index.
    pub fn new(config: IndexConfig) -> Self {
        Self::from_sorted(config, Vec::new(), Vec::new())
    }

    /// Builds an index from many records at once, much faster than inserting
    /// them one by one. When an id repeats, its last hash wins, as it would
    /// with [`HashIndex::insert`].
    pub fn from_entries(
        config: IndexConfig,
        entries: impl IntoIterator<Item = (u64, [u8; 32])>,
    ) -> Self {
        let mut entries: Vec<(u64, [u8; 32])> = entries.into_iter().collect();
        // A stable sort keeps repeats in input order, so keeping the last of
        // each run of equal ids keeps the last inserted hash.
        entries.sort_by_key(|(id, _)| *id);
        let mut ids = Vec::with_capacity(entries.len());
        let mut hashes = Vec::with_capacity(entries.len());
        for (index, (id, hash)) in entries.iter().enumerate() {
            if entries.get(index + 1).is_some_and(|next| next.0 == *id) {
                continue;
            }
            ids.push(*id);
            hashes.push(Hash256::from_bytes(hash));
        }
        drop(entries);
        Self::from_sorted(config, ids, hashes)
    }

    fn from_sorted(config: IndexConfig, ids: Vec<u64>, hashes: Vec<Hash256>) -> Self {
        HashIndex {
            config,
            state: RwLock::new(State {
                contents: Contents::new(Segment::build(ids, hashes, config.substrings)),
                changes_since_snapshot: None,
            }),
            compaction: Mutex::new(()),
        }
    }

    /// Stores `hash` under `id`, replacing the hash `id` had. Returns whether
    /// `id` was already present.
    pub fn insert(&self, id: u64, hash: [u8; 32]) -> bool {
        self.change(Change::Insert(id, Hash256::from_bytes(&hash)))
    }

    /// Removes `id` and its hash. Returns whether `id` was present.
    pub fn remove(&self, id: u64) -> bool {
        self.change(Change::Remove(id))
    }

    fn change(&self, change: Change) -> bool {
        let (present, backlog) = {
            let mut state = self.write();
            (state.apply(change), state.contents.backlog())
        };
        if backlog > self.config.delta_limit {
            // Another thread may already be rebuilding; its result will take
            // this change along (it is in the change log), so don't wait.
            if let Ok(guard) = self.compaction.try_lock() {
                self.compact_holding(&guard);
            }
        }
        present
    }

    /// Every stored hash within Hamming distance `radius` of `hash` (use
    /// [`DEFAULT_RADIUS`] for PDQ), ordered by distance, then id.
    pub fn query(&self, hash: &[u8; 32], radius: u32) -> Vec<Match> {
        let query = Hash256::from_bytes(hash);
        let mut matches = Vec::new();
        {
            let contents = &self.read().contents;
            contents
                .main
                .query(&query, radius, &contents.removed, &mut matches);
            contents.delta.query(&query, radius, &mut matches);
        }
        matches.sort_unstable();
        matches
    }

    /// Number of stored hashes.
    pub fn len(&self) -> usize {
        self.read().contents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap memory held by the index, in bytes (hashes, ids, tables, delta
    /// and tombstones; hash-map overheads estimated).
    pub fn heap_bytes(&self) -> usize {
        let contents = &self.read().contents;
        contents.main.heap_bytes()
            + contents.delta.heap_bytes()
            + contents.removed.capacity() * (size_of::<u32>() + 1)
    }

    /// Inserts and removes not yet folded into the main segment (the delta
    /// plus the tombstones).
    pub fn pending_changes(&self) -> usize {
        self.read().contents.backlog()
    }

    /// Folds the delta and the tombstones into a new main segment now, rather
    /// than when the backlog passes [`IndexConfig::delta_limit`]. Queries and
    /// writes continue while the segment is built; call this from a
    /// background thread to keep rebuilds off the write path.
    pub fn compact(&self) {
        let guard = self
            .compaction
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.compact_holding(&guard);
    }

    fn compact_holding(&self, _guard: &std::sync::MutexGuard<'_, ()>) {
        let snapshot = {
            let mut state = self.write();
            if state.contents.backlog() == 0 {
                return;
            }
            state.changes_since_snapshot = Some(Vec::new());
            state.contents.clone()
        };
        let (ids, hashes): (Vec<u64>, Vec<Hash256>) = snapshot.records().unzip();
        let segment = Segment::build(ids, hashes, self.config.substrings);
        let mut state = self.write();
        let changes = state.changes_since_snapshot.take().unwrap_or_default();
        state.contents = Contents::new(segment);
        for change in changes {
            state.contents.apply(change);
        }
    }

    /// Writes the index in a compact, versioned, checksummed format that
    /// [`HashIndex::load`] reads. Writes continue while it runs; the file
    /// holds the contents as of the call.
    pub fn save(&self, writer: impl Write) -> Result<(), PersistError> {
        let snapshot = self.read().contents.clone();
        persist::write_records(writer, snapshot.len() as u64, snapshot.records())
    }

    /// Reads an index written by [`HashIndex::save`] and rebuilds its tables.
    /// A truncated, corrupt or foreign file is an error, never a panic.
    pub fn load(reader: impl Read, config: IndexConfig) -> Result<Self, PersistError> {
        let (ids, hashes) = persist::read_records(reader)?;
        Ok(Self::from_sorted(config, ids, hashes))
    }

    /// A poisoned lock only means another thread panicked while holding it.
    /// No code path here panics between two related changes to the state,
    /// so the state is still consistent and is used as it is.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The service shares one index between request handlers; this fails to
/// compile if a change makes it unshareable.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<HashIndex>();
};

impl std::fmt::Debug for HashIndex {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HashIndex")
            .field("len", &self.len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
