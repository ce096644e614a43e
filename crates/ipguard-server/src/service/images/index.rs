//! The in-memory index of every photo hash the service matches against:
//! the eight dihedral hashes of each reference photo and the hash of each
//! usable listing photo, in one [`HashIndex`] whose ids say which photo a
//! hash belongs to.
//!
//! Storage is the truth and the index only proposes candidates: every
//! candidate is checked against the stored hashes before it counts (see
//! [`super::verified_matches`]), so an index entry left behind by a deleted
//! or replaced photo can never make a match, and entries are added only
//! after the transaction that stored them commits.
//!
//! Each server process holds its own index. Every transaction that stores
//! hashes takes the next index generation and stamps its photos with it;
//! [`PhotoIndex::sync`] adds the photos stamped since the generation the
//! index last saw, so hashes stored by other processes sharing the
//! database become candidates within a job round.

use crate::config::ImagesConfig;
use ipguard_hashindex::{HashIndex, IndexConfig, PersistError};
use ipguard_pdq::PdqHash;
use ipguard_store::{Store, StoreError};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

/// Ids with this bit are reference photo hashes: the reference id shifted
/// left by 3, plus the symmetry (0–7). Ids without it are listing photos:
/// the listing id shifted left by 8, plus the photo's position (0–254).
const REFERENCE_BIT: u64 = 1 << 63;

/// The photo an index entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Photo {
    Reference(i64),
    Listing { listing_id: i64, position: u8 },
}

pub fn reference_entry(reference_id: i64, symmetry: usize) -> u64 {
    REFERENCE_BIT | (reference_id.unsigned_abs() << 3) | (symmetry as u64 & 7)
}

pub fn listing_entry(listing_id: i64, position: u8) -> u64 {
    (listing_id.unsigned_abs() << 8) | u64::from(position)
}

pub fn photo_of(entry: u64) -> Photo {
    if entry & REFERENCE_BIT != 0 {
        Photo::Reference(i64::try_from((entry & !REFERENCE_BIT) >> 3).unwrap_or_default())
    } else {
        Photo::Listing {
            listing_id: i64::try_from(entry >> 8).unwrap_or_default(),
            position: (entry & 0xff) as u8,
        }
    }
}

/// The shared index, replaced whole when it is loaded or rebuilt.
pub struct PhotoIndex {
    index: RwLock<Arc<HashIndex>>,
    /// The generation up to which every stored photo is in the index.
    synced: AtomicI64,
}

impl Default for PhotoIndex {
    fn default() -> Self {
        PhotoIndex {
            index: RwLock::new(Arc::new(HashIndex::new(IndexConfig::default()))),
            synced: AtomicI64::new(0),
        }
    }
}

