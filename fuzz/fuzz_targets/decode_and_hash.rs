//! Arbitrary bytes through the whole untrusted-input path: format detection,
//! header checks, decoding and hashing. Any panic, abort or allocation over
//! libFuzzer's limit is a bug; errors are the expected outcome for most
//! inputs.
#![no_main]

use ipguard_pdq::{DecodeLimits, hash_bytes_with_limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Tighter than the defaults so that each run stays fast; the code paths
    // are the same.
    let limits = DecodeLimits {
        max_pixels: 4_000_000,
        max_decoder_bytes: 64 << 20,
        ..DecodeLimits::default()
    };
    if let Ok(result) = hash_bytes_with_limits(data, &limits) {
        assert!(result.quality <= 100);
    }
});
