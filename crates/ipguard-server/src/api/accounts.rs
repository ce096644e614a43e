//! Registration, login, sessions, API keys and user administration.

use super::{Created, created, in_tx};
use crate::AppState;
use crate::auth::{self, Principal, SESSION_COOKIE, hash_password, new_secret, verify_password};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ipguard_domain::Role;
use ipguard_store::audit::{self, Actor};
use ipguard_store::now_millis;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(create_api_key))
        .routes(routes!(create_user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// The rights holder's name as it should appear on notices.
    pub organisation: String,
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    pub organisation_id: i64,
    pub user_id: i64,
    /// An API key for programs; shown once.
    pub api_key: String,
}

const MIN_PASSWORD: usize = 10;

fn check_credentials(email: &str, password: &str) -> ApiResult<()> {
    let mut errors = Vec::new();
    if !email
        .split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
    {
        errors.push(ipguard_domain::notice::FieldError::new(
            "email",
            "a valid email address is required",
        ));
    }
    if password.chars().count() < MIN_PASSWORD {
        errors.push(ipguard_domain::notice::FieldError::new(
            "password",
            format!("at least {MIN_PASSWORD} characters"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Registers a rights-holder organisation with its first user.
#[utoipa::path(post, path = "/api/v1/register", tag = "accounts", request_body = Registration,
    responses((status = 201, body = Registered), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn register(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<Registration>,
) -> ApiResult<Response> {
    if input.organisation.trim().is_empty() {
        return Err(ApiError::field("organisation", "required"));
    }
    let email = input.email.trim().to_lowercase();
    check_credentials(&email, &input.password)?;
    let password_hash = hash_password(&input.password)?;
    let (api_key, key_hash) = new_secret("igk_");
    let now = now_millis();
    let registered = in_tx!(state, |tx| {
        let org_id: i64 = sqlx::query(
            "INSERT INTO organisations (name, kind, contact_email, created_at) VALUES ($1, 'rights_holder', $2, $3) RETURNING id",
        )
        .bind(input.organisation.trim())
        .bind(&email)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let user_id = insert_user(
            &mut tx,
            &email,
            &password_hash,
            Role::RightsHolder,
            input
                .display_name
                .as_deref()
                .unwrap_or(input.organisation.trim()),
            Some(org_id),
            None,
        )
        .await?;
        insert_api_key(&mut tx, user_id, "default", &key_hash).await?;
        let after = json!({"organisation": input.organisation.trim(), "email": email});
        audit::append(
            &mut tx,
            &Actor::User(user_id),
            "organisation.registered",
            "organisation",
            org_id,
            &json!(null),
            &after,
        )
        .await?;
        Registered {
            organisation_id: org_id,
            user_id,
            api_key,
        }
    });
    Ok((StatusCode::CREATED, axum::Json(registered)).into_response())
}

async fn insert_user(
    conn: &mut sqlx::AnyConnection,
    email: &str,
    password_hash: &str,
    role: Role,
    display_name: &str,
    org_id: Option<i64>,
    seller_id: Option<i64>,
) -> ApiResult<i64> {
    let result = sqlx::query(
        "INSERT INTO users (email, password_hash, role, display_name, org_id, seller_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(email)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(display_name)
    .bind(org_id)
    .bind(seller_id)
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await;
    match result {
        Ok(row) => Ok(row.try_get("id")?),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(ApiError::conflict(
            "email_taken",
            format!("an account with {email} exists"),
        )),
        Err(err) => Err(err.into()),
    }
}

async fn insert_api_key(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    name: &str,
    key_hash: &str,
) -> ApiResult<i64> {
    Ok(sqlx::query(
        "INSERT INTO api_keys (user_id, name, prefix, key_hash, created_at) VALUES ($1, $2, 'igk_', $3, $4) RETURNING id",
    )
    .bind(user_id)
    .bind(name)
    .bind(key_hash)
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedIn {
    pub user_id: i64,
    pub role: Role,
    /// Send as `x-csrf-token` on every state-changing API call made with the session cookie.
    pub csrf_token: String,
}

/// Starts a portal session (sets an HttpOnly cookie).
#[utoipa::path(post, path = "/api/v1/login", tag = "accounts", request_body = Login,
    responses((status = 200, body = LoggedIn), (status = 401, body = Problem)))]
async fn login(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<Login>,
) -> ApiResult<Response> {
    let (token, user_id, role, csrf) = start_session(&state, &input.email, &input.password).await?;
    let mut response = axum::Json(LoggedIn {
        user_id,
        role,
        csrf_token: csrf,
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, &token, false)?);
    Ok(response)
}

/// Checks a password and opens a session: (token, user id, role, CSRF token).
pub async fn start_session(
    state: &AppState,
    email: &str,
    password: &str,
) -> ApiResult<(String, i64, Role, String)> {
    let row = sqlx::query("SELECT id, password_hash, role FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(state.store.pool())
        .await?;
    let wrong = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong email or password",
        )
    };
    let row = row.ok_or_else(wrong)?;
    let stored: String = row.try_get("password_hash")?;
    if !verify_password(password, &stored) {
        return Err(wrong());
    }
    let user_id: i64 = row.try_get("id")?;
    let role: Role = row
        .try_get::<String, _>("role")?
        .parse()
        .map_err(ApiError::internal)?;
    let (token, token_hash) = new_secret("igs_");
    let (csrf, _) = new_secret("");
    let now = now_millis();
    let expires = now + i64::from(state.config.server.session_hours) * 3_600_000;
    sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash)
        .bind(user_id)
        .bind(&csrf)
        .bind(now)
        .bind(expires)
        .execute(state.store.pool())
        .await?;
    Ok((token, user_id, role, csrf))
}

pub fn session_cookie(state: &AppState, token: &str, clear: bool) -> ApiResult<HeaderValue> {
    let secure = if state.config.server.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let max_age = if clear {
        0
    } else {
        i64::from(state.config.server.session_hours) * 3600
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    ))
    .map_err(ApiError::internal)
}

/// Ends the portal session.
#[utoipa::path(post, path = "/api/v1/logout", tag = "accounts", responses((status = 204)))]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = auth::session_token(&headers) {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(auth::secret_hash(token))
            .execute(state.store.pool())
            .await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", true)?);
    Ok(response)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    pub organisation_id: Option<i64>,
    pub seller_id: Option<i64>,
}

/// The caller's account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = Me), (status = 401, body = Problem)))]
async fn me(principal: Principal) -> axum::Json<Me> {
    axum::Json(Me {
        user_id: principal.user_id,
        email: principal.email,
        role: principal.role,
        organisation_id: principal.org_id,
        seller_id: principal.seller_id,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    pub id: i64,
    /// Shown once; only its hash is stored.
    pub key: String,
}

/// Creates an API key for the caller's own account.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "accounts", request_body = NewApiKey,
    responses((status = 201, body = ApiKeyCreated)))]
async fn create_api_key(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<NewApiKey>,
) -> ApiResult<impl IntoResponse> {
    let (key, hash) = new_secret("igk_");
    let id = in_tx!(state, |tx| {
        let id = insert_api_key(&mut tx, principal.user_id, input.name.trim(), &hash).await?;
        audit::append(
            &mut tx,
            &principal.actor(),
            "api_key.created",
            "api_key",
            id,
            &json!(null),
            &json!({"name": input.name}),
        )
        .await?;
        id
    });
    created(ApiKeyCreated { id, key })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub role: Role,
    pub display_name: String,
    /// For rights-holder users: their organisation.
    #[serde(default)]
    pub organisation_id: Option<i64>,
    /// For seller users: the seller account (internal id) they act for.
    #[serde(default)]
    pub seller_id: Option<i64>,
}

/// Creates a user of any role (administrators only).
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = NewUser,
    responses((status = 201, body = Created), (status = 403, body = Problem)))]
async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<NewUser>,
) -> ApiResult<impl IntoResponse> {
    principal.require(&[Role::Admin])?;
    let email = input.email.trim().to_lowercase();
    check_credentials(&email, &input.password)?;
    match input.role {
        Role::RightsHolder if input.organisation_id.is_none() => {
            return Err(ApiError::field(
                "organisation_id",
                "required for rights_holder users",
            ));
        }
        Role::Seller if input.seller_id.is_none() => {
            return Err(ApiError::field("seller_id", "required for seller users"));
        }
        _ => {}
    }
    let password_hash = hash_password(&input.password)?;
    let id = in_tx!(state, |tx| {
        let id = insert_user(
            &mut tx,
            &email,
            &password_hash,
            input.role,
            &input.display_name,
            input.organisation_id,
            input.seller_id,
        )
        .await
        .map_err(|e| {
            if e.code == "internal" {
                ApiError::field("organisation_id", "unknown organisation or seller")
            } else {
                e
            }
        })?;
        audit::append(
            &mut tx,
            &principal.actor(),
            "user.created",
            "user",
            id,
            &json!(null),
            &json!({"email": email, "role": input.role}),
        )
        .await?;
        id
    });
    created(Created { id })
}

/// Creates a user and an API key outside any request: the first
/// administrator (`ipguard user create`), the demo, and tests.
pub async fn bootstrap_user(
    state: &AppState,
    email: &str,
    password: &str,
    role: Role,
    org_id: Option<i64>,
    seller_id: Option<i64>,
) -> ApiResult<(i64, String)> {
    let email = email.trim().to_lowercase();
    check_credentials(&email, password)?;
    let password_hash = hash_password(password)?;
    let (key, key_hash) = new_secret("igk_");
    let user_id = in_tx!(state, |tx| {
        let user_id = insert_user(
            &mut tx,
            &email,
            &password_hash,
            role,
            &email,
            org_id,
            seller_id,
        )
        .await?;
        insert_api_key(&mut tx, user_id, "bootstrap", &key_hash).await?;
        audit::append(
            &mut tx,
            &Actor::System,
            "user.created",
            "user",
            user_id,
            &json!(null),
            &json!({"email": email, "role": role}),
        )
        .await?;
        user_id
    });
    Ok((user_id, key))
}
