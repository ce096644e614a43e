//! The rights holder's pages: its notices and their status, filing a
//! notice, its rights, and its record in the good-faith program.

use super::layout::{csrf_field, field_errors, flash, item_status_label, maybe_when, page, when};
use super::notice_form::{
    SharedFields, declaration_fields, infringement_type_field, listing_fields, platform_ids,
};
use super::{PortalForm, PortalQuery, PortalResult, PortalUser};
use crate::AppState;
use crate::api::in_tx;
use crate::error::ApiError;
use crate::service::notices::{Filer, file};
use crate::service::trust;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ipguard_domain::notice::{Contact, FieldError, NoticeInput, Submitter};
use ipguard_domain::{InfringementType, NoticeChannel};
use ipguard_store::now_millis;
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;

/// How many of the newest notices the list shows.
const NOTICES_SHOWN: i64 = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoticesQuery {
    /// Set after a notice was filed, to confirm it.
    filed: Option<i64>,
}

struct ItemRow {
    platform: String,
    ext_id: String,
    title: String,
    status: String,
    removed_at: Option<i64>,
    decided_at: Option<i64>,
}

struct NoticeRow {
    id: i64,
    infringement_type: String,
    trusted: bool,
    received_at: i64,
    deadline_at: i64,
    decided_at: Option<i64>,
    items: Vec<ItemRow>,
}

async fn own_notices(state: &AppState, org: i64) -> PortalResult<Vec<NoticeRow>> {
    let rows = sqlx::query(
        "SELECT n.id, n.infringement_type, n.trusted, n.received_at, n.deadline_at, n.decided_at, \
                l.platform, l.ext_id, l.title, i.status, i.removed_at, i.decided_at AS item_decided_at \
         FROM notices n JOIN notice_items i ON i.notice_id = n.id JOIN listings l ON l.id = i.listing_id \
         WHERE n.org_id = $1 AND n.id IN (SELECT id FROM notices WHERE org_id = $1 ORDER BY id DESC LIMIT $2) \
         ORDER BY n.id DESC, i.id",
    )
    .bind(org)
    .bind(NOTICES_SHOWN)
    .fetch_all(state.store.pool())
    .await?;
    let mut notices: Vec<NoticeRow> = Vec::new();
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let item = ItemRow {
            platform: row.try_get("platform")?,
            ext_id: row.try_get("ext_id")?,
            title: row.try_get("title")?,
            status: row.try_get("status")?,
            removed_at: row.try_get("removed_at")?,
            decided_at: row.try_get("item_decided_at")?,
        };
        match notices.last_mut() {
            Some(notice) if notice.id == id => notice.items.push(item),
            _ => notices.push(NoticeRow {
                id,
                infringement_type: row.try_get("infringement_type")?,
                trusted: row.try_get::<i64, _>("trusted")? == 1,
                received_at: row.try_get("received_at")?,
                deadline_at: row.try_get("deadline_at")?,
                decided_at: row.try_get("decided_at")?,
                items: vec![item],
            }),
        }
    }
    Ok(notices)
}

