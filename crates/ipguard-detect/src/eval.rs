//! Measuring the engine against labelled listings: precision and recall per
//! reason kind, recall of brand references, and how often a clean listing is
//! given a brand it does not refer to.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::model::{Listing, SellerContext};

/// A listing with the truth about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledListing {
    pub listing: Listing,
    #[serde(default)]
    pub seller: SellerContext,
    /// Every protected brand the listing really refers to (empty: clean).
    #[serde(default)]
    pub brands: Vec<String>,
    /// Reason kinds a correct finding contains (`brand_variant`, …).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// What the example tests ("evasion/leetspeak", "trap/nickel"), used to
    /// group mistakes in the report.
    #[serde(default)]
    pub case: Option<String>,
}

/// Errors reading a labelled set.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("reading labelled listings: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line}: {source}")]
    Line {
        line: usize,
        #[source]
        source: serde_json::Error,
    },
}

/// Reads a JSON-lines labelled set (blank lines are skipped).
pub fn read_labelled<R: BufRead>(reader: R) -> Result<Vec<LabelledListing>, EvalError> {
    let mut out = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let labelled = serde_json::from_str(&line).map_err(|source| EvalError::Line {
            line: index + 1,
            source,
        })?;
        out.push(labelled);
    }
    Ok(out)
}

/// True/false positives and false negatives of one kind of prediction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
}

impl KindCounts {
    /// Share of predictions that were right (1 when nothing was predicted).
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Share of true cases that were predicted (1 when there were none).
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    fn add(&mut self, predicted: bool, expected: bool) {
        match (predicted, expected) {
            (true, true) => self.true_positives += 1,
            (true, false) => self.false_positives += 1,
            (false, true) => self.false_negatives += 1,
            (false, false) => {}
        }
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        1.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// The outcome of [`evaluate`]; `Display` renders it as a table.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EvalReport {
    pub listings: u64,
    /// Per reason kind, counted per listing (kind present or not).
    pub kinds: BTreeMap<String, KindCounts>,
    /// Per (listing, brand) pair: did the finding name the brand?
    pub brand_references: KindCounts,
    /// Listings labelled with no brand at all.
    pub clean_listings: u64,
    /// Clean listings whose finding named a brand anyway.
    pub clean_with_false_brand: u64,
    /// Listings whose brands differ from the labels, by `case`.
    pub mistakes_by_case: BTreeMap<String, u64>,
}

impl EvalReport {
    /// Share of clean listings given a brand they do not refer to.
    pub fn clean_false_brand_rate(&self) -> f64 {
        1.0 - ratio(
            self.clean_listings - self.clean_with_false_brand,
            self.clean_listings,
        )
    }
}

/// Scans every labelled listing and compares the findings with the labels.
pub fn evaluate(
    engine: &Engine,
    labelled: impl IntoIterator<Item = LabelledListing>,
) -> EvalReport {
    let mut report = EvalReport::default();
    for item in labelled {
        let finding = engine.scan(&item.listing, &item.seller);
        report.listings += 1;

        let predicted: BTreeSet<&str> = finding.reasons.iter().map(|r| r.kind()).collect();
        let expected: BTreeSet<&str> = item.kinds.iter().map(String::as_str).collect();
        for kind in predicted.union(&expected) {
            report
                .kinds
                .entry((*kind).to_owned())
                .or_default()
                .add(predicted.contains(kind), expected.contains(kind));
        }

        let found: BTreeSet<&str> = finding.brands.iter().map(String::as_str).collect();
        let truth: BTreeSet<&str> = item.brands.iter().map(String::as_str).collect();
        for brand in found.union(&truth) {
            report
                .brand_references
                .add(found.contains(brand), truth.contains(brand));
        }
        if truth.is_empty() {
            report.clean_listings += 1;
            if !found.is_empty() {
                report.clean_with_false_brand += 1;
            }
        }
        if found != truth {
            let case = item.case.clone().unwrap_or_else(|| "unlabelled".to_owned());
            *report.mistakes_by_case.entry(case).or_default() += 1;
        }
    }
    report
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} labelled listings", self.listings)?;
        writeln!(
            f,
            "{:<22} {:>6} {:>6} {:>6} {:>9} {:>7}",
            "kind", "tp", "fp", "fn", "precision", "recall"
        )?;
        let rows = self
            .kinds
            .iter()
            .map(|(kind, counts)| (kind.as_str(), counts))
            .chain(std::iter::once(("brand reference", &self.brand_references)));
        for (kind, counts) in rows {
            writeln!(
                f,
                "{:<22} {:>6} {:>6} {:>6} {:>9.3} {:>7.3}",
                kind,
                counts.true_positives,
                counts.false_positives,
                counts.false_negatives,
                counts.precision(),
                counts.recall()
            )?;
        }
        writeln!(
            f,
            "clean listings given a brand: {} of {} ({:.2}%)",
            self.clean_with_false_brand,
            self.clean_listings,
            100.0 * self.clean_false_brand_rate()
        )?;
        if !self.mistakes_by_case.is_empty() {
            writeln!(f, "listings with wrong brands, by case:")?;
            for (case, count) in &self.mistakes_by_case {
                writeln!(f, "  {case:<40} {count}")?;
            }
        }
        Ok(())
    }
}
