//! Use cases: each runs one workflow inside the caller's write transaction,
//! writing its audit entries and outbox notifications in that same
//! transaction so that a change and its record commit or vanish together.

pub mod challenges;
pub mod decisions;
pub mod detection;
pub mod findings;
pub mod images;
pub mod notices;
pub mod notify;
pub mod penalties;
pub mod trust;

use chrono::{DateTime, TimeZone, Utc};

pub fn to_datetime(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

pub fn rfc3339(millis: i64) -> String {
    to_datetime(millis).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
