//! Luminance, the Jarosz tent filter and decimation to 64×64.
//!
//! The reference blurs the full-resolution luminance with two rounds of a
//! horizontal then a vertical running-sum box filter, then samples 64×64
//! points. With [`Arithmetic::Reference`] every float operation here is the
//! reference's, in the reference's order, so the results are bit-identical
//! (a division by a power of two is done as the equal multiplication); only
//! the memory layout differs:
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

use std::ops::Range;

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
    pub arithmetic: Arithmetic,
}

/// How closely the blur follows the reference's float operations.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Arithmetic {
    /// The reference's operations in its order, bit for bit: for pixels
    /// that are the reference's own input.
    Reference,
    /// Running sums updated as `sum + (entering - leaving)`, which halves
    /// the chain of dependent additions, and every division done as a
    /// multiplication by the reciprocal. Each differs from the reference by
    /// a rounding step; for a JPEG's luma plane, which already differs from
    /// the luminance of the RGB the reference hashes by up to a level a
    /// pixel, that is lost in the noise, and it makes the blur much faster.
    Fast,
}

impl Arithmetic {
    /// A running sum's next value as the window moves by one.
    #[inline]
    fn step(self, sum: f32, entering: f32, leaving: f32) -> f32 {
        match self {
            Arithmetic::Reference => (sum + entering) - leaving,
            Arithmetic::Fast => sum + (entering - leaving),
        }
    }
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
/// product to f32 first.)
///
/// That is computed here as `(299 R + 587 G + 114 B) / 1000` in f32, which
/// gives the same bits for every pixel and vectorises: the integer sum is
/// exact, so the f32 division rounds the exact quotient once. The double
/// sum is within a relative 1e-15 of that quotient, and a whole number over
/// 1000 never lies within a relative 3e-11 of a point where f32 rounding
/// changes, so both round to the same f32. A test checks all 2^24 colours.
#[inline]
fn luma(red: u8, green: u8, blue: u8) -> f32 {
    weighted_sum(red, green, blue) / 1000.0
}

/// `299 R + 587 G + 114 B`, exact in f32 (it is below 2^24).
#[inline]
fn weighted_sum(red: u8, green: u8, blue: u8) -> f32 {
    let sum = WEIGHTED.red[usize::from(red)]
        + WEIGHTED.green[usize::from(green)]
        + WEIGHTED.blue[usize::from(blue)];
    sum as f32
}

/// `299 R`, `587 G` and `114 B` by table: three loads from a 3 KiB table
/// are cheaper than widening the bytes and multiplying.
struct WeightTables {
    red: [i32; 256],
    green: [i32; 256],
    blue: [i32; 256],
}

static WEIGHTED: WeightTables = WeightTables {
    red: weights(299),
    green: weights(587),
    blue: weights(114),
};

const fn weights(weight: i32) -> [i32; 256] {
    let mut table = [0; 256];
    let mut value = 0;
    while value < 256 {
        table[value] = weight * value as i32;
        value += 1;
    }
    table
}

/// Writes the luminance of row `row` into `out`, one value per pixel;
/// monomorphised per channel count. Gray is its own luminance, since the
/// weights sum to one.
fn luma_row_with<const CHANNELS: usize>(pixels: &Pixels, row: usize, out: &mut [f32]) {
    let stride = pixels.width * CHANNELS;
    let source = &pixels.data[row * stride..(row + 1) * stride];
    if CHANNELS >= 3 {
        // Four pixels a step, so that the divisions run as one vector.
        let mut quads = out.chunks_exact_mut(4);
        for (quad, pixels) in (&mut quads).zip(source.chunks_exact(4 * CHANNELS)) {
            let sums: [f32; 4] = std::array::from_fn(|i| {
                let pixel = &pixels[i * CHANNELS..];
                weighted_sum(pixel[0], pixel[1], pixel[2])
            });
            quad.copy_from_slice(&sums.map(|sum| sum / 1000.0));
        }
        let rest = quads.into_remainder();
        let done = source.len() / CHANNELS - rest.len();
        for (value, pixel) in rest
            .iter_mut()
            .zip(source[done * CHANNELS..].chunks_exact(CHANNELS))
        {
            *value = luma(pixel[0], pixel[1], pixel[2]);
        }
    } else {
        for (value, pixel) in out.iter_mut().zip(source.chunks_exact(CHANNELS)) {
            *value = f32::from(pixel[0]);
        }
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
    fn subtract(&mut self, index: usize);
    /// Output `index` is the current sums divided by `count`.
    fn emit(&mut self, index: usize, count: usize);
    /// The full-window phase, where nearly all the work is: for each
    /// `index` in `added`, the reference's `sum += in[index]; sum -=
    /// in[index - window];`, then output `index - lag` is the sums divided by
    /// `window`.
    fn slide(&mut self, added: Range<usize>, window: usize, lag: usize);
}

/// The reference's `box1DFloat` phase structure over a line of `length`
/// values: grow the window to its half width, write while it grows to full
/// width, slide it, then shrink it at the far end. The divisor is the number
/// of values in the window.
fn box_filter(length: usize, window: usize, sums: &mut impl RunningSums) {
    let half = (window + 2) / 2;
    let lag = half - 1;
    for index in 0..lag {
        sums.add(index);
    }
    for index in lag..window {
        sums.add(index);
        sums.emit(index - lag, index + 1);
    }
    sums.slide(window..length, window, lag);
    for (shrunk, index) in (length - window..length - window + lag).enumerate() {
        sums.subtract(index);
        sums.emit(index + window - lag, window - shrunk - 1);
    }
}

/// Division by a box filter's window count. With [`Arithmetic::Reference`]
/// it is bit for bit `value / count`: a power of two is applied as a
/// multiplication by its reciprocal, since both round the same exact
/// quotient and a multiplication costs a fraction of a division. (Windows
/// of 8 are what 897- to 1024-pixel sides get.)
#[derive(Clone, Copy)]
enum Divisor {
    Reciprocal(f32),
    Count(f32),
}

impl Divisor {
    fn new(count: usize, arithmetic: Arithmetic) -> Divisor {
        if count.is_power_of_two() || arithmetic == Arithmetic::Fast {
            Divisor::Reciprocal(1.0 / count as f32)
        } else {
            Divisor::Count(count as f32)
        }
    }

    /// `out[i] = sums[i] / count`, with the choice made outside the loop so
    /// that the loop vectorises.
    fn divide_into(self, sums: &[f32], out: &mut [f32]) {
        match self {
            Divisor::Reciprocal(reciprocal) => {
                for (value, sum) in out.iter_mut().zip(sums) {
                    *value = sum * reciprocal;
                }
            }
            Divisor::Count(count) => {
                for (value, sum) in out.iter_mut().zip(sums) {
                    *value = sum / count;
                }
            }
        }
    }
}

/// Which of the 64 sample slots take each output of a filter pass: the
/// sample positions along that dimension, with a cursor, as outputs arrive
/// in increasing order.
struct SampleCursor {
    positions: [usize; SIDE],
    next_slot: usize,
}

impl SampleCursor {
    fn new(length: usize) -> SampleCursor {
        SampleCursor {
            positions: sample_positions(length),
            next_slot: 0,
        }
    }

    /// Calls `store(slot)` for each slot sampling position `index`.
    #[inline]
    fn for_each_slot(&mut self, index: usize, mut store: impl FnMut(usize)) {
        while self.next_slot < SIDE && self.positions[self.next_slot] == index {
            store(self.next_slot);
            self.next_slot += 1;
        }
    }
}

/// One column of a strip: the values of [`STRIP`] consecutive rows.
type Lanes = [f32; STRIP];

/// Where a horizontal pass puts its outputs. `quotients` computes the
/// output's [`STRIP`] values, so that a sink keeping few positions divides
/// only for those.
trait StripSink {
    fn store(&mut self, index: usize, quotients: impl Fn() -> Lanes);
}

/// Keeps every output, in an interleaved strip.
impl StripSink for &mut [Lanes] {
    #[inline]
    fn store(&mut self, index: usize, quotients: impl Fn() -> Lanes) {
        self[index] = quotients();
    }
}

/// Keeps the outputs at the 64 sampled columns.
struct SampledColumns<'a> {
    cursor: SampleCursor,
    out: &'a mut [Lanes; SIDE],
}

impl StripSink for SampledColumns<'_> {
    #[inline]
    fn store(&mut self, index: usize, quotients: impl Fn() -> Lanes) {
        let out = &mut *self.out;
        self.cursor
            .for_each_slot(index, |slot| out[slot] = quotients());
    }
}

