//! `/api/patients/` (api.md §3.19): list, search, detail, create, update. No delete (405).
//! Every read and write of patient data is audited (api.md §5 item 14).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use praxi_domain::patient::{PatientChanges, PatientId};
use praxi_domain::rbac::{Action, Area};
use praxi_store::patients::PatientRecord;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::Query;
use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::{self, PageRequest};

const MODEL: &str = "Patient";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/patients/",
            get(list)
                .post(create)
                .fallback(method_fallback(Area::Patients)),
        )
        .route(
            "/api/patients/search/",
            get(search).fallback(method_fallback(Area::Patients)),
        )
        .route(
            "/api/patients/{id}/",
            get(detail)
                .put(update_put)
                .patch(update_patch)
                .delete(delete)
                .fallback(method_fallback(Area::Patients)),
        )
}

fn read_json(patient: &PatientRecord, state: &AppState) -> Value {
    let tz = state.tz();
    json!({
        "id": patient.id,
        "first_name": patient.fields.first_name,
        "last_name": patient.fields.last_name,
        "birth_date": patient.fields.birth_date,
        "gender": patient.fields.gender,
        "phone": patient.fields.phone,
        "email": patient.fields.email,
        "created_at": wire::opt_datetime(patient.created_at, tz),
        "updated_at": wire::opt_datetime(patient.updated_at, tz),
    })
}

/// The write shape the original answers PUT/PATCH with (no id, no timestamps).
fn write_json(patient: &PatientRecord) -> Value {
    json!({
        "first_name": patient.fields.first_name,
        "last_name": patient.fields.last_name,
        "birth_date": patient.fields.birth_date,
        "gender": patient.fields.gender,
        "phone": patient.fields.phone,
        "email": patient.fields.email,
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    page: Option<String>,
    page_size: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    auth.require(Area::Patients, Action::List, MODEL)?;
    let request = PageRequest::from_query(query.page.as_deref(), query.page_size.as_deref())?;
    let count = state.store.count_patients().await?;
    let (page, offset) = request.resolve(count)?;
    let patients = state.store.list_patients(offset, request.page_size).await?;
    let ids: Vec<i32> = patients.iter().map(|patient| patient.id).collect();
    state
        .store
        .record_audit(
            &auth
                .audit(
                    "patient_list",
                    None,
                    Some(json!({"page": page, "patient_ids": ids})),
                )
                .with_subjects(ids),
        )
        .await?;
    let results = patients
        .iter()
        .map(|patient| read_json(patient, &state))
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

#[derive(Debug, Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
}

async fn search(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Json<Value>> {
    auth.require(Area::Patients, Action::List, MODEL)?;
    let q = query.q.unwrap_or_default();
    let patients = state.store.search_patients(q.trim()).await?;
    let ids: Vec<i32> = patients.iter().map(|patient| patient.id).collect();
    // The query text itself may be a name: only its length is kept.
    state
        .store
        .record_audit(
            &auth
                .audit(
                    "patient_search",
                    None,
                    Some(json!({"query_length": q.trim().chars().count(), "patient_ids": ids})),
                )
                .with_subjects(ids),
        )
        .await?;
    Ok(Json(Value::Array(
        patients
            .iter()
            .map(|patient| read_json(patient, &state))
            .collect(),
    )))
}

async fn detail(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    auth.require(Area::Patients, Action::Read, MODEL)?;
    let patient = find(&state, id).await?;
    state
        .store
        .record_audit(&auth.audit("patient_view", Some(patient.id), None))
        .await?;
    Ok(Json(read_json(&patient, &state)))
}

async fn find(state: &AppState, id: i64) -> ApiResult<PatientRecord> {
    let id = i32::try_from(id).map_err(|_| ApiError::NotFound(MODEL))?;
    state
        .store
        .patient(id)
        .await?
        .ok_or(ApiError::NotFound(MODEL))
}

/// Reads the profile fields present in the body.
fn read_changes(fields: &mut Fields) -> PatientChanges {
    PatientChanges {
        first_name: fields.string("first_name"),
        last_name: fields.string("last_name"),
        birth_date: fields.opt_date("birth_date"),
        gender: fields.opt_string("gender"),
        phone: fields.opt_string("phone"),
        email: fields.opt_string("email"),
    }
}

/// Fields a client may echo back from a read; they are ignored on writes.
const READ_ONLY: [&str; 2] = ["created_at", "updated_at"];

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require(Area::Patients, Action::Create, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    // Praxi allocates the next number when the client sends none (additive to the original).
    let id = match fields.opt_int("id") {
        Some(Some(raw)) => match PatientId::new(raw) {
            Ok(id) => Some(id),
            Err(error) => {
                for message in error.0.fields().get("id").into_iter().flatten() {
                    fields.errors_mut().add("id", message.clone());
                }
                None
            }
        },
        _ => None,
    };
    let id_invalid = fields.has("id") && id.is_none();
    let changes = read_changes(&mut fields);
    fields.finish()?;
    if id_invalid {
        return Err(ApiError::field("id", "id must be a positive integer."));
    }
    let profile = changes.apply(Default::default(), state.today())?;
    let now = state.now();
    let patient = state
        .store
        .create_patient(id, profile, now, |id| {
            auth.audit("patient_created", Some(id), None)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(read_json(&patient, &state))))
}

async fn update_put(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    update(state, auth, id, body, true).await
}

async fn update_patch(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    update(state, auth, id, body, false).await
}

async fn update(
    state: AppState,
    auth: AuthUser,
    id: i64,
    body: JsonBody,
    full: bool,
) -> ApiResult<Json<Value>> {
    auth.require(Area::Patients, Action::Update, MODEL)?;
    let existing = find(&state, id).await?;
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    match fields.opt_int("id") {
        Some(Some(body_id)) if body_id != i64::from(existing.id) => {
            fields.errors_mut().add(
                "id",
                "id must match the patient in the URL and cannot be changed.",
            );
        }
        Some(Some(_)) => {}
        Some(None) => {}
        None if full => fields.errors_mut().add("id", "This field is required."),
        None => {}
    }
    let mut changes = read_changes(&mut fields);
    fields.finish()?;
    if full {
        // PUT replaces the record: fields it leaves out are cleared.
        changes = PatientChanges {
            first_name: Some(changes.first_name.unwrap_or_default()),
            last_name: Some(changes.last_name.unwrap_or_default()),
            birth_date: Some(changes.birth_date.unwrap_or(existing.fields.birth_date)),
            gender: Some(changes.gender.unwrap_or(None)),
            phone: Some(changes.phone.unwrap_or(None)),
            email: Some(changes.email.unwrap_or(None)),
        };
    }
    let profile = changes.apply(existing.fields.clone(), state.today())?;
    let patient = state
        .store
        .update_patient(
            existing.id,
            profile,
            state.now(),
            &auth.audit("patient_updated", Some(existing.id), None),
        )
        .await?;
    Ok(Json(write_json(&patient)))
}

async fn delete(auth: AuthUser, PathId(_id): PathId) -> ApiResult<StatusCode> {
    auth.require(Area::Patients, Action::Delete, MODEL)?;
    Err(ApiError::MethodNotAllowed("DELETE".to_owned()))
}
