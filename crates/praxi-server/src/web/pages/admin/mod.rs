//! `/admin/`: the staff administration of master data and users (ui.md §4, fixing §8).
//!
//! Every entity gets the same set of pages from [`AdminEntity`]: a list with search, filters,
//! pagination and (where cheap) sorting; a create form; an edit form; deactivate/activate and,
//! where the API allows it, delete. Unlike the original's model forms, every write goes
//! through the store function the API uses (with the domain's validation and the audit row in
//! the same transaction), and every page and every POST checks the same RBAC policy: admins
//! may do everything, assistants write what the API lets them write, billing staff read lists
//! only (no forms; their POSTs get 403) and doctors have no administration at all (403).
//!
//! Without JavaScript everything works: forms post and redirect with a flash message
//! (Post/Redirect/Get), or re-render with the domain's messages next to the fields.

mod audit;
mod calendar_feeds;
mod catalog;
mod holidays;
mod hours;
mod patients;
mod reminders;
mod texts;
mod users;
mod view;

use std::future::Future;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use praxi_domain::FieldErrors;
use praxi_domain::rbac::{Action, Area, Decision, Denial};
use praxi_store::StoreError;
use praxi_store::admin_lists::Window;
use praxi_store::audit::AuditEntry;
use serde_json::{Map, Value};

use crate::body::{Fields, JsonBody, Mode};
use crate::error::ApiError;
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::master_data::{self, MasterData, Record, Refused};
use crate::web::i18n::Lang;
use crate::web::problems::{problem_text, still_referenced_text};
use crate::web::session::WebUser;
use crate::web::{Chrome, error_page, render, render_status};
use view::{
    Cell, Column, ExtraForm, Field, Filter, Flash, FormPage, IndexPage, ListPage, Pager, Row,
    RowAction, Section, Tile, colour_css, page_colours,
};

/// Rows per list page.
pub(crate) const PAGE_SIZE: u64 = 25;

/// Texts of the administration pages.
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    texts::lookup(key).or_else(|| holidays::texts(key))
}

/// All administration routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/", get(index))
        .merge(entity_routes::<users::Users>())
        .merge(users::router())
        .merge(entity_routes::<master_data::AppointmentTypes>())
        .merge(entity_routes::<master_data::OperationTypes>())
        .merge(entity_routes::<master_data::Resources>())
        .merge(entity_routes::<master_data::PracticeHours>())
        .merge(entity_routes::<master_data::DoctorHours>())
        .merge(entity_routes::<master_data::Breaks>())
        .merge(entity_routes::<master_data::Absences>())
        .merge(entity_routes::<patients::Patients>())
        .merge(audit::router())
        .merge(calendar_feeds::router())
        .merge(holidays::router())
        .merge(reminders::router())
}

/// One administered entity: what its pages show and which store calls they make.
pub(crate) trait AdminEntity: Send + Sync + 'static {
    /// The URL segment under `/admin/`, also the text-key prefix (`admin.<slug>.title`).
    const SLUG: &'static str;
    const RESOURCE: Area;
    /// Whether the administration offers a create form.
    const CREATE: bool = true;
    /// Whether rows can be deleted (the API allows DELETE).
    const DELETE: bool = true;
    /// Whether rows have an `active` flag (deactivate/activate buttons).
    const ACTIVE: bool = true;
    /// The `sort` value the list uses when none is given.
    const DEFAULT_SORT: Option<&'static str> = None;

    type Record: Send + Sync;

    fn id(record: &Self::Record) -> i64;
    fn is_active(record: &Self::Record) -> bool;
    /// A short name for headings ("Raum 1").
    fn label(record: &Self::Record, user: &WebUser) -> String;

    /// The list: filters read from `query`, one page of rows. Writes the API's list audit row.
    fn list(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> impl Future<Output = Result<ListData, StoreError>> + Send;

    fn find(
        state: &AppState,
        id: i64,
    ) -> impl Future<Output = Result<Option<Self::Record>, StoreError>> + Send;

    /// The audit row the API writes when it shows one row, if any.
    fn view_audit(_user: &WebUser, _record: &Self::Record) -> Option<AuditEntry> {
        None
    }

    /// The form fields: from the submitted `input`, else from `record`, else the defaults.
    fn fields(
        state: &AppState,
        user: &WebUser,
        record: Option<&Self::Record>,
        input: Option<&FormInput>,
    ) -> impl Future<Output = Result<Vec<Field>, StoreError>> + Send;

    /// Read-only facts shown on the edit page (timestamps, …).
    fn facts(_state: &AppState, _user: &WebUser, _record: &Self::Record) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Whether the deactivate button is offered for this row (users: not for oneself; the
    /// domain refuses it anyway).
    fn offers_deactivation(_user: &WebUser, _id: i64) -> bool {
        true
    }

    /// Entity-specific forms on the edit page (e.g. a password reset).
    fn extra_forms(_user: &WebUser, _record: &Self::Record) -> Vec<ExtraForm> {
        Vec::new()
    }

    fn create(
        _state: &AppState,
        _user: &WebUser,
        _input: &FormInput,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send {
        async { Err(StoreError::Db("create is not offered".to_owned())) }
    }

    fn update(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
        input: &FormInput,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn set_active(
        _state: &AppState,
        _user: &WebUser,
        _record: &Self::Record,
        _active: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Err(StoreError::Db("activation is not offered".to_owned())) }
    }

    fn delete(
        _state: &AppState,
        _user: &WebUser,
        _record: &Self::Record,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Err(StoreError::Db("delete is not offered".to_owned())) }
    }
}

/// What an entity's list shows.
pub(crate) struct ListData {
    pub total: u64,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub filters: Vec<Filter>,
}

fn entity_routes<E: AdminEntity>() -> Router<AppState> {
    let base = format!("/admin/{}/", E::SLUG);
    let mut router = Router::new().route(&base, get(list::<E>)).route(
        &format!("{base}{{id}}/"),
        get(edit_form::<E>).post(update::<E>),
    );
    if E::CREATE {
        router = router.route(&format!("{base}new/"), get(new_form::<E>).post(create::<E>));
    }
    if E::ACTIVE {
        router = router
            .route(&format!("{base}{{id}}/deactivate/"), post(deactivate::<E>))
            .route(&format!("{base}{{id}}/activate/"), post(activate::<E>));
    }
    if E::DELETE {
        router = router.route(&format!("{base}{{id}}/delete/"), post(delete::<E>));
    }
    router
}

// ---- request helpers -----------------------------------------------------------------------

/// The query string of a list page.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListQuery {
    pairs: Vec<(String, String)>,
}

