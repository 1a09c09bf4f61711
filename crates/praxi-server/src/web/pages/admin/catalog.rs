//! Catalogue master data in the administration: appointment types, operation types and
//! resources (rooms and devices): their presentation only. Lists, lookups and writes are the
//! API's use cases (`usecases::master_data`), with its audit actions (`appointment_type_*`,
//! `operation_type_*`, `resource_*`).

use praxi_domain::catalog::{APPOINTMENT_TYPE_NAME_MAX, NAME_MAX, ResourceKind};
use praxi_store::StoreError;
use praxi_store::master_data::{CatalogFilter, CatalogOrder, CatalogSort};

use super::view::{Cell, Choice, Column, Field, Filter, Kind};
use super::{FormInput, In, ListQuery, MasterAdmin, UserNames, t};
use crate::state::AppState;
use crate::usecases::master_data::{
    AppointmentTypes, Filter as RowFilter, OperationTypes, Record, Resources, Sort,
};
use crate::web::session::WebUser;

/// The list filters every catalogue list offers: name search and active state.
pub(super) fn search_and_active(user: &WebUser, query: &ListQuery) -> Vec<Filter> {
    vec![
        Filter::Text {
            name: "q",
            label: t(user, "common.search"),
            value: query.value("q"),
        },
        active_filter(user, query),
    ]
}

/// The "all / active / inactive" filter.
pub(super) fn active_filter(user: &WebUser, query: &ListQuery) -> Filter {
    let current = query.value("active");
    Filter::Select {
        name: "active",
        label: t(user, "admin.field.active"),
        options: vec![
            Choice::new("", t(user, "admin.filter.all"), &current),
            Choice::new("true", t(user, "admin.status.active"), &current),
            Choice::new("false", t(user, "admin.status.inactive"), &current),
        ],
    }
}

/// The status badge of a row.
pub(super) fn status_cell(user: &WebUser, active: bool) -> Cell {
    if active {
        Cell::badge(t(user, "admin.status.active"), "ok")
    } else {
        Cell::badge(t(user, "admin.status.inactive"), "off")
    }
}

/// `sort=name|created` (default name).
fn catalog_sort(query: &ListQuery) -> CatalogOrder {
    match query.sort() {
        (Some("created"), descending) => (CatalogSort::Created, descending),
        (_, descending) => (CatalogSort::Name, descending),
    }
}

fn catalog_filter(query: &ListQuery) -> CatalogFilter {
    CatalogFilter {
        q: query.get("q").map(str::to_owned),
        active: query.active(),
        kind: query
            .get("type")
            .and_then(ResourceKind::parse)
            .map(|kind| kind.as_str().to_owned()),
    }
}

/// The value a field shows: the submitted one after a failed submit, else the stored one.
pub(super) fn shown(
    input: Option<&FormInput>,
    name: &str,
    stored: impl FnOnce() -> String,
) -> String {
    match input {
        Some(input) => input.text(name),
        None => stored(),
    }
}

/// A checkbox state: submitted, else stored.
pub(super) fn ticked(input: Option<&FormInput>, name: &str, stored: bool) -> bool {
    input.map_or(stored, |input| input.has(name))
}

/// The `active` checkbox.
pub(super) fn active_field(user: &WebUser, input: Option<&FormInput>, stored: bool) -> Field {
    Field::new("active", t(user, "admin.field.active"), Kind::Checkbox)
        .checked(ticked(input, "active", stored))
}

fn created_cell(user: &WebUser, state: &AppState, at: chrono::DateTime<chrono::Utc>) -> Cell {
    Cell::muted(super::view::datetime(user.lang, at, state.tz()))
}

/// The "created / changed" facts of an edit page.
pub(super) fn timestamps(
    state: &AppState,
    user: &WebUser,
    created: chrono::DateTime<chrono::Utc>,
    updated: chrono::DateTime<chrono::Utc>,
) -> Vec<(String, String)> {
    vec![
        (
            t(user, "admin.field.created_at"),
            super::view::datetime(user.lang, created, state.tz()),
        ),
        (
            t(user, "admin.field.updated_at"),
            super::view::datetime(user.lang, updated, state.tz()),
        ),
    ]
}

