//! Luminance, the Jarosz tent filter and decimation to 64×64.
//!
//! The reference blurs the full-resolution luminance with two rounds of a
//! horizontal then a vertical running-sum box filter, then samples 64×64
//! points. Every float operation here is the reference's, in the reference's
//! order, so the results are bit-identical; only the memory layout differs:
//!
//! * A box filter along a row is a chain of dependent additions, so filtering
//!   one row at a time is bound by add latency. Rows are instead filtered
//!   [`STRIP`] at a time from an interleaved copy, one SIMD lane per row.
//! * The reference filters columns one at a time with a stride of the image
//!   width, which thrashes the cache at power-of-two widths. Columns are
//!   instead filtered all at once, streaming down the rows with one running
//!   sum per column.
//! * Only 64×64 samples survive decimation, so the second round only divides
//!   and stores the sums at sampled columns and rows. The running sums are
//!   still carried through every pixel, because their rounding depends on it.

use std::sync::LazyLock;

/// Rows filtered together along their length, one per SIMD lane.
const STRIP: usize = 8;

/// Side of the decimated image the DCT is taken of.
pub(crate) const SIDE: usize = 64;

/// Decoded 8-bit pixels: gray, gray+alpha, RGB or RGBA, row-major without
/// padding. Alpha is ignored, as Pillow's `convert("RGB")` drops it.
#[derive(Clone, Copy)]
pub(crate) struct Pixels<'a> {
    pub data: &'a [u8],
    pub width: usize,
    pub height: usize,
    pub channels: usize,
}

/// The box filter window along a dimension of `length` pixels, for a 64-pixel
/// result in two passes (the reference's `computeJaroszFilterWindowSize`).
fn window_for(length: usize) -> usize {
    length.div_ceil(2 * SIDE)
}

/// Which full-resolution row (or column) each of the 64 samples comes from:
/// the pixel under the centre of each 64th, computed in double precision as
/// the reference's `decimateFloat` does. Non-decreasing; repeats when the
/// image is under 64 pixels.
fn sample_positions(length: usize) -> [usize; SIDE] {
    let mut positions = [0; SIDE];
    for (k, position) in positions.iter_mut().enumerate() {
        *position = (((k as f64 + 0.5) * length as f64) / SIDE as f64) as usize;
    }
    positions
}

/// Luminance as the `pdqhash` Python bindings compute it: the weighted sum
/// `(0.299 R + 0.587 G) + 0.114 B` in double precision (numpy's float64),
/// rounded once to f32. (The C++ core's own `fillFloatLumaFromRGB` rounds each
/// product to f32 first.) Each product only depends on one 8-bit channel, so
/// the products are looked up rather than multiplied: the same doubles, found
/// faster than converting and multiplying three channels per pixel.
struct LumaTables {
    red: [f64; 256],
    green: [f64; 256],
    blue: [f64; 256],
    /// The whole sum for R = G = B, i.e. gray pixels.
    gray: [f32; 256],
}

static LUMA: LazyLock<LumaTables> = LazyLock::new(|| {
    let red = std::array::from_fn(|v| v as f64 * 0.299);
    let green = std::array::from_fn(|v| v as f64 * 0.587);
    let blue = std::array::from_fn(|v| v as f64 * 0.114);
    let gray = std::array::from_fn(|v| ((red[v] + green[v]) + blue[v]) as f32);
    LumaTables {
        red,
        green,
        blue,
        gray,
    }
});

/// Writes the luminance of row `row` through `out`, one value per pixel;
/// monomorphised per channel count.
fn luma_row_with<'a, const CHANNELS: usize>(
    pixels: &Pixels,
    row: usize,
    out: impl Iterator<Item = &'a mut f32>,
) {
    let tables = &*LUMA;
    let stride = pixels.width * CHANNELS;
    let source = &pixels.data[row * stride..(row + 1) * stride];
    for (value, pixel) in out.zip(source.chunks_exact(CHANNELS)) {
        *value = if CHANNELS >= 3 {
            let red_green = tables.red[usize::from(pixel[0])] + tables.green[usize::from(pixel[1])];
            (red_green + tables.blue[usize::from(pixel[2])]) as f32
        } else {
            tables.gray[usize::from(pixel[0])]
        };
    }
}

fn luma_row<'a>(pixels: &Pixels, row: usize, out: impl Iterator<Item = &'a mut f32>) {
    match pixels.channels {
        1 => luma_row_with::<1>(pixels, row, out),
        2 => luma_row_with::<2>(pixels, row, out),
        3 => luma_row_with::<3>(pixels, row, out),
        _ => luma_row_with::<4>(pixels, row, out),
    }
}