/// Running sums along rows, [`STRIP`] rows at a time, one SIMD lane per
/// row: `input[j][lane]` is column `j` of the strip's row `lane`.
struct RowStrip<'a, S: StripSink> {
    input: &'a [Lanes],
    sums: Lanes,
    out: S,
    arithmetic: Arithmetic,
}

impl<S: StripSink> RowStrip<'_, S> {
    /// [`RunningSums::slide`] with the arithmetic and the division given as
    /// closures, so that the loop is compiled once for each, without a
    /// branch inside.
    #[inline]
    fn slide_by(
        &mut self,
        added: Range<usize>,
        window: usize,
        lag: usize,
        step: impl Fn(f32, f32, f32) -> f32,
        divide: impl Fn(f32) -> f32,
    ) {
        let mut sums = self.sums;
        for index in added {
            let (entering, leaving) = (&self.input[index], &self.input[index - window]);
            for lane in 0..STRIP {
                sums[lane] = step(sums[lane], entering[lane], leaving[lane]);
            }
            self.out.store(index - lag, || sums.map(&divide));
        }
        self.sums = sums;
    }
}

impl<S: StripSink> RunningSums for RowStrip<'_, S> {
    #[inline]
    fn add(&mut self, index: usize) {
        for (sum, value) in self.sums.iter_mut().zip(&self.input[index]) {
            *sum += value;
        }
    }

    #[inline]
    fn subtract(&mut self, index: usize) {
        for (sum, value) in self.sums.iter_mut().zip(&self.input[index]) {
            *sum -= value;
        }
    }

    #[inline]
    fn emit(&mut self, index: usize, count: usize) {
        let (sums, count) = (self.sums, count as f32);
        self.out.store(index, || sums.map(|sum| sum / count));
    }

    fn slide(&mut self, added: Range<usize>, window: usize, lag: usize) {
        let reference = |sum, entering, leaving| Arithmetic::Reference.step(sum, entering, leaving);
        let fast = |sum, entering, leaving| Arithmetic::Fast.step(sum, entering, leaving);
        match (self.arithmetic, Divisor::new(window, self.arithmetic)) {
            (Arithmetic::Reference, Divisor::Reciprocal(reciprocal)) => {
                self.slide_by(added, window, lag, reference, |sum| sum * reciprocal)
            }
            (Arithmetic::Reference, Divisor::Count(count)) => {
                self.slide_by(added, window, lag, reference, |sum| sum / count)
            }
            (Arithmetic::Fast, Divisor::Reciprocal(reciprocal)) => {
                self.slide_by(added, window, lag, fast, |sum| sum * reciprocal)
            }
            (Arithmetic::Fast, Divisor::Count(count)) => {
                self.slide_by(added, window, lag, fast, |sum| sum / count)
            }
        }
    }
}

