//! The in-memory form of a 256-bit hash.

/// A 256-bit hash as four little-endian words.
///
/// The 32-byte alignment keeps every stored hash inside one cache line, so
/// verifying a candidate costs at most one memory access.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[repr(C, align(32))]
pub(crate) struct Hash256(pub(crate) [u64; 4]);

impl Hash256 {
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Self {
        let mut words = [0u64; 4];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut le = [0u8; 8];
            le.copy_from_slice(chunk);
            *word = u64::from_le_bytes(le);
        }
        Hash256(words)
    }

    pub(crate) fn to_bytes(self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(self.0) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        bytes
    }

    #[inline]
    pub(crate) fn distance(&self, other: &Hash256) -> u32 {
        (self.0[0] ^ other.0[0]).count_ones()
            + (self.0[1] ^ other.0[1]).count_ones()
            + (self.0[2] ^ other.0[2]).count_ones()
            + (self.0[3] ^ other.0[3]).count_ones()
    }

    /// Bits `start .. start + width` of the hash (bit 0 is the lowest bit of
    /// the first word), as the low bits of the result. `width` is at most 32
    /// and the range lies inside the 256 bits.
    #[inline]
    pub(crate) fn bits(&self, start: u32, width: u32) -> u32 {
        let word = (start / 64) as usize;
        let offset = start % 64;
        let mut value = self.0[word] >> offset;
        if offset + width > 64 {
            value |= self.0[word + 1] << (64 - offset);
        }
        (value & ((1u64 << width) - 1)) as u32
    }
}

/// Hamming distance between two 256-bit hashes.
pub fn hamming_distance(a: &[u8; 32], b: &[u8; 32]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_distance_agrees_with_byte_distance() {
        let a: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37));
        let b: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(91) ^ 0x5a);
        assert_eq!(Hash256::from_bytes(&a).to_bytes(), a);
        assert_eq!(
            Hash256::from_bytes(&a).distance(&Hash256::from_bytes(&b)),
            hamming_distance(&a, &b)
        );
    }

    #[test]
    fn bits_reads_ranges_that_straddle_words() {
        let hash = Hash256([u64::MAX << 60, 0b1011, 0, 1 << 63]);
        assert_eq!(hash.bits(60, 8), 0b1011_1111);
        assert_eq!(hash.bits(0, 32), 0);
        assert_eq!(hash.bits(255, 1), 1);
        assert_eq!(hash.bits(224, 32), 1 << 31);
    }
}
