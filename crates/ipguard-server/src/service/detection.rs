//! Proactive detection in the service: the engine built from the stored
//! catalog, rebuilt when the catalog changes, and applied to every listing
//! created or edited. `block` removes the listing at once with an automated
//! statement of reasons; `review` opens a finding in the review queue; a
//! finding on a rights holder's brand shows in its account.

use super::notices::set_listing_state;
use super::notify::{Party, notify};
use crate::error::{ApiError, ApiResult};
use ipguard_detect::{
    Action, Brand, Catalog, CategoryRule, DetectionConfig, Engine, Finding, Listing, Money,
    SellerContext,
};
use ipguard_domain::policy::Policy;
use ipguard_domain::reasons::{
    Automation, Ground, GroundKind, StatementInput, StatementOfReasons, seller_redress,
};
use ipguard_store::audit::{self, Actor};
use ipguard_store::{Store, StoreError};
use serde_json::json;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

/// The current engine, swapped whole when the catalog changes so scans in
/// flight finish on the engine they started with.
pub struct Detector {
    engine: RwLock<Arc<Engine>>,
    config: DetectionConfig,
    /// Held by the one background rescan that runs at a time.
    rescanning: tokio::sync::Mutex<()>,
    /// Set by a catalog change; the running rescan starts over when it sees it.
    rescan_wanted: AtomicBool,
    /// The stored catalog generation the engine was built at.
    built_at: AtomicI64,
}

#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("building the detection engine: {0}")]
    Build(#[from] ipguard_detect::BuildError),
    #[error("building the detection engine was interrupted")]
    Interrupted,
}

impl Detector {
    pub fn new(config: DetectionConfig) -> Result<Detector, DetectorError> {
        let engine = Engine::new(&Catalog::default(), config.clone())?;
        Ok(Detector {
            engine: RwLock::new(Arc::new(engine)),
            config,
            rescanning: tokio::sync::Mutex::new(()),
            rescan_wanted: AtomicBool::new(false),
            built_at: AtomicI64::new(-1),
        })
    }

