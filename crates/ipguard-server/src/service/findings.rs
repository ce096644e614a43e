//! Reading detection findings: the reviewers' queue and the findings a
//! rights holder sees on its own brands, for the API and the portal alike.

use crate::extract::Page;
use crate::service::rfc3339;
use ipguard_store::{Store, StoreError};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingView {
    pub id: i64,
    pub platform: String,
    pub listing_id: String,
    pub title: String,
    pub score: f64,
    pub action: String,
    /// `open` (awaiting review), `removed` (blocked at once), `noted`, `confirmed`, `dismissed` or `superseded`.
    pub status: String,
    pub brands: Vec<String>,
    pub reasons: serde_json::Value,
    pub created_at: String,
}

/// Findings oldest first: every one for staff (`org` = None), or those naming
/// one of `org`'s brands; optionally only those with `status`.
pub async fn list(
    store: &Store,
    org: Option<i64>,
    status: Option<&str>,
    page: &Page,
) -> Result<Vec<FindingView>, StoreError> {
    let rows = sqlx::query(
        "SELECT f.id, l.platform, l.ext_id, l.title, f.score, f.action, f.status, f.brands, f.reasons, f.created_at \
         FROM findings f JOIN listings l ON l.id = f.listing_id \
         WHERE ($1 IS NULL OR f.id IN (SELECT fb.finding_id FROM finding_brands fb JOIN brands b ON b.slug = fb.brand_slug WHERE b.org_id = $1)) \
         AND ($2 IS NULL OR f.status = $2) AND f.id > $3 ORDER BY f.id LIMIT $4",
    )
    .bind(org)
    .bind(status)
    .bind(page.after())
    .bind(page.limit())
    .fetch_all(store.pool())
    .await?;
    let views = rows
        .iter()
        .map(|r| {
            let brands: String = r.try_get("brands")?;
            let reasons: String = r.try_get("reasons")?;
            Ok(FindingView {
                id: r.try_get("id")?,
                platform: r.try_get("platform")?,
                listing_id: r.try_get("ext_id")?,
                title: r.try_get("title")?,
                score: r.try_get("score")?,
                action: r.try_get("action")?,
                status: r.try_get("status")?,
                brands: serde_json::from_str(&brands).unwrap_or_default(),
                reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                created_at: rfc3339(r.try_get("created_at")?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(views)
}
