//! Safe decoding of untrusted image bytes into the pixels Pillow's
//! `convert("RGB")` gives, which is what the reference's Python users hash.

use std::io::Cursor;

use image::error::LimitErrorKind;
use image::{DynamicImage, ImageError, ImageFormat, ImageReader};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use crate::downsample::{Arithmetic, Pixels};
use crate::error::PdqError;

/// Bounds on what an untrusted image may make the decoder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest file or upload read, in bytes.
    pub max_file_bytes: u64,
    /// Largest width or height.
    pub max_side: u32,
    /// Largest width × height. Hashing needs about 8 bytes a pixel on top of
    /// the decoded image, so this bounds memory per image in flight.
    pub max_pixels: u64,
    /// Largest allocation the decoder itself may make.
    pub max_decoder_bytes: u64,
}

impl Default for DecodeLimits {
    /// 64 megapixels (e.g. 8000×8000) and 64 MiB files: above any product
    /// photo, below what would let a few hostile files exhaust memory.
    fn default() -> Self {
        DecodeLimits {
            max_file_bytes: 64 << 20,
            max_side: 32_768,
            max_pixels: 64_000_000,
            max_decoder_bytes: 512 << 20,
        }
    }
}

/// Whether a YCbCr JPEG may be decoded to its luma plane only.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum JpegLuma {
    Allowed,
    Forbidden,
}

/// Decodes the first frame of a JPEG, PNG, WebP or GIF, recognised by its
/// content whatever the file was called. No EXIF rotation is applied.
pub(crate) fn decode(
    bytes: &[u8],
    limits: &DecodeLimits,
    jpeg_luma: JpegLuma,
) -> Result<EightBit, PdqError> {
    if bytes.is_empty() {
        return Err(PdqError::Empty);
    }
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(PdqError::FileTooLarge {
            size: bytes.len() as u64,
            limit: limits.max_file_bytes,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| PdqError::UnsupportedFormat)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif
    ) {
        return Err(PdqError::UnsupportedFormat);
    }
    if format == ImageFormat::Jpeg && jpeg_luma == JpegLuma::Allowed {
        if let Some(luma) = decode_jpeg_luma(bytes, limits)? {
            return Ok(luma);
        }
    }

    // Read the header first so that a decompression bomb is refused with its
    // claimed size before anything is allocated for it.
    let (width, height) = reader(bytes, format)
        .into_dimensions()
        .map_err(|error| from_image_error(error, limits))?;
    check_dimensions(width, height, limits)?;

    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    decoder_limits.max_alloc = Some(limits.max_decoder_bytes);
    let mut reader = reader(bytes, format);
    reader.limits(decoder_limits);
    let image = reader
        .decode()
        .map_err(|error| from_image_error(error, limits))?;
    Ok(eight_bit(image))
}

fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), PdqError> {
    if width > limits.max_side
        || height > limits.max_side
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return Err(PdqError::DimensionsTooLarge {
            width,
            height,
            max_side: limits.max_side,
            max_pixels: limits.max_pixels,
        });
    }
    Ok(())
}

