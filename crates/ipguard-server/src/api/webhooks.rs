//! Webhooks, their delivery log, and the notification inbox.

use super::in_tx;
use crate::AppState;
use crate::auth::{Principal, new_secret};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Page, Paged};
use crate::service::notify::Party;
use crate::service::rfc3339;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use ipguard_domain::Role;
use ipguard_store::audit;
use ipguard_store::now_millis;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook))
        .routes(routes!(deliveries))
        .routes(routes!(notifications))
}

fn party(principal: &Principal) -> ApiResult<Party> {
    match principal.role {
        Role::RightsHolder => Ok(Party::Organisation(principal.org()?)),
        Role::Seller => Ok(Party::Seller(principal.seller()?)),
        _ => Err(ApiError::forbidden(
            "webhooks and notifications belong to rights holders and sellers",
        )),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where events are POSTed (http or https).
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCreated {
    pub id: i64,
    /// HMAC-SHA256 key for the `ipguard-signature` header; shown once.
    pub secret: String,
}

/// Registers a webhook for the caller's organisation or seller account.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = WebhookCreated), (status = 422, body = Problem)))]
async fn create_webhook(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<NewWebhook>,
) -> ApiResult<impl IntoResponse> {
    let party = party(&principal)?;
    let url = reqwest::Url::parse(input.url.trim())
        .map_err(|e| ApiError::field("url", format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::field(
            "url",
            "only http and https webhooks are supported",
        ));
    }
    let (secret, _) = new_secret("whsec_");
    let id = in_tx!(state, |tx| {
        let id: i64 = sqlx::query(
            "INSERT INTO webhooks (party_kind, party_id, url, secret, active, created_at) VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
        )
        .bind(party.kind())
        .bind(party.id())
        .bind(url.as_str())
        .bind(&secret)
        .bind(now_millis())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        audit::append(
            &mut tx,
            &principal.actor(),
            "webhook.created",
            "webhook",
            id,
            &json!(null),
            &json!({"url": url.as_str()}),
        )
        .await?;
        id
    });
    Ok((
        StatusCode::CREATED,
        axum::Json(WebhookCreated { id, secret }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: String,
    pub delivered_at: Option<String>,
}

/// The delivery log of the caller's webhooks.
#[utoipa::path(get, path = "/api/v1/webhooks/deliveries", tag = "webhooks", params(Page), responses((status = 200, body = Paged<Delivery>)))]
async fn deliveries(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<axum::Json<Paged<Delivery>>> {
    let party = party(&principal)?;
    let rows = sqlx::query(
        "SELECT d.id, d.webhook_id, n.event, d.status, d.attempts, d.last_status_code, d.last_error, d.next_attempt_at, \
         d.delivered_at FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         JOIN notifications n ON n.id = d.notification_id \
         WHERE w.party_kind = $1 AND w.party_id = $2 AND d.id > $3 ORDER BY d.id LIMIT $4",
    )
    .bind(party.kind())
    .bind(party.id())
    .bind(page.after())
    .bind(page.limit())
    .fetch_all(state.store.pool())
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(Delivery {
                id: r.try_get("id")?,
                webhook_id: r.try_get("webhook_id")?,
                event: r.try_get("event")?,
                status: r.try_get("status")?,
                attempts: r.try_get("attempts")?,
                last_status_code: r.try_get("last_status_code")?,
                last_error: r.try_get("last_error")?,
                next_attempt_at: rfc3339(r.try_get("next_attempt_at")?),
                delivered_at: r.try_get::<Option<i64>, _>("delivered_at")?.map(rfc3339),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(axum::Json(Paged::new(items, &page, |d| d.id)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    pub id: i64,
    pub event: String,
    pub payload: serde_json::Value,
    pub created_at: String,
}

/// Every event sent to the caller, oldest first: the inbox behind the webhooks.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "webhooks", params(Page), responses((status = 200, body = Paged<Notification>)))]
async fn notifications(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<axum::Json<Paged<Notification>>> {
    let party = party(&principal)?;
    let rows = sqlx::query(
        "SELECT id, event, payload, created_at FROM notifications WHERE party_kind = $1 AND party_id = $2 AND id > $3 \
         ORDER BY id LIMIT $4",
    )
    .bind(party.kind())
    .bind(party.id())
    .bind(page.after())
    .bind(page.limit())
    .fetch_all(state.store.pool())
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            let payload: String = r.try_get("payload")?;
            Ok(Notification {
                id: r.try_get("id")?,
                event: r.try_get("event")?,
                payload: serde_json::from_str(&payload).unwrap_or_default(),
                created_at: rfc3339(r.try_get("created_at")?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(axum::Json(Paged::new(items, &page, |n| n.id)))
}