/// The full-resolution luminance, row-major: the reference's input for the
/// 64×64 case, where it skips filtering.
pub(crate) fn luma_64x64(pixels: &Pixels) -> [[f32; SIDE]; SIDE] {
    let mut out = [[0.0; SIDE]; SIDE];
    for (row, values) in out.iter_mut().enumerate() {
        luma_row(pixels, row, values.iter_mut());
    }
    out
}

/// A running-sum state that the box filter's phases drive. Index arguments
/// are positions along the filtered dimension.
trait RunningSums {
    fn add(&mut self, index: usize);
    /// The reference's `sum += in[added]; sum -= in[subtracted];`.
    fn add_and_subtract(&mut self, added: usize, subtracted: usize);
    fn subtract(&mut self, index: usize);
    /// Output `index` is the current sums divided by `count`.
    fn emit(&mut self, index: usize, count: f32);
}

/// The reference's `box1DFloat` phase structure over a line of `length`
/// values: grow the window to its half width, write while it grows to full
/// width, slide it, then shrink it at the far end. `count` is the number of
/// values in the window, the reference's divisor.
fn box_filter(length: usize, window: usize, sums: &mut impl RunningSums) {
    let half = (window + 2) / 2;
    let lag = half - 1;
    let mut count = 0u32;
    for index in 0..lag {
        sums.add(index);
        count += 1;
    }
    for index in lag..window {
        sums.add(index);
        count += 1;
        sums.emit(index - lag, count as f32);
    }
    for index in window..length {
        sums.add_and_subtract(index, index - window);
        sums.emit(index - lag, count as f32);
    }
    for index in length - window..length - window + lag {
        sums.subtract(index);
        count -= 1;
        sums.emit(index + window - lag, count as f32);
    }
}

/// Where filtered values are kept: every position, or only the 64 sampled
/// ones (each sample slot receiving the value at its position).
struct Keep {
    /// `None` keeps every position.
    sample_positions: Option<[usize; SIDE]>,
    next_slot: usize,
}

impl Keep {
    const ALL: Keep = Keep {
        sample_positions: None,
        next_slot: 0,
    };

    fn samples(length: usize) -> Keep {
        Keep {
            sample_positions: Some(sample_positions(length)),
            next_slot: 0,
        }
    }

    /// Calls `store(slot)` for each slot that keeps output `index`. Outputs
    /// arrive in increasing order, so one cursor finds the sample slots.
    #[inline]
    fn for_each_slot(&mut self, index: usize, mut store: impl FnMut(usize)) {
        match &self.sample_positions {
            None => store(index),
            Some(positions) => {
                while self.next_slot < SIDE && positions[self.next_slot] == index {
                    store(self.next_slot);
                    self.next_slot += 1;
                }
            }
        }
    }
}

/// One column of a strip: the values of [`STRIP`] consecutive rows.
type Lanes = [f32; STRIP];

/// Where a horizontal pass stores each kept output slot's [`STRIP`] values.
trait StripSink {
    fn store(&mut self, slot: usize, values: &Lanes);
}

/// Stores into an interleaved strip, slot by slot.
impl StripSink for &mut [Lanes] {
    #[inline]
    fn store(&mut self, slot: usize, values: &Lanes) {
        self[slot] = *values;
    }
}

/// Stores straight into the strip's rows of a row-major image (rows
/// `stride` apart), so that no interleaved copy of the output is made and
/// read back.
struct StripRows<'a> {
    rows: &'a mut [f32],
    stride: usize,
}

impl StripSink for StripRows<'_> {
    #[inline]
    fn store(&mut self, slot: usize, values: &Lanes) {
        for (row, value) in self.rows.chunks_exact_mut(self.stride).zip(values) {
            row[slot] = *value;
        }
    }
}

/// Running sums along rows, [`STRIP`] rows at a time: `input[j][lane]` is
/// column `j` of the strip's row `lane`. Output slot `s` gets the sums at the
/// position(s) `keep` assigns it, divided by the window count.
struct RowStrip<'a, S: StripSink> {
    input: &'a [Lanes],
    sums: Lanes,
    keep: Keep,
    out: S,
}

