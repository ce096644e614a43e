//! ipguard's detection engine: given a catalog of protected brands and
//! per-platform category rules, it reads a marketplace listing and returns a
//! [`Finding`] — a risk score in [0, 1], an action (allow, review, block),
//! the brands the listing refers to and every reason behind the score.
//!
//! The key design decision is to normalise first and match once. Every
//! text is folded into one canonical spelling (case, diacritics, Unicode
//! lookalikes, full-width forms, leetspeak and in-word separators all
//! disappear, see [`normalize`]), and one Aho-Corasick trie of every brand
//! term, replica phrase, descriptive cue and category keyword is walked from
//! each position where a word can start. One-letter misspellings are found by a deletion index
//! consulted only for words that are not ordinary dictionary words. Precision
//! rules (word boundaries, dictionary words, context for brand names that are
//! also common words) then decide what counts, and a noisy-OR scorer combines
//! the signals. Throughput is the point: the engine is built to scan every
//! new or edited listing of a large marketplace.
//!
//! This crate deliberately has no database, HTTP, terminal or async code:
//! the service supplies seller context and image matches, and decides what to
//! do with findings. Image hashing lives in `ipguard-pdq`/`ipguard-hashindex`;
//! their results enter the score through [`Engine::scan_with`].

mod config;
mod engine;
mod eval;
mod lexicon;
mod matcher;
mod model;
pub mod normalize;
mod stream;

pub use config::{DetectionConfig, ReasonWeights, WeightedTerm};
pub use engine::{BuildError, Engine, TextMatch};
pub use eval::{EvalError, EvalReport, KindCounts, LabelledListing, evaluate, read_labelled};
pub use matcher::MatcherError;
pub use model::{
    Action, Brand, Catalog, CategoryRule, Field, Finding, Listing, Money, Reason, Rule,
    SellerContext, VariantKind,
};
pub use stream::{ScanError, ScanOptions, ScanSummary, scan_jsonl, scan_jsonl_with};
