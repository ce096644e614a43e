//! The review queue, decisions, and the seller's side: seeing a removal and contesting it.

use super::in_tx;
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Page, Paged};
use crate::service::challenges::{
    self, ChallengeDecisionInput, ChallengeInput, ChallengeView, LegalActionInput,
};
use crate::service::decisions::{self, DecisionInput, DecisionOutcome, item_facts};
use crate::service::rfc3339;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use ipguard_domain::Role;
use ipguard_store::now_millis;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(queue))
        .routes(routes!(decide_item))
        .routes(routes!(get_item))
        .routes(routes!(file_challenge))
        .routes(routes!(list_challenges))
        .routes(routes!(decide_challenge))
        .routes(routes!(legal_action))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueEntry {
    pub item_id: i64,
    pub notice_id: i64,
    pub status: String,
    pub infringement_type: String,
    pub platform: String,
    pub listing_id: String,
    pub title: String,
    pub deadline_at: String,
    pub overdue: bool,
}

/// Items waiting for a reviewer, most urgent deadline first (reviewers).
#[utoipa::path(get, path = "/api/v1/review/queue", tag = "review", params(Page), responses((status = 200, body = Paged<QueueEntry>)))]
async fn queue(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<axum::Json<Paged<QueueEntry>>> {
    principal.require(&[Role::Reviewer, Role::Admin])?;
    let now = now_millis();
    // Keyset over (deadline, id) would be exact; the queue is short-lived, so
    // an offset in `after` (the position) keeps the contract simple.
    let rows = sqlx::query(
        "SELECT i.id, i.notice_id, i.status, i.deadline_at, n.infringement_type, l.platform, l.ext_id, l.title \
         FROM notice_items i JOIN notices n ON n.id = i.notice_id JOIN listings l ON l.id = i.listing_id \
         WHERE i.status IN ('pending', 'removed_pending_review') ORDER BY i.deadline_at, i.id LIMIT $1 OFFSET $2",
    )
    .bind(page.limit())
    .bind(page.after())
    .fetch_all(state.store.pool())
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            let deadline: i64 = r.try_get("deadline_at")?;
            Ok(QueueEntry {
                item_id: r.try_get("id")?,
                notice_id: r.try_get("notice_id")?,
                status: r.try_get("status")?,
                infringement_type: r.try_get("infringement_type")?,
                platform: r.try_get("platform")?,
                listing_id: r.try_get("ext_id")?,
                title: r.try_get("title")?,
                deadline_at: rfc3339(deadline),
                overdue: deadline < now,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let full = items.len() as i64 == page.limit();
    let next_after = full.then(|| page.after() + page.limit());
    Ok(axum::Json(Paged { items, next_after }))
}

/// Decides one listing of a notice: uphold (remove) or reject, with a statement of reasons (reviewers).
#[utoipa::path(post, path = "/api/v1/items/{id}/decision", tag = "review", params(("id" = i64, Path)),
    request_body = DecisionInput,
    responses((status = 200, body = DecisionOutcome), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn decide_item(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> ApiResult<axum::Json<DecisionOutcome>> {
    principal.require(&[Role::Reviewer, Role::Admin])?;
    let outcome = in_tx!(state, |tx| decisions::decide(
        &mut tx,
        state.policy(),
        principal.user_id,
        id,
        input,
        now_millis()
    )
    .await?);
    Ok(axum::Json(outcome))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDetail {
    pub id: i64,
    pub notice_id: i64,
    pub status: String,
    pub platform: String,
    pub listing_id: String,
    pub decisions: Vec<serde_json::Value>,
}

/// One notice item with every decision and its statement of reasons (the seller concerned, the submitter, staff).
#[utoipa::path(get, path = "/api/v1/items/{id}", tag = "review", params(("id" = i64, Path)),
    responses((status = 200, body = ItemDetail), (status = 404, body = Problem)))]
async fn get_item(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<ItemDetail>> {
    let mut conn = state.store.pool().acquire().await?;
    let item = item_facts(&mut conn, id).await?;
    let allowed = principal.is_staff()
        || (principal.role == Role::Seller && principal.seller_id == Some(item.seller_id))
        || (principal.role == Role::RightsHolder
            && principal.org_id.is_some()
            && principal.org_id == item.org_id);
    if !allowed {
        return Err(ApiError::not_found("notice item"));
    }
    let decisions = sqlx::query("SELECT outcome, statement, automated, decided_at FROM decisions WHERE item_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|d| {
            let statement: String = d.try_get("statement")?;
            Ok(serde_json::json!({
                "outcome": d.try_get::<String, _>("outcome")?,
                "automated": d.try_get::<i64, _>("automated")? == 1,
                "decided_at": rfc3339(d.try_get("decided_at")?),
                "statement_of_reasons": serde_json::from_str::<serde_json::Value>(&statement).unwrap_or_default(),
            }))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(axum::Json(ItemDetail {
        id,
        notice_id: item.notice_id,
        status: item.status.to_string(),
        platform: item.platform,
        listing_id: item.ext_id,
        decisions,
    }))
}

/// Contests a removal with an appeal or a counter-notice (the seller concerned).
#[utoipa::path(post, path = "/api/v1/items/{id}/challenges", tag = "review", params(("id" = i64, Path)),
    request_body = ChallengeInput,
    responses((status = 201, body = ChallengeView), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn file_challenge(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ChallengeInput>,
) -> ApiResult<impl IntoResponse> {
    let seller = principal.seller()?;
    let view = in_tx!(state, |tx| challenges::file(
        &mut tx,
        state.policy(),
        seller,
        principal.user_id,
        id,
        input,
        now_millis()
    )
    .await?);
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Challenges: pending ones for staff, the caller's own for a seller.
#[utoipa::path(get, path = "/api/v1/challenges", tag = "review", params(Page), responses((status = 200, body = Paged<ChallengeView>)))]
async fn list_challenges(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<axum::Json<Paged<ChallengeView>>> {
    let seller = if principal.is_staff() {
        None
    } else {
        Some(principal.seller()?)
    };
    let ids = sqlx::query(
        "SELECT id FROM challenges WHERE (($1 IS NULL AND status = 'pending') OR seller_id = $1) AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(seller)
    .bind(page.after())
    .bind(page.limit())
    .fetch_all(state.store.pool())
    .await?;
    let mut conn = state.store.pool().acquire().await?;
    let mut items = Vec::with_capacity(ids.len());
    for row in ids {
        items.push(challenges::load_view(&mut conn, row.try_get("id")?).await?);
    }
    Ok(axum::Json(Paged::new(items, &page, |c| c.id)))
}

/// Decides a challenge (a reviewer other than the one who decided the removal).
#[utoipa::path(post, path = "/api/v1/challenges/{id}/decision", tag = "review", params(("id" = i64, Path)),
    request_body = ChallengeDecisionInput,
    responses((status = 200, body = ChallengeView), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn decide_challenge(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ChallengeDecisionInput>,
) -> ApiResult<axum::Json<ChallengeView>> {
    principal.require(&[Role::Reviewer, Role::Admin])?;
    let view = in_tx!(state, |tx| challenges::decide(
        &mut tx,
        state.policy(),
        principal.user_id,
        id,
        input,
        now_millis()
    )
    .await?);
    Ok(axum::Json(view))
}

/// Shows that legal action was started against a counter-notified listing (the rights holder).
#[utoipa::path(post, path = "/api/v1/challenges/{id}/legal-action", tag = "review", params(("id" = i64, Path)),
    request_body = LegalActionInput,
    responses((status = 200, body = ChallengeView), (status = 409, body = Problem)))]
async fn legal_action(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<LegalActionInput>,
) -> ApiResult<axum::Json<ChallengeView>> {
    let org = principal.org()?;
    let view = in_tx!(state, |tx| challenges::legal_action(
        &mut tx,
        org,
        principal.user_id,
        id,
        input,
        now_millis()
    )
    .await?);
    Ok(axum::Json(view))
}
