//! The optimised pipeline against a plain transcription of the reference
//! algorithm (one row or column at a time, as the C++ core loops), on random
//! sizes and pixels: the fixtures cover chosen sizes, this covers the rest.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Index loops on purpose: the transcription mirrors the C++ loops.
#![allow(clippy::needless_range_loop)]

use ipguard_pdq::hash_rgb;
use proptest::prelude::*;

/// The reference's `box1DFloat` over `length` values `stride` apart.
fn box_1d(
    input: &[f32],
    output: &mut [f32],
    start: usize,
    length: usize,
    stride: usize,
    window: usize,
) {
    let half = (window + 2) / 2;
    let (mut sum, mut count) = (0.0f32, 0u32);
    let (mut right, mut left, mut out) = (start, start, start);
    for _ in 0..half - 1 {
        sum += input[right];
        right += stride;
        count += 1;
    }
    for _ in 0..window - half + 1 {
        sum += input[right];
        right += stride;
        count += 1;
        output[out] = sum / count as f32;
        out += stride;
    }
    for _ in 0..length - window {
        sum += input[right];
        sum -= input[left];
        right += stride;
        left += stride;
        output[out] = sum / count as f32;
        out += stride;
    }
    for _ in 0..half - 1 {
        sum -= input[left];
        left += stride;
        count -= 1;
        output[out] = sum / count as f32;
        out += stride;
    }
}

/// Hash (as 256 bits, index i*16+j) and quality, computed the plain way.
fn naive_pdq(width: usize, height: usize, rgb: &[u8]) -> (Vec<bool>, u8) {
    if width < 5 || height < 5 {
        return (vec![false; 256], 0);
    }
    let mut luma: Vec<f32> = rgb
        .chunks_exact(3)
        .map(|p| {
            (f64::from(p[0]) * 0.299 + f64::from(p[1]) * 0.587 + f64::from(p[2]) * 0.114) as f32
        })
        .collect();
    let mut small = vec![[0.0f32; 64]; 64];
    if width == 64 && height == 64 {
        for (i, row) in small.iter_mut().enumerate() {
            row.copy_from_slice(&luma[i * 64..(i + 1) * 64]);
        }
    } else {
        let row_window = width.div_ceil(128);
        let column_window = height.div_ceil(128);
        let mut other = vec![0.0f32; luma.len()];
        for _ in 0..2 {
            for i in 0..height {
                box_1d(&luma, &mut other, i * width, width, 1, row_window);
            }
            for j in 0..width {
                box_1d(&other, &mut luma, j, height, width, column_window);
            }
        }
        for (i, row) in small.iter_mut().enumerate() {
            let y = (((i as f64 + 0.5) * height as f64) / 64.0) as usize;
            for (j, value) in row.iter_mut().enumerate() {
                let x = (((j as f64 + 0.5) * width as f64) / 64.0) as usize;
                *value = luma[y * width + x];
            }
        }
    }

    let mut gradient_sum = 0i32;
    for i in 0..63 {
        for j in 0..64 {
            gradient_sum += ((((small[i][j] - small[i + 1][j]) * 100.0) / 255.0) as i32).abs();
        }
    }
    for row in &small {
        for j in 0..63 {
            gradient_sum += ((((row[j] - row[j + 1]) * 100.0) / 255.0) as i32).abs();
        }
    }
    let quality = (gradient_sum / 90).min(100) as u8;

    let scale = (2.0f64 / 64.0).sqrt() as f32;
    let dct: Vec<[f32; 64]> = (0..16)
        .map(|i| {
            std::array::from_fn(|j| {
                let angle =
                    (std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
                (f64::from(scale) * angle.cos()) as f32
            })
        })
        .collect();
    let mut partial = [[0.0f32; 64]; 16];
    for i in 0..16 {
        for j in 0..64 {
            let mut sum = 0.0f32;
            for k in 0..64 {
                sum += dct[i][k] * small[k][j];
            }
            partial[i][j] = sum;
        }
    }
    let mut coefficients = Vec::with_capacity(256);
    for i in 0..16 {
        for j in 0..16 {
            let mut sum = 0.0f32;
            for k in 0..64 {
                sum += partial[i][k] * dct[j][k];
            }
            coefficients.push(sum);
        }
    }
    let mut sorted = coefficients.clone();
    sorted.sort_by(f32::total_cmp);
    let median = sorted[127];
    (coefficients.iter().map(|c| *c > median).collect(), quality)
}

fn image_strategy() -> impl Strategy<Value = (usize, usize, Vec<u8>)> {
    (1usize..300, 1usize..300).prop_flat_map(|(width, height)| {
        // Smooth images with a little noise, so that bits are decided by
        // real structure as well as by rounding.
        (Just(width), Just(height), any::<u64>()).prop_map(|(width, height, seed)| {
            let mut state = seed | 1;
            let mut pixels = Vec::with_capacity(width * height * 3);
            for y in 0..height {
                for x in 0..width {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let noise = (state % 23) as usize;
                    let base = (x * 255 / width + y * 97 / height + (seed as usize % 50)) % 256;
                    pixels.push(((base + noise) % 256) as u8);
                    pixels.push(((x * y + noise) % 256) as u8);
                    pixels.push(((255 - base + noise * 3) % 256) as u8);
                }
            }
            (width, height, pixels)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn optimised_hash_equals_the_plain_reference_algorithm((width, height, pixels) in image_strategy()) {
        let (bits, quality) = naive_pdq(width, height, &pixels);
        let got = hash_rgb(width, height, &pixels).unwrap();
        prop_assert_eq!(got.quality, quality);
        for (index, bit) in bits.iter().enumerate() {
            prop_assert_eq!(got.hash.bit(index), *bit, "bit {}", index);
        }
    }
}

#[test]
fn power_of_two_and_strip_boundary_sizes_equal_the_plain_reference() {
    for (width, height) in [
        (64, 64),
        (128, 128),
        (256, 8),
        (8, 256),
        (129, 17),
        (512, 9),
        (7, 1025),
    ] {
        let pixels: Vec<u8> = (0..width * height * 3)
            .map(|i| ((i * 7 + i / 13 + (i / (width * 3)) * 5) % 251) as u8)
            .collect();
        let (bits, quality) = naive_pdq(width, height, &pixels);
        let got = hash_rgb(width, height, &pixels).unwrap();
        assert_eq!(got.quality, quality, "{width}x{height}");
        for (index, bit) in bits.iter().enumerate() {
            assert_eq!(got.hash.bit(index), *bit, "{width}x{height} bit {index}");
        }
    }
}
