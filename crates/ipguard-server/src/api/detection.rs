//! Proactive detection over the API: category rules, findings for reviewers
//! and rights holders, and turning a finding into a notice in one step.

use super::in_tx;
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Page, Paged};
use crate::service::detection::catalog_changed;
use crate::service::findings::{self, FindingView};
use crate::service::notices::FiledNotice;
use crate::service::notices::set_listing_state;
use crate::service::notify::{Party, notify};
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use ipguard_domain::notice::{Declarations, ListingRef, NoticeInput};
use ipguard_domain::reasons::{Automation, StatementInput, StatementOfReasons, seller_redress};
use ipguard_domain::{InfringementType, Outcome, Role};
use ipguard_store::audit;
use ipguard_store::now_millis;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_category_rule, list_category_rules))
        .routes(routes!(list_findings))
        .routes(routes!(decide_finding))
        .routes(routes!(finding_to_notice))
        .routes(routes!(removals))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryRuleInput {
    /// A platform id, or `*` for every platform.
    pub platform: String,
    /// Category path, e.g. `auto/airbags`.
    pub category: String,
    /// `prohibited`, `restricted`, or `allowed` to remove the rule.
    pub rule: String,
}

/// Sets a platform's rule for a category (administrators); the engine reloads
/// and active listings are rescanned in the background.
#[utoipa::path(post, path = "/api/v1/category-rules", tag = "detection", request_body = CategoryRuleInput,
    responses((status = 200, body = Vec<CategoryRuleInput>), (status = 422, body = Problem)))]
async fn set_category_rule(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<CategoryRuleInput>,
) -> ApiResult<axum::Json<Vec<CategoryRuleInput>>> {
    principal.require(&[Role::Admin])?;
    if !matches!(input.rule.as_str(), "prohibited" | "restricted" | "allowed") {
        return Err(ApiError::field("rule", "prohibited, restricted or allowed"));
    }
    if input.category.trim().is_empty() {
        return Err(ApiError::field("category", "required"));
    }
    in_tx!(state, |tx| {
        sqlx::query("DELETE FROM category_rules WHERE platform = $1 AND category = $2")
            .bind(&input.platform)
            .bind(input.category.trim())
            .execute(&mut *tx)
            .await?;
        if input.rule != "allowed" {
            sqlx::query(
                "INSERT INTO category_rules (platform, category, rule) VALUES ($1, $2, $3)",
            )
            .bind(&input.platform)
            .bind(input.category.trim())
            .bind(&input.rule)
            .execute(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                    ApiError::field("platform", format!("unknown platform `{}`", input.platform))
                }
                other => other.into(),
            })?;
        }
        let after = serde_json::to_value(&input).map_err(ApiError::internal)?;
        audit::append(
            &mut tx,
            &principal.actor(),
            "category_rule.set",
            "category_rule",
            format!("{}/{}", input.platform, input.category),
            &json!(null),
            &after,
        )
        .await?;
        crate::service::detection::bump_catalog_generation(&mut tx).await?;
    });
    catalog_changed(&state).await?;
    rules(&state).await.map(axum::Json)
}

async fn rules(state: &AppState) -> ApiResult<Vec<CategoryRuleInput>> {
    sqlx::query("SELECT platform, category, rule FROM category_rules ORDER BY platform, category")
        .fetch_all(state.store.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(CategoryRuleInput {
                platform: r.try_get("platform")?,
                category: r.try_get("category")?,
                rule: r.try_get("rule")?,
            })
        })
        .collect()
}

