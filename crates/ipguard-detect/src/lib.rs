//! Detection engine for ipguard (being built).
