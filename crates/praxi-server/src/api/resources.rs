//! `/api/resources/` (api.md §3.12): list (paginated, active resources only, `type` filter),
//! detail (inactive ones too, not audited like the original), create, PUT, PATCH, DELETE.
//! Reads for every API role, writes for admins and assistants. A resource that bookings use
//! cannot be deleted (409; the original deleted the operations in a deleted room) and cannot
//! change its `type` (400); deactivating it is always possible.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use praxi_domain::catalog::{ResourceChanges, WriteMode};
use praxi_domain::rbac::{Action, Resource};
use praxi_store::catalog::ResourceRecord;
use serde_json::{Value, json};

use crate::api::appointment_types::{ListQuery, READ_ONLY, non_null_bool};
use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::{self, PageRequest};

const MODEL: &str = "Resource";
const RESOURCE: Resource = Resource::Resources;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/resources/",
            get(list).post(create).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/resources/{id}/",
            get(detail)
                .put(update_put)
                .patch(update_patch)
                .delete(delete)
                .fallback(method_fallback(RESOURCE)),
        )
}

fn item_json(record: &ResourceRecord, state: &AppState) -> Value {
    let tz = state.tz();
    json!({
        "id": record.id,
        "name": record.fields.name,
        "type": record.fields.kind.as_str(),
        "color": record.fields.color,
        "active": record.fields.active,
        "created_at": wire::datetime(record.created_at, tz),
        "updated_at": wire::datetime(record.updated_at, tz),
    })
}

/// The audit meta of a single-row action: the row's id, nothing else.
fn meta(id: i64) -> Option<Value> {
    Some(json!({ "resource_id": id }))
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
    // `?type=` filters on the exact value; an empty one filters nothing.
    let kind = query.kind.as_deref().filter(|kind| !kind.is_empty());
    let count = state.store.count_active_resources(kind).await?;
    let (page, offset) = request.resolve(count)?;
    let resources = state
        .store
        .list_active_resources(kind, offset, request.page_size)
        .await?;
    state
        .store
        .record_audit(&auth.audit("resource_list", None, None))
        .await?;
    let results = resources
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
    // Not audited, like the original (resources are configuration, not patient data).
    let record = find(&state, id).await?;
    Ok(Json(item_json(&record, &state)))
}

async fn find(state: &AppState, id: i64) -> ApiResult<ResourceRecord> {
    state
        .store
        .resource(id)
        .await?
        .ok_or(ApiError::NotFound(MODEL))
}

fn read_changes(body: JsonBody, state: &AppState) -> ApiResult<ResourceChanges> {
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    let changes = ResourceChanges {
        name: fields.string("name"),
        kind: fields.string("type"),
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
        .create_resource(fields, state.now(), |id| {
            auth.audit("resource_create", None, meta(id))
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
        .update_resource(
            id,
            |current| changes.apply(current, mode),
            state.now(),
            &auth.audit("resource_update", None, meta(id)),
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
        .delete_resource(id, &auth.audit("resource_delete", None, meta(id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
