//! Calendar configuration in the administration: practice hours, doctor hours, breaks and
//! absences. Writes use the API's store calls (the domain validates the merged row inside the
//! store's transaction) and its audit actions (`practice_hours_*`, `doctor_hours_*`,
//! `doctor_break_*`, `doctor_absence_*`, meta `{"id": n}`).

use std::collections::HashMap;

use chrono::{Datelike, NaiveTime};
use praxi_domain::Role;
use praxi_domain::absence::AbsenceChanges;
use praxi_domain::hours::{BreakChanges, DoctorHoursChanges, HoursChanges, REASON_MAX_CHARS};
use praxi_domain::rbac::Resource;
use praxi_store::StoreError;
use praxi_store::absences::AbsenceRecord;
use praxi_store::admin_lists::{
    AbsenceFilter, BreakFilter, BreakOwner, DoctorHoursFilter, HoursFilter,
};
use praxi_store::audit::AuditEntry;
use praxi_store::hours::{BreakRecord, DoctorHoursRecord, PracticeHoursRecord};
use serde_json::json;

use super::catalog::{active_field, active_filter, shown, status_cell, timestamps};
use super::view::{self, Cell, Choice, Column, Field, Filter, Kind, Row};
use super::{AdminEntity, FormInput, In, ListData, ListQuery, finish, t};
use crate::api::practice_hours::{Mode, read_date, read_int, read_time};
use crate::state::AppState;
use crate::web::session::WebUser;

fn audit(user: &WebUser, action: &str, id: i64) -> AuditEntry {
    user.audit(action, None, Some(json!({ "id": id })))
}

fn weekday_name(user: &WebUser, weekday: i32) -> String {
    t(user, &format!("admin.weekday.{weekday}"))
}

fn weekday_choices(user: &WebUser, current: &str, blank: &str) -> Vec<Choice> {
    std::iter::once(Choice::new("", t(user, blank), current))
        .chain((0..7).map(|day| Choice::new(day.to_string(), weekday_name(user, day), current)))
        .collect()
}

fn weekday_filter(user: &WebUser, query: &ListQuery) -> Filter {
    Filter::Select {
        name: "weekday",
        label: t(user, "admin.field.weekday"),
        options: weekday_choices(user, &query.value("weekday"), "admin.filter.all"),
    }
}

fn span(start: NaiveTime, end: NaiveTime) -> String {
    format!("{}–{}", view::time(start), view::time(end))
}

fn time_value(time: NaiveTime) -> String {
    view::time(time)
}

/// Names of every user (doctors included when inactive), for the doctor columns.
async fn user_names(state: &AppState) -> Result<HashMap<i64, String>, StoreError> {
    Ok(state
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|user| (user.id, user.display_name()))
        .collect())
}

fn doctor_name(user: &WebUser, names: &HashMap<i64, String>, id: i64) -> String {
    names
        .get(&id)
        .cloned()
        .unwrap_or_else(|| format!("{} #{id}", t(user, "admin.field.doctor")))
}

/// The doctors a form offers: active doctors, plus the stored one when they are no longer.
async fn doctor_choices(
    state: &AppState,
    user: &WebUser,
    current: &str,
    stored: Option<i64>,
    blank: Option<&str>,
) -> Result<Vec<Choice>, StoreError> {
    let doctors = state.store.list_doctors().await?;
    let mut choices: Vec<Choice> = blank
        .map(|key| Choice::new("", t(user, key), current))
        .into_iter()
        .collect();
    if let Some(id) = stored.filter(|id| !doctors.iter().any(|doctor| doctor.id == *id)) {
        let name = match state.store.user_by_id(id).await? {
            Some(doctor) => doctor.display_name(),
            None => format!("#{id}"),
        };
        choices.push(Choice::new(
            id.to_string(),
            format!("{name} ({})", t(user, "admin.status.inactive")),
            current,
        ));
    }
    choices.extend(
        doctors
            .iter()
            .map(|doctor| Choice::new(doctor.id.to_string(), doctor.display_name(), current)),
    );
    Ok(choices)
}

