//! The audit log's hash chain.
//!
//! Each entry's hash covers its own fields and the previous entry's hash, so
//! changing, removing or reordering any stored row breaks every hash after
//! it. Verification recomputes the chain from the first row and names the
//! first entry that does not match.

use sha2::{Digest, Sha256};

/// The hash the first entry chains from.
pub const GENESIS: [u8; 32] = [0; 32];

/// One audit entry as stored. `before` and `after` are JSON snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    /// Unix milliseconds.
    pub at: i64,
    /// Who acted, e.g. `user:12`, `system`, `anonymous:notice:7`.
    pub actor: String,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub before: String,
    pub after: String,
}

impl AuditEntry {
    /// The chained hash of this entry following `prev`.
    pub fn chain_hash(&self, prev: &[u8; 32]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(prev);
        hasher.update(self.seq.to_be_bytes());
        hasher.update(self.at.to_be_bytes());
        // Length prefixes keep field boundaries unambiguous: ("ab","c") and
        // ("a","bc") must not hash alike.
        for field in [
            &self.actor,
            &self.action,
            &self.object_kind,
            &self.object_id,
            &self.before,
            &self.after,
        ] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        hasher.finalize().into()
    }
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error(
        "audit entry {seq}: expected sequence number {expected} (a row was removed or reordered)"
    )]
    Gap { seq: i64, expected: i64 },
    #[error("audit entry {seq}: its previous-hash does not match entry {}", seq - 1)]
    BrokenLink { seq: i64 },
    #[error("audit entry {seq}: its content does not match its hash (the row was altered)")]
    Altered { seq: i64 },
    #[error(
        "audit log head says {head} entries but {found} were found (rows were removed at the end)"
    )]
    Truncated { head: i64, found: i64 },
}

/// Incremental verifier, so a large log is checked while it streams from storage.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev: [u8; 32],
    next_seq: i64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            prev: GENESIS,
            next_seq: 1,
        }
    }
}

impl ChainVerifier {
    /// Checks the next stored entry with its stored `prev_hash` and `hash`.
    pub fn check(
        &mut self,
        entry: &AuditEntry,
        prev_hash: &[u8; 32],
        hash: &[u8; 32],
    ) -> Result<(), ChainError> {
        if entry.seq != self.next_seq {
            return Err(ChainError::Gap {
                seq: entry.seq,
                expected: self.next_seq,
            });
        }
        if prev_hash != &self.prev {
            return Err(ChainError::BrokenLink { seq: entry.seq });
        }
        if &entry.chain_hash(prev_hash) != hash {
            return Err(ChainError::Altered { seq: entry.seq });
        }
        self.prev = *hash;
        self.next_seq += 1;
        Ok(())
    }

    /// Checks the log's head (the last sequence number and hash recorded
    /// separately) against what was read, which catches rows deleted from the end.
    pub fn finish(self, head_seq: i64, head_hash: &[u8; 32]) -> Result<i64, ChainError> {
        let found = self.next_seq - 1;
        if head_seq != found || (found > 0 && head_hash != &self.prev) {
            return Err(ChainError::Truncated {
                head: head_seq,
                found,
            });
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, after: &str) -> AuditEntry {
        AuditEntry {
            seq,
            at: 1_700_000_000_000 + seq,
            actor: "user:1".into(),
            action: "notice.filed".into(),
            object_kind: "notice".into(),
            object_id: seq.to_string(),
            before: "null".into(),
            after: after.into(),
        }
    }

    fn chain(n: i64) -> Vec<(AuditEntry, [u8; 32], [u8; 32])> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let e = entry(seq, "{}");
                let hash = e.chain_hash(&prev);
                let row = (e, prev, hash);
                prev = hash;
                row
            })
            .collect()
    }

    fn verify(rows: &[(AuditEntry, [u8; 32], [u8; 32])]) -> Result<(), ChainError> {
        let mut verifier = ChainVerifier::default();
        for (e, prev, hash) in rows {
            verifier.check(e, prev, hash)?;
        }
        Ok(())
    }

    #[test]
    fn untouched_chain_verifies() {
        let rows = chain(5);
        assert_eq!(verify(&rows), Ok(()));
        let mut verifier = ChainVerifier::default();
        for (e, p, h) in &rows {
            verifier.check(e, p, h).unwrap();
        }
        assert_eq!(verifier.finish(5, &rows[4].2), Ok(5));
    }

    #[test]
    fn altered_field_is_detected_at_its_row() {
        let mut rows = chain(5);
        rows[2].0.after = "{\"status\":\"rejected\"}".into();
        assert_eq!(verify(&rows), Err(ChainError::Altered { seq: 3 }));
    }

    #[test]
    fn removed_row_is_detected() {
        let mut rows = chain(5);
        rows.remove(1);
        assert_eq!(
            verify(&rows),
            Err(ChainError::Gap {
                seq: 3,
                expected: 2
            })
        );
    }

    #[test]
    fn field_boundaries_matter() {
        let mut a = entry(1, "{}");
        let mut b = entry(1, "{}");
        a.actor = "ab".into();
        a.action = "c".into();
        b.actor = "a".into();
        b.action = "bc".into();
        assert_ne!(a.chain_hash(&GENESIS), b.chain_hash(&GENESIS));
    }
}
