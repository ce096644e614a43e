//! Text normalisation: one canonical spelling for everything a seller might
//! type to dodge a filter.
//!
//! Each input character is folded (compatibility decomposition, which turns
//! full-width `ａ` into `a`; diacritics dropped; lowercased; non-ASCII
//! lookalikes mapped to their prototype through Unicode's confusables data in
//! `unicode-security`), then mapped to a canonical letter: digits and a few
//! symbols become the letters they stand for (`1`→`i`, `0`→`o`, `@`→`a`) and
//! `l` merges with `i`, because `I`, `l`, `1` and `|` are interchangeable to
//! a reader. Separators are dropped from the canonical text but remembered as
//! boundaries on the next character, so "N.i.k.e" and "N I K E" become `nike`
//! while matches can still be required to start and end on word boundaries.
//!
//! The canonical text is bytes (UTF-8) because the Aho-Corasick automaton
//! runs on bytes; every byte carries a one-byte [`Unit`] (boundary and
//! flags), and a short list of origins leads back to the original
//! characters, so a match can quote the exact text the seller wrote.

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// No boundary: the character continues the previous word.
pub(crate) const NO_BOUNDARY: u8 = 0;
/// A lowercase-to-uppercase step inside a word ("Nike|Air|Max").
pub(crate) const CAMEL: u8 = 1;
/// A change between CJK and other scripts, and every CJK character (those
/// scripts do not separate words, so any character may start one).
pub(crate) const SCRIPT: u8 = 2;
/// Punctuation or symbols ("N.i.k.e", "G-U-C-C-I").
pub(crate) const SOFT: u8 = 3;
/// White space.
pub(crate) const HARD: u8 = 4;

/// The canonical character came from a digit or symbol standing for a letter.
pub(crate) const FLAG_LEET: u8 = 1;
/// The canonical character is CJK.
pub(crate) const FLAG_CJK: u8 = 2;
/// The byte continues a multi-byte canonical character.
pub(crate) const FLAG_CONTINUATION: u8 = 4;

/// What one canonical byte is and what precedes it: the strongest boundary
/// between its character and the previous one (low three bits) and its
/// `FLAG_*` flags (above them). One byte, as one is kept per canonical byte.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unit(u8);

impl Unit {
    /// A byte continuing a word, from a plain letter.
    const PLAIN: Unit = Unit(0);

    fn new(boundary: u8, flags: u8) -> Unit {
        Unit(boundary | flags << 3)
    }

    pub(crate) fn boundary(self) -> u8 {
        self.0 & 7
    }

    pub(crate) fn flags(self) -> u8 {
        self.0 >> 3
    }
}

/// A text in canonical form, with its way back to the original.
#[derive(Debug, Default)]
pub struct NormalizedText {
    pub(crate) canon: Vec<u8>,
    pub(crate) units: Vec<Unit>,
    /// The canonical bytes with a boundary before them (every place a word
    /// can start), so that the matcher visits those rather than every byte:
    /// (canonical offset, offset of the original character).
    pub(crate) starts: Vec<(u32, u32)>,
    /// The same pairs for the canonical bytes whose origin does not follow
    /// from the last pair before them: every byte of a folded non-ASCII
    /// character, and the first byte of an ASCII run that has no boundary.
    /// Canonical byte `i` came from the original character starting at
    /// `o + (i - c)` for the last pair `(c, o)` of either list with
    /// `c <= i`: ASCII characters are copied byte for byte, and a skipped
    /// separator always leaves a boundary, so a pair per word is enough.
    origins: Vec<(u32, u32)>,
}

impl NormalizedText {
    /// The canonical text (lowercase, separators removed, lookalikes folded).
    pub fn canonical(&self) -> &str {
        // The canonical bytes are built only from whole UTF-8 characters.
        std::str::from_utf8(&self.canon).unwrap_or_default()
    }

    /// Boundary class before the canonical byte at `index`; the end of the
    /// text counts as a white-space boundary.
    pub(crate) fn boundary_at(&self, index: usize) -> u8 {
        self.units.get(index).map_or(HARD, |unit| unit.boundary())
    }

