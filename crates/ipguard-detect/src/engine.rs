//! The engine: a catalog compiled for matching, and the scorer that turns
//! what the matcher finds into a finding.

use std::cell::RefCell;
use std::sync::Arc;

use rust_decimal::prelude::ToPrimitive;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::config::DetectionConfig;
use crate::lexicon::{self, Concept};
use crate::matcher::{Matcher, MatcherError, MatcherInput, Occurrence, Target, prepare};
use crate::model::{
    Action, Catalog, CategoryRule, Field, Finding, Listing, Money, Reason, Rule, SellerContext,
    VariantKind,
};
use crate::normalize::{NormalizedText, normalize_into, warm_up};

/// Errors building an [`Engine`]: the catalog or configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Matcher(#[from] MatcherError),
    #[error(
        "brand {brand:?}: reference price for {category:?} is in {currency}, which has no rate in the configuration"
    )]
    UnknownCurrency {
        brand: String,
        category: String,
        currency: String,
    },
    #[error("thresholds must satisfy 0 <= review ({review}) <= block ({block}) <= 1")]
    Thresholds { review: f64, block: f64 },
    #[error("minimum term lengths for fuzzy matching must be at least 2")]
    FuzzyLength,
}

struct BrandData {
    id: Arc<str>,
    authorized_sellers: FxHashSet<String>,
    /// Reference price per category path, in the base currency.
    msrp: Vec<(String, f64)>,
}

struct TermData {
    brand: u32,
    /// The brand's id, shared with its `BrandData`: a match reports it
    /// without reading the brand's data (one cache miss less per hit).
    brand_id: Arc<str>,
    text: String,
    /// The term is also an everyday word ("apple", "coach", "苹果"), so it
    /// only counts with supporting context.
    ambiguous: bool,
    /// Three canonical letters or fewer.
    short: bool,
    /// Derived from a catalog term by dropping its leading "The".
    bare: bool,
    /// For an ASCII term whose letters are its canonical form but for `l`
    /// (folded into `i` there): where its `l`s are. A match as written is
    /// then compared with the term from the canonical text it matched,
    /// without reading the term's own text (a cache miss per hit).
    l_positions: Option<u64>,
}

/// A brand term found in a listing.
#[derive(Debug, Clone)]
struct BrandHit {
    term: u32,
    field: Field,
    matched: String,
    variant: Option<VariantKind>,
    /// The descriptive cue right before it, if any ("for", "compatible with").
    cue: Option<u32>,
    /// Written with a capital, as a name usually is.
    capitalised: bool,
}

/// Replica wording found in a listing.
struct ReplicaHit {
    phrase: u32,
    field: Field,
    matched: String,
}

/// Per-thread buffers reused across listings, so that scanning allocates
/// only what ends up in the finding.
#[derive(Default)]
struct Scratch {
    text: NormalizedText,
    occurrences: Vec<Occurrence>,
}

