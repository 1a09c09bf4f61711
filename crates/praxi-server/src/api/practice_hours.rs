//! `/api/practice-hours/` (api.md §3.14): the practice's weekly opening windows. Paginated
//! list, detail, create, update (PUT/PATCH) and delete; every call is audited with the
//! original's `practice_hours_*` actions.
//!
//! Also home of the small helpers the other calendar-configuration modules share (body
//! reading per write mode, list paging, time rendering).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{NaiveDate, NaiveTime, Timelike};
use praxi_domain::hours::HoursChanges;
use praxi_domain::rbac::{Action, Decision, Resource};
use praxi_domain::validation::REQUIRED;
use praxi_store::hours::{PracticeHoursRecord, Visibility};
use serde_json::{Value, json};

use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::{self, PageRequest};

const MODEL: &str = "PracticeHours";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/practice-hours/",
            get(list)
                .post(create)
                .fallback(method_fallback(Resource::PracticeHours)),
        )
        .route(
            "/api/practice-hours/{id}/",
            get(detail)
                .put(replace)
                .patch(patch)
                .delete(delete)
                .fallback(method_fallback(Resource::PracticeHours)),
        )
}

fn read_json(record: &PracticeHoursRecord, state: &AppState) -> Value {
    let tz = state.tz();
    json!({
        "id": record.id,
        "weekday": record.window.weekday,
        "start_time": time_json(record.window.start_time),
        "end_time": time_json(record.window.end_time),
        "active": record.window.active,
        "created_at": wire::datetime(record.created_at, tz),
        "updated_at": wire::datetime(record.updated_at, tz),
    })
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    auth.require(Resource::PracticeHours, Action::List, MODEL)?;
    let request = page_request(&uri)?;
    let count = state.store.count_practice_hours().await?;
    let (page, offset) = request.resolve(count)?;
    let rows = state
        .store
        .list_practice_hours(offset, request.page_size)
        .await?;
    state
        .store
        .record_audit(&auth.audit("practice_hours_list", None, None))
        .await?;
    let results = rows.iter().map(|row| read_json(row, &state)).collect();
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
    auth.require(Resource::PracticeHours, Action::Read, MODEL)?;
    let record = find(&state, id).await?;
    state
        .store
        .record_audit(&auth.audit("practice_hours_view", None, id_meta(id)))
        .await?;
    Ok(Json(read_json(&record, &state)))
}

async fn find(state: &AppState, id: i64) -> ApiResult<PracticeHoursRecord> {
    state
        .store
        .practice_hours(id)
        .await?
        .ok_or(ApiError::NotFound(MODEL))
}

