#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Behaviour of the engine as the service and the CLI rely on it.

use ipguard_detect::{
    Action, Catalog, DetectionConfig, Engine, Finding, Listing, Reason, SellerContext, VariantKind,
};

fn catalog() -> Catalog {
    serde_json::from_value(serde_json::json!({
        "brands": [
            {"id": "nike", "name": "Nike", "terms": ["Nike", "Air Jordan", "耐克"],
             "msrp": {"shoes/sneakers": {"amount": "120", "currency": "USD"}},
             "authorized_sellers": ["S1"], "reference_images": []},
            {"id": "adidas", "name": "Adidas", "terms": ["adidas", "阿迪达斯"],
             "msrp": {"shoes/sneakers": {"amount": "100", "currency": "USD"}}},
            {"id": "gucci", "name": "Gucci", "terms": ["Gucci"],
             "msrp": {"bags/handbags": {"amount": "1500", "currency": "EUR"}}},
            {"id": "apple", "name": "Apple", "terms": ["Apple", "iPhone", "苹果"],
             "msrp": {"electronics/phones": {"amount": "799", "currency": "USD"}}},
            {"id": "prada", "name": "Prada", "terms": ["Prada"],
             "msrp": {"bags/handbags": {"amount": "1800", "currency": "EUR"}}},
            {"id": "coach", "name": "Coach", "terms": ["Coach"],
             "msrp": {"bags/handbags": {"amount": "350", "currency": "USD"}}},
            {"id": "louis-vuitton", "name": "Louis Vuitton", "terms": ["Louis Vuitton", "路易威登"],
             "msrp": {"bags/handbags": {"amount": "2000", "currency": "USD"}}}
        ],
        "category_rules": [
            {"platform": "bazaar", "category": "auto/airbags", "rule": "prohibited"},
            {"platform": "bazaar", "category": "auto/brake-pads", "rule": "prohibited"},
            {"platform": "mall", "category": "health/supplements", "rule": "restricted"}
        ]
    }))
    .unwrap()
}

fn engine() -> Engine {
    Engine::new(&catalog(), DetectionConfig::default()).unwrap()
}

fn listing(title: &str) -> Listing {
    Listing {
        id: "L1".into(),
        platform: Some("bazaar".into()),
        seller_id: Some("S9".into()),
        title: title.into(),
        ..Listing::default()
    }
}

fn scan(engine: &Engine, listing: &Listing) -> Finding {
    engine.scan(listing, &SellerContext::default())
}

fn brands_of(engine: &Engine, title: &str) -> Vec<String> {
    scan(engine, &listing(title)).brands
}

fn variant_of(finding: &Finding) -> Option<VariantKind> {
    finding.reasons.iter().find_map(|reason| match reason {
        Reason::BrandVariant { variant, .. } => Some(*variant),
        _ => None,
    })
}

#[test]
fn every_evasion_in_the_issue_is_found() {
    let engine = engine();
    let cases = [
        ("Nïke running shoes", "nike", VariantKind::Lookalike),
        ("ＡＤＩＤＡＳ superstar", "adidas", VariantKind::Lookalike),
        ("N\u{0456}ke air max", "nike", VariantKind::Lookalike), // Cyrillic і
        ("Nlke trainers", "nike", VariantKind::Lookalike),
        ("N1ke trainers", "nike", VariantKind::Leetspeak),
        ("Gucc1 wallet", "gucci", VariantKind::Leetspeak),
        ("4didas hoodie", "adidas", VariantKind::Leetspeak),
        ("Addidas slides", "adidas", VariantKind::Edit),
        ("Adias slides", "adidas", VariantKind::Edit),
        ("Nkie socks", "nike", VariantKind::Edit),
        // `l` for `i` is a lookalike, whichever way it is typed.
        ("Guccl belt", "gucci", VariantKind::Lookalike),
        ("Guxci belt", "gucci", VariantKind::Edit),
        ("Louis Vuiton speedy", "louis-vuitton", VariantKind::Edit),
        ("Air Jordn 1", "nike", VariantKind::Edit),
        ("N.i.k.e sneakers", "nike", VariantKind::Separators),
        ("G-U-C-C-I bag", "gucci", VariantKind::Separators),
        ("N I K E shoes", "nike", VariantKind::Separators),
        ("NikeAirMax 90", "nike", VariantKind::Glued),
        ("CheapNike shoes", "nike", VariantKind::Glued),
    ];
    for (title, brand, variant) in cases {
        let finding = scan(&engine, &listing(title));
        assert_eq!(finding.brands, vec![brand.to_owned()], "{title}");
        assert_eq!(variant_of(&finding), Some(variant), "{title}");
    }
}

