//! Photo protection: rights holders' reference photos and listing photos are
//! hashed with PDQ, matched through the in-memory [`PhotoIndex`], and the
//! matches stored. Detection reads the stored matches when it scans a
//! listing ([`listing_image_reasons`]): a match to a reference photo of a
//! brand the seller is not authorised for is an `image_match`, a match to a
//! photo of a listing removed for infringement is a `relisted_item`.
//!
//! Matches are stored when either photo of a pair is hashed, so the scan
//! needs no index, and whether a match counts (authorisation, removal) is
//! decided at scan time from the current state of storage.

pub mod fetch;
pub mod index;

use crate::AppState;
use crate::config::ImagesConfig;
use crate::error::{ApiError, ApiResult};
use ipguard_detect::Reason;
use ipguard_pdq::{DihedralHashes, PdqError, PdqHash};
use ipguard_store::StoreError;
use ipguard_store::now_millis;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeSet;
use std::sync::Arc;

pub use index::{Photo, PhotoIndex};

/// The service's photo machinery, shared by handlers and the fetch job.
pub struct Images {
    pub index: PhotoIndex,
    client: reqwest::Client,
    /// Held by the one fetch round that runs at a time, so a photo is never
    /// fetched twice at once when tests drive the jobs beside the loop.
    fetching: tokio::sync::Mutex<()>,
    /// One permit per core: decoding takes up to about 11 bytes a pixel, so
    /// uploads and fetches together never hold more than this many images.
    decoding: tokio::sync::Semaphore,
}

impl Images {
    pub fn new(config: &ImagesConfig) -> reqwest::Result<Images> {
        Ok(Images {
            index: PhotoIndex::default(),
            client: fetch::client(config)?,
            fetching: tokio::sync::Mutex::new(()),
            decoding: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, usize::from),
            ),
        })
    }
}

/// A decoded and hashed photo.
#[derive(Debug, Clone, Copy)]
pub struct Hashed {
    /// The eight dihedral hashes, the original first.
    pub hashes: [PdqHash; 8],
    pub quality: u8,
    pub content_type: &'static str,
}

impl Hashed {
    pub fn original(&self) -> &PdqHash {
        &self.hashes[0]
    }
}

/// Decodes and hashes untrusted bytes off the async threads, within the
/// configured limits.
pub async fn hash_photo(
    images: &Images,
    bytes: Arc<Vec<u8>>,
    config: &ImagesConfig,
) -> ApiResult<Result<Hashed, PdqError>> {
    let limits = config.decode_limits();
    let _permit = images
        .decoding
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || {
        ipguard_pdq::dihedral_hashes_bytes_with_limits(&bytes, &limits).map(|d: DihedralHashes| {
            Hashed {
                hashes: d.all(),
                quality: d.quality,
                content_type: content_type(&bytes),
            }
        })
    })
    .await
    .map_err(ApiError::internal)
}

/// The media type of bytes that decoded as an image, from their signature.
pub fn content_type(bytes: &[u8]) -> &'static str {
    match bytes {
        [0xff, 0xd8, 0xff, ..] => "image/jpeg",
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        [b'G', b'I', b'F', b'8', ..] => "image/gif",
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => "image/webp",
        _ => "application/octet-stream",
    }
}

/// Eight hashes stored as one string of 8 × 64 hex digits.
pub fn format_dihedral(hashes: &[PdqHash; 8]) -> String {
    hashes.iter().map(PdqHash::to_hex).collect()
}

pub fn parse_dihedral(text: &str) -> Option<[PdqHash; 8]> {
    if text.len() != 8 * 64 || !text.is_ascii() {
        return None;
    }
    let mut hashes = [PdqHash::ZERO; 8];
    for (slot, start) in hashes.iter_mut().zip((0..text.len()).step_by(64)) {
        *slot = PdqHash::from_hex(text.get(start..start + 64)?).ok()?;
    }
    Some(hashes)
}

/// The distance between a photo seen under all eight symmetries and another
/// photo: how flipped and rotated copies match.
fn distance(eight: &[PdqHash; 8], one: &PdqHash) -> u32 {
    eight
        .iter()
        .map(|hash| hash.hamming(one))
        .min()
        .unwrap_or(256)
}

