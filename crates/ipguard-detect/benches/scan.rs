#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Criterion benchmarks of the detection engine on a generated catalog of
//! 20,000 brands (60,000 terms), the size the issue sets.

use std::collections::BTreeMap;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ipguard_detect::{
    Brand, Catalog, DetectionConfig, Engine, Listing, Money, SellerContext, normalize,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const SYLLABLES: &[&str] = &[
    "ka", "lo", "ve", "tri", "zon", "mar", "qui", "dex", "ra", "no", "sel", "vio", "bra", "ton",
    "fi", "gel", "mo", "rix", "sa", "lun", "ter", "xa", "pol", "dri", "ne", "ko", "vas", "ul",
];
const WORDS: &[&str] = &[
    "new",
    "original",
    "men",
    "women",
    "running",
    "leather",
    "black",
    "white",
    "size",
    "cotton",
    "premium",
    "fast",
    "shipping",
    "gift",
    "box",
    "vintage",
    "sport",
    "waterproof",
    "wireless",
    "charger",
    "case",
    "bag",
    "wallet",
    "watch",
    "shoes",
    "jacket",
    "lamp",
    "kitchen",
    "toy",
];

fn catalog(rng: &mut StdRng, brands: usize) -> Catalog {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(brands);
    while out.len() < brands {
        let name: String = (0..rng.gen_range(2..=4))
            .map(|_| *SYLLABLES.choose(rng).unwrap())
            .collect();
        if !seen.insert(name.clone()) {
            continue;
        }
        let mut msrp = BTreeMap::new();
        msrp.insert(
            "shoes/sneakers".to_owned(),
            Money {
                amount: rng.gen_range(20..900).into(),
                currency: "USD".to_owned(),
            },
        );
        out.push(Brand {
            id: format!("b{}", out.len()),
            name: name.clone(),
            terms: vec![format!("{name} pro"), format!("{name}tech")],
            msrp,
            authorized_sellers: vec![],
            reference_images: vec![],
        });
    }
    Catalog {
        brands: out,
        category_rules: vec![],
    }
}

fn listings(rng: &mut StdRng, catalog: &Catalog, count: usize) -> Vec<Listing> {
    (0..count)
        .map(|i| {
            let mut words: Vec<String> = (0..rng.gen_range(6..10))
                .map(|_| (*WORDS.choose(rng).unwrap()).to_owned())
                .collect();
            if rng.gen_bool(0.125) {
                let brand = catalog.brands.choose(rng).unwrap();
                words.insert(0, brand.name.clone());
            }
            Listing {
                id: format!("L{i}"),
                platform: Some("bazaar".into()),
                title: words.join(" "),
                description: Some(
                    "Brand new item in original packaging, ships in 24 hours.".into(),
                ),
                category: Some("shoes/sneakers".into()),
                ..Listing::default()
            }
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(3);
    let catalog = catalog(&mut rng, 20_000);
    let sample = listings(&mut rng, &catalog, 1_000);

    let mut build = c.benchmark_group("build");
    build.sample_size(10);
    build.bench_function("engine_20000_brands", |b| {
        b.iter(|| Engine::new(&catalog, DetectionConfig::default()).unwrap())
    });
    build.finish();

    let engine = Engine::new(&catalog, DetectionConfig::default()).unwrap();
    let mut scan = c.benchmark_group("scan");
    scan.throughput(Throughput::Elements(sample.len() as u64));
    scan.bench_function("listings_20000_brands", |b| {
        b.iter(|| {
            for listing in &sample {
                std::hint::black_box(engine.scan(listing, &SellerContext::default()));
            }
        })
    });
    scan.bench_function("normalise_titles", |b| {
        b.iter_batched(
            normalize::NormalizedText::default,
            |mut buffer| {
                for listing in &sample {
                    normalize::normalize_into(&listing.title, &mut buffer);
                }
                buffer
            },
            BatchSize::SmallInput,
        )
    });
    scan.bench_function("match_titles", |b| {
        b.iter(|| {
            for listing in &sample {
                std::hint::black_box(engine.match_text(&listing.title));
            }
        })
    });
    scan.finish();
}

criterion_group!(scan_benches, benches);
criterion_main!(scan_benches);
