//! Finding protected terms, replica wording, descriptive cues and category
//! keywords in normalised text.
//!
//! Everything is found with one Aho-Corasick trie (from the `aho-corasick`
//! crate), walked from each position of the canonical text where a word can
//! start and some pattern begins with the next four bytes (a bitmap says
//! which), so the cost per listing barely depends on catalog size.
//! Misspellings (one edit) are found without an automaton: each term of
//! five letters or more is indexed under every string obtained by deleting
//! one of its letters, and each word of the listing looks up itself and its
//! own one-letter deletions; two strings within one edit share such a key
//! (the "symmetric delete" idea). Ordinary dictionary words are skipped
//! before any of that, which keeps the lookups to the rare unknown words.

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::contiguous;
use aho_corasick::{Anchored, MatchKind};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::lexicon::{common_words, names, word_key};
use crate::model::VariantKind;
use crate::normalize::{
    FLAG_CJK, FLAG_CONTINUATION, FLAG_LEET, HARD, NO_BOUNDARY, NormalizedText, SCRIPT, SOFT,
    normalize,
};

/// Longest multi-word window tried for misspelt multi-word terms.
const MAX_WINDOW_WORDS: usize = 4;

/// What a canonical pattern stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Index into the engine's terms.
    Term(u32),
    /// Index into the replica phrases.
    Replica(u32),
    /// Index into the descriptive cues.
    Cue(u32),
    /// Index of a category concept and of the keyword within it.
    Keyword(u32, u32),
}

/// The written shape of a pattern, which decides which matches are genuine.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Shape {
    /// Bit `i` set: the pattern has a word break before canonical byte `i`
    /// ("Air Jordan" before `j`), so the text may have one there too.
    word_breaks: u64,
    /// Bit `i` set: the pattern itself has a digit at canonical byte `i`, so
    /// a digit there in the text is not leetspeak.
    digits: u64,
    /// Contains CJK: such patterns match anywhere, without word boundaries.
    cjk: bool,
    /// Glued matches ("NikeAirMax", "Nikes") are allowed for brand terms.
    glue: bool,
}

impl Shape {
    pub(crate) fn has_word_breaks(&self) -> bool {
        self.word_breaks != 0
    }
}

/// A pattern prepared for the automaton.
pub(crate) struct Pattern {
    pub canonical: Vec<u8>,
    pub shape: Shape,
}

impl Pattern {
    /// First and last word of a multi-word pattern.
    fn edge_words(&self) -> Option<(&[u8], &[u8])> {
        let breaks = self.shape.word_breaks;
        if breaks == 0 {
            return None;
        }
        let first_break = breaks.trailing_zeros() as usize;
        let last_break = 63 - breaks.leading_zeros() as usize;
        Some((
            self.canonical.get(..first_break)?,
            self.canonical.get(last_break..)?,
        ))
    }
}

pub(crate) fn prepare(text: &str, glue: bool) -> Pattern {
    let normalized = normalize(text);
    let mut shape = Shape {
        glue,
        ..Shape::default()
    };
    for (i, unit) in normalized.units.iter().enumerate() {
        if i < 64 {
            if i > 0 && unit.boundary() >= SOFT {
                shape.word_breaks |= 1 << i;
            }
            if unit.flags() & FLAG_LEET != 0 {
                shape.digits |= 1 << i;
            }
        }
        if unit.flags() & FLAG_CJK != 0 {
            shape.cjk = true;
        }
    }
    Pattern {
        canonical: normalized.canon,
        shape,
    }
}

/// One accepted occurrence of a pattern in a text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Occurrence {
    pub target: Target,
    /// Canonical byte range.
    pub start: usize,
    pub end: usize,
    /// `None` for a plain match, otherwise how the text disguises the pattern.
    pub variant: Option<VariantKind>,
    /// Found glued to other letters rather than between word boundaries.
    pub glued: bool,
}

/// What one automaton pattern stands for, all in one place: a brand term's
/// pattern is seldom in cache when a listing matches it, and a match then
/// costs one memory access here rather than three (pattern length, list,
/// list contents).
struct PatternTargets {
    /// Canonical length, which tells the pattern from the longer ones whose
    /// match state lists it as a suffix.
    len: u32,
    /// Range of `Matcher::extra_targets` holding the targets after `first`:
    /// a text that is both a term and a keyword, say (rare).
    extra: (u32, u32),
    first: (Target, Shape),
}

/// Fuzzy-index entry for one canonical term or deletion key.
#[derive(Debug, Default)]
struct KeyEntry {
    /// Terms that equal the key or become it when one letter is deleted.
    candidates: Vec<u32>,
}

/// A single-word fuzzy-eligible term, or a multi-word one with its words glued.
struct FuzzyTerm {
    canonical: Vec<u8>,
    multiword: bool,
}

