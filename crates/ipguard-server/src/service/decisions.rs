//! A reviewer's decision on one listing named in a notice.

use super::notices::set_listing_state;
use super::notify::{Party, notify};
use super::{penalties, trust};
use crate::error::{ApiError, ApiResult};
use ipguard_domain::policy::Policy;
use ipguard_domain::reasons::{
    Automation, StatementInput, StatementOfReasons, seller_redress, submitter_redress,
};
use ipguard_domain::{InfringementType, ItemStatus, Outcome};
use ipguard_store::audit::{self, Actor};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub outcome: Outcome,
    pub statement: StatementInput,
    /// Marks a rejected notice as manifestly unfounded (abusive), which costs
    /// the submitter its trusted status and counts towards suspension.
    #[serde(default)]
    pub manifestly_unfounded: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionOutcome {
    pub decision_id: i64,
    pub item_id: i64,
    pub status: ItemStatus,
    pub statement_of_reasons: StatementOfReasons,
}

/// The facts about an item that decisions and challenges need.
pub struct ItemFacts {
    pub item_id: i64,
    pub notice_id: i64,
    pub org_id: Option<i64>,
    pub status: ItemStatus,
    pub kind: InfringementType,
    pub listing_id: i64,
    pub platform: String,
    pub ext_id: String,
    pub seller_id: i64,
    pub removed_at: Option<i64>,
    pub decided_at: Option<i64>,
}

pub async fn item_facts(conn: &mut AnyConnection, item_id: i64) -> ApiResult<ItemFacts> {
    let row = sqlx::query(
        "SELECT i.id, i.notice_id, n.org_id, i.status, n.infringement_type, l.id AS listing_id, l.platform, \
         l.ext_id, l.seller_id, i.removed_at, i.decided_at \
         FROM notice_items i JOIN notices n ON n.id = i.notice_id JOIN listings l ON l.id = i.listing_id \
         WHERE i.id = $1",
    )
    .bind(item_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| ApiError::not_found("notice item"))?;
    let parse_err = |e: ipguard_domain::UnknownValue| ApiError::internal(e);
    Ok(ItemFacts {
        item_id,
        notice_id: row.try_get("notice_id")?,
        org_id: row.try_get("org_id")?,
        status: row
            .try_get::<String, _>("status")?
            .parse()
            .map_err(parse_err)?,
        kind: row
            .try_get::<String, _>("infringement_type")?
            .parse()
            .map_err(parse_err)?,
        listing_id: row.try_get("listing_id")?,
        platform: row.try_get("platform")?,
        ext_id: row.try_get("ext_id")?,
        seller_id: row.try_get("seller_id")?,
        removed_at: row.try_get("removed_at")?,
        decided_at: row.try_get("decided_at")?,
    })
}