impl Scratch {
    /// One enormous description must not pin its buffers to the thread for
    /// good.
    fn shrink_if_huge(&mut self) {
        const KEEP: usize = 1 << 16;
        if self.text.units.capacity() > KEEP {
            self.text = NormalizedText::default();
            self.occurrences = Vec::new();
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A text match reported by [`Engine::match_text`]; brand and term are
/// borrowed from the engine, so reporting a match copies only what matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch<'e> {
    pub brand: &'e str,
    pub term: &'e str,
    pub matched: String,
    /// `None` when the term appears as written.
    pub variant: Option<VariantKind>,
}

/// The detection engine, built once from a catalog and a configuration and
/// then shared by every thread. Scanning is pure: the same listing and
/// seller context always give the same finding.
pub struct Engine {
    config: DetectionConfig,
    brands: Vec<BrandData>,
    terms: Vec<TermData>,
    replica: Vec<String>,
    cues: Vec<&'static str>,
    concepts: Vec<Concept>,
    rules: Vec<CategoryRule>,
    matcher: Matcher,
    /// Some term was derived by dropping its article (see [`TermData::bare`]).
    has_bare_terms: bool,
}

impl Engine {
    /// Compiles a catalog. Takes about a second for 20,000 brands.
    pub fn new(catalog: &Catalog, config: DetectionConfig) -> Result<Engine, BuildError> {
        if !(0.0 <= config.review_threshold
            && config.review_threshold <= config.block_threshold
            && config.block_threshold <= 1.0)
        {
            return Err(BuildError::Thresholds {
                review: config.review_threshold,
                block: config.block_threshold,
            });
        }
        if config.min_edit_term_len < 2 || config.min_transposition_term_len < 2 {
            return Err(BuildError::FuzzyLength);
        }
        warm_up();
        lexicon::names();
        let ambiguous_cjk = lexicon::ambiguous_cjk_words();
        let mut brands = Vec::with_capacity(catalog.brands.len());
        let mut terms = Vec::new();
        let mut term_texts = Vec::new();
        for (index, brand) in catalog.brands.iter().enumerate() {
            let mut msrp = Vec::with_capacity(brand.msrp.len());
            for (category, price) in &brand.msrp {
                let Some(amount) = to_base(&config, price) else {
                    return Err(BuildError::UnknownCurrency {
                        brand: brand.id.clone(),
                        category: category.clone(),
                        currency: price.currency.clone(),
                    });
                };
                msrp.push((category.clone(), amount));
            }
            let brand_id: Arc<str> = Arc::from(brand.id.as_str());
            brands.push(BrandData {
                id: Arc::clone(&brand_id),
                authorized_sellers: brand.authorized_sellers.iter().cloned().collect(),
                msrp,
            });
            // The brand's name is always one of its terms.
            let mut seen = FxHashSet::default();
            // "Dolce & Gabbana" is also written "Dolce and Gabbana".
            let spelled_out: Vec<String> = std::iter::once(&brand.name)
                .chain(&brand.terms)
                .filter(|term| term.contains(" & "))
                .map(|term| term.replace(" & ", " and "))
                .collect();
            // "The North Face" is mostly written "North Face".
            let bare: Vec<String> = std::iter::once(&brand.name)
                .chain(&brand.terms)
                .filter_map(|term| without_article(term))
                .collect();
            let written = std::iter::once(&brand.name)
                .chain(&brand.terms)
                .chain(&spelled_out)
                .map(|term| (term, false));
            for (term, is_bare) in written.chain(bare.iter().map(|term| (term, true))) {
                let canonical = prepare(term, true).canonical;
                if canonical.is_empty() || !seen.insert(canonical.clone()) {
                    continue;
                }
                let short = std::str::from_utf8(&canonical).map_or(0, |c| c.chars().count()) <= 3;
                // Latin terms of three letters or fewer ("HP", "LV") stand
                // for other things as often as for the brand ("5 HP motor").
                // Without its article a name may be all ordinary words
                // ("Body Shop"), which then need the listing's support.
                let ambiguous = if canonical.is_ascii() {
                    short
                        || lexicon::common_words().contains(&lexicon::word_key(&canonical))
                        || (is_bare && all_common_words(term))
                } else {
                    ambiguous_cjk.contains(&lexicon::word_key(&canonical))
                };
                terms.push(TermData {
                    brand: index as u32,
                    brand_id: Arc::clone(&brand_id),
                    text: term.clone(),
                    ambiguous,
                    short,
                    bare: is_bare,
                    l_positions: l_positions(term, &canonical),
                });
                term_texts.push(term.clone());
            }
        }
        let replica: Vec<String> = config
            .replica_terms
            .iter()
            .map(|phrase| phrase.term.clone())
            .collect();
        let cues: Vec<&'static str> = lexicon::descriptive_cues().collect();
        let concepts = lexicon::concepts();
        // A concept's exclusions follow its keywords, so an index past the
        // keywords names an exclusion.
        let keywords: Vec<Vec<&str>> = concepts
            .iter()
            .map(|c| c.keywords.iter().chain(&c.exclusions).copied().collect())
            .collect();
        let matcher = Matcher::build(&MatcherInput {
            terms: &term_texts,
            replica: &replica,
            cues: &cues,
            keywords: &keywords,
            min_edit_len: config.min_edit_term_len,
            min_transposition_len: config.min_transposition_term_len,
        })?;
        Ok(Engine {
            config,
            brands,
            replica,
            cues,
            concepts,
            rules: catalog.category_rules.clone(),
            matcher,
            has_bare_terms: terms.iter().any(|term| term.bare),
            terms,
        })
    }

    /// The configuration the engine was built with.
    pub fn config(&self) -> &DetectionConfig {
        &self.config
    }

    /// Scans one listing.
    pub fn scan(&self, listing: &Listing, seller: &SellerContext) -> Finding {
        self.scan_with(listing, seller, Vec::new())
    }

    /// Scans one listing and scores it together with reasons found
    /// elsewhere, such as `ImageMatch` and `RelistedItem` from the image
    /// index. Those reasons appear in the finding after the engine's own.
    pub fn scan_with(
        &self,
        listing: &Listing,
        seller: &SellerContext,
        external: Vec<Reason>,
    ) -> Finding {
        let mut evidence = Evidence::default();
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let scratch = &mut *scratch;
            self.collect(Field::Title, &listing.title, scratch, &mut evidence);
            if let Some(description) = &listing.description {
                self.collect(Field::Description, description, scratch, &mut evidence);
            }
            scratch.shrink_if_huge();
        });
        self.score(listing, seller, evidence, external)
    }