impl<S: StripSink> RunningSums for RowStrip<'_, S> {
    #[inline]
    fn add(&mut self, index: usize) {
        for (sum, value) in self.sums.iter_mut().zip(&self.input[index]) {
            *sum += value;
        }
    }

    #[inline]
    fn add_and_subtract(&mut self, added: usize, subtracted: usize) {
        let (added, subtracted) = (&self.input[added], &self.input[subtracted]);
        for ((sum, a), s) in self.sums.iter_mut().zip(added).zip(subtracted) {
            *sum += a;
            *sum -= s;
        }
    }

    #[inline]
    fn subtract(&mut self, index: usize) {
        for (sum, value) in self.sums.iter_mut().zip(&self.input[index]) {
            *sum -= value;
        }
    }

    #[inline]
    fn emit(&mut self, index: usize, count: f32) {
        let (sums, out) = (&self.sums, &mut self.out);
        self.keep.for_each_slot(index, |slot| {
            let quotients: Lanes = std::array::from_fn(|lane| sums[lane] / count);
            out.store(slot, &quotients);
        });
    }
}

/// Copies row-major rows, `stride` apart, into a strip's lanes (as many
/// values a row as the strip is long).
fn rows_to_strip(source: &[f32], stride: usize, strip: &mut [Lanes]) {
    for (lane, row) in source.chunks_exact(stride).enumerate() {
        for (column, value) in strip.iter_mut().zip(row) {
            column[lane] = *value;
        }
    }
}

/// Copies a strip's lanes back out to row-major rows `stride` apart.
fn strip_to_rows(strip: &[Lanes], stride: usize, rows: &mut [f32]) {
    for (lane, row) in rows.chunks_exact_mut(stride).enumerate() {
        for (value, column) in row.iter_mut().zip(strip) {
            *value = column[lane];
        }
    }
}

/// Where a vertical pass sends each finished row of `sums / count`.
trait RowSink {
    fn accept(&mut self, row: usize, sums: &[f32], count: f32);
}

/// Rows a vertical pass reads, by index. `prepare(index)` is called before
/// row `index` or any later one is first read.
trait RowSource {
    fn prepare(&mut self, index: usize);
    fn row(&self, index: usize) -> &[f32];
}

/// Rows already stored whole, `stride` apart.
struct StoredRows<'a> {
    data: &'a [f32],
    stride: usize,
    width: usize,
}

impl RowSource for StoredRows<'_> {
    fn prepare(&mut self, _index: usize) {}

    fn row(&self, index: usize) -> &[f32] {
        &self.data[index * self.stride..][..self.width]
    }
}

/// The first horizontal pass, run a strip at a time as the vertical pass
/// reaches new rows, into a ring of rows just big enough for the vertical
/// window. The whole filtered image is never stored, so the vertical pass
/// reads rows that are still in cache.
struct FirstHorizontalPass<'a, 'p> {
    pixels: &'a Pixels<'p>,
    strip: &'a mut [Lanes],
    /// `ring_rows` rows, `stride` apart; row `r` lives in slot `r % ring_rows`.
    ring: &'a mut [f32],
    ring_rows: usize,
    stride: usize,
    window: usize,
    /// Rows filtered so far.
    produced: usize,
}

impl FirstHorizontalPass<'_, '_> {
    /// Rows of ring needed for a vertical window of `column_window`: the
    /// window plus the strip being filtered, in whole strips so that a strip
    /// never wraps around the ring.
    fn ring_rows(column_window: usize) -> usize {
        (column_window + STRIP).next_multiple_of(STRIP)
    }
}

impl RowSource for FirstHorizontalPass<'_, '_> {
    fn prepare(&mut self, index: usize) {
        let (width, height) = (self.pixels.width, self.pixels.height);
        while self.produced <= index && self.produced < height {
            let first_row = self.produced;
            let rows_in_strip = STRIP.min(height - first_row);
            for lane in 0..rows_in_strip {
                let lane_values = self.strip.iter_mut().map(|column| &mut column[lane]);
                luma_row(self.pixels, first_row + lane, lane_values);
            }
            let slot = first_row % self.ring_rows;
            let rows = &mut self.ring[slot * self.stride..(slot + rows_in_strip) * self.stride];
            box_filter(
                width,
                self.window,
                &mut RowStrip {
                    input: self.strip,
                    sums: [0.0; STRIP],
                    keep: Keep::ALL,
                    out: StripRows {
                        rows,
                        stride: self.stride,
                    },
                },
            );
            self.produced += rows_in_strip;
        }
    }

    fn row(&self, index: usize) -> &[f32] {
        let slot = index % self.ring_rows;
        &self.ring[slot * self.stride..][..self.pixels.width]
    }
}

/// Running sums down the columns: one sum per column, streaming over rows.
struct ColumnSums<R: RowSource, S: RowSink> {
    source: R,
    sums: Vec<f32>,
    sink: S,
}