fn minutes(user: &WebUser, value: impl std::fmt::Display) -> String {
    format!("{value} {}", t(user, "admin.minutes"))
}

// ---- appointment types ------------------------------------------------------------------------

// Appointment types (admin writes; everybody else reads).

const APPOINTMENT_TYPE_FORM: [(&str, In); 6] = [
    ("name", In::Text),
    ("color", In::Nullable),
    ("duration_minutes", In::Nullable),
    ("buffer_before_minutes", In::Nullable),
    ("buffer_after_minutes", In::Nullable),
    ("active", In::Check),
];

impl MasterAdmin for AppointmentTypes {
    const FORM: &'static [(&'static str, In)] = &APPOINTMENT_TYPE_FORM;
    const SLUG: &'static str = "appointment-types";
    const DEFAULT_SORT: Option<&'static str> = Some("name");

    fn query(query: &ListQuery) -> (RowFilter<Self>, Sort<Self>) {
        (catalog_filter(query), catalog_sort(query))
    }

    fn is_active(record: &Record<Self>) -> bool {
        record.fields.active
    }

    fn label(record: &Record<Self>, _user: &WebUser) -> String {
        record.fields.name.clone()
    }

    fn columns(user: &WebUser) -> Vec<Column> {
        vec![
            Column::new(t(user, "admin.field.name")).sortable("name"),
            Column::new(t(user, "admin.field.duration_minutes")),
            Column::new(t(user, "admin.field.color")),
            Column::new(t(user, "admin.field.status")),
            Column::new(t(user, "admin.field.created_at")).sortable("created"),
        ]
    }

    fn cells(
        state: &AppState,
        user: &WebUser,
        _names: &UserNames,
        record: &Record<Self>,
    ) -> Vec<Cell> {
        let fields = &record.fields;
        vec![
            Cell::text(&fields.name),
            match fields.duration_minutes {
                Some(duration) => Cell::text(minutes(user, duration)),
                None => Cell::muted("–"),
            },
            Cell::colour(fields.color.as_deref()),
            status_cell(user, fields.active),
            created_cell(user, state, record.created_at),
        ]
    }

    async fn filters(
        _state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<Vec<Filter>, StoreError> {
        Ok(search_and_active(user, query))
    }

    async fn fields(
        _state: &AppState,
        user: &WebUser,
        record: Option<&Record<Self>>,
        input: Option<&FormInput>,
    ) -> Result<Vec<Field>, StoreError> {
        let current = record.map(|record| &record.fields);
        Ok(vec![
            Field::new("name", t(user, "admin.field.name"), Kind::Text)
                .value(shown(input, "name", || {
                    current.map(|f| f.name.clone()).unwrap_or_default()
                }))
                .required()
                .maxlength(APPOINTMENT_TYPE_NAME_MAX),
            Field::new("color", t(user, "admin.field.color"), Kind::Colour)
                .value(shown(input, "color", || match current {
                    Some(fields) => fields.color.clone().unwrap_or_default(),
                    None => praxi_domain::catalog::DEFAULT_APPOINTMENT_TYPE_COLOUR.to_owned(),
                }))
                .help(t(user, "admin.help.color_optional")),
            Field::new(
                "duration_minutes",
                t(user, "admin.field.duration_minutes"),
                Kind::Number,
            )
            .value(shown(input, "duration_minutes", || {
                current
                    .and_then(|f| f.duration_minutes)
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            }))
            .help(t(user, "admin.help.duration")),
            Field::new(
                "buffer_before_minutes",
                t(user, "admin.field.buffer_before_minutes"),
                Kind::Number,
            )
            .value(shown(input, "buffer_before_minutes", || {
                current
                    .map(|f| f.buffers.before_minutes.to_string())
                    .unwrap_or_else(|| "0".to_owned())
            }))
            .help(t(user, "admin.help.buffer")),
            Field::new(
                "buffer_after_minutes",
                t(user, "admin.field.buffer_after_minutes"),
                Kind::Number,
            )
            .value(shown(input, "buffer_after_minutes", || {
                current
                    .map(|f| f.buffers.after_minutes.to_string())
                    .unwrap_or_else(|| "0".to_owned())
            }))
            .help(t(user, "admin.help.buffer")),
            active_field(user, input, current.is_none_or(|f| f.active)),
        ])
    }

    fn facts(state: &AppState, user: &WebUser, record: &Record<Self>) -> Vec<(String, String)> {
        timestamps(state, user, record.created_at, record.updated_at)
    }
}