    pub fn engine(&self) -> Arc<Engine> {
        match self.engine.read() {
            Ok(engine) => engine.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuilds the engine from the stored catalog, off the async threads.
    pub async fn reload(&self, store: &Store) -> Result<usize, DetectorError> {
        let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
        let generation = catalog_generation(&mut conn).await?;
        let catalog = load_catalog(&mut conn).await?;
        drop(conn);
        let brands = catalog.brands.len();
        let config = self.config.clone();
        let engine = tokio::task::spawn_blocking(move || Engine::new(&catalog, config))
            .await
            .map_err(|_| DetectorError::Interrupted)??;
        match self.engine.write() {
            Ok(mut slot) => *slot = Arc::new(engine),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(engine),
        }
        self.built_at.store(generation, Ordering::SeqCst);
        Ok(brands)
    }

    /// Rebuilds the engine when another process changed the catalog since
    /// it was built; returns whether it did. (That process rescans the
    /// listings; this one only needs the new engine for what it scans next.)
    pub async fn refresh(&self, store: &Store) -> Result<bool, DetectorError> {
        let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
        if catalog_generation(&mut conn).await? == self.built_at.load(Ordering::SeqCst) {
            return Ok(false);
        }
        drop(conn);
        self.reload(store).await?;
        Ok(true)
    }
}

async fn catalog_generation(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(
        sqlx::query("SELECT generation FROM catalog_meta WHERE id = 1")
            .fetch_one(conn)
            .await?
            .try_get("generation")?,
    )
}

/// Marks, inside the transaction that changes the catalog, that every
/// process's engine must be rebuilt (see [`Detector::refresh`]).
pub async fn bump_catalog_generation(conn: &mut AnyConnection) -> Result<(), StoreError> {
    sqlx::query("UPDATE catalog_meta SET generation = generation + 1 WHERE id = 1")
        .execute(conn)
        .await?;
    Ok(())
}

/// The catalog as the engine reads it, from the brands, prices, authorised
/// sellers and category rules in storage.
pub async fn load_catalog(conn: &mut AnyConnection) -> Result<Catalog, StoreError> {
    let mut brands: BTreeMap<i64, Brand> = BTreeMap::new();
    for row in sqlx::query("SELECT id, slug, name FROM brands ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
    {
        let id: i64 = row.try_get("id")?;
        brands.insert(
            id,
            Brand {
                id: row.try_get("slug")?,
                name: row.try_get("name")?,
                terms: Vec::new(),
                msrp: BTreeMap::new(),
                authorized_sellers: Vec::new(),
                reference_images: Vec::new(),
            },
        );
    }
    for row in sqlx::query("SELECT brand_id, term FROM brand_terms ORDER BY brand_id, term")
        .fetch_all(&mut *conn)
        .await?
    {
        if let Some(brand) = brands.get_mut(&row.try_get::<i64, _>("brand_id")?) {
            brand.terms.push(row.try_get("term")?);
        }
    }
    for row in sqlx::query("SELECT brand_id, category, amount, currency FROM brand_prices")
        .fetch_all(&mut *conn)
        .await?
    {
        let amount: String = row.try_get("amount")?;
        let Ok(amount) = amount.parse() else { continue };
        if let Some(brand) = brands.get_mut(&row.try_get::<i64, _>("brand_id")?) {
            brand.msrp.insert(
                row.try_get("category")?,
                Money {
                    amount,
                    currency: row.try_get("currency")?,
                },
            );
        }
    }
    let authorised = "SELECT a.brand_id, s.ext_id FROM brand_authorized_sellers a JOIN sellers s ON s.id = a.seller_id";
    for row in sqlx::query(authorised).fetch_all(&mut *conn).await? {
        if let Some(brand) = brands.get_mut(&row.try_get::<i64, _>("brand_id")?) {
            brand.authorized_sellers.push(row.try_get("ext_id")?);
        }
    }
    let category_rules = sqlx::query(
        "SELECT platform, category, rule FROM category_rules ORDER BY platform, category",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .filter_map(|row| {
        let rule: String = row.try_get("rule").ok()?;
        let rule = serde_json::from_value(json!(rule)).ok()?;
        Some(CategoryRule {
            platform: row.try_get("platform").ok()?,
            category: row.try_get("category").ok()?,
            rule,
        })
    })
    .collect();
    Ok(Catalog {
        brands: brands.into_values().collect(),
        category_rules,
    })
}

/// What the service knows of the seller, for the seller signals.
async fn seller_context(
    conn: &mut AnyConnection,
    seller_id: i64,
    now: i64,
) -> Result<SellerContext, StoreError> {
    let row = sqlx::query(
        "SELECT COALESCE(s.joined_at, s.created_at) AS joined, (SELECT COUNT(*) FROM strikes k WHERE k.person_id = s.person_id \
         AND k.revoked_at IS NULL AND k.expires_at > $2) AS strikes FROM sellers s WHERE s.id = $1",
    )
    .bind(seller_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let joined: i64 = row.try_get("joined")?;
    let strikes: i64 = row.try_get("strikes")?;
    Ok(SellerContext {
        prior_strikes: u32::try_from(strikes).ok(),
        account_age_days: u32::try_from((now - joined).max(0) / 86_400_000).ok(),
    })
}

/// A stored listing in the engine's format, with what the scan needs besides.
struct StoredListing {
    listing: Listing,
    seller_id: i64,
    /// A reviewer put it back after an appeal or counter-notice.
    restored: bool,
}

/// The stored listing, unless it is removed.
async fn stored_listing(
    conn: &mut AnyConnection,
    listing_id: i64,
) -> Result<Option<StoredListing>, StoreError> {
    let row = sqlx::query(
        "SELECT l.ext_id, l.platform, s.ext_id AS seller, l.seller_id, l.title, l.description, l.category, \
         l.price_amount, l.price_currency, l.images, l.state FROM listings l JOIN sellers s ON s.id = l.seller_id \
         WHERE l.id = $1 AND l.state != 'removed'",
    )
    .bind(listing_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let amount: Option<String> = row.try_get("price_amount")?;
    let currency: Option<String> = row.try_get("price_currency")?;
    let images: String = row.try_get("images")?;
    let listing = Listing {
        id: row.try_get("ext_id")?,
        platform: Some(row.try_get("platform")?),
        seller_id: Some(row.try_get("seller")?),
        title: row.try_get("title")?,
        description: Some(row.try_get("description")?),
        category: Some(row.try_get("category")?),
        price: amount
            .and_then(|a| a.parse().ok())
            .zip(currency)
            .map(|(amount, currency)| Money { amount, currency }),
        images: serde_json::from_str(&images).unwrap_or_default(),
        created_at: None,
    };
    Ok(Some(StoredListing {
        listing,
        seller_id: row.try_get("seller_id")?,
        restored: row.try_get::<String, _>("state")? == "restored",
    }))
}

/// Scans a stored listing and acts on the finding, inside the caller's transaction.
pub async fn assess(
    conn: &mut AnyConnection,
    engine: &Engine,
    policy: &Policy,
    listing_id: i64,
    now: i64,
) -> ApiResult<Option<Action>> {
    let Some(StoredListing {
        listing,
        seller_id,
        restored,
    }) = stored_listing(conn, listing_id).await?
    else {
        // A removed listing stays down whatever an edit says.
        return Ok(None);
    };
    let context = seller_context(conn, seller_id, now).await?;
    let photos = super::images::listing_image_reasons(conn, listing_id, seller_id).await?;
    let mut finding = engine.scan_with(&listing, &context, photos);
    if restored && finding.action == Action::Block {
        // A person put this listing back after hearing the seller; a machine
        // does not overrule them, it asks a person again.
        finding.action = Action::Review;
    }
    let status = match finding.action {
        Action::Block => "removed",
        Action::Review => "open",
        // Allowed but naming a brand: kept for the rights holder's view.
        _ => "noted",
    };
    let reasons = serde_json::to_string(&finding.reasons).map_err(ApiError::internal)?;
    if unchanged(conn, listing_id, status, finding.score, &reasons).await? {
        // The same finding again (a rescan after an unrelated catalog
        // change): the one reviewers may already be looking at stands.
        return Ok(Some(finding.action));
    }
    // A new scan supersedes what earlier scans said about the listing.
    sqlx::query(
        "UPDATE findings SET status = 'superseded' WHERE listing_id = $1 AND status IN ('open', 'noted')",
    )
    .bind(listing_id)
    .execute(&mut *conn)
    .await?;
    if finding.action == Action::Allow && finding.brands.is_empty() {
        return Ok(None);
    }
    let statement = (finding.action == Action::Block)
        .then(|| proactive_statement(policy, &finding))
        .transpose()?;
    let finding_id = store_finding(
        conn,
        listing_id,
        &finding,
        &reasons,
        status,
        statement.as_ref(),
        now,
    )
    .await?;
    if let Some(statement) = statement {
        set_listing_state(
            conn,
            &Actor::System,
            listing_id,
            "removed",
            Some("proactive"),
            &statement.restriction,
            now,
        )
        .await?;
        let payload = json!({
            "listing": {"platform": listing.platform, "id": listing.id},
            "finding_id": finding_id,
            "statement_of_reasons": statement,
        });
        notify(conn, Party::Seller(seller_id), "listing.removed", payload).await?;
    }
    Ok(Some(finding.action))
}

fn proactive_statement(policy: &Policy, finding: &Finding) -> ApiResult<StatementOfReasons> {
    let reasons: Vec<String> = finding.reasons.iter().map(describe).collect();
    StatementOfReasons::parse(
        StatementInput {
            facts: format!(
                "Automated detection scored this listing {:.2} of 1 for: {}.",
                finding.score,
                reasons.join("; ")
            ),
            ground: Ground {
                kind: GroundKind::Contractual,
                reference: "Terms of service: counterfeit and prohibited goods policy".to_owned(),
                explanation: "Listings that automated checks find very likely to infringe a protected brand or to \
                              offer goods banned on this platform are removed before publication."
                    .to_owned(),
            },
            territorial_scope: None,
        },
        "listing removed",
        Automation { detection: true, decision: true },
        seller_redress(policy),
    )
    .map_err(ApiError::internal)
}

/// One reason in words, for statements and the portal.
pub fn describe(reason: &ipguard_detect::Reason) -> String {
    let value = serde_json::to_value(reason).unwrap_or_default();
    let kind = reason.kind().replace('_', " ");
    let detail: Vec<String> = value
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, _)| key.as_str() != "kind")
        .map(|(key, v)| {
            format!(
                "{key} {}",
                v.as_str().map_or_else(|| v.to_string(), str::to_owned)
            )
        })
        .collect();
    format!("{kind} ({})", detail.join(", "))
}

/// Whether the listing's one current finding already says exactly this
/// (status, score and reasons); never for a removal, which acts anew.
async fn unchanged(
    conn: &mut AnyConnection,
    listing_id: i64,
    status: &str,
    score: f64,
    reasons: &str,
) -> ApiResult<bool> {
    if status == "removed" {
        return Ok(false);
    }
    let current = sqlx::query(
        "SELECT status, score, reasons FROM findings WHERE listing_id = $1 AND status IN ('open', 'noted')",
    )
    .bind(listing_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(match current.as_slice() {
        [row] => {
            row.try_get::<String, _>("status")? == status
                && row.try_get::<f64, _>("score")? == score
                && row.try_get::<String, _>("reasons")? == reasons
        }
        _ => false,
    })
}

async fn store_finding(
    conn: &mut AnyConnection,
    listing_id: i64,
    finding: &Finding,
    reasons: &str,
    status: &str,
    statement: Option<&StatementOfReasons>,
    now: i64,
) -> ApiResult<i64> {
    let action = serde_json::to_value(finding.action).map_err(ApiError::internal)?;
    let id: i64 = sqlx::query(
        "INSERT INTO findings (listing_id, score, action, brands, reasons, created_at, status, statement) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(listing_id)
    .bind(finding.score)
    .bind(action.as_str().unwrap_or("review"))
    .bind(serde_json::to_string(&finding.brands).map_err(ApiError::internal)?)
    .bind(reasons)
    .bind(now)
    .bind(status)
    .bind(statement.map(serde_json::to_string).transpose().map_err(ApiError::internal)?)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    for brand in &finding.brands {
        sqlx::query("INSERT INTO finding_brands (finding_id, brand_slug) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(brand)
            .execute(&mut *conn)
            .await?;
    }
    let after = json!({"listing_id": listing_id, "score": finding.score, "action": action, "status": status});
    audit::append(
        conn,
        &Actor::System,
        "finding.created",
        "finding",
        id,
        &json!(null),
        &after,
    )
    .await?;
    Ok(id)
}

/// Rescans every active listing after a catalog change, in batches so the
/// writer is never held for long.
pub async fn rescan_active(state: crate::AppState) -> ApiResult<u64> {
    const BATCH: i64 = 500;
    let engine = state.detector.engine();
    let mut after = 0_i64;
    let mut scanned = 0_u64;
    loop {
        let ids: Vec<i64> = sqlx::query(
            "SELECT id FROM listings WHERE state != 'removed' AND id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(BATCH)
        .fetch_all(state.store.pool())
        .await?
        .iter()
        .map(|row| row.try_get("id"))
        .collect::<Result<_, sqlx::Error>>()?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        let mut tx = state.store.begin_write().await?;
        let now = ipguard_store::now_millis();
        for id in &ids {
            assess(&mut tx, &engine, state.policy(), *id, now).await?;
        }
        tx.commit().await?;
        scanned += ids.len() as u64;
        after = last;
    }
    Ok(scanned)
}

/// Reloads the engine and rescans in the background; called after every
/// catalog change. Changes in quick succession share one rescan.
pub async fn catalog_changed(state: &crate::AppState) -> ApiResult<()> {
    state
        .detector
        .reload(&state.store)
        .await
        .map_err(ApiError::internal)?;
    state.detector.rescan_wanted.store(true, Ordering::SeqCst);
    tokio::spawn(rescan_until_settled(state.clone()));
    Ok(())
}

async fn rescan_until_settled(state: crate::AppState) {
    loop {
        let Ok(running) = state.detector.rescanning.try_lock() else {
            // The running rescan sees the flag and starts over.
            return;
        };
        while state.detector.rescan_wanted.swap(false, Ordering::SeqCst) {
            match rescan_active(state.clone()).await {
                Ok(count) => {
                    tracing::info!(count, "rescanned active listings after a catalog change")
                }
                Err(err) => {
                    tracing::warn!(code = err.code, detail = %err.detail, "rescan after a catalog change failed")
                }
            }
        }
        drop(running);
        // A change that came between the last check and the release would
        // otherwise wait for the next one.
        if !state.detector.rescan_wanted.load(Ordering::SeqCst) {
            return;
        }
    }
}
