#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ipguard scan` run as a user runs it, on files: findings in input order,
//! error records for bad lines, and photo matches against the catalog's
//! reference photos.

use image::{Rgb, RgbImage, imageops};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ipguard");

/// A picture of coloured blocks, different for every seed.
fn photo(seed: u64) -> RgbImage {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut picture = RgbImage::from_pixel(400, 300, Rgb([200, 200, 190]));
    for _ in 0..10 {
        let colour = Rgb(rng.r#gen::<[u8; 3]>());
        let (x0, y0) = (rng.gen_range(0..340), rng.gen_range(0..250));
        let (w, h) = (rng.gen_range(20..120), rng.gen_range(20..100));
        for y in y0..(y0 + h).min(300) {
            for x in x0..(x0 + w).min(400) {
                picture.put_pixel(x, y, colour);
            }
        }
    }
    picture
}

fn scan(dir: &Path, catalog: &str, listings: &str) -> Output {
    // Run from elsewhere: relative photo paths resolve against the files' folders.
    Command::new(BIN)
        .current_dir(std::env::temp_dir())
        .args(["scan", "--catalog"])
        .arg(dir.join(catalog))
        .arg("--input")
        .arg(dir.join(listings))
        .arg("--output")
        .arg(dir.join("findings.jsonl"))
        .output()
        .unwrap()
}

fn findings(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn image_matches(finding: &Value) -> Vec<&Value> {
    finding["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "image_match")
        .collect()
}

#[test]
fn stolen_photos_are_matched_flipped_and_resized_but_not_for_authorised_sellers() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("ref")).unwrap();
    std::fs::create_dir_all(dir.join("photos")).unwrap();
    let reference = photo(1);
    reference.save(dir.join("ref/acme.png")).unwrap();
    // The thief mirrors and shrinks the shot and saves it as JPEG.
    let stolen = imageops::resize(
        &imageops::flip_horizontal(&reference),
        300,
        225,
        imageops::FilterType::Triangle,
    );
    stolen.save(dir.join("photos/stolen.jpg")).unwrap();
    photo(2).save(dir.join("photos/own.png")).unwrap();
    let catalog = json!({"brands": [{"id": "acme", "name": "Acmeflux", "terms": ["Acmeflux"],
        "authorized_sellers": ["S1"], "reference_images": ["ref/acme.png"]}]});
    std::fs::write(dir.join("catalog.json"), catalog.to_string()).unwrap();
    let listings = [
        json!({"id": "STOLEN", "seller_id": "S9", "title": "Running shoes", "images": ["photos/stolen.jpg"]}),
        json!({"id": "AUTHORISED", "seller_id": "S1", "title": "Running shoes", "images": ["photos/stolen.jpg"]}),
        json!({"id": "OWN", "seller_id": "S9", "title": "Running shoes", "images": ["photos/own.png"]}),
        json!({"id": "REMOTE", "seller_id": "S9", "title": "Running shoes", "images": ["https://img.example/1.jpg"]}),
        json!({"id": "MISSING", "seller_id": "S9", "title": "Running shoes", "images": ["photos/gone.jpg"]}),
    ];
    let lines: Vec<String> = listings.iter().map(Value::to_string).collect();
    std::fs::write(
        dir.join("listings.jsonl"),
        lines.join("\n") + "\nnot json\n",
    )
    .unwrap();

    let out = scan(dir, "catalog.json", "listings.jsonl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = findings(dir);
    assert_eq!(found.len(), 6, "one record per input line");
    let ids: Vec<&str> = found[..5]
        .iter()
        .map(|f| f["listing_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["STOLEN", "AUTHORISED", "OWN", "REMOTE", "MISSING"]);
    assert_eq!(found[5]["line"], 6);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("listing MISSING: photo photos/gone.jpg"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 listing photos could not be read"),
        "{stderr}"
    );

    let stolen = image_matches(&found[0]);
    assert_eq!(stolen.len(), 1, "{}", found[0]);
    assert_eq!(stolen[0]["brand"], "acme");
    assert_eq!(stolen[0]["image"], "photos/stolen.jpg");
    assert_eq!(stolen[0]["reference"], "ref/acme.png");
    assert!(stolen[0]["distance"].as_u64().unwrap() <= 31);
    assert_eq!(found[0]["brands"], json!(["acme"]), "{}", found[0]);
    assert_ne!(found[0]["action"], "allow", "{}", found[0]);
    for other in &found[1..5] {
        assert!(image_matches(other).is_empty(), "{other}");
        assert_eq!(other["action"], "allow", "{other}");
    }
}

#[test]
fn an_unreadable_reference_photo_is_reported_and_the_text_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::write(dir.join("flat.png"), b"").unwrap();
    let catalog = json!({"brands": [{"id": "acme", "name": "Acmeflux", "terms": ["Acmeflux"],
        "reference_images": ["ref/missing.png", "flat.png"]}]});
    std::fs::write(dir.join("catalog.json"), catalog.to_string()).unwrap();
    let listing = json!({"id": "L1", "seller_id": "S9", "title": "Acmeflux replica AAA 1:1"});
    std::fs::write(dir.join("listings.jsonl"), format!("{listing}\n")).unwrap();
    let out = scan(dir, "catalog.json", "listings.jsonl");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("reference photo ref/missing.png of brand acme left out"),
        "{stderr}"
    );
    assert!(
        stderr.contains("reference photo flat.png of brand acme left out"),
        "{stderr}"
    );
    let found = findings(dir);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["brands"], json!(["acme"]));
    assert_eq!(found[0]["action"], "block", "{}", found[0]);
}
