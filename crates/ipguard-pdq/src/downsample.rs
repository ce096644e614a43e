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

/// Rows filtered together along their length, one per SIMD lane.
const STRIP: usize = 16;

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

/// Luminance as the `pdqhash` Python bindings compute it: the weighted sum in
/// double precision (numpy's float64), then rounded once to f32. (The C++
/// core's own `fillFloatLumaFromRGB` rounds each product to f32 first.)
#[inline]
fn luma(r: u8, g: u8, b: u8) -> f32 {
    (f64::from(r) * 0.299 + f64::from(g) * 0.587 + f64::from(b) * 0.114) as f32
}

/// Fills `out` with the luminance of row `row`. Monomorphised per channel
/// count so that the loop vectorises.
fn luma_row_with<const CHANNELS: usize>(pixels: &Pixels, row: usize, out: &mut [f32]) {
    let stride = pixels.width * CHANNELS;
    let source = &pixels.data[row * stride..(row + 1) * stride];
    for (value, pixel) in out.iter_mut().zip(source.chunks_exact(CHANNELS)) {
        *value = if CHANNELS >= 3 {
            luma(pixel[0], pixel[1], pixel[2])
        } else {
            luma(pixel[0], pixel[0], pixel[0])
        };
    }
}

fn luma_row(pixels: &Pixels, row: usize, out: &mut [f32]) {
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
        luma_row(pixels, row, values);
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

/// Running sums along rows, [`STRIP`] rows at a time: `strip[j][lane]` is
/// column `j` of row `first_row + lane`.
struct RowStrip<'a> {
    strip: &'a [[f32; STRIP]],
    sums: [f32; STRIP],
    rows_in_strip: usize,
    keep: Keep,
    /// Row-major output with `out_width` values a row, indexed by slot.
    out: &'a mut [f32],
    out_width: usize,
    first_row: usize,
}

impl RunningSums for RowStrip<'_> {
    #[inline]
    fn add(&mut self, index: usize) {
        for (sum, value) in self.sums.iter_mut().zip(&self.strip[index]) {
            *sum += value;
        }
    }

    #[inline]
    fn add_and_subtract(&mut self, added: usize, subtracted: usize) {
        let (added, subtracted) = (&self.strip[added], &self.strip[subtracted]);
        for ((sum, a), s) in self.sums.iter_mut().zip(added).zip(subtracted) {
            *sum += a;
            *sum -= s;
        }
    }

    #[inline]
    fn subtract(&mut self, index: usize) {
        for (sum, value) in self.sums.iter_mut().zip(&self.strip[index]) {
            *sum -= value;
        }
    }

    #[inline]
    fn emit(&mut self, index: usize, count: f32) {
        let (sums, out, out_width) = (&self.sums, &mut *self.out, self.out_width);
        let (first_row, rows) = (self.first_row, self.rows_in_strip);
        self.keep.for_each_slot(index, |slot| {
            for (lane, sum) in sums.iter().enumerate().take(rows) {
                out[(first_row + lane) * out_width + slot] = sum / count;
            }
        });
    }
}

/// Where a vertical pass sends each finished row of `sums / count`.
trait RowSink {
    fn accept(&mut self, row: usize, sums: &[f32], count: f32);
}

/// Running sums down the columns: one sum per column, streaming over rows.
struct ColumnSums<'a, S: RowSink> {
    input: &'a [f32],
    width: usize,
    sums: Vec<f32>,
    sink: S,
}

impl<S: RowSink> RunningSums for ColumnSums<'_, S> {
    fn add(&mut self, index: usize) {
        let row = &self.input[index * self.width..(index + 1) * self.width];
        for (sum, value) in self.sums.iter_mut().zip(row) {
            *sum += value;
        }
    }

    fn add_and_subtract(&mut self, added: usize, subtracted: usize) {
        let width = self.width;
        let added = &self.input[added * width..(added + 1) * width];
        let subtracted = &self.input[subtracted * width..(subtracted + 1) * width];
        for ((sum, a), s) in self.sums.iter_mut().zip(added).zip(subtracted) {
            *sum += a;
            *sum -= s;
        }
    }

    fn subtract(&mut self, index: usize) {
        let row = &self.input[index * self.width..(index + 1) * self.width];
        for (sum, value) in self.sums.iter_mut().zip(row) {
            *sum -= value;
        }
    }

    fn emit(&mut self, index: usize, count: f32) {
        self.sink.accept(index, &self.sums, count);
    }
}