/// The compiled matcher.
pub(crate) struct Matcher {
    automaton: contiguous::NFA,
    /// Which first four bytes begin a pattern, tested before each walk.
    prefixes: PrefixFilter,
    /// Per automaton pattern: its length and what it stands for.
    patterns: Vec<PatternTargets>,
    /// The targets of patterns that stand for more than one thing, beyond
    /// the first (see `PatternTargets::extra`).
    extra_targets: Vec<(Target, Shape)>,
    keys: FxHashMap<u64, KeyEntry>,
    filter: KeyFilter,
    /// Ordinary words, names, exact terms and the edge words of multi-word
    /// terms in one table, each with its kinds: one lookup per listing word
    /// answers every question the matcher asks about a whole word.
    words: WordTable,
    /// Most words in a fuzzy-eligible multi-word term (capped).
    max_term_words: usize,
    fuzzy_terms: FxHashMap<u32, FuzzyTerm>,
    fuzzy_token_len: (usize, usize),
    min_edit_len: usize,
    min_transposition_len: usize,
}

/// Errors building the matcher.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    #[error("cannot build the term automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
}

pub(crate) struct MatcherInput<'a> {
    /// Brand terms by term index.
    pub terms: &'a [String],
    pub replica: &'a [String],
    pub cues: &'a [&'a str],
    /// Keywords per concept.
    pub keywords: &'a [Vec<&'a str>],
    pub min_edit_len: usize,
    pub min_transposition_len: usize,
}

impl Matcher {
    pub(crate) fn build(input: &MatcherInput<'_>) -> Result<Matcher, MatcherError> {
        let mut ids: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
        let mut canonicals: Vec<Vec<u8>> = Vec::new();
        // Per pattern: its first target, and the others.
        let mut firsts: Vec<(Target, Shape)> = Vec::new();
        let mut others: Vec<Vec<(Target, Shape)>> = Vec::new();
        let mut add = |pattern: Pattern, target: Target| {
            if pattern.canonical.is_empty() {
                return;
            }
            let next = canonicals.len();
            let id = *ids.entry(pattern.canonical.clone()).or_insert(next);
            if id == next {
                canonicals.push(pattern.canonical);
                firsts.push((target, pattern.shape));
                others.push(Vec::new());
            } else if let Some(list) = others.get_mut(id) {
                list.push((target, pattern.shape));
            }
        };

        let mut keys: FxHashMap<u64, KeyEntry> = FxHashMap::default();
        let mut words = WordKinds::default();
        for &key in common_words() {
            words.add(key, COMMON_WORD);
        }
        for &key in names() {
            words.add(key, NAME);
        }
        let mut fuzzy_terms = FxHashMap::default();
        let mut max_term_words = 1;
        let mut longest = 0;
        for (index, term) in input.terms.iter().enumerate() {
            let index = index as u32;
            let pattern = prepare(term, true);
            let ascii = pattern.canonical.is_ascii();
            if ascii && !pattern.canonical.is_empty() {
                words.add(word_key(&pattern.canonical), EXACT_TERM);
            }
            if ascii && pattern.canonical.len() >= input.min_transposition_len {
                index_deletions(&mut keys, &pattern.canonical, index);
                if let Some((first, last)) = pattern.edge_words() {
                    words.add(word_key(first), EDGE_WORD);
                    words.add(word_key(last), EDGE_WORD);
                    let words = pattern.shape.word_breaks.count_ones() as usize + 1;
                    max_term_words = max_term_words.max(words.min(MAX_WINDOW_WORDS));
                }
                longest = longest.max(pattern.canonical.len());
                fuzzy_terms.insert(
                    index,
                    FuzzyTerm {
                        canonical: pattern.canonical.clone(),
                        multiword: pattern.shape.has_word_breaks(),
                    },
                );
            }
            add(pattern, Target::Term(index));
        }
        for (index, phrase) in input.replica.iter().enumerate() {
            add(prepare(phrase, false), Target::Replica(index as u32));
        }
        for (index, cue) in input.cues.iter().enumerate() {
            add(prepare(cue, false), Target::Cue(index as u32));
        }
        for (concept, keywords) in input.keywords.iter().enumerate() {
            for (index, keyword) in keywords.iter().enumerate() {
                add(
                    prepare(keyword, false),
                    Target::Keyword(concept as u32, index as u32),
                );
            }
        }
        // A contiguous NFA walked by hand from anchored starts (see `find`):
        // compact (about 150 MB less than a DFA at 60,000 terms, whose
        // alphabet swells with the UTF-8 bytes of CJK terms) and fast to build.
        let automaton = contiguous::NFA::builder()
            .match_kind(MatchKind::Standard)
            .build(&canonicals)?;
        let filter = KeyFilter::new(keys.keys().copied(), keys.len());
        let mut extra_targets = Vec::new();
        let mut patterns = Vec::with_capacity(canonicals.len());
        for ((canonical, first), rest) in canonicals.iter().zip(firsts).zip(&others) {
            let extra_start = extra_targets.len() as u32;
            extra_targets.extend_from_slice(rest);
            patterns.push(PatternTargets {
                len: canonical.len() as u32,
                extra: (extra_start, extra_targets.len() as u32),
                first,
            });
        }
        Ok(Matcher {
            automaton,
            prefixes: PrefixFilter::new(&canonicals),
            patterns,
            extra_targets,
            keys,
            filter,
            words: WordTable::new(&words),
            max_term_words,
            fuzzy_terms,
            fuzzy_token_len: (
                input.min_transposition_len.min(input.min_edit_len - 1),
                longest + 1,
            ),
            min_edit_len: input.min_edit_len,
            min_transposition_len: input.min_transposition_len,
        })
    }

