//! The reviewer's pages: the queue ordered by deadline with a decision form
//! per listing, pending challenges, and rights waiting for verification.

use super::layout::{csrf_field, flash, item_status_label, page, statement, when};
use super::{PortalError, PortalForm, PortalPath, PortalQuery, PortalResult, PortalUser, ticked};
use crate::AppState;
use crate::api::in_tx;
use crate::auth::{CSRF_HEADER, SESSION_COOKIE};
use crate::error::ApiError;
use crate::service::{challenges, decisions};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use ipguard_domain::notice::RightReference;
use ipguard_domain::reasons::{Ground, GroundKind, StatementInput, StatementOfReasons};
use ipguard_domain::{Outcome, Role};
use ipguard_store::now_millis;
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;
use tower::ServiceExt;

/// How many entries each reviewer list shows; the most urgent come first.
pub(super) const LIST_LIMIT: i64 = 100;

pub(super) const STAFF: &[Role] = &[Role::Reviewer, Role::Admin];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    /// The object just decided, to confirm it.
    decided: Option<i64>,
}

/// The statement-of-reasons fields of a decision form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatementFields {
    facts: String,
    ground_kind: String,
    ground_reference: String,
    ground_explanation: String,
    territorial_scope: String,
}

impl StatementFields {
    pub(super) fn input(self) -> PortalResult<StatementInput> {
        let kind = match self.ground_kind.as_str() {
            "legal" => GroundKind::Legal,
            "contractual" => GroundKind::Contractual,
            _ => {
                return Err(PortalError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "choose a legal or a contractual ground",
                ));
            }
        };
        Ok(StatementInput {
            facts: self.facts,
            ground: Ground {
                kind,
                reference: self.ground_reference,
                explanation: self.ground_explanation,
            },
            territorial_scope: Some(self.territorial_scope).filter(|s| !s.trim().is_empty()),
        })
    }
}

pub(super) fn parse_outcome(outcome: &str) -> PortalResult<Outcome> {
    outcome.parse().map_err(|_| {
        PortalError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "choose whether to uphold or reject",
        )
    })
}

/// The statement inputs every decision form shares.
pub(super) fn statement_inputs(id: i64) -> Markup {
    html! {
        label for={"facts-" (id)} { "Facts relied on" }
        textarea id={"facts-" (id)} name="facts" rows="3" {}
        label for={"ground-kind-" (id)} { "Ground" }
        select id={"ground-kind-" (id)} name="ground_kind" {
            option value="legal" { "legal (an IP law)" }
            option value="contractual" { "contractual (terms of service)" }
        }
        label for={"ground-reference-" (id)} { "Provision relied on" }
        input type="text" id={"ground-reference-" (id)} name="ground_reference"
            placeholder="e.g. EU Trade Mark Regulation art. 9(2)(a)";
        label for={"ground-explanation-" (id)} { "Why the facts fall under it" }
        textarea id={"ground-explanation-" (id)} name="ground_explanation" rows="2" {}
        label for={"scope-" (id)} { "Territorial scope (empty: worldwide)" }
        input type="text" id={"scope-" (id)} name="territorial_scope";
    }
}

/// How the notice names its right: a verified right on file, or a
/// registration given by a submitter without an account.
fn right_text(row: &sqlx::any::AnyRow) -> Result<String, sqlx::Error> {
    if let Some(number) = row.try_get::<Option<String>, _>("registration_number")? {
        let kind: Option<String> = row.try_get("right_kind")?;
        let office: Option<String> = row.try_get("office")?;
        return Ok(format!(
            "{} {number} ({}), verified",
            kind.unwrap_or_default(),
            office.unwrap_or_default()
        ));
    }
    let reference: Option<String> = row.try_get("right_reference")?;
    Ok(
        match reference.and_then(|r| serde_json::from_str::<RightReference>(&r).ok()) {
            Some(r) => format!(
                "{} {} ({}), owner {}, not on file",
                r.kind, r.registration_number, r.office, r.owner
            ),
            None => "—".to_owned(),
        },
    )
}

