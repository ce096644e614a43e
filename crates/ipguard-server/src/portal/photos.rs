//! Photos in the portal: the listing photo beside the reference photo (or
//! the removed listing's photo) for every photo reason of a finding, the
//! reviewers' detection queue that shows them, and the rights holder's
//! brand page with its reference photos and an upload form.
//!
//! Photos are shown with plain `<img>` tags pointing at the API's
//! role-checked photo routes, which accept the session cookie on GET; the
//! portal itself never serves image bytes.

use super::layout::{csrf_field, flash, page};
use super::review::{
    LIST_LIMIT, STAFF, StatementFields, call_api, parse_outcome, statement_inputs,
};
use super::{PortalForm, PortalPath, PortalQuery, PortalResult, PortalUser};
use crate::AppState;
use crate::api::images::{add_reference_photos, brand_access, read_uploads};
use crate::extract::Page;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::response::{IntoResponse, Redirect, Response};
use ipguard_detect::Reason;
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;

/// Side-by-side photos for the photo reasons among a finding's reasons.
pub fn evidence(reasons: &serde_json::Value) -> Markup {
    let reasons: Vec<Reason> = serde_json::from_value(reasons.clone()).unwrap_or_default();
    html! {
        @for reason in &reasons {
            @match reason {
                Reason::ImageMatch { brand, image, reference, distance, .. } => {
                    (pair(image, "Listing photo", reference,
                        &format!("Reference photo of {}", brand.as_deref().unwrap_or("the brand")), *distance))
                }
                Reason::RelistedItem { image, removed_listing_id, removed_image, distance } => {
                    (pair(image, "Listing photo", removed_image,
                        &format!("Photo of removed listing {removed_listing_id}"), *distance))
                }
                _ => {}
            }
        }
    }
}

fn pair(left: &str, left_label: &str, right: &str, right_label: &str, distance: u32) -> Markup {
    html! {
        div.photos {
            figure { img src=(left) alt=(left_label); figcaption { (left_label) } }
            figure { img src=(right) alt=(right_label); figcaption { (right_label) } }
            p { "PDQ distance " (distance) " of 256 bits (0 is the same photo)." }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Decided {
    decided: Option<i64>,
    added: Option<usize>,
}

/// Open findings for reviewers, with their photo evidence and a decision form.
pub async fn detection_queue(
    State(state): State<AppState>,
    user: PortalUser,
    PortalQuery(query): PortalQuery<Decided>,
) -> PortalResult<Markup> {
    user.require(STAFF)?;
    let first = Page {
        limit: u32::try_from(LIST_LIMIT).ok(),
        after: None,
    };
    let findings = crate::service::findings::list(&state.store, None, Some("open"), &first).await?;
    let body = html! {
        (flash(query.decided.map(|id| format!("Finding {id} was decided."))))
        @if findings.is_empty() { p { "No finding waits for a reviewer." } }
        @for finding in &findings {
            section.card {
                h2 { "Finding " (finding.id) " · " (finding.platform) ":" (finding.listing_id) }
                p { (finding.title) " · score " (format!("{:.2}", finding.score)) }
                ul {
                    @for reason in serde_json::from_value::<Vec<Reason>>(finding.reasons.clone()).unwrap_or_default() {
                        li { (crate::service::detection::describe(&reason)) }
                    }
                }
                (evidence(&finding.reasons))
                form.card method="post" action={"/portal/review/findings/" (finding.id)} {
                    (csrf_field(&user))
                    label for={"outcome-" (finding.id)} { "Decision" }
                    select id={"outcome-" (finding.id)} name="outcome" {
                        option value="uphold" { "uphold: remove the listing" }
                        option value="reject" { "reject: keep it" }
                    }
                    (statement_inputs(finding.id))
                    button type="submit" { "Decide" }
                }
            }
        }
    };
    Ok(page("Detection queue", Some(&user), body))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FindingDecisionForm {
    csrf: String,
    outcome: String,
    #[serde(flatten)]
    statement: StatementFields,
}

pub async fn decide_finding(
    State(state): State<AppState>,
    user: PortalUser,
    PortalPath(id): PortalPath<i64>,
    PortalForm(form): PortalForm<FindingDecisionForm>,
) -> PortalResult<Response> {
    user.require(STAFF)?;
    user.check_csrf(&form.csrf)?;
    let body = serde_json::json!({
        "outcome": parse_outcome(&form.outcome)?,
        "statement": form.statement.input()?,
    });
    call_api(
        &state,
        &user,
        &format!("/api/v1/findings/{id}/decision"),
        body,
    )
    .await?;
    Ok(Redirect::to(&format!("/portal/review/findings?decided={id}")).into_response())
}

/// The rights holder's brands, each with its reference photos and a form to add more.
pub async fn brands(
    State(state): State<AppState>,
    user: PortalUser,
    PortalQuery(query): PortalQuery<Decided>,
) -> PortalResult<Markup> {
    let org = user.principal.org()?;
    let brands = sqlx::query("SELECT id, slug, name FROM brands WHERE org_id = $1 ORDER BY id")
        .bind(org)
        .fetch_all(state.store.pool())
        .await?;
    let min_quality = state.config.images.min_quality;
    let mut sections = Vec::with_capacity(brands.len());
    for brand in &brands {
        let id: i64 = brand.try_get("id")?;
        let photos = sqlx::query(
            "SELECT id, filename, quality FROM reference_images WHERE brand_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(state.store.pool())
        .await?;
        sections.push(html! {
            section.card {
                h2 { (brand.try_get::<String, _>("name")?) " (" (brand.try_get::<String, _>("slug")?) ")" }
                @if photos.is_empty() { p { "No reference photos yet." } }
                div.photos {
                    @for photo in &photos {
                        @let photo_id: i64 = photo.try_get("id")?;
                        @let filename: String = photo.try_get("filename")?;
                        figure {
                            img src=(crate::service::images::reference_photo_path(id, photo_id)) alt=(filename);
                            figcaption { (filename) " · quality " (photo.try_get::<i64, _>("quality")?) }
                        }
                    }
                }
                form.card method="post" enctype="multipart/form-data" action={"/portal/brands/" (id) "/reference-images"} {
                    (csrf_field(&user))
                    label for={"files-" (id)} { "Add product photos (JPEG, PNG, WebP or GIF; PDQ quality " (min_quality) " or more)" }
                    input type="file" id={"files-" (id)} name="files" accept="image/jpeg,image/png,image/webp,image/gif" multiple;
                    button type="submit" { "Upload" }
                }
            }
        });
    }
    let body = html! {
        (flash(query.added.map(|n| format!("{n} reference photo(s) added; listings using them are flagged."))))
        p { "Listing photos that copy these photos, mirrored, rotated, resized or recompressed, are flagged unless the seller is authorised for the brand." }
        @if brands.is_empty() { p { "You have no brands yet." } }
        @for section in sections { (section) }
    };
    Ok(page("Brands and reference photos", Some(&user), body))
}

/// The brand page's upload form: the session's CSRF token comes in the
/// multipart body and is checked before any photo is looked at.
pub async fn upload_reference_photos(
    State(state): State<AppState>,
    user: PortalUser,
    PortalPath(brand_id): PortalPath<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PortalResult<Response> {
    brand_access(&state, &user.principal, brand_id, true).await?;
    let form = read_uploads(multipart, &state.config.images).await?;
    user.check_csrf(form.fields.get("csrf").map_or("", String::as_str))?;
    let added = add_reference_photos(&state, &user.principal, brand_id, form.files).await?;
    Ok(Redirect::to(&format!("/portal/brands?added={}", added.len())).into_response())
}