    /// Whether a canonical word is an ordinary dictionary word.
    pub(crate) fn is_common_word(&self, canonical: &[u8]) -> bool {
        self.words.kinds(word_key(canonical)) & COMMON_WORD != 0
    }

    /// Every accepted occurrence in `text`, in order of their end.
    pub(crate) fn find(&self, text: &NormalizedText, out: &mut Vec<Occurrence>) {
        let first = out.len();
        // Patterns are only searched for where a word can start (after a
        // separator, at a case or script change, at every CJK character):
        // an anchored walk of the trie from each such position stops after a
        // few bytes when no pattern begins there, which is far cheaper than
        // running the automaton over every byte and rejecting the many hits
        // inside words. The price: a term glued to the end of another word
        // ("cheapnike") is not seen, while "NikeAirMax", "CheapNike" and
        // "nikeairmax" are.
        let Ok(root) = self.automaton.start_state(Anchored::Yes) else {
            return;
        };
        for &(start, _) in &text.starts {
            let start = start as usize;
            let rest = text.canon.get(start..).unwrap_or_default();
            if !self.prefixes.may_start(rest) {
                continue;
            }
            let mut state = root;
            for (depth, &byte) in rest.iter().enumerate() {
                state = self.automaton.next_state(Anchored::Yes, state, byte);
                if self.automaton.is_dead(state) {
                    break;
                }
                if !self.automaton.is_match(state) {
                    continue;
                }
                let end = start + depth + 1;
                for index in 0..self.automaton.match_len(state) {
                    let pattern = self.automaton.match_pattern(state, index);
                    let Some(targets) = self.patterns.get(pattern.as_usize()) else {
                        continue;
                    };
                    // A match state also lists patterns that are suffixes of
                    // the path walked; only those starting here count.
                    if targets.len as usize != depth + 1 {
                        continue;
                    }
                    let (extra_start, extra_end) = targets.extra;
                    let extra = self
                        .extra_targets
                        .get(extra_start as usize..extra_end as usize)
                        .unwrap_or_default();
                    for &(target, shape) in std::iter::once(&targets.first).chain(extra) {
                        if let Some((variant, glued)) = self.accept(text, shape, start, end) {
                            out.push(Occurrence {
                                target,
                                start,
                                end,
                                variant,
                                glued,
                            });
                        }
                    }
                }
            }
        }
        drop_glued_inside_longer_terms(out, first);
        let exact_end = out.len();
        self.find_misspellings(text, out);
        // A misspelling window overlapping a correct spelling of the same
        // term ("Men's New Balance" read as "sNewBalance") is no misspelling.
        let mut index = exact_end;
        while index < out.len() {
            let fuzzy = out.get(index).copied();
            let overlaps = fuzzy.is_some_and(|f| {
                out.get(first..exact_end)
                    .unwrap_or_default()
                    .iter()
                    .any(|o| o.target == f.target && o.start < f.end && f.start < o.end)
            });
            if overlaps {
                out.remove(index);
            } else {
                index += 1;
            }
        }
    }

