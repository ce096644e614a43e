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
//! flip at any rounding change), or when more than 10 DCT coefficients lie
//! within 0.1 of the median (bits that Y's difference from the luminance of
//! RGB can flip), the image is decoded again in full RGB and hashed from
//! that, in the reference's arithmetic.
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

use dct::Coefficients;
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

/// What the hashes are made from: the 16×16 DCT of the 64×64 downsample, and
/// the downsample's quality.
struct Spectrum {
    coefficients: Coefficients,
    quality: u8,
}

/// The image's spectrum, or `None` under the minimum size.
fn spectrum(pixels: &Pixels, path: Path64) -> Option<Spectrum> {
    downsample(pixels, path).map(|(image, quality)| Spectrum {
        coefficients: dct::dct_64_to_16(&image),
        quality,
    })
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
    single_hash(spectrum(pixels, Path64::SkipBlur).as_ref())
}

fn single_hash(spectrum: Option<&Spectrum>) -> HashResult {
    match spectrum {
        Some(spectrum) => HashResult {
            hash: dct::to_hash(&spectrum.coefficients),
            quality: spectrum.quality,
        },
        None => HashResult {
            hash: PdqHash::ZERO,
            quality: 0,
        },
    }
}

fn dihedral_pixels(pixels: &Pixels) -> DihedralHashes {
    dihedral_set(spectrum(pixels, Path64::Blur).as_ref())
}

fn dihedral_set(spectrum: Option<&Spectrum>) -> DihedralHashes {
    match spectrum {
        Some(spectrum) => dct::dihedral_hashes(&spectrum.coefficients, spectrum.quality),
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
/// pixels (bench/images/jpeg_fidelity.sh, 138 generated JPEGs): under 20 the
/// luma plane reached 12–26 bits off, where a full decode stays within 4.
const LUMA_SHORTCUT_MIN_QUALITY: u8 = 30;

/// A luma-plane hash is also recomputed from RGB when more than
/// [`LUMA_SHORTCUT_MAX_NEAR_MEDIAN`] of its coefficients lie within
/// [`LUMA_SHORTCUT_MARGIN`] of the median: those are the bits that Y's
/// difference from the luminance of decoded RGB can flip. On the generated
/// JPEGs above quality 30, the luma plane's distance to the reference grew
/// with that count (10 bits off for an image with 11 such coefficients, at
/// most 6 for 10 or fewer); photos at JPEG quality 90 have 1 to 8.
const LUMA_SHORTCUT_MARGIN: f32 = 0.1;
const LUMA_SHORTCUT_MAX_NEAR_MEDIAN: usize = 10;

/// Whether a spectrum from a JPEG's luma plane gives the reference's hash to
/// within a few bits.
fn luma_spectrum_is_trusted(spectrum: Option<&Spectrum>) -> bool {
    spectrum.is_none_or(|spectrum| {
        spectrum.quality >= LUMA_SHORTCUT_MIN_QUALITY
            && dct::near_median(&spectrum.coefficients, LUMA_SHORTCUT_MARGIN)
                <= LUMA_SHORTCUT_MAX_NEAR_MEDIAN
    })
}

/// Decodes untrusted image bytes within `limits` and makes the hashes with
/// `finish`, decoding a YCbCr JPEG's luma plane only unless the spectrum it
/// gives is too unstable to trust (then the image is decoded again in RGB).
fn with_decoded<T>(
    bytes: &[u8],
    limits: &DecodeLimits,
    path: Path64,
    finish: impl Fn(Option<&Spectrum>) -> T,
) -> Result<T, PdqError> {
    let decoded = decode::decode(bytes, limits, JpegLuma::Allowed)?;
    let mut result = spectrum(&decoded.pixels(), path);
    if decoded.luma_only && !luma_spectrum_is_trusted(result.as_ref()) {
        let full = decode::decode(bytes, limits, JpegLuma::Forbidden)?;
        result = spectrum(&full.pixels(), path);
    }
    Ok(finish(result.as_ref()))
}

/// Decodes a JPEG, PNG, WebP or GIF (recognised by content) with the default
/// [`DecodeLimits`] and hashes it.
pub fn hash_bytes(bytes: &[u8]) -> Result<HashResult, PdqError> {
    hash_bytes_with_limits(bytes, &DecodeLimits::default())
}

/// [`hash_bytes`] with caller-chosen decoding limits.
pub fn hash_bytes_with_limits(bytes: &[u8], limits: &DecodeLimits) -> Result<HashResult, PdqError> {
    with_decoded(bytes, limits, Path64::SkipBlur, single_hash)
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
    with_decoded(bytes, limits, Path64::Blur, dihedral_set)
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
    with_decoded(&bytes, &limits, Path64::Blur, dihedral_set)
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

    /// A spectrum whose coefficients are spread 1.0 apart, with `crowded`
    /// of them moved to within 0.05 of the median.
    fn spread_spectrum(quality: u8, crowded: usize) -> Spectrum {
        let mut coefficients = [[0.0f32; 16]; 16];
        for (index, value) in coefficients.iter_mut().flatten().enumerate() {
            *value = index as f32;
        }
        // The median of 0..256 is the 128th smallest, 127.
        for (offset, index) in (0..crowded).zip((0..256).filter(|index| *index != 127)) {
            coefficients[index / 16][index % 16] =
                127.0 + 0.04 * (offset as f32 + 1.0) / crowded as f32;
        }
        Spectrum {
            coefficients,
            quality,
        }
    }

    #[test]
    fn a_luma_plane_spectrum_is_trusted_only_with_quality_and_few_coefficients_near_the_median() {
        assert!(luma_spectrum_is_trusted(Some(&spread_spectrum(80, 0))));
        assert!(luma_spectrum_is_trusted(Some(&spread_spectrum(
            80,
            LUMA_SHORTCUT_MAX_NEAR_MEDIAN - 1
        ))));
        assert!(!luma_spectrum_is_trusted(Some(&spread_spectrum(
            80,
            LUMA_SHORTCUT_MAX_NEAR_MEDIAN
        ))));
        assert!(!luma_spectrum_is_trusted(Some(&spread_spectrum(
            LUMA_SHORTCUT_MIN_QUALITY - 1,
            0
        ))));
        // Under the minimum size there is nothing to recompute.
        assert!(luma_spectrum_is_trusted(None));
    }
}
