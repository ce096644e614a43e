//! Platforms, sellers with their verified identities, listings and orders,
//! as the marketplace's integration (an administrator's API key) sends them.

use super::{Created, created, in_tx};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use crate::service::{detection, images, penalties, rfc3339};
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use ipguard_detect::Action;
use ipguard_domain::notice::FieldError;
use ipguard_domain::{Penalty, PlatformKind, Role, rules};
use ipguard_store::audit::{self, Actor};
use ipguard_store::now_millis;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::BTreeSet;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_platform, list_platforms))
        .routes(routes!(create_seller))
        .routes(routes!(get_seller))
        .routes(routes!(upsert_listings))
        .routes(routes!(get_listing))
        .routes(routes!(add_orders))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// Short id used in listings, e.g. `bazaar`.
    pub id: String,
    pub name: String,
    pub kind: PlatformKind,
    /// Public listing URLs start with this; the listing id follows it.
    pub listing_url_prefix: String,
}

/// Registers a platform (administrators).
#[utoipa::path(post, path = "/api/v1/platforms", tag = "marketplace", request_body = Platform,
    responses((status = 201, body = Platform), (status = 409, body = Problem)))]
async fn create_platform(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(platform): ApiJson<Platform>,
) -> ApiResult<impl IntoResponse> {
    principal.require(&[Role::Admin])?;
    let valid_id = !platform.id.is_empty()
        && platform.id.len() <= 40
        && platform
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid_id {
        return Err(ApiError::field(
            "id",
            "1 to 40 characters of a-z, 0-9, - and _",
        ));
    }
    if !platform.listing_url_prefix.starts_with("http") {
        return Err(ApiError::field(
            "listing_url_prefix",
            "must be an http(s) URL prefix",
        ));
    }
    in_tx!(state, |tx| {
        sqlx::query("INSERT INTO platforms (id, name, kind, listing_url_prefix, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&platform.id)
            .bind(&platform.name)
            .bind(platform.kind.as_str())
            .bind(&platform.listing_url_prefix)
            .bind(now_millis())
            .execute(&mut *tx)
            .await?;
        let after = serde_json::to_value(&platform).map_err(ApiError::internal)?;
        audit::append(
            &mut tx,
            &principal.actor(),
            "platform.created",
            "platform",
            &platform.id,
            &json!(null),
            &after,
        )
        .await?;
    });
    created(platform)
}

/// Lists platforms.
#[utoipa::path(get, path = "/api/v1/platforms", tag = "marketplace", responses((status = 200, body = Vec<Platform>)))]
async fn list_platforms(
    State(state): State<AppState>,
    _principal: Principal,
) -> ApiResult<axum::Json<Vec<Platform>>> {
    let rows = sqlx::query("SELECT id, name, kind, listing_url_prefix FROM platforms ORDER BY id")
        .fetch_all(state.store.pool())
        .await?;
    let platforms = rows
        .iter()
        .map(|row| {
            Ok(Platform {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                kind: row
                    .try_get::<String, _>("kind")?
                    .parse()
                    .map_err(ApiError::internal)?,
                listing_url_prefix: row.try_get("listing_url_prefix")?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(axum::Json(platforms))
}

/// Verified identity data, from the platform's seller verification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub legal_name: String,
    pub email: String,
    pub phone: String,
    /// Reference to the identity document checked (not the document itself).
    pub id_document_ref: String,
    pub bank_account_ref: String,
    pub address: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSeller {
    pub platform: String,
    /// The seller's id on the platform.
    pub id: String,
    pub display_name: String,
    pub identity: Identity,
    /// When the account was opened on the platform; new accounts add risk
    /// to suspicious listings. Defaults to the time of this call.
    #[serde(default)]
    pub joined_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SellerCreated {
    pub id: i64,
    /// The person behind the shop; shared with other shops that have the
    /// same identity document, bank account, phone or email.
    pub person_id: i64,
    /// Whether the person was already known from another shop.
    pub linked: bool,
    pub penalty: Penalty,
}

/// Identity attributes that link shops to one person, normalised then hashed
/// so the link table holds no personal data in clear.
fn identity_keys(identity: &Identity) -> Vec<(&'static str, String)> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let compact = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    [
        ("id_document", compact(&identity.id_document_ref)),
        ("bank_account", compact(&identity.bank_account_ref)),
        ("phone", digits(&identity.phone)),
        ("email", identity.email.trim().to_lowercase()),
    ]
    .into_iter()
    .filter(|(_, value)| value.len() >= 4)
    .map(|(kind, value)| (kind, hex::encode(Sha256::digest(value.as_bytes()))))
    .collect()
}

/// Registers a seller and links it into the identity graph (administrators).
/// A seller whose person was closed cannot open a new shop, on any platform.
#[utoipa::path(post, path = "/api/v1/sellers", tag = "marketplace", request_body = NewSeller,
    responses((status = 201, body = SellerCreated), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_seller(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<NewSeller>,
) -> ApiResult<impl IntoResponse> {
    principal.require(&[Role::Admin])?;
    if input.id.trim().is_empty() {
        return Err(ApiError::field("id", "required"));
    }
    let now = now_millis();
    if input.joined_at.is_some_and(|t| t.timestamp_millis() > now) {
        return Err(ApiError::field("joined_at", "lies in the future"));
    }
    let keys = identity_keys(&input.identity);
    let created_seller = in_tx!(state, |tx| {
        let mut existing = None;
        for (kind, hash) in &keys {
            let row = sqlx::query(
                "SELECT person_id FROM identity_links WHERE kind = $1 AND value_hash = $2 LIMIT 1",
            )
            .bind(kind)
            .bind(hash)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                existing = Some(row.try_get::<i64, _>("person_id")?);
                break;
            }
        }
        let person_id = match existing {
            Some(person) => person,
            None => sqlx::query("INSERT INTO persons (created_at) VALUES ($1) RETURNING id")
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?,
        };
        let penalty = penalties::person_penalty(&mut tx, person_id).await?;
        if penalty == Penalty::Closure {
            return Err(ApiError::forbidden(
                "the person behind this seller had a shop closed for repeated infringement and may not open another",
            )
            .with_code("person_closed"));
        }
        let inserted = sqlx::query(
            "INSERT INTO sellers (platform, ext_id, person_id, display_name, legal_name, email, phone, \
             id_document_ref, bank_account_ref, address, created_at, joined_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(&input.platform)
        .bind(input.id.trim())
        .bind(person_id)
        .bind(&input.display_name)
        .bind(&input.identity.legal_name)
        .bind(&input.identity.email)
        .bind(&input.identity.phone)
        .bind(&input.identity.id_document_ref)
        .bind(&input.identity.bank_account_ref)
        .bind(&input.identity.address)
        .bind(now)
        .bind(input.joined_at.map(|t| t.timestamp_millis()))
        .fetch_one(&mut *tx)
        .await;
        let seller_id: i64 = match inserted {
            Ok(row) => row.try_get("id")?,
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(ApiError::conflict(
                    "already_exists",
                    format!("seller `{}` exists on `{}`", input.id, input.platform),
                ));
            }
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                return Err(ApiError::field(
                    "platform",
                    format!("unknown platform `{}`", input.platform),
                ));
            }
            Err(err) => return Err(err.into()),
        };
        for (kind, hash) in &keys {
            sqlx::query("INSERT INTO identity_links (kind, value_hash, seller_id, person_id) VALUES ($1, $2, $3, $4)")
                .bind(kind)
                .bind(hash)
                .bind(seller_id)
                .bind(person_id)
                .execute(&mut *tx)
                .await?;
        }
        let after = json!({"platform": input.platform, "id": input.id, "person_id": person_id});
        audit::append(
            &mut tx,
            &principal.actor(),
            "seller.created",
            "seller",
            seller_id,
            &json!(null),
            &after,
        )
        .await?;
        SellerCreated {
            id: seller_id,
            person_id,
            linked: existing.is_some(),
            penalty,
        }
    });
    created(created_seller)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SellerView {
    pub id: i64,
    pub platform: String,
    pub seller_id: String,
    pub display_name: String,
    pub person_id: i64,
    pub penalty: Penalty,
    pub active_strike_weight: f64,
    pub strikes: Vec<StrikeView>,
    /// Penalty changes with their reasons, newest first.
    pub penalty_history: Vec<PenaltyChange>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StrikeView {
    pub id: i64,
    pub item_id: i64,
    pub infringement_type: String,
    pub weight: f64,
    pub given_at: String,
    pub expires_at: String,
    pub active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PenaltyChange {
    pub penalty: Penalty,
    pub active_weight: f64,
    pub reason: String,
    pub applied_at: String,
}

/// A seller with its strikes and penalties (staff, or the seller itself).
#[utoipa::path(get, path = "/api/v1/sellers/{id}", tag = "marketplace", params(("id" = i64, Path)),
    responses((status = 200, body = SellerView), (status = 404, body = Problem)))]
async fn get_seller(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<SellerView>> {
    if !(principal.is_staff() || principal.seller_id == Some(id)) {
        return Err(ApiError::not_found("seller"));
    }
    let pool = state.store.pool();
    let row = sqlx::query(
        "SELECT s.platform, s.ext_id, s.display_name, s.person_id, p.penalty FROM sellers s \
         JOIN persons p ON p.id = s.person_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| ApiError::not_found("seller"))?;
    let person_id: i64 = row.try_get("person_id")?;
    let now = now_millis();
    // Strikes count against the person, so every shop of the person shows them.
    let strikes = sqlx::query(
        "SELECT id, item_id, infringement_type, weight, given_at, expires_at, revoked_at FROM strikes \
         WHERE person_id = $1 ORDER BY id",
    )
    .bind(person_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|s| {
        let expires: i64 = s.try_get("expires_at")?;
        let revoked: Option<i64> = s.try_get("revoked_at")?;
        Ok(StrikeView {
            id: s.try_get("id")?,
            item_id: s.try_get("item_id")?,
            infringement_type: s.try_get("infringement_type")?,
            weight: s.try_get("weight")?,
            given_at: rfc3339(s.try_get("given_at")?),
            expires_at: rfc3339(expires),
            active: revoked.is_none() && expires > now,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let history = sqlx::query(
        "SELECT penalty, active_weight, reason, applied_at FROM penalty_history WHERE person_id = $1 ORDER BY id DESC",
    )
    .bind(person_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|h| {
        Ok(PenaltyChange {
            penalty: h.try_get::<String, _>("penalty")?.parse().map_err(ApiError::internal)?,
            active_weight: h.try_get("active_weight")?,
            reason: h.try_get("reason")?,
            applied_at: rfc3339(h.try_get("applied_at")?),
        })
    })
    .collect::<ApiResult<Vec<_>>>()?;
    Ok(axum::Json(SellerView {
        id,
        platform: row.try_get("platform")?,
        seller_id: row.try_get("ext_id")?,
        display_name: row.try_get("display_name")?,
        person_id,
        penalty: row
            .try_get::<String, _>("penalty")?
            .parse()
            .map_err(ApiError::internal)?,
        active_strike_weight: strikes.iter().filter(|s| s.active).map(|s| s.weight).sum(),
        strikes,
        penalty_history: history,
    }))
}

/// A price as in DESIGN.md's listing format.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Money {
    pub amount: String,
    pub currency: String,
}

/// A listing in DESIGN.md's format; unknown fields are ignored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ListingInput {
    pub id: String,
    pub platform: String,
    pub seller_id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub price: Option<Money>,
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListingResult {
    pub id: String,
    pub platform: String,
    /// `created`, `updated` or `rejected`.
    pub result: String,
    /// The detection engine's action when it found something: `review`
    /// (queued for a reviewer) or `block` (removed at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub created: usize,
    pub updated: usize,
    pub rejected: usize,
    /// Listings removed at once by proactive detection.
    pub blocked: usize,
    /// Listings queued for review by proactive detection.
    pub queued_for_review: usize,
    pub results: Vec<ListingResult>,
}

/// Most listings accepted in one batch call.
const MAX_BATCH: usize = 1000;

/// Creates or updates listings in one transaction (administrators). Each
/// listing gets its own result; a seller under a blocking penalty cannot add
/// listings, and a listing that is down stays down when edited. Every
/// created or edited listing is scanned: `block` removes it at once with a
/// statement of reasons, `review` queues it for a reviewer.
#[utoipa::path(post, path = "/api/v1/listings/batch", tag = "marketplace", request_body = Vec<ListingInput>,
    responses((status = 200, body = BatchResult), (status = 422, body = Problem)))]
async fn upsert_listings(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(listings): ApiJson<Vec<ListingInput>>,
) -> ApiResult<axum::Json<BatchResult>> {
    principal.require(&[Role::Admin])?;
    if listings.is_empty() || listings.len() > MAX_BATCH {
        return Err(ApiError::field(
            "listings",
            format!("send 1 to {MAX_BATCH} listings per batch"),
        ));
    }
    let mut problems = Vec::new();
    let max_photos = state.config.images.max_per_listing;
    for (i, listing) in listings.iter().enumerate() {
        if listing.id.trim().is_empty() || listing.title.trim().is_empty() {
            problems.push(FieldError::new(
                format!("[{i}]"),
                "id and title are required",
            ));
        }
        let photos: BTreeSet<&str> = listing
            .images
            .iter()
            .map(|source| source.trim())
            .filter(|source| !source.is_empty())
            .collect();
        if photos.len() > max_photos {
            problems.push(FieldError::new(
                format!("[{i}].images"),
                format!(
                    "at most {max_photos} photos a listing; this one has {}",
                    photos.len()
                ),
            ));
        }
        if let Some(price) = &listing.price
            && price
                .amount
                .parse::<f64>()
                .map_or(true, |a| !a.is_finite() || a < 0.0)
        {
            problems.push(FieldError::new(
                format!("[{i}].price.amount"),
                "a non-negative decimal, e.g. \"19.90\"",
            ));
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let now = now_millis();
    let policy = state.policy().clone();
    let engine = state.detector.engine();
    let result = in_tx!(state, |tx| {
        let mut out = BatchResult {
            created: 0,
            updated: 0,
            rejected: 0,
            blocked: 0,
            queued_for_review: 0,
            results: Vec::with_capacity(listings.len()),
        };
        for listing in &listings {
            let outcome = upsert_one(&mut tx, &policy, &principal.actor(), listing, now).await?;
            let detected = match &outcome {
                Ok((_, id)) => {
                    let photos = &state.config.images;
                    images::record_listing_images(&mut tx, photos, *id, &listing.images, now)
                        .await?;
                    detection::assess(&mut tx, &engine, &policy, *id, now).await?
                }
                Err(_) => None,
            };
            match detected {
                Some(Action::Block) => out.blocked += 1,
                Some(Action::Review) => out.queued_for_review += 1,
                _ => {}
            }
            let result = match &outcome {
                Ok((true, _)) => {
                    out.created += 1;
                    "created"
                }
                Ok((false, _)) => {
                    out.updated += 1;
                    "updated"
                }
                Err(_) => {
                    out.rejected += 1;
                    "rejected"
                }
            };
            out.results.push(ListingResult {
                id: listing.id.clone(),
                platform: listing.platform.clone(),
                result: result.to_owned(),
                error: outcome.err(),
                detection: detected.and_then(|action| match action {
                    Action::Block => Some("block".to_owned()),
                    Action::Review => Some("review".to_owned()),
                    _ => None,
                }),
            });
        }
        out
    });
    Ok(axum::Json(result))
}

/// Ok((true, id)) when created, Ok((false, id)) when updated, Err(reason) when refused.
async fn upsert_one(
    conn: &mut sqlx::AnyConnection,
    policy: &ipguard_domain::policy::Policy,
    actor: &Actor,
    listing: &ListingInput,
    now: i64,
) -> ApiResult<Result<(bool, i64), String>> {
    let seller = sqlx::query("SELECT id FROM sellers WHERE platform = $1 AND ext_id = $2")
        .bind(&listing.platform)
        .bind(&listing.seller_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(seller) = seller else {
        return Ok(Err(format!(
            "unknown seller `{}` on platform `{}`",
            listing.seller_id, listing.platform
        )));
    };
    let seller_id: i64 = seller.try_get("id")?;
    let images = serde_json::to_string(&listing.images).map_err(ApiError::internal)?;
    let (amount, currency) = match &listing.price {
        Some(price) => (
            Some(price.amount.clone()),
            Some(price.currency.to_uppercase()),
        ),
        None => (None, None),
    };
    let existing =
        sqlx::query("SELECT id, seller_id FROM listings WHERE platform = $1 AND ext_id = $2")
            .bind(&listing.platform)
            .bind(&listing.id)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(row) = existing {
        let id: i64 = row.try_get("id")?;
        if row.try_get::<i64, _>("seller_id")? != seller_id {
            return Ok(Err("the listing belongs to another seller".to_owned()));
        }
        sqlx::query(
            "UPDATE listings SET title = $1, description = $2, category = $3, price_amount = $4, \
             price_currency = $5, images = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&listing.title)
        .bind(&listing.description)
        .bind(&listing.category)
        .bind(amount)
        .bind(currency)
        .bind(images)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        audit::append(
            conn,
            actor,
            "listing.updated",
            "listing",
            id,
            &json!(null),
            &json!({"title": listing.title}),
        )
        .await?;
        return Ok(Ok((false, id)));
    }
    let penalty = penalties::seller_penalty(conn, seller_id).await?;
    let active: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM listings WHERE seller_id = $1 AND state != 'removed'",
    )
    .bind(seller_id)
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    if let Err(blocking) = rules::may_list(policy, penalty, u64::try_from(active).unwrap_or(0)) {
        return Ok(Err(format!(
            "the seller may not add listings under its current penalty ({blocking})"
        )));
    }
    let listed_at = listing.created_at.map_or(now, |t| t.timestamp_millis());
    let inserted = sqlx::query(
        "INSERT INTO listings (platform, ext_id, seller_id, title, description, category, price_amount, \
         price_currency, images, listed_at, updated_at, state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active') RETURNING id",
    )
    .bind(&listing.platform)
    .bind(&listing.id)
    .bind(seller_id)
    .bind(&listing.title)
    .bind(&listing.description)
    .bind(&listing.category)
    .bind(amount)
    .bind(currency)
    .bind(images)
    .bind(listed_at)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let id: i64 = inserted.try_get("id")?;
    audit::append(
        conn,
        actor,
        "listing.created",
        "listing",
        id,
        &json!(null),
        &json!({"platform": listing.platform, "id": listing.id}),
    )
    .await?;
    Ok(Ok((true, id)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListingView {
    pub platform: String,
    pub id: String,
    pub seller: i64,
    pub title: String,
    pub description: String,
    pub category: String,
    pub price: Option<Money>,
    pub images: Vec<String>,
    pub state: String,
    pub state_reason: Option<String>,
    pub removed_by: Option<String>,
    pub units_sold: i64,
}

/// One listing (staff, or the seller who owns it).
#[utoipa::path(get, path = "/api/v1/listings/{platform}/{id}", tag = "marketplace",
    params(("platform" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ListingView), (status = 404, body = Problem)))]
async fn get_listing(
    State(state): State<AppState>,
    principal: Principal,
    Path((platform, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<ListingView>> {
    let row = sqlx::query(
        "SELECT l.*, (SELECT CAST(COALESCE(SUM(units), 0) AS BIGINT) FROM orders o WHERE o.listing_id = l.id) AS units_sold \
         FROM listings l WHERE l.platform = $1 AND l.ext_id = $2",
    )
    .bind(&platform)
    .bind(&id)
    .fetch_optional(state.store.pool())
    .await?
    .ok_or_else(|| ApiError::not_found("listing"))?;
    let seller: i64 = row.try_get("seller_id")?;
    if !(principal.is_staff() || principal.seller_id == Some(seller)) {
        return Err(ApiError::not_found("listing"));
    }
    let amount: Option<String> = row.try_get("price_amount")?;
    let currency: Option<String> = row.try_get("price_currency")?;
    let images: String = row.try_get("images")?;
    Ok(axum::Json(ListingView {
        platform,
        id,
        seller,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        category: row.try_get("category")?,
        price: amount
            .zip(currency)
            .map(|(amount, currency)| Money { amount, currency }),
        images: serde_json::from_str(&images).unwrap_or_default(),
        state: row.try_get("state")?,
        state_reason: row.try_get("state_reason")?,
        removed_by: row.try_get("removed_by")?,
        units_sold: row.try_get("units_sold")?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub id: String,
    pub platform: String,
    pub listing_id: String,
    pub units: i64,
    pub price: Money,
    #[serde(default)]
    pub ordered_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub ship_from: Option<String>,
}

/// Records orders so units and value sold per listing are known (administrators).
/// All-or-nothing: an unknown listing rejects the batch.
#[utoipa::path(post, path = "/api/v1/orders/batch", tag = "marketplace", request_body = Vec<OrderInput>,
    responses((status = 201, body = Created), (status = 422, body = Problem)))]
async fn add_orders(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(orders): ApiJson<Vec<OrderInput>>,
) -> ApiResult<impl IntoResponse> {
    principal.require(&[Role::Admin])?;
    if orders.is_empty() || orders.len() > MAX_BATCH {
        return Err(ApiError::field(
            "orders",
            format!("send 1 to {MAX_BATCH} orders per batch"),
        ));
    }
    let now = now_millis();
    let count = in_tx!(state, |tx| {
        let mut problems = Vec::new();
        for (i, order) in orders.iter().enumerate() {
            if order.units <= 0 {
                problems.push(FieldError::new(
                    format!("[{i}].units"),
                    "must be at least 1",
                ));
                continue;
            }
            let listing =
                sqlx::query("SELECT id FROM listings WHERE platform = $1 AND ext_id = $2")
                    .bind(&order.platform)
                    .bind(&order.listing_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(listing) = listing else {
                problems.push(FieldError::new(
                    format!("[{i}].listing_id"),
                    format!("unknown listing `{}`", order.listing_id),
                ));
                continue;
            };
            let listing_id: i64 = listing.try_get("id")?;
            let inserted = sqlx::query(
                "INSERT INTO orders (platform, ext_id, listing_id, units, amount, currency, ordered_at, ship_from) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (platform, ext_id) DO NOTHING",
            )
            .bind(&order.platform)
            .bind(&order.id)
            .bind(listing_id)
            .bind(order.units)
            .bind(&order.price.amount)
            .bind(order.price.currency.to_uppercase())
            .bind(order.ordered_at.map_or(now, |t| t.timestamp_millis()))
            .bind(&order.ship_from)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                problems.push(FieldError::new(
                    format!("[{i}].id"),
                    format!("order `{}` was already recorded", order.id),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(ApiError::validation(problems));
        }
        audit::append(
            &mut tx,
            &principal.actor(),
            "orders.recorded",
            "orders",
            orders.len(),
            &json!(null),
            &json!({"count": orders.len()}),
        )
        .await?;
        orders.len()
    });
    created(Created {
        id: i64::try_from(count).unwrap_or(i64::MAX),
    })
}