    /// Decides whether a raw automaton hit is a real occurrence; returns the
    /// variant kind (`Some(None)` for plain) or `None` to reject it.
    fn accept(
        &self,
        text: &NormalizedText,
        shape: Shape,
        start: usize,
        end: usize,
    ) -> Option<(Option<VariantKind>, bool)> {
        let units = &text.units;
        let mut leet = 0;
        let mut separators = false;
        for i in start..end {
            let unit = units.get(i)?;
            let offset = i - start;
            let from_pattern = |mask: u64| offset < 64 && mask & (1 << offset) != 0;
            if unit.flags() & FLAG_LEET != 0 && !from_pattern(shape.digits) {
                leet += 1;
            }
            if i > start && unit.boundary() >= SOFT && !from_pattern(shape.word_breaks) {
                // A space inside a word is only accepted between single
                // letters ("N I K E"); otherwise two real words happen to
                // spell the term ("Pu Ma").
                if unit.boundary() == HARD
                    && !shape.cjk
                    && !single_letter_before(text, i)
                    && !single_letter_at(text, i)
                {
                    return None;
                }
                separators = true;
            }
        }
        // Phrases made of digits ("1:1") are checked digit by digit instead.
        let digit_phrase = shape.digits != 0 && !shape.glue;
        if digit_phrase {
            if !digits_written_as_digits(text, shape, start, end) {
                return None;
            }
        } else if !leet_allowed(leet, end - start) {
            return None;
        }
        let mut glued = false;
        let mut in_longer_word = false;
        if !shape.cjk {
            let starts = text.boundary_at(start) != NO_BOUNDARY;
            let ends = text.word_ends_at(end);
            if !(starts && ends) {
                glued = shape.glue && self.glued_to_words(text, start, end);
                if !glued {
                    return None;
                }
            }
            // Camel case ("NikeAirMax") is a boundary for matching, but the
            // term is still run into other words; a plural "s" or a model
            // number ("iPhone15") is not.
            in_longer_word = (text.boundary_at(start) < SCRIPT
                && !digits_only(text, word_start(text, start), start))
                || (text.boundary_at(end) < SCRIPT
                    && !plural_at(text, end)
                    && !digits_only(text, end, word_end(text, end)));
        }
        let variant = if leet > 0 {
            Some(VariantKind::Leetspeak)
        } else if separators {
            Some(VariantKind::Separators)
        } else if in_longer_word {
            Some(VariantKind::Glued)
        } else {
            None
        };
        Some((variant, glued))
    }

    /// A term glued to other letters counts when what it is glued to reads
    /// as words or digits ("NikeAirMax", "cheapnike", "nike90"), and the
    /// whole is not itself an ordinary word ("applesauce"). Glued to
    /// letters that read as nothing ("Zydexzon"), it is part of another name.
    fn glued_to_words(&self, text: &NormalizedText, start: usize, end: usize) -> bool {
        if end - start < 4 {
            return false;
        }
        let (word_start, word_end) = (word_start(text, start), word_end(text, end));
        let word = text.canon.get(word_start..word_end).unwrap_or_default();
        if self.is_common_word(word) {
            return false;
        }
        (word_start == start || self.reads_as_words(text, word_start, start))
            && (word_end == end || plural_at(text, end) || self.reads_as_words(text, end, word_end))
    }

    /// Whether canonical bytes `start..end` are all digits, or split into
    /// dictionary words and protected terms of three letters or more.
    fn reads_as_words(&self, text: &NormalizedText, start: usize, end: usize) -> bool {
        if digits_only(text, start, end) {
            return true;
        }
        let Some(chunk) = text.canon.get(start..end) else {
            return false;
        };
        if chunk.len() > 32 {
            return false;
        }
        // reachable[i]: chunk[..i] splits into known words.
        let mut reachable = [false; 33];
        reachable[0] = true;
        for i in 0..chunk.len() {
            if !reachable[i] {
                continue;
            }
            let ends = reachable
                .iter_mut()
                .enumerate()
                .take(chunk.len() + 1)
                .skip(i + 3);
            for (j, reached) in ends {
                let known = chunk.get(i..j).is_some_and(|piece| {
                    self.words.kinds(word_key(piece)) & (COMMON_WORD | EXACT_TERM) != 0
                });
                *reached |= known;
            }
        }
        reachable[chunk.len()]
    }

