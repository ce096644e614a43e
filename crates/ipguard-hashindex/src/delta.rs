//! Recent inserts, not yet compacted into the main segment.

use std::collections::HashMap;

use crate::Match;
use crate::hash::Hash256;

/// A small set of hashes searched by linear scan.
///
/// It stays small (the index compacts it into a new segment past a limit),
/// so a scan over its contiguous hashes is cheaper than keeping tables.
#[derive(Default, Clone)]
pub(crate) struct Delta {
    ids: Vec<u64>,
    hashes: Vec<Hash256>,
    slots: HashMap<u64, usize>,
}

impl Delta {
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(crate) fn upsert(&mut self, id: u64, hash: Hash256) -> bool {
        match self.slots.get(&id) {
            Some(&slot) => {
                self.hashes[slot] = hash;
                true
            }
            None => {
                self.slots.insert(id, self.ids.len());
                self.ids.push(id);
                self.hashes.push(hash);
                false
            }
        }
    }

    pub(crate) fn remove(&mut self, id: u64) -> bool {
        let Some(slot) = self.slots.remove(&id) else {
            return false;
        };
        self.ids.swap_remove(slot);
        self.hashes.swap_remove(slot);
        if let Some(&moved) = self.ids.get(slot) {
            self.slots.insert(moved, slot);
        }
        true
    }

    pub(crate) fn records(&self) -> impl Iterator<Item = (u64, Hash256)> + '_ {
        self.ids.iter().copied().zip(self.hashes.iter().copied())
    }

    pub(crate) fn query(&self, query: &Hash256, radius: u32, out: &mut Vec<Match>) {
        for (&id, hash) in self.ids.iter().zip(&self.hashes) {
            let distance = hash.distance(query);
            if distance <= radius {
                out.push(Match { id, distance });
            }
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        // A hash map entry costs its key and value plus about one control
        // byte; this is an estimate, the map's exact layout being private.
        self.ids.capacity() * size_of::<u64>()
            + self.hashes.capacity() * size_of::<Hash256>()
            + self.slots.capacity() * (size_of::<u64>() + size_of::<usize>() + 1)
    }
}