impl ListQuery {
    pub(crate) fn from_uri(uri: &Uri) -> ListQuery {
        ListQuery {
            pairs: uri.query().map(crate::wire::url_pairs).unwrap_or_default(),
        }
    }

    /// The last non-blank value of a parameter, trimmed.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, value)| key == name && !value.trim().is_empty())
            .map(|(_, value)| value.trim())
    }

    /// The value of a parameter, `""` when absent (for pre-selecting filters).
    pub(crate) fn value(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_owned()
    }

    /// `active=true|false`.
    pub(crate) fn active(&self) -> Option<bool> {
        match self.get("active") {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        }
    }

    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|value| value.parse().ok())
    }

    pub(crate) fn date(&self, name: &str) -> Option<chrono::NaiveDate> {
        self.get(name).and_then(crate::body::parse_date_str)
    }

    /// The requested page (1 when absent or invalid).
    pub(crate) fn page(&self) -> u64 {
        self.get("page")
            .and_then(|page| page.parse::<u64>().ok())
            .filter(|page| *page >= 1)
            .unwrap_or(1)
    }

    pub(crate) fn window(&self) -> Window {
        Window {
            offset: (self.page() - 1).saturating_mul(PAGE_SIZE),
            limit: PAGE_SIZE,
        }
    }

    /// `(key, descending)` of `sort=key` or `sort=-key`.
    pub(crate) fn sort(&self) -> (Option<&str>, bool) {
        match self.get("sort") {
            Some(sort) => match sort.strip_prefix('-') {
                Some(key) => (Some(key), true),
                None => (Some(sort), false),
            },
            None => (None, false),
        }
    }

    /// This query with `name` replaced (or removed for `None`), as `?…`.
    pub(crate) fn with(&self, name: &str, value: Option<&str>) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .filter(|(key, value)| key != name && key != "ok" && key != "err" && !value.is_empty())
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        if let Some(value) = value {
            pairs.push((name, value));
        }
        let query: Vec<String> = pairs
            .iter()
            .map(|(key, value)| {
                format!(
                    "{}={}",
                    crate::web::url_encode(key),
                    crate::web::url_encode(value)
                )
            })
            .collect();
        format!("?{}", query.join("&"))
    }
}

/// A submitted form (every value as sent; the last value of a repeated name wins).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(transparent)]
pub(crate) struct FormInput(Vec<(String, String)>);

/// How a form value becomes a value of the API's JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum In {
    /// The text as typed (blank stays blank).
    Text,
    /// Blank means null (clears an optional value).
    Nullable,
    /// Blank means "not sent" (a required value the form left empty).
    Optional,
    /// A checkbox: checked = true, absent = false.
    Check,
}

