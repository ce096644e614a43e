//! Filing a notice: resolve the right and the listings, then either queue
//! the listings for review or, for a trusted submitter, remove them at once.

use super::notify::{Party, notify};
use super::{rfc3339, trust};
use crate::error::{ApiError, ApiResult};
use ipguard_domain::notice::{FieldError, ListingRef, RightClaim, ValidNotice, resolve_url};
use ipguard_domain::policy::Policy;
use ipguard_domain::reasons::{
    Automation, Ground, GroundKind, StatementInput, StatementOfReasons, seller_redress,
};
use ipguard_domain::{ItemStatus, NoticeChannel, VerificationStatus, rules};
use ipguard_store::audit::{self, Actor};
use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

/// Who files.
#[derive(Debug, Clone, Copy)]
pub struct Filer {
    /// `None` for a submitter without an account.
    pub org_id: Option<i64>,
    pub user_id: Option<i64>,
    pub channel: NoticeChannel,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FiledNotice {
    pub id: i64,
    pub status: String,
    /// Whether the listings were removed at once under the good-faith program.
    pub trusted: bool,
    pub received_at: String,
    pub deadline_at: String,
    pub items: Vec<FiledItem>,
    /// Only for submitters without an account: the token to follow the notice. Shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FiledItem {
    pub id: i64,
    pub platform: String,
    pub listing_id: String,
    pub status: ItemStatus,
}

struct ResolvedListing {
    row_id: i64,
    platform: String,
    ext_id: String,
    seller_id: i64,
}

async fn resolve_right(
    conn: &mut AnyConnection,
    filer: &Filer,
    claim: &RightClaim,
) -> ApiResult<(Option<i64>, Option<String>)> {
    match claim {
        RightClaim::Registered(right_id) => {
            let row = sqlx::query("SELECT org_id, status FROM ip_rights WHERE id = $1")
                .bind(right_id)
                .fetch_optional(&mut *conn)
                .await?;
            let owned = row
                .map(|row| -> Result<_, sqlx::Error> {
                    Ok((
                        row.try_get::<i64, _>("org_id")?,
                        row.try_get::<String, _>("status")?,
                    ))
                })
                .transpose()?
                .filter(|(org, _)| Some(*org) == filer.org_id);
            match owned {
                None => Err(ApiError::field(
                    "right_id",
                    format!("no IP right {right_id} in your account"),
                )),
                Some((_, status)) if status != VerificationStatus::Verified.as_str() => {
                    Err(ApiError::field(
                        "right_id",
                        format!("IP right {right_id} is {status}; notices need a verified right"),
                    ))
                }
                Some(_) => Ok((Some(*right_id), None)),
            }
        }
        RightClaim::Referenced(reference) => {
            // A submitter without an account proves the right by its
            // registration; a verified registration on file is linked so
            // the reviewer sees it, an unknown one is checked by hand.
            let known = sqlx::query(
                "SELECT id FROM ip_rights WHERE registration_number = $1 AND office = $2 AND kind = $3 \
                 AND status = 'verified' ORDER BY id LIMIT 1",
            )
            .bind(reference.registration_number.trim())
            .bind(reference.office.trim())
            .bind(reference.kind.as_str())
            .fetch_optional(&mut *conn)
            .await?
            .map(|row| row.try_get::<i64, _>("id"))
            .transpose()?;
            let text = serde_json::to_string(reference).map_err(ApiError::internal)?;
            Ok((known, Some(text)))
        }
    }
}

async fn resolve_listings(
    conn: &mut AnyConnection,
    refs: &[ListingRef],
) -> ApiResult<Vec<ResolvedListing>> {
    // Platforms' listing addresses are only needed to read URLs.
    let prefixes: Vec<(String, String)> =
        if refs.iter().any(|r| matches!(r, ListingRef::Url { .. })) {
            sqlx::query("SELECT id, listing_url_prefix FROM platforms")
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|row| Ok((row.try_get("id")?, row.try_get("listing_url_prefix")?)))
                .collect::<Result<_, sqlx::Error>>()?
        } else {
            Vec::new()
        };
    let mut errors = Vec::new();
    let mut resolved = Vec::new();
    for (i, listing) in refs.iter().enumerate() {
        let (platform, ext_id) = match listing {
            ListingRef::Id {
                platform,
                listing_id,
            } => (platform.clone(), listing_id.clone()),
            ListingRef::Url { url } => {
                match resolve_url(url, prefixes.iter().map(|(p, u)| (p.as_str(), u.as_str()))) {
                    Some(found) => found,
                    None => {
                        errors.push(FieldError::new(
                            format!("listings[{i}].url"),
                            "the URL matches no platform's listing address",
                        ));
                        continue;
                    }
                }
            }
        };
        let row = sqlx::query(
            "SELECT id, seller_id, state, removed_by FROM listings WHERE platform = $1 AND ext_id = $2",
        )
        .bind(&platform)
        .bind(&ext_id)
        .fetch_optional(&mut *conn)
        .await?;
        match row {
            None => errors.push(FieldError::new(
                format!("listings[{i}]"),
                format!("no listing `{ext_id}` on platform `{platform}`"),
            )),
            // A listing hidden by its shop's suspension has had no decision
            // on its own infringement yet, so a notice may still name it.
            Some(row)
                if row.try_get::<String, _>("state")? == "removed"
                    && row.try_get::<Option<String>, _>("removed_by")?.as_deref()
                        != Some("penalty") =>
            {
                errors.push(FieldError::new(
                    format!("listings[{i}]"),
                    format!("listing `{ext_id}` on `{platform}` is already removed"),
                ))
            }
            Some(row) => resolved.push(ResolvedListing {
                row_id: row.try_get("id")?,
                seller_id: row.try_get("seller_id")?,
                platform,
                ext_id,
            }),
        }
    }
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Files one notice inside the caller's transaction.
pub async fn file(
    conn: &mut AnyConnection,
    policy: &Policy,
    filer: Filer,
    notice: ValidNotice,
    tracking_token_hash: Option<String>,
    now: i64,
) -> ApiResult<FiledNotice> {
    let standing = match filer.org_id {
        Some(org) => trust::filing_standing(conn, org, notice.infringement_type, now).await?,
        None => trust::FilingStanding::default(),
    };
    if let Some(until) = standing.suspended_until {
        return Err(ApiError::forbidden(format!(
            "your organisation may not file notices until {} after repeated manifestly unfounded notices",
            rfc3339(until)
        ))
        .with_code("submitter_suspended"));
    }
    let (right_id, right_reference) = resolve_right(conn, &filer, &notice.right).await?;
    let listings = resolve_listings(conn, &notice.listings).await?;
    let trusted = standing.trusted;
    let deadline = rules::notice_deadline(policy, super::to_datetime(now)).timestamp_millis();
    let contact = serde_json::to_string(&notice.contact).map_err(ApiError::internal)?;
    let notice_id: i64 = sqlx::query(
        "INSERT INTO notices (org_id, submitted_by, channel, right_id, right_reference, infringement_type, \
         description, contact, tracking_token_hash, trusted, received_at, deadline_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(filer.org_id)
    .bind(filer.user_id)
    .bind(filer.channel.as_str())
    .bind(right_id)
    .bind(right_reference)
    .bind(notice.infringement_type.as_str())
    .bind(&notice.description)
    .bind(contact)
    .bind(tracking_token_hash)
    .bind(i64::from(trusted))
    .bind(now)
    .bind(deadline)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    let actor = match filer.user_id {
        Some(user) => Actor::User(user),
        None => Actor::Anonymous(notice_id),
    };
    let status = if trusted {
        ItemStatus::RemovedPendingReview
    } else {
        ItemStatus::Pending
    };
    let mut items = Vec::with_capacity(listings.len());
    for listing in listings {
        let item_id: i64 = sqlx::query(
            "INSERT INTO notice_items (notice_id, listing_id, status, deadline_at, removed_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(notice_id)
        .bind(listing.row_id)
        .bind(status.as_str())
        .bind(deadline)
        .bind(trusted.then_some(now))
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?;
        if trusted {
            remove_for_trusted_notice(
                conn, policy, &actor, notice_id, item_id, &listing, &notice, now,
            )
            .await?;
        }
        items.push(FiledItem {
            id: item_id,
            platform: listing.platform,
            listing_id: listing.ext_id,
            status,
        });
    }
    let filed = FiledNotice {
        id: notice_id,
        status: "received".to_owned(),
        trusted,
        received_at: rfc3339(now),
        deadline_at: rfc3339(deadline),
        items,
        tracking_token: None,
    };
    let snapshot = json!({
        "infringement_type": notice.infringement_type,
        "channel": filer.channel,
        "right_id": right_id,
        "items": filed.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        "trusted": trusted,
    });
    audit::append(
        conn,
        &actor,
        "notice.filed",
        "notice",
        notice_id,
        &json!(null),
        &snapshot,
    )
    .await?;
    if let Some(org) = filer.org_id {
        notify(
            conn,
            Party::Organisation(org),
            "notice.received",
            serde_json::to_value(&filed).map_err(ApiError::internal)?,
        )
        .await?;
    }
    Ok(filed)
}

/// The expedited removal: the listing goes down now with a statement of
/// reasons; a reviewer's decision later confirms or reverses it.
#[allow(clippy::too_many_arguments)]
async fn remove_for_trusted_notice(
    conn: &mut AnyConnection,
    policy: &Policy,
    actor: &Actor,
    notice_id: i64,
    item_id: i64,
    listing: &ResolvedListing,
    notice: &ValidNotice,
    now: i64,
) -> ApiResult<()> {
    let statement = StatementOfReasons::parse(
        StatementInput {
            facts: format!(
                "A notice (no. {notice_id}) from a trusted submitter alleges {} in this listing: {}",
                notice.infringement_type, notice.description
            ),
            ground: Ground {
                kind: GroundKind::Contractual,
                reference: "Terms of service: intellectual property policy, expedited removal for trusted submitters"
                    .to_owned(),
                explanation: "Notices from submitters with a verified record of accurate notices are acted on \
                              before review; a reviewer confirms or reverses the removal."
                    .to_owned(),
            },
            territorial_scope: None,
        },
        "listing removed pending review",
        Automation { detection: false, decision: true },
        seller_redress(policy),
    )
    .map_err(ApiError::internal)?;
    let statement_json = serde_json::to_string(&statement).map_err(ApiError::internal)?;
    sqlx::query(
        "INSERT INTO decisions (item_id, reviewer_id, outcome, manifestly_unfounded, statement, automated, decided_at) \
         VALUES ($1, NULL, 'uphold', 0, $2, 1, $3)",
    )
    .bind(item_id)
    .bind(&statement_json)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    set_listing_state(
        conn,
        actor,
        listing.row_id,
        "removed",
        Some("trusted_notice"),
        &statement.restriction,
        now,
    )
    .await?;
    let payload = json!({
        "listing": {"platform": listing.platform, "id": listing.ext_id},
        "item_id": item_id,
        "statement_of_reasons": statement,
    });
    notify(
        conn,
        Party::Seller(listing.seller_id),
        "listing.removed",
        payload,
    )
    .await?;
    Ok(())
}

/// Changes a listing's state with its audit entry.
pub async fn set_listing_state(
    conn: &mut AnyConnection,
    actor: &Actor,
    listing_id: i64,
    state: &str,
    removed_by: Option<&str>,
    reason: &str,
    now: i64,
) -> ApiResult<()> {
    let before: String = sqlx::query("SELECT state FROM listings WHERE id = $1")
        .bind(listing_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("state")?;
    sqlx::query(
        "UPDATE listings SET state = $1, state_reason = $2, removed_by = $3, removed_at = $4, updated_at = $5 \
         WHERE id = $6",
    )
    .bind(state)
    .bind(reason)
    .bind(removed_by)
    .bind(removed_by.map(|_| now))
    .bind(now)
    .bind(listing_id)
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        actor,
        &format!("listing.{state}"),
        "listing",
        listing_id,
        &json!({"state": before}),
        &json!({"state": state, "reason": reason, "removed_by": removed_by}),
    )
    .await?;
    Ok(())
}
