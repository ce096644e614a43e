//! Strikes and the penalty ladder, applied to the person behind the shops.

use super::notify::{Party, notify};
use ipguard_domain::policy::Policy;
use ipguard_domain::rules::{self, StrikeFact};
use ipguard_domain::{InfringementType, Penalty};
use ipguard_store::StoreError;
use ipguard_store::audit::{self, Actor};
use serde_json::json;
use sqlx::{AnyConnection, Row};

/// Gives the seller (and so its person) a strike for an upheld item.
pub async fn add_strike(
    conn: &mut AnyConnection,
    policy: &Policy,
    actor: &Actor,
    seller_id: i64,
    item_id: i64,
    kind: InfringementType,
    now: i64,
) -> Result<(), StoreError> {
    let person_id: i64 = sqlx::query("SELECT person_id FROM sellers WHERE id = $1")
        .bind(seller_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("person_id")?;
    let weight = rules::strike_weight(policy, kind);
    let expires = rules::strike_expiry(policy, super::to_datetime(now)).timestamp_millis();
    let strike_id: i64 = sqlx::query(
        "INSERT INTO strikes (seller_id, person_id, item_id, infringement_type, weight, given_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(seller_id)
    .bind(person_id)
    .bind(item_id)
    .bind(kind.as_str())
    .bind(weight)
    .bind(now)
    .bind(expires)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    let after = json!({"seller_id": seller_id, "item_id": item_id, "weight": weight, "expires_at": expires});
    audit::append(
        conn,
        actor,
        "strike.given",
        "strike",
        strike_id,
        &json!(null),
        &after,
    )
    .await?;
    let reason = format!("{kind} infringement upheld (notice item {item_id})");
    recompute(conn, policy, actor, person_id, &reason, now).await
}

/// Revokes the strike an item gave, when the removal is reversed.
pub async fn revoke_strike(
    conn: &mut AnyConnection,
    policy: &Policy,
    actor: &Actor,
    item_id: i64,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "UPDATE strikes SET revoked_at = $1, revoked_reason = $2 \
         WHERE item_id = $3 AND revoked_at IS NULL RETURNING id, person_id",
    )
    .bind(now)
    .bind(reason)
    .bind(item_id)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let strike_id: i64 = row.try_get("id")?;
        let person_id: i64 = row.try_get("person_id")?;
        audit::append(
            conn,
            actor,
            "strike.revoked",
            "strike",
            strike_id,
            &json!(null),
            &json!({"reason": reason}),
        )
        .await?;
        recompute(conn, policy, actor, person_id, reason, now).await?;
    }
    Ok(())
}