// ---- operation types --------------------------------------------------------------------------

// Operation types (admin writes; everybody else reads).

const OPERATION_TYPE_FORM: [(&str, In); 6] = [
    ("name", In::Text),
    ("prep_duration", In::Optional),
    ("op_duration", In::Optional),
    ("post_duration", In::Optional),
    ("color", In::Text),
    ("active", In::Check),
];

impl MasterAdmin for OperationTypes {
    const FORM: &'static [(&'static str, In)] = &OPERATION_TYPE_FORM;
    const SLUG: &'static str = "operation-types";
    const DEFAULT_SORT: Option<&'static str> = Some("name");

    fn query(query: &ListQuery) -> (RowFilter<Self>, Sort<Self>) {
        (catalog_filter(query), catalog_sort(query))
    }

    fn is_active(record: &Record<Self>) -> bool {
        record.fields.active
    }

    fn label(record: &Record<Self>, _user: &WebUser) -> String {
        record.fields.name.clone()
    }

    fn columns(user: &WebUser) -> Vec<Column> {
        vec![
            Column::new(t(user, "admin.field.name")).sortable("name"),
            Column::new(t(user, "admin.field.phases")),
            Column::new(t(user, "admin.field.total")),
            Column::new(t(user, "admin.field.color")),
            Column::new(t(user, "admin.field.status")),
            Column::new(t(user, "admin.field.created_at")).sortable("created"),
        ]
    }

    fn cells(
        state: &AppState,
        user: &WebUser,
        _names: &UserNames,
        record: &Record<Self>,
    ) -> Vec<Cell> {
        let fields = &record.fields;
        vec![
            Cell::text(&fields.name),
            Cell::text(format!(
                "{} / {} / {}",
                fields.prep_duration, fields.op_duration, fields.post_duration
            )),
            Cell::text(minutes(user, fields.total_minutes())),
            Cell::colour(Some(&fields.color)),
            status_cell(user, fields.active),
            created_cell(user, state, record.created_at),
        ]
    }

    async fn filters(
        _state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<Vec<Filter>, StoreError> {
        Ok(search_and_active(user, query))
    }

    async fn fields(
        _state: &AppState,
        user: &WebUser,
        record: Option<&Record<Self>>,
        input: Option<&FormInput>,
    ) -> Result<Vec<Field>, StoreError> {
        let current = record.map(|record| &record.fields);
        let duration = |name: &'static str, stored: Option<i32>| {
            Field::new(name, t(user, &format!("admin.field.{name}")), Kind::Number)
                .value(shown(input, name, || stored.unwrap_or(0).to_string()))
                .help(t(user, "admin.help.minutes"))
        };
        Ok(vec![
            Field::new("name", t(user, "admin.field.name"), Kind::Text)
                .value(shown(input, "name", || {
                    current.map(|f| f.name.clone()).unwrap_or_default()
                }))
                .required()
                .maxlength(NAME_MAX),
            duration("prep_duration", current.map(|f| f.prep_duration)),
            duration("op_duration", current.map(|f| f.op_duration)),
            duration("post_duration", current.map(|f| f.post_duration)),
            Field::new("color", t(user, "admin.field.color"), Kind::Colour)
                .value(shown(input, "color", || match current {
                    Some(fields) => fields.color.clone(),
                    None => praxi_domain::catalog::DEFAULT_OPERATION_TYPE_COLOUR.to_owned(),
                }))
                .required()
                .help(t(user, "admin.help.color")),
            active_field(user, input, current.is_none_or(|f| f.active)),
        ])
    }

    fn facts(state: &AppState, user: &WebUser, record: &Record<Self>) -> Vec<(String, String)> {
        timestamps(state, user, record.created_at, record.updated_at)
    }
}

// ---- resources --------------------------------------------------------------------------------

// Rooms and devices (admins and assistants write; everybody else reads).

