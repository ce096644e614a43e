//! The append-only, hash-chained audit log.

use crate::{Store, StoreError, now_millis};
use ipguard_domain::audit::{AuditEntry, ChainError, ChainVerifier};
use sqlx::{AnyConnection, Row};

/// Who did something, as written to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User(i64),
    /// A submitter without an account, identified by its notice.
    Anonymous(i64),
    /// A background job or automated rule.
    System,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Anonymous(notice) => write!(f, "anonymous:notice:{notice}"),
            Actor::System => f.write_str("system"),
        }
    }
}

/// Appends one entry inside the caller's transaction. `before`/`after` are
/// snapshots of the object (JSON `null` where it did not or no longer exists).
pub async fn append(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    object_kind: &str,
    object_id: impl ToString,
    before: &serde_json::Value,
    after: &serde_json::Value,
) -> Result<(), StoreError> {
    // Updating the head first takes its row lock on PostgreSQL, so concurrent
    // appenders queue here and each sees the hash its predecessor committed.
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev = decode_hash(&head.try_get::<String, _>("hash")?)?;
    let entry = AuditEntry {
        seq,
        at: now_millis(),
        actor: actor.to_string(),
        action: action.to_owned(),
        object_kind: object_kind.to_owned(),
        object_id: object_id.to_string(),
        before: before.to_string(),
        after: after.to_string(),
    };
    let hash = hex::encode(entry.chain_hash(&prev));
    // The `audit_head_follows` trigger (migration 0004) moves the head's
    // hash to this entry's in the same statement.
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, object_kind, object_id, before, after, \
         prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(entry.seq)
    .bind(entry.at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.object_kind)
    .bind(&entry.object_id)
    .bind(&entry.before)
    .bind(&entry.after)
    .bind(hex::encode(prev))
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn decode_hash(text: &str) -> Result<[u8; 32], StoreError> {
    let bytes = hex::decode(text).map_err(|_| StoreError::Corrupt(format!("bad hash `{text}`")))?;
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("bad hash length `{text}`")))
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Chain(#[from] ChainError),
}

/// Recomputes the whole chain; returns the number of entries verified.
pub async fn verify(store: &Store) -> Result<i64, VerifyError> {
    use futures_lite::StreamExt;
    let mut verifier = ChainVerifier::default();
    let mut rows = sqlx::query(
        "SELECT seq, at, actor, action, object_kind, object_id, before, after, prev_hash, hash \
         FROM audit_log ORDER BY seq",
    )
    .fetch(store.pool());
    while let Some(row) = rows.next().await {
        let (entry, prev, hash) = read_entry(&row.map_err(StoreError::from)?)?;
        verifier.check(&entry, &prev, &hash)?;
    }
    drop(rows);
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(store.pool())
        .await
        .map_err(StoreError::from)?;
    let head_seq: i64 = head.try_get("seq").map_err(StoreError::from)?;
    let head_hash = decode_hash(
        &head
            .try_get::<String, _>("hash")
            .map_err(StoreError::from)?,
    )?;
    Ok(verifier.finish(head_seq, &head_hash)?)
}

fn read_entry(row: &sqlx::any::AnyRow) -> Result<(AuditEntry, [u8; 32], [u8; 32]), StoreError> {
    let entry = AuditEntry {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        object_kind: row.try_get("object_kind")?,
        object_id: row.try_get("object_id")?,
        before: row.try_get("before")?,
        after: row.try_get("after")?,
    };
    let prev = decode_hash(&row.try_get::<String, _>("prev_hash")?)?;
    let hash = decode_hash(&row.try_get::<String, _>("hash")?)?;
    Ok((entry, prev, hash))
}
