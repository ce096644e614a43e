//! Webhook signing and retry schedule.
//!
//! A delivery carries `ipguard-timestamp` and `ipguard-signature` headers;
//! the signature is HMAC-SHA256 over `"{timestamp}.{body}"` with the
//! webhook's secret, hex-encoded, so receivers can check both origin and
//! freshness.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Deliveries are abandoned after this many failed attempts (about two days
/// with the schedule below).
pub const MAX_ATTEMPTS: u32 = 15;

pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Seconds to wait before attempt `attempt` + 1 after `attempt` failures:
/// exponential from 5 s, capped at 6 h.
pub fn backoff_seconds(attempt: u32) -> i64 {
    let exp = attempt.min(20);
    (5_i64 << exp).min(6 * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_depends_on_secret_timestamp_and_body() {
        let base = signature(b"s3cret", 1, b"{}");
        assert_eq!(base.len(), 64);
        assert_ne!(base, signature(b"other", 1, b"{}"));
        assert_ne!(base, signature(b"s3cret", 2, b"{}"));
        assert_ne!(base, signature(b"s3cret", 1, b"{ }"));
    }

    #[test]
    fn backoff_grows_then_caps() {
        assert_eq!(backoff_seconds(0), 5);
        assert_eq!(backoff_seconds(1), 10);
        assert!(backoff_seconds(30) == 6 * 3600);
    }
}