/// The doctor filter of a list (all users with the doctor role, active or not).
async fn doctor_filter(
    state: &AppState,
    user: &WebUser,
    query: &ListQuery,
    practice_option: bool,
) -> Result<Filter, StoreError> {
    let current = query.value("doctor");
    let mut options = vec![Choice::new("", t(user, "admin.filter.all"), &current)];
    if practice_option {
        options.push(Choice::new(
            "practice",
            t(user, "admin.practice_wide"),
            &current,
        ));
    }
    let mut doctors: Vec<_> = state
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|candidate| candidate.api_role() == Some(Role::Doctor))
        .collect();
    doctors.sort_by_key(|doctor| {
        (
            doctor.last_name.to_lowercase(),
            doctor.first_name.to_lowercase(),
            doctor.id,
        )
    });
    options.extend(doctors.iter().map(|doctor| {
        let label = if doctor.is_active {
            doctor.display_name()
        } else {
            format!(
                "{} ({})",
                doctor.display_name(),
                t(user, "admin.status.inactive")
            )
        };
        Choice::new(doctor.id.to_string(), label, &current)
    }));
    Ok(Filter::Select {
        name: "doctor",
        label: t(user, "admin.field.doctor"),
        options,
    })
}

fn time_fields(
    user: &WebUser,
    input: Option<&FormInput>,
    stored: Option<(NaiveTime, NaiveTime)>,
) -> [Field; 2] {
    [
        Field::new("start_time", t(user, "admin.field.start_time"), Kind::Time)
            .value(shown(input, "start_time", || {
                stored.map(|(s, _)| time_value(s)).unwrap_or_default()
            }))
            .required(),
        Field::new("end_time", t(user, "admin.field.end_time"), Kind::Time)
            .value(shown(input, "end_time", || {
                stored.map(|(_, e)| time_value(e)).unwrap_or_default()
            }))
            .required(),
    ]
}

// ---- practice hours ---------------------------------------------------------------------------

/// The practice's weekly opening hours.
pub(crate) struct PracticeHours;

const WINDOW_FORM: [(&str, In); 4] = [
    ("weekday", In::Optional),
    ("start_time", In::Optional),
    ("end_time", In::Optional),
    ("active", In::Check),
];

fn window_changes(
    state: &AppState,
    input: &FormInput,
    mode: Mode,
) -> Result<HoursChanges, StoreError> {
    let mut fields = input.fields(state, &WINDOW_FORM);
    let changes = HoursChanges {
        weekday: read_int(&mut fields, "weekday", mode),
        start_time: read_time(&mut fields, "start_time", mode),
        end_time: read_time(&mut fields, "end_time", mode),
        active: fields.opt_bool("active").flatten(),
    };
    changes.check_fields(fields.errors_mut());
    finish(fields)?;
    Ok(changes)
}

impl AdminEntity for PracticeHours {
    const SLUG: &'static str = "practice-hours";
    const RESOURCE: Resource = Resource::PracticeHours;
    type Record = PracticeHoursRecord;

    fn id(record: &Self::Record) -> i64 {
        record.id
    }

    fn is_active(record: &Self::Record) -> bool {
        record.window.active
    }

    fn label(record: &Self::Record, user: &WebUser) -> String {
        format!(
            "{} {}",
            weekday_name(user, record.window.weekday),
            span(record.window.start_time, record.window.end_time)
        )
    }

