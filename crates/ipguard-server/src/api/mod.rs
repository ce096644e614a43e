//! The REST API under `/api/v1`. Every handler is registered together with
//! its OpenAPI description, so the document cannot drift from the routes.

pub mod accounts;
mod detection;
pub(crate) mod images;
mod marketplace;
mod notices;
mod review;
mod rights;
mod webhooks;

use crate::AppState;
use crate::error::ApiResult;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(title = "ipguard", description = "Intellectual-property protection for online marketplaces."),
    components(schemas(crate::error::Problem)),
    modifiers(&Security)
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(accounts::router())
        .merge(marketplace::router())
        .merge(rights::router())
        .merge(notices::router())
        .merge(review::router())
        .merge(webhooks::router())
        .merge(detection::router())
        .merge(images::router())
}

/// Runs `work` in a write transaction and commits it.
macro_rules! in_tx {
    ($state:expr, |$tx:ident| $body:expr) => {{
        let mut $tx = $state.store.begin_write().await?;
        let value = $body;
        $tx.commit().await?;
        value
    }};
}
pub(crate) use in_tx;

/// A created object's id, for endpoints that return nothing else.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
}

fn created<T: serde::Serialize>(value: T) -> ApiResult<(axum::http::StatusCode, axum::Json<T>)> {
    Ok((axum::http::StatusCode::CREATED, axum::Json(value)))
}
