//! Read-only queries of the staff administration (`/admin/`) that are not master data
//! (patients, the audit log, the index counts), each returning the total count with the page.
//! The master-data lists are one generic query shared with the API (`master_data.rs`).
//! Writes never happen here: the administration uses the same store calls as the API.
//!
//! Text search is a case-insensitive substring match (`lower(column) LIKE %q%`, wildcards in
//! `q` are literal). SQLite's `lower()` folds ASCII only, as everywhere else in the store.

use chrono::{DateTime, NaiveDate, Utc};
use praxi_domain::patient::PatientFields;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};

use crate::audit::AuditRecord;
use crate::db::Store;
use crate::entity::{
    appointment_type, audit_log, doctor_absence, doctor_break, doctor_hours, operation_type,
    patient, practice_hours, resource,
};
use crate::error::StoreError;
use crate::master_data::{contains, order, search_text};
use crate::patients::PatientRecord;

/// One page of a list and the number of rows matching its filters.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminPage<T> {
    pub total: u64,
    pub rows: Vec<T>,
}

/// The row window of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: u64,
    pub limit: u64,
}

/// The sort column of the patient list (ties are broken by id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PatientSort {
    /// Last name, first name.
    #[default]
    Name,
    Id,
    BirthDate,
}

/// What the patient search matched on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientQuery {
    All,
    /// The patient number.
    Id(i32),
    BirthDate(NaiveDate),
    /// Every word is a substring of first name, last name, phone or e-mail.
    Text(Vec<String>),
}

impl PatientQuery {
    /// Reads a search box: digits = patient number, `dd.mm.yyyy` or `yyyy-mm-dd` = birth
    /// date, anything else = words of name, phone or e-mail.
    pub fn parse(q: &str) -> PatientQuery {
        let q = q.trim();
        if q.is_empty() {
            return PatientQuery::All;
        }
        if q.bytes().all(|byte| byte.is_ascii_digit()) {
            // A number beyond the id range matches nobody.
            return PatientQuery::Id(q.parse().unwrap_or(-1));
        }
        let date = NaiveDate::parse_from_str(q, "%d.%m.%Y")
            .or_else(|_| NaiveDate::parse_from_str(q, "%Y-%m-%d"));
        if let Ok(date) = date {
            return PatientQuery::BirthDate(date);
        }
        PatientQuery::Text(q.split_whitespace().map(str::to_owned).collect())
    }
}

/// Filters of the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exact action (e.g. `patient_view`).
    pub action: Option<String>,
    /// Substring of the username.
    pub username: Option<String>,
    /// Rows that showed or touched this patient (subjects, m0012).
    pub patient_id: Option<i32>,
    /// Rows at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Rows before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// Row counts for the administration's index page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdminCounts {
    pub appointment_types: u64,
    pub operation_types: u64,
    pub resources: u64,
    pub practice_hours: u64,
    pub doctor_hours: u64,
    pub breaks: u64,
    pub absences: u64,
    pub patients: u64,
}

async fn page<E>(
    store: &Store,
    select: Select<E>,
    window: Window,
) -> Result<AdminPage<E::Model>, StoreError>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let total = select.clone().count(store.conn()).await?;
    let rows = select
        .offset(window.offset)
        .limit(window.limit)
        .all(store.conn())
        .await?;
    Ok(AdminPage { total, rows })
}

impl<T> AdminPage<T> {
    fn map<U>(self, f: impl FnMut(T) -> U) -> AdminPage<U> {
        AdminPage {
            total: self.total,
            rows: self.rows.into_iter().map(f).collect(),
        }
    }
}