    /// True when a word may end just before canonical byte `end`: at a
    /// boundary, or before a plural `s` that itself ends a word ("Nikes").
    pub(crate) fn word_ends_at(&self, end: usize) -> bool {
        self.boundary_at(end) != NO_BOUNDARY
            || (self.canon.get(end) == Some(&b's') && self.boundary_at(end + 1) != NO_BOUNDARY)
    }

    /// Appends one canonical byte from the original character at
    /// `orig_start`.
    fn push_unit(&mut self, byte: u8, unit: Unit, orig_start: u32) {
        let index = self.canon.len() as u32;
        if unit.boundary() != NO_BOUNDARY {
            self.starts.push((index, orig_start));
        }
        self.origins.push((index, orig_start));
        self.canon.push(byte);
        self.units.push(unit);
    }

    /// Where the original character behind canonical byte `index` starts.
    fn orig_start(&self, index: usize) -> Option<usize> {
        if index >= self.canon.len() {
            return None;
        }
        let last_at_or_before = |pairs: &[(u32, u32)]| {
            let after = pairs.partition_point(|&(canon, _)| canon as usize <= index);
            after
                .checked_sub(1)
                .and_then(|last| pairs.get(last))
                .copied()
        };
        let (canon, orig) = match (
            last_at_or_before(&self.starts),
            last_at_or_before(&self.origins),
        ) {
            (Some(start), Some(origin)) => start.max(origin),
            (start, origin) => start.or(origin)?,
        };
        Some(orig as usize + index - canon as usize)
    }

    /// The original text behind the canonical bytes `start..end`.
    pub(crate) fn original<'t>(&self, text: &'t str, start: usize, end: usize) -> &'t str {
        let (Some(first_start), Some(last_start)) =
            (self.orig_start(start), self.orig_start(end.wrapping_sub(1)))
        else {
            return "";
        };
        let last_len = text
            .get(last_start..)
            .and_then(|rest| rest.chars().next())
            .map_or(0, char::len_utf8);
        text.get(first_start..last_start + last_len)
            .unwrap_or_default()
    }
}

/// Copies the lowercase ASCII letters that `from` (ASCII) starts with into
/// `to`, folding `l` into `i`; returns how many. Eight bytes at a time,
/// tested and folded as one `u64`, so the end of a short word is found by
/// counting bits rather than by a byte loop whose exit the processor
/// mispredicts once per word. `to` may receive bytes past the letters,
/// which the caller overwrites or truncates.
fn copy_lowercase(from: &[u8], to: &mut [u8]) -> usize {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut count = 0;
    while let (Some(&source), Some(target)) = (
        from.get(count..).and_then(|rest| rest.first_chunk::<8>()),
        to.get_mut(count..)
            .and_then(|rest| rest.first_chunk_mut::<8>()),
    ) {
        let chunk = u64::from_le_bytes(source);
        // Bytes below 0x80 only, so no sum carries into the next byte: the
        // high bit of each byte is set for `a` and above, and for `{` and
        // above.
        let lowercase = (chunk + 0x1f * LOW) & !(chunk + 0x05 * LOW) & HIGH;
        // A byte equal to `l` turns into zero, the only value whose high
        // bit stays clear once 0x7f is added.
        let not_l = (chunk ^ (u64::from(b'l') * LOW)) + 0x7f * LOW;
        let is_l = !not_l & HIGH;
        *target = (chunk - (is_l >> 7) * u64::from(b'l' - b'i')).to_le_bytes();
        if lowercase != HIGH {
            return count + ((!lowercase & HIGH).trailing_zeros() / 8) as usize;
        }
        count += 8;
    }
    for (slot, &byte) in to.iter_mut().zip(from).skip(count) {
        if !byte.is_ascii_lowercase() {
            break;
        }
        *slot = if byte == b'l' { b'i' } else { byte };
        count += 1;
    }
    count
}