impl<R: RowSource, S: RowSink> RunningSums for ColumnSums<R, S> {
    fn add(&mut self, index: usize) {
        self.source.prepare(index);
        for (sum, value) in self.sums.iter_mut().zip(self.source.row(index)) {
            *sum += value;
        }
    }

    fn add_and_subtract(&mut self, added: usize, subtracted: usize) {
        self.source.prepare(added);
        let (added, subtracted) = (self.source.row(added), self.source.row(subtracted));
        for ((sum, a), s) in self.sums.iter_mut().zip(added).zip(subtracted) {
            *sum += a;
            *sum -= s;
        }
    }

    fn subtract(&mut self, index: usize) {
        for (sum, value) in self.sums.iter_mut().zip(self.source.row(index)) {
            *sum -= value;
        }
    }

    fn emit(&mut self, index: usize, count: f32) {
        self.sink.accept(index, &self.sums, count);
    }
}

/// Sink of the first vertical pass: gathers its rows and, once [`STRIP`] rows
/// (or the last rows) are in, runs the second horizontal pass on them,
/// keeping only the sampled columns. This fuses the two passes so that the
/// first vertical pass's output is never stored whole.
struct SecondHorizontalPass<'a> {
    /// Up to [`STRIP`] finished rows, `stride` apart.
    rows: &'a mut [f32],
    stride: usize,
    strip: &'a mut [Lanes],
    width: usize,
    height: usize,
    window: usize,
    first_row: usize,
    /// Height × 64: the sampled columns of every row.
    out: &'a mut [f32],
}

impl RowSink for SecondHorizontalPass<'_> {
    fn accept(&mut self, row: usize, sums: &[f32], count: f32) {
        let (width, stride) = (self.width, self.stride);
        let lane = row - self.first_row;
        for (value, sum) in self.rows[lane * stride..][..width].iter_mut().zip(sums) {
            *value = sum / count;
        }
        let rows_in_strip = lane + 1;
        if rows_in_strip == STRIP || row + 1 == self.height {
            rows_to_strip(&self.rows[..rows_in_strip * stride], stride, self.strip);
            let mut sampled = [[0.0; STRIP]; SIDE];
            box_filter(
                width,
                self.window,
                &mut RowStrip {
                    input: self.strip,
                    sums: [0.0; STRIP],
                    keep: Keep::samples(width),
                    out: &mut sampled[..],
                },
            );
            let first = self.first_row * SIDE;
            strip_to_rows(
                &sampled,
                SIDE,
                &mut self.out[first..first + rows_in_strip * SIDE],
            );
            self.first_row = row + 1;
        }
    }
}

/// Sink of the second vertical pass: keeps only the sampled rows.
struct SampledRows<'a> {
    keep: Keep,
    out: &'a mut [[f32; SIDE]; SIDE],
}

impl RowSink for SampledRows<'_> {
    fn accept(&mut self, row: usize, sums: &[f32], count: f32) {
        let out = &mut *self.out;
        self.keep.for_each_slot(row, |slot| {
            for (value, sum) in out[slot].iter_mut().zip(sums) {
                *value = sum / count;
            }
        });
    }
}

/// Buffers reused across calls on one thread, so that hashing many images
/// does not fault in fresh pages for every one.
#[derive(Default)]
pub(crate) struct Scratch {
    first_strip: Vec<Lanes>,
    second_strip: Vec<Lanes>,
    rows: Vec<f32>,
    ring: Vec<f32>,
    sampled_columns: Vec<f32>,
}

/// Sizes a scratch buffer. Old contents are left in place: every value read
/// is written first in the same call (or, in unused lanes of a partial strip,
/// only feeds outputs that are dropped).
fn reset<T: Clone>(buffer: &mut Vec<T>, length: usize, value: T) {
    buffer.resize(length, value);
}

/// The distance in floats between rows of a row-major scratch image: at
/// least `width`, and an odd number of 64-byte cache lines, so that the
/// [`STRIP`] rows a strip touches at once never compete for the same cache
/// sets (a power-of-two width otherwise maps them all to one).
fn padded_stride(width: usize) -> usize {
    let lines = width.div_ceil(16);
    (lines | 1) * 16
}

