//! Conformance with the reference PDQ implementation: every fixture image was
//! hashed by the `pdqhash` bindings of Meta's C++ core from the pixels
//! Pillow's `convert("RGB")` gives (scripts/pdq/make_fixtures.py).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use ipguard_pdq::{
    DihedralHashes, PdqHash, dihedral_hashes_file, dihedral_hashes_rgb, hash_file, hash_rgb,
};
use serde::Deserialize;

/// Largest distance allowed where our decoder's pixels may differ from
/// Pillow's (JPEG, lossy WebP).
const LOSSY_TOLERANCE: u32 = 10;

#[derive(Deserialize)]
struct Fixtures {
    images: Vec<Fixture>,
}

#[derive(Deserialize)]
struct Fixture {
    file: String,
    exact: bool,
    pillow_pixels: Option<String>,
    width: usize,
    height: usize,
    hash: String,
    quality: u8,
    dihedral_quality: u8,
    dihedral: Vec<String>,
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load() -> Vec<Fixture> {
    let text = std::fs::read_to_string(fixtures_dir().join("expected.json")).unwrap();
    let fixtures: Fixtures = serde_json::from_str(&text).unwrap();
    assert!(fixtures.images.len() >= 30, "the fixture set is incomplete");
    fixtures.images
}

fn image_path(file: &str) -> PathBuf {
    fixtures_dir().join("images").join(file)
}

fn parse(hex: &str) -> PdqHash {
    hex.parse().unwrap()
}

fn expected_dihedral(fixture: &Fixture) -> [PdqHash; 8] {
    let hashes: Vec<PdqHash> = fixture.dihedral.iter().map(|hex| parse(hex)).collect();
    hashes.try_into().unwrap()
}

/// Pillow's decoded pixels for a lossy fixture, which the generator stored
/// as an RGB PNG.
fn pillow_rgb(fixture: &Fixture) -> Option<Vec<u8>> {
    let file = fixture.pillow_pixels.as_ref()?;
    let decoder = image::ImageReader::open(image_path(file)).unwrap();
    let rgb = decoder.decode().unwrap().into_rgb8();
    assert_eq!(
        (rgb.width() as usize, rgb.height() as usize),
        (fixture.width, fixture.height)
    );
    Some(rgb.into_raw())
}

#[test]
fn lossless_images_hash_exactly_as_the_reference() {
    let mut failures = Vec::new();
    for fixture in load().iter().filter(|f| f.exact) {
        let got = hash_file(image_path(&fixture.file)).unwrap();
        if got.hash != parse(&fixture.hash) || got.quality != fixture.quality {
            failures.push(format!(
                "{}: got {} q{}, reference {} q{} (distance {})",
                fixture.file,
                got.hash,
                got.quality,
                fixture.hash,
                fixture.quality,
                got.hash.hamming(&parse(&fixture.hash))
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lossy_images_hash_within_tolerance_of_the_reference() {
    let mut failures = Vec::new();
    for fixture in load().iter().filter(|f| !f.exact) {
        let got = hash_file(image_path(&fixture.file)).unwrap();
        let distance = got.hash.hamming(&parse(&fixture.hash));
        if distance > LOSSY_TOLERANCE {
            failures.push(format!("{}: distance {distance}", fixture.file));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_same_pixels_as_pillow_give_the_identical_hash_for_lossy_images() {
    let mut checked = 0;
    for fixture in load().iter().filter(|f| !f.exact) {
        let rgb = pillow_rgb(fixture).expect("lossy fixtures carry Pillow's pixels");
        let got = hash_rgb(fixture.width, fixture.height, &rgb).unwrap();
        assert_eq!(got.hash, parse(&fixture.hash), "{}", fixture.file);
        assert_eq!(got.quality, fixture.quality, "{}", fixture.file);
        let dihedral = dihedral_hashes_rgb(fixture.width, fixture.height, &rgb).unwrap();
        assert_eq!(
            dihedral.all(),
            expected_dihedral(fixture),
            "{}",
            fixture.file
        );
        checked += 1;
    }
    assert!(checked >= 5);
}

#[test]
fn dihedral_hashes_match_the_reference() {
    for fixture in load() {
        let got: DihedralHashes = dihedral_hashes_file(image_path(&fixture.file)).unwrap();
        let expected = expected_dihedral(&fixture);
        if fixture.exact {
            assert_eq!(got.all(), expected, "{}", fixture.file);
            assert_eq!(got.quality, fixture.dihedral_quality, "{}", fixture.file);
        } else {
            for (g, e) in got.all().iter().zip(&expected) {
                assert!(g.hamming(e) <= LOSSY_TOLERANCE, "{}", fixture.file);
            }
        }
    }
}
