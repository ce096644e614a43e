//! ipguard's HTTP service: the REST API under `/api/v1` (with its OpenAPI
//! document), the server-rendered portal, and the background jobs that
//! deliver webhooks, restore listings and expire strikes.
//!
//! Handlers are thin: they authenticate, check the caller's role and
//! ownership, parse input into domain types, and call a use case in
//! [`service`], which runs the workflow in one write transaction together
//! with its audit entries and outbox notifications.

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
mod idempotency;
pub mod jobs;
pub mod portal;
pub mod service;

pub use ipguard_domain::Role;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use config::Config;
use ipguard_store::Store;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Detector(#[from] service::detection::DetectorError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("loading the photo index: {0}")]
    Store(#[from] ipguard_store::StoreError),
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub http: reqwest::Client,
    pub detector: Arc<service::detection::Detector>,
    pub images: Arc<service::images::Images>,
}

impl AppState {
    /// The state, with a detection engine for an empty catalog; serving
    /// (`launch_with_tcp_listener`) loads the stored catalog first.
    pub fn new(store: Store, config: Config) -> Result<AppState, StartError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_millis(config.webhooks.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let detector = service::detection::Detector::new(config.detection.clone())?;
        let images = service::images::Images::new(&config.images)?;
        Ok(AppState {
            store,
            config: Arc::new(config),
            http,
            detector: Arc::new(detector),
            images: Arc::new(images),
        })
    }

    pub fn policy(&self) -> &ipguard_domain::policy::Policy {
        &self.config.policy
    }
}

/// The whole router: API, OpenAPI document, health check.
pub fn app(state: AppState) -> Router {
    let limit = state.config.server.max_body_bytes;
    let (api, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .merge(portal::router())
        .fallback(|| async {
            error::ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "route_not_found",
                "no such route",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves on an already bound listener until `shutdown` resolves, with the
/// background jobs running beside it. Tests pass a `127.0.0.1:0` listener.
pub async fn launch_with_tcp_listener(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    state.detector.reload(&state.store).await?;
    let started = std::time::Instant::now();
    let how = state
        .images
        .index
        .open(&state.store, &state.config.images)
        .await?;
    tracing::info!(
        how,
        hashes = state.images.index.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "photo index ready"
    );
    let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn(jobs::run(state.clone(), jobs_stopped));
    let result = axum::serve(listener, app(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_jobs.send(true);
    let _ = jobs.await;
    state
        .images
        .index
        .save(&state.store, &state.config.images)
        .await;
    Ok(result?)
}
