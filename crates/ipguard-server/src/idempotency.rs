//! `Idempotency-Key` on POST: a retried request gets the first response
//! again instead of filing a second notice or decision.
//!
//! The key is claimed (inserted) before the handler runs, so two concurrent
//! requests with one key cannot both proceed; the response is stored after
//! a non-5xx result and replayed byte for byte. A 5xx releases the key so
//! that the client's retry can run.

use crate::AppState;
use crate::auth::secret_hash;
use crate::error::ApiError;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use sqlx::Row;

const HEADER: &str = "idempotency-key";
/// Stored responses larger than this are not kept; the key then only
/// guards against concurrent duplicates.
const MAX_STORED_RESPONSE: usize = 1024 * 1024;

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return next.run(request).await;
    };
    match handle(state, key, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn handle(
    state: AppState,
    key: String,
    request: Request,
    next: Next,
) -> Result<Response, Response> {
    if key.is_empty() || key.len() > 200 {
        return Err(
            ApiError::bad_request("invalid_idempotency_key", "use 1 to 200 characters")
                .into_response(),
        );
    }
    let principal = principal_key(&request);
    let (parts, body) = request.into_parts();
    let limit = body_limit(&state, &parts.headers);
    let bytes = to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body exceeds the size limit",
        )
        .into_response()
    })?;
    let mut hasher = Sha256::new();
    hasher.update(parts.uri.path().as_bytes());
    hasher.update([0]);
    hasher.update(&bytes);
    let request_hash = hex::encode(hasher.finalize());

    let pool = state.store.pool();
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (principal, key, request_hash, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (principal, key) DO NOTHING",
    )
    .bind(&principal)
    .bind(&key)
    .bind(&request_hash)
    .bind(ipguard_store::now_millis())
    .execute(pool)
    .await
    .map_err(|e| ApiError::from(e).into_response())?
    .rows_affected()
        == 1;
    if !claimed {
        return Err(replay(&state, &principal, &key, &request_hash).await);
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    if status.is_server_error() {
        release(&state, &principal, &key).await;
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let Ok(body) = to_bytes(body, MAX_STORED_RESPONSE).await else {
        release(&state, &principal, &key).await;
        return Ok(
            ApiError::internal("response too large to store for idempotency").into_response(),
        );
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let stored = serde_json::json!({
        "content_type": content_type,
        "body": String::from_utf8_lossy(&body),
    });
    let saved = sqlx::query(
        "UPDATE idempotency_keys SET status_code = $1, response = $2 WHERE principal = $3 AND key = $4",
    )
    .bind(i64::from(status.as_u16()))
    .bind(stored.to_string())
    .bind(&principal)
    .bind(&key)
    .execute(pool)
    .await;
    if let Err(err) = saved {
        tracing::error!(%err, "could not store idempotent response");
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

/// Room for multipart framing (boundaries and part headers) on top of the
/// uploaded bytes the upload routes count themselves.
const MULTIPART_FRAMING: usize = 64 * 1024;

/// The body this layer may buffer: photo uploads have their own, larger
/// limit (`images.max_upload_bytes`) that the routes enforce; everything
/// else has the JSON one.
fn body_limit(state: &AppState, headers: &axum::http::HeaderMap) -> usize {
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let json = state.config.server.max_body_bytes;
    if multipart {
        json.max(state.config.images.max_upload_bytes + MULTIPART_FRAMING)
    } else {
        json
    }
}

async fn replay(state: &AppState, principal: &str, key: &str, request_hash: &str) -> Response {
    let row = sqlx::query(
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE principal = $1 AND key = $2",
    )
    .bind(principal)
    .bind(key)
    .fetch_optional(state.store.pool())
    .await;
    let row = match row {
        Ok(Some(row)) => row,
        Ok(None) => {
            return ApiError::conflict("request_in_progress", "retry this request").into_response();
        }
        Err(err) => return ApiError::from(err).into_response(),
    };
    let stored_hash: String = row.try_get("request_hash").unwrap_or_default();
    if stored_hash != request_hash {
        return ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        )
        .into_response();
    }
    let status: Option<i64> = row.try_get("status_code").unwrap_or(None);
    let response: Option<String> = row.try_get("response").unwrap_or(None);
    let (Some(status), Some(response)) = (status, response) else {
        return ApiError::conflict(
            "request_in_progress",
            "a request with this Idempotency-Key is still being processed",
        )
        .into_response();
    };
    let stored: serde_json::Value = serde_json::from_str(&response).unwrap_or_default();
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let body = stored["body"].as_str().unwrap_or_default().to_owned();
    let content_type = stored["content_type"]
        .as_str()
        .unwrap_or("application/json")
        .to_owned();
    let mut response = (status, body).into_response();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

async fn release(state: &AppState, principal: &str, key: &str) {
    let released = sqlx::query("DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2")
        .bind(principal)
        .bind(key)
        .execute(state.store.pool())
        .await;
    if let Err(err) = released {
        tracing::error!(%err, "could not release idempotency key");
    }
}

/// Keys are scoped to the credential that sent them (hashed, never stored in clear).
fn principal_key(request: &Request) -> String {
    let headers = request.headers();
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return format!("key:{}", secret_hash(auth));
    }
    match crate::auth::session_token(headers) {
        Some(token) => format!("session:{}", secret_hash(token)),
        None => "public".to_owned(),
    }
}
