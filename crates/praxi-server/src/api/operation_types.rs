//! `/api/operation-types/` (api.md §3.8): list (paginated, `active` filter), detail, create,
//! PUT, PATCH, DELETE. Reads for every API role, writes for admins. Durations may not be
//! negative, colours must be `#RRGGBB`, and a type that operations use cannot be deleted (409;
//! the original deleted the operations with it).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use praxi_domain::catalog::{OperationTypeChanges, WriteMode};
use praxi_domain::rbac::{Action, Resource};
use praxi_store::catalog::OperationTypeRecord;
use serde_json::{Value, json};

use crate::api::appointment_types::{ListQuery, READ_ONLY, non_null_bool, non_null_int};
use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::{self, PageRequest};

const MODEL: &str = "OperationType";
const RESOURCE: Resource = Resource::OperationTypes;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/operation-types/",
            get(list).post(create).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/operation-types/{id}/",
            get(detail)
                .put(update_put)
                .patch(update_patch)
                .delete(delete)
                .fallback(method_fallback(RESOURCE)),
        )
}

fn item_json(record: &OperationTypeRecord, state: &AppState) -> Value {
    let tz = state.tz();
    json!({
        "id": record.id,
        "name": record.fields.name,
        "prep_duration": record.fields.prep_duration,
        "op_duration": record.fields.op_duration,
        "post_duration": record.fields.post_duration,
        "color": record.fields.color,
        "active": record.fields.active,
        "created_at": wire::datetime(record.created_at, tz),
        "updated_at": wire::datetime(record.updated_at, tz),
    })
}

/// The audit meta of a single-row action: the row's id, nothing else.
fn meta(id: i64) -> Option<Value> {
    Some(json!({ "operation_type_id": id }))
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::List, MODEL)?;
    let query = ListQuery::from_uri(&uri);
    let request = PageRequest::from_query(query.page.as_deref(), query.page_size.as_deref())?;
    let active = query.active();
    let count = state.store.count_operation_types(active).await?;
    let (page, offset) = request.resolve(count)?;
    let types = state
        .store
        .list_operation_types(active, offset, request.page_size)
        .await?;
    state
        .store
        .record_audit(&auth.audit("operation_type_list", None, None))
        .await?;
    let results = types
        .iter()
        .map(|record| item_json(record, &state))
        .collect();
    Ok(Json(wire::page_envelope(
        &headers,
        &uri,
        count,
        page,
        request.page_size,
        results,
    )))
}

async fn detail(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::Read, MODEL)?;
    let record = find(&state, id).await?;
    // Audited only after a successful lookup (api.md §5 item 14).
    state
        .store
        .record_audit(&auth.audit("operation_type_view", None, meta(id)))
        .await?;
    Ok(Json(item_json(&record, &state)))
}

async fn find(state: &AppState, id: i64) -> ApiResult<OperationTypeRecord> {
    state
        .store
        .operation_type(id)
        .await?
        .ok_or(ApiError::NotFound(MODEL))
}

fn read_changes(body: JsonBody, state: &AppState) -> ApiResult<OperationTypeChanges> {
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    let changes = OperationTypeChanges {
        name: fields.string("name"),
        prep_duration: non_null_int(&mut fields, "prep_duration"),
        op_duration: non_null_int(&mut fields, "op_duration"),
        post_duration: non_null_int(&mut fields, "post_duration"),
        color: fields.string("color"),
        active: non_null_bool(&mut fields, "active"),
    };
    fields.finish()?;
    Ok(changes)
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require(RESOURCE, Action::Create, MODEL)?;
    let fields = read_changes(body?, &state)?.create()?;
    let record = state
        .store
        .create_operation_type(fields, state.now(), |id| {
            auth.audit("operation_type_create", None, meta(id))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(item_json(&record, &state))))
}

async fn update_put(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<Json<Value>> {
    update(state, auth, id, body, WriteMode::Full).await
}

async fn update_patch(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<Json<Value>> {
    update(state, auth, id, body, WriteMode::Partial).await
}

async fn update(
    state: AppState,
    auth: AuthUser,
    id: i64,
    body: Result<JsonBody, ApiError>,
    mode: WriteMode,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::Update, MODEL)?;
    // DRF order: unknown id (404) before body errors (400).
    find(&state, id).await?;
    let changes = read_changes(body?, &state)?;
    let record = state
        .store
        .update_operation_type(
            id,
            |current| changes.apply(current, mode),
            state.now(),
            &auth.audit("operation_type_update", None, meta(id)),
        )
        .await?;
    Ok(Json(item_json(&record, &state)))
}

async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    auth.require(RESOURCE, Action::Delete, MODEL)?;
    state
        .store
        .delete_operation_type(id, &auth.audit("operation_type_delete", None, meta(id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
