//! Catalogue master data in the administration: appointment types, operation types and
//! resources (rooms and devices). Writes use the API's store calls and audit actions
//! (`appointment_type_*`, `operation_type_*`, `resource_*`).

use praxi_domain::catalog::{
    APPOINTMENT_TYPE_NAME_MAX, AppointmentTypeChanges, NAME_MAX, OperationTypeChanges,
    ResourceChanges, ResourceKind, WriteMode,
};
use praxi_domain::rbac::Resource;
use praxi_store::StoreError;
use praxi_store::admin_lists::{CatalogFilter, CatalogSort};
use praxi_store::audit::AuditEntry;
use praxi_store::catalog::{AppointmentTypeRecord, OperationTypeRecord, ResourceRecord};
use serde_json::json;

use super::view::{Cell, Choice, Column, Field, Filter, Kind, Row};
use super::{AdminEntity, FormInput, In, ListData, ListQuery, finish, t};
use crate::body::Fields;
use crate::state::AppState;
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
fn catalog_sort(query: &ListQuery) -> (CatalogSort, bool) {
    match query.sort() {
        (Some("created"), descending) => (CatalogSort::Created, descending),
        (_, descending) => (CatalogSort::Name, descending),
    }
}

fn catalog_filter(query: &ListQuery) -> CatalogFilter {
    CatalogFilter {
        q: query.get("q").map(str::to_owned),
        active: query.active(),
        kind: query.get("type").and_then(ResourceKind::parse),
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

fn audit(user: &WebUser, action: &str, key: &str, id: i64) -> AuditEntry {
    user.audit(action, None, Some(json!({ key: id })))
}

fn minutes(user: &WebUser, value: impl std::fmt::Display) -> String {
    format!("{value} {}", t(user, "admin.minutes"))
}

// ---- appointment types ------------------------------------------------------------------------

/// Appointment types (admin writes; everybody else reads).
pub(crate) struct AppointmentTypes;

const APPOINTMENT_TYPE_FORM: [(&str, In); 4] = [
    ("name", In::Text),
    ("color", In::Nullable),
    ("duration_minutes", In::Nullable),
    ("active", In::Check),
];

fn appointment_type_changes(
    state: &AppState,
    input: &FormInput,
) -> Result<AppointmentTypeChanges, StoreError> {
    let mut fields: Fields = input.fields(state, &APPOINTMENT_TYPE_FORM);
    let changes = AppointmentTypeChanges {
        name: fields.string("name"),
        color: fields.opt_string("color"),
        duration_minutes: fields.opt_int("duration_minutes"),
        active: fields.opt_bool("active").flatten(),
    };
    finish(fields)?;
    Ok(changes)
}

impl AdminEntity for AppointmentTypes {
    const SLUG: &'static str = "appointment-types";
    const RESOURCE: Resource = Resource::AppointmentTypes;
    const DEFAULT_SORT: Option<&'static str> = Some("name");
    type Record = AppointmentTypeRecord;

    fn id(record: &Self::Record) -> i64 {
        record.id
    }

    fn is_active(record: &Self::Record) -> bool {
        record.fields.active
    }

    fn label(record: &Self::Record, _user: &WebUser) -> String {
        record.fields.name.clone()
    }

    async fn list(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<ListData, StoreError> {
        let (sort, descending) = catalog_sort(query);
        let page = state
            .store
            .admin_appointment_types(&catalog_filter(query), sort, descending, query.window())
            .await?;
        state
            .store
            .record_audit(&user.audit("appointment_type_list", None, None))
            .await?;
        let rows = page
            .rows
            .iter()
            .map(|record| {
                let fields = &record.fields;
                Row::new(
                    record.id,
                    fields.active,
                    vec![
                        Cell::text(&fields.name),
                        match fields.duration_minutes {
                            Some(duration) => Cell::text(minutes(user, duration)),
                            None => Cell::muted("–"),
                        },
                        Cell::colour(fields.color.as_deref()),
                        status_cell(user, fields.active),
                        created_cell(user, state, record.created_at),
                    ],
                )
            })
            .collect();
        Ok(ListData {
            total: page.total,
            columns: vec![
                Column::new(t(user, "admin.field.name")).sortable("name"),
                Column::new(t(user, "admin.field.duration_minutes")),
                Column::new(t(user, "admin.field.color")),
                Column::new(t(user, "admin.field.status")),
                Column::new(t(user, "admin.field.created_at")).sortable("created"),
            ],
            rows,
            filters: search_and_active(user, query),
        })
    }

    async fn find(state: &AppState, id: i64) -> Result<Option<Self::Record>, StoreError> {
        state.store.appointment_type(id).await
    }

    fn view_audit(user: &WebUser, record: &Self::Record) -> Option<AuditEntry> {
        Some(audit(
            user,
            "appointment_type_view",
            "appointment_type_id",
            record.id,
        ))
    }

    async fn fields(
        _state: &AppState,
        user: &WebUser,
        record: Option<&Self::Record>,
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
            active_field(user, input, current.is_none_or(|f| f.active)),
        ])
    }

    fn facts(state: &AppState, user: &WebUser, record: &Self::Record) -> Vec<(String, String)> {
        timestamps(state, user, record.created_at, record.updated_at)
    }

    async fn create(
        state: &AppState,
        user: &WebUser,
        input: &FormInput,
    ) -> Result<i64, StoreError> {
        let fields = appointment_type_changes(state, input)?.create()?;
        let record = state
            .store
            .create_appointment_type(fields, state.now(), |id| {
                audit(user, "appointment_type_create", "appointment_type_id", id)
            })
            .await?;
        Ok(record.id)
    }

    async fn update(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
        input: &FormInput,
    ) -> Result<(), StoreError> {
        let changes = appointment_type_changes(state, input)?;
        state
            .store
            .update_appointment_type(
                record.id,
                |current| changes.apply(current, WriteMode::Full),
                state.now(),
                &audit(
                    user,
                    "appointment_type_update",
                    "appointment_type_id",
                    record.id,
                ),
            )
            .await?;
        Ok(())
    }

    async fn set_active(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
        active: bool,
    ) -> Result<(), StoreError> {
        let changes = AppointmentTypeChanges {
            active: Some(active),
            ..Default::default()
        };
        state
            .store
            .update_appointment_type(
                record.id,
                |current| changes.apply(current, WriteMode::Partial),
                state.now(),
                &audit(
                    user,
                    "appointment_type_update",
                    "appointment_type_id",
                    record.id,
                ),
            )
            .await?;
        Ok(())
    }

    async fn delete(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
    ) -> Result<(), StoreError> {
        state
            .store
            .delete_appointment_type(
                record.id,
                &audit(
                    user,
                    "appointment_type_delete",
                    "appointment_type_id",
                    record.id,
                ),
            )
            .await
    }
}

// ---- operation types --------------------------------------------------------------------------

/// Operation types (admin writes; everybody else reads).
pub(crate) struct OperationTypes;

const OPERATION_TYPE_FORM: [(&str, In); 6] = [
    ("name", In::Text),
    ("prep_duration", In::Optional),
    ("op_duration", In::Optional),
    ("post_duration", In::Optional),
    ("color", In::Text),
    ("active", In::Check),
];

fn operation_type_changes(
    state: &AppState,
    input: &FormInput,
) -> Result<OperationTypeChanges, StoreError> {
    let mut fields = input.fields(state, &OPERATION_TYPE_FORM);
    let changes = OperationTypeChanges {
        name: fields.string("name"),
        prep_duration: fields.opt_int("prep_duration").flatten(),
        op_duration: fields.opt_int("op_duration").flatten(),
        post_duration: fields.opt_int("post_duration").flatten(),
        color: fields.string("color"),
        active: fields.opt_bool("active").flatten(),
    };
    finish(fields)?;
    Ok(changes)
}

impl AdminEntity for OperationTypes {
    const SLUG: &'static str = "operation-types";
    const RESOURCE: Resource = Resource::OperationTypes;
    const DEFAULT_SORT: Option<&'static str> = Some("name");
    type Record = OperationTypeRecord;

    fn id(record: &Self::Record) -> i64 {
        record.id
    }

    fn is_active(record: &Self::Record) -> bool {
        record.fields.active
    }

    fn label(record: &Self::Record, _user: &WebUser) -> String {
        record.fields.name.clone()
    }

    async fn list(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<ListData, StoreError> {
        let (sort, descending) = catalog_sort(query);
        let page = state
            .store
            .admin_operation_types(&catalog_filter(query), sort, descending, query.window())
            .await?;
        state
            .store
            .record_audit(&user.audit("operation_type_list", None, None))
            .await?;
        let rows = page
            .rows
            .iter()
            .map(|record| {
                let fields = &record.fields;
                Row::new(
                    record.id,
                    fields.active,
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
                    ],
                )
            })
            .collect();
        Ok(ListData {
            total: page.total,
            columns: vec![
                Column::new(t(user, "admin.field.name")).sortable("name"),
                Column::new(t(user, "admin.field.phases")),
                Column::new(t(user, "admin.field.total")),
                Column::new(t(user, "admin.field.color")),
                Column::new(t(user, "admin.field.status")),
                Column::new(t(user, "admin.field.created_at")).sortable("created"),
            ],
            rows,
            filters: search_and_active(user, query),
        })
    }

    async fn find(state: &AppState, id: i64) -> Result<Option<Self::Record>, StoreError> {
        state.store.operation_type(id).await
    }

    fn view_audit(user: &WebUser, record: &Self::Record) -> Option<AuditEntry> {
        Some(audit(
            user,
            "operation_type_view",
            "operation_type_id",
            record.id,
        ))
    }

    async fn fields(
        _state: &AppState,
        user: &WebUser,
        record: Option<&Self::Record>,
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

    fn facts(state: &AppState, user: &WebUser, record: &Self::Record) -> Vec<(String, String)> {
        timestamps(state, user, record.created_at, record.updated_at)
    }

    async fn create(
        state: &AppState,
        user: &WebUser,
        input: &FormInput,
    ) -> Result<i64, StoreError> {
        let fields = operation_type_changes(state, input)?.create()?;
        let record = state
            .store
            .create_operation_type(fields, state.now(), |id| {
                audit(user, "operation_type_create", "operation_type_id", id)
            })
            .await?;
        Ok(record.id)
    }

    async fn update(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
        input: &FormInput,
    ) -> Result<(), StoreError> {
        let changes = operation_type_changes(state, input)?;
        state
            .store
            .update_operation_type(
                record.id,
                |current| changes.apply(current, WriteMode::Full),
                state.now(),
                &audit(
                    user,
                    "operation_type_update",
                    "operation_type_id",
                    record.id,
                ),
            )
            .await?;
        Ok(())
    }

    async fn set_active(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
        active: bool,
    ) -> Result<(), StoreError> {
        let changes = OperationTypeChanges {
            active: Some(active),
            ..Default::default()
        };
        state
            .store
            .update_operation_type(
                record.id,
                |current| changes.apply(current, WriteMode::Partial),
                state.now(),
                &audit(
                    user,
                    "operation_type_update",
                    "operation_type_id",
                    record.id,
                ),
            )
            .await?;
        Ok(())
    }

    async fn delete(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
    ) -> Result<(), StoreError> {
        state
            .store
            .delete_operation_type(
                record.id,
                &audit(
                    user,
                    "operation_type_delete",
                    "operation_type_id",
                    record.id,
                ),
            )
            .await
    }
}

// ---- resources --------------------------------------------------------------------------------

/// Rooms and devices (admins and assistants write; everybody else reads).
pub(crate) struct Resources;

const RESOURCE_FORM: [(&str, In); 4] = [
    ("name", In::Text),
    ("type", In::Optional),
    ("color", In::Text),
    ("active", In::Check),
];

fn resource_changes(state: &AppState, input: &FormInput) -> Result<ResourceChanges, StoreError> {
    let mut fields = input.fields(state, &RESOURCE_FORM);
    let changes = ResourceChanges {
        name: fields.string("name"),
        kind: fields.string("type"),
        color: fields.string("color"),
        active: fields.opt_bool("active").flatten(),
    };
    finish(fields)?;
    Ok(changes)
}

fn kind_label(user: &WebUser, kind: ResourceKind) -> String {
    t(user, &format!("admin.kind.{}", kind.as_str()))
}

impl AdminEntity for Resources {
    const SLUG: &'static str = "resources";
    const RESOURCE: Resource = Resource::Resources;
    const DEFAULT_SORT: Option<&'static str> = Some("name");
    type Record = ResourceRecord;

    fn id(record: &Self::Record) -> i64 {
        record.id
    }

    fn is_active(record: &Self::Record) -> bool {
        record.fields.active
    }

    fn label(record: &Self::Record, _user: &WebUser) -> String {
        record.fields.name.clone()
    }

    async fn list(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<ListData, StoreError> {
        let (sort, descending) = catalog_sort(query);
        let page = state
            .store
            .admin_resources(&catalog_filter(query), sort, descending, query.window())
            .await?;
        state
            .store
            .record_audit(&user.audit("resource_list", None, None))
            .await?;
        let rows = page
            .rows
            .iter()
            .map(|record| {
                let fields = &record.fields;
                Row::new(
                    record.id,
                    fields.active,
                    vec![
                        Cell::text(&fields.name),
                        Cell::text(kind_label(user, fields.kind)),
                        Cell::colour(Some(&fields.color)),
                        status_cell(user, fields.active),
                        created_cell(user, state, record.created_at),
                    ],
                )
            })
            .collect();
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
        Ok(ListData {
            total: page.total,
            columns: vec![
                Column::new(t(user, "admin.field.name")).sortable("name"),
                Column::new(t(user, "admin.field.type")),
                Column::new(t(user, "admin.field.color")),
                Column::new(t(user, "admin.field.status")),
                Column::new(t(user, "admin.field.created_at")).sortable("created"),
            ],
            rows,
            filters,
        })
    }

    async fn find(state: &AppState, id: i64) -> Result<Option<Self::Record>, StoreError> {
        state.store.resource(id).await
    }

    async fn fields(
        _state: &AppState,
        user: &WebUser,
        record: Option<&Self::Record>,
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

    fn facts(state: &AppState, user: &WebUser, record: &Self::Record) -> Vec<(String, String)> {
        timestamps(state, user, record.created_at, record.updated_at)
    }

    async fn create(
        state: &AppState,
        user: &WebUser,
        input: &FormInput,
    ) -> Result<i64, StoreError> {
        let fields = resource_changes(state, input)?.create()?;
        let record = state
            .store
            .create_resource(fields, state.now(), |id| {
                audit(user, "resource_create", "resource_id", id)
            })
            .await?;
        Ok(record.id)
    }

    async fn update(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
        input: &FormInput,
    ) -> Result<(), StoreError> {
        let changes = resource_changes(state, input)?;
        state
            .store
            .update_resource(
                record.id,
                |current| changes.apply(current, WriteMode::Full),
                state.now(),
                &audit(user, "resource_update", "resource_id", record.id),
            )
            .await?;
        Ok(())
    }

    async fn set_active(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
        active: bool,
    ) -> Result<(), StoreError> {
        let changes = ResourceChanges {
            active: Some(active),
            ..Default::default()
        };
        state
            .store
            .update_resource(
                record.id,
                |current| changes.apply(current, WriteMode::Partial),
                state.now(),
                &audit(user, "resource_update", "resource_id", record.id),
            )
            .await?;
        Ok(())
    }

    async fn delete(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
    ) -> Result<(), StoreError> {
        state
            .store
            .delete_resource(
                record.id,
                &audit(user, "resource_delete", "resource_id", record.id),
            )
            .await
    }
}