/// Decodes only the luma plane of a YCbCr or grayscale JPEG, which is all
/// PDQ looks at: chroma is neither inverse-transformed nor upsampled nor
/// converted, which makes decoding much cheaper. For a YCbCr JPEG, Y is the
/// luminance of the RGB pixels a full decode would give up to their rounding
/// and clipping, so the hash of a well-textured image stays within a few
/// bits of one computed from Pillow's RGB; for nearly flat images, whose
/// bits flip at any change, the caller decodes again in full. Other JPEGs
/// (CMYK, Adobe RGB) return `None` and take the full decode.
fn decode_jpeg_luma(bytes: &[u8], limits: &DecodeLimits) -> Result<Option<EightBit>, PdqError> {
    let corrupt = |error: zune_jpeg::errors::DecodeErrors| PdqError::Corrupt(error.to_string());
    // JPEG sides fit in 16 bits; the decoder's own default cap is lower.
    let options = DecoderOptions::default()
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX))
        .jpeg_set_out_colorspace(ColorSpace::Luma);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(corrupt)?;
    if !matches!(
        decoder.input_colorspace(),
        Some(ColorSpace::YCbCr | ColorSpace::Luma)
    ) {
        return Ok(None);
    }
    let Some(info) = decoder.info() else {
        return Ok(None);
    };
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_dimensions(width, height, limits)?;
    let data = decoder.decode().map_err(corrupt)?;
    if data.len() != width as usize * height as usize {
        return Err(PdqError::Corrupt(
            "the decoder returned the wrong number of pixels".into(),
        ));
    }
    Ok(Some(EightBit {
        data,
        channels: 1,
        width: width as usize,
        height: height as usize,
        luma_only: true,
    }))
}

fn reader(bytes: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(format);
    reader
}

fn from_image_error(error: ImageError, limits: &DecodeLimits) -> PdqError {
    match error {
        ImageError::Unsupported(_) => PdqError::UnsupportedFormat,
        ImageError::Limits(limit) => match limit.kind() {
            LimitErrorKind::InsufficientMemory => PdqError::MemoryLimit(limits.max_decoder_bytes),
            _ => PdqError::Corrupt(limit.to_string()),
        },
        // Reading from memory only fails at the end of the data.
        ImageError::IoError(io) => PdqError::Corrupt(format!("truncated ({io})")),
        other => PdqError::Corrupt(other.to_string()),
    }
}

/// 8-bit pixels with 1 to 4 channels (gray, gray+alpha, RGB, RGBA),
/// row-major without padding.
pub(crate) struct EightBit {
    data: Vec<u8>,
    channels: usize,
    width: usize,
    height: usize,
    /// Only a YCbCr JPEG's luma plane was decoded.
    pub luma_only: bool,
}

impl EightBit {
    pub(crate) fn pixels(&self) -> Pixels<'_> {
        Pixels {
            data: &self.data,
            width: self.width,
            height: self.height,
            channels: self.channels,
            arithmetic: if self.luma_only {
                Arithmetic::Fast
            } else {
                Arithmetic::Reference
            },
        }
    }
}

/// The image's pixels as 8-bit channels the way Pillow reads them: 8-bit
/// layouts as they are (alpha is ignored later, not composited); 16-bit
/// colour keeps the high byte, and 16-bit gray is clipped to 255, which is
/// what Pillow's "I;16" to "RGB" conversion does.
fn eight_bit(image: DynamicImage) -> EightBit {
    let high_byte = |values: &[u16]| values.iter().map(|v| (v >> 8) as u8).collect();
    let (width, height) = (image.width() as usize, image.height() as usize);
    let (data, channels) = match image {
        DynamicImage::ImageLuma8(buffer) => (buffer.into_raw(), 1),
        DynamicImage::ImageLumaA8(buffer) => (buffer.into_raw(), 2),
        DynamicImage::ImageRgb8(buffer) => (buffer.into_raw(), 3),
        DynamicImage::ImageRgba8(buffer) => (buffer.into_raw(), 4),
        DynamicImage::ImageLuma16(buffer) => {
            (buffer.iter().map(|v| (*v).min(255) as u8).collect(), 1)
        }
        DynamicImage::ImageLumaA16(buffer) => (high_byte(buffer.as_raw()), 2),
        DynamicImage::ImageRgb16(buffer) => (high_byte(buffer.as_raw()), 3),
        DynamicImage::ImageRgba16(buffer) => (high_byte(buffer.as_raw()), 4),
        // Float images come from none of the formats enabled here; convert
        // them the image crate's way rather than refuse them.
        other => (other.to_rgb8().into_raw(), 3),
    };
    EightBit {
        data,
        channels,
        width,
        height,
        luma_only: false,
    }
}
