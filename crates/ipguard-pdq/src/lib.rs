//! PDQ perceptual hashing of images, bit-compatible with Meta ThreatExchange's
//! reference C++ core, for matching product photos reused without permission.
//!
//! [`hash_bytes`] and [`hash_file`] decode a JPEG, PNG, WebP or GIF safely and
//! hash it; [`hash_rgb`] hashes pixels already decoded. The result is the
//! 256-bit hash, printed by [`PdqHash::to_hex`] in the reference's format, and
//! the reference's 0–100 quality score. [`dihedral_hashes_bytes`] also gives
//! the hashes of the image's seven rotations and mirror images, derived from
//! one DCT as the reference does.
//!
//! # Compatibility
//!
//! Given the same pixels, hash and quality are identical to those of the
//! `pdqhash` Python bindings of the reference core (checked against fixtures
//! the bindings generated, `tests/conformance.rs`): the same Jarosz box
//! filter in the same float operation order, decimation to 64×64 (with the
//! reference's shortcut for 64×64 input), the 16×16 DCT summed in the same
//! order, the median threshold and the integer quality metric. The whole
//! image is hashed at full resolution, as the core and the bindings do (the
//! reference command-line tool's 512×512 pre-resize is not part of the
//! algorithm). Images under 5 pixels a side get the reference's all-zero
//! hash and quality 0.
//!
//! Luminance follows the **bindings**, not the C++ core: the bindings compute
//! `0.299 R + 0.587 G + 0.114 B` in double precision (numpy) and round once to
//! f32, whereas the core rounds each product to f32. The two differ in the
//! last bit for some pixels, which changes the hash only of near-degenerate
//! images (e.g. nearly flat ones); the bindings are what the reference's
//! Python users, and our fixtures, run.
//!
//! Pixels are those Pillow's `Image.open(f).convert("RGB")` gives: first
//! frame, no EXIF rotation, alpha dropped rather than composited, palette,
//! 1-bit and gray expanded to RGB, CMYK JPEG converted, 16-bit PNG reduced
//! as Pillow reduces it. Lossless formats decode to exactly Pillow's pixels;
//! JPEG and lossy WebP decoders round differently, so hashes of those may
//! differ from Pillow users' by a few bits (at most 4 on the fixtures; the
//! conformance tests allow 10). For a YCbCr JPEG only the luma plane is
//! decoded, since PDQ looks at nothing else, and its blur regroups the
//! running sums and divides by multiplying (a rounding step away from the
//! reference's float order, far below the difference between Y and the
//! luminance of decoded RGB; the fixtures hash identically either way);
//! when the resulting quality is under 30 (nearly flat images, whose bits
//! flip at any rounding change) the image is decoded again in full RGB and
//! hashed from that, in the reference's arithmetic.
//!
//! # What this crate is not
//!
//! It does not store or search hashes (that is `ipguard-hashindex`), fetch
//! images, or decide what a match means. It has no `unsafe` and no Python.

mod dct;
mod decode;
mod downsample;
mod error;
mod hash;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use decode::DecodeLimits;
pub use error::PdqError;
pub use hash::{DihedralHashes, HashResult, ParseHashError, PdqHash};

use decode::JpegLuma;
use downsample::{Arithmetic, Pixels, SIDE, Scratch};

/// The reference hashes nothing smaller than this a side.
const MIN_HASHABLE_SIDE: usize = 5;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Which of the reference's entry points to follow. They differ only for a
/// 64×64 image: the single-hash path skips the blur, the dihedral one blurs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path64 {
    SkipBlur,
    Blur,
}

/// The 64×64 downsample and its quality, or `None` under the minimum size.
fn downsample(pixels: &Pixels, path: Path64) -> Option<([[f32; SIDE]; SIDE], u8)> {
    if pixels.width < MIN_HASHABLE_SIDE || pixels.height < MIN_HASHABLE_SIDE {
        return None;
    }
    let image = if path == Path64::SkipBlur && pixels.width == SIDE && pixels.height == SIDE {
        downsample::luma_64x64(pixels)
    } else {
        SCRATCH.with(|scratch| downsample::blur_and_decimate(pixels, &mut scratch.borrow_mut()))
    };
    let quality = dct::quality(&image);
    Some((image, quality))
}

