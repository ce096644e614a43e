//! IP rights, their evidence and verification, and the brands built on them.

use super::marketplace::Money;
use super::{Created, created, in_tx};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Page, Paged};
use crate::service::notify::{Party, notify};
use crate::service::rfc3339;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use base64::Engine;
use ipguard_domain::notice::FieldError;
use ipguard_domain::{IpRightKind, Role, VerificationStatus};
use ipguard_store::audit;
use ipguard_store::now_millis;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_right, list_rights))
        .routes(routes!(get_right))
        .routes(routes!(add_evidence))
        .routes(routes!(verify_right))
        .routes(routes!(create_brand, list_brands))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRight {
    pub kind: IpRightKind,
    pub registration_number: String,
    /// Office or jurisdiction, e.g. EUIPO, USPTO, CNIPA.
    pub office: String,
    /// Nice classes for trademarks, or the scope of a copyright, design or patent.
    pub scope: String,
    pub owner: String,
    #[serde(default)]
    pub valid_from: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub valid_until: Option<chrono::NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RightView {
    pub id: i64,
    pub organisation_id: i64,
    pub kind: IpRightKind,
    pub registration_number: String,
    pub office: String,
    pub scope: String,
    pub owner: String,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub status: VerificationStatus,
    pub status_reason: Option<String>,
    pub evidence: Vec<EvidenceView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceView {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub sha256: String,
    pub uploaded_at: String,
}

/// Claims an IP right; a reviewer verifies it before it can back notices.
#[utoipa::path(post, path = "/api/v1/rights", tag = "rights", request_body = NewRight,
    responses((status = 201, body = Created), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_right(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<NewRight>,
) -> ApiResult<impl IntoResponse> {
    let org = principal.org()?;
    let mut problems = Vec::new();
    for (field, value) in [
        ("registration_number", &input.registration_number),
        ("office", &input.office),
        ("scope", &input.scope),
        ("owner", &input.owner),
    ] {
        if value.trim().is_empty() {
            problems.push(FieldError::new(field, "required"));
        }
    }
    if let (Some(from), Some(until)) = (input.valid_from, input.valid_until)
        && until < from
    {
        problems.push(FieldError::new(
            "valid_until",
            "must not be before valid_from",
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let id = in_tx!(state, |tx| {
        let id: i64 = sqlx::query(
            "INSERT INTO ip_rights (org_id, kind, registration_number, office, scope, owner, valid_from, valid_until, \
             status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9) RETURNING id",
        )
        .bind(org)
        .bind(input.kind.as_str())
        .bind(input.registration_number.trim())
        .bind(input.office.trim())
        .bind(input.scope.trim())
        .bind(input.owner.trim())
        .bind(input.valid_from.map(|d| d.to_string()))
        .bind(input.valid_until.map(|d| d.to_string()))
        .bind(now_millis())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                ApiError::conflict("already_exists", "you already registered this right")
            }
            other => other.into(),
        })?
        .try_get("id")?;
        let after = serde_json::to_value(&input).map_err(ApiError::internal)?;
        audit::append(
            &mut tx,
            &principal.actor(),
            "right.created",
            "ip_right",
            id,
            &json!(null),
            &after,
        )
        .await?;
        id
    });
    created(Created { id })
}

async fn load_right(state: &AppState, principal: &Principal, id: i64) -> ApiResult<RightView> {
    let row = sqlx::query("SELECT * FROM ip_rights WHERE id = $1")
        .bind(id)
        .fetch_optional(state.store.pool())
        .await?
        .ok_or_else(|| ApiError::not_found("IP right"))?;
    let org: i64 = row.try_get("org_id")?;
    if !(principal.is_staff()
        || principal.org_id == Some(org) && principal.role == Role::RightsHolder)
    {
        return Err(ApiError::not_found("IP right"));
    }
    let evidence = sqlx::query("SELECT id, filename, content_type, sha256, created_at FROM right_evidence WHERE right_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(state.store.pool())
        .await?
        .iter()
        .map(|e| {
            Ok(EvidenceView {
                id: e.try_get("id")?,
                filename: e.try_get("filename")?,
                content_type: e.try_get("content_type")?,
                sha256: e.try_get("sha256")?,
                uploaded_at: rfc3339(e.try_get("created_at")?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    right_view(&row, evidence)
}

fn right_view(row: &sqlx::any::AnyRow, evidence: Vec<EvidenceView>) -> ApiResult<RightView> {
    Ok(RightView {
        id: row.try_get("id")?,
        organisation_id: row.try_get("org_id")?,
        kind: row
            .try_get::<String, _>("kind")?
            .parse()
            .map_err(ApiError::internal)?,
        registration_number: row.try_get("registration_number")?,
        office: row.try_get("office")?,
        scope: row.try_get("scope")?,
        owner: row.try_get("owner")?,
        valid_from: row.try_get("valid_from")?,
        valid_until: row.try_get("valid_until")?,
        status: row
            .try_get::<String, _>("status")?
            .parse()
            .map_err(ApiError::internal)?,
        status_reason: row.try_get("status_reason")?,
        evidence,
    })
}

/// One IP right with its evidence (its owner, or staff).
#[utoipa::path(get, path = "/api/v1/rights/{id}", tag = "rights", params(("id" = i64, Path)),
    responses((status = 200, body = RightView), (status = 404, body = Problem)))]
async fn get_right(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<RightView>> {
    Ok(axum::Json(load_right(&state, &principal, id).await?))
}

/// The caller's IP rights (staff see all; `?status=pending` for the verification queue).
#[utoipa::path(get, path = "/api/v1/rights", tag = "rights", params(Page),
    responses((status = 200, body = Paged<RightView>)))]
async fn list_rights(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<axum::Json<Paged<RightView>>> {
    let scope = if principal.is_staff() {
        None
    } else {
        Some(principal.org()?)
    };
    let rows = sqlx::query("SELECT * FROM ip_rights WHERE ($1 IS NULL OR org_id = $1) AND id > $2 ORDER BY id LIMIT $3")
        .bind(scope)
        .bind(page.after())
        .bind(page.limit())
        .fetch_all(state.store.pool())
        .await?;
    let items = rows
        .iter()
        .map(|row| right_view(row, Vec::new()))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(axum::Json(Paged::new(items, &page, |r| r.id)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvidence {
    pub filename: String,
    pub content_type: String,
    /// The document, base64-encoded (registration certificate, licence, …).
    pub content_base64: String,
}

/// Attaches an evidence document to a right (its owner).
#[utoipa::path(post, path = "/api/v1/rights/{id}/evidence", tag = "rights", params(("id" = i64, Path)),
    request_body = NewEvidence, responses((status = 201, body = Created), (status = 404, body = Problem)))]
async fn add_evidence(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<NewEvidence>,
) -> ApiResult<impl IntoResponse> {
    let org = principal.org()?;
    let right = load_right(&state, &principal, id).await?;
    if right.organisation_id != org {
        return Err(ApiError::not_found("IP right"));
    }
    let content = base64::engine::general_purpose::STANDARD
        .decode(input.content_base64.trim())
        .map_err(|e| ApiError::field("content_base64", format!("not valid base64: {e}")))?;
    if content.is_empty() || input.filename.trim().is_empty() {
        return Err(ApiError::field(
            "content_base64",
            "an evidence document with a filename is required",
        ));
    }
    let digest = hex::encode(Sha256::digest(&content));
    let evidence_id = in_tx!(state, |tx| {
        let evidence_id: i64 = sqlx::query(
            "INSERT INTO right_evidence (right_id, filename, content_type, sha256, content, uploaded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(id)
        .bind(input.filename.trim())
        .bind(input.content_type.trim())
        .bind(&digest)
        .bind(content)
        .bind(principal.user_id)
        .bind(now_millis())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        audit::append(
            &mut tx,
            &principal.actor(),
            "right.evidence_added",
            "ip_right",
            id,
            &json!(null),
            &json!({"sha256": digest}),
        )
        .await?;
        evidence_id
    });
    created(Created { id: evidence_id })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    /// `verified` or `rejected`.
    pub status: VerificationStatus,
    /// Required when rejecting; shown to the rights holder.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Verifies or rejects a claimed right (reviewers).
#[utoipa::path(post, path = "/api/v1/rights/{id}/verification", tag = "rights", params(("id" = i64, Path)),
    request_body = Verification, responses((status = 200, body = RightView), (status = 409, body = Problem)))]
async fn verify_right(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<Verification>,
) -> ApiResult<axum::Json<RightView>> {
    principal.require(&[Role::Reviewer, Role::Admin])?;
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    match (input.status, reason) {
        (VerificationStatus::Pending, _) => {
            return Err(ApiError::field("status", "verified or rejected"));
        }
        (VerificationStatus::Rejected, None) => {
            return Err(ApiError::field("reason", "say why the right is rejected"));
        }
        _ => {}
    }
    let current = load_right(&state, &principal, id).await?;
    if current.status != VerificationStatus::Pending {
        return Err(ApiError::conflict(
            "already_decided",
            format!("IP right {id} is already {}", current.status),
        ));
    }
    in_tx!(state, |tx| {
        sqlx::query("UPDATE ip_rights SET status = $1, status_reason = $2, verified_by = $3, verified_at = $4 WHERE id = $5")
            .bind(input.status.as_str())
            .bind(reason)
            .bind(principal.user_id)
            .bind(now_millis())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let after = json!({"status": input.status, "reason": reason});
        audit::append(
            &mut tx,
            &principal.actor(),
            "right.verification",
            "ip_right",
            id,
            &json!({"status": "pending"}),
            &after,
        )
        .await?;
        notify(
            &mut tx,
            Party::Organisation(current.organisation_id),
            "right.verification",
            json!({"right_id": id, "status": input.status, "reason": reason}),
        )
        .await?;
    });
    Ok(axum::Json(load_right(&state, &principal, id).await?))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBrand {
    /// Stable id used in findings, e.g. `nike`.
    pub slug: String,
    pub name: String,
    /// The verified right the brand rests on.
    pub right_id: i64,
    /// Protected terms matched in listings.
    pub terms: Vec<String>,
    /// Genuine reference price per category path, for the price signal.
    #[serde(default)]
    pub msrp: std::collections::BTreeMap<String, Money>,
    /// Sellers allowed to sell the brand; their listings add no brand risk.
    #[serde(default)]
    pub authorized_sellers: Vec<SellerRef>,
}

/// A seller by platform and the platform's seller id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SellerRef {
    pub platform: String,
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BrandView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub right_id: i64,
    pub terms: Vec<String>,
}

/// Creates a brand with its protected terms on a verified right (its owner).
/// Detection reloads and rescans active listings in the background.
#[utoipa::path(post, path = "/api/v1/brands", tag = "rights", request_body = NewBrand,
    responses((status = 201, body = Created), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_brand(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<NewBrand>,
) -> ApiResult<impl IntoResponse> {
    let org = principal.org()?;
    let right = load_right(&state, &principal, input.right_id)
        .await
        .map_err(|_| {
            ApiError::field(
                "right_id",
                format!("no IP right {} in your account", input.right_id),
            )
        })?;
    if right.status != VerificationStatus::Verified {
        return Err(ApiError::field(
            "right_id",
            format!(
                "IP right {} is {}; brands need a verified right",
                right.id, right.status
            ),
        ));
    }
    let terms: Vec<String> = input
        .terms
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    if terms.is_empty() {
        return Err(ApiError::field("terms", "at least one protected term"));
    }
    let id = in_tx!(state, |tx| {
        let id: i64 = sqlx::query("INSERT INTO brands (slug, org_id, right_id, name, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(input.slug.trim())
            .bind(org)
            .bind(input.right_id)
            .bind(input.name.trim())
            .bind(now_millis())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    ApiError::conflict("already_exists", format!("brand `{}` exists", input.slug))
                }
                other => other.into(),
            })?
            .try_get("id")?;
        for (category, price) in &input.msrp {
            if price
                .amount
                .parse::<f64>()
                .map_or(true, |a| !a.is_finite() || a <= 0.0)
            {
                return Err(ApiError::field(
                    &format!("msrp.{category}.amount"),
                    "a positive decimal, e.g. \"120\"",
                ));
            }
            // The engine converts reference prices with the configured rates;
            // a currency without one would make the catalog fail to load.
            let rates = &state.config.detection.currency_rates;
            if !rates.contains_key(&price.currency.trim().to_ascii_uppercase()) {
                let known: Vec<&str> = rates.keys().map(String::as_str).collect();
                return Err(ApiError::field(
                    &format!("msrp.{category}.currency"),
                    format!(
                        "no exchange rate configured for `{}`; known: {}",
                        price.currency,
                        known.join(", ")
                    ),
                ));
            }
            sqlx::query("INSERT INTO brand_prices (brand_id, category, amount, currency) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(category)
                .bind(&price.amount)
                .bind(price.currency.to_uppercase())
                .execute(&mut *tx)
                .await?;
        }
        for (i, seller) in input.authorized_sellers.iter().enumerate() {
            let found = sqlx::query("SELECT id FROM sellers WHERE platform = $1 AND ext_id = $2")
                .bind(&seller.platform)
                .bind(&seller.id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| {
                    ApiError::field(
                        &format!("authorized_sellers[{i}]"),
                        format!("unknown seller `{}` on `{}`", seller.id, seller.platform),
                    )
                })?;
            sqlx::query("INSERT INTO brand_authorized_sellers (brand_id, seller_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(found.try_get::<i64, _>("id")?)
                .execute(&mut *tx)
                .await?;
        }
        for term in &terms {
            sqlx::query(
                "INSERT INTO brand_terms (brand_id, term) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(term)
            .execute(&mut *tx)
            .await?;
        }
        let after = serde_json::to_value(&input).map_err(ApiError::internal)?;
        audit::append(
            &mut tx,
            &principal.actor(),
            "brand.created",
            "brand",
            id,
            &json!(null),
            &after,
        )
        .await?;
        crate::service::detection::bump_catalog_generation(&mut tx).await?;
        id
    });
    crate::service::detection::catalog_changed(&state).await?;
    created(Created { id })
}

/// Brands (a rights holder sees its own; staff see all).
#[utoipa::path(get, path = "/api/v1/brands", tag = "rights", params(Page), responses((status = 200, body = Paged<BrandView>)))]
async fn list_brands(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<axum::Json<Paged<BrandView>>> {
    let scope = if principal.is_staff() {
        None
    } else {
        Some(principal.org()?)
    };
    let rows = sqlx::query("SELECT id, slug, name, right_id FROM brands WHERE ($1 IS NULL OR org_id = $1) AND id > $2 ORDER BY id LIMIT $3")
        .bind(scope)
        .bind(page.after())
        .bind(page.limit())
        .fetch_all(state.store.pool())
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let terms = sqlx::query("SELECT term FROM brand_terms WHERE brand_id = $1 ORDER BY term")
            .bind(id)
            .fetch_all(state.store.pool())
            .await?
            .iter()
            .map(|t| t.try_get("term"))
            .collect::<Result<Vec<String>, sqlx::Error>>()?;
        items.push(BrandView {
            id,
            slug: row.try_get("slug")?,
            name: row.try_get("name")?,
            right_id: row.try_get("right_id")?,
            terms,
        });
    }
    Ok(axum::Json(Paged::new(items, &page, |b| b.id)))
}
