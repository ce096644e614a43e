//! Untrusted input: every bad file gives a typed error, never a panic or a
//! huge allocation, and good files hash whatever they are called.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use ipguard_pdq::{
    DecodeLimits, PdqError, hash_bytes, hash_bytes_with_limits, hash_file, hash_files_parallel,
    hash_rgb,
};
use proptest::prelude::*;

fn fixture(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/images")
        .join(file)
}

fn fixture_bytes(file: &str) -> Vec<u8> {
    std::fs::read(fixture(file)).unwrap()
}

/// A PNG whose header claims `width`×`height` but whose data is tiny: the
/// shape of a decompression bomb.
fn png_header_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    push_chunk(&mut bytes, b"IHDR", &ihdr);
    // The start of a zlib stream of zeros; a real bomb's would go on.
    push_chunk(&mut bytes, b"IDAT", &[0x78, 0x9c, 0xed, 0xc1, 0x01, 0x0d]);
    push_chunk(&mut bytes, b"IEND", &[]);
    bytes
}

fn push_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut chunk = kind.to_vec();
    chunk.extend_from_slice(data);
    png.extend_from_slice(&chunk);
    png.extend_from_slice(&crc32(&chunk).to_be_bytes());
}

/// PNG's CRC-32, so the crafted header is valid and only its size is wrong.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn zero_bytes_is_an_empty_error() {
    assert!(matches!(hash_bytes(&[]), Err(PdqError::Empty)));
}

#[test]
fn text_and_unsupported_formats_are_refused() {
    assert!(matches!(
        hash_bytes(b"this is not an image at all"),
        Err(PdqError::UnsupportedFormat)
    ));
    // A BMP header: a real image format, but not one we accept.
    assert!(matches!(
        hash_bytes(b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0"),
        Err(PdqError::UnsupportedFormat)
    ));
}

#[test]
fn a_decompression_bomb_is_refused_before_allocation() {
    let bomb = png_header_claiming(100_000, 100_000);
    match hash_bytes(&bomb) {
        Err(PdqError::DimensionsTooLarge { width, height, .. }) => {
            assert_eq!((width, height), (100_000, 100_000));
        }
        other => panic!("expected DimensionsTooLarge, got {other:?}"),
    }
}

#[test]
fn caller_limits_are_applied() {
    let bytes = fixture_bytes("text-640x480-rgb.png");
    let tight = DecodeLimits {
        max_pixels: 100_000,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        hash_bytes_with_limits(&bytes, &tight),
        Err(PdqError::DimensionsTooLarge { .. })
    ));
    let small_files = DecodeLimits {
        max_file_bytes: 1_000,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        hash_bytes_with_limits(&bytes, &small_files),
        Err(PdqError::FileTooLarge { .. })
    ));
}

#[test]
fn truncated_and_corrupt_files_give_errors_not_panics() {
    for file in [
        "text-640x480-rgb.png",
        "blobs-256x256-rgb.gif",
        "blobs-240x180-lossless.webp",
        "photo-480x360-q90.jpg",
    ] {
        let bytes = fixture_bytes(file);
        for keep in [8, 20, 64, bytes.len() / 3, bytes.len() / 2] {
            // JPEG decoders may fill in a truncated image; what matters is
            // that nothing panics and a PNG, GIF or WebP cut short is an error.
            let result = hash_bytes(&bytes[..keep]);
            if !file.ends_with(".jpg") {
                assert!(result.is_err(), "{file} cut to {keep} bytes hashed");
            }
        }
        let mut corrupt = bytes.clone();
        for (i, byte) in corrupt.iter_mut().enumerate().skip(40) {
            if i % 7 == 0 {
                *byte ^= 0x5a;
            }
        }
        let _ = hash_bytes(&corrupt);
    }
}

#[test]
fn the_format_comes_from_the_content_not_the_name() {
    // A PNG named .jpg.
    let named_jpg = hash_file(fixture("checker-90x60-png-content.jpg")).unwrap();
    let bytes = fixture_bytes("checker-90x60-png-content.jpg");
    assert_eq!(hash_bytes(&bytes).unwrap(), named_jpg);
    assert!(named_jpg.quality > 0);
}

#[test]
fn a_missing_file_is_an_io_error() {
    assert!(matches!(
        hash_file(fixture("no-such-file.png")),
        Err(PdqError::Io(_))
    ));
}

#[test]
fn parallel_hashing_keeps_order_and_isolates_failures() {
    let paths = vec![
        fixture("text-640x480-rgb.png"),
        fixture("no-such-file.png"),
        fixture("blobs-256x256-rgb.gif"),
        fixture("shapes-1024x768-q85.jpg"),
    ];
    let results = hash_files_parallel(&paths);
    assert_eq!(results.len(), 4);
    assert!(results[1].is_err());
    for index in [0, 2, 3] {
        let expected = hash_file(&paths[index]).unwrap();
        assert_eq!(results[index].as_ref().unwrap(), &expected);
    }
}

#[test]
fn rgb_buffers_of_the_wrong_size_are_refused() {
    assert!(matches!(
        hash_rgb(10, 10, &[0; 299]),
        Err(PdqError::PixelBufferSize {
            expected: 300,
            actual: 299,
            ..
        })
    ));
    assert!(matches!(
        hash_rgb(usize::MAX, 3, &[0; 3]),
        Err(PdqError::PixelBufferSize { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = hash_bytes(&bytes);
    }

    #[test]
    fn mutated_real_images_never_panic(
        file in prop::sample::select(vec![
            "shapes-31x17-rgb.png",
            "shapes-77x9-gray.gif",
            "shapes-160x120-rgba-lossless.webp",
            "text-321x241-444.jpg",
            "blobs-300x200-cmyk.jpg",
        ]),
        cut in 0.0f64..1.0,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
    ) {
        let mut bytes = fixture_bytes(file);
        for (index, value) in flips {
            let at = index.index(bytes.len());
            bytes[at] ^= value;
        }
        bytes.truncate(((bytes.len() as f64) * cut) as usize);
        let _ = hash_bytes(&bytes);
    }

    #[test]
    fn any_rgb_image_hashes_with_quality_at_most_100(
        (width, height, pixels) in (1usize..40, 1usize..40).prop_flat_map(|(w, h)| {
            (Just(w), Just(h), proptest::collection::vec(any::<u8>(), w * h * 3))
        })
    ) {
        let result = hash_rgb(width, height, &pixels).unwrap();
        prop_assert!(result.quality <= 100);
        if width < 5 || height < 5 {
            prop_assert_eq!(result.quality, 0);
            prop_assert_eq!(result.hash, ipguard_pdq::PdqHash::ZERO);
        }
    }
}
