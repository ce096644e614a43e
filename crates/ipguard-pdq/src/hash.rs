//! The 256-bit PDQ hash value, its reference hex form, and hashing results.

use std::fmt;
use std::str::FromStr;

/// A 256-bit PDQ hash.
///
/// The bytes are the reference implementation's hex string read as one
/// big-endian number: byte 0 holds bits 255..248. Bit `i * 16 + j` of the hash
/// says whether DCT coefficient (i, j) is above the median, as in the C++
/// core's `Hash256::setBit`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PdqHash(pub [u8; 32]);

impl PdqHash {
    /// The hash of an image smaller than the reference's 5×5 minimum: all
    /// zero bits, as the reference returns.
    pub const ZERO: PdqHash = PdqHash([0; 32]);

    /// Number of bits that differ: the Hamming distance PDQ matching uses.
    pub fn hamming(&self, other: &PdqHash) -> u32 {
        self.0
            .iter()
            .zip(other.0.iter())
            .map(|(a, b)| (a ^ b).count_ones())
            .sum()
    }

    /// The 64-hex-digit lower-case form the reference prints.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(64);
        for byte in self.0 {
            hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
            hex.push(char::from(DIGITS[usize::from(byte & 0xf)]));
        }
        hex
    }

    /// Parses the 64-hex-digit form (either case).
    pub fn from_hex(hex: &str) -> Result<PdqHash, ParseHashError> {
        let digits = hex.as_bytes();
        if digits.len() != 64 {
            return Err(ParseHashError::Length(digits.len()));
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
        }
        Ok(PdqHash(bytes))
    }

    /// Whether bit `index` (0..256, the reference's numbering) is set.
    pub fn bit(&self, index: usize) -> bool {
        index < 256 && self.0[31 - index / 8] & (1 << (index % 8)) != 0
    }

    pub(crate) fn set_bit(&mut self, index: usize) {
        self.0[31 - index / 8] |= 1 << (index % 8);
    }
}

fn hex_value(digit: u8) -> Result<u8, ParseHashError> {
    match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        b'A'..=b'F' => Ok(digit - b'A' + 10),
        _ => Err(ParseHashError::Digit(char::from(digit))),
    }
}

/// Why a string is not a PDQ hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHashError {
    #[error("a PDQ hash has 64 hex digits, this has {0} characters")]
    Length(usize),
    #[error("{0:?} is not a hex digit")]
    Digit(char),
}

impl FromStr for PdqHash {
    type Err = ParseHashError;

    fn from_str(hex: &str) -> Result<Self, Self::Err> {
        PdqHash::from_hex(hex)
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PdqHash({})", self.to_hex())
    }
}

/// A hash and the reference's quality score for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashResult {
    pub hash: PdqHash,
    /// 0–100: how much significant gradient the downsampled image has. The
    /// reference suggests ignoring hashes of quality under 50 (flat or nearly
    /// flat images hash unreliably).
    pub quality: u8,
}

/// The hashes of the image under the eight symmetries of the square, in the
/// reference's order, derived from one DCT as the reference does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DihedralHashes {
    pub original: PdqHash,
    pub rotate90: PdqHash,
    pub rotate180: PdqHash,
    pub rotate270: PdqHash,
    /// Mirrored top to bottom.
    pub flip_x: PdqHash,
    /// Mirrored left to right.
    pub flip_y: PdqHash,
    /// Transposed about the main diagonal.
    pub flip_plus1: PdqHash,
    /// Transposed about the anti-diagonal.
    pub flip_minus1: PdqHash,
    pub quality: u8,
}

impl DihedralHashes {
    /// All eight hashes in the reference's order (the order of the fields).
    pub fn all(&self) -> [PdqHash; 8] {
        [
            self.original,
            self.rotate90,
            self.rotate180,
            self.rotate270,
            self.flip_x,
            self.flip_y,
            self.flip_plus1,
            self.flip_minus1,
        ]
    }

    /// The smallest distance from any of the eight to `other`: how a rotated
    /// or mirrored copy of this image is matched.
    pub fn min_hamming(&self, other: &PdqHash) -> u32 {
        self.all()
            .iter()
            .map(|hash| hash.hamming(other))
            .min()
            .unwrap_or(256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_accepts_upper_case() {
        let hex = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
        let hash: PdqHash = hex.parse().unwrap();
        assert_eq!(hash.to_hex(), hex);
        assert_eq!(PdqHash::from_hex(&hex.to_uppercase()).unwrap(), hash);
        assert_eq!(hash.to_string(), hex);
    }

    #[test]
    fn bad_hex_is_rejected_with_the_reason() {
        assert_eq!(PdqHash::from_hex("abc"), Err(ParseHashError::Length(3)));
        let bad = format!("{}g", "0".repeat(63));
        assert_eq!(PdqHash::from_hex(&bad), Err(ParseHashError::Digit('g')));
    }

    #[test]
    fn bit_zero_is_the_last_hex_digit_as_in_the_reference() {
        let mut hash = PdqHash::ZERO;
        hash.set_bit(0);
        assert!(hash.to_hex().ends_with('1'));
        hash.set_bit(255);
        assert!(hash.to_hex().starts_with('8'));
        assert!(hash.bit(0) && hash.bit(255) && !hash.bit(1));
    }

    #[test]
    fn hamming_counts_differing_bits() {
        let mut a = PdqHash::ZERO;
        let b = PdqHash::ZERO;
        assert_eq!(a.hamming(&b), 0);
        for bit in [0, 17, 100, 255] {
            a.set_bit(bit);
        }
        assert_eq!(a.hamming(&b), 4);
        assert_eq!(b.hamming(&a), 4);
    }
}
