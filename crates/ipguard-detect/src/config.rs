//! Tunable settings of the engine. Every field has a default, so a
//! configuration file only needs the values it changes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything about scoring that an operator may want to change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DetectionConfig {
    /// Scores at or above this are queued for review.
    pub review_threshold: f64,
    /// Scores at or above this are blocked at once.
    pub block_threshold: f64,
    pub weights: ReasonWeights,
    /// Replica wording and the risk each phrase carries on its own.
    pub replica_terms: Vec<WeightedTerm>,
    /// Replica wording without any protected brand is weaker evidence
    /// ("AAA batteries"); its weight is multiplied by this factor.
    pub replica_without_brand_factor: f64,
    /// A price below this fraction of the brand's reference price is anomalous.
    pub price_anomaly_ratio: f64,
    /// The currency reference prices and listing prices are compared in.
    pub base_currency: String,
    /// Value of one unit of each currency in the base currency.
    pub currency_rates: BTreeMap<String, f64>,
    /// Shortest term (in letters) that one insertion, deletion or substitution
    /// may match; shorter terms turn into common words ("Nike" → "nice").
    pub min_edit_term_len: usize,
    /// Shortest term that a swap of two adjacent letters may match ("Nkie").
    pub min_transposition_term_len: usize,
    /// Accounts younger than this many days count as new.
    pub new_account_days: u32,
    /// A category inferred from the text rather than declared by the seller
    /// is slightly less certain; its rule weight is multiplied by this.
    pub inferred_category_factor: f64,
}

/// The risk each kind of evidence adds, each in [0, 1].
///
/// Independent kinds of evidence are combined as a noisy-OR
/// (`1 − Π(1 − wᵢ)`), so two medium signals together make a strong one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReasonWeights {
    pub brand_exact: f64,
    pub brand_variant: f64,
    pub descriptive_use: f64,
    pub prohibited_category: f64,
    pub restricted_category: f64,
    /// Weight of a price at the very bottom of the range; a price just under
    /// the anomaly ratio gets half of it.
    pub price_anomaly: f64,
    pub image_match: f64,
    pub relisted_item: f64,
    /// Added per prior strike, up to `seller_strikes_cap`.
    pub seller_strike: f64,
    pub seller_strikes_cap: f64,
    pub new_account: f64,
}

/// A phrase and the risk it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedTerm {
    pub term: String,
    pub weight: f64,
}

impl Default for ReasonWeights {
    fn default() -> Self {
        ReasonWeights {
            brand_exact: 0.3,
            brand_variant: 0.6,
            descriptive_use: 0.05,
            prohibited_category: 0.9,
            restricted_category: 0.5,
            price_anomaly: 0.6,
            image_match: 0.6,
            relisted_item: 0.7,
            seller_strike: 0.12,
            seller_strikes_cap: 0.4,
            new_account: 0.15,
        }
    }
}

impl Default for DetectionConfig {
    fn default() -> Self {
        DetectionConfig {
            review_threshold: 0.4,
            block_threshold: 0.75,
            weights: ReasonWeights::default(),
            replica_terms: default_replica_terms(),
            replica_without_brand_factor: 0.6,
            price_anomaly_ratio: 0.3,
            base_currency: "USD".to_owned(),
            currency_rates: default_currency_rates(),
            min_edit_term_len: 5,
            min_transposition_term_len: 4,
            new_account_days: 30,
            inferred_category_factor: 0.85,
        }
    }
}

fn default_replica_terms() -> Vec<WeightedTerm> {
    [
        ("replica", 0.7),
        ("counterfeit", 0.7),
        ("fake", 0.6),
        ("knockoff", 0.6),
        ("knock off", 0.6),
        ("imitation", 0.6),
        ("super copy", 0.75),
        ("high copy", 0.7),
        ("copy", 0.35),
        ("mirror quality", 0.7),
        ("mirror grade", 0.7),
        ("1:1", 0.6),
        ("aaa", 0.35),
        ("aaa quality", 0.6),
        ("aaa grade", 0.6),
        ("inspired by", 0.45),
        ("style", 0.2),
        ("dupe", 0.5),
        ("clone", 0.5),
        ("homage", 0.45),
        ("lookalike", 0.45),
        ("look alike", 0.45),
        ("first copy", 0.7),
        ("master copy", 0.7),
        ("aaaa", 0.5),
        ("aaaaa", 0.55),
        ("top grade replica", 0.75),
        ("unbranded", 0.3),
        ("oem", 0.25),
        ("高仿", 0.8),
        ("精仿", 0.8),
        ("仿品", 0.8),
        ("复刻", 0.7),
        ("a货", 0.8),
        ("超a", 0.6),
        ("原单", 0.5),
        ("纯原", 0.6),
        ("莆田", 0.5),
        ("1比1", 0.6),
        ("一比一", 0.6),
    ]
    .into_iter()
    .map(|(term, weight)| WeightedTerm {
        term: term.to_owned(),
        weight,
    })
    .collect()
}

fn default_currency_rates() -> BTreeMap<String, f64> {
    // Approximate rates; operators are expected to refresh them.
    [
        ("USD", 1.0),
        ("EUR", 1.08),
        ("GBP", 1.27),
        ("CNY", 0.14),
        ("JPY", 0.0067),
        ("KRW", 0.00075),
        ("HKD", 0.128),
        ("TWD", 0.031),
        ("SGD", 0.74),
        ("AUD", 0.66),
        ("CAD", 0.73),
        ("INR", 0.012),
        ("BRL", 0.18),
        ("MXN", 0.055),
        ("RUB", 0.011),
        ("TRY", 0.03),
        ("CHF", 1.12),
    ]
    .into_iter()
    .map(|(code, rate)| (code.to_owned(), rate))
    .collect()
}
