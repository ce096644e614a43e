//! How the 256 bits are split into substrings, and how a query radius is
//! spread over the substring tables.
//!
//! Multi-index hashing rests on the pigeonhole principle in its general form:
//! if the hash is cut into `m` disjoint substrings and each substring `i` is
//! given a search radius `t_i` (with `t_i = -1` meaning "not searched"), then
//! every hash within distance `r` of the query agrees with it to within `t_i`
//! on at least one substring whenever `sum(t_i + 1) = r + 1`. Otherwise every
//! substring would differ by at least `t_i + 1` and the whole hash by at least
//! `r + 1`. Any split of the `r + 1` units is exact; the planner picks the one
//! with the lowest estimated cost, and falls back to a linear scan when that
//! is cheaper still.

/// Largest radius that needs planning: at 256 every hash matches.
pub(crate) const MAX_RADIUS: u32 = 256;

/// One substring: bits `start .. start + width` of the hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Substring {
    pub(crate) start: u32,
    pub(crate) width: u32,
}

/// The geometry of a segment's tables.
///
/// Each table is bucketed by the top `directory_bits` of its substring; the
/// remaining low bits of the substring (the residual, at most
/// `32 - position_bits` of them) are stored in the table entry beside the
/// hash's position, so a bucket can be filtered without touching the hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) substrings: Vec<Substring>,
    pub(crate) directory_bits: u32,
    pub(crate) position_bits: u32,
}

/// Never use more tables than this: each costs 4 bytes per stored hash, and
/// with the 32-byte hash and 8-byte id, 13 tables plus their directories stay
/// under 100 bytes per hash.
pub(crate) const MAX_SUBSTRINGS: usize = 13;
/// Fewer than 8 substrings would make a substring wider than the 32 bits a
/// table key holds.
pub(crate) const MIN_SUBSTRINGS: usize = 8;
/// Positions are stored in 31 bits at most, leaving at least one bit for the
/// residual and keeping every shift below the word size.
pub(crate) const MAX_POSITION_BITS: u32 = 31;
/// Aim for this many entries per directory bucket: large enough that the
/// directory stays a few bytes per hash, small enough that scanning a bucket
/// costs little next to probing it.
const LOG2_BUCKET_ENTRIES: u32 = 4;

impl Layout {
    /// Chooses the layout for `len` stored hashes, or `None` when `len`
    /// positions do not fit the table entries (the segment then scans).
    ///
    /// The number of substrings follows Norouzi et al.: substrings about
    /// `log2(len)` bits wide, so that an exact-match bucket holds about one
    /// hash. `substrings` overrides that choice (clamped to 8..=13).
    pub(crate) fn for_len(len: usize, substrings: Option<usize>) -> Option<Layout> {
        let position_bits = usize::BITS - len.saturating_sub(1).leading_zeros();
        let position_bits = position_bits.max(1);
        if position_bits > MAX_POSITION_BITS {
            return None;
        }
        let log2_len = (len.max(2) as f64).log2();
        let count = substrings
            .unwrap_or_else(|| (256.0 / log2_len).round() as usize)
            .clamp(MIN_SUBSTRINGS, MAX_SUBSTRINGS);
        let narrow = 256 / count as u32;
        let wide_count = 256 % count as u32;
        // Wider substrings come first so that the planner, which breaks cost
        // ties by order, gives larger radii to the more selective tables.
        let mut substrings = Vec::with_capacity(count);
        let mut start = 0;
        for index in 0..count as u32 {
            let width = if index < wide_count {
                narrow + 1
            } else {
                narrow
            };
            substrings.push(Substring { start, width });
            start += width;
        }
        let residual_room = 32 - position_bits;
        let target = position_bits.saturating_sub(LOG2_BUCKET_ENTRIES).max(1);
        // Wide substrings keep `narrow + 1 - directory_bits` residual bits,
        // which must fit beside the position; `residual_room` is at least one,
        // so the lower bound never exceeds `narrow`.
        let directory_bits = target
            .max((narrow + 1).saturating_sub(residual_room))
            .min(narrow);
        Some(Layout {
            substrings,
            directory_bits,
            position_bits,
        })
    }
}

/// Relative costs, in nanoseconds on the development machine, of the steps a
/// query takes. They only have to be right in proportion: they choose how to
/// split the radius and when a linear scan is cheaper.
const COST_PROBE: f64 = 6.0;
const COST_SCAN_ENTRY: f64 = 0.7;
const COST_VERIFY: f64 = 8.0;
const COST_LINEAR_PER_HASH: f64 = 0.9;

/// How a segment answers a query at one radius.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Compare the query with every stored hash.
    Linear,
    /// Search table `i` with radius `radii[i]` (negative: skip the table).
    Tables { radii: Vec<i32> },
}

/// Hamming-ball sizes: `balls.0[n][r]` is the number of `n`-bit values within
/// distance `r` of a given one, for `n` and `r` up to 256, as floats for the
/// cost model.
struct Balls(Vec<Vec<f64>>);