pub async fn queue(
    State(state): State<AppState>,
    user: PortalUser,
    PortalQuery(query): PortalQuery<DoneQuery>,
) -> PortalResult<Markup> {
    user.require(STAFF)?;
    let rows = sqlx::query(
        "SELECT i.id, i.notice_id, i.status, i.deadline_at, n.infringement_type, n.description, n.trusted, \
                n.right_reference, r.kind AS right_kind, r.registration_number, r.office, \
                l.platform, l.ext_id, l.title, l.description AS listing_description, l.price_amount, l.price_currency \
         FROM notice_items i JOIN notices n ON n.id = i.notice_id JOIN listings l ON l.id = i.listing_id \
         LEFT JOIN ip_rights r ON r.id = n.right_id \
         WHERE i.status IN ('pending', 'removed_pending_review') ORDER BY i.deadline_at, i.id LIMIT $1",
    )
    .bind(LIST_LIMIT)
    .fetch_all(state.store.pool())
    .await?;
    let now = now_millis();
    let body = html! {
        (flash(query.decided.map(|id| format!("Notice item {id} was decided."))))
        @if rows.is_empty() { p { "The queue is empty." } }
        @for row in &rows {
            @let id: i64 = row.try_get("id")?;
            @let deadline: i64 = row.try_get("deadline_at")?;
            @let price: Option<String> = row.try_get("price_amount")?;
            @let currency: Option<String> = row.try_get("price_currency")?;
            section.card {
                h2 {
                    "Item " (id) " of notice " (row.try_get::<i64, _>("notice_id")?) " · "
                    (row.try_get::<String, _>("infringement_type")?.replace('_', " "))
                }
                p {
                    "Due by " (when(deadline)) "."
                    @if deadline < now { " " span.overdue { "Overdue." } }
                    " Status: " (item_status_label(&row.try_get::<String, _>("status")?)) "."
                }
                table {
                    tr { th { "Listing" } td { (row.try_get::<String, _>("platform")?) " / " (row.try_get::<String, _>("ext_id")?) } }
                    tr { th { "Title" } td { (row.try_get::<String, _>("title")?) } }
                    tr { th { "Description" } td { (row.try_get::<String, _>("listing_description")?) } }
                    tr { th { "Price" } td { (price.unwrap_or_default()) " " (currency.unwrap_or_default()) } }
                    tr { th { "Right" } td { (right_text(row)?) } }
                    tr { th { "Notice says" } td { (row.try_get::<String, _>("description")?) } }
                }
                form.card method="post" action={"/portal/review/items/" (id)} {
                    (csrf_field(&user))
                    label for={"outcome-" (id)} { "Decision" }
                    select id={"outcome-" (id)} name="outcome" {
                        option value="uphold" { "uphold: the listing infringes, remove it" }
                        option value="reject" { "reject: no infringement shown" }
                    }
                    (statement_inputs(id))
                    label.check {
                        input type="checkbox" name="manifestly_unfounded" value="yes";
                        " Manifestly unfounded (only with reject; counts against the submitter)"
                    }
                    button type="submit" { "Decide" }
                }
            }
        }
    };
    Ok(page("Review queue", Some(&user), body))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    csrf: String,
    outcome: String,
    manifestly_unfounded: Option<String>,
    #[serde(flatten)]
    statement: StatementFields,
}

pub async fn decide_item(
    State(state): State<AppState>,
    user: PortalUser,
    PortalPath(id): PortalPath<i64>,
    PortalForm(form): PortalForm<DecisionForm>,
) -> PortalResult<Response> {
    user.require(STAFF)?;
    user.check_csrf(&form.csrf)?;
    let input = decisions::DecisionInput {
        outcome: parse_outcome(&form.outcome)?,
        manifestly_unfounded: ticked(&form.manifestly_unfounded),
        statement: form.statement.input()?,
    };
    in_tx!(state, |tx| decisions::decide(
        &mut tx,
        state.policy(),
        user.principal.user_id,
        id,
        input,
        now_millis()
    )
    .await?);
    Ok(Redirect::to(&format!("/portal/review?decided={id}")).into_response())
}

