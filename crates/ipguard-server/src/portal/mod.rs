//! The basic server-rendered portal: plain HTML forms, no JavaScript, one
//! page per role's part of the workflow (rights holders file and follow
//! notices, reviewers decide, sellers see and contest removals, anyone can
//! report without an account and track the notice).
//!
//! The portal is deliberately thin. Every state change goes through the same
//! use case in [`crate::service`] that the REST API calls, inside one write
//! transaction, so the two front ends cannot drift apart; the portal only
//! renders pages and turns form fields into the use cases' inputs. It is not
//! the richer portal: lists show the most recent entries without paging, and
//! the only upload is a brand's reference photos (evidence and CSV stay in
//! the API).
//!
//! Security rests on three things: the session cookie (`HttpOnly`,
//! `SameSite=Lax`, set by [`crate::api::accounts::session_cookie`]); the
//! session's CSRF token, carried by every POST form in a hidden field and
//! checked before anything happens; and maud, which escapes every
//! interpolated value.

mod form_guard;
mod holder;
mod layout;
mod notice_form;
mod photos;
mod public;
mod review;
mod seller;

use crate::AppState;
use crate::auth::{self, Principal};
use crate::error::ApiError;
use axum::Router;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use ipguard_domain::Role;
use sha2::{Digest, Sha256};

use layout::page;

/// The portal's routes, to be merged into [`crate::app`].
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(public::landing))
        .route("/login", get(public::login_form).post(public::login))
        .route("/logout", post(public::logout))
        .route("/report", get(public::report_form).post(public::report))
        .route("/track", get(public::track))
        .route("/portal/notices", get(holder::notices))
        .route(
            "/portal/notices/new",
            get(holder::new_notice_form).post(holder::file_notice),
        )
        .route("/portal/findings", get(holder::findings))
        .route("/portal/rights", get(holder::rights))
        .route("/portal/submitter", get(holder::submitter))
        .route("/portal/review", get(review::queue))
        .route("/portal/review/findings", get(photos::detection_queue))
        .route("/portal/review/findings/{id}", post(photos::decide_finding))
        .route("/portal/brands", get(photos::brands))
        .route(
            "/portal/brands/{id}/reference-images",
            // Photo uploads count their bytes against `images.max_upload_bytes`.
            post(photos::upload_reference_photos).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/portal/review/items/{id}", post(review::decide_item))
        .route("/portal/challenges", get(review::challenges))
        .route(
            "/portal/challenges/{id}/decision",
            post(review::decide_challenge),
        )
        .route("/portal/rights/pending", get(review::pending_rights))
        .route(
            "/portal/rights/{id}/verification",
            post(review::verify_right),
        )
        .route("/portal/seller", get(seller::overview))
        .route(
            "/portal/seller/items/{id}/challenge",
            post(seller::challenge),
        )
}

/// An error shown to a person: an HTML page with the message, never a
/// problem document, and never a panic.
#[derive(Debug)]
pub struct PortalError {
    status: StatusCode,
    message: String,
}

impl PortalError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PortalError {
            status,
            message: message.into(),
        }
    }

    fn forged_form() -> Self {
        PortalError::new(
            StatusCode::FORBIDDEN,
            "This form did not come from your current session. Reload the page and try again.",
        )
    }
}

impl From<ApiError> for PortalError {
    fn from(err: ApiError) -> Self {
        // An internal error was logged where it was made; its detail is
        // already the bare "internal error".
        PortalError::new(err.status, err.detail)
    }
}

impl From<sqlx::Error> for PortalError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::from(err).into()
    }
}

impl From<ipguard_store::StoreError> for PortalError {
    fn from(err: ipguard_store::StoreError) -> Self {
        ApiError::from(err).into()
    }
}

impl From<FormRejection> for PortalError {
    fn from(rejection: FormRejection) -> Self {
        PortalError::new(rejection.status(), rejection.body_text())
    }
}

impl From<PathRejection> for PortalError {
    fn from(rejection: PathRejection) -> Self {
        PortalError::new(StatusCode::NOT_FOUND, rejection.body_text())
    }
}

impl From<QueryRejection> for PortalError {
    fn from(rejection: QueryRejection) -> Self {
        PortalError::new(StatusCode::BAD_REQUEST, rejection.body_text())
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = maud::html! {
            p.error { (self.message) }
            p { a href="/" { "Back to the start page" } }
        };
        (self.status, page(title, None, body)).into_response()
    }
}

pub type PortalResult<T> = Result<T, PortalError>;

/// Form bodies, with our HTML error page on a malformed body.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Form), rejection(PortalError))]
pub struct PortalForm<T>(pub T);

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(PortalError))]
pub struct PortalPath<T>(pub T);

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(PortalError))]
pub struct PortalQuery<T>(pub T);

/// A person logged in through the portal. Pages that need one redirect
/// anonymous visitors to the login form instead of answering 401.
#[derive(Clone)]
pub struct PortalUser {
    pub principal: Principal,
    /// The session token, for calls that are made on the user's behalf.
    session_token: String,
}

impl PortalUser {
    /// Checks the CSRF token a form sent against the session's.
    ///
    /// Comparing digests keeps the time taken independent of how much of
    /// the token a forger guessed right.
    fn check_csrf(&self, sent: &str) -> PortalResult<()> {
        let expected = self.principal.csrf.as_deref().map(Sha256::digest);
        if expected.is_some_and(|expected| expected == Sha256::digest(sent)) {
            Ok(())
        } else {
            Err(PortalError::forged_form())
        }
    }

    fn csrf(&self) -> &str {
        self.principal.csrf.as_deref().unwrap_or_default()
    }

    fn require(&self, roles: &[Role]) -> PortalResult<()> {
        Ok(self.principal.require(roles)?)
    }
}

/// The session behind the request's cookie, if it is valid.
async fn session_user(parts: &Parts, state: &AppState) -> PortalResult<Option<PortalUser>> {
    let Some(token) = auth::session_token(&parts.headers) else {
        return Ok(None);
    };
    Ok(auth::by_session(state, token)
        .await?
        .map(|principal| PortalUser {
            principal,
            session_token: token.to_owned(),
        }))
}

impl FromRequestParts<AppState> for PortalUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match session_user(parts, state).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(err) => Err(err.into_response()),
        }
    }
}

/// The logged-in user if there is one, for pages open to everyone.
pub struct MaybeUser(pub Option<PortalUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> PortalResult<Self> {
        session_user(parts, state).await.map(MaybeUser)
    }
}

/// Where each role starts after logging in.
fn home_for(role: Role) -> &'static str {
    match role {
        Role::RightsHolder => "/portal/notices",
        Role::Reviewer | Role::Admin => "/portal/review",
        Role::Seller => "/portal/seller",
    }
}

/// A form field's value counted as ticked: browsers send a checkbox only when it is.
fn ticked(value: &Option<String>) -> bool {
    value.is_some()
}