fn hash_pixels(pixels: &Pixels) -> HashResult {
    match downsample(pixels, Path64::SkipBlur) {
        Some((image, quality)) => HashResult {
            hash: dct::to_hash(&dct::dct_64_to_16(&image)),
            quality,
        },
        None => HashResult {
            hash: PdqHash::ZERO,
            quality: 0,
        },
    }
}

fn dihedral_pixels(pixels: &Pixels) -> DihedralHashes {
    match downsample(pixels, Path64::Blur) {
        Some((image, quality)) => dct::dihedral_hashes(&dct::dct_64_to_16(&image), quality),
        None => DihedralHashes {
            original: PdqHash::ZERO,
            rotate90: PdqHash::ZERO,
            rotate180: PdqHash::ZERO,
            rotate270: PdqHash::ZERO,
            flip_x: PdqHash::ZERO,
            flip_y: PdqHash::ZERO,
            flip_plus1: PdqHash::ZERO,
            flip_minus1: PdqHash::ZERO,
            quality: 0,
        },
    }
}

fn rgb_pixels(width: usize, height: usize, pixels: &[u8]) -> Result<Pixels<'_>, PdqError> {
    let expected = width
        .checked_mul(height)
        .and_then(|count| count.checked_mul(3));
    if expected != Some(pixels.len()) {
        return Err(PdqError::PixelBufferSize {
            width,
            height,
            expected: expected.unwrap_or(usize::MAX),
            actual: pixels.len(),
        });
    }
    Ok(Pixels {
        data: pixels,
        width,
        height,
        channels: 3,
        arithmetic: Arithmetic::Reference,
    })
}

/// Hashes decoded pixels: `pixels` is row-major RGB, 3 bytes a pixel, no
/// padding between rows.
pub fn hash_rgb(width: usize, height: usize, pixels: &[u8]) -> Result<HashResult, PdqError> {
    Ok(hash_pixels(&rgb_pixels(width, height, pixels)?))
}

/// The eight dihedral hashes of decoded RGB pixels (see [`hash_rgb`]).
pub fn dihedral_hashes_rgb(
    width: usize,
    height: usize,
    pixels: &[u8],
) -> Result<DihedralHashes, PdqError> {
    Ok(dihedral_pixels(&rgb_pixels(width, height, pixels)?))
}

/// Below this quality, a hash computed from a JPEG's luma plane alone is
/// recomputed from fully decoded RGB: flatter images have DCT coefficients
/// so close to their median that the small differences between Y and the
/// luminance of decoded RGB flip bits. Measured against pdqhash on Pillow's
/// pixels (bench/images/jpeg_fidelity.sh, 138 generated JPEGs): from
/// quality 30 to 49 the luma plane was at most 6 bits off, at 50 and above
/// at most 10; under 20 it reached 12–26 bits, where a full decode stays
/// within 4.
const LUMA_SHORTCUT_MIN_QUALITY: u8 = 30;

/// Decodes untrusted image bytes within `limits` and runs `hash` on them,
/// decoding a YCbCr JPEG's luma plane only unless the result's `quality` is
/// too low to trust it.
fn with_decoded<T>(
    bytes: &[u8],
    limits: &DecodeLimits,
    hash: impl Fn(&Pixels) -> T,
    quality: impl Fn(&T) -> u8,
) -> Result<T, PdqError> {
    let decoded = decode::decode(bytes, limits, JpegLuma::Allowed)?;
    let result = hash(&decoded.pixels());
    if decoded.luma_only && quality(&result) < LUMA_SHORTCUT_MIN_QUALITY {
        let full = decode::decode(bytes, limits, JpegLuma::Forbidden)?;
        return Ok(hash(&full.pixels()));
    }
    Ok(result)
}

fn hash_quality(result: &HashResult) -> u8 {
    result.quality
}

fn dihedral_quality(result: &DihedralHashes) -> u8 {
    result.quality
}

/// Decodes a JPEG, PNG, WebP or GIF (recognised by content) with the default
/// [`DecodeLimits`] and hashes it.
pub fn hash_bytes(bytes: &[u8]) -> Result<HashResult, PdqError> {
    hash_bytes_with_limits(bytes, &DecodeLimits::default())
}

