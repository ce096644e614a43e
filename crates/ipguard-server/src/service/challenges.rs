//! Appeals and counter-notices: the seller contests a removal, a different
//! reviewer decides, and a granted challenge restores the listing (for a
//! counter-notice, only once the rights holder's legal-action window passes).

use super::decisions::{ItemFacts, item_facts};
use super::notices::set_listing_state;
use super::notify::{Party, notify};
use super::{penalties, rfc3339};
use crate::error::{ApiError, ApiResult};
use ipguard_domain::policy::Policy;
use ipguard_domain::reasons::{Automation, StatementInput, StatementOfReasons, submitter_redress};
use ipguard_domain::{ChallengeKind, ChallengeStatus, ItemStatus, Outcome, rules};
use ipguard_store::audit::{self, Actor};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeInput {
    pub kind: ChallengeKind,
    /// Why the removal was wrong, in the seller's words.
    pub reasons: String,
    /// References to evidence: invoices, authorisation letters, URLs.
    #[serde(default)]
    pub evidence: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeView {
    pub id: i64,
    pub item_id: i64,
    pub kind: ChallengeKind,
    pub status: ChallengeStatus,
    pub filed_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_after: Option<String>,
}

pub async fn file(
    conn: &mut AnyConnection,
    policy: &Policy,
    seller_id: i64,
    user_id: i64,
    item_id: i64,
    input: ChallengeInput,
    now: i64,
) -> ApiResult<ChallengeView> {
    let item = item_facts(conn, item_id).await?;
    if item.seller_id != seller_id {
        return Err(ApiError::not_found("notice item"));
    }
    if !matches!(
        item.status,
        ItemStatus::Upheld | ItemStatus::RemovedPendingReview
    ) {
        return Err(ApiError::conflict(
            "not_contestable",
            format!(
                "notice item {item_id} is {}; only removals can be contested",
                item.status
            ),
        ));
    }
    if input.reasons.trim().chars().count() < 10 {
        return Err(ApiError::field(
            "reasons",
            "explain why the removal was wrong (at least 10 characters)",
        ));
    }
    let decided = item.decided_at.or(item.removed_at).unwrap_or(now);
    let deadline =
        rules::challenge_deadline(policy, super::to_datetime(decided)).timestamp_millis();
    if now > deadline {
        return Err(ApiError::conflict(
            "challenge_window_closed",
            format!(
                "the window to contest this removal closed at {}",
                rfc3339(deadline)
            ),
        ));
    }
    let open: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM challenges WHERE item_id = $1 AND status IN ('pending', 'awaiting_legal_action')",
    )
    .bind(item_id)
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    if open > 0 {
        return Err(ApiError::conflict(
            "challenge_open",
            "this removal is already being contested",
        ));
    }
    let evidence = serde_json::to_string(&input.evidence).map_err(ApiError::internal)?;
    let id: i64 = sqlx::query(
        "INSERT INTO challenges (item_id, seller_id, kind, reasons, evidence, status, filed_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id",
    )
    .bind(item_id)
    .bind(seller_id)
    .bind(input.kind.as_str())
    .bind(input.reasons.trim())
    .bind(evidence)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    let view = ChallengeView {
        id,
        item_id,
        kind: input.kind,
        status: ChallengeStatus::Pending,
        filed_at: rfc3339(now),
        restore_after: None,
    };
    let snapshot = serde_json::to_value(&view).map_err(ApiError::internal)?;
    audit::append(
        conn,
        &Actor::User(user_id),
        "challenge.filed",
        "challenge",
        id,
        &json!(null),
        &snapshot,
    )
    .await?;
    if let Some(org) = item.org_id {
        let event = match input.kind {
            ChallengeKind::CounterNotice => "notice.counter_notified",
            ChallengeKind::Appeal => "notice.appealed",
        };
        let payload = json!({"challenge": snapshot, "notice_id": item.notice_id, "reasons": input.reasons.trim()});
        notify(conn, Party::Organisation(org), event, payload).await?;
    }
    Ok(view)
}

