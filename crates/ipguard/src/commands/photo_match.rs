//! Photo evidence for `ipguard scan`: the catalog's reference photos are
//! hashed (with their eight rotations and flips) into a hash index, and
//! each listing photo that is a local file is matched against it. A match
//! on a brand whose authorised sellers do not include the listing's seller
//! becomes an `image_match` reason. Photos given as URLs are not fetched:
//! a file scan stays offline (the service fetches them).

use ipguard_detect::{Catalog, Listing, Reason};
use ipguard_hashindex::{HashIndex, IndexConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The PDQ authors' threshold: below this quality a hash is unreliable.
const MIN_QUALITY: u8 = 50;

pub struct PhotoMatcher {
    index: HashIndex,
    /// Reference photo number → (brand id, the path as the catalog wrote it).
    references: Vec<(String, String)>,
    /// Brand id → its authorised sellers.
    authorised: BTreeMap<String, Vec<String>>,
    radius: u32,
    /// Where relative listing photo paths are also looked for.
    listings_dir: Option<PathBuf>,
    /// Listing photos that could not be read, for the closing summary.
    unreadable: AtomicU64,
}

/// Unreadable listing photos reported one by one; the rest are counted.
const REPORTED_PHOTO_ERRORS: u64 = 10;

impl PhotoMatcher {
    /// Hashes every reference photo; `None` when the catalog has none that
    /// can be used. Relative paths are read from the current directory, else
    /// from the catalog's. An unreadable or flat reference photo is reported
    /// on stderr and left out, so a catalog whose photos are elsewhere still
    /// scans on its text.
    pub fn load(
        catalog: &Catalog,
        catalog_dir: &Path,
        listings_dir: Option<PathBuf>,
        radius: u32,
    ) -> Option<PhotoMatcher> {
        let mut references = Vec::new();
        let mut entries = Vec::new();
        for brand in &catalog.brands {
            for written in &brand.reference_images {
                let path = locate(written, Some(catalog_dir));
                let skipped = |why: String| {
                    eprintln!(
                        "ipguard scan: reference photo {written} of brand {} left out: {why}",
                        brand.id
                    );
                };
                let hashes = match ipguard_pdq::dihedral_hashes_file(&path) {
                    Ok(hashes) if hashes.quality >= MIN_QUALITY => hashes,
                    Ok(hashes) => {
                        skipped(format!(
                            "PDQ quality {} is under {MIN_QUALITY}, too flat to match reliably",
                            hashes.quality
                        ));
                        continue;
                    }
                    Err(err) => {
                        skipped(err.to_string());
                        continue;
                    }
                };
                let number = references.len() as u64;
                for (k, hash) in hashes.all().iter().enumerate() {
                    entries.push((number * 8 + k as u64, hash.0));
                }
                references.push((brand.id.clone(), written.clone()));
            }
        }
        if references.is_empty() {
            return None;
        }
        let authorised = catalog
            .brands
            .iter()
            .map(|b| (b.id.clone(), b.authorized_sellers.clone()))
            .collect();
        Some(PhotoMatcher {
            index: HashIndex::from_entries(IndexConfig::default(), entries),
            references,
            authorised,
            radius,
            listings_dir,
            unreadable: AtomicU64::new(0),
        })
    }

    /// How many listing photos could not be read.
    pub fn unreadable(&self) -> u64 {
        self.unreadable.load(Ordering::Relaxed)
    }

    /// The closest reference match per brand among the listing's photos.
    pub fn reasons(&self, listing: &Listing) -> Vec<Reason> {
        // brand → (distance, listing photo, reference photo)
        let mut best: BTreeMap<&str, (u32, &str, &str)> = BTreeMap::new();
        for image in &listing.images {
            if image.contains("://") {
                continue;
            }
            let path = locate(image, self.listings_dir.as_deref());
            let hashed = match ipguard_pdq::hash_file(&path) {
                Ok(hashed) if hashed.quality >= MIN_QUALITY => hashed,
                Ok(_) => continue,
                Err(err) => {
                    if self.unreadable.fetch_add(1, Ordering::Relaxed) < REPORTED_PHOTO_ERRORS {
                        eprintln!("ipguard scan: listing {}: photo {image}: {err}", listing.id);
                    }
                    continue;
                }
            };
            for found in self.index.query(&hashed.hash.0, self.radius) {
                let Some((brand, reference)) = usize::try_from(found.id / 8)
                    .ok()
                    .and_then(|n| self.references.get(n))
                else {
                    continue;
                };
                let authorised = listing.seller_id.as_ref().is_some_and(|seller| {
                    self.authorised
                        .get(brand)
                        .is_some_and(|sellers| sellers.contains(seller))
                });
                let closer = best
                    .get(brand.as_str())
                    .is_none_or(|(distance, _, _)| found.distance < *distance);
                if !authorised && closer {
                    best.insert(brand, (found.distance, image, reference));
                }
            }
        }
        best.into_iter()
            .map(|(brand, (distance, image, reference))| Reason::ImageMatch {
                brand: Some(brand.to_owned()),
                image: image.to_owned(),
                reference: reference.to_owned(),
                distance,
            })
            .collect()
    }
}

/// A path as written, or else relative to `fallback_dir`.
fn locate(written: &str, fallback_dir: Option<&Path>) -> PathBuf {
    let path = PathBuf::from(written);
    match fallback_dir {
        Some(dir) if path.is_relative() && !path.exists() => dir.join(path),
        _ => path,
    }
}
