//! From the 64×64 downsample to bits: quality metric, the 16×16 low-frequency
//! DCT, the median threshold, and the dihedral variants of the DCT.

use std::sync::LazyLock;

use crate::downsample::SIDE;
use crate::hash::{DihedralHashes, PdqHash};

/// Side of the kept block of DCT coefficients: frequencies 1..=16 on each
/// axis (the constant term 0 is left out, as in the reference).
const KEPT: usize = 16;

pub(crate) type Coefficients = [[f32; KEPT]; KEPT];

/// Rows 1..=16 of the 64-point DCT-II matrix, stored transposed
/// (`[sample][frequency]`) so both matrix products below run along
/// contiguous rows. Each entry is rounded to f32 exactly as the reference's
/// `dct_matrix_64`: an f32 scale factor times a double cosine.
static DCT_TRANSPOSED: LazyLock<[[f32; KEPT]; SIDE]> = LazyLock::new(|| {
    let scale = (2.0f64 / SIDE as f64).sqrt() as f32;
    let mut matrix = [[0.0; KEPT]; SIDE];
    for (sample, row) in matrix.iter_mut().enumerate() {
        for (frequency, entry) in row.iter_mut().enumerate() {
            let angle = (std::f64::consts::PI / 2.0 / SIDE as f64)
                * (frequency + 1) as f64
                * (2 * sample + 1) as f64;
            *entry = (f64::from(scale) * angle.cos()) as f32;
        }
    }
    matrix
});

/// The reference's image-domain quality: the sum over neighbouring pairs of
/// the truncated gradient in percent of full scale, divided by 90, capped at
/// 100.
pub(crate) fn quality(image: &[[f32; SIDE]; SIDE]) -> u8 {
    let step = |u: f32, v: f32| ((((u - v) * 100.0) / 255.0) as i32).abs();
    let mut gradient_sum: i32 = 0;
    for pair in image.windows(2) {
        for (u, v) in pair[0].iter().zip(&pair[1]) {
            gradient_sum += step(*u, *v);
        }
    }
    for row in image {
        for pair in row.windows(2) {
            gradient_sum += step(pair[0], pair[1]);
        }
    }
    (gradient_sum / 90).min(100) as u8
}

/// `B = D A Dᵀ` for the 16×64 DCT matrix `D`. Each output is a sum of 64
/// products accumulated in f32 in increasing `k`, the reference's order;
/// the loops run over the independent outputs innermost so they vectorise.
pub(crate) fn dct_64_to_16(image: &[[f32; SIDE]; SIDE]) -> Coefficients {
    let dct = &*DCT_TRANSPOSED;
    // T = D A: T[i][j] = sum_k D[i][k] A[k][j].
    let mut partial = [[0.0f32; SIDE]; KEPT];
    for (i, out) in partial.iter_mut().enumerate() {
        for (k, image_row) in image.iter().enumerate() {
            let weight = dct[k][i];
            for (sum, value) in out.iter_mut().zip(image_row) {
                *sum += weight * value;
            }
        }
    }
    // B = T Dᵀ: B[i][j] = sum_k T[i][k] D[j][k].
    let mut coefficients = [[0.0f32; KEPT]; KEPT];
    for (out, partial_row) in coefficients.iter_mut().zip(&partial) {
        for (value, dct_row) in partial_row.iter().zip(dct) {
            for (sum, weight) in out.iter_mut().zip(dct_row) {
                *sum += value * weight;
            }
        }
    }
    coefficients
}

/// The reference takes the median with Torben's method, which for 256
/// values returns the 128th smallest; selecting it directly gives the same
/// value.
fn median(coefficients: &Coefficients) -> f32 {
    let mut values: Vec<f32> = coefficients.iter().flatten().copied().collect();
    let (_, median, _) = values.select_nth_unstable_by(KEPT * KEPT / 2 - 1, f32::total_cmp);
    *median
}

/// How many coefficients lie within `margin` of the median (the median's
/// own included): the bits that a change of up to `margin` in every
/// coefficient could flip.
pub(crate) fn near_median(coefficients: &Coefficients, margin: f32) -> usize {
    let median = median(coefficients);
    coefficients
        .iter()
        .flatten()
        .filter(|value| (*value - median).abs() < margin)
        .count()
}

/// One bit per coefficient: set when it is above the median.
pub(crate) fn to_hash(coefficients: &Coefficients) -> PdqHash {
    let median = median(coefficients);
    let mut hash = PdqHash::ZERO;
    for (index, value) in coefficients.iter().flatten().enumerate() {
        if *value > median {
            hash.set_bit(index);
        }
    }
    hash
}

/// The DCT of a rotated or mirrored image, derived from the original's. A
/// mirror along an axis negates the odd-numbered frequencies on it (the kept
/// block starts at frequency 1, so those are the even indices), and a
/// rotation by 90° is a transpose plus a mirror.
#[derive(Clone, Copy)]
struct Symmetry {
    transpose: bool,
    negate_even_rows: bool,
    negate_even_columns: bool,
}

/// In the reference's order: original, rotate 90, 180, 270, flip x, flip y,
/// flip about the main and the anti-diagonal. Rows and columns here are of
/// the original coefficients `A[i][j]`; the reference's sign tables for the
/// transposing cases are written in terms of `i` and `j` of `A` too.
const SYMMETRIES: [Symmetry; 8] = [
    Symmetry::new(false, false, false),
    Symmetry::new(true, false, true),
    Symmetry::new(false, true, true),
    Symmetry::new(true, true, false),
    Symmetry::new(false, true, false),
    Symmetry::new(false, false, true),
    Symmetry::new(true, false, false),
    Symmetry::new(true, true, true),
];

impl Symmetry {
    const fn new(transpose: bool, negate_even_rows: bool, negate_even_columns: bool) -> Symmetry {
        Symmetry {
            transpose,
            negate_even_rows,
            negate_even_columns,
        }
    }

    fn apply(self, original: &Coefficients) -> Coefficients {
        let mut out = [[0.0; KEPT]; KEPT];
        for (i, row) in original.iter().enumerate() {
            for (j, value) in row.iter().enumerate() {
                let negate = (self.negate_even_rows && i % 2 == 0)
                    != (self.negate_even_columns && j % 2 == 0);
                let value = if negate { -value } else { *value };
                if self.transpose {
                    out[j][i] = value;
                } else {
                    out[i][j] = value;
                }
            }
        }
        out
    }
}

pub(crate) fn dihedral_hashes(original: &Coefficients, quality: u8) -> DihedralHashes {
    let [o, r90, r180, r270, fx, fy, fp, fm] =
        SYMMETRIES.map(|symmetry| to_hash(&symmetry.apply(original)));
    DihedralHashes {
        original: o,
        rotate90: r90,
        rotate180: r180,
        rotate270: r270,
        flip_x: fx,
        flip_y: fy,
        flip_plus1: fp,
        flip_minus1: fm,
        quality,
    }
}