    /// One-edit misspellings of fuzzy-eligible terms, word by word and for
    /// windows of adjacent words (multi-word terms such as "Air Jordn").
    fn find_misspellings(&self, text: &NormalizedText, out: &mut Vec<Occurrence>) {
        let (min_len, max_len) = self.fuzzy_token_len;
        // The starts of the last few ASCII words, and which of them are
        // unknown (bit 0: the current word), for multi-word windows ending
        // at the current one.
        let mut recent = [0; MAX_WINDOW_WORDS];
        let mut unknown_bits = 0u32;
        let mut recent_len = 0;
        let window_bits = (1 << self.max_term_words) - 1;
        // Most texts are ASCII throughout, which spares a test per word.
        let ascii_text = text.canon.is_ascii();
        // Words run between separators or script changes (camel-case steps
        // stay inside a word).
        let mut word_starts = text
            .starts
            .iter()
            .map(|&(start, _)| start as usize)
            .filter(|&start| text.boundary_at(start) >= SCRIPT);
        let mut next = word_starts.next();
        while let Some(start) = next {
            next = word_starts.next();
            let end = next.unwrap_or(text.canon.len());
            let word = text.canon.get(start..end).unwrap_or_default();
            if !ascii_text && !word.is_ascii() {
                recent_len = 0;
                unknown_bits = 0;
                continue;
            }
            // Ordinary words and names are never misspellings ("couch" is
            // not "Coach", "Prado" is not "Prada"); neither are other terms.
            let unknown = self.words.kinds(word_key(word)) & KNOWN == 0;
            if unknown && (min_len..=max_len).contains(&word.len()) {
                self.lookup_misspelling(text, word, start, end, false, out);
            }
            recent.copy_within(1.., 0);
            if let Some(last) = recent.last_mut() {
                *last = start;
            }
            unknown_bits = unknown_bits << 1 | u32::from(unknown);
            recent_len = (recent_len + 1).min(MAX_WINDOW_WORDS);
            // A window needs an unknown word (the misspelt one); rare in
            // ordinary text, so one test on the bits usually skips them all
            // (bits from before a non-ASCII word were cleared).
            if unknown_bits & window_bits != 0 {
                self.window_misspellings(text, &recent, recent_len, unknown_bits, end, out);
            }
        }
    }

    /// Misspelt multi-word terms in the windows of the `recent_len` last
    /// words that end at `end` (see `find_misspellings`).
    #[cold]
    fn window_misspellings(
        &self,
        text: &NormalizedText,
        recent: &[usize; MAX_WINDOW_WORDS],
        recent_len: usize,
        unknown_bits: u32,
        end: usize,
        out: &mut Vec<Occurrence>,
    ) {
        let (min_len, max_len) = self.fuzzy_token_len;
        for size in 2..=recent_len.min(self.max_term_words) {
            // Each window needs an unknown word of its own.
            if unknown_bits & ((1 << size) - 1) == 0 {
                continue;
            }
            let window = recent.get(MAX_WINDOW_WORDS - size..).unwrap_or_default();
            let Some(&first_start) = window.first() else {
                continue;
            };
            // Words follow each other: each ends where the next starts.
            let piece = |i: usize| {
                let piece_end = window.get(i + 1).copied().unwrap_or(end);
                window
                    .get(i)
                    .and_then(|&piece_start| text.canon.get(piece_start..piece_end))
                    .unwrap_or_default()
            };
            if (min_len..=max_len).contains(&(end - first_start))
                && (self.is_edge_word(piece(0)) || self.is_edge_word(piece(size - 1)))
            {
                let mut joined = [0u8; 128];
                let mut len = 0;
                for i in 0..size {
                    let piece = piece(i);
                    if let Some(slot) = joined.get_mut(len..len + piece.len()) {
                        slot.copy_from_slice(piece);
                        len += piece.len();
                    }
                }
                if let Some(joined) = joined.get(..len) {
                    self.lookup_misspelling(text, joined, first_start, end, true, out);
                }
            }
        }
    }

    /// Whether a word begins or ends a multi-word term. A window of words
    /// may hold a misspelt multi-word term when one of its words is unknown
    /// (the misspelt one) and its first or last word is such an edge word
    /// (spelt right). Both are rare in ordinary text, which keeps window
    /// lookups rare.
    fn is_edge_word(&self, word: &[u8]) -> bool {
        self.words.kinds(word_key(word)) & EDGE_WORD != 0
    }

    /// Rare (unknown words only), so kept out of the per-word loop.
    #[cold]
    fn lookup_misspelling(
        &self,
        text: &NormalizedText,
        word: &[u8],
        start: usize,
        end: usize,
        multiword: bool,
        out: &mut Vec<Occurrence>,
    ) {
        let leet = text.units.get(start..end).map_or(0, |units| {
            units.iter().filter(|u| u.flags() & FLAG_LEET != 0).count()
        });
        if !leet_allowed(leet, word.len()) {
            return;
        }
        // The keys of the word and of its one-letter deletions, all tested
        // against the filter before any is looked up: the filter is a few
        // megabytes, and tests that do not wait on one another's cache
        // misses overlap.
        let mut keys = [0u64; 130];
        let mut deleted = [0u8; 128];
        let deletions =
            (0..word.len()).filter_map(|skip| delete_at(&mut deleted, word, skip).map(word_key));
        let mut count = 0;
        for (slot, key) in keys
            .iter_mut()
            .zip(std::iter::once(word_key(word)).chain(deletions))
        {
            *slot = key;
            count += 1;
        }
        let keys = keys.get(..count).unwrap_or_default();
        let mut indexed = [false; 130];
        for (indexed, &key) in indexed.iter_mut().zip(keys) {
            *indexed = self.filter.may_contain(key);
        }
        let mut found: Vec<u32> = Vec::new();
        for (key, _) in keys.iter().zip(indexed).filter(|&(_, indexed)| indexed) {
            let Some(entry) = self.keys.get(key) else {
                continue;
            };
            for &term in &entry.candidates {
                if found.contains(&term) {
                    continue;
                }
                let Some(fuzzy) = self.fuzzy_terms.get(&term) else {
                    continue;
                };
                if fuzzy.multiword != multiword {
                    continue;
                }
                if let Some(edit) = one_edit(word, &fuzzy.canonical) {
                    let long_enough = if edit == Edit::Transposition {
                        fuzzy.canonical.len() >= self.min_transposition_len
                    } else {
                        fuzzy.canonical.len() >= self.min_edit_len
                    };
                    if long_enough {
                        found.push(term);
                    }
                }
            }
        }
        for term in found {
            out.push(Occurrence {
                target: Target::Term(term),
                start,
                end,
                variant: Some(VariantKind::Edit),
                glued: false,
            });
        }
    }
}