pub async fn notices(
    State(state): State<AppState>,
    user: PortalUser,
    PortalQuery(query): PortalQuery<NoticesQuery>,
) -> PortalResult<Markup> {
    let org = user.principal.org()?;
    let notices = own_notices(&state, org).await?;
    let now = now_millis();
    let body = html! {
        (flash(query.filed.map(|id| format!("Notice {id} was filed."))))
        p { a href="/portal/notices/new" { "File a new notice" } }
        @if notices.is_empty() {
            p { "You have filed no notices yet." }
        }
        @for notice in &notices {
            section.card {
                h2 { "Notice " (notice.id) " · " (notice.infringement_type.replace('_', " "))
                    @if notice.trusted { " · trusted submitter" } }
                p {
                    "Received " (when(notice.received_at)) ". Review due by " (when(notice.deadline_at)) "."
                    @if notice.decided_at.is_none() && notice.deadline_at < now {
                        " " span.overdue { "Overdue." }
                    }
                    @if let Some(decided) = notice.decided_at { " Decided " (when(decided)) "." }
                }
                table {
                    tr { th { "Platform" } th { "Listing" } th { "Title" } th { "Status" } th { "Removed" } th { "Decided" } }
                    @for item in &notice.items {
                        tr {
                            td { (item.platform) }
                            td { (item.ext_id) }
                            td { (item.title) }
                            td { (item_status_label(&item.status)) }
                            td { (maybe_when(item.removed_at)) }
                            td { (maybe_when(item.decided_at)) }
                        }
                    }
                }
            }
        }
    };
    Ok(page("Your notices", Some(&user), body))
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct NoticeForm {
    csrf: String,
    right_id: String,
    #[serde(flatten)]
    shared: SharedFields,
}

/// The organisation's verified rights, the only ones a notice may rely on.
async fn verified_rights(state: &AppState, org: i64) -> PortalResult<Vec<(i64, String)>> {
    sqlx::query(
        "SELECT id, kind, registration_number, office FROM ip_rights \
         WHERE org_id = $1 AND status = 'verified' ORDER BY id",
    )
    .bind(org)
    .fetch_all(state.store.pool())
    .await?
    .iter()
    .map(|row| {
        let label = format!(
            "{} {} ({})",
            row.try_get::<String, _>("kind")?,
            row.try_get::<String, _>("registration_number")?,
            row.try_get::<String, _>("office")?
        );
        Ok((row.try_get("id")?, label))
    })
    .collect()
}

async fn notice_page(
    state: &AppState,
    user: &PortalUser,
    values: &NoticeForm,
    errors: &[FieldError],
) -> PortalResult<Markup> {
    let org = user.principal.org()?;
    let rights = verified_rights(state, org).await?;
    let platforms = platform_ids(state).await?;
    let body = html! {
        @if rights.is_empty() {
            p.error { "You have no verified right yet. A reviewer must verify a right before notices can rely on it." }
        }
        @if !errors.is_empty() {
            p.error { "The notice was not filed. Please correct the fields marked below." }
        }
        form.card method="post" action="/portal/notices/new" {
            (csrf_field(user))
            label for="right_id" { "The right infringed" }
            select id="right_id" name="right_id" {
                @for (id, label) in &rights {
                    option value=(id) selected[values.right_id == id.to_string()] { (label) }
                }
            }
            (field_errors(errors, "right_id"))
            (infringement_type_field(&values.shared, errors))
            (listing_fields(&values.shared, &platforms, errors))
            (field_errors(errors, "contact"))
            h2 { "Declarations" }
            (declaration_fields(&values.shared, errors))
            button type="submit" { "File the notice" }
        }
    };
    Ok(page("File a notice", Some(user), body))
}

/// The notice form, optionally pre-filled from a link (the findings page
/// links here with the listing and a description). Declarations are never
/// pre-ticked: the submitter makes them.
pub async fn new_notice_form(
    State(state): State<AppState>,
    user: PortalUser,
    PortalQuery(prefill): PortalQuery<SharedFields>,
) -> PortalResult<Markup> {
    let form = NoticeForm {
        shared: SharedFields {
            good_faith: None,
            accurate: None,
            authorised: None,
            ..prefill
        },
        ..NoticeForm::default()
    };
    notice_page(&state, &user, &form, &[]).await
}

/// How many findings the page shows at once.
const FINDINGS_SHOWN: u32 = 200;

/// Listings that detection found naming the organisation's brands, with
/// what it saw and what became of them; each live one links to a notice
/// form already filled in.
pub async fn findings(State(state): State<AppState>, user: PortalUser) -> PortalResult<Markup> {
    let org = user.principal.org()?;
    let first_page = crate::extract::Page {
        limit: Some(FINDINGS_SHOWN),
        after: None,
    };
    let findings =
        crate::service::findings::list(&state.store, Some(org), None, &first_page).await?;
    let body = html! {
        p { "Every new or edited listing is checked against your brands. Listings detection was sure about are removed at once; doubtful ones wait for a reviewer; the rest are listed here for you to judge." }
        @if findings.is_empty() {
            p { "Nothing found on your brands yet." }
        } @else {
            table {
                tr { th { "Listing" } th { "Title" } th { "Score" } th { "What detection saw" } th { "Status" } th {} }
                @for finding in findings.iter().filter(|f| f.status != "superseded") {
                    @let reasons = described_reasons(&finding.reasons);
                    tr {
                        td { (finding.platform) ":" (finding.listing_id) }
                        td { (finding.title) }
                        td { (format!("{:.2}", finding.score)) }
                        td { ul { @for reason in &reasons { li { (reason) } } } (super::photos::evidence(&finding.reasons)) }
                        td { (finding_status_label(&finding.status)) }
                        td {
                            @if matches!(finding.status.as_str(), "open" | "noted") {
                                a href=(notice_link(finding, &reasons)) { "File a notice" }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page("Detected listings", Some(&user), body))
}

fn described_reasons(reasons: &serde_json::Value) -> Vec<String> {
    serde_json::from_value::<Vec<ipguard_detect::Reason>>(reasons.clone())
        .unwrap_or_default()
        .iter()
        .map(crate::service::detection::describe)
        .collect()
}

fn finding_status_label(status: &str) -> &str {
    match status {
        "open" => "awaiting a reviewer",
        "removed" => "removed at once",
        "confirmed" => "removed by a reviewer",
        "dismissed" => "kept by a reviewer",
        "noted" => "live, for you to judge",
        other => other,
    }
}

/// The notice form's address with this finding's listing and a description.
fn notice_link(finding: &crate::service::findings::FindingView, reasons: &[String]) -> String {
    let query = [
        (
            "listings",
            format!("{}:{}", finding.platform, finding.listing_id),
        ),
        (
            "description",
            format!(
                "Detected by ipguard (finding {}): {}",
                finding.id,
                reasons.join("; ")
            ),
        ),
        ("infringement_type", "counterfeit".to_owned()),
    ];
    // Plain strings always encode.
    let encoded = serde_urlencoded::to_string(query).unwrap_or_default();
    format!("/portal/notices/new?{encoded}")
}

/// The account holder's contact, which notices filed from an account carry.
async fn account_contact(state: &AppState, user: &PortalUser, org: i64) -> PortalResult<Contact> {
    let name: String = sqlx::query("SELECT name FROM organisations WHERE id = $1")
        .bind(org)
        .fetch_one(state.store.pool())
        .await?
        .try_get("name")?;
    Ok(Contact {
        name,
        email: user.principal.email.clone(),
        phone: None,
    })
}

pub async fn file_notice(
    State(state): State<AppState>,
    user: PortalUser,
    PortalForm(form): PortalForm<NoticeForm>,
) -> PortalResult<Response> {
    user.check_csrf(&form.csrf)?;
    let org = user.principal.org()?;
    let platforms = platform_ids(&state).await?;
    let input = NoticeInput {
        right_id: form.right_id.trim().parse().ok(),
        right: None,
        infringement_type: form.shared.infringement_type(),
        listings: form.shared.listing_refs(&platforms),
        description: form.shared.description.clone(),
        declarations: form.shared.declarations(),
        contact: None,
    };
    let contact = account_contact(&state, &user, org).await?;
    let filer = Filer {
        org_id: Some(org),
        user_id: Some(user.principal.user_id),
        channel: NoticeChannel::Portal,
    };
    let filed = match input.parse(Submitter::Account, Some(contact)) {
        Err(errors) => Err(ApiError::validation(errors)),
        Ok(notice) => {
            async {
                Ok::<_, ApiError>(in_tx!(state, |tx| file(
                    &mut tx,
                    state.policy(),
                    filer,
                    notice,
                    None,
                    now_millis()
                )
                .await?))
            }
            .await
        }
    };
    match filed {
        Ok(filed) => {
            Ok(Redirect::to(&format!("/portal/notices?filed={}", filed.id)).into_response())
        }
        Err(err) if !err.errors.is_empty() => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            notice_page(&state, &user, &form, &err.errors).await?,
        )
            .into_response()),
        Err(err) => Err(err.into()),
    }
}

pub async fn rights(State(state): State<AppState>, user: PortalUser) -> PortalResult<Markup> {
    let org = user.principal.org()?;
    let rows = sqlx::query(
        "SELECT id, kind, registration_number, office, scope, owner, status, status_reason FROM ip_rights \
         WHERE org_id = $1 ORDER BY id",
    )
    .bind(org)
    .fetch_all(state.store.pool())
    .await?;
    let body = html! {
        p { "Rights are added through the API (POST /api/v1/rights) with their evidence; a reviewer verifies each before notices can rely on it." }
        table {
            tr { th { "Id" } th { "Kind" } th { "Registration" } th { "Office" } th { "Scope" } th { "Owner" } th { "Verification" } }
            @for row in &rows {
                tr {
                    td { (row.try_get::<i64, _>("id")?) }
                    td { (row.try_get::<String, _>("kind")?) }
                    td { (row.try_get::<String, _>("registration_number")?) }
                    td { (row.try_get::<String, _>("office")?) }
                    td { (row.try_get::<String, _>("scope")?) }
                    td { (row.try_get::<String, _>("owner")?) }
                    td {
                        (row.try_get::<String, _>("status")?)
                        @if let Some(reason) = row.try_get::<Option<String>, _>("status_reason")? {
                            ": " (reason)
                        }
                    }
                }
            }
        }
    };
    Ok(page("Your rights", Some(&user), body))
}

pub async fn submitter(State(state): State<AppState>, user: PortalUser) -> PortalResult<Markup> {
    let org = user.principal.org()?;
    let policy = state.policy();
    let now = now_millis();
    let mut conn = state.store.pool().acquire().await?;
    let mut by_type = Vec::with_capacity(InfringementType::ALL.len());
    for kind in InfringementType::ALL {
        let record = trust::record(&mut conn, policy, org, *kind, now).await?;
        let trusted = trust::is_trusted(&mut conn, org, *kind).await?;
        by_type.push((*kind, record, trusted));
    }
    let standing = sqlx::query("SELECT standing, standing_until FROM organisations WHERE id = $1")
        .bind(org)
        .fetch_one(&mut *conn)
        .await?;
    let standing_name: String = standing.try_get("standing")?;
    let standing_until: Option<i64> = standing.try_get("standing_until")?;
    let body = html! {
        p {
            "Standing: " strong { (standing_name) }
            @if let Some(until) = standing_until { " until " (when(until)) }
        }
        p {
            "A submitter becomes trusted for an infringement type after at least "
            (policy.trusted.min_decided) " reviewed notice items of that type with at least "
            (format!("{:.0}", policy.trusted.min_upheld_ratio * 100.0))
            " % upheld and none found manifestly unfounded in the last "
            (policy.trusted.abuse_lookback_days) " days. Trusted notices remove listings at once; a reviewer confirms later."
        }
        table {
            tr { th { "Infringement type" } th { "Reviewed" } th { "Upheld" } th { "Accuracy" } th { "Manifestly unfounded (recent)" } th { "Trusted" } }
            @for (kind, record, trusted) in &by_type {
                tr {
                    td { (kind.as_str().replace('_', " ")) }
                    td { (record.decided) }
                    td { (record.upheld) }
                    td {
                        @match record.upheld_ratio() {
                            Some(ratio) => { (format!("{:.1} %", ratio * 100.0)) }
                            None => { "—" }
                        }
                    }
                    td { (record.abusive_recent) }
                    td { @if *trusted { "yes" } @else { "no" } }
                }
            }
        }
    };
    Ok(page("Your accuracy record", Some(&user), body))
}