#[test]
fn glued_words_and_cjk_terms_inside_longer_strings_are_found() {
    let engine = engine();
    assert_eq!(brands_of(&engine, "NikeAirMax 90 white"), ["nike"]);
    assert_eq!(brands_of(&engine, "nikeairmax 90 white"), ["nike"]);
    assert_eq!(brands_of(&engine, "正品耐克运动鞋男款"), ["nike"]);
    assert_eq!(brands_of(&engine, "阿迪达斯三叶草卫衣"), ["adidas"]);
    assert_eq!(brands_of(&engine, "Air Jordan 1 retro"), ["nike"]);
    assert_eq!(brands_of(&engine, "AirJordan 1 retro"), ["nike"]);
}

#[test]
fn a_match_reports_term_matched_text_and_field() {
    let engine = engine();
    let mut item = listing("sports shoes");
    item.description = Some("genuine N1ke quality".into());
    let finding = scan(&engine, &item);
    assert_eq!(
        finding.reasons.first(),
        Some(&Reason::BrandVariant {
            brand: "nike".into(),
            term: "Nike".into(),
            matched: "N1ke".into(),
            field: ipguard_detect::Field::Description,
            variant: VariantKind::Leetspeak,
        })
    );
}

#[test]
fn brands_inside_ordinary_words_are_not_flagged() {
    let engine = engine();
    for title in [
        "nickel plated hooks",
        "homemade applesauce jar",
        "pineapple slicer",
        "mini kettle 1L",
        "nice bike for kids",
        "comfortable couch cover",
    ] {
        assert!(brands_of(&engine, title).is_empty(), "{title}");
    }
}

#[test]
fn a_brand_that_is_a_common_word_needs_context() {
    let engine = engine();
    let mut apples = listing("Fresh apples 1 kg");
    apples.category = Some("groceries/fruit".into());
    assert!(scan(&engine, &apples).brands.is_empty());

    let mut whistle = listing("soccer coach whistle");
    whistle.category = Some("sports/accessories".into());
    assert!(scan(&engine, &whistle).brands.is_empty());

    let mut bag = listing("Coach leather tote");
    bag.category = Some("bags/handbags".into());
    assert_eq!(scan(&engine, &bag).brands, ["coach"]);

    // Another term of the same brand is context too.
    assert_eq!(brands_of(&engine, "Apple iPhone 15 128GB"), ["apple"]);
}

#[test]
fn short_terms_are_not_matched_through_one_edit() {
    let engine = engine();
    for title in [
        "Mike's bike shop",
        "nice like new",
        "Nikon camera",
        "Toyota Prado mats",
    ] {
        assert!(brands_of(&engine, title).is_empty(), "{title}");
    }
}

#[test]
fn descriptive_use_is_reported_with_low_risk() {
    let engine = engine();
    let finding = scan(&engine, &listing("Clear case compatible with iPhone 15"));
    assert_eq!(finding.brands, ["apple"]);
    assert!(matches!(
        finding.reasons.first(),
        Some(Reason::DescriptiveUse { brand, .. }) if brand == "apple"
    ));
    assert_eq!(finding.action, Action::Allow);

    let laces = scan(&engine, &listing("replacement laces for Nike shoes"));
    assert!(matches!(
        laces.reasons.first(),
        Some(Reason::DescriptiveUse { .. })
    ));
    let plain = scan(&engine, &listing("Nike shoes"));
    assert!(laces.score < plain.score);
}