/// Blurs the image's luminance with the reference's two-round Jarosz filter
/// and samples it at 64×64 points. The image must be at least 1×1.
///
/// The four passes run as one pipeline: the first vertical pass pulls rows
/// from the first horizontal pass as it needs them and pushes its rows into
/// the second horizontal pass, which keeps the 64 sampled columns of every
/// row for the second vertical pass.
pub(crate) fn blur_and_decimate(pixels: &Pixels, scratch: &mut Scratch) -> [[f32; SIDE]; SIDE] {
    let (width, height) = (pixels.width, pixels.height);
    let stride = padded_stride(width);
    let row_window = window_for(width);
    let column_window = window_for(height);
    let ring_rows = FirstHorizontalPass::ring_rows(column_window);
    reset(&mut scratch.first_strip, width, [0.0; STRIP]);
    reset(&mut scratch.second_strip, width, [0.0; STRIP]);
    reset(&mut scratch.rows, STRIP * stride, 0.0);
    reset(&mut scratch.ring, ring_rows * stride, 0.0);
    reset(&mut scratch.sampled_columns, height * SIDE, 0.0);

    box_filter(
        height,
        column_window,
        &mut ColumnSums {
            source: FirstHorizontalPass {
                pixels,
                strip: &mut scratch.first_strip,
                ring: &mut scratch.ring,
                ring_rows,
                stride,
                window: row_window,
                produced: 0,
            },
            sums: vec![0.0; width],
            sink: SecondHorizontalPass {
                rows: &mut scratch.rows,
                stride,
                strip: &mut scratch.second_strip,
                width,
                height,
                window: row_window,
                first_row: 0,
                out: &mut scratch.sampled_columns,
            },
        },
    );

    // Round 2 along the 64 sampled columns, keeping the 64 sampled rows.
    let mut out = [[0.0; SIDE]; SIDE];
    box_filter(
        height,
        column_window,
        &mut ColumnSums {
            source: StoredRows {
                data: &scratch.sampled_columns,
                stride: SIDE,
                width: SIDE,
            },
            sums: vec![0.0; SIDE],
            sink: SampledRows {
                keep: Keep::samples(height),
                out: &mut out,
            },
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's `box1DFloat`, written the plain way, to check the
    /// phase driver and the strided layouts against.
    fn reference_box_1d(input: &[f32], window: usize) -> Vec<f32> {
        let half = (window + 2) / 2;
        let mut out = Vec::with_capacity(input.len());
        let (mut sum, mut count, mut right, mut left) = (0.0f32, 0u32, 0, 0);
        for _ in 0..half - 1 {
            sum += input[right];
            right += 1;
            count += 1;
        }
        for _ in 0..window - half + 1 {
            sum += input[right];
            right += 1;
            count += 1;
            out.push(sum / count as f32);
        }
        for _ in 0..input.len() - window {
            sum += input[right];
            sum -= input[left];
            right += 1;
            left += 1;
            out.push(sum / count as f32);
        }
        for _ in 0..half - 1 {
            sum -= input[left];
            left += 1;
            count -= 1;
            out.push(sum / count as f32);
        }
        out
    }

    #[test]
    fn windows_and_sample_positions_follow_the_reference() {
        assert_eq!(window_for(5), 1);
        assert_eq!(window_for(128), 1);
        assert_eq!(window_for(129), 2);
        assert_eq!(window_for(1000), 8);
        assert_eq!(window_for(1024), 8);
        assert_eq!(sample_positions(64), std::array::from_fn(|k| k));
        let small = sample_positions(5);
        assert_eq!((small[0], small[12], small[13], small[63]), (0, 0, 1, 4));
    }

    #[test]
    fn strip_filter_matches_the_one_dimensional_reference() {
        let length = 301;
        let rows: Vec<Vec<f32>> = (0..3)
            .map(|r| {
                (0..length)
                    .map(|j| ((j * 7919 + r * 104_729) % 256) as f32 * 0.731)
                    .collect()
            })
            .collect();
        for window in [1, 2, 3, 8, 9] {
            let mut strip = vec![[0.0; STRIP]; length];
            let flat: Vec<f32> = rows.iter().flatten().copied().collect();
            rows_to_strip(&flat, length, &mut strip);
            let mut out = vec![0.0; rows.len() * length];
            let mut pass = RowStrip {
                input: &strip,
                sums: [0.0; STRIP],
                keep: Keep::ALL,
                out: StripRows {
                    rows: &mut out,
                    stride: length,
                },
            };
            box_filter(length, window, &mut pass);
            for (lane, row) in rows.iter().enumerate() {
                let expected = reference_box_1d(row, window);
                let got = &out[lane * length..(lane + 1) * length];
                assert!(
                    expected
                        .iter()
                        .zip(got)
                        .all(|(e, g)| e.to_bits() == g.to_bits()),
                    "window {window}, row {lane}"
                );
            }
        }
    }
}
