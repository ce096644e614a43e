//! The seller's page: its removed listings with their statements of
//! reasons, its strikes and penalty, and a form to contest each removal.

use super::layout::{csrf_field, flash, item_status_label, maybe_when, page, statement, when};
use super::{PortalForm, PortalPath, PortalQuery, PortalResult, PortalUser};
use crate::AppState;
use crate::api::in_tx;
use crate::service::challenges::{self, ChallengeInput};
use crate::service::to_datetime;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ipguard_domain::reasons::StatementOfReasons;
use ipguard_domain::rules::{self, StrikeFact};
use ipguard_domain::{ChallengeKind, ItemStatus};
use ipguard_store::now_millis;
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;

/// How many of the newest removals the page shows.
const REMOVALS_SHOWN: i64 = 200;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OverviewQuery {
    /// Set after a challenge was filed, to confirm it.
    challenged: Option<i64>,
}

struct Removal {
    item_id: i64,
    status: String,
    platform: String,
    ext_id: String,
    title: String,
    infringement_type: String,
    removed_at: Option<i64>,
    decided_at: Option<i64>,
    restored_at: Option<i64>,
    statement: Option<StatementOfReasons>,
    challenge: Option<(String, String)>,
}

impl Removal {
    /// Whether the form to contest is offered: the removal stands, no
    /// challenge is open, and the window has not closed. The use case checks
    /// all of this again; this only avoids offering a form bound to fail.
    fn contest_deadline(&self, state: &AppState) -> Option<i64> {
        let contestable = self.status == ItemStatus::Upheld.as_str()
            || self.status == ItemStatus::RemovedPendingReview.as_str();
        let open = self
            .challenge
            .as_ref()
            .is_some_and(|(_, status)| status == "pending" || status == "awaiting_legal_action");
        if !contestable || open {
            return None;
        }
        let decided = self.decided_at.or(self.removed_at)?;
        let deadline =
            rules::challenge_deadline(state.policy(), to_datetime(decided)).timestamp_millis();
        (deadline > now_millis()).then_some(deadline)
    }
}

