//! Read-only queries of the staff administration (`/admin/`): every master-data list with
//! search, filters, a cheap sort and a page window, each returning the total count with the
//! page. Writes never happen here: the administration uses the same store calls as the API.
//!
//! Text search is a case-insensitive substring match (`lower(column) LIKE %q%`, wildcards in
//! `q` are literal). SQLite's `lower()` folds ASCII only, as everywhere else in the store.

use chrono::{DateTime, NaiveDate, Utc};
use praxi_domain::catalog::{
    AppointmentTypeFields, OperationTypeFields, ResourceFields, ResourceKind,
};
use praxi_domain::patient::PatientFields;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::absences::AbsenceRecord;
use crate::audit::AuditRecord;
use crate::catalog::{AppointmentTypeRecord, OperationTypeRecord, ResourceRecord};
use crate::db::Store;
use crate::entity::{
    appointment_type, audit_log, doctor_absence, doctor_break, doctor_hours, operation_type,
    patient, practice_hours, resource,
};
use crate::error::StoreError;
use crate::hours::{BreakRecord, DoctorHoursRecord, PracticeHoursRecord};
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

/// Filters of the catalogue lists (appointment types, operation types, resources).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogFilter {
    /// Substring of the name; blank = no filter.
    pub q: Option<String>,
    pub active: Option<bool>,
    /// Resources only: rooms or devices.
    pub kind: Option<ResourceKind>,
}

/// The sort column of a catalogue list (ties are broken by id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CatalogSort {
    #[default]
    Name,
    Created,
}

/// Filters of the practice-hours list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HoursFilter {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: Option<i32>,
    pub active: Option<bool>,
}

/// Filters of the doctor-hours list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoctorHoursFilter {
    pub doctor_id: Option<i64>,
    pub weekday: Option<i32>,
    pub active: Option<bool>,
}

/// Whose breaks a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BreakOwner {
    #[default]
    Any,
    /// Practice-wide breaks only.
    Practice,
    Doctor(i64),
}

/// Filters of the breaks list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BreakFilter {
    pub owner: BreakOwner,
    pub active: Option<bool>,
    /// Only breaks on or after this date.
    pub from: Option<NaiveDate>,
    /// Substring of the reason.
    pub q: Option<String>,
}

/// Filters of the absences list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AbsenceFilter {
    pub doctor_id: Option<i64>,
    pub active: Option<bool>,
    /// Only absences ending on or after this date.
    pub from: Option<NaiveDate>,
    /// Substring of the reason.
    pub q: Option<String>,
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

/// `lower(column) LIKE '%text%'` with the text's wildcards escaped.
fn contains<C: ColumnTrait>(column: C, text: &str) -> SimpleExpr {
    let pattern = format!(
        "%{}%",
        text.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern).escape('\\'))
}

/// A trimmed, non-blank search text.
fn search_text(q: Option<&String>) -> Option<&str> {
    q.map(|text| text.trim()).filter(|text| !text.is_empty())
}

fn order(descending: bool) -> Order {
    if descending { Order::Desc } else { Order::Asc }
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

    fn try_map<U>(
        self,
        f: impl FnMut(T) -> Result<U, StoreError>,
    ) -> Result<AdminPage<U>, StoreError> {
        Ok(AdminPage {
            total: self.total,
            rows: self.rows.into_iter().map(f).collect::<Result<_, _>>()?,
        })
    }
}