    /// The brand terms found in one text, after every precision rule except
    /// those that need the whole listing (context for ambiguous terms).
    /// Meant for tools and benchmarks of the matcher alone, so it builds no
    /// listing evidence (cues, replica wording, categories) that it would
    /// only throw away.
    pub fn match_text(&self, text: &str) -> Vec<TextMatch<'_>> {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let scratch = &mut *scratch;
            self.find(text, scratch);
            scratch
                .occurrences
                .iter()
                .filter_map(|occurrence| {
                    let (data, matched, variant) =
                        self.term_hit(text, &scratch.text, occurrence)?;
                    Some(TextMatch {
                        brand: &data.brand_id,
                        term: &data.text,
                        matched: matched.to_owned(),
                        variant,
                    })
                })
                .collect()
        })
    }

    /// Normalises one text into the scratch buffers and finds its
    /// occurrences there.
    fn find(&self, text: &str, scratch: &mut Scratch) {
        normalize_into(text, &mut scratch.text);
        scratch.occurrences.clear();
        self.matcher.find(&scratch.text, &mut scratch.occurrences);
        if self.has_bare_terms {
            self.drop_bare_inside_full(&mut scratch.occurrences);
        }
    }

    /// A name found without its article ("North Face") inside the full name
    /// of the same brand ("The North Face", or "Thе North Face" with a
    /// Cyrillic e) adds nothing to that occurrence.
    fn drop_bare_inside_full(&self, occurrences: &mut Vec<Occurrence>) {
        let term = |occurrence: &Occurrence| match occurrence.target {
            Target::Term(term) => self.terms.get(term as usize),
            _ => None,
        };
        let is_bare = |occurrence: &Occurrence| term(occurrence).is_some_and(|data| data.bare);
        if !occurrences.iter().any(is_bare) {
            return;
        }
        let inside_full: Vec<bool> = occurrences
            .iter()
            .map(|bare| {
                is_bare(bare)
                    && occurrences.iter().any(|full| {
                        !is_bare(full)
                            && term(full).map(|data| data.brand)
                                == term(bare).map(|data| data.brand)
                            && full.start <= bare.start
                            && bare.end <= full.end
                    })
            })
            .collect();
        let mut index = 0;
        occurrences.retain(|_| {
            index += 1;
            !inside_full[index - 1]
        });
    }

    /// A brand-term occurrence as the seller wrote it, with its variant, or
    /// `None` for other targets and for lookalikes of terms too short for
    /// them.
    fn term_hit<'t>(
        &self,
        text: &'t str,
        normalized: &NormalizedText,
        occurrence: &Occurrence,
    ) -> Option<(&TermData, &'t str, Option<VariantKind>)> {
        let Target::Term(term) = occurrence.target else {
            return None;
        };
        let data = self.terms.get(term as usize)?;
        let matched = normalized.original(text, occurrence.start, occurrence.end);
        let looks_alike = match data.l_positions {
            // The matcher's variant comes first; a lookalike only counts
            // against short terms.
            _ if occurrence.variant.is_some() && !data.short => None,
            // A plain match spans the term's canonical form.
            Some(l_positions) if occurrence.variant.is_none() && matched.is_ascii() => {
                let canonical = normalized
                    .canon
                    .get(occurrence.start..occurrence.end)
                    .unwrap_or_default();
                let term = canonical.iter().enumerate().map(|(i, &byte)| {
                    if l_positions >> i & 1 != 0 {
                        b'l'
                    } else {
                        byte
                    }
                });
                (!ascii_letters(matched).eq(term)).then_some(VariantKind::Lookalike)
            }
            _ => lookalike(matched, &data.text),
        };
        // Terms of one to three letters ("LV", "HP") are too short for
        // lookalikes: "IV" must not read as "LV" ("L.V." may).
        if data.short && looks_alike.is_some() {
            return None;
        }
        Some((data, matched, occurrence.variant.or(looks_alike)))
    }

    /// Finds everything in one field and adds it to `evidence`.
    fn collect(&self, field: Field, text: &str, scratch: &mut Scratch, evidence: &mut Evidence) {
        self.find(text, scratch);
        let normalized = &scratch.text;
        let occurrences = &scratch.occurrences;
        for occurrence in occurrences {
            let matched = || normalized.original(text, occurrence.start, occurrence.end);
            match occurrence.target {
                Target::Term(term) => {
                    let Some((_, matched, variant)) = self.term_hit(text, normalized, occurrence)
                    else {
                        continue;
                    };
                    let cue = occurrences.iter().find_map(|other| match other.target {
                        Target::Cue(cue) if cue_precedes(normalized, other, occurrence) => {
                            Some(cue)
                        }
                        _ => None,
                    });
                    evidence.brand_hits.push(BrandHit {
                        capitalised: matched.chars().next().is_some_and(char::is_uppercase),
                        term,
                        field,
                        matched: matched.to_owned(),
                        variant,
                        cue,
                    });
                }
                Target::Replica(phrase) => evidence.replica_hits.push(ReplicaHit {
                    phrase,
                    field,
                    matched: matched().to_owned(),
                }),
                Target::Keyword(concept, keyword) => {
                    if !self.is_concept_keyword(concept, keyword)
                        || occurrences
                            .iter()
                            .any(|other| self.excludes(other, concept, occurrence))
                    {
                        continue;
                    }
                    if !evidence.concepts.iter().any(|&(c, _)| c == concept) {
                        evidence.concepts.push((concept, keyword));
                    }
                }
                Target::Cue(_) => {}
            }
        }
    }

    /// Whether keyword `keyword` of `concept` is one of its keywords rather
    /// than one of its exclusions.
    fn is_concept_keyword(&self, concept: u32, keyword: u32) -> bool {
        self.concepts
            .get(concept as usize)
            .is_some_and(|data| (keyword as usize) < data.keywords.len())
    }

    /// Whether `other` is an exclusion of `concept` around `keyword`
    /// ("airbag jacket" around "airbag").
    fn excludes(&self, other: &Occurrence, concept: u32, keyword: &Occurrence) -> bool {
        matches!(other.target, Target::Keyword(c, k) if c == concept && !self.is_concept_keyword(c, k))
            && other.start < keyword.end
            && keyword.start < other.end
    }

    fn score(
        &self,
        listing: &Listing,
        seller: &SellerContext,
        evidence: Evidence,
        external: Vec<Reason>,
    ) -> Finding {
        let weights = &self.config.weights;
        let mut reasons = Vec::new();
        let mut brands: Vec<String> = Vec::new();
        let mut risk = NoisyOr::default();

        let brand_order = self.brands_in_order(&evidence.brand_hits);
        let confirmed = self.confirmed_hits(listing, &evidence, &brand_order);
        let mut brand_risk: f64 = 0.0;
        let mut price_risk: f64 = 0.0;
        let mut authorized_reasons = Vec::new();
        let mut price_reasons = Vec::new();
        for brand in brand_order {
            let hits: Vec<&BrandHit> = confirmed
                .iter()
                .filter(|hit| self.brand_of(hit.term) == Some(brand))
                .copied()
                .collect();
            let Some(data) = self.brands.get(brand as usize) else {
                continue;
            };
            if hits.is_empty() {
                continue;
            }
            brands.push(data.id.to_string());
            let authorized = listing
                .seller_id
                .as_ref()
                .filter(|seller| data.authorized_sellers.contains(*seller));
            let referring: Vec<&BrandHit> = hits
                .iter()
                .filter(|hit| hit.cue.is_none())
                .copied()
                .collect();
            let mut risk: f64 = 0.0;
            if referring.is_empty() {
                if let Some(hit) = hits.first() {
                    reasons.push(self.descriptive_reason(&data.id, hit));
                    risk = weights.descriptive_use;
                }
            } else {
                if let Some(hit) = referring.iter().find(|hit| hit.variant.is_none()) {
                    reasons.push(self.brand_reason(&data.id, hit));
                    risk = risk.max(weights.brand_exact);
                }
                if let Some(hit) = referring.iter().find(|hit| hit.variant.is_some()) {
                    reasons.push(self.brand_reason(&data.id, hit));
                    risk = risk.max(weights.brand_variant);
                }
            }
            if let Some(seller_id) = authorized {
                authorized_reasons.push(Reason::AuthorizedSeller {
                    brand: data.id.to_string(),
                    seller_id: seller_id.clone(),
                });
                continue;
            }
            brand_risk = brand_risk.max(risk);
            if !referring.is_empty()
                && let Some((reason, risk)) = self.price_anomaly(listing, data)
            {
                price_reasons.push(reason);
                price_risk = price_risk.max(risk);
            }
        }
        risk.add(brand_risk);

        let mut replica_risk: f64 = 0.0;
        let mut replica_seen = Vec::new();
        for hit in &evidence.replica_hits {
            if replica_seen.contains(&hit.phrase) {
                continue;
            }
            replica_seen.push(hit.phrase);
            let weight = self
                .config
                .replica_terms
                .get(hit.phrase as usize)
                .map_or(0.0, |phrase| phrase.weight);
            replica_risk = replica_risk.max(weight);
            reasons.push(Reason::ReplicaLanguage {
                term: self
                    .replica
                    .get(hit.phrase as usize)
                    .cloned()
                    .unwrap_or_default(),
                matched: hit.matched.clone(),
                field: hit.field,
            });
        }
        if brand_risk <= weights.descriptive_use {
            replica_risk *= self.config.replica_without_brand_factor;
        }
        risk.add(replica_risk);

        let (category_reasons, category_risk) = self.category_rules(listing, &evidence);
        reasons.extend(category_reasons);
        risk.add(category_risk);
        reasons.extend(price_reasons);
        risk.add(price_risk);
        reasons.extend(authorized_reasons);

        for reason in &external {
            risk.add(self.external_weight(reason));
            if let Some(brand) = reason.brand()
                && !brands.iter().any(|b| b == brand)
            {
                brands.push(brand.to_owned());
            }
        }
        if risk.value() > 0.0
            && let Some((reason, seller_risk)) = self.seller_risk(seller)
        {
            reasons.push(reason);
            risk.add(seller_risk);
        }
        reasons.extend(external);

        let score = (risk.value() * 10_000.0).round() / 10_000.0;
        let action = if score >= self.config.block_threshold {
            Action::Block
        } else if score >= self.config.review_threshold {
            Action::Review
        } else {
            Action::Allow
        };
        Finding {
            listing_id: listing.id.clone(),
            score,
            action,
            brands,
            reasons,
        }
    }

    fn brand_of(&self, term: u32) -> Option<u32> {
        self.terms.get(term as usize).map(|t| t.brand)
    }

    /// Brands with any hit, in order of first mention.
    fn brands_in_order(&self, hits: &[BrandHit]) -> Vec<u32> {
        let mut order = Vec::new();
        for hit in hits {
            if let Some(brand) = self.brand_of(hit.term)
                && !order.contains(&brand)
            {
                order.push(brand);
            }
        }
        order
    }

    /// Drops hits on ambiguous terms that nothing in the listing supports:
    /// "apple" counts in a phone listing, not in "fresh apples 1 kg" under
    /// groceries. Support is a listing category in a department the brand
    /// sells in, another unambiguous term of the same brand, or replica
    /// wording; a listing without a category gives the benefit of the doubt
    /// to a capitalised mention ("Coach tote") but not to a lowercase one.
    fn confirmed_hits<'e>(
        &self,
        listing: &Listing,
        evidence: &'e Evidence,
        brands: &[u32],
    ) -> Vec<&'e BrandHit> {
        let mut supported: FxHashMap<u32, bool> = FxHashMap::default();
        for &brand in brands {
            let unambiguous = evidence.brand_hits.iter().any(|hit| {
                self.terms
                    .get(hit.term as usize)
                    .is_some_and(|t| t.brand == brand && !t.ambiguous)
            });
            let sells_in_category = self.brands.get(brand as usize).is_some_and(|data| {
                listing.category.as_deref().is_some_and(|category| {
                    data.msrp
                        .iter()
                        .any(|(msrp_category, _)| same_department(category, msrp_category))
                })
            });
            supported.insert(
                brand,
                unambiguous || sells_in_category || !evidence.replica_hits.is_empty(),
            );
        }
        let uncategorised = listing.category.as_deref().is_none_or(str::is_empty);
        evidence
            .brand_hits
            .iter()
            .filter(|hit| {
                self.terms.get(hit.term as usize).is_some_and(|term| {
                    !term.ambiguous
                        || supported.get(&term.brand).copied().unwrap_or(false)
                        || (uncategorised && hit.capitalised)
                })
            })
            .collect()
    }

    fn brand_reason(&self, brand: &str, hit: &BrandHit) -> Reason {
        let term = self
            .terms
            .get(hit.term as usize)
            .map(|t| t.text.clone())
            .unwrap_or_default();
        match hit.variant {
            None => Reason::BrandExact {
                brand: brand.to_owned(),
                term,
                matched: hit.matched.clone(),
                field: hit.field,
            },
            Some(variant) => Reason::BrandVariant {
                brand: brand.to_owned(),
                term,
                matched: hit.matched.clone(),
                field: hit.field,
                variant,
            },
        }
    }

    fn descriptive_reason(&self, brand: &str, hit: &BrandHit) -> Reason {
        Reason::DescriptiveUse {
            brand: brand.to_owned(),
            term: self
                .terms
                .get(hit.term as usize)
                .map(|t| t.text.clone())
                .unwrap_or_default(),
            matched: hit.matched.clone(),
            field: hit.field,
            cue: hit
                .cue
                .and_then(|cue| self.cues.get(cue as usize))
                .map(|cue| (*cue).to_owned())
                .unwrap_or_default(),
        }
    }

    /// A price far under the brand's reference price for the listing's category.
    fn price_anomaly(&self, listing: &Listing, brand: &BrandData) -> Option<(Reason, f64)> {
        let category = listing.category.as_deref()?;
        let price = to_base(&self.config, listing.price.as_ref()?)?;
        // The reference price of the listing's own category or its nearest
        // parent; failing that, of a category in the same department
        // ("shoes/boots" against "shoes/sneakers"), the lowest such.
        let (reference_category, reference) = brand
            .msrp
            .iter()
            .filter(|(msrp_category, _)| within(category, msrp_category))
            .max_by_key(|(msrp_category, _)| msrp_category.len())
            .or_else(|| {
                brand
                    .msrp
                    .iter()
                    .filter(|(msrp_category, _)| same_department(category, msrp_category))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
            })?;
        if *reference <= 0.0 || price < 0.0 {
            return None;
        }
        let ratio = price / reference;
        let threshold = self.config.price_anomaly_ratio;
        if ratio >= threshold {
            return None;
        }
        let depth = 1.0 - ratio / threshold;
        let risk = self.config.weights.price_anomaly * (0.5 + 0.5 * depth);
        Some((
            Reason::PriceAnomaly {
                brand: brand.id.to_string(),
                category: reference_category.clone(),
                ratio: (ratio * 1000.0).round() / 1000.0,
            },
            risk,
        ))
    }

    /// Category rules of the listing's platform that its declared category
    /// or its text (keywords such as "brake pads") fall under.
    fn category_rules(&self, listing: &Listing, evidence: &Evidence) -> (Vec<Reason>, f64) {
        let mut reasons = Vec::new();
        let mut risk: f64 = 0.0;
        let Some(platform) = listing.platform.as_deref() else {
            return (reasons, risk);
        };
        for rule in &self.rules {
            if rule.platform != platform && rule.platform != "*" {
                continue;
            }
            let declared = listing
                .category
                .as_deref()
                .is_some_and(|category| within(category, &rule.category));
            let inferred_from = if declared {
                None
            } else {
                let keyword = evidence.concepts.iter().find_map(|&(concept, keyword)| {
                    let concept = self.concepts.get(concept as usize)?;
                    concept
                        .names_category(&rule.category)
                        .then(|| concept.keywords.get(keyword as usize))
                        .flatten()
                });
                match keyword {
                    Some(keyword) => Some((*keyword).to_owned()),
                    None => continue,
                }
            };
            let factor = if inferred_from.is_some() {
                self.config.inferred_category_factor
            } else {
                1.0
            };
            let (reason, weight) = match rule.rule {
                Rule::Prohibited => (
                    Reason::ProhibitedCategory {
                        platform: platform.to_owned(),
                        category: rule.category.clone(),
                        inferred_from,
                    },
                    self.config.weights.prohibited_category,
                ),
                Rule::Restricted => (
                    Reason::RestrictedCategory {
                        platform: platform.to_owned(),
                        category: rule.category.clone(),
                        inferred_from,
                    },
                    self.config.weights.restricted_category,
                ),
            };
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
            risk = risk.max(weight * factor);
        }
        (reasons, risk)
    }

    /// Prior strikes and a young account raise the risk of a listing that is
    /// already suspicious; on their own they say nothing about the listing.
    fn seller_risk(&self, seller: &SellerContext) -> Option<(Reason, f64)> {
        let weights = &self.config.weights;
        let strikes = seller.prior_strikes.filter(|&n| n > 0);
        let young = seller
            .account_age_days
            .filter(|&days| days < self.config.new_account_days);
        let strike_risk = strikes.map_or(0.0, |n| {
            (f64::from(n) * weights.seller_strike).min(weights.seller_strikes_cap)
        });
        let age_risk = if young.is_some() {
            weights.new_account
        } else {
            0.0
        };
        let mut risk = NoisyOr::default();
        risk.add(strike_risk);
        risk.add(age_risk);
        let risk = risk.value();
        (risk > 0.0).then_some((
            Reason::SellerRisk {
                prior_strikes: strikes,
                account_age_days: young,
            },
            risk,
        ))
    }

    fn external_weight(&self, reason: &Reason) -> f64 {
        let weights = &self.config.weights;
        match reason {
            Reason::ImageMatch { .. } => weights.image_match,
            Reason::RelistedItem { .. } => weights.relisted_item,
            Reason::BrandExact { .. } => weights.brand_exact,
            Reason::BrandVariant { .. } => weights.brand_variant,
            Reason::DescriptiveUse { .. } => weights.descriptive_use,
            Reason::ProhibitedCategory { .. } => weights.prohibited_category,
            Reason::RestrictedCategory { .. } => weights.restricted_category,
            Reason::PriceAnomaly { .. } => weights.price_anomaly,
            _ => 0.0,
        }
    }
}

