//! The data the engine reads and writes, mirroring the formats fixed in
//! DESIGN.md: the catalog of protected brands and category rules, listings,
//! and findings with their reasons.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

/// The protected brands and per-platform category rules an engine is built from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    #[serde(default)]
    pub brands: Vec<Brand>,
    #[serde(default)]
    pub category_rules: Vec<CategoryRule>,
}

/// One protected brand: its terms, reference prices and authorised sellers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brand {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub terms: Vec<String>,
    /// Reference (genuine) price per category path, e.g. `"shoes/sneakers"`.
    #[serde(default)]
    pub msrp: BTreeMap<String, Money>,
    #[serde(default)]
    pub authorized_sellers: Vec<String>,
    #[serde(default)]
    pub reference_images: Vec<String>,
}

/// An amount of money in a currency (ISO 4217 code, e.g. `USD`).
///
/// The amount is written as a string in our formats so that no precision is
/// lost; a JSON number is accepted too because sellers' feeds use both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Money {
    #[serde(deserialize_with = "decimal_from_string_or_number")]
    pub amount: Decimal,
    pub currency: String,
}

fn decimal_from_string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Decimal, D::Error> {
    struct DecimalVisitor;
    impl serde::de::Visitor<'_> for DecimalVisitor {
        type Value = Decimal;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal amount as a string or a number")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
            v.trim().parse::<Decimal>().map_err(E::custom)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
            Decimal::try_from(v).map_err(E::custom)
        }
    }
    deserializer.deserialize_any(DecimalVisitor)
}

/// Whether a category is banned outright or needs review on a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Prohibited,
    Restricted,
}

/// A category policy on one platform. `platform` may be `"*"` for all platforms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryRule {
    pub platform: String,
    pub category: String,
    pub rule: Rule,
}

/// A marketplace listing as it arrives on the wire; unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    pub id: String,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub seller_id: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    /// A missing, null or malformed price reads as "no price": a bad price
    /// must not cost the rest of the listing its scan.
    #[serde(default, deserialize_with = "lenient_price")]
    pub price: Option<Money>,
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

fn lenient_price<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Money>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum PriceField {
        Valid(Money),
        Invalid(serde::de::IgnoredAny),
    }
    Ok(match Option::<PriceField>::deserialize(deserializer)? {
        Some(PriceField::Valid(money)) => Some(money),
        _ => None,
    })
}

/// What the marketplace should do with a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allow,
    Review,
    Block,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Allow => "allow",
            Action::Review => "review",
            Action::Block => "block",
        })
    }
}

/// The listing text a match was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Title,
    Description,
}

/// How a brand variant departs from the protected term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariantKind {
    /// One inserted, deleted, substituted or swapped letter (Addidas, Nkie).
    Edit,
    /// Digits or symbols standing for letters (N1ke, 4didas, N!ke).
    Leetspeak,
    /// Lookalike characters: other scripts, full-width forms, diacritics, I/l.
    Lookalike,
    /// Separators inside a word (N.i.k.e, G-U-C-C-I, N I K E).
    Separators,
    /// Run together with other words (NikeAirMax, cheapnike).
    Glued,
}

/// One reason that contributed to a finding's score.
///
/// Serialised with a snake_case `kind` tag. New kinds are added as variants;
/// the enum is `non_exhaustive` so that adding one is not a breaking change.
/// `ImageMatch` and `RelistedItem` are produced outside this crate (by the
/// image index) and handed to [`crate::Engine::scan_with`] to be scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// A protected term appears as written (case and word separators aside).
    BrandExact {
        brand: String,
        term: String,
        matched: String,
        field: Field,
    },
    /// A disguised form of a protected term.
    BrandVariant {
        brand: String,
        term: String,
        matched: String,
        field: Field,
        variant: VariantKind,
    },
    /// The brand is named to describe compatibility ("case for iPhone 15").
    DescriptiveUse {
        brand: String,
        term: String,
        matched: String,
        field: Field,
        cue: String,
    },
    /// Words that announce a copy ("replica", "AAA", "1:1", "高仿").
    ReplicaLanguage {
        term: String,
        matched: String,
        field: Field,
    },
    /// The listing is in, or its text describes, a category banned on its platform.
    ProhibitedCategory {
        platform: String,
        category: String,
        /// The keyword the category was inferred from, when the seller's own
        /// category did not say so.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inferred_from: Option<String>,
    },
    /// As `ProhibitedCategory`, for categories that need review.
    RestrictedCategory {
        platform: String,
        category: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inferred_from: Option<String>,
    },
    /// Price far under the brand's reference price for the category.
    PriceAnomaly {
        brand: String,
        category: String,
        /// Listing price divided by reference price, both in the base currency.
        ratio: f64,
    },
    /// The seller is an authorised seller of the brand: the brand adds no risk.
    AuthorizedSeller { brand: String, seller_id: String },
    /// The seller's record raised the risk of an already suspicious listing.
    SellerRisk {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prior_strikes: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account_age_days: Option<u32>,
    },
    /// A listing photo matches a rights holder's reference photo.
    ImageMatch {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        brand: Option<String>,
        image: String,
        reference: String,
        distance: u32,
    },
    /// A listing photo matches a photo of a previously removed listing.
    RelistedItem {
        image: String,
        removed_listing_id: String,
        /// The removed listing's matching photo, for a side-by-side view.
        #[serde(default)]
        removed_image: String,
        distance: u32,
    },
}

impl Reason {
    /// The snake_case `kind` tag this reason serialises with.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::BrandExact { .. } => "brand_exact",
            Reason::BrandVariant { .. } => "brand_variant",
            Reason::DescriptiveUse { .. } => "descriptive_use",
            Reason::ReplicaLanguage { .. } => "replica_language",
            Reason::ProhibitedCategory { .. } => "prohibited_category",
            Reason::RestrictedCategory { .. } => "restricted_category",
            Reason::PriceAnomaly { .. } => "price_anomaly",
            Reason::AuthorizedSeller { .. } => "authorized_seller",
            Reason::SellerRisk { .. } => "seller_risk",
            Reason::ImageMatch { .. } => "image_match",
            Reason::RelistedItem { .. } => "relisted_item",
        }
    }

    /// The brand this reason is about, if any.
    pub fn brand(&self) -> Option<&str> {
        match self {
            Reason::BrandExact { brand, .. }
            | Reason::BrandVariant { brand, .. }
            | Reason::DescriptiveUse { brand, .. }
            | Reason::PriceAnomaly { brand, .. }
            | Reason::AuthorizedSeller { brand, .. } => Some(brand),
            Reason::ImageMatch { brand, .. } => brand.as_deref(),
            _ => None,
        }
    }
}

/// The engine's verdict on one listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub listing_id: String,
    /// Risk in [0, 1]; the same input always gives the same score.
    pub score: f64,
    pub action: Action,
    /// Every protected brand the listing refers to, in order of first mention.
    pub brands: Vec<String>,
    pub reasons: Vec<Reason>,
}

/// What the service knows about the seller; everything defaults to unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SellerContext {
    /// Upheld infringements still in force against the person behind the shop.
    #[serde(default)]
    pub prior_strikes: Option<u32>,
    #[serde(default)]
    pub account_age_days: Option<u32>,
}
