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
//!
//! The same argument with more units shows when every such hash turns up in
//! at least two tables: if at most one table found it, all the others differ
//! by at least `t_i + 1`, so the units outside the largest table's
//! `t_i + 1` must add up to at least `r + 1`. Seventeen 15-bit substrings at
//! radius 1 each do that for `r = 31`: 16 × 2 = 32.

use crate::DEFAULT_RADIUS;

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

/// Never use more tables than this: 17 tables of 15-bit substrings are the
/// narrowest that still find every match at [`DEFAULT_RADIUS`] twice with
/// radius 1 each, and wider tables cost more than they save.
pub(crate) const MAX_SUBSTRINGS: usize = 17;
/// The default layout's tables take at most this many bytes per stored
/// hash, so that with the 32-byte hash, the 8-byte id and a pending delta
/// the index stays under 100 bytes per hash.
const MAX_TABLE_BYTES_PER_HASH: f64 = 54.0;
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
    /// The number of substrings is the one whose plan at
    /// [`DEFAULT_RADIUS`] the cost model expects to be fastest, among those
    /// whose tables fit [`MAX_TABLE_BYTES_PER_HASH`]. Norouzi et al. found
    /// substrings about `log2(len)` bits wide best (13 tables at a million
    /// hashes); counting candidates found twice (see [`plans`]) favours
    /// narrower ones (17 tables of 15 bits at a million). `substrings`
    /// overrides the choice (clamped to 8..=17).
    pub(crate) fn for_len(len: usize, substrings: Option<usize>) -> Option<Layout> {
        if let Some(count) = substrings {
            return Self::with_substrings(len, count.clamp(MIN_SUBSTRINGS, MAX_SUBSTRINGS));
        }
        let cost = |layout: &Layout| {
            Planner::new(layout, len)
                .cheapest(DEFAULT_RADIUS)
                .map_or(f64::INFINITY, |(cost, _)| cost)
        };
        (MIN_SUBSTRINGS..=MAX_SUBSTRINGS)
            .filter_map(|count| Self::with_substrings(len, count))
            .filter(|layout| layout.table_bytes_per_hash(len) <= MAX_TABLE_BYTES_PER_HASH)
            .map(|layout| (cost(&layout), layout))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, layout)| layout)
            .or_else(|| Self::with_substrings(len, MIN_SUBSTRINGS))
    }

    /// The layout with `count` substrings for `len` stored hashes.
    fn with_substrings(len: usize, count: usize) -> Option<Layout> {
        let position_bits = usize::BITS - len.saturating_sub(1).leading_zeros();
        let position_bits = position_bits.max(1);
        if position_bits > MAX_POSITION_BITS {
            return None;
        }
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

    /// Heap bytes of the tables (entries and directories) per stored hash.
    pub(crate) fn table_bytes_per_hash(&self, len: usize) -> f64 {
        let directory = f64::from(self.directory_bits).exp2() * 4.0 / len.max(1) as f64;
        self.substrings.len() as f64 * (self.entry_bytes() as f64 + directory)
    }

    /// Bytes per table entry: the position and the widest residual, rounded
    /// up to whole bytes, 3 or 4 (smaller layouts have no tables).
    pub(crate) fn entry_bytes(&self) -> usize {
        let widest = self
            .substrings
            .iter()
            .map(|substring| substring.width)
            .max();
        let residual_bits = widest.unwrap_or(0).saturating_sub(self.directory_bits);
        (self.position_bits + residual_bits).div_ceil(8).clamp(3, 4) as usize
    }
}

/// Relative costs, in nanoseconds on the development machine, of the steps a
/// query takes. They only have to be right in proportion: they choose how to
/// split the radius, whether to count candidates, and when a linear scan is
/// cheaper.
const COST_PROBE: f64 = 6.0;
const COST_SCAN_ENTRY: f64 = 0.7;
/// Marking a candidate's position in a bitmap that stays in the L2 cache.
const COST_COUNT: f64 = 1.5;
/// Fetching a candidate's hash from memory and comparing it.
const COST_VERIFY: f64 = 8.0;
const COST_LINEAR_PER_HASH: f64 = 0.9;