/// Normalises `text` into `out`, reusing its buffers.
pub fn normalize_into(text: &str, out: &mut NormalizedText) {
    out.canon.clear();
    out.units.clear();
    out.starts.clear();
    out.origins.clear();
    out.canon.reserve(text.len());
    out.units.reserve(text.len());
    let table = fold_table();
    let mut state = WordState {
        pending: HARD,
        prev_letter: false,
        prev_lower: false,
        prev_cjk: false,
    };
    let mut scratch = Vec::new();
    let mut offset = 0;
    let bytes = text.as_bytes();
    while let Some(&byte) = bytes.get(offset) {
        if byte.is_ascii() {
            offset = state.push_ascii_run(out, text, offset);
            continue;
        }
        let Some(c) = text.get(offset..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        let end = offset + c.len_utf8();
        let folded = match table.get(c) {
            Some(folded) => folded,
            None => {
                scratch.clear();
                fold_uncached(c, &mut scratch);
                &scratch[..]
            }
        };
        let upper = c.is_uppercase();
        for &f in folded {
            state.push(out, text, offset, end, f, upper);
        }
        offset = end;
    }
}

fn next_is_alphanumeric(text: &str, offset: usize) -> bool {
    text.get(offset..)
        .and_then(|rest| rest.chars().next())
        .is_some_and(char::is_alphanumeric)
}

/// Normalises a text into a fresh buffer.
pub fn normalize(text: &str) -> NormalizedText {
    let mut out = NormalizedText::default();
    normalize_into(text, &mut out);
    out
}

struct WordState {
    pending: u8,
    prev_letter: bool,
    prev_lower: bool,
    prev_cjk: bool,
}

impl WordState {
    /// A separator of the given strength: nothing canonical, only a
    /// boundary before the next character.
    fn separator(&mut self, boundary: u8) {
        self.pending = self.pending.max(boundary);
        self.prev_letter = false;
    }

    /// Normalises the ASCII characters from byte `from` up to the next
    /// non-ASCII one; returns where they end. The common case, without the
    /// general path's Unicode tests.
    fn push_ascii_run(&mut self, out: &mut NormalizedText, text: &str, from: usize) -> usize {
        let rest = text.as_bytes().get(from..).unwrap_or_default();
        // Most texts are ASCII to the end, which a word-at-a-time test tells.
        let run = if rest.is_ascii() {
            rest
        } else {
            let len = rest.iter().position(|b| !b.is_ascii()).unwrap_or_default();
            rest.get(..len).unwrap_or_default()
        };
        // Room for a canonical byte per input byte, written in place: one
        // capacity check per run instead of two per byte, and the units of
        // plain letters (most bytes) need no write at all.
        let base = out.canon.len();
        out.canon.resize(base + run.len(), 0);
        out.units.resize(base + run.len(), Unit::PLAIN);
        // Local slices, which the compiler keeps in registers (a byte
        // written through the vectors themselves could alias their length).
        let canon = out.canon.get_mut(base..).unwrap_or_default();
        let units = out.units.get_mut(base..).unwrap_or_default();
        let mut len = 0;
        let mut read = 0;
        while let Some(&byte) = run.get(read) {
            let offset = from + read;
            read += 1;
            // Between words, before the general decisions.
            if byte == b' ' {
                self.separator(HARD);
                continue;
            }
            let Some((canonical, unit)) = self.ascii_unit(text, offset, byte) else {
                continue;
            };
            if let (Some(slot), Some(unit_slot)) = (canon.get_mut(len), units.get_mut(len)) {
                *slot = canonical;
                *unit_slot = unit;
            }
            let pair = ((base + len) as u32, offset as u32);
            if unit.boundary() != NO_BOUNDARY {
                out.starts.push(pair);
            } else if len == 0 {
                // After a non-ASCII character, whose bytes differ in number.
                out.origins.push(pair);
            }
            len += 1;
            // The lowercase letters after it, most bytes of any listing,
            // continue its word: no boundary, no flag, and an origin that
            // follows from its own.
            let lower = copy_lowercase(
                run.get(read..).unwrap_or_default(),
                canon.get_mut(len..).unwrap_or_default(),
            );
            if lower > 0 {
                self.prev_lower = true;
            }
            len += lower;
            read += lower;
        }
        out.canon.truncate(base + len);
        out.units.truncate(base + len);
        from + read
    }

    /// The canonical byte and unit of one ASCII character, or `None` for a
    /// separator (which only leaves its boundary for the next character).
    fn ascii_unit(&mut self, text: &str, offset: usize, byte: u8) -> Option<(u8, Unit)> {
        let (canonical, leet) = match byte {
            b'a'..=b'z' => (if byte == b'l' { b'i' } else { byte }, false),
            b'A'..=b'Z' => {
                let lower = byte.to_ascii_lowercase();
                (if lower == b'l' { b'i' } else { lower }, false)
            }
            b'0'..=b'9' => (digit_letter(byte as char) as u8, true),
            // "@" and "$" after a letter read as letters even at the end of
            // a word ("Pum@"); "!" and "|" only inside one, as "Nike!" is
            // punctuation.
            b'@' | b'$' if self.prev_letter && self.pending == NO_BOUNDARY => {
                (symbol_letter(byte as char) as u8, true)
            }
            b'!' | b'|'
                if self.prev_letter
                    && self.pending == NO_BOUNDARY
                    && next_is_alphanumeric(text, offset + 1) =>
            {
                (symbol_letter(byte as char) as u8, true)
            }
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => {
                self.separator(HARD);
                return None;
            }
            _ => {
                self.separator(SOFT);
                return None;
            }
        };
        let upper = byte.is_ascii_uppercase();
        let mut boundary = self.pending;
        if boundary == NO_BOUNDARY {
            if self.prev_cjk {
                boundary = SCRIPT;
            } else if upper && self.prev_lower {
                boundary = CAMEL;
            }
        } else if self.prev_cjk {
            boundary = boundary.max(SCRIPT);
        }
        self.pending = NO_BOUNDARY;
        // Digits and symbols read as letters continue a word like letters.
        self.prev_letter = true;
        self.prev_lower = byte.is_ascii_lowercase();
        self.prev_cjk = false;
        Some((
            canonical,
            Unit::new(boundary, if leet { FLAG_LEET } else { 0 }),
        ))
    }

    /// Appends one folded character of the original character at
    /// `text[orig_start..next]`.
    fn push(
        &mut self,
        out: &mut NormalizedText,
        text: &str,
        orig_start: usize,
        next: usize,
        folded: char,
        was_upper: bool,
    ) {
        // The last value: whether `folded` is a letter, found once here (in
        // other scripts that is a table search, and CJK text is all of them).
        let (canonical, leet, letter) = match folded {
            'a'..='z' | 'A'..='Z' => (canonical_letter(folded.to_ascii_lowercase()), false, true),
            '0'..='9' => (digit_letter(folded), true, false),
            // As in `push_ascii`: "@" and "$" after a letter, "!" and "|"
            // only inside a word.
            '@' | '$' if self.prev_letter && self.pending == NO_BOUNDARY => {
                (symbol_letter(folded), true, false)
            }
            '!' | '|'
                if self.prev_letter
                    && self.pending == NO_BOUNDARY
                    && next_is_alphanumeric(text, next) =>
            {
                (symbol_letter(folded), true, false)
            }
            c => {
                let letter = c.is_alphabetic();
                if !letter && !c.is_numeric() {
                    self.separator(if c.is_whitespace() { HARD } else { SOFT });
                    return;
                }
                (c, false, letter)
            }
        };
        let cjk = is_cjk(canonical);
        let mut boundary = self.pending;
        if boundary == NO_BOUNDARY {
            if cjk || cjk != self.prev_cjk {
                boundary = SCRIPT;
            } else if was_upper && self.prev_lower {
                boundary = CAMEL;
            }
        } else if cjk != self.prev_cjk {
            boundary = boundary.max(SCRIPT);
        }
        let mut flags = if leet { FLAG_LEET } else { 0 };
        if cjk {
            flags |= FLAG_CJK;
        }
        let mut utf8 = [0u8; 4];
        for (i, byte) in canonical.encode_utf8(&mut utf8).bytes().enumerate() {
            let unit = if i == 0 {
                Unit::new(boundary, flags)
            } else {
                Unit::new(NO_BOUNDARY, flags | FLAG_CONTINUATION)
            };
            out.push_unit(byte, unit, orig_start as u32);
        }
        self.pending = NO_BOUNDARY;
        // Digits and symbols read as letters continue a word like letters.
        self.prev_letter = leet || letter;
        self.prev_lower = !was_upper && letter;
        self.prev_cjk = cjk;
    }
}

/// `l` and `i` are merged: `I`, `l`, `1` and `|` look alike and sellers swap them.
fn canonical_letter(lower: char) -> char {
    if lower == 'l' { 'i' } else { lower }
}

fn digit_letter(digit: char) -> char {
    match digit {
        '0' => 'o',
        '1' => 'i',
        '2' => 'z',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '6' => 'g',
        '7' => 't',
        '8' => 'b',
        _ => 'g',
    }
}

fn symbol_letter(symbol: char) -> char {
    match symbol {
        '@' => 'a',
        '$' => 's',
        _ => 'i',
    }
}

/// Scripts written without spaces between words, whose terms are found
/// anywhere inside a longer string.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x0E00..=0x0E7F    // Thai
        | 0x20000..=0x2FA1F  // CJK Extensions B and later
    )
}