/// The category rules of every platform.
#[utoipa::path(get, path = "/api/v1/category-rules", tag = "detection", responses((status = 200, body = Vec<CategoryRuleInput>)))]
async fn list_category_rules(
    State(state): State<AppState>,
    _principal: Principal,
) -> ApiResult<axum::Json<Vec<CategoryRuleInput>>> {
    rules(&state).await.map(axum::Json)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FindingFilter {
    /// Only findings with this status.
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub after: Option<i64>,
}

/// Findings: reviewers see all (`?status=open` is the detection review
/// queue); a rights holder sees those that name its brands.
#[utoipa::path(get, path = "/api/v1/findings", tag = "detection", params(FindingFilter), responses((status = 200, body = Paged<FindingView>)))]
async fn list_findings(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(filter): ApiQuery<FindingFilter>,
) -> ApiResult<axum::Json<Paged<FindingView>>> {
    let org = if principal.is_staff() {
        None
    } else {
        Some(principal.org()?)
    };
    let page = Page {
        limit: filter.limit,
        after: filter.after,
    };
    let items = findings::list(&state.store, org, filter.status.as_deref(), &page).await?;
    Ok(axum::Json(Paged::new(items, &page, |f| f.id)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingDecision {
    /// `uphold` removes the listing; `reject` dismisses the finding.
    pub outcome: Outcome,
    pub statement: StatementInput,
}

/// Decides an open finding from the detection queue (reviewers).
#[utoipa::path(post, path = "/api/v1/findings/{id}/decision", tag = "detection", params(("id" = i64, Path)),
    request_body = FindingDecision, responses((status = 200, body = StatementOfReasons), (status = 409, body = Problem)))]
async fn decide_finding(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<FindingDecision>,
) -> ApiResult<axum::Json<StatementOfReasons>> {
    principal.require(&[Role::Reviewer, Role::Admin])?;
    let now = now_millis();
    let statement = in_tx!(state, |tx| {
        let row = sqlx::query("SELECT f.status, f.listing_id, l.seller_id, l.platform, l.ext_id FROM findings f JOIN listings l ON l.id = f.listing_id WHERE f.id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::not_found("finding"))?;
        let status: String = row.try_get("status")?;
        if status != "open" {
            return Err(ApiError::conflict(
                "already_decided",
                format!("finding {id} is {status}"),
            ));
        }
        let (restriction, new_status) = match input.outcome {
            Outcome::Uphold => ("listing removed", "confirmed"),
            Outcome::Reject => ("no action", "dismissed"),
        };
        let statement = StatementOfReasons::parse(
            input.statement,
            restriction,
            Automation {
                detection: true,
                decision: false,
            },
            seller_redress(state.policy()),
        )
        .map_err(|e| ApiError::field("statement", e.to_string()))?;
        sqlx::query("UPDATE findings SET status = $1, statement = $2, reviewed_by = $3, reviewed_at = $4 WHERE id = $5")
            .bind(new_status)
            .bind(serde_json::to_string(&statement).map_err(ApiError::internal)?)
            .bind(principal.user_id)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &principal.actor(),
            "finding.decided",
            "finding",
            id,
            &json!({"status": status}),
            &json!({"status": new_status}),
        )
        .await?;
        if input.outcome == Outcome::Uphold {
            let listing_id: i64 = row.try_get("listing_id")?;
            set_listing_state(
                &mut tx,
                &principal.actor(),
                listing_id,
                "removed",
                Some("proactive"),
                restriction,
                now,
            )
            .await?;
            let payload = json!({"listing": {"platform": row.try_get::<String, _>("platform")?, "id": row.try_get::<String, _>("ext_id")?},
                "finding_id": id, "statement_of_reasons": statement});
            notify(
                &mut tx,
                Party::Seller(row.try_get("seller_id")?),
                "listing.removed",
                payload,
            )
            .await?;
        }
        statement
    });
    Ok(axum::Json(statement))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingNotice {
    pub right_id: i64,
    pub infringement_type: InfringementType,
    pub declarations: Declarations,
    /// Defaults to a description built from the finding's reasons.
    #[serde(default)]
    pub description: Option<String>,
}

/// Files a notice against the listing of a finding on the caller's brand (rights holders).
#[utoipa::path(post, path = "/api/v1/findings/{id}/notice", tag = "detection", params(("id" = i64, Path)),
    request_body = FindingNotice, responses((status = 201, body = FiledNotice), (status = 404, body = Problem)))]
async fn finding_to_notice(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<FindingNotice>,
) -> ApiResult<impl IntoResponse> {
    let org = principal.org()?;
    let row = sqlx::query(
        "SELECT l.platform, l.ext_id, f.reasons FROM findings f JOIN listings l ON l.id = f.listing_id WHERE f.id = $1 \
         AND f.id IN (SELECT fb.finding_id FROM finding_brands fb JOIN brands b ON b.slug = fb.brand_slug WHERE b.org_id = $2)",
    )
    .bind(id)
    .bind(org)
    .fetch_optional(state.store.pool())
    .await?
    .ok_or_else(|| ApiError::not_found("finding"))?;
    let reasons: Vec<ipguard_detect::Reason> =
        serde_json::from_str(&row.try_get::<String, _>("reasons")?).unwrap_or_default();
    let described: Vec<String> = reasons
        .iter()
        .map(crate::service::detection::describe)
        .collect();
    let notice = NoticeInput {
        right_id: Some(input.right_id),
        right: None,
        infringement_type: Some(input.infringement_type),
        listings: vec![ListingRef::Id {
            platform: row.try_get("platform")?,
            listing_id: row.try_get("ext_id")?,
        }],
        description: input.description.unwrap_or_else(|| {
            format!(
                "Detected by ipguard (finding {id}): {}",
                described.join("; ")
            )
        }),
        declarations: input.declarations,
        contact: None,
    };
    super::notices::file_for_account(&state, &principal, notice).await
}

/// Listings currently down on one platform, by what took them down.
#[derive(Debug, Serialize, ToSchema)]
pub struct Removals {
    pub platform: String,
    /// Removed by automated detection before anyone reported them.
    pub proactive: i64,
    /// Removed after a reviewer upheld a notice.
    pub notice: i64,
    /// Removed at once on a trusted submitter's notice.
    pub trusted_notice: i64,
    /// Hidden while the seller's shop is suspended or closed.
    pub penalty: i64,
    /// Put back after an appeal or counter-notice.
    pub restored: i64,
    pub active: i64,
}

/// Removals per platform by cause, proactive ones counted apart from those
/// driven by notices (staff).
#[utoipa::path(get, path = "/api/v1/enforcement/removals", tag = "detection",
    responses((status = 200, body = Vec<Removals>), (status = 403, body = Problem)))]
