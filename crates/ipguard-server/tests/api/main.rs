//! The API's story, told over HTTP against a real server on a random port.
//!
//! Every test runs against SQLite; set `IPGUARD_TEST_POSTGRES` to a
//! PostgreSQL server URL (e.g. `postgres://postgres@127.0.0.1:5433`) and the
//! same tests run against a fresh PostgreSQL database each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod authorization;
mod bad_input;
mod challenges;
mod detection;
mod images;
mod notices;
mod openapi;
mod penalties;
mod portal;
mod webhooks;