/// Everything found in a listing's text, before scoring.
#[derive(Default)]
struct Evidence {
    brand_hits: Vec<BrandHit>,
    replica_hits: Vec<ReplicaHit>,
    /// Category concept and the keyword that revealed it.
    concepts: Vec<(u32, u32)>,
}

/// Noisy-OR of independent pieces of evidence, each in [0, 1]: the listing
/// is clean only if every piece of evidence is wrong.
#[derive(Debug, Clone, Copy)]
struct NoisyOr {
    clear: f64,
}

/// A term without its leading "The", when at least two words remain ("The
/// North Face" but not "The Ordinary", whose rest is one ordinary word).
fn without_article(term: &str) -> Option<String> {
    let rest = term
        .get(..4)
        .filter(|article| article.eq_ignore_ascii_case("the "))
        .and_then(|_| term.get(4..))?
        .trim();
    (rest.split_whitespace().count() >= 2).then(|| rest.to_owned())
}

/// Whether every word of `term` is an ordinary English word.
fn all_common_words(term: &str) -> bool {
    term.split_whitespace().all(|word| {
        lexicon::common_words().contains(&lexicon::word_key(&prepare(word, false).canonical))
    })
}

impl Default for NoisyOr {
    fn default() -> Self {
        NoisyOr { clear: 1.0 }
    }
}