impl Balls {
    fn new() -> Self {
        let size = MAX_RADIUS as usize + 1;
        // Pascal's triangle, then running sums along each row.
        let mut binomials = vec![vec![0.0f64; size]; size];
        for n in 0..size {
            binomials[n][0] = 1.0;
            for k in 1..=n {
                binomials[n][k] = binomials[n - 1][k - 1] + binomials[n - 1][k];
            }
        }
        for row in &mut binomials {
            for k in 1..size {
                row[k] += row[k - 1];
            }
        }
        Balls(binomials)
    }

    fn ball(&self, bits: u32, radius: i32) -> f64 {
        if radius < 0 {
            return 0.0;
        }
        self.0[bits as usize][(radius as usize).min(MAX_RADIUS as usize)]
    }
}

/// Estimated cost of searching one table at `radius`.
fn table_cost(balls: &Balls, layout: &Layout, width: u32, len: f64, radius: i32) -> f64 {
    if radius < 0 {
        return 0.0;
    }
    let directory_bits = layout.directory_bits;
    let probes = balls.ball(directory_bits, radius);
    let scanned = probes * len / f64::from(directory_bits).exp2();
    let candidates = balls.ball(width, radius) * len / f64::from(width).exp2();
    COST_PROBE * probes + COST_SCAN_ENTRY * scanned + COST_VERIFY * candidates
}

/// Plans for every radius from 0 to [`MAX_RADIUS`] over `len` hashes.
pub(crate) fn plans(layout: &Layout, len: usize) -> Vec<Plan> {
    let linear_cost = COST_LINEAR_PER_HASH * len as f64;
    splits(layout, len)
        .into_iter()
        .map(|(radii, cost)| {
            if cost < linear_cost {
                Plan::Tables { radii }
            } else {
                Plan::Linear
            }
        })
        .collect()
}

/// The cheapest table radii for every query radius, with their estimated
/// costs, indexed by radius.
///
/// Radius `r` needs `r + 1` units spread over the tables. The per-table cost
/// is convex in the table's radius, so handing out units one at a time to the
/// table whose cost grows least gives the cheapest split for every radius in
/// one pass. The widths add up to 256, so every radius up to [`MAX_RADIUS`]
/// finds room for all its units.
fn splits(layout: &Layout, len: usize) -> Vec<(Vec<i32>, f64)> {
    let balls = Balls::new();
    let len = len as f64;
    let mut radii = vec![-1i32; layout.substrings.len()];
    let mut total = 0.0;
    let mut splits = Vec::with_capacity(MAX_RADIUS as usize + 1);
    for _ in 0..=MAX_RADIUS {
        let mut best: Option<(usize, f64)> = None;
        for (index, substring) in layout.substrings.iter().enumerate() {
            if radii[index] >= substring.width as i32 {
                continue;
            }
            let cost = |r| table_cost(&balls, layout, substring.width, len, r);
            let increase = cost(radii[index] + 1) - cost(radii[index]);
            if best.is_none_or(|(_, lowest)| increase < lowest) {
                best = Some((index, increase));
            }
        }
        if let Some((index, increase)) = best {
            radii[index] += 1;
            total += increase;
        }
        splits.push((radii.clone(), total));
    }
    splits
}

/// The table radii for `radius` even where a linear scan would be cheaper, so
/// that tests can check the tables at every radius.
#[cfg(test)]
pub(crate) fn table_radii(layout: &Layout, len: usize, radius: u32) -> Vec<i32> {
    splits(layout, len).swap_remove(radius as usize).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substrings_tile_all_256_bits() {
        for len in [10, 5_000, 1_000_000, 10_000_000, 1 << 30] {
            let layout = Layout::for_len(len, None).unwrap();
            let mut next = 0;
            for substring in &layout.substrings {
                assert_eq!(substring.start, next);
                assert!(substring.width <= 32);
                assert!(substring.width >= layout.directory_bits);
                assert!(substring.width - layout.directory_bits <= 32 - layout.position_bits);
                next += substring.width;
            }
            assert_eq!(next, 256);
            assert!(len <= 1 << layout.position_bits);
        }
    }

    #[test]
    fn every_table_plan_spends_exactly_radius_plus_one_units() {
        let layout = Layout::for_len(1_000_000, None).unwrap();
        for (radius, plan) in plans(&layout, 1_000_000).iter().enumerate() {
            if let Plan::Tables { radii } = plan {
                let units: i32 = radii.iter().map(|r| r + 1).sum();
                assert_eq!(units, radius as i32 + 1);
            }
        }
    }

    #[test]
    fn large_radii_fall_back_to_a_linear_scan() {
        let layout = Layout::for_len(1_000_000, None).unwrap();
        let plans = plans(&layout, 1_000_000);
        assert!(matches!(plans[31], Plan::Tables { .. }));
        assert_eq!(plans[200], Plan::Linear);
    }
}