async fn removals(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<Vec<Removals>>> {
    principal.require(&[Role::Reviewer, Role::Admin])?;
    let count = |cause: &str| {
        format!("CAST(COALESCE(SUM(CASE WHEN {cause} THEN 1 ELSE 0 END), 0) AS BIGINT)")
    };
    let sql = format!(
        "SELECT p.id, {proactive} AS proactive, {notice} AS notice, {trusted} AS trusted_notice, {penalty} AS penalty, \
         {restored} AS restored, {active} AS active \
         FROM platforms p LEFT JOIN listings l ON l.platform = p.id GROUP BY p.id ORDER BY p.id",
        proactive = count("l.removed_by = 'proactive'"),
        notice = count("l.removed_by = 'notice'"),
        trusted = count("l.removed_by = 'trusted_notice'"),
        penalty = count("l.removed_by = 'penalty'"),
        restored = count("l.state = 'restored'"),
        active = count("l.state = 'active'"),
    );
    let rows = sqlx::query(&sql).fetch_all(state.store.pool()).await?;
    let figures = rows
        .iter()
        .map(|r| {
            Ok(Removals {
                platform: r.try_get("id")?,
                proactive: r.try_get("proactive")?,
                notice: r.try_get("notice")?,
                trusted_notice: r.try_get("trusted_notice")?,
                penalty: r.try_get("penalty")?,
                restored: r.try_get("restored")?,
                active: r.try_get("active")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(axum::Json(figures))
}
