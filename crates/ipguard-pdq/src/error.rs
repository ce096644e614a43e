//! Why an image could not be hashed.

/// Every way hashing an image can fail. Each is about one input: a caller
/// hashing many files reports it and goes on with the others.
#[derive(Debug, thiserror::Error)]
pub enum PdqError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes, over the {limit}-byte limit")]
    FileTooLarge { size: u64, limit: u64 },
    #[error("not a JPEG, PNG, WebP or GIF image")]
    UnsupportedFormat,
    #[error(
        "the image is {width}x{height} pixels, over the limit of {max_side} pixels a side \
         and {max_pixels} pixels in all"
    )]
    DimensionsTooLarge {
        width: u32,
        height: u32,
        max_side: u32,
        max_pixels: u64,
    },
    #[error("decoding the image would need more than the {0}-byte memory limit")]
    MemoryLimit(u64),
    #[error("corrupt or truncated image: {0}")]
    Corrupt(String),
    #[error("the pixel buffer has {actual} bytes, a {width}x{height} RGB image needs {expected}")]
    PixelBufferSize {
        width: usize,
        height: usize,
        expected: usize,
        actual: usize,
    },
}