pub async fn decide(
    conn: &mut AnyConnection,
    policy: &Policy,
    reviewer_id: i64,
    item_id: i64,
    input: DecisionInput,
    now: i64,
) -> ApiResult<DecisionOutcome> {
    let item = item_facts(conn, item_id).await?;
    if !matches!(
        item.status,
        ItemStatus::Pending | ItemStatus::RemovedPendingReview
    ) {
        return Err(ApiError::conflict(
            "already_decided",
            format!("notice item {item_id} is already {}", item.status),
        ));
    }
    if input.manifestly_unfounded && input.outcome == Outcome::Uphold {
        return Err(ApiError::field(
            "manifestly_unfounded",
            "only a rejected notice can be manifestly unfounded",
        ));
    }
    let actor = Actor::User(reviewer_id);
    let (status, restriction, redress) = match input.outcome {
        Outcome::Uphold => (
            ItemStatus::Upheld,
            "listing removed",
            seller_redress(policy),
        ),
        Outcome::Reject if item.status == ItemStatus::RemovedPendingReview => (
            ItemStatus::Rejected,
            "listing restored; no action",
            submitter_redress(),
        ),
        Outcome::Reject => (ItemStatus::Rejected, "no action", submitter_redress()),
    };
    let statement = StatementOfReasons::parse(
        input.statement,
        restriction,
        Automation {
            detection: false,
            decision: false,
        },
        redress,
    )
    .map_err(|e| ApiError::field("statement", e.to_string()))?;
    let statement_json = serde_json::to_string(&statement).map_err(ApiError::internal)?;
    let decision_id: i64 = sqlx::query(
        "INSERT INTO decisions (item_id, reviewer_id, outcome, manifestly_unfounded, statement, automated, decided_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id",
    )
    .bind(item_id)
    .bind(reviewer_id)
    .bind(input.outcome.as_str())
    .bind(i64::from(input.manifestly_unfounded))
    .bind(statement_json)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    let removed_at = match (input.outcome, item.removed_at) {
        (Outcome::Uphold, None) => Some(now),
        (Outcome::Uphold, Some(at)) => Some(at),
        (Outcome::Reject, _) => item.removed_at,
    };
    sqlx::query("UPDATE notice_items SET status = $1, decided_at = $2, removed_at = $3, restored_at = $4 WHERE id = $5")
        .bind(status.as_str())
        .bind(now)
        .bind(removed_at)
        .bind((item.status == ItemStatus::RemovedPendingReview && input.outcome == Outcome::Reject).then_some(now))
        .bind(item_id)
        .execute(&mut *conn)
        .await?;
    audit::append(
        conn,
        &actor,
        "item.decided",
        "notice_item",
        item_id,
        &json!({"status": item.status}),
        &json!({"status": status, "decision_id": decision_id, "manifestly_unfounded": input.manifestly_unfounded}),
    )
    .await?;
    let listing = json!({"platform": item.platform, "id": item.ext_id});
    match input.outcome {
        Outcome::Uphold => {
            if item.status == ItemStatus::Pending {
                set_listing_state(
                    conn,
                    &actor,
                    item.listing_id,
                    "removed",
                    Some("notice"),
                    restriction,
                    now,
                )
                .await?;
            }
            let payload =
                json!({"listing": listing, "item_id": item_id, "statement_of_reasons": statement});
            notify(
                conn,
                Party::Seller(item.seller_id),
                "listing.removed",
                payload,
            )
            .await?;
            penalties::add_strike(
                conn,
                policy,
                &actor,
                item.seller_id,
                item_id,
                item.kind,
                now,
            )
            .await?;
        }
        Outcome::Reject if item.status == ItemStatus::RemovedPendingReview => {
            set_listing_state(
                conn,
                &actor,
                item.listing_id,
                "restored",
                None,
                restriction,
                now,
            )
            .await?;
            let payload =
                json!({"listing": listing, "item_id": item_id, "statement_of_reasons": statement});
            notify(
                conn,
                Party::Seller(item.seller_id),
                "listing.restored",
                payload,
            )
            .await?;
        }
        Outcome::Reject => {}
    }
    if let Some(org) = item.org_id {
        let payload = json!({
            "notice_id": item.notice_id,
            "item_id": item_id,
            "listing": listing,
            "outcome": input.outcome,
            "statement_of_reasons": statement,
        });
        notify(conn, Party::Organisation(org), "notice.decided", payload).await?;
        trust::reevaluate(conn, policy, org, item.kind, now).await?;
        if input.manifestly_unfounded {
            trust::sanction(conn, policy, org, now).await?;
        }
    }
    // The notice is decided once none of its items waits for review.
    sqlx::query(
        "UPDATE notices SET decided_at = $1 WHERE id = $2 AND decided_at IS NULL AND NOT EXISTS \
         (SELECT 1 FROM notice_items WHERE notice_id = $2 AND status IN ('pending', 'removed_pending_review'))",
    )
    .bind(now)
    .bind(item.notice_id)
    .execute(&mut *conn)
    .await?;
    Ok(DecisionOutcome {
        decision_id,
        item_id,
        status,
        statement_of_reasons: statement,
    })
}