/// A one-hash Bloom filter in front of the word index. The index holds
/// hundreds of thousands of keys, so a lookup is a cache miss; most words of
/// a listing are not in it, and 16-bits-per-key filter answers "no" from
/// a table small enough to stay in cache. (A few lines; no crate needed.)
struct KeyFilter {
    bits: Vec<u64>,
    shift: u32,
}

impl KeyFilter {
    fn new(keys: impl Iterator<Item = u64>, count: usize) -> KeyFilter {
        let bit_count = (count.max(1) * 16).next_power_of_two().max(64);
        let mut filter = KeyFilter {
            bits: vec![0; bit_count / 64],
            shift: 64 - bit_count.trailing_zeros(),
        };
        for key in keys {
            let bit = filter.bit(key);
            if let Some(word) = filter.bits.get_mut(bit / 64) {
                *word |= 1 << (bit % 64);
            }
        }
        filter
    }

    fn bit(&self, key: u64) -> usize {
        // Fibonacci hashing spreads FxHash's weak low bits over the table.
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    fn may_contain(&self, key: u64) -> bool {
        let bit = self.bit(key);
        self.bits
            .get(bit / 64)
            .is_some_and(|word| word & (1 << (bit % 64)) != 0)
    }
}

/// Which four canonical bytes some pattern begins with, each byte reduced
/// to its low five bits (exact for letters; other bytes share values, which
/// only lets more through). Most word starts of a listing begin no pattern,
/// and a bit test says so for less than one step of the automaton costs;
/// with four bytes rather than three (128 KiB rather than 4 KiB, still in
/// the second-level cache) it also turns away the half of the remaining
/// starts whose walks ended at the fourth byte.
struct PrefixFilter {
    bits: Vec<u64>,
}

impl PrefixFilter {
    const BYTES: usize = 4;

    fn new(patterns: &[Vec<u8>]) -> PrefixFilter {
        let mut filter = PrefixFilter {
            bits: vec![0; (1 << (5 * Self::BYTES)) / 64],
        };
        for pattern in patterns.iter().filter(|pattern| !pattern.is_empty()) {
            // A pattern shorter than the prefix may be followed by anything:
            // a range of indexes, as the missing bytes are the low bits.
            let known = pattern.len().min(Self::BYTES);
            let free_bits = 5 * (Self::BYTES - known);
            let first = Self::index(pattern) >> free_bits << free_bits;
            for index in first..first + (1 << free_bits) {
                if let Some(word) = filter.bits.get_mut(index / 64) {
                    *word |= 1 << (index % 64);
                }
            }
        }
        filter
    }

    /// The bit of the first four bytes of `text`, with zeros for missing
    /// bytes (which can only let more through: a pattern no longer than the
    /// text set every bit its own bytes lead to).
    fn index(text: &[u8]) -> usize {
        // Usually one four-byte load; only the last word of a text is short.
        let bytes = text
            .first_chunk::<{ Self::BYTES }>()
            .copied()
            .unwrap_or_else(|| {
                let mut bytes = [0; Self::BYTES];
                for (slot, &byte) in bytes.iter_mut().zip(text) {
                    *slot = byte;
                }
                bytes
            });
        bytes
            .iter()
            .fold(0, |index, &byte| index << 5 | usize::from(byte & 31))
    }