async fn removals(state: &AppState, seller: i64) -> PortalResult<Vec<Removal>> {
    let rows = sqlx::query(
        "SELECT i.id, i.status, i.removed_at, i.decided_at, i.restored_at, l.platform, l.ext_id, l.title, \
                n.infringement_type, \
                (SELECT d.statement FROM decisions d WHERE d.item_id = i.id ORDER BY d.id DESC LIMIT 1) AS statement, \
                (SELECT c.kind FROM challenges c WHERE c.item_id = i.id ORDER BY c.id DESC LIMIT 1) AS challenge_kind, \
                (SELECT c.status FROM challenges c WHERE c.item_id = i.id ORDER BY c.id DESC LIMIT 1) AS challenge_status \
         FROM notice_items i JOIN listings l ON l.id = i.listing_id JOIN notices n ON n.id = i.notice_id \
         WHERE l.seller_id = $1 AND i.removed_at IS NOT NULL ORDER BY i.id DESC LIMIT $2",
    )
    .bind(seller)
    .bind(REMOVALS_SHOWN)
    .fetch_all(state.store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let statement: Option<String> = row.try_get("statement")?;
            let kind: Option<String> = row.try_get("challenge_kind")?;
            let status: Option<String> = row.try_get("challenge_status")?;
            Ok(Removal {
                item_id: row.try_get("id")?,
                status: row.try_get("status")?,
                platform: row.try_get("platform")?,
                ext_id: row.try_get("ext_id")?,
                title: row.try_get("title")?,
                infringement_type: row.try_get("infringement_type")?,
                removed_at: row.try_get("removed_at")?,
                decided_at: row.try_get("decided_at")?,
                restored_at: row.try_get("restored_at")?,
                statement: statement.and_then(|s| serde_json::from_str(&s).ok()),
                challenge: kind.zip(status),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

pub async fn overview(
    State(state): State<AppState>,
    user: PortalUser,
    PortalQuery(query): PortalQuery<OverviewQuery>,
) -> PortalResult<Markup> {
    let seller = user.principal.seller()?;
    let pool = state.store.pool();
    let shop = sqlx::query(
        "SELECT s.platform, s.ext_id, s.display_name, s.person_id, p.penalty, p.penalty_since FROM sellers s \
         JOIN persons p ON p.id = s.person_id WHERE s.id = $1",
    )
    .bind(seller)
    .fetch_one(pool)
    .await?;
    let person: i64 = shop.try_get("person_id")?;
    let now = now_millis();
    // Strikes count against the person behind the shop, so every shop of
    // that person shows them.
    let strike_rows = sqlx::query(
        "SELECT item_id, infringement_type, weight, given_at, expires_at, revoked_at, revoked_reason \
         FROM strikes WHERE person_id = $1 ORDER BY id DESC",
    )
    .bind(person)
    .fetch_all(pool)
    .await?;
    let facts = strike_rows
        .iter()
        .map(|row| {
            Ok(StrikeFact {
                weight: row.try_get("weight")?,
                expires_at: to_datetime(row.try_get("expires_at")?),
                revoked: row.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let active_weight = rules::active_strike_weight(&facts, to_datetime(now));
    let history = sqlx::query(
        "SELECT penalty, active_weight, reason, applied_at FROM penalty_history WHERE person_id = $1 ORDER BY id DESC",
    )
    .bind(person)
    .fetch_all(pool)
    .await?;
    let removals = removals(&state, seller).await?;
    let body = html! {
        (flash(query.challenged.map(|id| format!("Your challenge of item {id} was filed; a different reviewer will decide it."))))
        p {
            "Shop " strong { (shop.try_get::<String, _>("display_name")?) }
            " (" (shop.try_get::<String, _>("platform")?) " / " (shop.try_get::<String, _>("ext_id")?) "). "
            "Current penalty: " strong { (shop.try_get::<String, _>("penalty")?.replace('_', " ")) }
            @if let Some(since) = shop.try_get::<Option<i64>, _>("penalty_since")? { " since " (when(since)) }
            ". Active strike weight: " (format!("{active_weight:.1}")) "."
        }
        h2 { "Removed listings" }
        @if removals.is_empty() { p { "None of your listings was removed." } }
        @for removal in &removals {
            section.card {
                h3 { (removal.platform) " / " (removal.ext_id) ": " (removal.title) }
                p {
                    "Notice item " (removal.item_id) " alleging " (removal.infringement_type.replace('_', " ")) ". "
                    "Status: " (item_status_label(&removal.status)) ". Removed " (maybe_when(removal.removed_at)) "."
                    @if let Some(restored) = removal.restored_at { " Restored " (when(restored)) "." }
                }
                @if let Some((kind, status)) = &removal.challenge {
                    p { "Your " (kind.replace('_', " ")) ": " (status.replace('_', " ")) "." }
                }
                @match &removal.statement {
                    Some(reasons) => { h4 { "Statement of reasons" } (statement(reasons)) }
                    None => { p { "The statement of reasons is not available yet." } }
                }
                @if let Some(deadline) = removal.contest_deadline(&state) {
                    form.card method="post" action={"/portal/seller/items/" (removal.item_id) "/challenge"} {
                        (csrf_field(&user))
                        p { "You can contest this removal until " (when(deadline)) "." }
                        label for={"kind-" (removal.item_id)} { "How" }
                        select id={"kind-" (removal.item_id)} name="kind" {
                            option value="appeal" { "appeal (the platform reviews its decision)" }
                            option value="counter_notice" { "counter-notice (the rights holder may start legal action)" }
                        }
                        label for={"reasons-" (removal.item_id)} { "Why the removal was wrong" }
                        textarea id={"reasons-" (removal.item_id)} name="reasons" rows="3" {}
                        label for={"evidence-" (removal.item_id)} { "Evidence, one reference a line (invoices, authorisation letters, URLs)" }
                        textarea id={"evidence-" (removal.item_id)} name="evidence" rows="2" {}
                        button type="submit" { "Contest" }
                    }
                }
            }
        }
        h2 { "Strikes" }
        table {
            tr { th { "Item" } th { "Type" } th { "Weight" } th { "Given" } th { "Expires" } th { "Counts" } }
            @for (row, fact) in strike_rows.iter().zip(&facts) {
                tr {
                    td { (row.try_get::<i64, _>("item_id")?) }
                    td { (row.try_get::<String, _>("infringement_type")?.replace('_', " ")) }
                    td { (format!("{:.1}", fact.weight)) }
                    td { (when(row.try_get("given_at")?)) }
                    td { (when(row.try_get("expires_at")?)) }
                    td {
                        @if let Some(reason) = row.try_get::<Option<String>, _>("revoked_reason")? {
                            "no, revoked: " (reason)
                        } @else if fact.expires_at.timestamp_millis() <= now {
                            "no, expired"
                        } @else {
                            "yes"
                        }
                    }
                }
            }
        }
        h2 { "Penalty history" }
        table {
            tr { th { "When" } th { "Penalty" } th { "Active weight" } th { "Reason" } }
            @for row in &history {
                tr {
                    td { (when(row.try_get("applied_at")?)) }
                    td { (row.try_get::<String, _>("penalty")?.replace('_', " ")) }
                    td { (format!("{:.1}", row.try_get::<f64, _>("active_weight")?)) }
                    td { (row.try_get::<String, _>("reason")?) }
                }
            }
        }
    };
    Ok(page(
        "Your removals, strikes and penalty",
        Some(&user),
        body,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChallengeForm {
    csrf: String,
    kind: String,
    reasons: String,
    evidence: String,
}

pub async fn challenge(
    State(state): State<AppState>,
    user: PortalUser,
    PortalPath(item): PortalPath<i64>,
    PortalForm(form): PortalForm<ChallengeForm>,
) -> PortalResult<Response> {
    let seller = user.principal.seller()?;
    user.check_csrf(&form.csrf)?;
    let kind: ChallengeKind = form.kind.parse().map_err(|_| {
        super::PortalError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "choose an appeal or a counter-notice",
        )
    })?;
    let input = ChallengeInput {
        kind,
        reasons: form.reasons,
        evidence: form
            .evidence
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    in_tx!(state, |tx| challenges::file(
        &mut tx,
        state.policy(),
        seller,
        user.principal.user_id,
        item,
        input,
        now_millis()
    )
    .await?);
    Ok(Redirect::to(&format!("/portal/seller?challenged={item}")).into_response())
}