    async fn list(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<ListData, StoreError> {
        let filter = HoursFilter {
            weekday: query.int("weekday").and_then(|day| i32::try_from(day).ok()),
            active: query.active(),
        };
        let page = state
            .store
            .admin_practice_hours(filter, query.window())
            .await?;
        state
            .store
            .record_audit(&user.audit("practice_hours_list", None, None))
            .await?;
        let rows = page
            .rows
            .iter()
            .map(|record| {
                let window = &record.window;
                Row::new(
                    record.id,
                    window.active,
                    vec![
                        Cell::text(weekday_name(user, window.weekday)),
                        Cell::text(span(window.start_time, window.end_time)),
                        status_cell(user, window.active),
                    ],
                )
            })
            .collect();
        Ok(ListData {
            total: page.total,
            columns: vec![
                Column::new(t(user, "admin.field.weekday")),
                Column::new(t(user, "admin.field.opening")),
                Column::new(t(user, "admin.field.status")),
            ],
            rows,
            filters: vec![weekday_filter(user, query), active_filter(user, query)],
        })
    }

    async fn find(state: &AppState, id: i64) -> Result<Option<Self::Record>, StoreError> {
        state.store.practice_hours(id).await
    }

    fn view_audit(user: &WebUser, record: &Self::Record) -> Option<AuditEntry> {
        Some(audit(user, "practice_hours_view", record.id))
    }

    async fn fields(
        _state: &AppState,
        user: &WebUser,
        record: Option<&Self::Record>,
        input: Option<&FormInput>,
    ) -> Result<Vec<Field>, StoreError> {
        let window = record.map(|record| record.window);
        let weekday = shown(input, "weekday", || {
            window.map(|w| w.weekday.to_string()).unwrap_or_default()
        });
        let [start, end] = time_fields(user, input, window.map(|w| (w.start_time, w.end_time)));
        Ok(vec![
            Field::new(
                "weekday",
                t(user, "admin.field.weekday"),
                Kind::Select(weekday_choices(user, &weekday, "admin.choose")),
            )
            .value(weekday)
            .required(),
            start,
            end,
            active_field(user, input, window.is_none_or(|w| w.active)),
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
        let window = window_changes(state, input, Mode::Create)?.create()?;
        let record = state
            .store
            .create_practice_hours(window, state.now(), |id| {
                audit(user, "practice_hours_create", id)
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
        let changes = window_changes(state, input, Mode::Replace)?;
        state
            .store
            .update_practice_hours(
                record.id,
                changes,
                state.now(),
                &audit(user, "practice_hours_update", record.id),
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
        let changes = HoursChanges {
            active: Some(active),
            ..Default::default()
        };
        state
            .store
            .update_practice_hours(
                record.id,
                changes,
                state.now(),
                &audit(user, "practice_hours_update", record.id),
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
            .delete_practice_hours(record.id, &audit(user, "practice_hours_delete", record.id))
            .await
    }
}

// ---- doctor hours -----------------------------------------------------------------------------

/// The doctors' weekly working hours.
pub(crate) struct DoctorHours;

const DOCTOR_HOURS_FORM: [(&str, In); 5] = [
    ("doctor", In::Optional),
    ("weekday", In::Optional),
    ("start_time", In::Optional),
    ("end_time", In::Optional),
    ("active", In::Check),
];

fn doctor_hours_changes(
    state: &AppState,
    input: &FormInput,
    mode: Mode,
) -> Result<DoctorHoursChanges, StoreError> {
    let mut fields = input.fields(state, &DOCTOR_HOURS_FORM);
    let changes = DoctorHoursChanges {
        doctor_id: read_int(&mut fields, "doctor", mode),
        window: HoursChanges {
            weekday: read_int(&mut fields, "weekday", mode),
            start_time: read_time(&mut fields, "start_time", mode),
            end_time: read_time(&mut fields, "end_time", mode),
            active: fields.opt_bool("active").flatten(),
        },
    };
    changes.check_fields(fields.errors_mut());
    finish(fields)?;
    Ok(changes)
}

impl AdminEntity for DoctorHours {
    const SLUG: &'static str = "doctor-hours";
    const RESOURCE: Resource = Resource::DoctorHours;
    type Record = DoctorHoursRecord;

    fn id(record: &Self::Record) -> i64 {
        record.id
    }

    fn is_active(record: &Self::Record) -> bool {
        record.fields.window.active
    }

    fn label(record: &Self::Record, user: &WebUser) -> String {
        let window = &record.fields.window;
        format!(
            "{} {}",
            weekday_name(user, window.weekday),
            span(window.start_time, window.end_time)
        )
    }

    async fn list(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<ListData, StoreError> {
        let filter = DoctorHoursFilter {
            doctor_id: query.int("doctor"),
            weekday: query.int("weekday").and_then(|day| i32::try_from(day).ok()),
            active: query.active(),
        };
        let page = state
            .store
            .admin_doctor_hours(filter, query.window())
            .await?;
        state
            .store
            .record_audit(&user.audit("doctor_hours_list", None, None))
            .await?;
        let names = user_names(state).await?;
        let rows = page
            .rows
            .iter()
            .map(|record| {
                let window = &record.fields.window;
                Row::new(
                    record.id,
                    window.active,
                    vec![
                        Cell::text(doctor_name(user, &names, record.fields.doctor_id)),
                        Cell::text(weekday_name(user, window.weekday)),
                        Cell::text(span(window.start_time, window.end_time)),
                        status_cell(user, window.active),
                    ],
                )
            })
            .collect();
        Ok(ListData {
            total: page.total,
            columns: vec![
                Column::new(t(user, "admin.field.doctor")),
                Column::new(t(user, "admin.field.weekday")),
                Column::new(t(user, "admin.field.working_time")),
                Column::new(t(user, "admin.field.status")),
            ],
            rows,
            filters: vec![
                doctor_filter(state, user, query, false).await?,
                weekday_filter(user, query),
                active_filter(user, query),
            ],
        })
    }

    async fn find(state: &AppState, id: i64) -> Result<Option<Self::Record>, StoreError> {
        state.store.doctor_hours(id).await
    }

    fn view_audit(user: &WebUser, record: &Self::Record) -> Option<AuditEntry> {
        Some(audit(user, "doctor_hours_view", record.id))
    }

    async fn fields(
        state: &AppState,
        user: &WebUser,
        record: Option<&Self::Record>,
        input: Option<&FormInput>,
    ) -> Result<Vec<Field>, StoreError> {
        let current = record.map(|record| record.fields);
        let doctor = shown(input, "doctor", || {
            current.map(|f| f.doctor_id.to_string()).unwrap_or_default()
        });
        let weekday = shown(input, "weekday", || {
            current
                .map(|f| f.window.weekday.to_string())
                .unwrap_or_default()
        });
        let doctors = doctor_choices(
            state,
            user,
            &doctor,
            current.map(|f| f.doctor_id),
            Some("admin.choose"),
        )
        .await?;
        let [start, end] = time_fields(
            user,
            input,
            current.map(|f| (f.window.start_time, f.window.end_time)),
        );
        Ok(vec![
            Field::new(
                "doctor",
                t(user, "admin.field.doctor"),
                Kind::Select(doctors),
            )
            .value(doctor)
            .required(),
            Field::new(
                "weekday",
                t(user, "admin.field.weekday"),
                Kind::Select(weekday_choices(user, &weekday, "admin.choose")),
            )
            .value(weekday)
            .required(),
            start,
            end,
            active_field(user, input, current.is_none_or(|f| f.window.active)),
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
        let row = doctor_hours_changes(state, input, Mode::Create)?.create()?;
        let record = state
            .store
            .create_doctor_hours(row, state.now(), |id| {
                audit(user, "doctor_hours_create", id)
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
        let changes = doctor_hours_changes(state, input, Mode::Replace)?;
        state
            .store
            .update_doctor_hours(
                record.id,
                changes,
                state.now(),
                &audit(user, "doctor_hours_update", record.id),
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
        let changes = DoctorHoursChanges {
            doctor_id: None,
            window: HoursChanges {
                active: Some(active),
                ..Default::default()
            },
        };
        state
            .store
            .update_doctor_hours(
                record.id,
                changes,
                state.now(),
                &audit(user, "doctor_hours_update", record.id),
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
            .delete_doctor_hours(record.id, &audit(user, "doctor_hours_delete", record.id))
            .await
    }
}

// ---- breaks -----------------------------------------------------------------------------------

/// Breaks on one date, of one doctor or practice-wide.
pub(crate) struct Breaks;

const BREAK_FORM: [(&str, In); 6] = [
    ("doctor", In::Nullable),
    ("date", In::Optional),
    ("start_time", In::Optional),
    ("end_time", In::Optional),
    ("reason", In::Nullable),
    ("active", In::Check),
];

fn break_changes(
    state: &AppState,
    input: &FormInput,
    mode: Mode,
) -> Result<BreakChanges, StoreError> {
    let mut fields = input.fields(state, &BREAK_FORM);
    let changes = BreakChanges {
        doctor_id: fields.opt_int("doctor"),
        date: read_date(&mut fields, "date", mode),
        start_time: read_time(&mut fields, "start_time", mode),
        end_time: read_time(&mut fields, "end_time", mode),
        reason: fields.opt_string("reason"),
        active: fields.opt_bool("active").flatten(),
    };
    changes.check_fields(fields.errors_mut());
    finish(fields)?;
    Ok(changes)
}

impl AdminEntity for Breaks {
    const SLUG: &'static str = "breaks";
    const RESOURCE: Resource = Resource::DoctorBreaks;
    type Record = BreakRecord;

    fn id(record: &Self::Record) -> i64 {
        record.id
    }

    fn is_active(record: &Self::Record) -> bool {
        record.fields.active
    }

    fn label(record: &Self::Record, user: &WebUser) -> String {
        let fields = &record.fields;
        format!(
            "{} {}",
            view::date(user.lang, fields.date),
            span(fields.start_time, fields.end_time)
        )
    }

    async fn list(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<ListData, StoreError> {
        let owner = match query.get("doctor") {
            Some("practice") => BreakOwner::Practice,
            Some(id) => id.parse().map_or(BreakOwner::Any, BreakOwner::Doctor),
            None => BreakOwner::Any,
        };
        let filter = BreakFilter {
            owner,
            active: query.active(),
            from: query.date("from"),
            q: query.get("q").map(str::to_owned),
        };
        let page = state.store.admin_breaks(&filter, query.window()).await?;
        state
            .store
            .record_audit(&user.audit("doctor_break_list", None, None))
            .await?;
        let names = user_names(state).await?;
        let rows = page
            .rows
            .iter()
            .map(|record| {
                let fields = &record.fields;
                Row::new(
                    record.id,
                    fields.active,
                    vec![
                        Cell::text(view::date(user.lang, fields.date)),
                        match fields.doctor_id {
                            Some(id) => Cell::text(doctor_name(user, &names, id)),
                            None => Cell::badge(t(user, "admin.practice_wide"), "info"),
                        },
                        Cell::text(span(fields.start_time, fields.end_time)),
                        Cell::text(fields.reason.clone().unwrap_or_default()),
                        status_cell(user, fields.active),
                    ],
                )
            })
            .collect();
        Ok(ListData {
            total: page.total,
            columns: vec![
                Column::new(t(user, "admin.field.date")),
                Column::new(t(user, "admin.field.doctor")),
                Column::new(t(user, "admin.field.time")),
                Column::new(t(user, "admin.field.reason")),
                Column::new(t(user, "admin.field.status")),
            ],
            rows,
            filters: vec![
                Filter::Text {
                    name: "q",
                    label: t(user, "admin.field.reason"),
                    value: query.value("q"),
                },
                doctor_filter(state, user, query, true).await?,
                Filter::Date {
                    name: "from",
                    label: t(user, "admin.filter.from"),
                    value: query
                        .date("from")
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                },
                active_filter(user, query),
            ],
        })
    }

    async fn find(state: &AppState, id: i64) -> Result<Option<Self::Record>, StoreError> {
        state.store.doctor_break(id).await
    }

    fn view_audit(user: &WebUser, record: &Self::Record) -> Option<AuditEntry> {
        Some(audit(user, "doctor_break_view", record.id))
    }

    async fn fields(
        state: &AppState,
        user: &WebUser,
        record: Option<&Self::Record>,
        input: Option<&FormInput>,
    ) -> Result<Vec<Field>, StoreError> {
        let current = record.map(|record| &record.fields);
        let doctor = shown(input, "doctor", || {
            current
                .and_then(|f| f.doctor_id)
                .map(|id| id.to_string())
                .unwrap_or_default()
        });
        let doctors = doctor_choices(
            state,
            user,
            &doctor,
            current.and_then(|f| f.doctor_id),
            Some("admin.practice_wide"),
        )
        .await?;
        let [start, end] = time_fields(user, input, current.map(|f| (f.start_time, f.end_time)));
        Ok(vec![
            Field::new(
                "doctor",
                t(user, "admin.field.doctor"),
                Kind::Select(doctors),
            )
            .value(doctor)
            .help(t(user, "admin.help.break_doctor")),
            Field::new("date", t(user, "admin.field.date"), Kind::Date)
                .value(shown(input, "date", || {
                    current.map(|f| f.date.to_string()).unwrap_or_default()
                }))
                .required(),
            start,
            end,
            Field::new("reason", t(user, "admin.field.reason"), Kind::Text)
                .value(shown(input, "reason", || {
                    current.and_then(|f| f.reason.clone()).unwrap_or_default()
                }))
                .maxlength(REASON_MAX_CHARS),
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
        let row = break_changes(state, input, Mode::Create)?.create()?;
        let record = state
            .store
            .create_break(row, state.now(), |id| {
                audit(user, "doctor_break_create", id)
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
        let changes = break_changes(state, input, Mode::Replace)?;
        state
            .store
            .update_break(
                record.id,
                changes,
                state.now(),
                &audit(user, "doctor_break_update", record.id),
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
        let changes = BreakChanges {
            active: Some(active),
            ..Default::default()
        };
        state
            .store
            .update_break(
                record.id,
                changes,
                state.now(),
                &audit(user, "doctor_break_update", record.id),
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
            .delete_break(record.id, &audit(user, "doctor_break_delete", record.id))
            .await
    }
}

// ---- absences ---------------------------------------------------------------------------------

/// Doctors' absences (vacation, sickness, …).
pub(crate) struct Absences;

/// The original's reason choices (stored as these German words).
const REASONS: [&str; 7] = [
    "Urlaub",
    "Krank",
    "Kind krank",
    "Unbezahlter Urlaub",
    "Fortbildung",
    "Dienstreise",
    "Sonstiges",
];

const ABSENCE_FORM: [(&str, In); 5] = [
    ("doctor", In::Optional),
    ("start_date", In::Optional),
    ("end_date", In::Optional),
    ("reason", In::Nullable),
    ("active", In::Check),
];

fn absence_changes(
    state: &AppState,
    input: &FormInput,
    mode: Mode,
) -> Result<AbsenceChanges, StoreError> {
    let mut fields = input.fields(state, &ABSENCE_FORM);
    let changes = AbsenceChanges {
        doctor_id: read_int(&mut fields, "doctor", mode),
        start_date: read_date(&mut fields, "start_date", mode),
        end_date: read_date(&mut fields, "end_date", mode),
        reason: fields.opt_string("reason"),
        active: fields.opt_bool("active").flatten(),
    };
    changes.check_fields(fields.errors_mut());
    finish(fields)?;
    Ok(changes)
}

fn reason_choices(user: &WebUser, current: &str) -> Vec<Choice> {
    let mut choices = vec![Choice::new("", "–", current)];
    choices.extend(REASONS.iter().enumerate().map(|(index, reason)| {
        Choice::new(*reason, t(user, &format!("admin.reason.{index}")), current)
    }));
    // A free-text reason from the API stays selectable.
    if !current.is_empty() && !REASONS.contains(&current) {
        choices.push(Choice::new(current, current, current));
    }
    choices
}

impl AdminEntity for Absences {
    const SLUG: &'static str = "absences";
    const RESOURCE: Resource = Resource::DoctorAbsences;
    type Record = AbsenceRecord;

    fn id(record: &Self::Record) -> i64 {
        record.id
    }

    fn is_active(record: &Self::Record) -> bool {
        record.fields.active
    }

    fn label(record: &Self::Record, user: &WebUser) -> String {
        let fields = &record.fields;
        format!(
            "{} – {}",
            view::date(user.lang, fields.start_date),
            view::date(user.lang, fields.end_date)
        )
    }

    async fn list(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<ListData, StoreError> {
        let filter = AbsenceFilter {
            doctor_id: query.int("doctor"),
            active: query.active(),
            from: query.date("from"),
            q: query.get("q").map(str::to_owned),
        };
        let page = state.store.admin_absences(&filter, query.window()).await?;
        state
            .store
            .record_audit(&user.audit("doctor_absence_list", None, None))
            .await?;
        let names = user_names(state).await?;
        let rows = page
            .rows
            .iter()
            .map(|record| {
                let fields = &record.fields;
                Row::new(
                    record.id,
                    fields.active,
                    vec![
                        Cell::text(doctor_name(user, &names, fields.doctor_id)),
                        Cell::text(format!(
                            "{} – {}",
                            view::date(user.lang, fields.start_date),
                            view::date(user.lang, fields.end_date)
                        )),
                        Cell::text(
                            praxi_domain::absence::workdays(fields.start_date, fields.end_date)
                                .to_string(),
                        ),
                        Cell::text(fields.reason.clone().unwrap_or_default()),
                        status_cell(user, fields.active),
                    ],
                )
            })
            .collect();
        Ok(ListData {
            total: page.total,
            columns: vec![
                Column::new(t(user, "admin.field.doctor")),
                Column::new(t(user, "admin.field.period")),
                Column::new(t(user, "admin.field.workdays")),
                Column::new(t(user, "admin.field.reason")),
                Column::new(t(user, "admin.field.status")),
            ],
            rows,
            filters: vec![
                Filter::Text {
                    name: "q",
                    label: t(user, "admin.field.reason"),
                    value: query.value("q"),
                },
                doctor_filter(state, user, query, false).await?,
                Filter::Date {
                    name: "from",
                    label: t(user, "admin.filter.until_after"),
                    value: query
                        .date("from")
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                },
                active_filter(user, query),
            ],
        })
    }

    async fn find(state: &AppState, id: i64) -> Result<Option<Self::Record>, StoreError> {
        state.store.absence(id).await
    }

    fn view_audit(user: &WebUser, record: &Self::Record) -> Option<AuditEntry> {
        Some(audit(user, "doctor_absence_view", record.id))
    }

    async fn fields(
        state: &AppState,
        user: &WebUser,
        record: Option<&Self::Record>,
        input: Option<&FormInput>,
    ) -> Result<Vec<Field>, StoreError> {
        let current = record.map(|record| &record.fields);
        let doctor = shown(input, "doctor", || {
            current.map(|f| f.doctor_id.to_string()).unwrap_or_default()
        });
        let doctors = doctor_choices(
            state,
            user,
            &doctor,
            current.map(|f| f.doctor_id),
            Some("admin.choose"),
        )
        .await?;
        let reason = shown(input, "reason", || {
            current.and_then(|f| f.reason.clone()).unwrap_or_default()
        });
        Ok(vec![
            Field::new(
                "doctor",
                t(user, "admin.field.doctor"),
                Kind::Select(doctors),
            )
            .value(doctor)
            .required(),
            Field::new("start_date", t(user, "admin.field.start_date"), Kind::Date)
                .value(shown(input, "start_date", || {
                    current
                        .map(|f| f.start_date.to_string())
                        .unwrap_or_default()
                }))
                .required(),
            Field::new("end_date", t(user, "admin.field.end_date"), Kind::Date)
                .value(shown(input, "end_date", || {
                    current.map(|f| f.end_date.to_string()).unwrap_or_default()
                }))
                .required()
                .help(t(user, "admin.help.end_date")),
            Field::new(
                "reason",
                t(user, "admin.field.reason"),
                Kind::Select(reason_choices(user, &reason)),
            )
            .value(reason),
            active_field(user, input, current.is_none_or(|f| f.active)),
        ])
    }

    fn facts(state: &AppState, user: &WebUser, record: &Self::Record) -> Vec<(String, String)> {
        let snapshot = &record.snapshot;
        let mut facts = vec![(
            t(user, "admin.field.workdays"),
            praxi_domain::absence::workdays(record.fields.start_date, record.fields.end_date)
                .to_string(),
        )];
        if let Some(back) = snapshot.return_date {
            facts.push((
                t(user, "admin.field.return_date"),
                view::date(user.lang, back),
            ));
        }
        if let Some(remaining) = snapshot.remaining_days {
            facts.push((
                format!(
                    "{} {}",
                    t(user, "admin.field.remaining_days"),
                    record.fields.start_date.year()
                ),
                remaining.to_string(),
            ));
        }
        facts.extend(timestamps(
            state,
            user,
            record.created_at,
            record.updated_at,
        ));
        facts
    }

    async fn create(
        state: &AppState,
        user: &WebUser,
        input: &FormInput,
    ) -> Result<i64, StoreError> {
        let row = absence_changes(state, input, Mode::Create)?.create()?;
        let record = state
            .store
            .create_absence(row, state.now(), |id| {
                audit(user, "doctor_absence_create", id)
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
        let changes = absence_changes(state, input, Mode::Replace)?;
        state
            .store
            .update_absence(
                record.id,
                changes,
                state.now(),
                &audit(user, "doctor_absence_update", record.id),
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
        let changes = AbsenceChanges {
            active: Some(active),
            ..Default::default()
        };
        state
            .store
            .update_absence(
                record.id,
                changes,
                state.now(),
                &audit(user, "doctor_absence_update", record.id),
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
            .delete_absence(record.id, &audit(user, "doctor_absence_delete", record.id))
            .await
    }
}