impl FormInput {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(key, _)| key == name)
    }

    fn csrf(&self) -> &str {
        self.get("csrf_token").unwrap_or("")
    }

    /// The value to show in a field after a failed submit.
    pub(crate) fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_owned()
    }

    /// The form as the API's JSON body, so the API's field readers (and their messages) apply.
    pub(crate) fn fields(&self, state: &AppState, spec: &[(&'static str, In)]) -> Fields {
        Fields::new(JsonBody(self.body(spec)), state.tz())
    }

    /// The JSON object of the fields named in `spec` (other form values are left out).
    fn body(&self, spec: &[(&'static str, In)]) -> Map<String, Value> {
        let mut map = Map::new();
        for (name, how) in spec {
            let value = self.get(name);
            let json = match (how, value) {
                (In::Check, value) => Some(Value::Bool(value.is_some())),
                (_, None) => None,
                (In::Text, Some(text)) => Some(Value::String(text.to_owned())),
                (In::Nullable, Some(text)) if text.trim().is_empty() => Some(Value::Null),
                (In::Optional, Some(text)) if text.trim().is_empty() => None,
                (In::Nullable | In::Optional, Some(text)) => Some(Value::String(text.to_owned())),
            };
            if let Some(json) = json {
                map.insert((*name).to_owned(), json);
            }
        }
        map
    }
}

/// What the cells of a master-data list need besides the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    Nothing,
    /// Every user's display name by id (doctor columns).
    UserNames,
}

/// Users' display names by id.
pub(crate) type UserNames = std::collections::HashMap<i64, String>;

/// A master-data table in the administration: only its presentation. Its list query, lookup,
/// view audit and writes are the use cases the API runs too (`usecases::master_data`),
/// through the blanket [`AdminEntity`] implementation below.
pub(crate) trait MasterAdmin: MasterData {
    /// The URL segment under `/admin/`, also the text-key prefix.
    const SLUG: &'static str;
    /// The `sort` value the list uses when none is given.
    const DEFAULT_SORT: Option<&'static str> = None;
    /// How the form's inputs become body fields (read by the table's `MasterData::read`).
    const FORM: &'static [(&'static str, In)];

    fn is_active(record: &Record<Self>) -> bool;
    /// A short name for headings ("Raum 1").
    fn label(record: &Record<Self>, user: &WebUser) -> String;

    /// The list filter and order `query` asks for.
    fn query(query: &ListQuery) -> (master_data::Filter<Self>, master_data::Sort<Self>);

    /// What the cells need besides the row.
    const LOOKUP: Lookup = Lookup::Nothing;

    /// The list's columns.
    fn columns(user: &WebUser) -> Vec<Column>;

    /// One row's cells (`names`: the users' names when [`MasterAdmin::LOOKUP`] asks for them).
    fn cells(
        state: &AppState,
        user: &WebUser,
        names: &UserNames,
        record: &Record<Self>,
    ) -> Vec<Cell>;

    /// The list's filters.
    fn filters(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Vec<Filter>, StoreError>> + Send;

    /// The form fields: from the submitted `input`, else from `record`, else the defaults.
    fn fields(
        state: &AppState,
        user: &WebUser,
        record: Option<&Record<Self>>,
        input: Option<&FormInput>,
    ) -> impl Future<Output = Result<Vec<Field>, StoreError>> + Send;

    /// Read-only facts shown on the edit page (timestamps, …).
    fn facts(state: &AppState, user: &WebUser, record: &Record<Self>) -> Vec<(String, String)>;
}

/// The administration's rendering of a master-data refusal: the engine shows field errors
/// next to the fields, a still-referenced row as a translated flash, a hidden row as 404.
impl From<Refused> for StoreError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Denied(Denial::NotFound, model) | Refused::NotFound(model) => {
                StoreError::NotFound(model)
            }
            Refused::Denied(_, _) => StoreError::Invalid(FieldErrors::single(
                "non_field_errors",
                "You do not have permission to perform this action.",
            )),
            Refused::Invalid(errors) => StoreError::Invalid(errors),
            Refused::StillReferenced(what) => StoreError::StillReferenced(what),
            Refused::Store(error) => error,
        }
    }
}

/// Reads a submitted form with the table's reader.
fn read_form<T: MasterAdmin>(
    state: &AppState,
    input: &FormInput,
    mode: Mode,
) -> Result<T::Changes, StoreError> {
    let mut fields = input.fields(state, T::FORM);
    let changes = T::read(&mut fields, mode);
    finish(fields)?;
    Ok(changes)
}

impl<T: MasterAdmin> AdminEntity for T {
    const SLUG: &'static str = <T as MasterAdmin>::SLUG;
    const RESOURCE: Area = <T as MasterData>::RESOURCE;
    const DEFAULT_SORT: Option<&'static str> = <T as MasterAdmin>::DEFAULT_SORT;
    type Record = Record<T>;

    fn id(record: &Record<T>) -> i64 {
        <T as MasterData>::id(record)
    }

    fn is_active(record: &Record<T>) -> bool {
        <T as MasterAdmin>::is_active(record)
    }

    fn label(record: &Record<T>, user: &WebUser) -> String {
        <T as MasterAdmin>::label(record, user)
    }