    /// Whether a pattern may begin at the start of `text`.
    fn may_start(&self, text: &[u8]) -> bool {
        let index = Self::index(text);
        self.bits
            .get(index / 64)
            .is_none_or(|word| word & (1 << (index % 64)) != 0)
    }
}

/// Kinds of word in a `WordTable`, kept in the low bits of its slots.
const COMMON_WORD: u64 = 1;
const NAME: u64 = 2;
/// Exactly a protected term (written in ASCII).
const EXACT_TERM: u64 = 4;
/// The first or last word of a fuzzy-eligible multi-word term.
const EDGE_WORD: u64 = 8;
const KIND_BITS: u64 = 15;
/// Words that are never misspellings ("couch" is not "Coach", "Prado" is
/// not "Prada"), and neither are other terms.
const KNOWN: u64 = COMMON_WORD | NAME | EXACT_TERM;

/// Word keys (without their kind bits) and their kinds, while building.
#[derive(Default)]
struct WordKinds(FxHashMap<u64, u64>);

impl WordKinds {
    fn add(&mut self, key: u64, kind: u64) {
        *self.0.entry(key & !KIND_BITS).or_default() |= kind;
    }
}

/// Word keys and their kinds, open addressing with linear probing: each
/// slot holds a key whose low bits (the hash's weakest, and four bits of 64)
/// are replaced by the word's kinds. Nearly every word of every listing is
/// looked up here, and that is a multiply and usually one slot, where a
/// general hash map spends several times as many instructions on its
/// probing groups and touches more memory.
struct WordTable {
    /// Zero marks an empty slot; a stored slot has some kind bit set.
    slots: Vec<u64>,
    shift: u32,
}

impl WordTable {
    fn new(words: &WordKinds) -> WordTable {
        // At most half full, so that probe sequences stay short.
        let slot_count = (words.0.len() * 2).next_power_of_two().max(2);
        let mut table = WordTable {
            slots: vec![0; slot_count],
            shift: 64 - slot_count.trailing_zeros(),
        };
        for (&key, &kinds) in &words.0 {
            let mut index = table.home(key);
            while let Some(slot) = table.slots.get_mut(index) {
                if *slot == 0 {
                    *slot = key | kinds;
                    break;
                }
                index = (index + 1) & (slot_count - 1);
            }
        }
        table
    }

    fn home(&self, key: u64) -> usize {
        // Fibonacci hashing, as in `KeyFilter`.
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The kinds of the word with this key; zero for a word not in the table.
    fn kinds(&self, key: u64) -> u64 {
        let key = key & !KIND_BITS;
        let mask = self.slots.len() - 1;
        let mut index = self.home(key);
        loop {
            match self.slots.get(index) {
                Some(&slot) if slot & !KIND_BITS == key => return slot & KIND_BITS,
                Some(0) | None => return 0,
                Some(_) => index = (index + 1) & mask,
            }
        }
    }
}

/// Drops glued brand-term occurrences lying inside a longer term found
/// between word boundaries: in "Zydexzon" the brand is Zydexzon, not Zydex.
fn drop_glued_inside_longer_terms(out: &mut Vec<Occurrence>, first: usize) {
    let found = out.get(first..).unwrap_or_default();
    if !found.iter().any(|o| o.glued) {
        return;
    }
    let inside_longer = |o: &Occurrence| {
        o.glued
            && found.iter().any(|other| {
                matches!(other.target, Target::Term(_))
                    && !other.glued
                    && other.start <= o.start
                    && o.end <= other.end
                    && other.end - other.start > o.end - o.start
            })
    };
    let keep: Vec<bool> = found.iter().map(|o| !inside_longer(o)).collect();
    let mut index = 0;
    out.retain(|_| {
        index += 1;
        index <= first || keep.get(index - first - 1).copied().unwrap_or(true)
    });
}

/// Indexes `canonical` under itself and each of its one-letter deletions.
fn index_deletions(keys: &mut FxHashMap<u64, KeyEntry>, canonical: &[u8], term: u32) {
    let mut seen = FxHashSet::default();
    let mut push = |key: &[u8], keys: &mut FxHashMap<u64, KeyEntry>| {
        let hash = word_key(key);
        if seen.insert(hash) {
            keys.entry(hash).or_default().candidates.push(term);
        }
    };
    push(canonical, keys);
    let mut deleted = [0u8; 128];
    for skip in 0..canonical.len() {
        if let Some(key) = delete_at(&mut deleted, canonical, skip) {
            push(key, keys);
        }
    }
}

fn delete_at<'b>(buffer: &'b mut [u8; 128], word: &[u8], skip: usize) -> Option<&'b [u8]> {
    let len = word.len().checked_sub(1)?;
    let out = buffer.get_mut(..len)?;
    let (before, after) = (word.get(..skip)?, word.get(skip + 1..)?);
    out.get_mut(..skip)?.copy_from_slice(before);
    out.get_mut(skip..)?.copy_from_slice(after);
    Some(out)
}

