//! ipguard's domain: the vocabulary of notice-and-takedown and the rules that
//! govern it, as plain types and pure functions.
//!
//! Everything here is deterministic and free of I/O: no database, no HTTP, no
//! clock. Callers pass the current time in, which is what lets the storage
//! and service layers apply the same rules inside their transactions and lets
//! tests exercise deadlines, strike expiry and trust changes without waiting.
//!
//! Every policy number (deadlines, strike weights and expiry, the penalty
//! ladder, trusted-submitter thresholds, abuse sanctions) lives in
//! [`policy::Policy`], which is configuration rather than code.

pub mod audit;
pub mod kinds;
pub mod notice;
pub mod policy;
pub mod reasons;
pub mod rules;
pub mod webhook;

pub use kinds::*;