/// [`hash_bytes`] with caller-chosen decoding limits.
pub fn hash_bytes_with_limits(bytes: &[u8], limits: &DecodeLimits) -> Result<HashResult, PdqError> {
    with_decoded(bytes, limits, hash_pixels, hash_quality)
}

/// Decodes image bytes as [`hash_bytes`] does and returns all eight dihedral
/// hashes, for matching rotated or mirrored copies.
pub fn dihedral_hashes_bytes(bytes: &[u8]) -> Result<DihedralHashes, PdqError> {
    dihedral_hashes_bytes_with_limits(bytes, &DecodeLimits::default())
}

/// [`dihedral_hashes_bytes`] with caller-chosen decoding limits.
pub fn dihedral_hashes_bytes_with_limits(
    bytes: &[u8],
    limits: &DecodeLimits,
) -> Result<DihedralHashes, PdqError> {
    with_decoded(bytes, limits, dihedral_pixels, dihedral_quality)
}

/// Reads at most `limits.max_file_bytes` of a file, refusing larger ones
/// before reading them.
fn read_bounded(path: &Path, limits: &DecodeLimits) -> Result<Vec<u8>, PdqError> {
    let size = std::fs::metadata(path)?.len();
    if size > limits.max_file_bytes {
        return Err(PdqError::FileTooLarge {
            size,
            limit: limits.max_file_bytes,
        });
    }
    Ok(std::fs::read(path)?)
}

/// Reads and hashes an image file; its name and extension are ignored.
pub fn hash_file(path: impl AsRef<Path>) -> Result<HashResult, PdqError> {
    let limits = DecodeLimits::default();
    hash_bytes_with_limits(&read_bounded(path.as_ref(), &limits)?, &limits)
}

/// Reads an image file and returns its eight dihedral hashes.
pub fn dihedral_hashes_file(path: impl AsRef<Path>) -> Result<DihedralHashes, PdqError> {
    let limits = DecodeLimits::default();
    let bytes = read_bounded(path.as_ref(), &limits)?;
    with_decoded(&bytes, &limits, dihedral_pixels, dihedral_quality)
}

/// Hashes many files on all cores; result `i` is for `paths[i]`. A file that
/// fails gives its error in its slot and does not stop the others.
pub fn hash_files_parallel(paths: &[PathBuf]) -> Vec<Result<HashResult, PdqError>> {
    paths.par_iter().map(hash_file).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gray pixels with structure at several scales and some noise, as a
    /// photo's luma plane has.
    fn textured_gray(width: usize, height: usize, seed: u64) -> Vec<u8> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut data = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let (fx, fy) = (x as f64 / width as f64, y as f64 / height as f64);
                let shade = 110.0 + 70.0 * (fx * 7.0 + seed as f64).sin() * (fy * 5.0).cos();
                let blocks = if (x / 41 + y / 29) % 3 == 0 {
                    40.0
                } else {
                    0.0
                };
                let noise = (state % 17) as f64;
                data.push((shade + blocks + noise).clamp(0.0, 255.0) as u8);
            }
        }
        data
    }

    #[test]
    fn fast_arithmetic_hashes_within_two_bits_of_the_reference_arithmetic() {
        let mut total_distance = 0;
        for (width, height, seed) in [
            (1000, 750, 1),
            (1024, 768, 2),
            (333, 250, 3),
            (640, 480, 4),
            (97, 1203, 5),
            (2000, 1500, 6),
        ] {
            let data = textured_gray(width, height, seed);
            let pixels = |arithmetic| Pixels {
                data: &data,
                width,
                height,
                channels: 1,
                arithmetic,
            };
            let reference = hash_pixels(&pixels(Arithmetic::Reference));
            let fast = hash_pixels(&pixels(Arithmetic::Fast));
            let distance = fast.hash.hamming(&reference.hash);
            assert_eq!(fast.quality, reference.quality, "{width}x{height}");
            assert!(distance <= 2, "{width}x{height}: {distance} bits apart");
            total_distance += distance;
        }
        println!("total distance over six images: {total_distance}");
    }
}
