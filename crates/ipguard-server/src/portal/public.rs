//! Pages open to everyone: the start page, logging in and out, and the
//! notice without an account with its tracking page.

use super::form_guard::{self, FormToken};
use super::layout::{field_errors, item_status_label, maybe_when, page, when};
use super::notice_form::{
    SharedFields, declaration_fields, infringement_type_field, listing_fields, platform_ids,
};
use super::{MaybeUser, PortalError, PortalForm, PortalQuery, PortalResult, PortalUser, home_for};
use crate::AppState;
use crate::api::accounts::{session_cookie, start_session};
use crate::api::in_tx;
use crate::auth::{new_secret, secret_hash};
use crate::error::ApiError;
use crate::service::notices::{Filer, file};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use ipguard_domain::notice::{Contact, FieldError, NoticeInput, RightReference, Submitter};
use ipguard_domain::{IpRightKind, NoticeChannel};
use ipguard_store::now_millis;
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;

pub async fn landing(MaybeUser(user): MaybeUser) -> Markup {
    let body = html! {
        p { "ipguard protects trademarks, copyrights, designs and product photos on this marketplace's platforms." }
        @if let Some(user) = &user {
            p { a href=(home_for(user.principal.role)) { "Go to your pages" } }
        } @else {
            ul {
                li { a href="/login" { "Log in" } " — rights holders, sellers and reviewers" }
                li { a href="/report" { "Report an infringement without an account" } }
                li { a href="/track" { "Track a notice filed without an account" } }
            }
        }
    };
    page("ipguard", user.as_ref(), body)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    csrf: String,
    email: String,
    password: String,
}

/// A page with a guarded form, setting the form cookie when it is new.
fn guarded(status: StatusCode, token: &FormToken, body: Markup) -> Response {
    match &token.set_cookie {
        Some(cookie) => (status, [(header::SET_COOKIE, cookie.clone())], body).into_response(),
        None => (status, body).into_response(),
    }
}

fn login_page(email: &str, error: Option<&str>, token: &FormToken) -> Markup {
    let body = html! {
        @if let Some(error) = error {
            p.error { (error) }
        }
        form.card method="post" action="/login" {
            (token.field())
            label for="email" { "Email" }
            input type="email" id="email" name="email" value=(email) required;
            label for="password" { "Password" }
            input type="password" id="password" name="password" required;
            button type="submit" { "Log in" }
        }
    };
    page("Log in", None, body)
}

pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> PortalResult<Response> {
    let token = FormToken::issue(&state, &headers)?;
    Ok(guarded(
        StatusCode::OK,
        &token,
        login_page("", None, &token),
    ))
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    PortalForm(form): PortalForm<LoginForm>,
) -> PortalResult<Response> {
    // Without this a foreign page could log the browser into the
    // attacker's account and collect what the victim then enters.
    form_guard::check(&headers, &form.csrf)?;
    match start_session(&state, &form.email, &form.password).await {
        Ok((token, _, role, _)) => {
            let cookie = session_cookie(&state, &token, false)?;
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(home_for(role))).into_response())
        }
        Err(err) if err.status == StatusCode::UNAUTHORIZED => {
            let token = FormToken::issue(&state, &headers)?;
            Ok(guarded(
                StatusCode::UNAUTHORIZED,
                &token,
                login_page(&form.email, Some(&err.detail), &token),
            ))
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    user: PortalUser,
    PortalForm(form): PortalForm<CsrfOnly>,
) -> PortalResult<Response> {
    user.check_csrf(&form.csrf)?;
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(secret_hash(&user.session_token))
        .execute(state.store.pool())
        .await?;
    let cookie = session_cookie(&state, "", true)?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ReportForm {
    csrf: String,
    kind: String,
    registration_number: String,
    office: String,
    owner: String,
    contact_name: String,
    contact_email: String,
    contact_phone: String,
    #[serde(flatten)]
    shared: SharedFields,
}

fn report_page(
    values: &ReportForm,
    platforms: &[String],
    errors: &[FieldError],
    token: &FormToken,
) -> Markup {
    let body = html! {
        p { "Anyone who owns an IP right, or acts for its owner, can report listings here without an account. \
             You prove the right by its registration and receive a tracking token to follow the notice." }
        @if !errors.is_empty() {
            p.error { "The notice was not filed. Please correct the fields marked below." }
        }
        form.card method="post" action="/report" {
            (token.field())
            h2 { "The right" }
            label for="kind" { "Kind of right" }
            select id="kind" name="kind" {
                @for kind in IpRightKind::ALL {
                    option value=(kind.as_str()) selected[values.kind == kind.as_str()] { (kind.as_str()) }
                }
            }
            (field_errors(errors, "right"))
            label for="registration_number" { "Registration number" }
            input type="text" id="registration_number" name="registration_number" value=(values.registration_number);
            (field_errors(errors, "right.registration_number"))
            label for="office" { "Office or jurisdiction (e.g. EUIPO, USPTO)" }
            input type="text" id="office" name="office" value=(values.office);
            (field_errors(errors, "right.office"))
            label for="owner" { "Owner as registered" }
            input type="text" id="owner" name="owner" value=(values.owner);
            h2 { "The infringement" }
            (infringement_type_field(&values.shared, errors))
            (listing_fields(&values.shared, platforms, errors))
            h2 { "Your contact" }
            label for="contact_name" { "Name" }
            input type="text" id="contact_name" name="contact_name" value=(values.contact_name);
            (field_errors(errors, "contact.name"))
            label for="contact_email" { "Email" }
            input type="email" id="contact_email" name="contact_email" value=(values.contact_email);
            (field_errors(errors, "contact.email"))
            label for="contact_phone" { "Phone (optional)" }
            input type="text" id="contact_phone" name="contact_phone" value=(values.contact_phone);
            h2 { "Declarations" }
            (declaration_fields(&values.shared, errors))
            button type="submit" { "File the notice" }
        }
    };
    page("Report an infringement", None, body)
}

pub async fn report_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> PortalResult<Response> {
    let platforms = platform_ids(&state).await?;
    let token = FormToken::issue(&state, &headers)?;
    let body = report_page(&ReportForm::default(), &platforms, &[], &token);
    Ok(guarded(StatusCode::OK, &token, body))
}

/// Files a notice without an account. The tracking token is shown on this
/// response only, never put in a URL, so it does not end up in logs or the
/// browser's history.
pub async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    PortalForm(form): PortalForm<ReportForm>,
) -> PortalResult<Response> {
    form_guard::check(&headers, &form.csrf)?;
    let platforms = platform_ids(&state).await?;
    let token = FormToken::issue(&state, &headers)?;
    let invalid = |errors: Vec<FieldError>| {
        let body = report_page(&form, &platforms, &errors, &token);
        guarded(StatusCode::UNPROCESSABLE_ENTITY, &token, body)
    };
    let Ok(kind) = form.kind.parse::<IpRightKind>() else {
        return Ok(invalid(vec![FieldError::new(
            "right",
            "choose the kind of right",
        )]));
    };
    let input = NoticeInput {
        right_id: None,
        right: Some(RightReference {
            kind,
            registration_number: form.registration_number.clone(),
            office: form.office.clone(),
            owner: form.owner.clone(),
        }),
        infringement_type: form.shared.infringement_type(),
        listings: form.shared.listing_refs(&platforms),
        description: form.shared.description.clone(),
        declarations: form.shared.declarations(),
        contact: Some(Contact {
            name: form.contact_name.trim().to_owned(),
            email: form.contact_email.trim().to_owned(),
            phone: Some(form.contact_phone.trim().to_owned()).filter(|p| !p.is_empty()),
        }),
    };
    let notice = match input.parse(Submitter::Anonymous, None) {
        Ok(notice) => notice,
        Err(errors) => return Ok(invalid(errors)),
    };
    let (token, token_hash) = new_secret("igt_");
    let filer = Filer {
        org_id: None,
        user_id: None,
        channel: NoticeChannel::Anonymous,
    };
    let filed = async {
        Ok::<_, ApiError>(in_tx!(state, |tx| file(
            &mut tx,
            state.policy(),
            filer,
            notice,
            Some(token_hash),
            now_millis()
        )
        .await?))
    }
    .await;
    let filed = match filed {
        Ok(filed) => filed,
        Err(err) if !err.errors.is_empty() => return Ok(invalid(err.errors)),
        Err(err) => return Err(err.into()),
    };
    let body = html! {
        p.notice { "Notice " (filed.id) " was received. Review is due by " (filed.deadline_at) "." }
        p { "Your tracking token is shown only once. Keep it to follow the notice:" }
        p { code.token { (token) } }
        form.card method="get" action="/track" {
            input type="hidden" name="token" value=(token);
            button type="submit" { "See the notice's status" }
        }
    };
    Ok((StatusCode::CREATED, page("Notice received", None, body)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TrackQuery {
    token: String,
}

pub async fn track(
    State(state): State<AppState>,
    PortalQuery(query): PortalQuery<TrackQuery>,
) -> PortalResult<Markup> {
    let token = query.token.trim();
    let form = html! {
        form.card method="get" action="/track" {
            label for="token" { "Tracking token" }
            input type="text" id="token" name="token" value=(token);
            button type="submit" { "Show status" }
        }
    };
    if token.is_empty() {
        return Ok(page("Track a notice", None, form));
    }
    let pool = state.store.pool();
    let notice = sqlx::query(
        "SELECT id, infringement_type, received_at, deadline_at, decided_at FROM notices WHERE tracking_token_hash = $1",
    )
    .bind(secret_hash(token))
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| {
        PortalError::new(
            StatusCode::NOT_FOUND,
            "No notice has this tracking token. Check that it was copied whole.",
        )
    })?;
    let id: i64 = notice.try_get("id")?;
    let items = sqlx::query(
        "SELECT l.platform, l.ext_id, i.status, i.decided_at FROM notice_items i \
         JOIN listings l ON l.id = i.listing_id WHERE i.notice_id = $1 ORDER BY i.id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let infringement_type: String = notice.try_get("infringement_type")?;
    let body = html! {
        table {
            tr { th { "Notice" } td { (id) } }
            tr { th { "Infringement type" } td { (infringement_type) } }
            tr { th { "Received" } td { (when(notice.try_get("received_at")?)) } }
            tr { th { "Review due by" } td { (when(notice.try_get("deadline_at")?)) } }
            tr { th { "Decided" } td { (maybe_when(notice.try_get("decided_at")?)) } }
        }
        h2 { "Listings" }
        table {
            tr { th { "Platform" } th { "Listing" } th { "Status" } th { "Decided" } }
            @for item in &items {
                tr {
                    td { (item.try_get::<String, _>("platform")?) }
                    td { (item.try_get::<String, _>("ext_id")?) }
                    td { (item_status_label(&item.try_get::<String, _>("status")?)) }
                    td { (maybe_when(item.try_get("decided_at")?)) }
                }
            }
        }
        (form)
    };
    Ok(page("Notice status", None, body))
}
