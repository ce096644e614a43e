//! The outbox: notifications written in the change's own transaction, and
//! one pending webhook delivery per active webhook of the party. The
//! delivery job sends them later, so a crash between the change and the
//! delivery loses nothing.

use ipguard_store::{StoreError, now_millis};
use sqlx::AnyConnection;

/// Who is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Organisation(i64),
    Seller(i64),
}

impl Party {
    pub fn kind(self) -> &'static str {
        match self {
            Party::Organisation(_) => "organisation",
            Party::Seller(_) => "seller",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Party::Organisation(id) | Party::Seller(id) => id,
        }
    }
}

pub async fn notify(
    conn: &mut AnyConnection,
    party: Party,
    event: &str,
    payload: serde_json::Value,
) -> Result<(), StoreError> {
    let body = serde_json::json!({ "event": event, "data": payload });
    // The `notification_fans_out` trigger (migration 0004) queues a delivery
    // for each of the party's active webhooks in this same statement.
    sqlx::query(
        "INSERT INTO notifications (party_kind, party_id, event, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(party.kind())
    .bind(party.id())
    .bind(event)
    .bind(body.to_string())
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