#[test]
fn replica_language_in_any_case_or_spacing_raises_the_score() {
    let engine = engine();
    let plain = scan(&engine, &listing("Gucci bag"));
    for title in [
        "Gucci bag REPLICA",
        "Gucci bag r e p l i c a",
        "Gucci bag 1:1 mirror quality",
        "Gucci bag AAA",
        "高仿 Gucci 包",
    ] {
        let finding = scan(&engine, &listing(title));
        assert!(
            finding
                .reasons
                .iter()
                .any(|r| r.kind() == "replica_language"),
            "{title}"
        );
        assert!(finding.score > plain.score, "{title}");
    }
    let size = scan(&engine, &listing("Nike shoes size 11"));
    assert!(!size.reasons.iter().any(|r| r.kind() == "replica_language"));
}

#[test]
fn prohibited_categories_apply_per_platform_and_are_inferred_from_text() {
    let engine = engine();
    let mut declared = listing("driver side module");
    declared.category = Some("auto/airbags".into());
    assert_eq!(scan(&engine, &declared).action, Action::Block);

    let mut miscategorised = listing("Front brake pads set for sedan");
    miscategorised.category = Some("home/garden".into());
    let finding = scan(&engine, &miscategorised);
    assert!(matches!(
        finding.reasons.first(),
        Some(Reason::ProhibitedCategory {
            inferred_from: Some(_),
            ..
        })
    ));
    assert_eq!(finding.action, Action::Block);

    let mut elsewhere = miscategorised.clone();
    elsewhere.platform = Some("mall".into());
    assert_eq!(scan(&engine, &elsewhere).action, Action::Allow);
}

#[test]
fn goods_that_only_share_a_keyword_with_a_banned_category_are_not_inferred_into_it() {
    let engine = engine();
    let infers = |title: &str, category: &str, platform: &str| {
        let mut item = listing(title);
        item.category = Some(category.into());
        item.platform = Some(platform.into());
        scan(&engine, &item).reasons.iter().any(|reason| {
            matches!(
                reason,
                Reason::ProhibitedCategory {
                    inferred_from: Some(_),
                    ..
                } | Reason::RestrictedCategory {
                    inferred_from: Some(_),
                    ..
                }
            )
        })
    };
    assert!(infers(
        "Steering wheel airbag module",
        "home/decor",
        "bazaar"
    ));
    assert!(!infers(
        "Airbag jacket for motorcycle riders",
        "apparel/jackets",
        "bazaar"
    ));
    assert!(!infers(
        "Airbag vest, CE level 2",
        "sports/protection",
        "bazaar"
    ));
    assert!(infers("Brake pads front set", "auto/parts", "bazaar"));
    assert!(!infers(
        "Bike brake pads for Shimano disc",
        "sports/cycling",
        "bazaar"
    ));
    // Supplements are restricted on the mall platform, whatever the category.
    assert!(infers(
        "Vitamin D3 2000 IU, 120 softgels",
        "groceries/other",
        "mall"
    ));
    assert!(infers(
        "Whey protein powder 2kg",
        "sports/nutrition",
        "mall"
    ));
    assert!(!infers("Vitamin C face serum", "beauty/skincare", "mall"));
}

#[test]
fn price_far_under_reference_is_an_anomaly_after_currency_conversion() {
    let engine = engine();
    let mut cheap = listing("Nike Air Max");
    cheap.category = Some("shoes/sneakers".into());
    cheap.price =
        serde_json::from_value(serde_json::json!({"amount": "100", "currency": "CNY"})).unwrap();
    let finding = scan(&engine, &cheap);
    let ratio = finding.reasons.iter().find_map(|r| match r {
        Reason::PriceAnomaly { ratio, .. } => Some(*ratio),
        _ => None,
    });
    // 100 CNY is about 14 USD against a reference of 120 USD.
    assert!(ratio.is_some_and(|r| r < 0.2), "{finding:?}");

    let mut fair = cheap.clone();
    fair.price =
        serde_json::from_value(serde_json::json!({"amount": 110, "currency": "USD"})).unwrap();
    assert!(
        !scan(&engine, &fair)
            .reasons
            .iter()
            .any(|r| r.kind() == "price_anomaly")
    );
}

