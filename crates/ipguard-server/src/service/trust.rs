//! The good-faith program: trusted status per organisation and infringement
//! type, earned and lost automatically from the record of decided notices;
//! and the warnings and suspensions for manifestly unfounded notices.

use super::notify::{Party, notify};
use ipguard_domain::policy::Policy;
use ipguard_domain::rules::{self, AccuracyRecord};
use ipguard_domain::{InfringementType, SubmitterStanding};
use ipguard_store::StoreError;
use ipguard_store::audit::{self, Actor};
use serde_json::json;
use sqlx::{AnyConnection, Row};

fn days_ago(now: i64, days: u32) -> i64 {
    now - i64::from(days) * 86_400_000
}

/// The submitter's record for one infringement type. Only decisions by a
/// reviewer count: a trusted removal is provisional until confirmed. A
/// removal a second reviewer reversed on the seller's appeal counts as not
/// upheld: the notice was wrong. (A counter-notice that restores because the
/// holder did not sue says nothing about the notice's accuracy.)
pub async fn record(
    conn: &mut AnyConnection,
    policy: &Policy,
    org_id: i64,
    kind: InfringementType,
    now: i64,
) -> Result<AccuracyRecord, StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS decided, \
                COALESCE(SUM(CASE WHEN d.outcome = 'uphold' AND NOT EXISTS (SELECT 1 FROM challenges c \
                    WHERE c.item_id = i.id AND c.kind = 'appeal' AND c.status = 'restored') THEN 1 ELSE 0 END), 0) AS upheld, \
                COALESCE(SUM(CASE WHEN d.manifestly_unfounded = 1 AND d.decided_at > $3 THEN 1 ELSE 0 END), 0) AS abusive \
         FROM decisions d JOIN notice_items i ON i.id = d.item_id JOIN notices n ON n.id = i.notice_id \
         WHERE n.org_id = $1 AND n.infringement_type = $2 AND d.automated = 0",
    )
    .bind(org_id)
    .bind(kind.as_str())
    .bind(days_ago(now, policy.trusted.abuse_lookback_days))
    .fetch_one(&mut *conn)
    .await?;
    let count = |name: &str| -> Result<u32, StoreError> {
        let value: i64 = row.try_get(name)?;
        Ok(u32::try_from(value).unwrap_or(u32::MAX))
    };
    Ok(AccuracyRecord {
        decided: count("decided")?,
        upheld: count("upheld")?,
        abusive_recent: count("abusive")?,
    })
}

pub async fn is_trusted(
    conn: &mut AnyConnection,
    org_id: i64,
    kind: InfringementType,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "SELECT trusted FROM submitter_trust WHERE org_id = $1 AND infringement_type = $2",
    )
    .bind(org_id)
    .bind(kind.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(row) => row.try_get::<i64, _>("trusted")? == 1,
        None => false,
    })
}

/// Re-evaluates trust for one type after a decision; records and announces a change.
pub async fn reevaluate(
    conn: &mut AnyConnection,
    policy: &Policy,
    org_id: i64,
    kind: InfringementType,
    now: i64,
) -> Result<(), StoreError> {
    let record = record(conn, policy, org_id, kind, now).await?;
    let trusted = rules::is_trusted(policy, &record);
    if trusted == is_trusted(conn, org_id, kind).await? {
        return Ok(());
    }
    let reason = if trusted {
        format!(
            "{} of {} decided {kind} notice items upheld, none abusive",
            record.upheld, record.decided
        )
    } else if record.abusive_recent > 0 {
        format!(
            "{} {kind} notice item(s) found manifestly unfounded",
            record.abusive_recent
        )
    } else {
        format!(
            "accuracy fell to {} of {} upheld",
            record.upheld, record.decided
        )
    };
    sqlx::query(
        "INSERT INTO submitter_trust (org_id, infringement_type, trusted, changed_at, reason) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (org_id, infringement_type) DO UPDATE SET trusted = $3, changed_at = $4, reason = $5",
    )
    .bind(org_id)
    .bind(kind.as_str())
    .bind(i64::from(trusted))
    .bind(now)
    .bind(&reason)
    .execute(&mut *conn)
    .await?;
    let after = json!({"infringement_type": kind, "trusted": trusted, "reason": reason});
    audit::append(
        conn,
        &Actor::System,
        "trust.changed",
        "organisation",
        org_id,
        &json!({"trusted": !trusted}),
        &after,
    )
    .await?;
    notify(conn, Party::Organisation(org_id), "trust.changed", after).await
}

/// Applies the abuse sanctions after a notice item was found manifestly unfounded.
pub async fn sanction(
    conn: &mut AnyConnection,
    policy: &Policy,
    org_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    let unfounded: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM decisions d JOIN notice_items i ON i.id = d.item_id \
         JOIN notices n ON n.id = i.notice_id \
         WHERE n.org_id = $1 AND d.manifestly_unfounded = 1 AND d.decided_at > $2",
    )
    .bind(org_id)
    .bind(days_ago(now, policy.abuse.lookback_days))
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    let standing = rules::standing_for(policy, u32::try_from(unfounded).unwrap_or(u32::MAX));
    let until = (standing == SubmitterStanding::Suspended)
        .then(|| rules::suspension_end(policy, super::to_datetime(now)).timestamp_millis());
    sqlx::query("UPDATE organisations SET standing = $1, standing_until = $2 WHERE id = $3")
        .bind(standing.as_str())
        .bind(until)
        .bind(org_id)
        .execute(&mut *conn)
        .await?;
    let after = json!({
        "standing": standing,
        "until": until.map(super::rfc3339),
        "manifestly_unfounded_items": unfounded,
    });
    audit::append(
        conn,
        &Actor::System,
        "standing.changed",
        "organisation",
        org_id,
        &json!(null),
        &after,
    )
    .await?;
    notify(conn, Party::Organisation(org_id), "standing.changed", after).await
}

/// What decides how a notice from an organisation is handled: whether it
/// is suspended from filing (until when), and whether it is trusted for this
/// infringement type. One query, since every notice asks both.
#[derive(Debug, Default)]
pub struct FilingStanding {
    pub suspended_until: Option<i64>,
    pub trusted: bool,
}

pub async fn filing_standing(
    conn: &mut AnyConnection,
    org_id: i64,
    kind: InfringementType,
    now: i64,
) -> Result<FilingStanding, StoreError> {
    let row = sqlx::query(
        "SELECT o.standing, o.standing_until, (SELECT t.trusted FROM submitter_trust t \
         WHERE t.org_id = o.id AND t.infringement_type = $2) AS trusted FROM organisations o WHERE o.id = $1",
    )
    .bind(org_id)
    .bind(kind.as_str())
    .fetch_one(&mut *conn)
    .await?;
    let standing: String = row.try_get("standing")?;
    let until: Option<i64> = row.try_get("standing_until")?;
    let trusted: Option<i64> = row.try_get("trusted")?;
    Ok(FilingStanding {
        suspended_until: until
            .filter(|&until| standing == SubmitterStanding::Suspended.as_str() && until > now),
        trusted: trusted == Some(1),
    })
}