/// Folds one non-ASCII character: compatibility decomposition without marks
/// (full-width and ligature forms become plain letters), lowercase, the
/// confusables skeleton of whatever is still non-ASCII, and last the
/// committed table of lookalikes the skeleton leaves non-ASCII.
fn fold_uncached(c: char, out: &mut Vec<char>) {
    // Symbols stay separators even where compatibility decomposition would
    // spell them out ("Nike™" is not "NikeTM"); invisible characters such as
    // zero-width spaces become separators too, so they cannot hide a word.
    if !c.is_alphanumeric() && !c.is_whitespace() && !is_combining_mark(c) {
        out.push('-');
        return;
    }
    // A prototype can itself be a lookalike of something plainer once
    // lowercased (ᣭ → ѡ → w), so fold until nothing changes.
    let mut current = vec![c];
    for _ in 0..4 {
        let mut next = Vec::with_capacity(current.len());
        for &d in &current {
            fold_step(d, &mut next);
        }
        if next == current {
            break;
        }
        current = next;
    }
    out.extend(current);
}

fn fold_step(c: char, out: &mut Vec<char>) {
    if c.is_ascii() {
        out.push(c);
        return;
    }
    let mut buf = [0u8; 4];
    let mut decomposed = String::new();
    for d in std::iter::once(c).nfkd() {
        if !is_combining_mark(d) {
            decomposed.extend(d.to_lowercase());
        }
    }
    for d in decomposed.chars() {
        if d.is_ascii() {
            out.push(d);
            continue;
        }
        for s in unicode_security::confusable_detection::skeleton(d.encode_utf8(&mut buf)) {
            if is_combining_mark(s) {
                continue;
            }
            for lower in s.to_lowercase() {
                out.push(lookalike_letter(lower).unwrap_or(lower));
            }
        }
    }
}