/// Copies `rows` row-major rows of `width` values, `stride` apart, into a
/// strip's lanes. Lanes past `rows` repeat the last row: they only feed
/// outputs that are dropped.
fn rows_to_strip(source: &[f32], stride: usize, rows: usize, strip: &mut [Lanes]) {
    let width = strip.len();
    let lanes: [&[f32]; STRIP] =
        std::array::from_fn(|lane| &source[lane.min(rows - 1) * stride..][..width]);
    for (column, values) in strip.iter_mut().enumerate() {
        *values = std::array::from_fn(|lane| lanes[lane][column]);
    }
}

/// [`rows_to_strip`] straight from gray pixels, which are their own
/// luminance: no row of floats is written and read back.
fn gray_rows_to_strip(pixels: &Pixels, first_row: usize, rows: usize, strip: &mut [Lanes]) {
    let width = pixels.width;
    let lanes: [&[u8]; STRIP] = std::array::from_fn(|lane| {
        &pixels.data[(first_row + lane.min(rows - 1)) * width..][..width]
    });
    for (column, values) in strip.iter_mut().enumerate() {
        *values = std::array::from_fn(|lane| f32::from(lanes[lane][column]));
    }
}

/// Copies the first `rows` lanes of a strip out to row-major rows `stride`
/// apart.
fn strip_to_rows(strip: &[Lanes], stride: usize, rows: usize, out: &mut [f32]) {
    for (lane, row) in out.chunks_mut(stride).take(rows).enumerate() {
        for (value, column) in row.iter_mut().zip(strip) {
            *value = column[lane];
        }
    }
}