pub async fn challenges(
    State(state): State<AppState>,
    user: PortalUser,
    PortalQuery(query): PortalQuery<DoneQuery>,
) -> PortalResult<Markup> {
    user.require(STAFF)?;
    let rows = sqlx::query(
        "SELECT c.id, c.kind, c.reasons, c.evidence, c.filed_at, i.id AS item_id, n.infringement_type, \
                n.description, l.platform, l.ext_id, l.title, \
                (SELECT d.statement FROM decisions d WHERE d.item_id = i.id ORDER BY d.id DESC LIMIT 1) AS statement \
         FROM challenges c JOIN notice_items i ON i.id = c.item_id JOIN notices n ON n.id = i.notice_id \
         JOIN listings l ON l.id = i.listing_id \
         WHERE c.status = 'pending' ORDER BY c.filed_at, c.id LIMIT $1",
    )
    .bind(LIST_LIMIT)
    .fetch_all(state.store.pool())
    .await?;
    let body = html! {
        (flash(query.decided.map(|id| format!("Challenge {id} was decided."))))
        p { "A challenge must be decided by a reviewer who did not decide the removal." }
        @if rows.is_empty() { p { "No challenge is pending." } }
        @for row in &rows {
            @let id: i64 = row.try_get("id")?;
            @let evidence: String = row.try_get("evidence")?;
            @let evidence: Vec<String> = serde_json::from_str(&evidence).unwrap_or_default();
            @let removal: Option<String> = row.try_get("statement")?;
            @let removal = removal.and_then(|s| serde_json::from_str::<StatementOfReasons>(&s).ok());
            section.card {
                h2 {
                    (row.try_get::<String, _>("kind")?.replace('_', " ")) " " (id)
                    " against item " (row.try_get::<i64, _>("item_id")?)
                }
                p { "Filed " (when(row.try_get("filed_at")?)) "." }
                table {
                    tr { th { "Listing" } td { (row.try_get::<String, _>("platform")?) " / " (row.try_get::<String, _>("ext_id")?) } }
                    tr { th { "Title" } td { (row.try_get::<String, _>("title")?) } }
                    tr { th { "Notice" } td { (row.try_get::<String, _>("infringement_type")?.replace('_', " ")) ": " (row.try_get::<String, _>("description")?) } }
                    tr { th { "Seller's reasons" } td { (row.try_get::<String, _>("reasons")?) } }
                    tr { th { "Evidence" } td { ul { @for e in &evidence { li { (e) } } } } }
                }
                @if let Some(removal) = &removal {
                    h3 { "The removal's statement of reasons" }
                    (statement(removal))
                }
                form.card method="post" action={"/portal/challenges/" (id) "/decision"} {
                    (csrf_field(&user))
                    label for={"outcome-" (id)} { "Decision" }
                    select id={"outcome-" (id)} name="outcome" {
                        option value="uphold" { "grant: the removal was wrong" }
                        option value="reject" { "deny: the removal stands" }
                    }
                    (statement_inputs(id))
                    button type="submit" { "Decide" }
                }
            }
        }
    };
    Ok(page("Pending challenges", Some(&user), body))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChallengeDecisionForm {
    csrf: String,
    outcome: String,
    #[serde(flatten)]
    statement: StatementFields,
}

pub async fn decide_challenge(
    State(state): State<AppState>,
    user: PortalUser,
    PortalPath(id): PortalPath<i64>,
    PortalForm(form): PortalForm<ChallengeDecisionForm>,
) -> PortalResult<Response> {
    user.require(STAFF)?;
    user.check_csrf(&form.csrf)?;
    let input = challenges::ChallengeDecisionInput {
        outcome: parse_outcome(&form.outcome)?,
        statement: form.statement.input()?,
    };
    in_tx!(state, |tx| challenges::decide(
        &mut tx,
        state.policy(),
        user.principal.user_id,
        id,
        input,
        now_millis()
    )
    .await?);
    Ok(Redirect::to(&format!("/portal/challenges?decided={id}")).into_response())
}

pub async fn pending_rights(
    State(state): State<AppState>,
    user: PortalUser,
    PortalQuery(query): PortalQuery<DoneQuery>,
) -> PortalResult<Markup> {
    user.require(STAFF)?;
    let rows = sqlx::query(
        "SELECT r.id, r.kind, r.registration_number, r.office, r.scope, r.owner, r.valid_from, r.valid_until, \
                r.created_at, o.name AS organisation, \
                (SELECT COUNT(*) FROM right_evidence e WHERE e.right_id = r.id) AS evidence \
         FROM ip_rights r JOIN organisations o ON o.id = r.org_id \
         WHERE r.status = 'pending' ORDER BY r.id LIMIT $1",
    )
    .bind(LIST_LIMIT)
    .fetch_all(state.store.pool())
    .await?;
    let body = html! {
        (flash(query.decided.map(|id| format!("Right {id} was decided."))))
        @if rows.is_empty() { p { "No right waits for verification." } }
        @for row in &rows {
            @let id: i64 = row.try_get("id")?;
            section.card {
                h2 { "Right " (id) " claimed by " (row.try_get::<String, _>("organisation")?) }
                table {
                    tr { th { "Kind" } td { (row.try_get::<String, _>("kind")?) } }
                    tr { th { "Registration" } td { (row.try_get::<String, _>("registration_number")?) " (" (row.try_get::<String, _>("office")?) ")" } }
                    tr { th { "Scope" } td { (row.try_get::<String, _>("scope")?) } }
                    tr { th { "Owner" } td { (row.try_get::<String, _>("owner")?) } }
                    tr { th { "Valid" } td {
                        (row.try_get::<Option<String>, _>("valid_from")?.unwrap_or_default()) " – "
                        (row.try_get::<Option<String>, _>("valid_until")?.unwrap_or_default())
                    } }
                    tr { th { "Evidence documents" } td { (row.try_get::<i64, _>("evidence")?) " (GET /api/v1/rights/" (id) ")" } }
                    tr { th { "Claimed" } td { (when(row.try_get("created_at")?)) } }
                }
                form.card method="post" action={"/portal/rights/" (id) "/verification"} {
                    (csrf_field(&user))
                    label for={"status-" (id)} { "Verdict" }
                    select id={"status-" (id)} name="status" {
                        option value="verified" { "verified" }
                        option value="rejected" { "rejected" }
                    }
                    label for={"reason-" (id)} { "Reason (required when rejecting; shown to the rights holder)" }
                    input type="text" id={"reason-" (id)} name="reason";
                    button type="submit" { "Record verdict" }
                }
            }
        }
    };
    Ok(page("Rights to verify", Some(&user), body))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VerificationForm {
    csrf: String,
    status: String,
    reason: String,
}

pub async fn verify_right(
    State(state): State<AppState>,
    user: PortalUser,
    PortalPath(id): PortalPath<i64>,
    PortalForm(form): PortalForm<VerificationForm>,
) -> PortalResult<Response> {
    user.require(STAFF)?;
    user.check_csrf(&form.csrf)?;
    let body = serde_json::json!({
        "status": form.status,
        "reason": Some(form.reason.trim()).filter(|r| !r.is_empty()),
    });
    call_api(
        &state,
        &user,
        &format!("/api/v1/rights/{id}/verification"),
        body,
    )
    .await?;
    Ok(Redirect::to(&format!("/portal/rights/pending?decided={id}")).into_response())
}

/// Runs one REST API call in-process on the user's behalf.
///
/// Verifying a right and deciding a finding have no use case in
/// [`crate::service`]: their checks, audit entries and notifications live
/// in the API handlers. Calling that
/// handler keeps one implementation instead of a copy that could drift.
/// The API router is built per call; verdicts on rights are rare enough
/// that this costs nothing noticeable.
pub(super) async fn call_api(
    state: &AppState,
    user: &PortalUser,
    path: &str,
    body: serde_json::Value,
) -> PortalResult<()> {
    let request = Request::post(path)
        .header(
            header::COOKIE,
            format!("{SESSION_COOKIE}={}", user.session_token),
        )
        .header(CSRF_HEADER, user.csrf())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .map_err(ApiError::internal)?;
    let api = Router::from(crate::api::router()).with_state(state.clone());
    let response = match api.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let problem = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .map_err(ApiError::internal)?;
    let detail = serde_json::from_slice::<serde_json::Value>(&problem)
        .ok()
        .and_then(|problem| problem["detail"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "the request failed".to_owned());
    Err(PortalError::new(status, detail))
}