/// How a segment answers a query at one radius.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Compare the query with every stored hash.
    Linear,
    /// Search table `i` with radius `radii[i]` (negative: skip the table).
    /// Every hash within the query radius turns up in at least `found_by`
    /// tables (1 or 2); with 2, only positions that turn up twice are
    /// verified.
    Tables { radii: Vec<i32>, found_by: u32 },
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

/// Expected work of searching one table at `radius` over `len` random hashes.
struct TableWork {
    probes: f64,
    scanned: f64,
    candidates: f64,
}

impl TableWork {
    fn new(balls: &Balls, layout: &Layout, width: u32, len: f64, radius: i32) -> Self {
        let directory_bits = layout.directory_bits;
        let probes = balls.ball(directory_bits, radius);
        TableWork {
            probes,
            scanned: probes * len / f64::from(directory_bits).exp2(),
            candidates: balls.ball(width, radius) * len / f64::from(width).exp2(),
        }
    }

    /// Cost of finding the candidates, plus `per_candidate` for each.
    fn cost(&self, per_candidate: f64) -> f64 {
        COST_PROBE * self.probes + COST_SCAN_ENTRY * self.scanned + per_candidate * self.candidates
    }
}

/// Plans for every radius from 0 to [`MAX_RADIUS`] over `len` hashes.
pub(crate) fn plans(layout: &Layout, len: usize) -> Vec<Plan> {
    let planner = Planner::new(layout, len);
    let linear_cost = COST_LINEAR_PER_HASH * len as f64;
    (0..=MAX_RADIUS)
        .map(|radius| match planner.cheapest(radius) {
            Some((cost, plan)) if cost < linear_cost => plan,
            _ => Plan::Linear,
        })
        .collect()
}

/// Chooses how to search a layout's tables.
///
/// Two ways to use the tables compete. With `r + 1` units of table radius
/// (see the module comment) every match turns up in at least one table, and
/// every candidate is verified against its hash: one random memory access
/// each. With enough units that a match turns up in at least two tables
/// (the units outside the largest table's reach `r + 1`), a candidate that
/// turns up only once cannot match, so only the few that turn up twice are
/// verified; the other candidates cost only a bit in a bitmap. That needs
/// more units, and wins when candidates are many, as with narrow substrings.
struct Planner<'a> {
    balls: Balls,
    layout: &'a Layout,
    len: f64,
    /// The cheapest radii for each number of units, when candidates are
    /// verified and when they are counted.
    verified: Vec<Vec<i32>>,
    counted: Vec<Vec<i32>>,
}

impl<'a> Planner<'a> {
    fn new(layout: &'a Layout, len: usize) -> Self {
        let balls = Balls::new();
        let len = len as f64;
        let verified = splits(&balls, layout, len, COST_VERIFY);
        let counted = splits(&balls, layout, len, COST_COUNT);
        Planner {
            balls,
            layout,
            len,
            verified,
            counted,
        }
    }

    /// The cheaper table plan for `radius`, with its estimated cost.
    fn cheapest(&self, radius: u32) -> Option<(f64, Plan)> {
        let units = radius as usize + 1;
        let works = |radii| table_work(&self.balls, self.layout, self.len, radii);
        let found_once = self.verified.get(units).map(|radii| {
            let cost = works(radii).map(|work| work.cost(COST_VERIFY)).sum();
            (cost, radii, 1)
        });
        let found_twice = self
            .counted
            .iter()
            .find(|radii| units_outside_largest(radii) >= units)
            .map(|radii| {
                // A random hash is a candidate of table i with probability
                // p_i, and turns up twice with probability about
                // (sum p_i)^2 / 2.
                let share: f64 = works(radii).map(|work| work.candidates / self.len).sum();
                let cost = works(radii).map(|work| work.cost(COST_COUNT)).sum::<f64>()
                    + COST_VERIFY * self.len * share * share / 2.0;
                (cost, radii, 2)
            });
        [found_once, found_twice]
            .into_iter()
            .flatten()
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(cost, radii, found_by)| {
                let radii = radii.clone();
                (cost, Plan::Tables { radii, found_by })
            })
    }
}