/// Sink of the first vertical pass: gathers its rows into a strip and, once
/// [`STRIP`] rows (or the last rows) are in, runs the second horizontal pass
/// on them, keeping only the sampled columns. This fuses the two passes so
/// that the first vertical pass's output is never stored whole.
struct SecondHorizontalPass<'a> {
    strip: &'a mut [[f32; STRIP]],
    width: usize,
    height: usize,
    window: usize,
    first_row: usize,
    /// Height × 64, the sampled columns of every row.
    out: &'a mut [f32],
}

impl RowSink for SecondHorizontalPass<'_> {
    fn accept(&mut self, row: usize, sums: &[f32], count: f32) {
        let lane = row - self.first_row;
        for (column, sum) in self.strip.iter_mut().zip(sums) {
            column[lane] = sum / count;
        }
        let rows_in_strip = lane + 1;
        if rows_in_strip == STRIP || row + 1 == self.height {
            let mut pass = RowStrip {
                strip: self.strip,
                sums: [0.0; STRIP],
                rows_in_strip,
                keep: Keep::samples(self.width),
                out: self.out,
                out_width: SIDE,
                first_row: self.first_row,
            };
            box_filter(self.width, self.window, &mut pass);
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
    strip: Vec<[f32; STRIP]>,
    row: Vec<f32>,
    first_pass: Vec<f32>,
    sampled_columns: Vec<f32>,
}

/// Blurs the image's luminance with the reference's two-round Jarosz filter
/// and samples it at 64×64 points. The image must be at least 1×1.
pub(crate) fn blur_and_decimate(pixels: &Pixels, scratch: &mut Scratch) -> [[f32; SIDE]; SIDE] {
    let (width, height) = (pixels.width, pixels.height);
    let row_window = window_for(width);
    let column_window = window_for(height);

    scratch.strip.clear();
    scratch.strip.resize(width, [0.0; STRIP]);
    scratch.row.clear();
    scratch.row.resize(width, 0.0);
    scratch.first_pass.clear();
    scratch.first_pass.resize(width * height, 0.0);
    scratch.sampled_columns.clear();
    scratch.sampled_columns.resize(height * SIDE, 0.0);

    // Round 1, along rows: luminance straight into the interleaved strip.
    for first_row in (0..height).step_by(STRIP) {
        let rows_in_strip = STRIP.min(height - first_row);
        for lane in 0..rows_in_strip {
            luma_row(pixels, first_row + lane, &mut scratch.row);
            for (column, value) in scratch.strip.iter_mut().zip(&scratch.row) {
                column[lane] = *value;
            }
        }
        let mut pass = RowStrip {
            strip: &scratch.strip,
            sums: [0.0; STRIP],
            rows_in_strip,
            keep: Keep::ALL,
            out: &mut scratch.first_pass,
            out_width: width,
            first_row,
        };
        box_filter(width, row_window, &mut pass);
    }

    // Round 1, along columns, feeding round 2 along rows strip by strip.
    let mut columns = ColumnSums {
        input: &scratch.first_pass,
        width,
        sums: vec![0.0; width],
        sink: SecondHorizontalPass {
            strip: &mut scratch.strip,
            width,
            height,
            window: row_window,
            first_row: 0,
            out: &mut scratch.sampled_columns,
        },
    };
    box_filter(height, column_window, &mut columns);

    // Round 2, along the 64 sampled columns, keeping the 64 sampled rows.
    let mut out = [[0.0; SIDE]; SIDE];
    let mut columns = ColumnSums {
        input: &scratch.sampled_columns,
        width: SIDE,
        sums: vec![0.0; SIDE],
        sink: SampledRows {
            keep: Keep::samples(height),
            out: &mut out,
        },
    };
    box_filter(height, column_window, &mut columns);
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
            for (lane, row) in rows.iter().enumerate() {
                for (column, value) in strip.iter_mut().zip(row) {
                    column[lane] = *value;
                }
            }
            let mut out = vec![0.0; rows.len() * length];
            let mut pass = RowStrip {
                strip: &strip,
                sums: [0.0; STRIP],
                rows_in_strip: rows.len(),
                keep: Keep::ALL,
                out: &mut out,
                out_width: length,
                first_row: 0,
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