impl PhotoIndex {
    fn current(&self) -> Arc<HashIndex> {
        match self.index.read() {
            Ok(index) => index.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, index: HashIndex) {
        match self.index.write() {
            Ok(mut slot) => *slot = Arc::new(index),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(index),
        }
    }

    pub fn len(&self) -> usize {
        self.current().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Photos with a stored hash within `radius` of any of `hashes`.
    pub fn candidates(&self, hashes: &[PdqHash], radius: u32) -> BTreeSet<Photo> {
        let index = self.current();
        hashes
            .iter()
            .flat_map(|hash| index.query(&hash.0, radius))
            .map(|found| photo_of(found.id))
            .collect()
    }

    pub fn add_reference(&self, reference_id: i64, hashes: &[PdqHash; 8]) {
        let index = self.current();
        for (symmetry, hash) in hashes.iter().enumerate() {
            index.insert(reference_entry(reference_id, symmetry), hash.0);
        }
    }

    pub fn remove_reference(&self, reference_id: i64) {
        let index = self.current();
        for symmetry in 0..8 {
            index.remove(reference_entry(reference_id, symmetry));
        }
    }

    pub fn add_listing_photo(&self, listing_id: i64, position: u8, hash: &PdqHash) {
        self.current()
            .insert(listing_entry(listing_id, position), hash.0);
    }

    /// Loads the snapshot at `path` if it is current, else rebuilds the index
    /// from storage (and writes a fresh snapshot when a path is configured).
    /// Returns how the index was obtained, for the log.
    pub async fn open(
        &self,
        store: &Store,
        config: &ImagesConfig,
    ) -> Result<&'static str, StoreError> {
        let generation = generation(&mut *store.pool().acquire().await?).await?;
        self.synced.store(generation, Ordering::SeqCst);
        if let Some(path) = &config.index_path {
            match load_snapshot(path, generation).await {
                Ok(index) => {
                    self.replace(index);
                    return Ok("snapshot");
                }
                Err(reason) => {
                    tracing::info!(path = %path.display(), %reason, "image index snapshot unusable; rebuilding");
                }
            }
        }
        let entries = stored_entries(&mut *store.pool().acquire().await?, config, ALL).await?;
        let index = tokio::task::spawn_blocking(move || {
            HashIndex::from_entries(IndexConfig::default(), entries)
        })
        .await
        .map_err(|err| StoreError::Corrupt(format!("building the image index: {err}")))?;
        self.replace(index);
        if let Some(path) = &config.index_path {
            self.save_snapshot(path, generation).await;
        }
        Ok("rebuilt")
    }

    /// Adds the photos other processes stored since the generation this
    /// index last saw; returns how many hashes were added. Photos stored by
    /// this process are added once more, which changes nothing.
    pub async fn sync(&self, store: &Store, config: &ImagesConfig) -> Result<usize, StoreError> {
        let mut conn = store.pool().acquire().await?;
        let current = generation(&mut conn).await?;
        let seen = self.synced.load(Ordering::SeqCst);
        if current == seen {
            return Ok(0);
        }
        let entries = stored_entries(&mut conn, config, seen).await?;
        let index = self.current();
        for (id, hash) in &entries {
            index.insert(*id, *hash);
        }
        self.synced.fetch_max(current, Ordering::SeqCst);
        Ok(entries.len())
    }

    /// Writes a snapshot stamped with the current generation (after the
    /// server stopped, so that nothing is added meanwhile).
    pub async fn save(&self, store: &Store, config: &ImagesConfig) {
        let Some(path) = &config.index_path else {
            return;
        };
        match store.pool().acquire().await {
            Ok(mut conn) => match generation(&mut conn).await {
                Ok(generation) => self.save_snapshot(path, generation).await,
                Err(err) => tracing::warn!(%err, "image index snapshot not written"),
            },
            Err(err) => tracing::warn!(%err, "image index snapshot not written"),
        }
    }

    /// Writes to a temporary file renamed into place, so a crash mid-write
    /// leaves the previous snapshot or none, never half of one.
    async fn save_snapshot(&self, path: &Path, generation: i64) {
        let index = self.current();
        let path = path.to_owned();
        let written = tokio::task::spawn_blocking(move || -> Result<(), PersistError> {
            let partial = path.with_extension("partial");
            let mut file = std::io::BufWriter::new(std::fs::File::create(&partial)?);
            file.write_all(SNAPSHOT_MAGIC)?;
            file.write_all(&generation.to_le_bytes())?;
            index.save(&mut file)?;
            file.into_inner()
                .map_err(|err| err.into_error())?
                .sync_all()?;
            std::fs::rename(&partial, &path)?;
            Ok(())
        })
        .await;
        match written {
            Ok(Ok(())) => tracing::info!(generation, "image index snapshot written"),
            Ok(Err(err)) => tracing::warn!(%err, "image index snapshot not written"),
            Err(err) => tracing::warn!(%err, "image index snapshot not written"),
        }
    }
}

/// The generation before any photo's, for reading them all.
const ALL: i64 = -1;

const SNAPSHOT_MAGIC: &[u8; 8] = b"IPGIMG1\n";

/// The snapshot, if it exists, is intact and was written at `generation`.
async fn load_snapshot(path: &Path, generation: i64) -> Result<HashIndex, String> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut file =
            std::io::BufReader::new(std::fs::File::open(&path).map_err(|e| e.to_string())?);
        let mut header = [0u8; 16];
        file.read_exact(&mut header)
            .map_err(|_| "too short to be a snapshot".to_owned())?;
        if &header[..8] != SNAPSHOT_MAGIC {
            return Err("not an image index snapshot".to_owned());
        }
        let mut stamp = [0u8; 8];
        stamp.copy_from_slice(&header[8..]);
        let written_at = i64::from_le_bytes(stamp);
        if written_at != generation {
            return Err(format!(
                "stale: written at generation {written_at}, storage is at {generation}"
            ));
        }
        HashIndex::load(file, IndexConfig::default()).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

pub async fn generation(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(
        sqlx::query("SELECT generation FROM image_index_meta WHERE id = 1")
            .fetch_one(conn)
            .await?
            .try_get("generation")?,
    )
}

/// Marks that the transaction adds hashes to the index, so snapshots written
/// before it commits are recognised as stale, and returns the generation to
/// stamp its photos with. The row stays locked until the transaction ends,
/// so generations are handed out in commit order.
pub async fn bump_generation(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(sqlx::query(
        "UPDATE image_index_meta SET generation = generation + 1 WHERE id = 1 RETURNING generation",
    )
    .fetch_one(conn)
    .await?
    .try_get("generation")?)
}

/// Stamps a listing photo with the generation its transaction took.
pub async fn stamp_listing_photo(
    conn: &mut AnyConnection,
    generation: i64,
    listing_id: i64,
    position: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE listing_images SET index_generation = $1 WHERE listing_id = $2 AND position = $3",
    )
    .bind(generation)
    .bind(listing_id)
    .bind(position)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stamps a reference photo with the generation its transaction took.
pub async fn stamp_reference(
    conn: &mut AnyConnection,
    generation: i64,
    reference_id: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE reference_images SET index_generation = $1 WHERE id = $2")
        .bind(generation)
        .bind(reference_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every hash the index should hold of photos stamped after generation
/// `after`, read from storage. Photos are stamped 0 or more ([`ALL`]).
async fn stored_entries(
    conn: &mut AnyConnection,
    config: &ImagesConfig,
    after: i64,
) -> Result<Vec<(u64, [u8; 32])>, StoreError> {
    let mut entries = Vec::new();
    for row in sqlx::query("SELECT id, dihedral FROM reference_images WHERE index_generation > $1")
        .bind(after)
        .fetch_all(&mut *conn)
        .await?
    {
        let id: i64 = row.try_get("id")?;
        let dihedral: String = row.try_get("dihedral")?;
        let Some(hashes) = super::parse_dihedral(&dihedral) else {
            tracing::warn!(id, "reference photo without usable hashes; not indexed");
            continue;
        };
        for (symmetry, hash) in hashes.iter().enumerate() {
            entries.push((reference_entry(id, symmetry), hash.0));
        }
    }
    for row in sqlx::query(
        "SELECT listing_id, position, pdq FROM listing_images \
         WHERE status = 'hashed' AND quality >= $1 AND index_generation > $2",
    )
    .bind(i64::from(config.min_quality))
    .bind(after)
    .fetch_all(&mut *conn)
    .await?
    {
        let pdq: Option<String> = row.try_get("pdq")?;
        let position = u8::try_from(row.try_get::<i64, _>("position")?).ok();
        if let (Some(hash), Some(position)) =
            (pdq.and_then(|p| PdqHash::from_hex(&p).ok()), position)
        {
            entries.push((listing_entry(row.try_get("listing_id")?, position), hash.0));
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_round_trip_and_never_collide_across_kinds() {
        for id in [1_i64, 2, 77, 1 << 40] {
            for symmetry in 0..8 {
                assert_eq!(
                    photo_of(reference_entry(id, symmetry)),
                    Photo::Reference(id)
                );
            }
            for position in [0_u8, 1, 254] {
                let entry = listing_entry(id, position);
                assert_eq!(entry & REFERENCE_BIT, 0);
                assert_eq!(
                    photo_of(entry),
                    Photo::Listing {
                        listing_id: id,
                        position
                    }
                );
            }
        }
        assert_ne!(reference_entry(1, 0), reference_entry(1, 1));
    }
}
