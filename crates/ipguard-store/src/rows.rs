//! Rows read back from storage.