fn table_work<'a>(
    balls: &'a Balls,
    layout: &'a Layout,
    len: f64,
    radii: &'a [i32],
) -> impl Iterator<Item = TableWork> + 'a {
    layout
        .substrings
        .iter()
        .zip(radii)
        .map(move |(substring, &radius)| {
            TableWork::new(balls, layout, substring.width, len, radius)
        })
}

/// Units of table radius spent outside the table with the most: a hash
/// within a query radius below this turns up in at least two tables.
fn units_outside_largest(radii: &[i32]) -> usize {
    let units = radii.iter().map(|&radius| (radius + 1) as usize);
    units.clone().sum::<usize>() - units.max().unwrap_or(0)
}

/// The cheapest table radii for every number of units, indexed by units
/// (0 to 256 + tables, when every table covers its whole substring), with
/// each candidate costing `per_candidate`.
///
/// The per-table cost is convex in the table's radius, so handing out units
/// one at a time to the table whose cost grows least gives the cheapest split
/// for every number of units in one pass.
fn splits(balls: &Balls, layout: &Layout, len: f64, per_candidate: f64) -> Vec<Vec<i32>> {
    let mut radii = vec![-1i32; layout.substrings.len()];
    let mut splits = vec![radii.clone()];
    loop {
        let mut best: Option<(usize, f64)> = None;
        for (index, substring) in layout.substrings.iter().enumerate() {
            if radii[index] >= substring.width as i32 {
                continue;
            }
            let cost =
                |r| TableWork::new(balls, layout, substring.width, len, r).cost(per_candidate);
            let increase = cost(radii[index] + 1) - cost(radii[index]);
            if best.is_none_or(|(_, lowest)| increase < lowest) {
                best = Some((index, increase));
            }
        }
        let Some((index, _)) = best else {
            return splits;
        };
        radii[index] += 1;
        splits.push(radii.clone());
    }
}

/// The table radii for `radius` even where a linear scan would be cheaper, so
/// that tests can check the tables at every radius.
#[cfg(test)]
pub(crate) fn table_radii(
    layout: &Layout,
    len: usize,
    radius: u32,
    found_by: u32,
) -> Option<Vec<i32>> {
    let balls = Balls::new();
    let units = radius as usize + 1;
    if found_by == 1 {
        splits(&balls, layout, len as f64, COST_VERIFY)
            .get(units)
            .cloned()
    } else {
        splits(&balls, layout, len as f64, COST_COUNT)
            .into_iter()
            .find(|radii| units_outside_largest(radii) >= units)
    }
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
    fn every_table_plan_has_the_units_its_guarantee_needs() {
        for len in [1_000_000, 10_000_000] {
            for substrings in [None, Some(13), Some(17)] {
                let layout = Layout::for_len(len, substrings).unwrap();
                for (radius, plan) in plans(&layout, len).iter().enumerate() {
                    match plan {
                        Plan::Tables { radii, found_by: 1 } => {
                            let units: i32 = radii.iter().map(|r| r + 1).sum();
                            assert_eq!(units, radius as i32 + 1);
                        }
                        Plan::Tables { radii, found_by } => {
                            assert_eq!(*found_by, 2);
                            assert!(units_outside_largest(radii) > radius);
                        }
                        Plan::Linear => {}
                    }
                }
            }
        }
    }

    #[test]
    fn default_layouts_fit_the_memory_budget() {
        for len in [5_000, 100_000, 1_000_000, 4_000_000, 10_000_000, 50_000_000] {
            let layout = Layout::for_len(len, None).unwrap();
            assert!(
                layout.table_bytes_per_hash(len) <= MAX_TABLE_BYTES_PER_HASH,
                "{len}"
            );
        }
        // Measured fastest at a million hashes (bench/RESULTS.md).
        let layout = Layout::for_len(1_000_000, None).unwrap();
        assert_eq!(layout.substrings.len(), 17);
        assert!(matches!(
            &plans(&layout, 1_000_000)[DEFAULT_RADIUS as usize],
            Plan::Tables { found_by: 2, .. }
        ));
    }

    #[test]
    fn large_radii_fall_back_to_a_linear_scan() {
        let layout = Layout::for_len(1_000_000, None).unwrap();
        let plans = plans(&layout, 1_000_000);
        assert!(matches!(plans[31], Plan::Tables { .. }));
        assert_eq!(plans[200], Plan::Linear);
    }
}