    async fn list(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<ListData, StoreError> {
        let (filter, sort) = <T as MasterAdmin>::query(query);
        let decision = user.actor.decide(<T as MasterData>::RESOURCE, Action::List);
        let (total, rows) = master_data::list::<T, Refused>(
            state,
            &Caller::from(user),
            decision,
            filter,
            sort,
            |_| Ok(query.window()),
        )
        .await?;
        let names = match <T as MasterAdmin>::LOOKUP {
            Lookup::UserNames => hours::user_names(state).await?,
            Lookup::Nothing => UserNames::new(),
        };
        let rows = rows
            .iter()
            .map(|record| {
                Row::new(
                    <T as MasterData>::id(record),
                    <T as MasterAdmin>::is_active(record),
                    T::cells(state, user, &names, record),
                )
            })
            .collect();
        Ok(ListData {
            total,
            columns: T::columns(user),
            rows,
            filters: T::filters(state, user, query).await?,
        })
    }

    async fn find(state: &AppState, id: i64) -> Result<Option<Record<T>>, StoreError> {
        state.store.master_row::<T::Table>(id).await
    }

    fn view_audit(user: &WebUser, record: &Record<T>) -> Option<AuditEntry> {
        master_data::view_audit::<T>(&Caller::from(user), <T as MasterData>::id(record))
    }

    async fn fields(
        state: &AppState,
        user: &WebUser,
        record: Option<&Record<T>>,
        input: Option<&FormInput>,
    ) -> Result<Vec<Field>, StoreError> {
        <T as MasterAdmin>::fields(state, user, record, input).await
    }

    fn facts(state: &AppState, user: &WebUser, record: &Record<T>) -> Vec<(String, String)> {
        <T as MasterAdmin>::facts(state, user, record)
    }

    async fn create(
        state: &AppState,
        user: &WebUser,
        input: &FormInput,
    ) -> Result<i64, StoreError> {
        let changes = read_form::<T>(state, input, Mode::Create)?;
        let decision = user
            .actor
            .decide(<T as MasterData>::RESOURCE, Action::Create);
        let record =
            master_data::create::<T>(state, &Caller::from(user), decision, changes).await?;
        Ok(<T as MasterData>::id(&record))
    }

    async fn update(
        state: &AppState,
        user: &WebUser,
        record: &Record<T>,
        input: &FormInput,
    ) -> Result<(), StoreError> {
        let changes = read_form::<T>(state, input, Mode::Replace)?;
        let decision = user
            .actor
            .decide(<T as MasterData>::RESOURCE, Action::Update);
        master_data::update::<T>(
            state,
            &Caller::from(user),
            decision,
            record,
            changes,
            Mode::Replace,
        )
        .await?;
        Ok(())
    }

    async fn set_active(
        state: &AppState,
        user: &WebUser,
        record: &Record<T>,
        active: bool,
    ) -> Result<(), StoreError> {
        let decision = user
            .actor
            .decide(<T as MasterData>::RESOURCE, Action::Update);
        master_data::set_active::<T>(state, &Caller::from(user), decision, record, active).await?;
        Ok(())
    }

    async fn delete(
        state: &AppState,
        user: &WebUser,
        record: &Record<T>,
    ) -> Result<(), StoreError> {
        let decision = user
            .actor
            .decide(<T as MasterData>::RESOURCE, Action::Delete);
        master_data::delete::<T>(state, &Caller::from(user), decision, record).await?;
        Ok(())
    }
}

/// Ends reading a form: the collected errors become `StoreError::Invalid`.
pub(crate) fn finish(fields: Fields) -> Result<(), StoreError> {
    fields.finish().map_err(|error| match error {
        ApiError::Validation(errors) => StoreError::Invalid(errors),
        other => StoreError::Db(other.to_string()),
    })
}

/// `admin.<slug>.<name>` when the entity has its own text, else `admin.<name>`.
fn specific_text(user: &WebUser, slug: &str, name: &str) -> String {
    let key = format!("admin.{slug}.{name}");
    match user.lang.t(&key) {
        text if text == key => t(user, &format!("admin.{name}")),
        text => text.to_owned(),
    }
}

/// A text of the page language.
pub(crate) fn t(user: &WebUser, key: &str) -> String {
    user.lang.t(key).to_owned()
}

/// Doctors have no administration (their own hours and absences are shown elsewhere).
#[expect(
    clippy::result_large_err,
    reason = "the error is the finished error page"
)]
fn gate(user: &WebUser) -> Result<(), Response> {
    if matches!(
        user.actor.decide(Area::Administration, Action::List),
        Decision::Deny(_)
    ) {
        Err(error_page(
            user.lang,
            StatusCode::FORBIDDEN,
            "error.forbidden",
        ))
    } else {
        Ok(())
    }
}

/// Policy check for a page: the doctor gate, then the RBAC table.
#[expect(
    clippy::result_large_err,
    reason = "the error is the finished error page"
)]
pub(crate) fn allow(user: &WebUser, resource: Area, action: Action) -> Result<(), Response> {
    gate(user)?;
    user.require(resource, action).map(|_| ())
}

#[expect(
    clippy::result_large_err,
    reason = "the error is the finished error page"
)]
fn parse_id(user: &WebUser, raw: &str) -> Result<i64, Response> {
    raw.parse::<i64>()
        .map_err(|_| error_page(user.lang, StatusCode::NOT_FOUND, "error.not_found"))
}

/// A store failure that is not the user's fault: logged, answered with 500 (or 404).
pub(crate) fn failure(user: &WebUser, error: StoreError) -> Response {
    match error {
        StoreError::NotFound(_) => error_page(user.lang, StatusCode::NOT_FOUND, "error.not_found"),
        error => {
            tracing::error!(%error, "administration request failed");
            error_page(
                user.lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                "admin.error.internal",
            )
        }
    }
}

/// The flash message named by `?ok=` / `?err=` (known keys only, never free text).
pub(crate) fn flash_from_query(user: &WebUser, query: &ListQuery) -> Option<Flash> {
    const OK: [&str; 7] = [
        "created",
        "saved",
        "deleted",
        "deactivated",
        "activated",
        "password",
        "unchanged",
    ];
    if let Some(key) = query.get("ok").filter(|key| OK.contains(key)) {
        return Some(Flash {
            ok: true,
            text: t(user, &format!("admin.flash.{key}")),
        });
    }
    None
}

fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// Attaches errors to the fields of their name, in the page's language; returns the messages
/// no field took.
pub(crate) fn attach_errors(lang: Lang, fields: &mut [Field], errors: &FieldErrors) -> Vec<String> {
    let mut rest = Vec::new();
    for (name, messages) in errors.fields() {
        let texts = messages.iter().map(|message| problem_text(lang, message));
        match fields.iter_mut().find(|field| field.name == name) {
            Some(field) => field.errors.extend(texts),
            None => rest.extend(texts),
        }
    }
    rest
}

// ---- index ------------------------------------------------------------------------------------

async fn index(State(state): State<AppState>, user: WebUser) -> Result<Response, Response> {
    gate(&user)?;
    if !user.can(Area::Resources, Action::List) {
        return Err(error_page(
            user.lang,
            StatusCode::FORBIDDEN,
            "error.forbidden",
        ));
    }
    let counts = state
        .store
        .admin_counts()
        .await
        .map_err(|error| failure(&user, error))?;
    let users = if user.can(Area::Users, Action::List) {
        state
            .store
            .count_users()
            .await
            .map_err(|error| failure(&user, error))?
    } else {
        0
    };
    let tile =
        |slug: &'static str, resource: Area, count: Option<u64>, create: bool| -> Option<Tile> {
            user.can(resource, Action::List).then(|| Tile {
                slug,
                title: t(&user, &format!("admin.{slug}.title")),
                description: t(&user, &format!("admin.{slug}.description")),
                count,
                href: format!("/admin/{slug}/"),
                create_href: (create && user.can(resource, Action::Create))
                    .then(|| format!("/admin/{slug}/new/")),
            })
        };
    let sections = [
        (
            "admin.section.catalog",
            vec![
                tile(
                    "appointment-types",
                    Area::AppointmentTypes,
                    Some(counts.appointment_types),
                    true,
                ),
                tile(
                    "operation-types",
                    Area::OperationTypes,
                    Some(counts.operation_types),
                    true,
                ),
                tile("resources", Area::Resources, Some(counts.resources), true),
            ],
        ),
        (
            "admin.section.hours",
            vec![
                tile(
                    "practice-hours",
                    Area::PracticeHours,
                    Some(counts.practice_hours),
                    true,
                ),
                tile(
                    "doctor-hours",
                    Area::DoctorHours,
                    Some(counts.doctor_hours),
                    true,
                ),
                tile("breaks", Area::DoctorBreaks, Some(counts.breaks), true),
                tile(
                    "absences",
                    Area::DoctorAbsences,
                    Some(counts.absences),
                    true,
                ),
                tile("holidays", Area::Holidays, None, false),
            ],
        ),
        (
            "admin.section.patients",
            vec![tile(
                "patients",
                Area::Patients,
                Some(counts.patients),
                false,
            )],
        ),
        (
            "admin.section.users",
            vec![
                tile("users", Area::Users, Some(users), true),
                tile("audit-log", Area::AuditLog, None, false),
                tile("calendar-feeds", Area::CalendarFeeds, None, false),
                tile("two-factor", Area::Users, None, false),
                tile("reminders", Area::Reminders, None, false),
            ],
        ),
    ]
    .into_iter()
    .map(|(title, tiles)| Section {
        title: t(&user, title),
        tiles: tiles.into_iter().flatten().collect(),
    })
    .filter(|section| !section.tiles.is_empty())
    .collect();
    let page = IndexPage {
        chrome: Chrome::new(&user, "nav.admin", "admin.title"),
        sections,
    };
    Ok(render(&page, &page.chrome.nonce))
}

// ---- generic entity pages --------------------------------------------------------------------

fn base<E: AdminEntity>() -> String {
    format!("/admin/{}/", E::SLUG)
}

async fn list<E: AdminEntity>(
    State(state): State<AppState>,
    user: WebUser,
    uri: Uri,
) -> Result<Response, Response> {
    allow(&user, E::RESOURCE, Action::List)?;
    let query = ListQuery::from_uri(&uri);
    let data = E::list(&state, &user, &query)
        .await
        .map_err(|error| failure(&user, error))?;
    let can_update = user.can(E::RESOURCE, Action::Update);
    let can_delete = E::DELETE && user.can(E::RESOURCE, Action::Delete);
    let can_create = E::CREATE && user.can(E::RESOURCE, Action::Create);
    let base = base::<E>();
    let rows: Vec<Row> = data
        .rows
        .into_iter()
        .map(|row| with_actions::<E>(&user, &base, row, can_update, can_delete))
        .collect();
    let columns = sort_links(data.columns, &query, &base, E::DEFAULT_SORT);
    let pager = Pager::new(query.page(), data.total, PAGE_SIZE, |n| {
        format!("{base}{}", query.with("page", Some(&n.to_string())))
    });
    let keep = query
        .get("sort")
        .map(|sort| vec![("sort".to_owned(), sort.to_owned())])
        .unwrap_or_default();
    let mut chrome = Chrome::new(&user, "nav.admin", &format!("admin.{}.title", E::SLUG));
    chrome.css = colour_css(page_colours(&rows, &[]));
    let has_actions = rows.iter().any(|row| !row.actions.is_empty());
    let page = ListPage {
        caption: format!("{} ({})", chrome.title, data.total),
        chrome,
        slug: E::SLUG,
        base: base.clone(),
        flash: flash_from_query(&user, &query),
        filters: data.filters,
        keep,
        columns,
        rows,
        has_actions,
        pager,
        total: data.total,
        create: can_create.then(|| {
            (
                format!("{base}new/"),
                t(&user, &format!("admin.{}.new", E::SLUG)),
            )
        }),
        read_only_note: (!can_update && !can_create).then(|| t(&user, "admin.read_only")),
    };
    Ok(render(&page, &page.chrome.nonce))
}

