//! Filing and following notices: with an account (JSON or CSV) or without
//! one (tracking token).

use super::in_tx;
use crate::AppState;
use crate::auth::{Principal, new_secret, secret_hash};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Page, Paged, RawBody};
use crate::service::notices::{FiledNotice, Filer, file};
use crate::service::{rfc3339, trust};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use ipguard_domain::notice::{Contact, Declarations, NoticeInput, Submitter, parse_notice_csv};
use ipguard_domain::rules::AccuracyRecord;
use ipguard_domain::{InfringementType, NoticeChannel, Role, SubmitterStanding};
use ipguard_store::now_millis;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(file_notice, list_notices))
        .routes(routes!(file_csv))
        .routes(routes!(get_notice))
        .routes(routes!(file_public))
        .routes(routes!(track_public))
        .routes(routes!(submitter_record))
}

async fn account_contact(state: &AppState, principal: &Principal) -> ApiResult<Contact> {
    let name: String = sqlx::query("SELECT name FROM organisations WHERE id = $1")
        .bind(principal.org()?)
        .fetch_one(state.store.pool())
        .await?
        .try_get("name")?;
    Ok(Contact {
        name,
        email: principal.email.clone(),
        phone: None,
    })
}

/// Files a notice (rights holders). Listings of a trusted submitter are removed at once.
#[utoipa::path(post, path = "/api/v1/notices", tag = "notices", request_body = NoticeInput,
    responses((status = 201, body = FiledNotice), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn file_notice(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<NoticeInput>,
) -> ApiResult<impl IntoResponse> {
    file_for_account(&state, &principal, input).await
}

/// Files a notice from a rights holder's account, which supplies the contact.
pub(super) async fn file_for_account(
    state: &AppState,
    principal: &Principal,
    input: NoticeInput,
) -> ApiResult<(StatusCode, axum::Json<FiledNotice>)> {
    let org = principal.org()?;
    let contact = account_contact(state, principal).await?;
    let notice = input
        .parse(Submitter::Account, Some(contact))
        .map_err(ApiError::validation)?;
    let filer = Filer {
        org_id: Some(org),
        user_id: Some(principal.user_id),
        channel: NoticeChannel::Api,
    };
    let filed = in_tx!(state, |tx| file(
        &mut tx,
        state.policy(),
        filer,
        notice,
        None,
        now_millis()
    )
    .await?);
    Ok((StatusCode::CREATED, axum::Json(filed)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CsvDeclarations {
    /// Good-faith belief that the uses are not authorised (must be true).
    #[serde(default)]
    pub good_faith: bool,
    /// The file is accurate (must be true).
    #[serde(default)]
    pub accurate: bool,
    /// Authority to act for the right's owner (must be true).
    #[serde(default)]
    pub authorised: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CsvFiled {
    pub notices: Vec<FiledNotice>,
}

/// Files many listings at once from a CSV file (rights holders).
///
/// Columns: `right_id,infringement_type,platform,listing_id,url,description`.
/// Rows sharing a right and type become one notice. All-or-nothing: any bad
/// row rejects the whole file, with every problem named by line.
#[utoipa::path(post, path = "/api/v1/notices/csv", tag = "notices", params(CsvDeclarations),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = CsvFiled), (status = 422, body = Problem)))]
async fn file_csv(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(declared): ApiQuery<CsvDeclarations>,
    RawBody(body): RawBody,
) -> ApiResult<impl IntoResponse> {
    let org = principal.org()?;
    let contact = account_contact(&state, &principal).await?;
    let declarations = Declarations {
        good_faith: declared.good_faith,
        accurate: declared.accurate,
        authorised: declared.authorised,
    };
    let notices = parse_notice_csv(&body, declarations, contact).map_err(ApiError::validation)?;
    let filer = Filer {
        org_id: Some(org),
        user_id: Some(principal.user_id),
        channel: NoticeChannel::Csv,
    };
    let now = now_millis();
    let filed = in_tx!(state, |tx| {
        let mut filed = Vec::with_capacity(notices.len());
        for notice in notices {
            filed.push(file(&mut tx, state.policy(), filer, notice, None, now).await?);
        }
        filed
    });
    Ok((StatusCode::CREATED, axum::Json(CsvFiled { notices: filed })))
}

/// Files a notice without an account. The response carries a tracking token,
/// shown once, for following the notice.
#[utoipa::path(post, path = "/api/v1/public/notices", tag = "notices", request_body = NoticeInput,
    responses((status = 201, body = FiledNotice), (status = 422, body = Problem)))]
async fn file_public(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NoticeInput>,
) -> ApiResult<impl IntoResponse> {
    let notice = input
        .parse(Submitter::Anonymous, None)
        .map_err(ApiError::validation)?;
    let (token, token_hash) = new_secret("igt_");
    let filer = Filer {
        org_id: None,
        user_id: None,
        channel: NoticeChannel::Anonymous,
    };
    let mut filed = in_tx!(state, |tx| file(
        &mut tx,
        state.policy(),
        filer,
        notice,
        Some(token_hash),
        now_millis()
    )
    .await?);
    filed.tracking_token = Some(token);
    Ok((StatusCode::CREATED, axum::Json(filed)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeView {
    pub id: i64,
    pub organisation_id: Option<i64>,
    pub channel: NoticeChannel,
    pub infringement_type: InfringementType,
    pub description: String,
    pub trusted: bool,
    pub received_at: String,
    pub deadline_at: String,
    pub decided_at: Option<String>,
    pub items: Vec<ItemView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub id: i64,
    pub platform: String,
    pub listing_id: String,
    pub status: String,
    pub removed_at: Option<String>,
    pub decided_at: Option<String>,
    pub restored_at: Option<String>,
    /// The latest decision's statement of reasons.
    pub statement_of_reasons: Option<serde_json::Value>,
}

pub async fn load_notice(state: &AppState, id: i64) -> ApiResult<NoticeView> {
    let pool = state.store.pool();
    let row = sqlx::query("SELECT * FROM notices WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| ApiError::not_found("notice"))?;
    let items = sqlx::query(
        "SELECT i.id, l.platform, l.ext_id, i.status, i.removed_at, i.decided_at, i.restored_at, \
         (SELECT d.statement FROM decisions d WHERE d.item_id = i.id ORDER BY d.id DESC LIMIT 1) AS statement \
         FROM notice_items i JOIN listings l ON l.id = i.listing_id WHERE i.notice_id = $1 ORDER BY i.id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|i| {
        let statement: Option<String> = i.try_get("statement")?;
        Ok(ItemView {
            id: i.try_get("id")?,
            platform: i.try_get("platform")?,
            listing_id: i.try_get("ext_id")?,
            status: i.try_get("status")?,
            removed_at: i.try_get::<Option<i64>, _>("removed_at")?.map(rfc3339),
            decided_at: i.try_get::<Option<i64>, _>("decided_at")?.map(rfc3339),
            restored_at: i.try_get::<Option<i64>, _>("restored_at")?.map(rfc3339),
            statement_of_reasons: statement.and_then(|s| serde_json::from_str(&s).ok()),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(NoticeView {
        id,
        organisation_id: row.try_get("org_id")?,
        channel: row
            .try_get::<String, _>("channel")?
            .parse()
            .map_err(ApiError::internal)?,
        infringement_type: row
            .try_get::<String, _>("infringement_type")?
            .parse()
            .map_err(ApiError::internal)?,
        description: row.try_get("description")?,
        trusted: row.try_get::<i64, _>("trusted")? == 1,
        received_at: rfc3339(row.try_get("received_at")?),
        deadline_at: rfc3339(row.try_get("deadline_at")?),
        decided_at: row.try_get::<Option<i64>, _>("decided_at")?.map(rfc3339),
        items,
    })
}

/// One notice with its items and decisions (its submitter, or staff).
#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "notices", params(("id" = i64, Path)),
    responses((status = 200, body = NoticeView), (status = 404, body = Problem)))]
async fn get_notice(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<NoticeView>> {
    let notice = load_notice(&state, id).await?;
    let own = principal.role == Role::RightsHolder
        && principal.org_id.is_some()
        && notice.organisation_id == principal.org_id;
    if !(own || principal.is_staff()) {
        return Err(ApiError::not_found("notice"));
    }
    Ok(axum::Json(notice))
}

/// Follows a notice filed without an account.
#[utoipa::path(get, path = "/api/v1/public/notices/{token}", tag = "notices", params(("token" = String, Path)),
    responses((status = 200, body = NoticeView), (status = 404, body = Problem)))]
async fn track_public(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<axum::Json<NoticeView>> {
    let row = sqlx::query("SELECT id FROM notices WHERE tracking_token_hash = $1")
        .bind(secret_hash(&token))
        .fetch_optional(state.store.pool())
        .await?
        .ok_or_else(|| ApiError::not_found("notice"))?;
    Ok(axum::Json(load_notice(&state, row.try_get("id")?).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeSummary {
    pub id: i64,
    pub infringement_type: InfringementType,
    pub channel: NoticeChannel,
    pub trusted: bool,
    pub received_at: String,
    pub deadline_at: String,
    pub decided_at: Option<String>,
}

/// Notices: a rights holder's own, or all for staff.
#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", params(Page), responses((status = 200, body = Paged<NoticeSummary>)))]
async fn list_notices(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<axum::Json<Paged<NoticeSummary>>> {
    let scope = if principal.is_staff() {
        None
    } else {
        Some(principal.org()?)
    };
    let rows = sqlx::query(
        "SELECT id, infringement_type, channel, trusted, received_at, deadline_at, decided_at FROM notices \
         WHERE ($1 IS NULL OR org_id = $1) AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(scope)
    .bind(page.after())
    .bind(page.limit())
    .fetch_all(state.store.pool())
    .await?;
    let items = rows
        .iter()
        .map(|row| {
            Ok(NoticeSummary {
                id: row.try_get("id")?,
                infringement_type: row
                    .try_get::<String, _>("infringement_type")?
                    .parse()
                    .map_err(ApiError::internal)?,
                channel: row
                    .try_get::<String, _>("channel")?
                    .parse()
                    .map_err(ApiError::internal)?,
                trusted: row.try_get::<i64, _>("trusted")? == 1,
                received_at: rfc3339(row.try_get("received_at")?),
                deadline_at: rfc3339(row.try_get("deadline_at")?),
                decided_at: row.try_get::<Option<i64>, _>("decided_at")?.map(rfc3339),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(axum::Json(Paged::new(items, &page, |n| n.id)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitterRecord {
    pub standing: SubmitterStanding,
    pub standing_until: Option<String>,
    /// Accuracy and trusted status per infringement type.
    pub by_type: Vec<TypeRecord>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TypeRecord {
    pub infringement_type: InfringementType,
    pub record: AccuracyRecord,
    pub upheld_ratio: Option<f64>,
    pub trusted: bool,
}

/// The caller's record in the good-faith program (rights holders).
#[utoipa::path(get, path = "/api/v1/submitter", tag = "notices", responses((status = 200, body = SubmitterRecord)))]
async fn submitter_record(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<SubmitterRecord>> {
    let org = principal.org()?;
    let mut conn = state.store.pool().acquire().await?;
    let now = now_millis();
    let mut by_type = Vec::new();
    for kind in InfringementType::ALL {
        let record = trust::record(&mut conn, state.policy(), org, *kind, now).await?;
        let trusted = trust::is_trusted(&mut conn, org, *kind).await?;
        by_type.push(TypeRecord {
            infringement_type: *kind,
            upheld_ratio: record.upheld_ratio(),
            record,
            trusted,
        });
    }
    let row = sqlx::query("SELECT standing, standing_until FROM organisations WHERE id = $1")
        .bind(org)
        .fetch_one(&mut *conn)
        .await?;
    Ok(axum::Json(SubmitterRecord {
        standing: row
            .try_get::<String, _>("standing")?
            .parse()
            .map_err(ApiError::internal)?,
        standing_until: row
            .try_get::<Option<i64>, _>("standing_until")?
            .map(rfc3339),
        by_type,
    }))
}
