//! The routes of the master-data tables (api.md §3.4, §3.8, §3.12, §3.14–§3.17): list
//! (paginated), detail, create, PUT, PATCH, DELETE — written once, driven by each table's
//! [`ApiTable`] declaration (path, JSON shape, list filters) on top of its use-case
//! declaration ([`MasterData`]). Handlers only authorise, parse and render; the work is in
//! `usecases::master_data`.
//!
//! Order of answers, as DRF: policy (401/403/405) first, then an unknown or hidden id (404),
//! then body errors (400).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use praxi_domain::rbac::Action;
use praxi_store::admin_lists::Window;
use serde_json::Value;

use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody, Mode};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::master_data::{self, Access, Filter, MasterData, Record, Refused, Sort};
use crate::wire::{self, PageRequest};

/// What the API adds to a master-data declaration.
pub(crate) trait ApiTable: MasterData {
    /// The collection path (`/api/appointment-types/`); rows live at `<PATH><id>/`.
    const PATH: &'static str;

    /// The DRF shape of one row.
    fn json(record: &Record<Self>, state: &AppState) -> Value;

    /// The list filter a query string asks for (a doctor's decision narrows it further).
    fn list_filter(_query: &ListParams) -> Filter<Self> {
        Filter::<Self>::default()
    }

    /// The list order.
    fn list_sort() -> Sort<Self> {
        Sort::<Self>::default()
    }
}

/// The routes of one table.
pub(crate) fn router<T: ApiTable>() -> Router<AppState> {
    Router::new()
        .route(
            T::PATH,
            get(list::<T>)
                .post(create::<T>)
                .fallback(method_fallback(T::RESOURCE)),
        )
        .route(
            &format!("{}{{id}}/", T::PATH),
            get(detail::<T>)
                .put(replace::<T>)
                .patch(patch::<T>)
                .delete(delete::<T>)
                .fallback(method_fallback(T::RESOURCE)),
        )
}

impl From<Refused> for ApiError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Denied(denial, model) => ApiError::from_denial(denial, model),
            Refused::NotFound(model) => ApiError::NotFound(model),
            Refused::Invalid(errors) => ApiError::Validation(errors),
            Refused::StillReferenced(what) => {
                ApiError::Conflict(format!("{what} is still referenced"))
            }
            Refused::Store(error) => error.into(),
        }
    }
}

/// The query parameters of a list, read from the raw query string so that repeated or odd
/// parameters never turn into a non-JSON error; like Django's `QueryDict.get` the last value
/// of a repeated parameter wins.
#[derive(Debug, Default)]
pub(crate) struct ListParams(Vec<(String, String)>);

impl ListParams {
    pub(crate) fn from_uri(uri: &Uri) -> Self {
        ListParams(uri.query().map(wire::url_pairs).unwrap_or_default())
    }

    /// The last value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// `active=true|false` (case-insensitive); any other value filters nothing.
    pub(crate) fn active(&self) -> Option<bool> {
        match self.get("active").map(str::to_ascii_lowercase).as_deref() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        }
    }
}

/// Reads a write body: echoed read-only fields are ignored, unknown fields refused, every
/// error names its field.
fn read<T: MasterData>(body: JsonBody, state: &AppState, mode: Mode) -> ApiResult<T::Changes> {
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(T::IGNORED);
    let changes = T::read(&mut fields, mode);
    fields.finish()?;
    Ok(changes)
}

async fn list<T: ApiTable>(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(T::RESOURCE, Action::List, T::MODEL)?;
    let query = ListParams::from_uri(&uri);
    let request = PageRequest::from_query(query.get("page"), query.get("page_size"))?;
    let mut page = 1;
    let (count, rows) = master_data::list::<T, ApiError>(
        &state,
        &Caller::from(&auth),
        decision,
        T::list_filter(&query),
        T::list_sort(),
        |count| {
            let (number, offset) = request.resolve(count)?;
            page = number;
            Ok(Window {
                offset,
                limit: request.page_size,
            })
        },
    )
    .await?;
    let results = rows.iter().map(|record| T::json(record, &state)).collect();
    Ok(Json(wire::page_envelope(
        &headers,
        &uri,
        count,
        page,
        request.page_size,
        results,
    )))
}

async fn detail<T: ApiTable>(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(T::RESOURCE, Action::Read, T::MODEL)?;
    let record = master_data::view::<T>(&state, &Caller::from(&auth), decision, id).await?;
    Ok(Json(T::json(&record, &state)))
}

async fn create<T: ApiTable>(
    State(state): State<AppState>,
    auth: AuthUser,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let decision = auth.require(T::RESOURCE, Action::Create, T::MODEL)?;
    let changes = read::<T>(body?, &state, Mode::Create)?;
    let record = master_data::create::<T>(&state, &Caller::from(&auth), decision, changes).await?;
    Ok((StatusCode::CREATED, Json(T::json(&record, &state))))
}

async fn replace<T: ApiTable>(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<Json<Value>> {
    update::<T>(state, auth, id, body, Mode::Replace).await
}

async fn patch<T: ApiTable>(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<Json<Value>> {
    update::<T>(state, auth, id, body, Mode::Patch).await
}

async fn update<T: ApiTable>(
    state: AppState,
    auth: AuthUser,
    id: i64,
    body: Result<JsonBody, ApiError>,
    mode: Mode,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(T::RESOURCE, Action::Update, T::MODEL)?;
    let stored =
        master_data::find::<T>(&state, &Caller::from(&auth), decision, id, Access::Write).await?;
    let changes = read::<T>(body?, &state, mode)?;
    let record = master_data::update::<T>(
        &state,
        &Caller::from(&auth),
        decision,
        &stored,
        changes,
        mode,
    )
    .await?;
    Ok(Json(T::json(&record, &state)))
}

async fn delete<T: ApiTable>(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    let decision = auth.require(T::RESOURCE, Action::Delete, T::MODEL)?;
    let stored =
        master_data::find::<T>(&state, &Caller::from(&auth), decision, id, Access::Write).await?;
    master_data::delete::<T>(&state, &Caller::from(&auth), decision, &stored).await?;
    Ok(StatusCode::NO_CONTENT)
}