/// The row's actions for this user: edit (the first cell becomes the edit link),
/// deactivate/activate, delete.
fn with_actions<E: AdminEntity>(
    user: &WebUser,
    base: &str,
    mut row: Row,
    can_update: bool,
    can_delete: bool,
) -> Row {
    if can_update {
        let href = format!("{base}{}/", row.id);
        if let Some(Cell::Text(text)) = row.cells.first().cloned() {
            row.cells[0] = Cell::Link {
                text,
                href: href.clone(),
            };
        }
        row.actions.push(RowAction {
            label: t(user, "common.edit"),
            href,
            post: false,
            danger: false,
            confirm: None,
            id: format!("edit-{}", row.id),
        });
        if E::ACTIVE && (!row.active || E::offers_deactivation(user, row.id)) {
            row.actions
                .push(active_action(user, base, row.id, row.active));
        }
    }
    if can_delete {
        row.actions.push(delete_action(user, base, row.id));
    }
    row
}

/// Sortable columns link to the list sorted by them (ascending first, then descending) and
/// carry `aria-sort` when the list is sorted by them; the page starts again at 1.
fn sort_links(
    columns: Vec<Column>,
    query: &ListQuery,
    base: &str,
    default_sort: Option<&'static str>,
) -> Vec<Column> {
    let (current, descending) = query.sort();
    let current = current.or(default_sort);
    let first_page = ListQuery {
        pairs: query
            .pairs
            .iter()
            .filter(|(key, _)| key != "page")
            .cloned()
            .collect(),
    };
    columns
        .into_iter()
        .map(|mut column| {
            if let Some(key) = column.sort_key {
                let sorted_here = current == Some(key);
                column.aria_sort = sorted_here.then_some(if descending {
                    "descending"
                } else {
                    "ascending"
                });
                let next = if sorted_here && !descending {
                    format!("-{key}")
                } else {
                    key.to_owned()
                };
                column.href = Some(format!("{base}{}", first_page.with("sort", Some(&next))));
            }
            column
        })
        .collect()
}

fn active_action(user: &WebUser, base: &str, id: i64, active: bool) -> RowAction {
    let (verb, key) = if active {
        ("deactivate", "admin.deactivate")
    } else {
        ("activate", "admin.activate")
    };
    RowAction {
        label: t(user, key),
        href: format!("{base}{id}/{verb}/"),
        post: true,
        danger: false,
        confirm: None,
        id: format!("{verb}-{id}"),
    }
}

fn delete_action(user: &WebUser, base: &str, id: i64) -> RowAction {
    RowAction {
        label: t(user, "common.delete"),
        href: format!("{base}{id}/delete/"),
        post: true,
        danger: true,
        confirm: Some(t(user, "admin.confirm_delete")),
        id: format!("delete-{id}"),
    }
}

async fn new_form<E: AdminEntity>(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, Response> {
    allow(&user, E::RESOURCE, Action::Create)?;
    let fields = E::fields(&state, &user, None, None)
        .await
        .map_err(|error| failure(&user, error))?;
    Ok(render_form::<E>(
        &user,
        None,
        fields,
        Vec::new(),
        Vec::new(),
        Vec::new(),
        None,
        StatusCode::OK,
    ))
}

async fn create<E: AdminEntity>(
    State(state): State<AppState>,
    user: WebUser,
    Form(input): Form<FormInput>,
) -> Result<Response, Response> {
    allow(&user, E::RESOURCE, Action::Create)?;
    user.check_csrf(input.csrf())?;
    match E::create(&state, &user, &input).await {
        Ok(_) => Ok(see_other(&format!("{}?ok=created", base::<E>()))),
        Err(StoreError::Invalid(errors)) => {
            let mut fields = E::fields(&state, &user, None, Some(&input))
                .await
                .map_err(|error| failure(&user, error))?;
            let rest = attach_errors(user.lang, &mut fields, &errors);
            Ok(render_form::<E>(
                &user,
                None,
                fields,
                rest,
                Vec::new(),
                Vec::new(),
                None,
                StatusCode::BAD_REQUEST,
            ))
        }
        Err(error) => Err(failure(&user, error)),
    }
}

async fn load<E: AdminEntity>(
    state: &AppState,
    user: &WebUser,
    raw_id: &str,
) -> Result<E::Record, Response> {
    let id = parse_id(user, raw_id)?;
    E::find(state, id)
        .await
        .map_err(|error| failure(user, error))?
        .ok_or_else(|| error_page(user.lang, StatusCode::NOT_FOUND, "error.not_found"))
}

async fn edit_form<E: AdminEntity>(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw_id): Path<String>,
    uri: Uri,
) -> Result<Response, Response> {
    allow(&user, E::RESOURCE, Action::Update)?;
    let record = load::<E>(&state, &user, &raw_id).await?;
    let flash = flash_from_query(&user, &ListQuery::from_uri(&uri));
    render_edit::<E>(
        &state,
        &user,
        &record,
        None,
        &FieldErrors::new(),
        flash,
        StatusCode::OK,
    )
    .await
}