/// Percent-encodes a path segment (listing ids are the platform's and may
/// hold any character).
fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where a listing photo is served (role-checked), as findings cite it.
pub fn listing_photo_path(platform: &str, listing: &str, position: i64) -> String {
    format!(
        "/api/v1/listings/{}/{}/images/{position}/content",
        segment(platform),
        segment(listing)
    )
}

/// Where a reference photo is served (role-checked), as findings cite it.
pub fn reference_photo_path(brand_id: i64, reference_id: i64) -> String {
    format!("/api/v1/brands/{brand_id}/reference-images/{reference_id}/content")
}

const UPLOAD_PREFIX: &str = "upload:";

/// Records the listing's photo URLs as given on create or edit: a new URL
/// gets a pending row for the fetcher, a URL no longer listed loses its row
/// and matches, an unchanged URL keeps its hash. Uploaded photos stay.
pub async fn record_listing_images(
    conn: &mut AnyConnection,
    config: &ImagesConfig,
    listing_id: i64,
    images: &[String],
    now: i64,
) -> ApiResult<()> {
    // In the listing's order, so new photos take positions in that order.
    let mut wanted: Vec<&str> = Vec::with_capacity(images.len());
    for source in images.iter().map(|s| s.trim()) {
        if !source.is_empty() && !wanted.contains(&source) {
            wanted.push(source);
        }
    }
    let existing: Vec<(i64, String)> =
        sqlx::query("SELECT position, source FROM listing_images WHERE listing_id = $1")
            .bind(listing_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| Ok((row.try_get("position")?, row.try_get("source")?)))
            .collect::<Result<_, sqlx::Error>>()?;
    let mut used: BTreeSet<i64> = BTreeSet::new();
    let mut kept: BTreeSet<&str> = BTreeSet::new();
    for (position, source) in &existing {
        if source.starts_with(UPLOAD_PREFIX) || wanted.contains(&source.as_str()) {
            used.insert(*position);
            kept.insert(source.as_str());
        } else {
            delete_listing_photo(conn, listing_id, *position).await?;
        }
    }
    let new: Vec<&str> = wanted
        .iter()
        .filter(|source| !kept.contains(*source))
        .copied()
        .collect();
    if used.len() + new.len() > config.max_per_listing {
        return Err(ApiError::field(
            "images",
            format!(
                "a listing may have at most {} photos; this one would have {}",
                config.max_per_listing,
                used.len() + new.len()
            ),
        ));
    }
    for source in new {
        let position = free_position(&used);
        used.insert(position);
        // A source that may never be fetched is recorded as failed at once,
        // so the listing shows why its photo was not checked.
        let refused = fetch::check_url(source, config.allow_private_hosts).err();
        sqlx::query(
            "INSERT INTO listing_images (listing_id, position, source, status, error, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(listing_id)
        .bind(position)
        .bind(source)
        .bind(if refused.is_some() {
            "failed"
        } else {
            "pending"
        })
        .bind(refused.map(|e| e.message))
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Adds a row for an uploaded photo at the lowest free position, to be
/// filled by [`store_hashed`] in the same transaction. The caller checked
/// the per-listing limit.
pub async fn insert_upload(
    conn: &mut AnyConnection,
    listing_id: i64,
    filename: &str,
    now: i64,
) -> ApiResult<i64> {
    let used: BTreeSet<i64> =
        sqlx::query("SELECT position FROM listing_images WHERE listing_id = $1")
            .bind(listing_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| row.try_get("position"))
            .collect::<Result<_, sqlx::Error>>()?;
    let position = free_position(&used);
    sqlx::query(
        "INSERT INTO listing_images (listing_id, position, source, status, updated_at) VALUES ($1, $2, $3, 'pending', $4)",
    )
    .bind(listing_id)
    .bind(position)
    .bind(format!("{UPLOAD_PREFIX}{filename}"))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(position)
}

/// The lowest position not in use (positions stay below 255, see the index ids).
fn free_position(used: &BTreeSet<i64>) -> i64 {
    (0..).find(|p| !used.contains(p)).unwrap_or_default()
}

/// Removes a listing photo with the matches found for it, both ways.
async fn delete_listing_photo(
    conn: &mut AnyConnection,
    listing_id: i64,
    position: i64,
) -> Result<(), StoreError> {
    forget_matches(conn, listing_id, position).await?;
    sqlx::query("DELETE FROM listing_images WHERE listing_id = $1 AND position = $2")
        .bind(listing_id)
        .bind(position)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn forget_matches(
    conn: &mut AnyConnection,
    listing_id: i64,
    position: i64,
) -> Result<(), StoreError> {
    for query in [
        "DELETE FROM reference_matches WHERE listing_id = $1 AND position = $2",
        "DELETE FROM photo_matches WHERE listing_id = $1 AND position = $2",
        "DELETE FROM photo_matches WHERE other_listing_id = $1 AND other_position = $2",
    ] {
        sqlx::query(query)
            .bind(listing_id)
            .bind(position)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Index candidates for a photo, kept only when the stored hashes confirm
/// them (see [`index`]). `own_listing` is the photo's listing, or `None`
/// for a reference photo, which is matched against listing photos only.
pub async fn verified_matches(
    conn: &mut AnyConnection,
    index: &PhotoIndex,
    config: &ImagesConfig,
    own: &[PdqHash; 8],
    own_listing: Option<i64>,
) -> Result<Vec<(Photo, u32)>, StoreError> {
    let mut found = Vec::new();
    for candidate in index.candidates(own, config.radius) {
        let stored = match candidate {
            Photo::Reference(id) => {
                if own_listing.is_none() {
                    continue;
                }
                sqlx::query("SELECT dihedral FROM reference_images WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(|row| row.try_get::<String, _>("dihedral"))
                    .transpose()?
                    .and_then(|d| parse_dihedral(&d))
                    .map(|reference| distance(&reference, &own[0]))
            }
            Photo::Listing {
                listing_id,
                position,
            } => {
                if own_listing == Some(listing_id) {
                    continue;
                }
                sqlx::query(
                    "SELECT pdq FROM listing_images WHERE listing_id = $1 AND position = $2 \
                     AND status = 'hashed' AND quality >= $3",
                )
                .bind(listing_id)
                .bind(i64::from(position))
                .bind(i64::from(config.min_quality))
                .fetch_optional(&mut *conn)
                .await?
                .map(|row| row.try_get::<Option<String>, _>("pdq"))
                .transpose()?
                .flatten()
                .and_then(|pdq| PdqHash::from_hex(&pdq).ok())
                .map(|other| distance(own, &other))
            }
        };
        if let Some(d) = stored.filter(|d| *d <= config.radius) {
            found.push((candidate, d));
        }
    }
    Ok(found)
}

/// Stores a listing photo's hash (and the photo, as evidence), replacing
/// whatever its row held, and records its matches. Returns the hash to add
/// to the index once the transaction commits, if the photo is usable.
#[allow(clippy::too_many_arguments)]
pub async fn store_hashed(
    conn: &mut AnyConnection,
    index: &PhotoIndex,
    config: &ImagesConfig,
    listing_id: i64,
    position: i64,
    bytes: &[u8],
    hashed: &Hashed,
    now: i64,
) -> ApiResult<Option<PdqHash>> {
    forget_matches(conn, listing_id, position).await?;
    let usable = hashed.quality >= config.min_quality;
    sqlx::query(
        "UPDATE listing_images SET status = 'hashed', pdq = $1, quality = $2, dihedral = $3, content = $4, \
         content_type = $5, error = $6, updated_at = $7 WHERE listing_id = $8 AND position = $9",
    )
    .bind(hashed.original().to_hex())
    .bind(i64::from(hashed.quality))
    .bind(format_dihedral(&hashed.hashes))
    .bind(bytes.to_vec())
    .bind(hashed.content_type)
    .bind((!usable).then(|| {
        format!(
            "quality {} is under {}; too flat to match reliably",
            hashed.quality, config.min_quality
        )
    }))
    .bind(now)
    .bind(listing_id)
    .bind(position)
    .execute(&mut *conn)
    .await?;
    if !usable {
        return Ok(None);
    }
    for (photo, d) in
        verified_matches(conn, index, config, &hashed.hashes, Some(listing_id)).await?
    {
        match photo {
            Photo::Reference(reference_id) => {
                insert_reference_match(conn, listing_id, position, reference_id, d, now).await?;
            }
            Photo::Listing {
                listing_id: other,
                position: other_position,
            } => {
                let other_position = i64::from(other_position);
                for (a, pa, b, pb) in [
                    (listing_id, position, other, other_position),
                    (other, other_position, listing_id, position),
                ] {
                    sqlx::query(
                        "INSERT INTO photo_matches (listing_id, position, other_listing_id, other_position, distance, found_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                    )
                    .bind(a)
                    .bind(pa)
                    .bind(b)
                    .bind(pb)
                    .bind(i64::from(d))
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                }
            }
        }
    }
    let generation = index::bump_generation(conn).await?;
    index::stamp_listing_photo(conn, generation, listing_id, position).await?;
    Ok(Some(*hashed.original()))
}

pub async fn insert_reference_match(
    conn: &mut AnyConnection,
    listing_id: i64,
    position: i64,
    reference_id: i64,
    distance: u32,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO reference_matches (listing_id, position, reference_id, distance, found_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(listing_id)
    .bind(position)
    .bind(reference_id)
    .bind(i64::from(distance))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Scans listings again after their photo matches changed.
pub async fn reassess(
    conn: &mut AnyConnection,
    state: &AppState,
    listings: &BTreeSet<i64>,
    now: i64,
) -> ApiResult<()> {
    let engine = state.detector.engine();
    for listing_id in listings {
        super::detection::assess(conn, &engine, state.policy(), *listing_id, now).await?;
    }
    Ok(())
}

/// How far back each round looks for removals beyond the previous round:
/// a removal stamped just before a round can commit just after it (it
/// waited for the write lock), and a listing scanned twice costs nothing.
const REMOVAL_OVERLAP_MS: i64 = 60_000;

/// Scans again the active listings that share a photo with a listing
/// removed for infringement since `since`, so that the removal counts
/// against them (`relisted_item`) now rather than at their next edit.
/// Returns how many were scanned.
pub async fn reassess_photo_sharers(
    conn: &mut AnyConnection,
    state: &AppState,
    since: i64,
    now: i64,
) -> ApiResult<usize> {
    let listings: BTreeSet<i64> = sqlx::query(
        "SELECT DISTINCT m.listing_id FROM photo_matches m \
         JOIN listings removed ON removed.id = m.other_listing_id \
         JOIN listings l ON l.id = m.listing_id \
         WHERE removed.state = 'removed' AND removed.removed_by IN ('notice', 'trusted_notice', 'proactive') \
         AND removed.removed_at > $1 AND removed.removed_at <= $2 AND l.state = 'active'",
    )
    .bind(since.saturating_sub(REMOVAL_OVERLAP_MS))
    .bind(now)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| row.try_get("listing_id"))
    .collect::<Result<_, _>>()?;
    reassess(conn, state, &listings, now).await?;
    Ok(listings.len())
}

/// The photo reasons for a listing, from its stored matches: a reference
/// photo of a brand the seller is not authorised for (the closest match per
/// brand), and photos of other listings removed for infringement (the
/// closest per removed listing).
pub async fn listing_image_reasons(
    conn: &mut AnyConnection,
    listing_id: i64,
    seller_id: i64,
) -> Result<Vec<Reason>, StoreError> {
    let Some(listing) = sqlx::query("SELECT platform, ext_id FROM listings WHERE id = $1")
        .bind(listing_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(Vec::new());
    };
    let platform: String = listing.try_get("platform")?;
    let ext_id: String = listing.try_get("ext_id")?;
    let mut reasons = Vec::new();
    let mut brands = BTreeSet::new();
    for row in sqlx::query(
        "SELECT m.position, m.distance, r.id AS reference_id, r.brand_id, b.slug FROM reference_matches m \
         JOIN reference_images r ON r.id = m.reference_id JOIN brands b ON b.id = r.brand_id \
         WHERE m.listing_id = $1 AND NOT EXISTS (SELECT 1 FROM brand_authorized_sellers a \
         WHERE a.brand_id = r.brand_id AND a.seller_id = $2) ORDER BY m.distance, m.position, r.id",
    )
    .bind(listing_id)
    .bind(seller_id)
    .fetch_all(&mut *conn)
    .await?
    {
        let slug: String = row.try_get("slug")?;
        if !brands.insert(slug.clone()) {
            continue;
        }
        reasons.push(Reason::ImageMatch {
            brand: Some(slug),
            image: listing_photo_path(&platform, &ext_id, row.try_get("position")?),
            reference: reference_photo_path(row.try_get("brand_id")?, row.try_get("reference_id")?),
            distance: u32::try_from(row.try_get::<i64, _>("distance")?).unwrap_or(256),
        });
    }
    let mut removed = BTreeSet::new();
    for row in sqlx::query(
        "SELECT m.position, m.other_position, m.distance, o.platform, o.ext_id FROM photo_matches m \
         JOIN listings o ON o.id = m.other_listing_id WHERE m.listing_id = $1 AND o.state = 'removed' \
         AND o.removed_by IN ('notice', 'trusted_notice', 'proactive') \
         ORDER BY m.distance, m.position, m.other_listing_id",
    )
    .bind(listing_id)
    .fetch_all(&mut *conn)
    .await?
    {
        let other_platform: String = row.try_get("platform")?;
        let other_ext: String = row.try_get("ext_id")?;
        if !removed.insert((other_platform.clone(), other_ext.clone())) {
            continue;
        }
        reasons.push(Reason::RelistedItem {
            image: listing_photo_path(&platform, &ext_id, row.try_get("position")?),
            removed_listing_id: format!("{other_platform}/{other_ext}"),
            removed_image: listing_photo_path(
                &other_platform,
                &other_ext,
                row.try_get("other_position")?,
            ),
            distance: u32::try_from(row.try_get::<i64, _>("distance")?).unwrap_or(256),
        });
    }
    Ok(reasons)
}

/// A photo the fetcher is due to try.
struct Due {
    listing_id: i64,
    position: i64,
    source: String,
    attempts: i64,
}

/// What became of one fetch.
enum Outcome {
    Hashed(Arc<Vec<u8>>, Box<Hashed>),
    Failed(fetch::FetchError),
}

/// One round of the fetcher: takes due photos, fetches them a few at a
/// time, and records each result in its own transaction (a hashed photo is
/// matched and its listing scanned again there).
pub async fn fetch_due(state: &AppState) -> ApiResult<()> {
    let Ok(_round) = state.images.fetching.try_lock() else {
        return Ok(());
    };
    let config = &state.config.images;
    let due = sqlx::query(
        "SELECT listing_id, position, source, attempts FROM listing_images \
         WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, listing_id, position LIMIT $2",
    )
    .bind(now_millis())
    .bind(i64::from(config.fetch_batch))
    .fetch_all(state.store.pool())
    .await?
    .iter()
    .map(|row| {
        Ok(Due {
            listing_id: row.try_get("listing_id")?,
            position: row.try_get("position")?,
            source: row.try_get("source")?,
            attempts: row.try_get("attempts")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let permits = Arc::new(tokio::sync::Semaphore::new(config.fetch_concurrency));
    let mut running = tokio::task::JoinSet::new();
    for (slot, photo) in due.iter().enumerate() {
        let state = state.clone();
        let permits = permits.clone();
        let source = photo.source.clone();
        running.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let config = &state.config.images;
            let outcome = match fetch::fetch(&state.images.client, &source, config).await {
                Ok(bytes) => {
                    let bytes = Arc::new(bytes);
                    match hash_photo(&state.images, bytes.clone(), config).await {
                        Ok(Ok(hashed)) => Outcome::Hashed(bytes, Box::new(hashed)),
                        Ok(Err(err)) => Outcome::Failed(fetch::FetchError {
                            message: err.to_string(),
                            retry: false,
                        }),
                        Err(err) => Outcome::Failed(fetch::FetchError {
                            message: err.detail,
                            retry: true,
                        }),
                    }
                }
                Err(err) => Outcome::Failed(err),
            };
            (slot, outcome)
        });
    }
    while let Some(joined) = running.join_next().await {
        let (slot, outcome) = joined.map_err(ApiError::internal)?;
        if let Some(photo) = due.get(slot) {
            record_outcome(state, photo, outcome).await?;
        }
    }
    Ok(())
}

async fn record_outcome(state: &AppState, photo: &Due, outcome: Outcome) -> ApiResult<()> {
    let config = &state.config.images;
    let now = now_millis();
    let mut tx = state.store.begin_write().await?;
    // The listing may have been edited while the photo was fetched.
    let current = sqlx::query(
        "SELECT 1 AS present FROM listing_images WHERE listing_id = $1 AND position = $2 AND source = $3 AND status = 'pending'",
    )
    .bind(photo.listing_id)
    .bind(photo.position)
    .bind(&photo.source)
    .fetch_optional(&mut *tx)
    .await?;
    if current.is_none() {
        return Ok(());
    }
    let attempts = photo.attempts + 1;
    let indexed = match outcome {
        Outcome::Hashed(bytes, hashed) => {
            let indexed = store_hashed(
                &mut tx,
                &state.images.index,
                config,
                photo.listing_id,
                photo.position,
                &bytes,
                &hashed,
                now,
            )
            .await?;
            sqlx::query(
                "UPDATE listing_images SET attempts = $1 WHERE listing_id = $2 AND position = $3",
            )
            .bind(attempts)
            .bind(photo.listing_id)
            .bind(photo.position)
            .execute(&mut *tx)
            .await?;
            reassess(&mut tx, state, &BTreeSet::from([photo.listing_id]), now).await?;
            indexed
        }
        Outcome::Failed(err) => {
            let give_up = !err.retry || attempts >= i64::from(config.fetch_attempts);
            let failures = u32::try_from(attempts).unwrap_or(u32::MAX);
            let wait = i64::try_from(fetch::backoff_ms(config.retry_base_ms, failures))
                .unwrap_or(i64::MAX);
            sqlx::query(
                "UPDATE listing_images SET status = $1, attempts = $2, next_attempt_at = $3, error = $4, updated_at = $5 \
                 WHERE listing_id = $6 AND position = $7",
            )
            .bind(if give_up { "failed" } else { "pending" })
            .bind(attempts)
            .bind(now.saturating_add(wait))
            .bind(&err.message)
            .bind(now)
            .bind(photo.listing_id)
            .bind(photo.position)
            .execute(&mut *tx)
            .await?;
            None
        }
    };
    tx.commit().await?;
    if let (Some(hash), Ok(position)) = (indexed, u8::try_from(photo.position)) {
        state
            .images
            .index
            .add_listing_photo(photo.listing_id, position, &hash);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dihedral_text_round_trips_and_rejects_garbage() {
        let mut hashes = [PdqHash::ZERO; 8];
        for (i, hash) in hashes.iter_mut().enumerate() {
            hash.0[i] = 0xa5;
        }
        let text = format_dihedral(&hashes);
        assert_eq!(text.len(), 512);
        assert_eq!(parse_dihedral(&text), Some(hashes));
        assert_eq!(parse_dihedral(&text[1..]), None);
        assert_eq!(parse_dihedral(""), None);
        assert_eq!(parse_dihedral(&"zz".repeat(256)), None);
    }

    #[test]
    fn photo_paths_escape_platform_listing_ids() {
        assert_eq!(
            listing_photo_path("bazaar", "L 1/2", 3),
            "/api/v1/listings/bazaar/L%201%2F2/images/3/content"
        );
        assert_eq!(
            reference_photo_path(4, 9),
            "/api/v1/brands/4/reference-images/9/content"
        );
    }

    #[test]
    fn media_types_come_from_signatures() {
        assert_eq!(content_type(&[0xff, 0xd8, 0xff, 0xe0]), "image/jpeg");
        assert_eq!(content_type(b"\x89PNG\r\n"), "image/png");
        assert_eq!(content_type(b"GIF89a"), "image/gif");
        assert_eq!(content_type(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(content_type(b"hello"), "application/octet-stream");
    }

    #[test]
    fn free_positions_fill_gaps_first() {
        assert_eq!(free_position(&BTreeSet::new()), 0);
        assert_eq!(free_position(&BTreeSet::from([0, 1, 3])), 2);
    }
}
