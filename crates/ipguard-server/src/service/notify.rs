//! The outbox: notifications written in the change's own transaction, and
//! one pending webhook delivery per active webhook of the party. The
//! delivery job sends them later, so a crash between the change and the
//! delivery loses nothing.

use ipguard_store::{StoreError, now_millis};
use sqlx::{AnyConnection, Row};

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
    let now = now_millis();
    let body = serde_json::json!({ "event": event, "data": payload });
    let id: i64 = sqlx::query(
        "INSERT INTO notifications (party_kind, party_id, event, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(party.kind())
    .bind(party.id())
    .bind(event)
    .bind(body.to_string())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    sqlx::query(
        "INSERT INTO webhook_deliveries (notification_id, webhook_id, status, attempts, next_attempt_at) \
         SELECT $1, id, 'pending', 0, $2 FROM webhooks \
         WHERE party_kind = $3 AND party_id = $4 AND active = 1",
    )
    .bind(id)
    .bind(now)
    .bind(party.kind())
    .bind(party.id())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
