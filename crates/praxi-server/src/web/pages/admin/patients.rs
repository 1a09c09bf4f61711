//! Patients in the administration: list, search and edit only (patients are never deleted;
//! new patients are registered at the front desk). Every view is audited exactly like the
//! API: `patient_list` (page and ids) or `patient_search` (query length and ids, never the
//! query), `patient_view` for the edit form, `patient_updated` in the update's transaction.

use praxi_domain::patient::{PatientChanges, display_name};
use praxi_domain::rbac::Area;
use praxi_store::StoreError;
use praxi_store::admin_lists::{PatientQuery, PatientSort};
use praxi_store::audit::AuditEntry;
use praxi_store::patients::PatientRecord;
use serde_json::json;

use super::catalog::shown;
use super::view::{self, Cell, Column, Field, Filter, Kind, Row};
use super::{AdminEntity, FormInput, In, ListData, ListQuery, finish, t};
use crate::state::AppState;
use crate::web::session::WebUser;

/// Patient master data.
pub(crate) struct Patients;

const PATIENT_FORM: [(&str, In); 6] = [
    ("first_name", In::Text),
    ("last_name", In::Text),
    ("birth_date", In::Nullable),
    ("gender", In::Nullable),
    ("phone", In::Nullable),
    ("email", In::Nullable),
];

fn patient_sort(query: &ListQuery) -> (PatientSort, bool) {
    match query.sort() {
        (Some("id"), descending) => (PatientSort::Id, descending),
        (Some("birth_date"), descending) => (PatientSort::BirthDate, descending),
        (_, descending) => (PatientSort::Name, descending),
    }
}

fn name(record: &PatientRecord) -> String {
    display_name(
        record.id,
        &record.fields.first_name,
        &record.fields.last_name,
        None,
    )
}

impl AdminEntity for Patients {
    const SLUG: &'static str = "patients";
    const RESOURCE: Area = Area::Patients;
    const CREATE: bool = false;
    const DELETE: bool = false;
    const ACTIVE: bool = false;
    const DEFAULT_SORT: Option<&'static str> = Some("name");
    type Record = PatientRecord;

    fn id(record: &Self::Record) -> i64 {
        i64::from(record.id)
    }

    fn is_active(_record: &Self::Record) -> bool {
        true
    }

    fn label(record: &Self::Record, _user: &WebUser) -> String {
        name(record)
    }

    async fn list(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<ListData, StoreError> {
        let q = query.value("q");
        let (sort, descending) = patient_sort(query);
        let page = state
            .store
            .admin_patients(&PatientQuery::parse(&q), sort, descending, query.window())
            .await?;
        let ids: Vec<i32> = page.rows.iter().map(|patient| patient.id).collect();
        let entry = if q.is_empty() {
            user.audit(
                "patient_list",
                None,
                Some(json!({"page": query.page(), "patient_ids": ids})),
            )
            .with_subjects(ids.iter().copied())
        } else {
            // The query itself may be a name: only its length is kept.
            user.audit(
                "patient_search",
                None,
                Some(json!({"query_length": q.chars().count(), "patient_ids": ids})),
            )
            .with_subjects(ids.iter().copied())
        };
        state.store.record_audit(&entry).await?;
        let today = state.today();
        let rows = page
            .rows
            .iter()
            .map(|record| {
                let fields = &record.fields;
                Row::new(
                    i64::from(record.id),
                    true,
                    vec![
                        Cell::text(name(record)),
                        Cell::text(record.id.to_string()),
                        match fields.birth_date {
                            Some(birth) => Cell::text(format!(
                                "{} ({})",
                                view::date(user.lang, birth),
                                today.years_since(birth).unwrap_or(0)
                            )),
                            None => Cell::muted("–"),
                        },
                        Cell::text(fields.phone.clone().unwrap_or_default()),
                        Cell::text(fields.email.clone().unwrap_or_default()),
                    ],
                )
            })
            .collect();
        Ok(ListData {
            total: page.total,
            columns: vec![
                Column::new(t(user, "admin.field.name")).sortable("name"),
                Column::new(t(user, "admin.field.patient_id")).sortable("id"),
                Column::new(t(user, "admin.field.birth_date_age")).sortable("birth_date"),
                Column::new(t(user, "admin.field.phone")),
                Column::new(t(user, "admin.field.email")),
            ],
            rows,
            filters: vec![Filter::Text {
                name: "q",
                label: t(user, "admin.patients.search"),
                value: q,
            }],
        })
    }

    async fn find(state: &AppState, id: i64) -> Result<Option<Self::Record>, StoreError> {
        match i32::try_from(id) {
            Ok(id) => state.store.patient(id).await,
            Err(_) => Ok(None),
        }
    }

    fn view_audit(user: &WebUser, record: &Self::Record) -> Option<AuditEntry> {
        Some(user.audit("patient_view", Some(record.id), None))
    }

    async fn fields(
        _state: &AppState,
        user: &WebUser,
        record: Option<&Self::Record>,
        input: Option<&FormInput>,
    ) -> Result<Vec<Field>, StoreError> {
        let current = record.map(|record| &record.fields);
        let text = |name: &'static str, kind: Kind, stored: Option<String>, max: usize| {
            Field::new(name, t(user, &format!("admin.field.{name}")), kind)
                .value(shown(input, name, || stored.unwrap_or_default()))
                .maxlength(max)
        };
        Ok(vec![
            text(
                "last_name",
                Kind::Text,
                current.map(|f| f.last_name.clone()),
                100,
            ),
            text(
                "first_name",
                Kind::Text,
                current.map(|f| f.first_name.clone()),
                100,
            ),
            Field::new("birth_date", t(user, "admin.field.birth_date"), Kind::Date).value(shown(
                input,
                "birth_date",
                || {
                    current
                        .and_then(|f| f.birth_date)
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                },
            )),
            text(
                "gender",
                Kind::Text,
                current.and_then(|f| f.gender.clone()),
                20,
            ),
            text(
                "phone",
                Kind::Text,
                current.and_then(|f| f.phone.clone()),
                50,
            ),
            text(
                "email",
                Kind::Email,
                current.and_then(|f| f.email.clone()),
                255,
            ),
        ])
    }

    fn facts(state: &AppState, user: &WebUser, record: &Self::Record) -> Vec<(String, String)> {
        let tz = state.tz();
        let mut facts = vec![(t(user, "admin.field.patient_id"), record.id.to_string())];
        if let Some(at) = record.created_at {
            facts.push((
                t(user, "admin.field.created_at"),
                view::datetime(user.lang, at, tz),
            ));
        }
        if let Some(at) = record.updated_at {
            facts.push((
                t(user, "admin.field.updated_at"),
                view::datetime(user.lang, at, tz),
            ));
        }
        facts
    }

    async fn update(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
        input: &FormInput,
    ) -> Result<(), StoreError> {
        let mut fields = input.fields(state, &PATIENT_FORM);
        let changes = PatientChanges {
            first_name: fields.string("first_name"),
            last_name: fields.string("last_name"),
            birth_date: fields.opt_date("birth_date"),
            gender: fields.opt_string("gender"),
            phone: fields.opt_string("phone"),
            email: fields.opt_string("email"),
        };
        finish(fields)?;
        let profile = changes.apply(record.fields.clone(), state.today())?;
        state
            .store
            .update_patient(
                record.id,
                profile,
                state.now(),
                &user.audit("patient_updated", Some(record.id), None),
            )
            .await?;
        Ok(())
    }
}