fn lookalike_letter(c: char) -> Option<char> {
    static TABLE: OnceLock<Vec<(char, char)>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        include_str!("../data/lookalikes.txt")
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let mut chars = line.split_whitespace().filter_map(|w| w.chars().next());
                Some((chars.next()?, chars.next()?))
            })
            .collect()
    });
    table
        .iter()
        .find(|&&(from, _)| from == c)
        .map(|&(_, to)| to)
}

/// Folding results for the Basic Multilingual Plane, computed once per
/// process: decomposition and the confusables lookup are far too slow to run
/// per character at marketplace volume.
struct FoldTable {
    /// For each BMP code point from 0x80: start and length in `pool`.
    spans: Vec<(u32, u8)>,
    pool: Vec<char>,
}

impl FoldTable {
    fn get(&self, c: char) -> Option<&[char]> {
        let index = (c as usize).checked_sub(0x80)?;
        let &(start, len) = self.spans.get(index)?;
        self.pool.get(start as usize..start as usize + len as usize)
    }
}

fn fold_table() -> &'static FoldTable {
    static TABLE: OnceLock<FoldTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut spans = Vec::with_capacity(0x10000 - 0x80);
        let mut pool = Vec::new();
        let mut folded = Vec::new();
        for code in 0x80u32..0x10000 {
            folded.clear();
            // Surrogate code points are not characters; they fold to nothing.
            if let Some(c) = char::from_u32(code) {
                fold_uncached(c, &mut folded);
            }
            // A handful of ligatures decompose into long strings; keep the
            // first 255 characters, far more than any real expansion.
            folded.truncate(u8::MAX as usize);
            spans.push((pool.len() as u32, folded.len() as u8));
            pool.extend_from_slice(&folded);
        }
        FoldTable { spans, pool }
    })
}

