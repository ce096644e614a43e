//! Photos: rights holders' reference photos for their brands, and listing
//! photos uploaded by the marketplace's integration. Uploads are multipart;
//! every file is decoded and hashed before anything is written, so one bad
//! file refuses the whole upload and nothing is half-stored.

use super::in_tx;
use crate::AppState;
use crate::auth::Principal;
use crate::config::ImagesConfig;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::body_rejection;
use crate::service::images::{self, Hashed, Photo};
use crate::service::rfc3339;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ipguard_domain::Role;
use ipguard_domain::notice::FieldError;
use ipguard_store::audit;
use ipguard_store::now_millis;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_reference_images, list_reference_images))
        .routes(routes!(reference_image_content))
        .routes(routes!(delete_reference_image))
        .routes(routes!(upload_listing_images, list_listing_images))
        .routes(routes!(listing_image_content))
        // Uploads count their bytes themselves against `images.max_upload_bytes`
        // and stop reading there; the server-wide JSON limit is too small.
        .layer(DefaultBodyLimit::disable())
}

/// One uploaded file.
pub(crate) struct Upload {
    filename: String,
    bytes: Arc<Vec<u8>>,
}

/// A multipart body: its files, and its text fields (the portal's CSRF token).
pub(crate) struct UploadForm {
    pub files: Vec<Upload>,
    pub fields: BTreeMap<String, String>,
}

/// Longest text field kept from a multipart body.
const MAX_TEXT_FIELD: usize = 4096;