impl NoisyOr {
    fn add(&mut self, risk: f64) {
        self.clear *= 1.0 - risk.clamp(0.0, 1.0);
    }

    fn value(&self) -> f64 {
        1.0 - self.clear
    }
}

fn to_base(config: &DetectionConfig, money: &Money) -> Option<f64> {
    let currency = money.currency.trim().to_ascii_uppercase();
    let rate = config.currency_rates.get(&currency)?;
    Some(money.amount.to_f64()? * rate)
}

/// `category` is `parent` or one of its sub-categories.
fn within(category: &str, parent: &str) -> bool {
    let category = category.trim_matches('/');
    let parent = parent.trim_matches('/');
    category.eq_ignore_ascii_case(parent)
        || (category.len() > parent.len()
            && category.is_char_boundary(parent.len())
            && category[..parent.len()].eq_ignore_ascii_case(parent)
            && category[parent.len()..].starts_with('/'))
}

/// Both categories share their top-level department ("electronics/…").
fn same_department(a: &str, b: &str) -> bool {
    let top = |c: &str| {
        c.trim_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    let (a, b) = (top(a), top(b));
    !a.is_empty() && a == b
}

/// The letters and digits of an ASCII text, lowercased: what `lookalike`
/// compares.
fn ascii_letters(text: &str) -> impl Iterator<Item = u8> + '_ {
    text.bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|byte| byte.to_ascii_lowercase())
}

