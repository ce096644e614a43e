//! Prints the evaluation table for a catalog and a labelled set.
//!
//! usage: evaluate [CATALOG] [LABELLED] [--misses]
//! (defaults: the committed `eval/catalog.json` and `eval/listings.jsonl`).
//! With `--misses`, also prints every listing whose brands differ from its
//! labels, with the finding, for debugging.

use std::fs::File;
use std::io::BufReader;

use ipguard_detect::{Catalog, DetectionConfig, Engine, evaluate, read_labelled};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../eval");
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let catalog_path = positional
        .first()
        .map_or(format!("{root}/catalog.json"), |p| (*p).clone());
    let labelled_path = positional
        .get(1)
        .map_or(format!("{root}/listings.jsonl"), |p| (*p).clone());

    let catalog: Catalog = serde_json::from_reader(BufReader::new(File::open(catalog_path)?))?;
    let engine = Engine::new(&catalog, DetectionConfig::default())?;
    let labelled = read_labelled(BufReader::new(File::open(labelled_path)?))?;
    if args.iter().any(|a| a == "--misses") {
        for item in &labelled {
            let finding = engine.scan(&item.listing, &item.seller);
            let mut found = finding.brands.clone();
            found.sort();
            let mut kinds: Vec<&str> = finding.reasons.iter().map(|r| r.kind()).collect();
            kinds.sort();
            kinds.dedup();
            if found != item.brands || kinds != item.kinds {
                println!(
                    "{:<24} {:?}\n    expected {:?} {:?}\n    found    {}",
                    item.case.as_deref().unwrap_or(""),
                    item.listing.title,
                    item.brands,
                    item.kinds,
                    serde_json::to_string(&finding)?
                );
            }
        }
    }
    print!("{}", evaluate(&engine, labelled));
    Ok(())
}