/// Reads a multipart body, refusing it once it passes the per-file or the
/// per-upload byte limit. Parts with a file name are files; the others are
/// short text fields.
pub(crate) async fn read_uploads(
    multipart: Result<Multipart, MultipartRejection>,
    config: &ImagesConfig,
) -> ApiResult<UploadForm> {
    let mut multipart = multipart.map_err(|rejection| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "send multipart/form-data with one or more files ({})",
                rejection.body_text()
            ),
        )
    })?;
    let multipart_error = |err: axum::extract::multipart::MultipartError| {
        body_rejection(err.status(), err.body_text())
    };
    let too_large =
        |detail: String| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", detail);
    let mut uploads = Vec::new();
    let mut fields = BTreeMap::new();
    let mut total = 0_usize;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        let Some(filename) = field.file_name().map(|name| name.trim().to_owned()) else {
            let name = field.name().unwrap_or_default().to_owned();
            let text = field.text().await.map_err(multipart_error)?;
            total += text.len();
            if text.len() > MAX_TEXT_FIELD || total > config.max_upload_bytes {
                return Err(ApiError::field(&name, "too long"));
            }
            fields.insert(name, text);
            continue;
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            total += chunk.len();
            if total > config.max_upload_bytes {
                return Err(too_large(format!(
                    "the upload exceeds {} bytes",
                    config.max_upload_bytes
                )));
            }
            if (bytes.len() + chunk.len()) as u64 > config.max_image_bytes {
                return Err(too_large(format!(
                    "`{filename}` exceeds the {}-byte limit for one photo",
                    config.max_image_bytes
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        uploads.push(Upload {
            filename,
            bytes: Arc::new(bytes),
        });
    }
    if uploads.is_empty() {
        return Err(ApiError::field("files", "send at least one image file"));
    }
    Ok(UploadForm {
        files: uploads,
        fields,
    })
}

/// Hashes every upload; any file that is not a usable image refuses them all.
/// `min_quality` applies to reference photos, which must match reliably.
async fn hash_uploads(
    state: &AppState,
    uploads: &[Upload],
    min_quality: Option<u8>,
) -> ApiResult<Vec<Hashed>> {
    let config = &state.config.images;
    let mut hashed = Vec::with_capacity(uploads.len());
    let mut unreadable = Vec::new();
    let mut flat = Vec::new();
    for (i, upload) in uploads.iter().enumerate() {
        let field = format!("files[{i}]");
        match images::hash_photo(&state.images, upload.bytes.clone(), config).await? {
            Err(err) => unreadable.push(FieldError::new(
                field,
                format!("{}: {err}", upload.filename),
            )),
            Ok(photo) if min_quality.is_some_and(|min| photo.quality < min) => {
                flat.push(FieldError::new(
                    field,
                    format!(
                        "{}: PDQ quality {} is under the minimum of {}; the photo is too flat or blurred to match reliably",
                        upload.filename,
                        photo.quality,
                        min_quality.unwrap_or_default()
                    ),
                ));
            }
            Ok(photo) => hashed.push(photo),
        }
    }
    if !unreadable.is_empty() {
        unreadable.extend(flat);
        return Err(ApiError::validation(unreadable).with_code("invalid_image"));
    }
    if !flat.is_empty() {
        return Err(ApiError::validation(flat).with_code("low_quality_image"));
    }
    Ok(hashed)
}

/// A photo's bytes, served with its image type only.
fn photo_response(bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, images::content_type(&bytes)),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response()
}

/// The brand's owning organisation, if the caller may see (or, with
/// `change`, change) its photos: the rights holder owning it, staff to see,
/// administrators to change. Anyone else is told it does not exist.
pub(crate) async fn brand_access(
    state: &AppState,
    principal: &Principal,
    brand_id: i64,
    change: bool,
) -> ApiResult<i64> {
    let org: i64 = sqlx::query("SELECT org_id FROM brands WHERE id = $1")
        .bind(brand_id)
        .fetch_optional(state.store.pool())
        .await?
        .ok_or_else(|| ApiError::not_found("brand"))?
        .try_get("org_id")?;
    let owner = principal.role == Role::RightsHolder && principal.org_id == Some(org);
    let staff = if change {
        principal.role == Role::Admin
    } else {
        principal.is_staff()
    };
    if owner || staff {
        Ok(org)
    } else {
        Err(ApiError::not_found("brand"))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferenceImageView {
    pub id: i64,
    pub brand_id: i64,
    pub filename: String,
    /// PDQ hash, 64 hex digits.
    pub pdq: String,
    /// PDQ quality, 0–100.
    pub quality: i64,
    /// Where the photo itself is served.
    pub content: String,
    pub uploaded_at: String,
}

fn reference_view(row: &sqlx::any::AnyRow) -> Result<ReferenceImageView, sqlx::Error> {
    let id: i64 = row.try_get("id")?;
    let brand_id: i64 = row.try_get("brand_id")?;
    Ok(ReferenceImageView {
        id,
        brand_id,
        filename: row.try_get("filename")?,
        pdq: row.try_get("pdq")?,
        quality: row.try_get("quality")?,
        content: images::reference_photo_path(brand_id, id),
        uploaded_at: rfc3339(row.try_get("created_at")?),
    })
}

const REFERENCE_COLUMNS: &str = "id, brand_id, filename, pdq, quality, created_at";

/// Adds reference photos to a brand (its rights holder, or an
/// administrator). Listings whose photos match are scanned again at once.
#[utoipa::path(post, path = "/api/v1/brands/{id}/reference-images", tag = "images", params(("id" = i64, Path)),
    request_body(content_type = "multipart/form-data", description = "One or more JPEG, PNG, WebP or GIF files."),
    responses((status = 201, body = Vec<ReferenceImageView>), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn upload_reference_images(
    State(state): State<AppState>,
    principal: Principal,
    Path(brand_id): Path<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<impl IntoResponse> {
    // Checked before the body is read, so strangers cannot make us read it.
    brand_access(&state, &principal, brand_id, true).await?;
    let form = read_uploads(multipart, &state.config.images).await?;
    let views = add_reference_photos(&state, &principal, brand_id, form.files).await?;
    Ok((StatusCode::CREATED, axum::Json(views)))
}

/// Hashes and stores reference photos, records the listing photos they
/// match and scans those listings again; the API and the portal both add
/// photos through here. All or nothing: one unusable file refuses all.
pub(crate) async fn add_reference_photos(
    state: &AppState,
    principal: &Principal,
    brand_id: i64,
    uploads: Vec<Upload>,
) -> ApiResult<Vec<ReferenceImageView>> {
    brand_access(state, principal, brand_id, true).await?;
    let config = &state.config.images;
    let hashed = hash_uploads(state, &uploads, Some(config.min_quality)).await?;
    let now = now_millis();
    let index = &state.images.index;
    let added = in_tx!(state, |tx| {
        let mut added = Vec::new();
        let mut rescan = BTreeSet::new();
        for (upload, photo) in uploads.iter().zip(&hashed) {
            let row = sqlx::query(&format!(
                "INSERT INTO reference_images (brand_id, filename, pdq, quality, content, created_at, dihedral, uploaded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {REFERENCE_COLUMNS}"
            ))
            .bind(brand_id)
            .bind(&upload.filename)
            .bind(photo.original().to_hex())
            .bind(i64::from(photo.quality))
            .bind(upload.bytes.as_ref().clone())
            .bind(now)
            .bind(images::format_dihedral(&photo.hashes))
            .bind(principal.user_id)
            .fetch_one(&mut *tx)
            .await?;
            let view = reference_view(&row)?;
            for (found, distance) in
                images::verified_matches(&mut tx, index, config, &photo.hashes, None).await?
            {
                if let Photo::Listing {
                    listing_id,
                    position,
                } = found
                {
                    images::insert_reference_match(
                        &mut tx,
                        listing_id,
                        i64::from(position),
                        view.id,
                        distance,
                        now,
                    )
                    .await?;
                    rescan.insert(listing_id);
                }
            }
            audit::append(
                &mut tx,
                &principal.actor(),
                "reference_image.added",
                "reference_image",
                view.id,
                &json!(null),
                &json!({"brand_id": brand_id, "filename": view.filename, "pdq": view.pdq, "quality": view.quality}),
            )
            .await?;
            added.push((view, photo.hashes));
        }
        let generation = images::index::bump_generation(&mut tx).await?;
        for (view, _) in &added {
            images::index::stamp_reference(&mut tx, generation, view.id).await?;
        }
        images::reassess(&mut tx, state, &rescan, now).await?;
        added
    });
    let mut views = Vec::with_capacity(added.len());
    for (view, hashes) in added {
        index.add_reference(view.id, &hashes);
        views.push(view);
    }
    Ok(views)
}

/// A brand's reference photos (its rights holder, or staff).
#[utoipa::path(get, path = "/api/v1/brands/{id}/reference-images", tag = "images", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ReferenceImageView>), (status = 404, body = Problem)))]
async fn list_reference_images(
    State(state): State<AppState>,
    principal: Principal,
    Path(brand_id): Path<i64>,
) -> ApiResult<axum::Json<Vec<ReferenceImageView>>> {
    brand_access(&state, &principal, brand_id, false).await?;
    let views = sqlx::query(&format!(
        "SELECT {REFERENCE_COLUMNS} FROM reference_images WHERE brand_id = $1 ORDER BY id"
    ))
    .bind(brand_id)
    .fetch_all(state.store.pool())
    .await?
    .iter()
    .map(reference_view)
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(axum::Json(views))
}

/// A reference photo itself (its rights holder, or staff).
#[utoipa::path(get, path = "/api/v1/brands/{id}/reference-images/{image_id}/content", tag = "images",
    params(("id" = i64, Path), ("image_id" = i64, Path)),
    responses((status = 200, description = "The photo as uploaded", content_type = "image/*"), (status = 404, body = Problem)))]
async fn reference_image_content(
    State(state): State<AppState>,
    principal: Principal,
    Path((brand_id, image_id)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    brand_access(&state, &principal, brand_id, false).await?;
    let bytes: Vec<u8> =
        sqlx::query("SELECT content FROM reference_images WHERE id = $1 AND brand_id = $2")
            .bind(image_id)
            .bind(brand_id)
            .fetch_optional(state.store.pool())
            .await?
            .ok_or_else(|| ApiError::not_found("reference image"))?
            .try_get("content")?;
    Ok(photo_response(bytes))
}

/// Removes a reference photo (its rights holder, or an administrator);
/// listings it matched are scanned again without it.
#[utoipa::path(delete, path = "/api/v1/brands/{id}/reference-images/{image_id}", tag = "images",
    params(("id" = i64, Path), ("image_id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_reference_image(
    State(state): State<AppState>,
    principal: Principal,
    Path((brand_id, image_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    brand_access(&state, &principal, brand_id, true).await?;
    let now = now_millis();
    in_tx!(state, |tx| {
        let rescan: BTreeSet<i64> = sqlx::query(
            "SELECT DISTINCT listing_id FROM reference_matches WHERE reference_id = $1",
        )
        .bind(image_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get("listing_id"))
        .collect::<Result<_, sqlx::Error>>()?;
        sqlx::query("SELECT id FROM reference_images WHERE id = $1 AND brand_id = $2")
            .bind(image_id)
            .bind(brand_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::not_found("reference image"))?;
        sqlx::query("DELETE FROM reference_matches WHERE reference_id = $1")
            .bind(image_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM reference_images WHERE id = $1")
            .bind(image_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &principal.actor(),
            "reference_image.deleted",
            "reference_image",
            image_id,
            &json!({"brand_id": brand_id}),
            &json!(null),
        )
        .await?;
        images::reassess(&mut tx, &state, &rescan, now).await?;
    });
    state.images.index.remove_reference(image_id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListingImageView {
    pub position: i64,
    /// The URL as listed, or `upload:FILENAME`.
    pub source: String,
    /// `pending` (waiting for the fetcher), `hashed` or `failed`.
    pub status: String,
    pub pdq: Option<String>,
    pub quality: Option<i64>,
    /// Why the photo could not be fetched or hashed, or why it is not matched.
    pub error: Option<String>,
    pub attempts: i64,
    /// Where the photo is served, once it was fetched or uploaded.
    pub content: Option<String>,
}

/// The listing's internal id, if the caller may see its photos: staff, the
/// seller who owns it, or a rights holder with a finding on it that names
/// one of its brands.
async fn listing_access(
    state: &AppState,
    principal: &Principal,
    platform: &str,
    ext_id: &str,
) -> ApiResult<i64> {
    let row = sqlx::query("SELECT id, seller_id FROM listings WHERE platform = $1 AND ext_id = $2")
        .bind(platform)
        .bind(ext_id)
        .fetch_optional(state.store.pool())
        .await?
        .ok_or_else(|| ApiError::not_found("listing"))?;
    let id: i64 = row.try_get("id")?;
    if principal.is_staff() || principal.seller_id == Some(row.try_get("seller_id")?) {
        return Ok(id);
    }
    if principal.role == Role::RightsHolder
        && let Some(org) = principal.org_id
    {
        let named = sqlx::query(
            "SELECT 1 AS named FROM findings f JOIN finding_brands fb ON fb.finding_id = f.id \
             JOIN brands b ON b.slug = fb.brand_slug WHERE f.listing_id = $1 AND b.org_id = $2 LIMIT 1",
        )
        .bind(id)
        .bind(org)
        .fetch_optional(state.store.pool())
        .await?;
        if named.is_some() {
            return Ok(id);
        }
    }
    Err(ApiError::not_found("listing"))
}

async fn listing_image_views(
    state: &AppState,
    platform: &str,
    ext_id: &str,
    listing_id: i64,
) -> ApiResult<Vec<ListingImageView>> {
    let views = sqlx::query(
        "SELECT position, source, status, pdq, quality, error, attempts, CASE WHEN content IS NULL THEN 0 ELSE 1 END AS stored \
         FROM listing_images WHERE listing_id = $1 ORDER BY position",
    )
    .bind(listing_id)
    .fetch_all(state.store.pool())
    .await?
    .iter()
    .map(|row| {
        let position: i64 = row.try_get("position")?;
        let stored: bool = row.try_get::<i64, _>("stored")? != 0;
        Ok(ListingImageView {
            position,
            source: row.try_get("source")?,
            status: row.try_get("status")?,
            pdq: row.try_get("pdq")?,
            quality: row.try_get("quality")?,
            error: row.try_get("error")?,
            attempts: row.try_get("attempts")?,
            content: stored.then(|| images::listing_photo_path(platform, ext_id, position)),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(views)
}

/// Uploads photos for a listing (administrators, i.e. the platform's
/// integration). They are hashed and matched at once and the listing is
/// scanned again.
#[utoipa::path(post, path = "/api/v1/listings/{platform}/{id}/images", tag = "images",
    params(("platform" = String, Path), ("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "One or more JPEG, PNG, WebP or GIF files."),
    responses((status = 201, body = Vec<ListingImageView>), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn upload_listing_images(
    State(state): State<AppState>,
    principal: Principal,
    Path((platform, ext_id)): Path<(String, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<impl IntoResponse> {
    principal.require(&[Role::Admin])?;
    let listing_id = listing_access(&state, &principal, &platform, &ext_id).await?;
    let config = &state.config.images;
    let uploads = read_uploads(multipart, config).await?.files;
    let hashed = hash_uploads(&state, &uploads, None).await?;
    let now = now_millis();
    let index = &state.images.index;
    let indexed = in_tx!(state, |tx| {
        let present: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM listing_images WHERE listing_id = $1")
                .bind(listing_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
        if usize::try_from(present).unwrap_or(usize::MAX) + uploads.len() > config.max_per_listing {
            return Err(ApiError::field(
                "files",
                format!(
                    "the listing has {present} photos; at most {} are kept per listing",
                    config.max_per_listing
                ),
            ));
        }
        let mut indexed = Vec::new();
        for (upload, photo) in uploads.iter().zip(&hashed) {
            let position =
                images::insert_upload(&mut tx, listing_id, &upload.filename, now).await?;
            if let Some(hash) = images::store_hashed(
                &mut tx,
                index,
                config,
                listing_id,
                position,
                &upload.bytes,
                photo,
                now,
            )
            .await?
            {
                indexed.push((position, hash));
            }
            audit::append(
                &mut tx,
                &principal.actor(),
                "listing_image.uploaded",
                "listing",
                listing_id,
                &json!(null),
                &json!({"position": position, "filename": upload.filename, "pdq": photo.original().to_hex()}),
            )
            .await?;
        }
        images::reassess(&mut tx, &state, &BTreeSet::from([listing_id]), now).await?;
        indexed
    });
    for (position, hash) in indexed {
        if let Ok(position) = u8::try_from(position) {
            index.add_listing_photo(listing_id, position, &hash);
        }
    }
    let views = listing_image_views(&state, &platform, &ext_id, listing_id).await?;
    Ok((StatusCode::CREATED, axum::Json(views)))
}

/// A listing's photos with their fetch and hash state (staff, the seller, or
/// a rights holder whose brand a finding on the listing names).
#[utoipa::path(get, path = "/api/v1/listings/{platform}/{id}/images", tag = "images",
    params(("platform" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Vec<ListingImageView>), (status = 404, body = Problem)))]
async fn list_listing_images(
    State(state): State<AppState>,
    principal: Principal,
    Path((platform, ext_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<Vec<ListingImageView>>> {
    let listing_id = listing_access(&state, &principal, &platform, &ext_id).await?;
    Ok(axum::Json(
        listing_image_views(&state, &platform, &ext_id, listing_id).await?,
    ))
}

/// A listing photo itself (as for the listing's photo list).
#[utoipa::path(get, path = "/api/v1/listings/{platform}/{id}/images/{position}/content", tag = "images",
    params(("platform" = String, Path), ("id" = String, Path), ("position" = i64, Path)),
    responses((status = 200, description = "The photo as fetched or uploaded", content_type = "image/*"), (status = 404, body = Problem)))]
async fn listing_image_content(
    State(state): State<AppState>,
    principal: Principal,
    Path((platform, ext_id, position)): Path<(String, String, i64)>,
) -> ApiResult<Response> {
    let listing_id = listing_access(&state, &principal, &platform, &ext_id).await?;
    let bytes: Option<Vec<u8>> =
        sqlx::query("SELECT content FROM listing_images WHERE listing_id = $1 AND position = $2")
            .bind(listing_id)
            .bind(position)
            .fetch_optional(state.store.pool())
            .await?
            .ok_or_else(|| ApiError::not_found("listing photo"))?
            .try_get("content")?;
    bytes
        .map(photo_response)
        .ok_or_else(|| ApiError::not_found("listing photo"))
}
