//! Extractors that turn bad input into our problem documents instead of
//! axum's plain-text rejections.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(err) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                // The body text names the field path and the expected type.
                err.body_text().replace(
                    "Failed to deserialize the JSON body into the target type: ",
                    "",
                ),
            ),
            JsonRejection::JsonSyntaxError(err) => ApiError::bad_request(
                "malformed_json",
                err.body_text()
                    .replace("Failed to parse the request body as JSON: ", ""),
            ),
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send `Content-Type: application/json`",
            ),
            JsonRejection::BytesRejection(err) => body_rejection(err.status(), err.body_text()),
            other => ApiError::bad_request("bad_request", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", rejection.body_text())
    }
}

/// Maps a failure to read the body; the only expected one is the size limit.
pub fn body_rejection(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            status,
            "payload_too_large",
            "the request body exceeds the size limit",
        )
    } else {
        ApiError::new(status, "unreadable_body", text)
    }
}

/// Reads a raw body (CSV uploads) with the same error mapping.
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|err| body_rejection(err.status(), err.body_text()))
    }
}

/// `?limit=&after=` keyset pagination over ascending ids.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::IntoParams)]
pub struct Page {
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// Return items with an id greater than this (the previous page's `next_after`).
    pub after: Option<i64>,
}

impl Page {
    pub fn limit(&self) -> i64 {
        i64::from(self.limit.unwrap_or(50).clamp(1, 500))
    }

    pub fn after(&self) -> i64 {
        self.after.unwrap_or(0)
    }
}

/// A page of results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<i64>,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, page: &Page, id: impl Fn(&T) -> i64) -> Self {
        let next_after = (items.len() as i64 == page.limit())
            .then(|| items.last().map(id))
            .flatten();
        Paged { items, next_after }
    }
}