/// Reads the window fields of a body; type and field-level errors are collected together.
fn read_changes(fields: &mut Fields, mode: Mode) -> HoursChanges {
    let changes = HoursChanges {
        weekday: read_int(fields, "weekday", mode),
        start_time: read_time(fields, "start_time", mode),
        end_time: read_time(fields, "end_time", mode),
        active: read_bool(fields, "active"),
    };
    changes.check_fields(fields.errors_mut());
    changes
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require(Resource::PracticeHours, Action::Create, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    let changes = read_changes(&mut fields, Mode::Create);
    fields.finish()?;
    let window = changes.create()?;
    let record = state
        .store
        .create_practice_hours(window, state.now(), |id| {
            auth.audit("practice_hours_create", None, id_meta(id))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(read_json(&record, &state))))
}

async fn replace(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    update(state, auth, id, body, Mode::Replace).await
}

async fn patch(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    update(state, auth, id, body, Mode::Patch).await
}

async fn update(
    state: AppState,
    auth: AuthUser,
    id: i64,
    body: JsonBody,
    mode: Mode,
) -> ApiResult<Json<Value>> {
    auth.require(Resource::PracticeHours, Action::Update, MODEL)?;
    find(&state, id).await?;
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    let changes = read_changes(&mut fields, mode);
    fields.finish()?;
    let record = state
        .store
        .update_practice_hours(
            id,
            changes,
            state.now(),
            &auth.audit("practice_hours_update", None, id_meta(id)),
        )
        .await?;
    Ok(Json(read_json(&record, &state)))
}

async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    auth.require(Resource::PracticeHours, Action::Delete, MODEL)?;
    state
        .store
        .delete_practice_hours(id, &auth.audit("practice_hours_delete", None, id_meta(id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- helpers shared by the calendar-configuration modules -----------------------------------

/// Fields a client may echo back from a read; they are ignored on writes.
pub(crate) const READ_ONLY: [&str; 3] = ["id", "created_at", "updated_at"];

/// How a write body is read: POST and PUT require every required field, PATCH none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Create,
    Replace,
    Patch,
}

impl Mode {
    fn requires_all(self) -> bool {
        matches!(self, Mode::Create | Mode::Replace)
    }
}

/// Resolves a reader's result: absent → "required" when the mode requires the field; null →
/// DRF's null message; an invalid value keeps only its own message. (`Fields::required_*`
/// would add the null message to an invalid value as well.)
fn resolve<T>(fields: &mut Fields, name: &str, value: Option<Option<T>>, mode: Mode) -> Option<T> {
    match value {
        Some(Some(value)) => Some(value),
        Some(None) => {
            if !fields.errors_mut().contains(name) {
                fields.errors_mut().add(name, "This field may not be null.");
            }
            None
        }
        None => {
            if mode.requires_all() {
                fields.errors_mut().add(name, REQUIRED);
            }
            None
        }
    }
}

/// A non-null integer, required unless patching.
pub(crate) fn read_int(fields: &mut Fields, name: &str, mode: Mode) -> Option<i64> {
    let value = fields.opt_int(name);
    resolve(fields, name, value, mode)
}

/// A non-null time of day, required unless patching.
pub(crate) fn read_time(fields: &mut Fields, name: &str, mode: Mode) -> Option<NaiveTime> {
    let value = fields.opt_time(name);
    resolve(fields, name, value, mode)
}

/// A non-null date, required unless patching.
pub(crate) fn read_date(fields: &mut Fields, name: &str, mode: Mode) -> Option<NaiveDate> {
    let value = fields.opt_date(name);
    resolve(fields, name, value, mode)
}

/// An optional, non-null boolean (`active`: the model default applies when omitted).
pub(crate) fn read_bool(fields: &mut Fields, name: &str) -> Option<bool> {
    let value = fields.opt_bool(name);
    resolve(fields, name, value, Mode::Patch)
}

/// Renders a time of day like DRF: `HH:MM:SS`, microseconds only when non-zero.
pub(crate) fn time_json(time: NaiveTime) -> String {
    if time.nanosecond() == 0 {
        time.format("%H:%M:%S").to_string()
    } else {
        time.format("%H:%M:%S%.6f").to_string()
    }
}

/// Reads `page` and `page_size` from the query string (the last value wins, as in Django;
/// a malformed query string never produces a non-JSON rejection).
pub(crate) fn page_request(uri: &Uri) -> ApiResult<PageRequest> {
    let page = query_param(uri, "page");
    let page_size = query_param(uri, "page_size");
    PageRequest::from_query(page.as_deref(), page_size.as_deref())
}

/// The last value of a query parameter.
pub(crate) fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query().and_then(|query| {
        wire::url_pairs(query)
            .into_iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value)
            .next_back()
    })
}

/// Which rows a list shows: a doctor's own ("flt" rows of api.md §2.2), else all.
pub(crate) fn visibility(decision: Decision, auth: &AuthUser) -> Visibility {
    match decision {
        Decision::Filtered | Decision::OwnOnly(_) => Visibility::Doctor(auth.user.id),
        Decision::Allow | Decision::Deny(_) => Visibility::All,
    }
}

/// Audit meta naming the row (ids only).
pub(crate) fn id_meta(id: i64) -> Option<Value> {
    Some(json!({ "id": id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render_like_drf() {
        let time = NaiveTime::from_hms_opt(8, 5, 0).unwrap();
        assert_eq!(time_json(time), "08:05:00");
        let time = NaiveTime::from_hms_micro_opt(8, 5, 0, 500).unwrap();
        assert_eq!(time_json(time), "08:05:00.000500");
    }

    #[test]
    fn query_params_take_the_last_value() {
        let uri: Uri = "/api/x/?page=2&q=a&page=3&q=M%C3%BC".parse().unwrap();
        assert_eq!(query_param(&uri, "page").as_deref(), Some("3"));
        assert_eq!(query_param(&uri, "q").as_deref(), Some("Mü"));
        assert_eq!(query_param(&uri, "missing"), None);
    }
}