#[test]
fn authorised_sellers_carry_no_brand_risk() {
    let engine = engine();
    let mut item = listing("Nike Air Max");
    item.seller_id = Some("S1".into());
    let finding = scan(&engine, &item);
    assert_eq!(finding.brands, ["nike"]);
    assert_eq!(finding.score, 0.0);
    assert!(
        finding
            .reasons
            .iter()
            .any(|r| r.kind() == "authorized_seller")
    );
}

#[test]
fn strikes_and_young_accounts_raise_risk_of_suspicious_listings_only() {
    let engine = engine();
    let risky = SellerContext {
        prior_strikes: Some(2),
        account_age_days: Some(3),
    };
    let suspicious = listing("N1ke shoes");
    let clean = listing("plain white shoes");
    let base = engine.scan(&suspicious, &SellerContext::default());
    let raised = engine.scan(&suspicious, &risky);
    assert!(raised.score > base.score);
    assert!(raised.reasons.iter().any(|r| r.kind() == "seller_risk"));
    assert_eq!(engine.scan(&clean, &risky).score, 0.0);
}

#[test]
fn external_image_matches_are_scored_with_the_text() {
    let engine = engine();
    let item = listing("Nike shoes");
    let image = Reason::ImageMatch {
        brand: Some("nike".into()),
        image: "a.jpg".into(),
        reference: "ref/nike1.jpg".into(),
        distance: 12,
    };
    let alone = scan(&engine, &item);
    let with_image = engine.scan_with(&item, &SellerContext::default(), vec![image.clone()]);
    assert!(with_image.score > alone.score);
    assert_eq!(with_image.reasons.last(), Some(&image));
}

#[test]
fn thresholds_map_scores_to_actions() {
    let engine = engine();
    assert_eq!(
        scan(&engine, &listing("white cotton t-shirt")).action,
        Action::Allow
    );
    assert_eq!(scan(&engine, &listing("N1ke shoes")).action, Action::Review);
    assert_eq!(
        scan(&engine, &listing("N1ke shoes replica")).action,
        Action::Block
    );
    let strict = DetectionConfig {
        review_threshold: 0.1,
        ..DetectionConfig::default()
    };
    let strict = Engine::new(&catalog(), strict).unwrap();
    assert_eq!(scan(&strict, &listing("Nike shoes")).action, Action::Review);
}

#[test]
fn findings_serialise_in_the_design_format() {
    let engine = engine();
    let finding = scan(&engine, &listing("Nlke shoes"));
    let json = serde_json::to_value(&finding).unwrap();
    assert_eq!(json["listing_id"], "L1");
    assert_eq!(json["action"], "review");
    assert_eq!(json["brands"], serde_json::json!(["nike"]));
    assert_eq!(json["reasons"][0]["kind"], "brand_variant");
    assert_eq!(json["reasons"][0]["matched"], "Nlke");
    assert_eq!(json["reasons"][0]["field"], "title");
}

#[test]
fn listings_parse_leniently() {
    let listing: Listing = serde_json::from_str(
        r#"{"id":"L1","title":"x","price":"cheap","extra":{"a":1},"images":[]}"#,
    )
    .unwrap();
    assert_eq!(listing.price, None);
    let listing: Listing =
        serde_json::from_str(r#"{"id":"L2","price":{"amount":19.9,"currency":"USD"}}"#).unwrap();
    assert!(listing.price.is_some());
}

#[test]
fn unknown_currency_in_the_catalog_is_a_build_error() {
    let mut catalog = catalog();
    if let Some(brand) = catalog.brands.first_mut() {
        brand
            .msrp
            .values_mut()
            .for_each(|m| m.currency = "XYZ".into());
    }
    assert!(Engine::new(&catalog, DetectionConfig::default()).is_err());
}

/// The committed evaluation set (`eval/`, built by `eval/generate.py`) must
/// keep meeting the issue's targets, so that a regression fails CI.
#[test]
fn committed_evaluation_set_meets_the_recall_and_false_brand_targets() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval");
    let catalog: Catalog =
        serde_json::from_reader(std::fs::File::open(root.join("catalog.json")).unwrap()).unwrap();
    let labelled = ipguard_detect::read_labelled(std::io::BufReader::new(
        std::fs::File::open(root.join("listings.jsonl")).unwrap(),
    ))
    .unwrap();
    assert!(labelled.len() >= 3000);
    let engine = Engine::new(&catalog, DetectionConfig::default()).unwrap();
    let report = ipguard_detect::evaluate(&engine, labelled);
    assert!(
        report.brand_references.recall() >= 0.97,
        "brand-reference recall below 0.97:\n{report}"
    );
    assert!(
        report.clean_false_brand_rate() <= 0.005,
        "more than 0.5% of clean listings given a brand:\n{report}"
    );
}

