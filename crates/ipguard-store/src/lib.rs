//! ipguard's storage: one repository layer over SQLite and PostgreSQL.
//!
//! Both backends run the same SQL through sqlx's `Any` driver; the backend is
//! chosen from the URL scheme (`sqlite:PATH` or `postgres://…`) and each has
//! its own versioned migrations under `migrations/`. The schema keeps to
//! types both databases share (BIGINT times in Unix milliseconds, TEXT, 0/1
//! flags), which is what lets one query serve both and one test suite
//! exercise both.
//!
//! Every state change runs in a [`WriteTx`]. SQLite allows one writer at a
//! time, so on SQLite write transactions queue on an in-process gate instead
//! of failing with `SQLITE_BUSY`; PostgreSQL writers run concurrently and
//! serialise only where they touch the same rows (the audit chain's head).
//!
//! This crate holds queries, not policy: the rules come from
//! `ipguard-domain` and the workflows that combine queries live in the
//! service.

pub mod audit;
mod db;
pub mod rows;

pub use db::{Backend, Store, StoreError, WriteTx, now_millis};
