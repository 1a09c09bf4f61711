//! `/api/appointment-types/` (api.md §3.4): list (paginated, `active` filter), detail, create,
//! PUT, PATCH, DELETE. Reads for every API role, writes for admins.
//!
//! Also holds the small request helpers the three catalogue modules share (appointment types,
//! operation types, resources).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use praxi_domain::catalog::{AppointmentTypeChanges, WriteMode};
use praxi_domain::rbac::{Action, Resource};
use praxi_store::catalog::AppointmentTypeRecord;
use serde_json::{Value, json};

use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::{self, PageRequest};

const MODEL: &str = "AppointmentType";
const RESOURCE: Resource = Resource::AppointmentTypes;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/appointment-types/",
            get(list).post(create).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/appointment-types/{id}/",
            get(detail)
                .put(update_put)
                .patch(update_patch)
                .delete(delete)
                .fallback(method_fallback(RESOURCE)),
        )
}

fn item_json(record: &AppointmentTypeRecord, state: &AppState) -> Value {
    let tz = state.tz();
    json!({
        "id": record.id,
        "name": record.fields.name,
        "color": record.fields.color,
        "duration_minutes": record.fields.duration_minutes,
        "active": record.fields.active,
        "created_at": wire::datetime(record.created_at, tz),
        "updated_at": wire::datetime(record.updated_at, tz),
    })
}

/// The audit meta of a single-row action: the row's id, nothing else.
fn meta(id: i64) -> Option<Value> {
    Some(json!({ "appointment_type_id": id }))
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
    let count = state.store.count_appointment_types(active).await?;
    let (page, offset) = request.resolve(count)?;
    let types = state
        .store
        .list_appointment_types(active, offset, request.page_size)
        .await?;
    state
        .store
        .record_audit(&auth.audit("appointment_type_list", None, None))
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
        .record_audit(&auth.audit("appointment_type_view", None, meta(id)))
        .await?;
    Ok(Json(item_json(&record, &state)))
}

async fn find(state: &AppState, id: i64) -> ApiResult<AppointmentTypeRecord> {
    state
        .store
        .appointment_type(id)
        .await?
        .ok_or(ApiError::NotFound(MODEL))
}

fn read_changes(body: JsonBody, state: &AppState) -> ApiResult<AppointmentTypeChanges> {
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    let changes = AppointmentTypeChanges {
        name: fields.string("name"),
        color: fields.opt_string("color"),
        duration_minutes: fields.opt_int("duration_minutes"),
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
        .create_appointment_type(fields, state.now(), |id| {
            auth.audit("appointment_type_create", None, meta(id))
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
        .update_appointment_type(
            id,
            |current| changes.apply(current, mode),
            state.now(),
            &auth.audit("appointment_type_update", None, meta(id)),
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
        .delete_appointment_type(id, &auth.audit("appointment_type_delete", None, meta(id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- helpers shared by the catalogue modules ---------------------------------------------

/// Read-only fields clients echo back from a read; ignored on writes (DRF ignores read-only
/// fields).
pub(crate) const READ_ONLY: [&str; 3] = ["id", "created_at", "updated_at"];

/// A boolean that may be omitted but not null.
pub(crate) fn non_null_bool(fields: &mut Fields, name: &str) -> Option<bool> {
    let value = fields.opt_bool(name);
    non_null(fields, name, value)
}

/// An integer that may be omitted but not null.
pub(crate) fn non_null_int(fields: &mut Fields, name: &str) -> Option<i64> {
    let value = fields.opt_int(name);
    non_null(fields, name, value)
}

fn non_null<T>(fields: &mut Fields, name: &str, value: Option<Option<T>>) -> Option<T> {
    match value {
        Some(Some(value)) => Some(value),
        Some(None) => {
            // `None` inside also stands for "invalid", whose error is already recorded.
            if !fields.errors_mut().contains(name) {
                fields.errors_mut().add(name, "This field may not be null.");
            }
            None
        }
        None => None,
    }
}

/// The query parameters of a catalogue list. Read from the raw query string so that
/// repeated or odd parameters never turn into a non-JSON error; like Django's `QueryDict.get`
/// the last value of a repeated parameter wins.
#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    pub(crate) page: Option<String>,
    pub(crate) page_size: Option<String>,
    active: Option<String>,
    pub(crate) kind: Option<String>,
}

impl ListQuery {
    pub(crate) fn from_uri(uri: &Uri) -> Self {
        let mut query = ListQuery::default();
        for (key, value) in uri.query().map(wire::url_pairs).unwrap_or_default() {
            match key.as_str() {
                "page" => query.page = Some(value),
                "page_size" => query.page_size = Some(value),
                "active" => query.active = Some(value),
                "type" => query.kind = Some(value),
                _ => {}
            }
        }
        query
    }

    /// `active=true|false` (case-insensitive); any other value filters nothing.
    pub(crate) fn active(&self) -> Option<bool> {
        match self
            .active
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        }
    }
}