/// Applies the ladder to a person's active strikes; records and announces a change.
pub async fn recompute(
    conn: &mut AnyConnection,
    policy: &Policy,
    actor: &Actor,
    person_id: i64,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    let strikes =
        sqlx::query("SELECT weight, expires_at, revoked_at FROM strikes WHERE person_id = $1")
            .bind(person_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| {
                Ok(StrikeFact {
                    weight: row.try_get("weight")?,
                    expires_at: super::to_datetime(row.try_get("expires_at")?),
                    revoked: row.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let weight = rules::active_strike_weight(&strikes, super::to_datetime(now));
    let penalty = rules::penalty_for(policy, weight);
    let current = person_penalty(conn, person_id).await?;
    if current == penalty {
        return Ok(());
    }
    sqlx::query(
        "UPDATE persons SET penalty = $1, penalty_since = $2, closed_at = $3 WHERE id = $4",
    )
    .bind(penalty.as_str())
    .bind(now)
    .bind((penalty == Penalty::Closure).then_some(now))
    .bind(person_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO penalty_history (person_id, penalty, active_weight, reason, applied_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(person_id)
    .bind(penalty.as_str())
    .bind(weight)
    .bind(reason)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        actor,
        "penalty.changed",
        "person",
        person_id,
        &json!({"penalty": current}),
        &json!({"penalty": penalty, "active_weight": weight, "reason": reason}),
    )
    .await?;
    let listings = match (
        rules::hides_listings(current),
        rules::hides_listings(penalty),
    ) {
        (false, true) => hide_listings(conn, actor, person_id, penalty, now).await?,
        (true, false) => show_listings(conn, actor, person_id, now).await?,
        _ => Vec::new(),
    };
    let sellers = sqlx::query("SELECT id FROM sellers WHERE person_id = $1")
        .bind(person_id)
        .fetch_all(&mut *conn)
        .await?;
    for seller in sellers {
        let seller_id: i64 = seller.try_get("id")?;
        let changed: Vec<&str> = listings
            .iter()
            .filter(|l| l.seller_id == seller_id)
            .map(|l| l.ext_id.as_str())
            .collect();
        let payload = json!({
            "seller_id": seller_id,
            "penalty": penalty,
            "previous": current,
            "active_strike_weight": weight,
            "reason": reason,
            // Taken down under a suspension or closure, or back when it ended.
            "listings": changed,
        });
        notify(conn, Party::Seller(seller_id), "penalty.changed", payload).await?;
    }
    Ok(())
}

/// A listing a penalty took down or brought back.
struct PenaltyListing {
    seller_id: i64,
    ext_id: String,
}

/// Takes the person's live listings on every platform off under a
/// suspension or closure (`removed_by = penalty`).
async fn hide_listings(
    conn: &mut AnyConnection,
    actor: &Actor,
    person_id: i64,
    penalty: Penalty,
    now: i64,
) -> Result<Vec<PenaltyListing>, StoreError> {
    let reason = format!("shop under {penalty} for repeated infringement");
    let listings = person_listings(conn, person_id, "l.state != 'removed'").await?;
    sqlx::query(
        "UPDATE listings SET state = 'removed', state_reason = $1, removed_by = 'penalty', removed_at = $2, \
         updated_at = $2 WHERE state != 'removed' AND seller_id IN (SELECT id FROM sellers WHERE person_id = $3)",
    )
    .bind(&reason)
    .bind(now)
    .bind(person_id)
    .execute(&mut *conn)
    .await?;
    record_listings(
        conn,
        actor,
        "listings.hidden",
        person_id,
        &listings,
        &reason,
    )
    .await?;
    Ok(listings)
}

/// Brings back the listings a suspension took down once it is lifted;
/// listings removed for infringement stay down.
async fn show_listings(
    conn: &mut AnyConnection,
    actor: &Actor,
    person_id: i64,
    now: i64,
) -> Result<Vec<PenaltyListing>, StoreError> {
    let listings = person_listings(conn, person_id, "l.removed_by = 'penalty'").await?;
    sqlx::query(
        "UPDATE listings SET state = 'active', state_reason = NULL, removed_by = NULL, removed_at = NULL, \
         updated_at = $1 WHERE removed_by = 'penalty' AND seller_id IN (SELECT id FROM sellers WHERE person_id = $2)",
    )
    .bind(now)
    .bind(person_id)
    .execute(&mut *conn)
    .await?;
    record_listings(
        conn,
        actor,
        "listings.shown",
        person_id,
        &listings,
        "penalty lifted",
    )
    .await?;
    Ok(listings)
}

async fn person_listings(
    conn: &mut AnyConnection,
    person_id: i64,
    condition: &str,
) -> Result<Vec<PenaltyListing>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT l.seller_id, l.ext_id FROM listings l JOIN sellers s ON s.id = l.seller_id \
         WHERE s.person_id = $1 AND {condition} ORDER BY l.id"
    ))
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(PenaltyListing {
                seller_id: row.try_get("seller_id")?,
                ext_id: row.try_get("ext_id")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// One audit entry for the whole set, naming every listing.
async fn record_listings(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    person_id: i64,
    listings: &[PenaltyListing],
    reason: &str,
) -> Result<(), StoreError> {
    if listings.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = listings.iter().map(|l| l.ext_id.as_str()).collect();
    audit::append(
        conn,
        actor,
        action,
        "person",
        person_id,
        &json!(null),
        &json!({"listings": ids, "reason": reason}),
    )
    .await
}

/// The current penalty of the person behind a seller.
pub async fn seller_penalty(
    conn: &mut AnyConnection,
    seller_id: i64,
) -> Result<Penalty, StoreError> {
    let text: String = sqlx::query(
        "SELECT p.penalty FROM sellers s JOIN persons p ON p.id = s.person_id WHERE s.id = $1",
    )
    .bind(seller_id)
    .fetch_one(&mut *conn)
    .await?
    .try_get("penalty")?;
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("{e}")))
}

pub async fn person_penalty(
    conn: &mut AnyConnection,
    person_id: i64,
) -> Result<Penalty, StoreError> {
    let text: String = sqlx::query("SELECT penalty FROM persons WHERE id = $1")
        .bind(person_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("penalty")?;
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("{e}")))
}