/// The edit page of `record`, optionally with the submitted input, errors and a flash.
pub(crate) async fn render_edit<E: AdminEntity>(
    state: &AppState,
    user: &WebUser,
    record: &E::Record,
    input: Option<&FormInput>,
    errors: &FieldErrors,
    flash: Option<Flash>,
    status: StatusCode,
) -> Result<Response, Response> {
    if let Some(entry) = E::view_audit(user, record) {
        state
            .store
            .record_audit(&entry)
            .await
            .map_err(|error| failure(user, error))?;
    }
    let mut fields = E::fields(state, user, Some(record), input)
        .await
        .map_err(|error| failure(user, error))?;
    let mut extra = E::extra_forms(user, record);
    let base = base::<E>();
    let id = E::id(record);
    if E::ACTIVE && (!E::is_active(record) || E::offers_deactivation(user, id)) {
        let active = E::is_active(record);
        let action = active_action(user, &base, id, active);
        extra.push(ExtraForm {
            id: format!("{}-form", if active { "deactivate" } else { "activate" }),
            title: t(
                user,
                if active {
                    "admin.deactivate"
                } else {
                    "admin.activate"
                },
            ),
            action: action.href,
            fields: Vec::new(),
            submit: action.label,
            danger: false,
            confirm: None,
            help: Some(specific_text(
                user,
                E::SLUG,
                if active {
                    "deactivate_help"
                } else {
                    "activate_help"
                },
            )),
        });
    }
    if E::DELETE && user.can(E::RESOURCE, Action::Delete) {
        let action = delete_action(user, &base, id);
        extra.push(ExtraForm {
            id: "delete-form".to_owned(),
            title: t(user, "common.delete"),
            action: action.href,
            fields: Vec::new(),
            submit: action.label,
            danger: true,
            confirm: action.confirm,
            help: Some(t(user, "admin.delete_help")),
        });
    }
    let mut rest = attach_errors(user.lang, &mut fields, errors);
    for form in &mut extra {
        let unattached = attach_errors(user.lang, &mut form.fields, errors);
        rest.retain(|message| unattached.contains(message));
    }
    let facts = E::facts(state, user, record);
    Ok(render_form::<E>(
        user,
        Some(record),
        fields,
        rest,
        facts,
        extra,
        flash,
        status,
    ))
}

#[allow(
    clippy::too_many_arguments,
    reason = "one page assembled from its parts"
)]
fn render_form<E: AdminEntity>(
    user: &WebUser,
    record: Option<&E::Record>,
    fields: Vec<Field>,
    non_field_errors: Vec<String>,
    facts: Vec<(String, String)>,
    extra: Vec<ExtraForm>,
    flash: Option<Flash>,
    status: StatusCode,
) -> Response {
    let base = base::<E>();
    let (title_key, action, submit) = match record {
        Some(record) => (
            format!("admin.{}.edit", E::SLUG),
            format!("{base}{}/", E::id(record)),
            t(user, "common.save"),
        ),
        None => (
            format!("admin.{}.new", E::SLUG),
            format!("{base}new/"),
            t(user, "common.create"),
        ),
    };
    let mut chrome = Chrome::new(user, "nav.admin", &title_key);
    if let Some(record) = record {
        chrome.title = format!("{}: {}", chrome.title, E::label(record, user));
    }
    chrome.css = colour_css(page_colours(&[], &fields));
    let mut fields = fields;
    let mut extra = extra;
    if let Some(first) = fields
        .iter_mut()
        .chain(extra.iter_mut().flat_map(|form| form.fields.iter_mut()))
        .find(|field| !field.errors.is_empty())
    {
        first.autofocus = true;
    }
    let has_errors = !non_field_errors.is_empty()
        || fields.iter().any(|field| !field.errors.is_empty())
        || extra
            .iter()
            .flat_map(|form| &form.fields)
            .any(|field| !field.errors.is_empty());
    let page = FormPage {
        chrome,
        slug: E::SLUG,
        back: base,
        list_title: t(user, &format!("admin.{}.title", E::SLUG)),
        flash,
        has_errors,
        action,
        fields,
        non_field_errors,
        submit,
        facts,
        extra,
    };
    render_status(&page, &page.chrome.nonce, status)
}