fn short_term_engine() -> Engine {
    let catalog: Catalog = serde_json::from_value(serde_json::json!({"brands": [
        {"id": "lv", "name": "Louis Vuitton", "terms": ["LV"],
         "msrp": {"bags/handbags": {"amount": "2000", "currency": "USD"}}},
        {"id": "hp", "name": "HP", "terms": [],
         "msrp": {"electronics/printers": {"amount": "200", "currency": "USD"}}},
        {"id": "dg", "name": "Dolce & Gabbana", "terms": ["D&G"]}
    ]}))
    .unwrap();
    Engine::new(&catalog, DetectionConfig::default()).unwrap()
}

#[test]
fn regression_roman_numeral_iv_read_as_lv() {
    // `l` and `i` are merged for lookalikes, which made "IV" match "LV".
    let engine = short_term_engine();
    let mut item = listing("Air Jordan IV retro");
    item.category = Some("bags/handbags".into());
    assert!(scan(&engine, &item).brands.is_empty());
    item.title = "LV monogram bag".into();
    assert_eq!(scan(&engine, &item).brands, ["lv"]);
}

#[test]
fn short_terms_need_the_brand_s_department() {
    let engine = short_term_engine();
    let mut motor = listing("Electric motor 5 HP");
    motor.category = Some("tools/motors".into());
    assert!(scan(&engine, &motor).brands.is_empty());
    let mut ink = listing("HP ink cartridge 305");
    ink.category = Some("electronics/printers".into());
    assert_eq!(scan(&engine, &ink).brands, ["hp"]);
}

#[test]
fn ampersand_terms_match_spelled_out_and_trademark_signs_do_not_glue() {
    let short = short_term_engine();
    assert_eq!(
        scan(&short, &listing("Dolce and Gabbana dress")).brands,
        ["dg"]
    );
    let full = engine();
    assert_eq!(scan(&full, &listing("Nike™ shoes")).brands, ["nike"]);
    assert_eq!(scan(&full, &listing("NIKE® shoes")).brands, ["nike"]);
}

mod streaming {
    use super::*;
    use ipguard_detect::{ScanOptions, scan_jsonl};
    use std::cell::Cell;

