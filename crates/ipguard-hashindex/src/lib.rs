//! Near-duplicate index of 256-bit perceptual hashes (being built).
