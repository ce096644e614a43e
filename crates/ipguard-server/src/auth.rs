//! Who is calling: password hashing, portal sessions, API keys, and the
//! [`Principal`] extractor every protected handler takes.
//!
//! Passwords are hashed with argon2id. API keys and session tokens are 256
//! random bits, so a single SHA-256 is enough to store them safely and keeps
//! per-request authentication cheap; argon2 would cost tens of milliseconds
//! on every call for no gain against keys that cannot be guessed.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use base64::Engine;
use ipguard_domain::Role;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

pub const SESSION_COOKIE: &str = "ipguard_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub role: Role,
    pub org_id: Option<i64>,
    pub seller_id: Option<i64>,
    pub email: String,
    /// The session's CSRF token when authenticated by cookie.
    pub csrf: Option<String>,
}

impl Principal {
    pub fn require(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let allowed: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!(
                "this action needs the role {}; you are {}",
                allowed.join(" or "),
                self.role
            )))
        }
    }

    /// The rights holder's organisation, for rights-holder-only actions.
    pub fn org(&self) -> ApiResult<i64> {
        self.require(&[Role::RightsHolder])?;
        self.org_id
            .ok_or_else(|| ApiError::forbidden("your account belongs to no organisation"))
    }

    pub fn seller(&self) -> ApiResult<i64> {
        self.require(&[Role::Seller])?;
        self.seller_id
            .ok_or_else(|| ApiError::forbidden("your account is linked to no seller"))
    }

    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Reviewer | Role::Admin)
    }

    pub fn actor(&self) -> ipguard_store::audit::Actor {
        ipguard_store::audit::Actor::User(self.user_id)
    }
}

pub fn hash_password(password: &str) -> ApiResult<String> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(ApiError::internal)
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A new random secret with a readable prefix, and its storage hash.
pub fn new_secret(prefix: &str) -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = secret_hash(&secret);
    (secret, hash)
}

pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

const USER_COLUMNS: &str = "u.id, u.role, u.org_id, u.seller_id, u.email";

fn principal_from_row(row: &sqlx::any::AnyRow, csrf: Option<String>) -> ApiResult<Principal> {
    let role: String = row.try_get("role")?;
    Ok(Principal {
        user_id: row.try_get("id")?,
        role: role.parse().map_err(ApiError::internal)?,
        org_id: row.try_get("org_id")?,
        seller_id: row.try_get("seller_id")?,
        email: row.try_get("email")?,
        csrf,
    })
}

async fn by_api_key(state: &AppState, key: &str) -> ApiResult<Option<Principal>> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM api_keys k JOIN users u ON u.id = k.user_id \
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL"
    ))
    .bind(secret_hash(key))
    .fetch_optional(state.store.pool())
    .await?;
    row.map(|row| principal_from_row(&row, None)).transpose()
}

pub async fn by_session(state: &AppState, token: &str) -> ApiResult<Option<Principal>> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    ))
    .bind(secret_hash(token))
    .bind(ipguard_store::now_millis())
    .fetch_optional(state.store.pool())
    .await?;
    row.map(|row| {
        let csrf: String = row.try_get("csrf_token")?;
        principal_from_row(&row, Some(csrf))
    })
    .transpose()
}

/// The session token from the request's cookies, if any.
pub fn session_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

/// A cookie's value from the request, if present.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Resolves the caller, if any credential was sent. A credential that was
/// sent but is wrong is an error, not an anonymous call.
pub async fn authenticate(parts: &Parts, state: &AppState) -> ApiResult<Option<Principal>> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let key = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthenticated)?;
        return match by_api_key(state, key.trim()).await? {
            Some(principal) => Ok(Some(principal)),
            None => Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "invalid_api_key",
                "the API key is unknown or revoked",
            )),
        };
    }
    let Some(token) = session_token(&parts.headers) else {
        return Ok(None);
    };
    let Some(principal) = by_session(state, token).await? else {
        return Ok(None);
    };
    // Browsers send cookies on cross-site requests; a state change made with
    // a cookie must also prove it came from our own page.
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && parts.uri.path().starts_with("/api/") {
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if sent != principal.csrf.as_deref() {
            return Err(ApiError::forbidden("missing or wrong x-csrf-token header"));
        }
    }
    Ok(Some(principal))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        authenticate(parts, state)
            .await?
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// The caller if authenticated, for endpoints open to everyone.
pub struct MaybePrincipal(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybePrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        authenticate(parts, state).await.map(MaybePrincipal)
    }
}