    #[test]
    fn every_line_gets_one_output_line_in_input_order_and_bad_lines_get_error_records() {
        let engine = engine();
        let mut input = String::new();
        for i in 0..25 {
            input.push_str(&format!(
                "{{\"id\":\"L{i}\",\"title\":\"N1ke shoes {i}\"}}\n"
            ));
            if i == 7 {
                input.push_str("{not json\n");
            }
            if i == 12 {
                input.push('\n');
            }
        }
        let mut output = Vec::new();
        let progress_calls = Cell::new(0);
        let options = ScanOptions {
            chunk_lines: 4,
            ..ScanOptions::default()
        };
        let summary = scan_jsonl(&engine, input.as_bytes(), &mut output, &options, &|_, _| {
            progress_calls.set(progress_calls.get() + 1)
        })
        .unwrap();

        let lines: Vec<serde_json::Value> = String::from_utf8(output)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 27);
        assert_eq!(summary.lines, 27);
        assert_eq!(summary.errors, 2);
        assert_eq!(summary.review, 25);
        assert_eq!(summary.bytes, input.len() as u64);
        assert!(progress_calls.get() >= 7);
        // Lines are numbered from 1: the bad line follows L0..L7.
        assert_eq!(lines[8]["line"], 9);
        assert!(lines[8]["error"].is_string());
        assert_eq!(lines[14]["line"], 15);
        let ids: Vec<&str> = lines
            .iter()
            .filter_map(|l| l["listing_id"].as_str())
            .collect();
        let expected: Vec<String> = (0..25).map(|i| format!("L{i}")).collect();
        assert_eq!(ids, expected);
    }

    #[test]
    fn a_last_line_without_newline_is_scanned() {
        let engine = engine();
        let mut output = Vec::new();
        let input = "{\"id\":\"A\",\"title\":\"shoes\"}\n{\"id\":\"B\",\"title\":\"Nike\"}";
        let summary = scan_jsonl(
            &engine,
            input.as_bytes(),
            &mut output,
            &ScanOptions::default(),
            &|_, _| {},
        )
        .unwrap();
        assert_eq!(summary.lines, 2);
        assert!(String::from_utf8(output).unwrap().ends_with("}\n"));
    }

    #[test]
    fn a_listing_without_an_id_is_an_error_record() {
        let engine = engine();
        let mut output = Vec::new();
        scan_jsonl(
            &engine,
            "{\"title\":\"Nike\"}\n".as_bytes(),
            &mut output,
            &ScanOptions::default(),
            &|_, _| {},
        )
        .unwrap();
        let record: serde_json::Value = serde_json::from_slice(&output).unwrap();
        assert_eq!(record["line"], 1);
    }
}

mod properties {
    use super::*;
    use ipguard_detect::normalize::normalize;
    use proptest::prelude::*;

    /// One engine for all cases: building one per case would dominate.
    fn shared_engine() -> &'static Engine {
        static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
        ENGINE.get_or_init(engine)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn canonical_text_is_a_fixed_point(text in "\\PC{0,40}") {
            let canonical = normalize(&text).canonical().to_owned();
            prop_assert_eq!(normalize(&canonical).canonical().to_owned(), canonical);
        }

        #[test]
        fn canonical_text_has_no_uppercase_separators_or_digits(text in "\\PC{0,40}") {
            let canonical = normalize(&text).canonical().to_owned();
            prop_assert!(canonical.chars().all(|c| c.is_alphanumeric()));
            prop_assert!(!canonical.chars().any(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        }

        #[test]
        fn case_changes_do_not_change_the_canonical_text(text in "[a-zA-Z0-9 .,-]{0,40}") {
            prop_assert_eq!(
                normalize(&text.to_uppercase()).canonical().to_owned(),
                normalize(&text.to_lowercase()).canonical().to_owned()
            );
        }

        #[test]
        fn scanning_any_text_is_total_and_deterministic(title in "\\PC{0,60}", description in "\\PC{0,60}") {
            let engine = shared_engine();
            let mut item = listing(&title);
            item.description = Some(description);
            let first = scan(engine, &item);
            prop_assert!((0.0..=1.0).contains(&first.score));
            prop_assert_eq!(first, scan(engine, &item));
        }

        #[test]
        fn a_brand_between_ordinary_words_is_found_however_it_is_cased_or_spaced(
            before in proptest::sample::select(vec!["new", "cheap", "black", "men's", "", "正品"]),
            after in proptest::sample::select(vec!["shoes", "bag", "size 42", "", "运动鞋"]),
            brand in proptest::sample::select(vec![("Nike", "nike"), ("Gucci", "gucci"), ("Adidas", "adidas"), ("Louis Vuitton", "louis-vuitton")]),
            upper in any::<bool>(),
            separator in proptest::sample::select(vec!["", ".", "-", " "]),
        ) {
            let (term, id) = brand;
            let mut written = if upper { term.to_uppercase() } else { term.to_owned() };
            if !separator.is_empty() && !term.contains(' ') {
                written = written.chars().map(|c| c.to_string()).collect::<Vec<_>>().join(separator);
            }
            let title = format!("{before} {written} {after}");
            let finding = scan(shared_engine(), &listing(&title));
            prop_assert!(finding.brands.contains(&id.to_owned()), "{} -> {:?}", title, finding);
        }

        #[test]
        fn one_edit_of_a_long_term_is_found(position in 1usize..5, letter in "[a-z]", kind in 0u8..3) {
            let term = "adidas";
            let mut chars: Vec<char> = term.chars().collect();
            let replacement = letter.chars().next().unwrap();
            match kind {
                0 => chars.insert(position, replacement),
                1 => { chars.remove(position); }
                _ => chars[position] = replacement,
            }
            let written: String = chars.into_iter().collect();
            prop_assume!(written != term);
            let finding = scan(shared_engine(), &listing(&format!("{written} slides")));
            prop_assert_eq!(finding.brands, vec!["adidas".to_owned()], "{}", written);
        }
    }
}

#[test]
fn a_line_over_the_length_limit_gets_an_error_record_and_the_scan_goes_on() {
    let engine = engine();
    let long_title = "x".repeat(5_000);
    let input = format!(
        "{{\"id\":\"A\",\"title\":\"{long_title}\"}}\n{{\"id\":\"B\",\"title\":\"Nike\"}}\n"
    );
    let options = ipguard_detect::ScanOptions {
        max_line_bytes: 1_000,
        ..ipguard_detect::ScanOptions::default()
    };
    let mut output = Vec::new();
    let summary =
        ipguard_detect::scan_jsonl(&engine, input.as_bytes(), &mut output, &options, &|_, _| {})
            .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(summary.bytes, input.len() as u64);
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[1]["listing_id"], "B");
}