/// Where a vertical pass sends each finished row of sums and their divisor.
trait RowSink {
    fn accept(&mut self, row: usize, sums: &[f32], divisor: Divisor);
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
    /// [`STRIP`] rows of luminance, `stride` apart.
    luma: &'a mut [f32],
    /// The luminance interleaved, and the filtered strip.
    strip: &'a mut [Lanes],
    filtered: &'a mut [Lanes],
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
        let (width, height, stride) = (self.pixels.width, self.pixels.height, self.stride);
        while self.produced <= index && self.produced < height {
            let first_row = self.produced;
            let rows = STRIP.min(height - first_row);
            if self.pixels.channels == 1 {
                gray_rows_to_strip(self.pixels, first_row, rows, self.strip);
            } else {
                for (lane, luma) in self.luma.chunks_exact_mut(stride).take(rows).enumerate() {
                    luma_row(self.pixels, first_row + lane, &mut luma[..width]);
                }
                rows_to_strip(self.luma, stride, rows, self.strip);
            }
            box_filter(
                width,
                self.window,
                &mut RowStrip {
                    input: self.strip,
                    sums: [0.0; STRIP],
                    out: &mut *self.filtered,
                    arithmetic: self.pixels.arithmetic,
                },
            );
            let slot = first_row % self.ring_rows;
            strip_to_rows(
                self.filtered,
                stride,
                rows,
                &mut self.ring[slot * stride..(slot + rows) * stride],
            );
            self.produced += rows;
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
    arithmetic: Arithmetic,
}

impl<R: RowSource, S: RowSink> RunningSums for ColumnSums<R, S> {
    fn add(&mut self, index: usize) {
        self.source.prepare(index);
        for (sum, value) in self.sums.iter_mut().zip(self.source.row(index)) {
            *sum += value;
        }
    }

    fn subtract(&mut self, index: usize) {
        for (sum, value) in self.sums.iter_mut().zip(self.source.row(index)) {
            *sum -= value;
        }
    }

    fn emit(&mut self, index: usize, count: usize) {
        self.sink
            .accept(index, &self.sums, Divisor::Count(count as f32));
    }