const RESOURCE_FORM: [(&str, In); 4] = [
    ("name", In::Text),
    ("type", In::Optional),
    ("color", In::Text),
    ("active", In::Check),
];

fn kind_label(user: &WebUser, kind: ResourceKind) -> String {
    t(user, &format!("admin.kind.{}", kind.as_str()))
}

impl MasterAdmin for Resources {
    const FORM: &'static [(&'static str, In)] = &RESOURCE_FORM;
    const SLUG: &'static str = "resources";
    const DEFAULT_SORT: Option<&'static str> = Some("name");

    fn query(query: &ListQuery) -> (RowFilter<Self>, Sort<Self>) {
        (catalog_filter(query), catalog_sort(query))
    }

    fn is_active(record: &Record<Self>) -> bool {
        record.fields.active
    }

    fn label(record: &Record<Self>, _user: &WebUser) -> String {
        record.fields.name.clone()
    }

    fn columns(user: &WebUser) -> Vec<Column> {
        vec![
            Column::new(t(user, "admin.field.name")).sortable("name"),
            Column::new(t(user, "admin.field.type")),
            Column::new(t(user, "admin.field.color")),
            Column::new(t(user, "admin.field.status")),
            Column::new(t(user, "admin.field.created_at")).sortable("created"),
        ]
    }

    fn cells(
        state: &AppState,
        user: &WebUser,
        _names: &UserNames,
        record: &Record<Self>,
    ) -> Vec<Cell> {
        let fields = &record.fields;
        vec![
            Cell::text(&fields.name),
            Cell::text(kind_label(user, fields.kind)),
            Cell::colour(Some(&fields.color)),
            status_cell(user, fields.active),
            created_cell(user, state, record.created_at),
        ]
    }

    async fn filters(
        _state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<Vec<Filter>, StoreError> {
        let current_kind = query.value("type");
        let mut filters = search_and_active(user, query);
        filters.push(Filter::Select {
            name: "type",
            label: t(user, "admin.field.type"),
            options: vec![
                Choice::new("", t(user, "admin.filter.all"), &current_kind),
                Choice::new("room", kind_label(user, ResourceKind::Room), &current_kind),
                Choice::new(
                    "device",
                    kind_label(user, ResourceKind::Device),
                    &current_kind,
                ),
            ],
        });
        Ok(filters)
    }

    async fn fields(
        _state: &AppState,
        user: &WebUser,
        record: Option<&Record<Self>>,
        input: Option<&FormInput>,
    ) -> Result<Vec<Field>, StoreError> {
        let current = record.map(|record| &record.fields);
        let kind = shown(input, "type", || {
            current
                .map(|f| f.kind.as_str().to_owned())
                .unwrap_or_default()
        });
        let mut kinds = Vec::new();
        if record.is_none() {
            kinds.push(Choice::new("", t(user, "admin.choose"), &kind));
        }
        kinds.push(Choice::new(
            "room",
            kind_label(user, ResourceKind::Room),
            &kind,
        ));
        kinds.push(Choice::new(
            "device",
            kind_label(user, ResourceKind::Device),
            &kind,
        ));
        Ok(vec![
            Field::new("name", t(user, "admin.field.name"), Kind::Text)
                .value(shown(input, "name", || {
                    current.map(|f| f.name.clone()).unwrap_or_default()
                }))
                .required()
                .maxlength(NAME_MAX),
            Field::new("type", t(user, "admin.field.type"), Kind::Select(kinds))
                .value(kind)
                .required()
                .help(t(user, "admin.help.resource_type")),
            Field::new("color", t(user, "admin.field.color"), Kind::Colour)
                .value(shown(input, "color", || match current {
                    Some(fields) => fields.color.clone(),
                    None => praxi_domain::catalog::DEFAULT_RESOURCE_COLOUR.to_owned(),
                }))
                .required()
                .help(t(user, "admin.help.color")),
            active_field(user, input, current.is_none_or(|f| f.active)),
        ])
    }

    fn facts(state: &AppState, user: &WebUser, record: &Record<Self>) -> Vec<(String, String)> {
        timestamps(state, user, record.created_at, record.updated_at)
    }
}
