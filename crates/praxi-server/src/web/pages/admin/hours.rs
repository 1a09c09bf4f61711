//! Calendar configuration in the administration: practice hours, doctor hours, breaks and
//! absences: their presentation only. Lists, lookups and writes are the API's use cases
//! (`usecases::master_data`; the domain validates the merged row inside the store's
//! transaction) with its audit actions (`practice_hours_*`, `doctor_hours_*`,
//! `doctor_break_*`, `doctor_absence_*`, meta `{"id": n}`).

use std::collections::HashMap;

use chrono::{Datelike, NaiveTime};
use praxi_domain::Role;
use praxi_domain::hours::REASON_MAX_CHARS;
use praxi_store::StoreError;
use praxi_store::master_data::{
    AbsenceFilter, AbsenceSort, BreakFilter, BreakOwner, DoctorHoursFilter, HoursFilter,
};

use super::catalog::{active_field, active_filter, shown, status_cell, timestamps};
use super::view::{self, Cell, Choice, Column, Field, Filter, Kind};
use super::{FormInput, In, ListQuery, Lookup, MasterAdmin, UserNames, t};
use crate::state::AppState;
use crate::usecases::master_data::{
    Absences, Breaks, DoctorHours, Filter as RowFilter, PracticeHours, Record, Sort,
};
use crate::web::session::WebUser;

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
pub(super) async fn user_names(state: &AppState) -> Result<UserNames, StoreError> {
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

// The practice's weekly opening hours.

const WINDOW_FORM: [(&str, In); 4] = [
    ("weekday", In::Optional),
    ("start_time", In::Optional),
    ("end_time", In::Optional),
    ("active", In::Check),
];

impl MasterAdmin for PracticeHours {
    const FORM: &'static [(&'static str, In)] = &WINDOW_FORM;
    const SLUG: &'static str = "practice-hours";

    fn query(query: &ListQuery) -> (RowFilter<Self>, Sort<Self>) {
        let filter = HoursFilter {
            weekday: query.int("weekday").and_then(|day| i32::try_from(day).ok()),
            active: query.active(),
        };
        (filter, ())
    }

    fn is_active(record: &Record<Self>) -> bool {
        record.window.active
    }

    fn label(record: &Record<Self>, user: &WebUser) -> String {
        format!(
            "{} {}",
            weekday_name(user, record.window.weekday),
            span(record.window.start_time, record.window.end_time)
        )
    }

    fn columns(user: &WebUser) -> Vec<Column> {
        vec![
            Column::new(t(user, "admin.field.weekday")),
            Column::new(t(user, "admin.field.opening")),
            Column::new(t(user, "admin.field.status")),
        ]
    }

    fn cells(
        _state: &AppState,
        user: &WebUser,
        _names: &UserNames,
        record: &Record<Self>,
    ) -> Vec<Cell> {
        let window = &record.window;
        vec![
            Cell::text(weekday_name(user, window.weekday)),
            Cell::text(span(window.start_time, window.end_time)),
            status_cell(user, window.active),
        ]
    }

    async fn filters(
        _state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<Vec<Filter>, StoreError> {
        Ok(vec![
            weekday_filter(user, query),
            active_filter(user, query),
        ])
    }

    async fn fields(
        _state: &AppState,
        user: &WebUser,
        record: Option<&Record<Self>>,
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

    fn facts(state: &AppState, user: &WebUser, record: &Record<Self>) -> Vec<(String, String)> {
        timestamps(state, user, record.created_at, record.updated_at)
    }
}

// ---- doctor hours -----------------------------------------------------------------------------

// The doctors' weekly working hours.

const DOCTOR_HOURS_FORM: [(&str, In); 5] = [
    ("doctor", In::Optional),
    ("weekday", In::Optional),
    ("start_time", In::Optional),
    ("end_time", In::Optional),
    ("active", In::Check),
];

impl MasterAdmin for DoctorHours {
    const FORM: &'static [(&'static str, In)] = &DOCTOR_HOURS_FORM;
    const SLUG: &'static str = "doctor-hours";
    const LOOKUP: Lookup = Lookup::UserNames;

    fn query(query: &ListQuery) -> (RowFilter<Self>, Sort<Self>) {
        let filter = DoctorHoursFilter {
            doctor_id: query.int("doctor"),
            weekday: query.int("weekday").and_then(|day| i32::try_from(day).ok()),
            active: query.active(),
        };
        (filter, ())
    }

    fn is_active(record: &Record<Self>) -> bool {
        record.fields.window.active
    }

    fn label(record: &Record<Self>, user: &WebUser) -> String {
        let window = &record.fields.window;
        format!(
            "{} {}",
            weekday_name(user, window.weekday),
            span(window.start_time, window.end_time)
        )
    }

    fn columns(user: &WebUser) -> Vec<Column> {
        vec![
            Column::new(t(user, "admin.field.doctor")),
            Column::new(t(user, "admin.field.weekday")),
            Column::new(t(user, "admin.field.working_time")),
            Column::new(t(user, "admin.field.status")),
        ]
    }

    fn cells(
        _state: &AppState,
        user: &WebUser,
        names: &UserNames,
        record: &Record<Self>,
    ) -> Vec<Cell> {
        let window = &record.fields.window;
        vec![
            Cell::text(doctor_name(user, names, record.fields.doctor_id)),
            Cell::text(weekday_name(user, window.weekday)),
            Cell::text(span(window.start_time, window.end_time)),
            status_cell(user, window.active),
        ]
    }

    async fn filters(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<Vec<Filter>, StoreError> {
        Ok(vec![
            doctor_filter(state, user, query, false).await?,
            weekday_filter(user, query),
            active_filter(user, query),
        ])
    }

    async fn fields(
        state: &AppState,
        user: &WebUser,
        record: Option<&Record<Self>>,
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

    fn facts(state: &AppState, user: &WebUser, record: &Record<Self>) -> Vec<(String, String)> {
        timestamps(state, user, record.created_at, record.updated_at)
    }
}

// ---- breaks -----------------------------------------------------------------------------------

// Breaks on one date, of one doctor or practice-wide.

const BREAK_FORM: [(&str, In); 6] = [
    ("doctor", In::Nullable),
    ("date", In::Optional),
    ("start_time", In::Optional),
    ("end_time", In::Optional),
    ("reason", In::Nullable),
    ("active", In::Check),
];

impl MasterAdmin for Breaks {
    const FORM: &'static [(&'static str, In)] = &BREAK_FORM;
    const SLUG: &'static str = "breaks";
    const LOOKUP: Lookup = Lookup::UserNames;

    fn query(query: &ListQuery) -> (RowFilter<Self>, Sort<Self>) {
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
        (filter, ())
    }

    fn is_active(record: &Record<Self>) -> bool {
        record.fields.active
    }

    fn label(record: &Record<Self>, user: &WebUser) -> String {
        let fields = &record.fields;
        format!(
            "{} {}",
            view::date(user.lang, fields.date),
            span(fields.start_time, fields.end_time)
        )
    }

    fn columns(user: &WebUser) -> Vec<Column> {
        vec![
            Column::new(t(user, "admin.field.date")),
            Column::new(t(user, "admin.field.doctor")),
            Column::new(t(user, "admin.field.time")),
            Column::new(t(user, "admin.field.reason")),
            Column::new(t(user, "admin.field.status")),
        ]
    }

    fn cells(
        _state: &AppState,
        user: &WebUser,
        names: &UserNames,
        record: &Record<Self>,
    ) -> Vec<Cell> {
        let fields = &record.fields;
        vec![
            Cell::text(view::date(user.lang, fields.date)),
            match fields.doctor_id {
                Some(id) => Cell::text(doctor_name(user, names, id)),
                None => Cell::badge(t(user, "admin.practice_wide"), "info"),
            },
            Cell::text(span(fields.start_time, fields.end_time)),
            Cell::text(fields.reason.clone().unwrap_or_default()),
            status_cell(user, fields.active),
        ]
    }

    async fn filters(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<Vec<Filter>, StoreError> {
        Ok(vec![
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
        ])
    }

    async fn fields(
        state: &AppState,
        user: &WebUser,
        record: Option<&Record<Self>>,
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

    fn facts(state: &AppState, user: &WebUser, record: &Record<Self>) -> Vec<(String, String)> {
        timestamps(state, user, record.created_at, record.updated_at)
    }
}

// ---- absences ---------------------------------------------------------------------------------

// Doctors' absences (vacation, sickness, …).

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

impl MasterAdmin for Absences {
    const FORM: &'static [(&'static str, In)] = &ABSENCE_FORM;
    const SLUG: &'static str = "absences";
    const LOOKUP: Lookup = Lookup::UserNames;

    fn query(query: &ListQuery) -> (RowFilter<Self>, Sort<Self>) {
        let filter = AbsenceFilter {
            doctor_id: query.int("doctor"),
            active: query.active(),
            from: query.date("from"),
            q: query.get("q").map(str::to_owned),
        };
        (filter, AbsenceSort::Date)
    }

    fn is_active(record: &Record<Self>) -> bool {
        record.fields.active
    }

    fn label(record: &Record<Self>, user: &WebUser) -> String {
        let fields = &record.fields;
        format!(
            "{} – {}",
            view::date(user.lang, fields.start_date),
            view::date(user.lang, fields.end_date)
        )
    }

    fn columns(user: &WebUser) -> Vec<Column> {
        vec![
            Column::new(t(user, "admin.field.doctor")),
            Column::new(t(user, "admin.field.period")),
            Column::new(t(user, "admin.field.workdays")),
            Column::new(t(user, "admin.field.reason")),
            Column::new(t(user, "admin.field.status")),
        ]
    }

    fn cells(
        _state: &AppState,
        user: &WebUser,
        names: &UserNames,
        record: &Record<Self>,
    ) -> Vec<Cell> {
        let fields = &record.fields;
        vec![
            Cell::text(doctor_name(user, names, fields.doctor_id)),
            Cell::text(format!(
                "{} – {}",
                view::date(user.lang, fields.start_date),
                view::date(user.lang, fields.end_date)
            )),
            Cell::text(
                praxi_domain::absence::workdays(fields.start_date, fields.end_date).to_string(),
            ),
            Cell::text(fields.reason.clone().unwrap_or_default()),
            status_cell(user, fields.active),
        ]
    }

    async fn filters(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<Vec<Filter>, StoreError> {
        Ok(vec![
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
        ])
    }

    async fn fields(
        state: &AppState,
        user: &WebUser,
        record: Option<&Record<Self>>,
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

    fn facts(state: &AppState, user: &WebUser, record: &Record<Self>) -> Vec<(String, String)> {
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
}