    fn slide(&mut self, added: Range<usize>, window: usize, lag: usize) {
        let (arithmetic, divisor) = (self.arithmetic, Divisor::new(window, self.arithmetic));
        for index in added {
            self.source.prepare(index);
            let (entering, leaving) = (self.source.row(index), self.source.row(index - window));
            for ((sum, a), s) in self.sums.iter_mut().zip(entering).zip(leaving) {
                *sum = arithmetic.step(*sum, *a, *s);
            }
            self.sink.accept(index - lag, &self.sums, divisor);
        }
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
    arithmetic: Arithmetic,
}

impl RowSink for SecondHorizontalPass<'_> {
    fn accept(&mut self, row: usize, sums: &[f32], divisor: Divisor) {
        let (width, stride) = (self.width, self.stride);
        let lane = row - self.first_row;
        divisor.divide_into(sums, &mut self.rows[lane * stride..][..width]);
        let rows = lane + 1;
        if rows == STRIP || row + 1 == self.height {
            rows_to_strip(self.rows, stride, rows, self.strip);
            let mut sampled = [[0.0; STRIP]; SIDE];
            box_filter(
                width,
                self.window,
                &mut RowStrip {
                    input: self.strip,
                    sums: [0.0; STRIP],
                    out: SampledColumns {
                        cursor: SampleCursor::new(width),
                        out: &mut sampled,
                    },
                    arithmetic: self.arithmetic,
                },
            );
            let first = self.first_row * SIDE;
            strip_to_rows(
                &sampled,
                SIDE,
                rows,
                &mut self.out[first..first + rows * SIDE],
            );
            self.first_row = row + 1;
        }
    }
}

/// Sink of the second vertical pass: keeps only the sampled rows.
struct SampledRows<'a> {
    cursor: SampleCursor,
    out: &'a mut [[f32; SIDE]; SIDE],
}

impl RowSink for SampledRows<'_> {
    fn accept(&mut self, row: usize, sums: &[f32], divisor: Divisor) {
        let out = &mut *self.out;
        self.cursor
            .for_each_slot(row, |slot| divisor.divide_into(sums, &mut out[slot]));
    }
}

/// Buffers reused across calls on one thread, so that hashing many images
/// does not fault in fresh pages for every one.
#[derive(Default)]
pub(crate) struct Scratch {
    luma: Vec<f32>,
    first_strip: Vec<Lanes>,
    filtered_strip: Vec<Lanes>,
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
    reset(&mut scratch.luma, STRIP * stride, 0.0);
    reset(&mut scratch.first_strip, width, [0.0; STRIP]);
    reset(&mut scratch.filtered_strip, width, [0.0; STRIP]);
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
                luma: &mut scratch.luma,
                strip: &mut scratch.first_strip,
                filtered: &mut scratch.filtered_strip,
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
                arithmetic: pixels.arithmetic,
            },
            arithmetic: pixels.arithmetic,
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
                cursor: SampleCursor::new(height),
                out: &mut out,
            },
            arithmetic: pixels.arithmetic,
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
    fn integer_luma_equals_the_bindings_double_precision_luma_for_every_colour() {
        for red in 0..=255u8 {
            for green in 0..=255u8 {
                for blue in 0..=255u8 {
                    let bindings = (f64::from(red) * 0.299
                        + f64::from(green) * 0.587
                        + f64::from(blue) * 0.114) as f32;
                    assert_eq!(
                        luma(red, green, blue).to_bits(),
                        bindings.to_bits(),
                        "{red} {green} {blue}"
                    );
                }
            }
        }
    }

    #[test]
    fn power_of_two_divisors_divide_exactly() {
        for count in 1..=64usize {
            let divisor = Divisor::new(count, Arithmetic::Reference);
            let sums: Vec<f32> = (0..2000)
                .map(|i| (i as f32 * 0.377).sin() * 1e4 + 1e-3)
                .collect();
            let mut out = vec![0.0; sums.len()];
            divisor.divide_into(&sums, &mut out);
            for (sum, quotient) in sums.iter().zip(&out) {
                assert_eq!(
                    quotient.to_bits(),
                    (sum / count as f32).to_bits(),
                    "{sum} / {count}"
                );
            }
        }
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
            rows_to_strip(&flat, length, rows.len(), &mut strip);
            let mut filtered = vec![[0.0; STRIP]; length];
            let mut pass = RowStrip {
                input: &strip,
                sums: [0.0; STRIP],
                out: &mut filtered[..],
                arithmetic: Arithmetic::Reference,
            };
            box_filter(length, window, &mut pass);
            let mut out = vec![0.0; rows.len() * length];
            strip_to_rows(&filtered, length, rows.len(), &mut out);
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
