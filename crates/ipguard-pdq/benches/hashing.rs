//! Hashing speed: from decoded pixels at a non-power-of-two and a
//! power-of-two width (where the reference's column pass slows down), and
//! from JPEG bytes against decoding alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::io::Cursor;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use image::{ImageFormat, RgbImage};

/// A deterministic photo-like test image: smooth shading, blocky objects
/// with edges (so its PDQ quality is 100, as a real photo's is, and the
/// JPEG luma-only path is taken) and fine detail.
fn test_image(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let objects = if (x / 37 + y / 53) % 3 == 0 {
            -60.0
        } else {
            0.0
        };
        let shade = 128.0 + 80.0 * (fx * 6.0).sin() * (fy * 4.0).cos() + objects;
        let detail = ((x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) % 31) as f32;
        image::Rgb([
            (shade + detail) as u8,
            (255.0 * fy) as u8,
            (255.0 * fx * fy + detail) as u8,
        ])
    })
}

fn jpeg(image: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg)
        .unwrap();
    bytes
}

fn from_pixels(c: &mut Criterion) {
    let mut group = c.benchmark_group("hash_rgb");
    group.throughput(Throughput::Elements(1));
    for (width, height) in [(1000, 750), (1024, 768)] {
        let image = test_image(width, height);
        group.bench_function(format!("{width}x{height}"), |b| {
            b.iter(|| {
                ipguard_pdq::hash_rgb(width as usize, height as usize, black_box(image.as_raw()))
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn from_jpeg(c: &mut Criterion) {
    let mut group = c.benchmark_group("jpeg_1000x750");
    group.throughput(Throughput::Elements(1));
    let bytes = jpeg(&test_image(1000, 750));
    assert!(ipguard_pdq::hash_bytes(&bytes).unwrap().quality >= 50);
    group.bench_function("decode_only", |b| {
        b.iter(|| {
            image::load_from_memory_with_format(black_box(&bytes), ImageFormat::Jpeg).unwrap()
        })
    });
    group.bench_function("decode_and_hash", |b| {
        b.iter(|| ipguard_pdq::hash_bytes(black_box(&bytes)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, from_pixels, from_jpeg);
criterion_main!(benches);
