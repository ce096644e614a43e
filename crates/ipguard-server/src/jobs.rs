//! Background jobs, run on an interval beside the server: webhook delivery
//! from the outbox, restoration after unanswered counter-notices, penalty
//! relief as strikes expire, the end of submitter suspensions, scanning
//! again listings that share a photo with one just removed, taking up
//! catalog changes and photos that other processes sharing the database
//! made, and fetching listing photos.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::service::{challenges, images, penalties};
use ipguard_domain::webhook::{MAX_ATTEMPTS, backoff_seconds, signature};
use ipguard_store::audit::Actor;
use ipguard_store::now_millis;
use sqlx::Row;
use std::time::Duration;
use tokio::sync::watch;

pub async fn run(state: AppState, stop: watch::Receiver<bool>) {
    // Photo fetches wait on other people's servers; in their own loop a slow
    // host never holds up webhooks, restorations or penalty relief.
    tokio::join!(
        workflow_jobs(state.clone(), stop.clone()),
        photo_fetches(state, stop)
    );
}

async fn workflow_jobs(state: AppState, mut stop: watch::Receiver<bool>) {
    let interval = Duration::from_millis(state.config.server.job_interval_ms.max(10));
    let mut last_round = now_millis();
    loop {
        if let Err(err) = run_once(&state, &mut last_round).await {
            tracing::warn!(code = err.code, detail = %err.detail, "background job failed; retrying next round");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn photo_fetches(state: AppState, mut stop: watch::Receiver<bool>) {
    let interval = Duration::from_millis(state.config.server.job_interval_ms.max(10));
    loop {
        // Stopping mid-round drops the round: each photo's result commits
        // in its own transaction, so an interrupted one leaves its row pending.
        tokio::select! {
            result = images::fetch_due(&state) => {
                if let Err(err) = result {
                    tracing::warn!(code = err.code, detail = %err.detail, "photo fetch round failed; retrying next round");
                }
            }
            _ = stop.changed() => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}

/// One round of every job but photo fetching ([`images::fetch_due`]);
/// public so tests and the CLI can drive it. `last_round` is when the
/// previous round ran: strikes that expired and listings removed since
/// then are acted on, and it is moved to now.
pub async fn run_once(state: &AppState, last_round: &mut i64) -> ApiResult<()> {
    if state
        .detector
        .refresh(&state.store)
        .await
        .map_err(ApiError::internal)?
    {
        tracing::info!("detection engine rebuilt after another process changed the catalog");
    }
    state
        .images
        .index
        .sync(&state.store, &state.config.images)
        .await?;
    let now = now_millis();
    let mut tx = state.store.begin_write().await?;
    challenges::restore_due(&mut tx, state.policy(), now).await?;
    expire_strikes(&mut tx, state, *last_round, now).await?;
    images::reassess_photo_sharers(&mut tx, state, *last_round, now).await?;
    sqlx::query(
        "UPDATE organisations SET standing = 'normal', standing_until = NULL \
         WHERE standing = 'suspended' AND standing_until <= $1",
    )
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    *last_round = now;
    deliver_webhooks(state).await
}

/// Re-applies the ladder to people whose strikes expired since the last round.
async fn expire_strikes(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    since: i64,
    now: i64,
) -> ApiResult<()> {
    let people = sqlx::query(
        "SELECT DISTINCT person_id FROM strikes WHERE expires_at > $1 AND expires_at <= $2 AND revoked_at IS NULL",
    )
    .bind(since)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    for row in people {
        let person: i64 = row.try_get("person_id")?;
        penalties::recompute(
            conn,
            state.policy(),
            &Actor::System,
            person,
            "strike expired",
            now,
        )
        .await?;
    }
    Ok(())
}

struct Due {
    id: i64,
    attempts: i64,
    next_attempt_at: i64,
    url: String,
    secret: String,
    payload: String,
}

async fn deliver_webhooks(state: &AppState) -> ApiResult<()> {
    let now = now_millis();
    let due = sqlx::query(
        "SELECT d.id, d.attempts, d.next_attempt_at, w.url, w.secret, n.payload FROM webhook_deliveries d \
         JOIN webhooks w ON w.id = d.webhook_id JOIN notifications n ON n.id = d.notification_id \
         WHERE d.status = 'pending' AND d.next_attempt_at <= $1 ORDER BY d.id LIMIT $2",
    )
    .bind(now)
    .bind(i64::from(state.config.webhooks.batch))
    .fetch_all(state.store.pool())
    .await?
    .iter()
    .map(|row| {
        Ok(Due {
            id: row.try_get("id")?,
            attempts: row.try_get("attempts")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            url: row.try_get("url")?,
            secret: row.try_get("secret")?,
            payload: row.try_get("payload")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    // Held while a delivery is in flight: longer than the request may take.
    let lease_ms = i64::try_from(state.config.webhooks.timeout_ms)
        .unwrap_or(i64::MAX / 2)
        .saturating_mul(2);
    for delivery in due {
        // Claim it first: another job runner (a second server, or a run
        // started by hand) may have picked the same row. Whoever moves its
        // time first sends it; if this process dies while sending, the
        // lease runs out and the delivery is tried again.
        let claimed = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = $1 \
             WHERE id = $2 AND status = 'pending' AND next_attempt_at = $3",
        )
        .bind(now_millis().saturating_add(lease_ms))
        .bind(delivery.id)
        .bind(delivery.next_attempt_at)
        .execute(state.store.pool())
        .await?;
        if claimed.rows_affected() == 0 {
            continue;
        }
        let timestamp = now_millis() / 1000;
        let sig = signature(
            delivery.secret.as_bytes(),
            timestamp,
            delivery.payload.as_bytes(),
        );
        let result = state
            .http
            .post(&delivery.url)
            .header("content-type", "application/json")
            .header("ipguard-timestamp", timestamp.to_string())
            .header("ipguard-signature", sig)
            .header("ipguard-delivery", delivery.id.to_string())
            .body(delivery.payload.clone())
            .send()
            .await;
        let attempts = delivery.attempts + 1;
        let (status_code, error) = match &result {
            Ok(response) if response.status().is_success() => {
                (Some(response.status().as_u16()), None)
            }
            Ok(response) => (
                Some(response.status().as_u16()),
                Some(format!("HTTP {}", response.status())),
            ),
            Err(err) => (None, Some(err.to_string())),
        };
        let (status, next) = match &error {
            None => ("delivered", now_millis()),
            Some(_) if attempts >= i64::from(MAX_ATTEMPTS) => ("failed", now_millis()),
            Some(_) => {
                let wait = backoff_seconds(u32::try_from(delivery.attempts).unwrap_or(u32::MAX));
                ("pending", now_millis() + wait * 1000)
            }
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, \
             last_status_code = $4, last_error = $5, delivered_at = $6 WHERE id = $7",
        )
        .bind(status)
        .bind(attempts)
        .bind(next)
        .bind(status_code.map(i64::from))
        .bind(error)
        .bind((status == "delivered").then(now_millis))
        .bind(delivery.id)
        .execute(state.store.pool())
        .await?;
    }
    Ok(())
}