pub async fn load_view(conn: &mut AnyConnection, id: i64) -> ApiResult<ChallengeView> {
    let row = sqlx::query(
        "SELECT item_id, kind, status, filed_at, restore_after FROM challenges WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| ApiError::not_found("challenge"))?;
    Ok(ChallengeView {
        id,
        item_id: row.try_get("item_id")?,
        kind: row
            .try_get::<String, _>("kind")?
            .parse()
            .map_err(ApiError::internal)?,
        status: row
            .try_get::<String, _>("status")?
            .parse()
            .map_err(ApiError::internal)?,
        filed_at: rfc3339(row.try_get("filed_at")?),
        restore_after: row.try_get::<Option<i64>, _>("restore_after")?.map(rfc3339),
    })
}

struct ChallengeFacts {
    item: ItemFacts,
    kind: ChallengeKind,
    status: ChallengeStatus,
    restore_after: Option<i64>,
}

async fn challenge_facts(conn: &mut AnyConnection, id: i64) -> ApiResult<ChallengeFacts> {
    let row =
        sqlx::query("SELECT item_id, kind, status, restore_after FROM challenges WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| ApiError::not_found("challenge"))?;
    let item = item_facts(conn, row.try_get("item_id")?).await?;
    Ok(ChallengeFacts {
        item,
        kind: row
            .try_get::<String, _>("kind")?
            .parse()
            .map_err(ApiError::internal)?,
        status: row
            .try_get::<String, _>("status")?
            .parse()
            .map_err(ApiError::internal)?,
        restore_after: row.try_get("restore_after")?,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeDecisionInput {
    /// `uphold` grants the challenge (the seller was right); `reject` denies it.
    pub outcome: Outcome,
    pub statement: StatementInput,
}

pub async fn decide(
    conn: &mut AnyConnection,
    policy: &Policy,
    reviewer_id: i64,
    id: i64,
    input: ChallengeDecisionInput,
    now: i64,
) -> ApiResult<ChallengeView> {
    let facts = challenge_facts(conn, id).await?;
    if facts.status != ChallengeStatus::Pending {
        return Err(ApiError::conflict(
            "already_decided",
            format!("challenge {id} is already {}", facts.status),
        ));
    }
    let earlier_reviewers: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM decisions WHERE item_id = $1 AND reviewer_id = $2")
            .bind(facts.item.item_id)
            .bind(reviewer_id)
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?;
    if earlier_reviewers > 0 {
        return Err(ApiError::forbidden(
            "a challenge must be decided by a reviewer who did not decide the removal",
        )
        .with_code("same_reviewer"));
    }
    let (status, restriction, restore_after) = match (input.outcome, facts.kind) {
        (Outcome::Reject, _) => (ChallengeStatus::Denied, "removal maintained", None),
        (Outcome::Uphold, ChallengeKind::Appeal) => {
            (ChallengeStatus::Restored, "listing restored", None)
        }
        (Outcome::Uphold, ChallengeKind::CounterNotice) => (
            ChallengeStatus::AwaitingLegalAction,
            "listing to be restored unless the rights holder shows legal action",
            Some(rules::restoration_time(policy, super::to_datetime(now)).timestamp_millis()),
        ),
    };
    let statement = StatementOfReasons::parse(
        input.statement,
        restriction,
        Automation {
            detection: false,
            decision: false,
        },
        submitter_redress(),
    )
    .map_err(|e| ApiError::field("statement", e.to_string()))?;
    let statement_json = serde_json::to_string(&statement).map_err(ApiError::internal)?;
    sqlx::query(
        "UPDATE challenges SET status = $1, decided_by = $2, decided_at = $3, statement = $4, restore_after = $5 \
         WHERE id = $6",
    )
    .bind(status.as_str())
    .bind(reviewer_id)
    .bind(now)
    .bind(statement_json)
    .bind(restore_after)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    let actor = Actor::User(reviewer_id);
    audit::append(
        conn,
        &actor,
        "challenge.decided",
        "challenge",
        id,
        &json!({"status": facts.status}),
        &json!({"status": status, "outcome": input.outcome}),
    )
    .await?;
    let payload = json!({
        "challenge_id": id,
        "item_id": facts.item.item_id,
        "status": status,
        "restore_after": restore_after.map(rfc3339),
        "statement_of_reasons": statement,
    });
    notify(
        conn,
        Party::Seller(facts.item.seller_id),
        "challenge.decided",
        payload.clone(),
    )
    .await?;
    if let Some(org) = facts.item.org_id {
        notify(conn, Party::Organisation(org), "challenge.decided", payload).await?;
    }
    if status == ChallengeStatus::Restored {
        restore(conn, policy, &actor, &facts.item, id, now).await?;
        if facts.kind == ChallengeKind::Appeal
            && let Some(org) = facts.item.org_id
        {
            // A reversed removal lowers the submitter's accuracy.
            super::trust::reevaluate(conn, policy, org, facts.item.kind, now).await?;
        }
    }
    load_view(conn, id).await
}

/// Puts the listing back and lifts the strike.
async fn restore(
    conn: &mut AnyConnection,
    policy: &Policy,
    actor: &Actor,
    item: &ItemFacts,
    challenge_id: i64,
    now: i64,
) -> ApiResult<()> {
    let reason = format!("removal reversed by challenge {challenge_id}");
    sqlx::query("UPDATE notice_items SET status = 'restored', restored_at = $1 WHERE id = $2")
        .bind(now)
        .bind(item.item_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE challenges SET status = 'restored' WHERE id = $1")
        .bind(challenge_id)
        .execute(&mut *conn)
        .await?;
    set_listing_state(conn, actor, item.listing_id, "restored", None, &reason, now).await?;
    penalties::revoke_strike(conn, policy, actor, item.item_id, &reason, now).await?;
    let payload = json!({"listing": {"platform": item.platform, "id": item.ext_id}, "item_id": item.item_id, "reason": reason});
    notify(
        conn,
        Party::Seller(item.seller_id),
        "listing.restored",
        payload.clone(),
    )
    .await?;
    if let Some(org) = item.org_id {
        notify(conn, Party::Organisation(org), "listing.restored", payload).await?;
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalActionInput {
    /// Court, case number or other reference of the proceedings started.
    pub reference: String,
}

/// The rights holder shows it started proceedings: the listing stays down.
pub async fn legal_action(
    conn: &mut AnyConnection,
    org_id: i64,
    user_id: i64,
    id: i64,
    input: LegalActionInput,
    now: i64,
) -> ApiResult<ChallengeView> {
    let facts = challenge_facts(conn, id).await?;
    if facts.item.org_id != Some(org_id) {
        return Err(ApiError::not_found("challenge"));
    }
    if facts.status != ChallengeStatus::AwaitingLegalAction
        || facts.restore_after.is_some_and(|at| at <= now)
    {
        return Err(ApiError::conflict(
            "no_legal_action_window",
            format!(
                "challenge {id} is {}; legal action can only be shown while restoration is pending",
                facts.status
            ),
        ));
    }
    if input.reference.trim().is_empty() {
        return Err(ApiError::field(
            "reference",
            "name the court and case number",
        ));
    }
    sqlx::query("UPDATE challenges SET status = 'legal_action_filed', legal_action_reference = $1 WHERE id = $2")
        .bind(input.reference.trim())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    audit::append(
        conn,
        &Actor::User(user_id),
        "challenge.legal_action",
        "challenge",
        id,
        &json!({"status": facts.status}),
        &json!({"status": "legal_action_filed", "reference": input.reference.trim()}),
    )
    .await?;
    let payload = json!({"challenge_id": id, "item_id": facts.item.item_id, "legal_action_reference": input.reference.trim()});
    notify(
        conn,
        Party::Seller(facts.item.seller_id),
        "challenge.legal_action",
        payload,
    )
    .await?;
    load_view(conn, id).await
}

/// Restores every granted counter-notice whose legal-action window has passed.
pub async fn restore_due(conn: &mut AnyConnection, policy: &Policy, now: i64) -> ApiResult<usize> {
    let due = sqlx::query(
        "SELECT id FROM challenges WHERE status = 'awaiting_legal_action' AND restore_after <= $1",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    for row in &due {
        let id: i64 = row.try_get("id")?;
        let facts = challenge_facts(conn, id).await?;
        restore(conn, policy, &Actor::System, &facts.item, id, now).await?;
    }
    Ok(due.len())
}