/// `TermData::l_positions` of a term with this canonical form.
fn l_positions(term: &str, canonical: &[u8]) -> Option<u64> {
    if !term.is_ascii() || canonical.len() > 64 {
        return None;
    }
    let mut positions = 0;
    let mut letters = ascii_letters(term);
    for (i, &byte) in canonical.iter().enumerate() {
        match letters.next()? {
            b'l' if byte == b'i' => positions |= 1 << i,
            letter if letter == byte => {}
            _ => return None,
        }
    }
    letters.next().is_none().then_some(positions)
}

/// A descriptive cue applies to a brand mention that follows it with at most
/// one word in between ("for Nike shoes", "compatible with the iPhone").
fn cue_precedes(text: &NormalizedText, cue: &Occurrence, mention: &Occurrence) -> bool {
    if cue.end > mention.start {
        return false;
    }
    let word_starts = (cue.end..=mention.start)
        .filter(|&i| text.boundary_at(i) >= crate::normalize::SOFT)
        .count();
    word_starts <= 2 && mention.start - cue.end <= 24
}

/// A plain automaton match can still differ from the term in ways folding
/// hid: diacritics, other scripts, full-width forms, or `l` for `i`.
fn lookalike(matched: &str, term: &str) -> Option<VariantKind> {
    // The usual case, both ASCII, without Unicode case tables.
    if matched.is_ascii() && term.is_ascii() {
        return (!ascii_letters(matched).eq(ascii_letters(term))).then_some(VariantKind::Lookalike);
    }
    let same = matched
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .eq(term
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase));
    (!same).then_some(VariantKind::Lookalike)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l_positions_give_back_a_terms_letters_from_its_canonical_form() {
        assert_eq!(l_positions("Dolce & Gabbana", b"doicegabbana"), Some(0b100));
        assert_eq!(l_positions("Nike", b"nike"), Some(0));
        // Digits and other scripts differ from their canonical letters.
        assert_eq!(l_positions("3M", b"em"), None);
        assert_eq!(l_positions("Nïke", b"nike"), None);
    }
}