fn appointment_type_record(row: appointment_type::Model) -> AppointmentTypeRecord {
    AppointmentTypeRecord {
        id: row.id,
        fields: AppointmentTypeFields {
            name: row.name,
            color: row.color,
            duration_minutes: row.duration_minutes,
            active: row.active,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn operation_type_record(row: operation_type::Model) -> OperationTypeRecord {
    OperationTypeRecord {
        id: row.id,
        fields: OperationTypeFields {
            name: row.name,
            prep_duration: row.prep_duration,
            op_duration: row.op_duration,
            post_duration: row.post_duration,
            color: row.color,
            active: row.active,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn resource_record(row: resource::Model) -> Result<ResourceRecord, StoreError> {
    let kind = ResourceKind::parse(&row.r#type).ok_or_else(|| {
        StoreError::Db(format!(
            "resource {} has unknown type {:?}",
            row.id, row.r#type
        ))
    })?;
    Ok(ResourceRecord {
        id: row.id,
        fields: ResourceFields {
            name: row.name,
            kind,
            color: row.color,
            active: row.active,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
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
    /// Appointment types matching `filter`, sorted by `sort`.
    pub async fn admin_appointment_types(
        &self,
        filter: &CatalogFilter,
        sort: CatalogSort,
        descending: bool,
        window: Window,
    ) -> Result<AdminPage<AppointmentTypeRecord>, StoreError> {
        use appointment_type::Column;
        let mut select = appointment_type::Entity::find();
        if let Some(q) = search_text(filter.q.as_ref()) {
            select = select.filter(contains(Column::Name, q));
        }
        if let Some(active) = filter.active {
            select = select.filter(Column::Active.eq(active));
        }
        let column = match sort {
            CatalogSort::Name => Column::Name,
            CatalogSort::Created => Column::CreatedAt,
        };
        let select = select
            .order_by(column, order(descending))
            .order_by(Column::Id, order(descending));
        Ok(page(self, select, window)
            .await?
            .map(appointment_type_record))
    }

    /// Operation types matching `filter`, sorted by `sort`.
    pub async fn admin_operation_types(
        &self,
        filter: &CatalogFilter,
        sort: CatalogSort,
        descending: bool,
        window: Window,
    ) -> Result<AdminPage<OperationTypeRecord>, StoreError> {
        use operation_type::Column;
        let mut select = operation_type::Entity::find();
        if let Some(q) = search_text(filter.q.as_ref()) {
            select = select.filter(contains(Column::Name, q));
        }
        if let Some(active) = filter.active {
            select = select.filter(Column::Active.eq(active));
        }
        let column = match sort {
            CatalogSort::Name => Column::Name,
            CatalogSort::Created => Column::CreatedAt,
        };
        let select = select
            .order_by(column, order(descending))
            .order_by(Column::Id, order(descending));
        Ok(page(self, select, window).await?.map(operation_type_record))
    }

    /// Resources (rooms and devices, active or not) matching `filter`, sorted by `sort`.
    pub async fn admin_resources(
        &self,
        filter: &CatalogFilter,
        sort: CatalogSort,
        descending: bool,
        window: Window,
    ) -> Result<AdminPage<ResourceRecord>, StoreError> {
        use resource::Column;
        let mut select = resource::Entity::find();
        if let Some(q) = search_text(filter.q.as_ref()) {
            select = select.filter(contains(Column::Name, q));
        }
        if let Some(active) = filter.active {
            select = select.filter(Column::Active.eq(active));
        }
        if let Some(kind) = filter.kind {
            select = select.filter(Column::Type.eq(kind.as_str()));
        }
        let column = match sort {
            CatalogSort::Name => Column::Name,
            CatalogSort::Created => Column::CreatedAt,
        };
        let select = select
            .order_by(column, order(descending))
            .order_by(Column::Id, order(descending));
        page(self, select, window).await?.try_map(resource_record)
    }

    /// Practice hours in week order (weekday, start time, id).
    pub async fn admin_practice_hours(
        &self,
        filter: HoursFilter,
        window: Window,
    ) -> Result<AdminPage<PracticeHoursRecord>, StoreError> {
        use practice_hours::Column;
        let mut select = practice_hours::Entity::find();
        if let Some(weekday) = filter.weekday {
            select = select.filter(Column::Weekday.eq(weekday));
        }
        if let Some(active) = filter.active {
            select = select.filter(Column::Active.eq(active));
        }
        let select = select
            .order_by_asc(Column::Weekday)
            .order_by_asc(Column::StartTime)
            .order_by_asc(Column::Id);
        Ok(page(self, select, window)
            .await?
            .map(PracticeHoursRecord::from))
    }

    /// Doctor hours ordered by doctor, weekday, start time, id.
    pub async fn admin_doctor_hours(
        &self,
        filter: DoctorHoursFilter,
        window: Window,
    ) -> Result<AdminPage<DoctorHoursRecord>, StoreError> {
        use doctor_hours::Column;
        let mut select = doctor_hours::Entity::find();
        if let Some(doctor) = filter.doctor_id {
            select = select.filter(Column::DoctorId.eq(doctor));
        }
        if let Some(weekday) = filter.weekday {
            select = select.filter(Column::Weekday.eq(weekday));
        }
        if let Some(active) = filter.active {
            select = select.filter(Column::Active.eq(active));
        }
        let select = select
            .order_by_asc(Column::DoctorId)
            .order_by_asc(Column::Weekday)
            .order_by_asc(Column::StartTime)
            .order_by_asc(Column::Id);
        Ok(page(self, select, window)
            .await?
            .map(DoctorHoursRecord::from))
    }

    /// Breaks ordered by date, start time, id.
    pub async fn admin_breaks(
        &self,
        filter: &BreakFilter,
        window: Window,
    ) -> Result<AdminPage<BreakRecord>, StoreError> {
        use doctor_break::Column;
        let mut select = doctor_break::Entity::find();
        select = match filter.owner {
            BreakOwner::Any => select,
            BreakOwner::Practice => select.filter(Column::DoctorId.is_null()),
            BreakOwner::Doctor(id) => select.filter(Column::DoctorId.eq(id)),
        };
        if let Some(active) = filter.active {
            select = select.filter(Column::Active.eq(active));
        }
        if let Some(from) = filter.from {
            select = select.filter(Column::Date.gte(from));
        }
        if let Some(q) = search_text(filter.q.as_ref()) {
            select = select.filter(contains(Column::Reason, q));
        }
        let select = select
            .order_by_asc(Column::Date)
            .order_by_asc(Column::StartTime)
            .order_by_asc(Column::Id);
        Ok(page(self, select, window).await?.map(BreakRecord::from))
    }

    /// Absences ordered by start date, end date, id.
    pub async fn admin_absences(
        &self,
        filter: &AbsenceFilter,
        window: Window,
    ) -> Result<AdminPage<AbsenceRecord>, StoreError> {
        use doctor_absence::Column;
        let mut select = doctor_absence::Entity::find();
        if let Some(doctor) = filter.doctor_id {
            select = select.filter(Column::DoctorId.eq(doctor));
        }
        if let Some(active) = filter.active {
            select = select.filter(Column::Active.eq(active));
        }
        if let Some(from) = filter.from {
            select = select.filter(Column::EndDate.gte(from));
        }
        if let Some(q) = search_text(filter.q.as_ref()) {
            select = select.filter(contains(Column::Reason, q));
        }
        let select = select
            .order_by_asc(Column::StartDate)
            .order_by_asc(Column::EndDate)
            .order_by_asc(Column::Id);
        Ok(page(self, select, window).await?.map(AbsenceRecord::from))
    }

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
            select = select.filter(Column::PatientId.eq(patient_id));
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