#[test]
fn the_engine_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let engine = engine();
    shareable(&engine);
    let finding = std::thread::scope(|scope| {
        scope
            .spawn(|| scan(&engine, &listing("N1ke shoes")))
            .join()
            .unwrap()
    });
    assert_eq!(finding.brands, ["nike"]);
}

#[test]
fn a_name_with_a_leading_article_is_found_without_it_where_the_listing_supports_it() {
    let catalog: Catalog = serde_json::from_value(serde_json::json!({
        "brands": [
            {"id": "the-north-face", "name": "The North Face", "terms": [],
             "msrp": {"apparel/jackets": {"amount": "300", "currency": "USD"}}},
            {"id": "the-ordinary", "name": "The Ordinary", "terms": [],
             "msrp": {"beauty/skincare": {"amount": "12", "currency": "USD"}}}
        ]
    }))
    .unwrap();
    let engine = Engine::new(&catalog, DetectionConfig::default()).unwrap();
    let scan_in = |title: &str, category: &str| {
        let mut item = listing(title);
        item.category = Some(category.into());
        scan(&engine, &item)
    };
    for title in [
        "North Face puffer jacket",
        "north face nuptse",
        "NorthFace nuptse",
    ] {
        assert_eq!(
            scan_in(title, "apparel/jackets").brands,
            ["the-north-face"],
            "{title}"
        );
    }
    // "North" and "Face" are ordinary words: elsewhere they are not the brand.
    assert!(
        scan_in("north face of the mountain print", "home/decor")
            .brands
            .is_empty()
    );
    // The full name, disguised, is reported once, not also as "North Face".
    let disguised = scan_in("Th\u{0435} North Face down jacket", "apparel/jackets");
    let brand_reasons: Vec<&Reason> = disguised
        .reasons
        .iter()
        .filter(|reason| {
            matches!(
                reason,
                Reason::BrandExact { .. } | Reason::BrandVariant { .. }
            )
        })
        .collect();
    assert_eq!(brand_reasons.len(), 1, "{brand_reasons:?}");
    assert_eq!(variant_of(&disguised), Some(VariantKind::Lookalike));
    // A single remaining word is too common to stand for the brand.
    assert!(
        scan_in("ordinary cotton tee", "beauty/skincare")
            .brands
            .is_empty()
    );
}
