//! The on-disk format.
//!
//! Version 1, all integers little-endian:
//!
//! ```text
//! magic    8 bytes  "IPGHIDX\0"
//! version  u32      1
//! count    u64      number of records
//! records  count × (id u64, hash 32 bytes), ids strictly ascending
//! crc32    u32      CRC-32 (IEEE) of every byte before it
//! ```
//!
//! Only the records are stored; the tables are rebuilt on load. That keeps the
//! file at 40 bytes per hash instead of about 95, and independent of the table
//! layout, which depends on the number of hashes and may change between
//! versions. Rebuilding costs about a quarter of a second per million hashes
//! on a 2-core development machine (figures in bench/RESULTS.md).

use std::io::{self, Read, Write};

use crate::hash::Hash256;

const MAGIC: [u8; 8] = *b"IPGHIDX\0";
const VERSION: u32 = 1;
const RECORD_BYTES: usize = 8 + 32;
/// Records are read and written this many at a time. Reading in blocks also
/// means a corrupt count cannot make the loader reserve more memory than the
/// file actually holds.
const RECORDS_PER_BLOCK: usize = 8192;

/// Why an index could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("i/o error on the index file: {0}")]
    Io(#[from] io::Error),
    #[error("not a hash index file (wrong magic bytes)")]
    NotAnIndex,
    #[error("unsupported hash index file version {0} (this build reads version {VERSION})")]
    UnsupportedVersion(u32),
    #[error("hash index file is truncated")]
    Truncated,
    #[error("hash index file checksum mismatch (stored {stored:08x}, computed {computed:08x})")]
    ChecksumMismatch { stored: u32, computed: u32 },
    #[error("hash index file is corrupt: {0}")]
    Corrupt(&'static str),
}

/// Writes `count` records, which must come in strictly ascending id order.
pub(crate) fn write_records(
    mut writer: impl Write,
    count: u64,
    records: impl Iterator<Item = (u64, Hash256)>,
) -> Result<(), PersistError> {
    // Records are gathered into large blocks so that both the checksum and
    // the writer see few, large slices: per-record calls made saving ten
    // million hashes several times slower.
    let mut hasher = crc32fast::Hasher::new();
    let mut block = Vec::with_capacity(RECORDS_PER_BLOCK * RECORD_BYTES);
    block.extend_from_slice(&MAGIC);
    block.extend_from_slice(&VERSION.to_le_bytes());
    block.extend_from_slice(&count.to_le_bytes());
    for (id, hash) in records {
        block.extend_from_slice(&id.to_le_bytes());
        block.extend_from_slice(&hash.to_bytes());
        if block.len() >= RECORDS_PER_BLOCK * RECORD_BYTES {
            hasher.update(&block);
            writer.write_all(&block)?;
            block.clear();
        }
    }
    hasher.update(&block);
    block.extend_from_slice(&hasher.finalize().to_le_bytes());
    writer.write_all(&block)?;
    writer.flush()?;
    Ok(())
}

/// Reads and checks a whole file, returning its records in id order.
pub(crate) fn read_records(reader: impl Read) -> Result<(Vec<u64>, Vec<Hash256>), PersistError> {
    let mut reader = ChecksumReader {
        inner: io::BufReader::with_capacity(1 << 16, reader),
        hasher: crc32fast::Hasher::new(),
    };
    let mut magic = [0u8; 8];
    reader.read_checked(&mut magic)?;
    if magic != MAGIC {
        return Err(PersistError::NotAnIndex);
    }
    let mut word = [0u8; 4];
    reader.read_checked(&mut word)?;
    let version = u32::from_le_bytes(word);
    if version != VERSION {
        return Err(PersistError::UnsupportedVersion(version));
    }
    let mut long = [0u8; 8];
    reader.read_checked(&mut long)?;
    let count = usize::try_from(u64::from_le_bytes(long))
        .map_err(|_| PersistError::Corrupt("record count too large"))?;

    let mut ids = Vec::with_capacity(count.min(RECORDS_PER_BLOCK));
    let mut hashes = Vec::with_capacity(count.min(RECORDS_PER_BLOCK));
    let mut buffer = vec![0u8; RECORDS_PER_BLOCK * RECORD_BYTES];
    let mut remaining = count;
    while remaining > 0 {
        let batch = remaining.min(RECORDS_PER_BLOCK);
        let bytes = &mut buffer[..batch * RECORD_BYTES];
        reader.read_checked(bytes)?;
        for record in bytes.chunks_exact(RECORD_BYTES) {
            let (id_bytes, hash_bytes) = record.split_at(8);
            let mut id = [0u8; 8];
            id.copy_from_slice(id_bytes);
            let mut hash = [0u8; 32];
            hash.copy_from_slice(hash_bytes);
            ids.push(u64::from_le_bytes(id));
            hashes.push(Hash256::from_bytes(&hash));
        }
        remaining -= batch;
    }
    let computed = reader.hasher.clone().finalize();
    let mut stored = [0u8; 4];
    read_exact_or_truncated(&mut reader.inner, &mut stored)?;
    let stored = u32::from_le_bytes(stored);
    if stored != computed {
        return Err(PersistError::ChecksumMismatch { stored, computed });
    }
    if ids.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err(PersistError::Corrupt("ids are not strictly ascending"));
    }
    Ok((ids, hashes))
}

struct ChecksumReader<R: Read> {
    inner: R,
    hasher: crc32fast::Hasher,
}

impl<R: Read> ChecksumReader<R> {
    fn read_checked(&mut self, bytes: &mut [u8]) -> Result<(), PersistError> {
        read_exact_or_truncated(&mut self.inner, bytes)?;
        self.hasher.update(bytes);
        Ok(())
    }
}

fn read_exact_or_truncated(reader: &mut impl Read, bytes: &mut [u8]) -> Result<(), PersistError> {
    reader
        .read_exact(bytes)
        .map_err(|error| match error.kind() {
            io::ErrorKind::UnexpectedEof => PersistError::Truncated,
            _ => PersistError::Io(error),
        })
}
