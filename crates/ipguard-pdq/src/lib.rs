//! PDQ perceptual hashing for ipguard (being built).