/// Whether the character ending just before byte `i` stands alone.
fn single_letter_before(text: &NormalizedText, i: usize) -> bool {
    let mut start = i.saturating_sub(1);
    while start > 0
        && text
            .units
            .get(start)
            .is_some_and(|u| u.flags() & FLAG_CONTINUATION != 0)
    {
        start -= 1;
    }
    text.boundary_at(start) >= SOFT
}

/// Whether the character starting at byte `i` stands alone.
fn single_letter_at(text: &NormalizedText, i: usize) -> bool {
    let mut next = i + 1;
    while text
        .units
        .get(next)
        .is_some_and(|u| u.flags() & FLAG_CONTINUATION != 0)
    {
        next += 1;
    }
    text.boundary_at(next) >= SOFT
}

/// Start of the word (between separators or script changes) holding `at`.
fn word_start(text: &NormalizedText, at: usize) -> usize {
    let mut start = at;
    while start > 0 && text.boundary_at(start) < SCRIPT {
        start -= 1;
    }
    start
}

/// End of the word (between separators or script changes) holding `at - 1`.
fn word_end(text: &NormalizedText, at: usize) -> usize {
    let mut end = at;
    while end < text.canon.len() && text.boundary_at(end) < SCRIPT {
        end += 1;
    }
    end
}

/// A plural "s" or "es" ends the word at `end`.
fn plural_at(text: &NormalizedText, end: usize) -> bool {
    matches!(text.canon.get(end..word_end(text, end)), Some(b"s" | b"es"))
}

/// Canonical bytes `start..end` all came from digits.
fn digits_only(text: &NormalizedText, start: usize, end: usize) -> bool {
    text.units
        .get(start..end)
        .is_some_and(|units| units.iter().all(|u| u.flags() & FLAG_LEET != 0))
}

/// Phrases made of digits ("1:1") must be written with those digits and
/// their separators: "II" and "11" are not "1:1".
fn digits_written_as_digits(text: &NormalizedText, shape: Shape, start: usize, end: usize) -> bool {
    (start..end).all(|i| {
        let offset = i - start;
        let bit = |mask: u64| offset < 64 && mask & (1 << offset) != 0;
        let unit_flags = text.units.get(i).map_or(0, |u| u.flags());
        (!bit(shape.digits) || unit_flags & FLAG_LEET != 0)
            && (!bit(shape.word_breaks) || text.boundary_at(i) >= SOFT)
    })
}

/// How many characters of a match may be digits or symbols standing for
/// letters: none in short terms (so "3M" is not "em"), one in four-letter
/// terms ("N1ke"), at most half in longer ones ("G0cc1").
fn leet_allowed(leet: usize, len: usize) -> bool {
    match len {
        0..=3 => leet == 0,
        4 => leet <= 1,
        _ => 2 * leet <= len,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Insertion,
    Deletion,
    Substitution,
    Transposition,
}

/// The single edit that turns `text` into `term`, if exactly one does.
///
/// Written by hand rather than taken from an edit-distance crate because it
/// needs to name the edit and can stop at the first difference in one pass,
/// which a general distance function does not do.
fn one_edit(text: &[u8], term: &[u8]) -> Option<Edit> {
    let prefix = text.iter().zip(term).take_while(|(a, b)| a == b).count();
    let (a, b) = (text.get(prefix..)?, term.get(prefix..)?);
    match a.len() as isize - b.len() as isize {
        0 => {
            if a.is_empty() {
                None
            } else if a.get(1..) == b.get(1..) {
                Some(Edit::Substitution)
            } else if a.len() >= 2
                && a.first() == b.get(1)
                && a.get(1) == b.first()
                && a.get(2..) == b.get(2..)
            {
                Some(Edit::Transposition)
            } else {
                None
            }
        }
        1 => (a.get(1..) == Some(b)).then_some(Edit::Insertion),
        -1 => (b.get(1..) == Some(a)).then_some(Edit::Deletion),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_names_each_kind_of_edit() {
        assert_eq!(one_edit(b"addidas", b"adidas"), Some(Edit::Insertion));
        assert_eq!(one_edit(b"adias", b"adidas"), Some(Edit::Deletion));
        assert_eq!(one_edit(b"gucca", b"gucci"), Some(Edit::Substitution));
        assert_eq!(one_edit(b"nkie", b"nike"), Some(Edit::Transposition));
        assert_eq!(one_edit(b"nike", b"nike"), None);
        assert_eq!(one_edit(b"nkei", b"nike"), None);
        assert_eq!(one_edit(b"adds", b"adidas"), None);
    }

    #[test]
    fn leet_budget_grows_with_term_length() {
        assert!(!leet_allowed(1, 2));
        assert!(leet_allowed(1, 4));
        assert!(!leet_allowed(2, 4));
        assert!(leet_allowed(2, 5));
    }
}
