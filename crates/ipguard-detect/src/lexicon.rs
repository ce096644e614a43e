//! The small word tables committed under `data/` that the engine relies on
//! for precision and category inference.

use std::sync::OnceLock;

use rustc_hash::FxHashSet;

use crate::normalize::normalize;

const COMMON_WORDS: &str = include_str!("../data/common_words.txt");
const NAMES: &str = include_str!("../data/names.txt");
const AMBIGUOUS_CJK: &str = include_str!("../data/ambiguous_cjk.txt");
const DESCRIPTIVE_CUES: &str = include_str!("../data/descriptive_cues.txt");
const CATEGORIES: &str = include_str!("../data/categories.tsv");

/// Non-empty lines that are not `#` comments.
fn entries(table: &'static str) -> impl Iterator<Item = &'static str> {
    table
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// Hash of a canonical byte string, the key of every word table.
pub(crate) fn word_key(canonical: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(canonical);
    hasher.finish()
}

/// Canonical-form keys of ordinary English words, built once per process.
pub(crate) fn common_words() -> &'static FxHashSet<u64> {
    static WORDS: OnceLock<FxHashSet<u64>> = OnceLock::new();
    WORDS.get_or_init(|| {
        entries(COMMON_WORDS)
            .map(|word| word_key(normalize(word).canon.as_slice()))
            .collect()
    })
}

/// Canonical-form keys of proper names (people, places, firms) that are not
/// also ordinary words, built once per process.
pub(crate) fn names() -> &'static FxHashSet<u64> {
    static NAMES_SET: OnceLock<FxHashSet<u64>> = OnceLock::new();
    NAMES_SET.get_or_init(|| {
        entries(NAMES)
            .map(|name| word_key(normalize(name).canon.as_slice()))
            .collect()
    })
}

/// Canonical-form keys of Chinese words that double as brand names.
pub(crate) fn ambiguous_cjk_words() -> FxHashSet<u64> {
    entries(AMBIGUOUS_CJK)
        .map(|word| word_key(normalize(word).canon.as_slice()))
        .collect()
}

pub(crate) fn descriptive_cues() -> impl Iterator<Item = &'static str> {
    entries(DESCRIPTIVE_CUES)
}

/// A kind of goods recognisable from its keywords.
#[derive(Debug)]
pub(crate) struct Concept {
    /// Letters-only fragments of category names that mean this concept.
    pub stems: Vec<&'static str>,
    pub keywords: Vec<&'static str>,
    /// Longer phrases around a keyword that mean other goods ("airbag
    /// jacket", "bike brake pads"), written with a leading `!` in the data.
    pub exclusions: Vec<&'static str>,
}

pub(crate) fn concepts() -> Vec<Concept> {
    entries(CATEGORIES)
        .filter_map(|line| {
            let (stems, keywords) = line.split_once('\t')?;
            let (exclusions, keywords): (Vec<&str>, Vec<&str>) = keywords
                .split('|')
                .map(str::trim)
                .partition(|keyword| keyword.starts_with('!'));
            Some(Concept {
                stems: stems.split(',').map(str::trim).collect(),
                keywords,
                exclusions: exclusions
                    .iter()
                    .map(|phrase| phrase.trim_start_matches('!'))
                    .collect(),
            })
        })
        .collect()
}

impl Concept {
    /// Whether a rule's category path names this concept.
    pub fn names_category(&self, category: &str) -> bool {
        let last = category.rsplit('/').next().unwrap_or(category);
        let letters: String = last
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        let singular = letters.strip_suffix('s').unwrap_or(&letters);
        self.stems.iter().any(|stem| {
            // Short stems ("gun") must match whole; longer ones may be part
            // of a longer name ("airbagmodule").
            singular == *stem || (stem.len() >= 4 && singular.contains(stem))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_words_hold_ordinary_words_but_not_brand_names() {
        let words = common_words();
        for word in ["couch", "nickel", "applesauce", "apple"] {
            assert!(
                words.contains(&word_key(normalize(word).canon.as_slice())),
                "{word}"
            );
        }
        for brand in ["nike", "gucci", "adidas"] {
            assert!(
                !words.contains(&word_key(normalize(brand).canon.as_slice())),
                "{brand}"
            );
        }
    }

    #[test]
    fn concepts_name_categories_whatever_their_spelling() {
        let concepts = concepts();
        let airbag = concepts.iter().find(|c| c.stems.contains(&"airbag"));
        let airbag = airbag.expect("airbag concept");
        assert!(airbag.names_category("auto/airbags"));
        assert!(airbag.names_category("Auto/Airbag-Modules"));
        assert!(!airbag.names_category("auto/tyres"));
    }
}