fn patient_record(row: patient::Model) -> PatientRecord {
    PatientRecord {
        id: row.id,
        fields: PatientFields {
            first_name: row.first_name,
            last_name: row.last_name,
            birth_date: row.birth_date,
            gender: row.gender,
            phone: row.phone,
            email: row.email,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn audit_record(row: audit_log::Model) -> AuditRecord {
    AuditRecord {
        id: row.id,
        user_id: row.user_id,
        username: row.username,
        role_name: row.role_name,
        action: row.action,
        patient_id: row.patient_id,
        timestamp: row.timestamp,
        meta: row.meta,
        request_id: row.request_id,
    }
}

impl Store {
    /// Patients matching a search, sorted by `sort`.
    pub async fn admin_patients(
        &self,
        query: &PatientQuery,
        sort: PatientSort,
        descending: bool,
        window: Window,
    ) -> Result<AdminPage<PatientRecord>, StoreError> {
        use patient::Column;
        let mut select = patient::Entity::find();
        match query {
            PatientQuery::All => {}
            PatientQuery::Id(id) => select = select.filter(Column::Id.eq(*id)),
            PatientQuery::BirthDate(date) => select = select.filter(Column::BirthDate.eq(*date)),
            PatientQuery::Text(words) => {
                for word in words {
                    select = select.filter(
                        Condition::any()
                            .add(contains(Column::FirstName, word))
                            .add(contains(Column::LastName, word))
                            .add(contains(Column::Phone, word))
                            .add(contains(Column::Email, word)),
                    );
                }
            }
        }
        let direction = order(descending);
        let select = match sort {
            PatientSort::Name => select
                .order_by(Column::LastName, direction.clone())
                .order_by(Column::FirstName, direction.clone()),
            PatientSort::Id => select,
            PatientSort::BirthDate => select.order_by(Column::BirthDate, direction.clone()),
        }
        .order_by(Column::Id, direction);
        Ok(page(self, select, window).await?.map(patient_record))
    }

    /// Audit rows matching `filter`, newest first.
    pub async fn admin_audit_log(
        &self,
        filter: &AuditFilter,
        window: Window,
    ) -> Result<AdminPage<AuditRecord>, StoreError> {
        use audit_log::Column;
        let mut select = audit_log::Entity::find();
        if let Some(action) = filter
            .action
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            select = select.filter(Column::Action.eq(action));
        }
        if let Some(username) = search_text(filter.username.as_ref()) {
            select = select.filter(contains(Column::Username, username));
        }
        if let Some(patient_id) = filter.patient_id {
            // Every row that showed or touched the patient (its subjects), not only the rows
            // about that one patient.
            select = select.filter(crate::audit::subject_condition(patient_id));
        }
        if let Some(since) = filter.since {
            select = select.filter(Column::Timestamp.gte(since));
        }
        if let Some(until) = filter.until {
            select = select.filter(Column::Timestamp.lt(until));
        }
        let select = select.order_by_desc(Column::Id);
        Ok(page(self, select, window).await?.map(audit_record))
    }

    /// Row counts of the administered tables (users are counted by
    /// [`Store::count_users`]).
    pub async fn admin_counts(&self) -> Result<AdminCounts, StoreError> {
        let conn = self.conn();
        Ok(AdminCounts {
            appointment_types: appointment_type::Entity::find().count(conn).await?,
            operation_types: operation_type::Entity::find().count(conn).await?,
            resources: resource::Entity::find().count(conn).await?,
            practice_hours: practice_hours::Entity::find().count(conn).await?,
            doctor_hours: doctor_hours::Entity::find().count(conn).await?,
            breaks: doctor_break::Entity::find().count(conn).await?,
            absences: doctor_absence::Entity::find().count(conn).await?,
            patients: patient::Entity::find().count(conn).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_search_reads_numbers_dates_and_words() {
        let date = NaiveDate::from_ymd_opt(1980, 3, 1).unwrap();
        for (q, expected) in [
            ("", PatientQuery::All),
            ("   ", PatientQuery::All),
            ("42", PatientQuery::Id(42)),
            ("99999999999", PatientQuery::Id(-1)),
            ("01.03.1980", PatientQuery::BirthDate(date)),
            ("1980-03-01", PatientQuery::BirthDate(date)),
            (
                "31.02.1980",
                PatientQuery::Text(vec!["31.02.1980".to_owned()]),
            ),
            (
                " Müller  Anna ",
                PatientQuery::Text(vec!["Müller".to_owned(), "Anna".to_owned()]),
            ),
        ] {
            assert_eq!(PatientQuery::parse(q), expected, "{q:?}");
        }
    }
}