async fn update<E: AdminEntity>(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw_id): Path<String>,
    Form(input): Form<FormInput>,
) -> Result<Response, Response> {
    allow(&user, E::RESOURCE, Action::Update)?;
    user.check_csrf(input.csrf())?;
    let record = load::<E>(&state, &user, &raw_id).await?;
    match E::update(&state, &user, &record, &input).await {
        Ok(()) => Ok(see_other(&format!("{}?ok=saved", base::<E>()))),
        Err(StoreError::Invalid(errors)) => {
            render_edit::<E>(
                &state,
                &user,
                &record,
                Some(&input),
                &errors,
                None,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(error) => Err(failure(&user, error)),
    }
}

async fn deactivate<E: AdminEntity>(
    state: State<AppState>,
    user: WebUser,
    id: Path<String>,
    input: Form<FormInput>,
) -> Result<Response, Response> {
    switch_active::<E>(state, user, id, input, false).await
}

async fn activate<E: AdminEntity>(
    state: State<AppState>,
    user: WebUser,
    id: Path<String>,
    input: Form<FormInput>,
) -> Result<Response, Response> {
    switch_active::<E>(state, user, id, input, true).await
}

async fn switch_active<E: AdminEntity>(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw_id): Path<String>,
    Form(input): Form<FormInput>,
    active: bool,
) -> Result<Response, Response> {
    allow(&user, E::RESOURCE, Action::Update)?;
    user.check_csrf(input.csrf())?;
    let record = load::<E>(&state, &user, &raw_id).await?;
    let done = if active { "activated" } else { "deactivated" };
    match E::set_active(&state, &user, &record, active).await {
        Ok(()) => Ok(see_other(&format!("{}?ok={done}", base::<E>()))),
        Err(StoreError::Invalid(errors)) => {
            let flash = Flash {
                ok: false,
                text: messages(user.lang, &errors),
            };
            render_edit::<E>(
                &state,
                &user,
                &record,
                None,
                &FieldErrors::new(),
                Some(flash),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(error) => Err(failure(&user, error)),
    }
}

async fn delete<E: AdminEntity>(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw_id): Path<String>,
    Form(input): Form<FormInput>,
) -> Result<Response, Response> {
    allow(&user, E::RESOURCE, Action::Delete)?;
    user.check_csrf(input.csrf())?;
    let record = load::<E>(&state, &user, &raw_id).await?;
    let (flash, status) = match E::delete(&state, &user, &record).await {
        Ok(()) => return Ok(see_other(&format!("{}?ok=deleted", base::<E>()))),
        Err(StoreError::StillReferenced(what)) => (
            // What still uses the row, then what to do about it.
            format!(
                "{} {}",
                still_referenced_text(user.lang, &what),
                t(&user, "admin.still_referenced")
            ),
            StatusCode::CONFLICT,
        ),
        Err(StoreError::Invalid(errors)) => (messages(user.lang, &errors), StatusCode::BAD_REQUEST),
        Err(error) => return Err(failure(&user, error)),
    };
    let flash = Flash {
        ok: false,
        text: flash,
    };
    render_edit::<E>(
        &state,
        &user,
        &record,
        None,
        &FieldErrors::new(),
        Some(flash),
        status,
    )
    .await
}

/// Every message of an error in the page's language, joined.
fn messages(lang: Lang, errors: &FieldErrors) -> String {
    errors
        .fields()
        .values()
        .flatten()
        .map(|message| problem_text(lang, message))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_queries_keep_other_parameters_and_drop_flashes() {
        let uri: Uri = "/admin/resources/?q=Raum&active=true&page=2&ok=saved&type="
            .parse()
            .unwrap();
        let query = ListQuery::from_uri(&uri);
        assert_eq!(query.get("q"), Some("Raum"));
        assert_eq!(query.get("type"), None, "blank = no filter");
        assert_eq!(query.active(), Some(true));
        assert_eq!(query.page(), 2);
        assert_eq!(
            query.window(),
            Window {
                offset: 25,
                limit: 25
            }
        );
        assert_eq!(query.with("page", Some("3")), "?q=Raum&active=true&page=3");
        assert_eq!(
            query.with("sort", Some("-name")),
            "?q=Raum&active=true&page=2&sort=-name"
        );
    }

    #[test]
    fn list_queries_read_sort_and_bad_pages() {
        for (query, page, sort) in [
            ("", 1, (None, false)),
            ("page=0&sort=name", 1, (Some("name"), false)),
            ("page=x&sort=-created", 1, (Some("created"), true)),
            ("page=-3", 1, (None, false)),
        ] {
            let uri: Uri = format!("/admin/x/?{query}").parse().unwrap();
            let query = ListQuery::from_uri(&uri);
            assert_eq!(query.page(), page);
            assert_eq!(query.sort(), sort);
        }
    }

    #[test]
    fn form_values_become_the_api_body() {
        let input = FormInput(vec![
            ("name".to_owned(), " Raum ".to_owned()),
            ("color".to_owned(), String::new()),
            ("duration_minutes".to_owned(), String::new()),
            ("csrf_token".to_owned(), "x".to_owned()),
        ]);
        let body = input.body(&[
            ("name", In::Text),
            ("color", In::Nullable),
            ("duration_minutes", In::Optional),
            ("active", In::Check),
        ]);
        assert_eq!(
            Value::Object(body),
            serde_json::json!({"name": " Raum ", "color": null, "active": false})
        );
    }
}