/// Forces the one-off folding table to be built now rather than on the
/// first listing, so that timing the first scan measures scanning.
pub(crate) fn warm_up() {
    fold_table();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        normalize(text).canonical().to_owned()
    }

    #[test]
    fn case_diacritics_and_full_width_fold_to_plain_letters() {
        assert_eq!(canon("NIKE"), "nike");
        assert_eq!(canon("Nïké"), "nike");
        assert_eq!(canon("ａｄｉｄａｓ"), "adidas");
    }

    #[test]
    fn cyrillic_and_greek_lookalikes_fold_to_latin() {
        // Cyrillic а, Greek ο.
        assert_eq!(canon("\u{0430}didas"), "adidas");
        assert_eq!(canon("R\u{03BF}lex"), "roiex");
    }

    #[test]
    fn leetspeak_digits_and_symbols_read_as_letters() {
        assert_eq!(canon("N1ke"), "nike");
        assert_eq!(canon("4didas"), "adidas");
        assert_eq!(canon("N!ke"), "nike");
        assert_eq!(canon("Gucc1"), "gucci");
    }

    #[test]
    fn symbols_outside_words_stay_separators() {
        let text = normalize("Nike! $20");
        assert_eq!(text.canonical(), "nikezo");
        assert_eq!(text.boundary_at(4), HARD);
    }

    #[test]
    fn separators_vanish_but_leave_boundaries() {
        let text = normalize("N.i.k.e G-U-C-C-I");
        assert_eq!(text.canonical(), "nikegucci");
        assert_eq!(text.boundary_at(1), SOFT);
        assert_eq!(text.boundary_at(4), HARD);
    }

    #[test]
    fn camel_case_and_script_changes_are_boundaries() {
        let text = normalize("NikeAir耐克");
        assert_eq!(text.boundary_at(4), CAMEL);
        assert_eq!(text.boundary_at(7), SCRIPT);
        assert_eq!(text.boundary_at(10), SCRIPT);
    }

    #[test]
    fn lowercase_runs_are_copied_and_folded_to_their_end() {
        for text in [
            "",
            "a",
            "lowercase",
            "hello World",
            "allllllllllllz9",
            "abcdefgh",
            "abcdefghI",
        ] {
            let mut to = [0u8; 32];
            let count = copy_lowercase(text.as_bytes(), &mut to);
            let expected: Vec<u8> = text
                .bytes()
                .take_while(u8::is_ascii_lowercase)
                .map(|b| if b == b'l' { b'i' } else { b })
                .collect();
            assert_eq!(to.get(..count), Some(expected.as_slice()), "{text}");
        }
    }

    #[test]
    fn original_text_is_recovered_from_canonical_offsets() {
        let input = "buy Ｎïke now";
        let text = normalize(input);
        assert_eq!(text.original(input, 3, 7), "Ｎïke");
        // A dropped combining mark and skipped separators.
        let input = "ni\u{0307}ke N.i.k.e";
        let text = normalize(input);
        assert_eq!(text.original(input, 0, 4), "ni\u{0307}ke");
        assert_eq!(text.original(input, 2, 6), "ke N.i");
    }
}
