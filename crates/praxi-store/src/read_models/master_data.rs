//! Master data described once per table: the seven configuration tables (appointment types,
//! operation types, resources, practice hours, doctor hours, breaks, absences) share one list
//! query and one lookup, driven by a [`MasterTable`] declaration (entity, record conversion,
//! filters, orders). The API lists, the administration lists and the lookups of both read
//! through [`Store::master_count`], [`Store::master_rows`], [`Store::master_page`] and
//! [`Store::master_row`]; there is no second list query per table.
//!
//! Writes stay with each table's repository (`catalog.rs`, `hours.rs`, `absences.rs`): they
//! carry the rules that really differ (reference checks, overlap checks, the absence
//! snapshots and the lock order of ARCHITECTURE.md).
//!
//! Kind: read model (list queries) over the repositories' entities.

use chrono::NaiveDate;
use praxi_domain::catalog::{
    AppointmentTypeFields, OperationTypeFields, ResourceFields, ResourceKind,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, NullOrdering, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::absences::AbsenceRecord;
use crate::admin_lists::{AdminPage, Window};
use crate::catalog::{AppointmentTypeRecord, OperationTypeRecord, ResourceRecord};
use crate::db::Store;
use crate::entity::{
    appointment_type, doctor_absence, doctor_break, doctor_hours, operation_type, practice_hours,
    resource,
};
use crate::error::StoreError;
use crate::hours::{BreakRecord, DoctorHoursRecord, PracticeHoursRecord};

/// One master-data table: what its rows are, how a list filters and orders them.
pub trait MasterTable: Send + Sync + 'static {
    type Entity: EntityTrait<Model: Send + Sync>;
    /// The stored row as the rest of the code sees it.
    type Record: Send + Sync;
    /// Everything a list may filter on (API query parameters, admin filters, the rows a
    /// doctor may see).
    type Filter: Default + Send + Sync;
    /// The orders a list offers; `Default` is the API's order.
    type Sort: Default + Copy + Send + Sync;
    /// The model name of errors (`No <Model> matches…`).
    const MODEL: &'static str;

    fn record(row: <Self::Entity as EntityTrait>::Model) -> Result<Self::Record, StoreError>;
    /// The filtered, ordered select (ties are always broken by id).
    fn select(filter: &Self::Filter, sort: Self::Sort) -> Select<Self::Entity>;

    /// The select of one row.
    fn by_id(id: i64) -> Select<Self::Entity>;
}

impl Store {
    /// How many rows of `T` match `filter`.
    pub async fn master_count<T: MasterTable>(
        &self,
        filter: &T::Filter,
    ) -> Result<u64, StoreError> {
        Ok(T::select(filter, T::Sort::default())
            .count(self.conn())
            .await?)
    }

    /// One window of the rows of `T` matching `filter`, in `sort` order.
    pub async fn master_rows<T: MasterTable>(
        &self,
        filter: &T::Filter,
        sort: T::Sort,
        window: Window,
    ) -> Result<Vec<T::Record>, StoreError> {
        T::select(filter, sort)
            .offset(window.offset)
            .limit(window.limit)
            .all(self.conn())
            .await?
            .into_iter()
            .map(T::record)
            .collect()
    }

    /// The total and one window (the administration's lists).
    pub async fn master_page<T: MasterTable>(
        &self,
        filter: &T::Filter,
        sort: T::Sort,
        window: Window,
    ) -> Result<AdminPage<T::Record>, StoreError> {
        let total = self.master_count::<T>(filter).await?;
        let rows = self.master_rows::<T>(filter, sort, window).await?;
        Ok(AdminPage { total, rows })
    }

    /// One row of `T` by id, active or not.
    pub async fn master_row<T: MasterTable>(
        &self,
        id: i64,
    ) -> Result<Option<T::Record>, StoreError> {
        T::by_id(id)
            .one(self.conn())
            .await?
            .map(T::record)
            .transpose()
    }
}

// ---- shared filter pieces ---------------------------------------------------------------------

/// `lower(column) LIKE '%text%'` with the text's wildcards escaped.
pub(crate) fn contains<C: ColumnTrait>(column: C, text: &str) -> SimpleExpr {
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
pub(crate) fn search_text(q: Option<&String>) -> Option<&str> {
    q.map(|text| text.trim()).filter(|text| !text.is_empty())
}

pub(crate) fn order(descending: bool) -> Order {
    if descending { Order::Desc } else { Order::Asc }
}

fn filter_eq<E, C, V>(select: Select<E>, column: C, value: Option<V>) -> Select<E>
where
    E: EntityTrait,
    C: ColumnTrait,
    V: Into<sea_orm::Value>,
{
    match value {
        Some(value) => select.filter(column.eq(value)),
        None => select,
    }
}

fn filter_contains<E: EntityTrait, C: ColumnTrait>(
    select: Select<E>,
    column: C,
    q: Option<&String>,
) -> Select<E> {
    match search_text(q) {
        Some(q) => select.filter(contains(column, q)),
        None => select,
    }
}

// ---- catalogue: appointment types, operation types, resources ---------------------------------

/// Filters of the catalogue lists (appointment types, operation types, resources).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogFilter {
    /// Substring of the name; blank = no filter.
    pub q: Option<String>,
    pub active: Option<bool>,
    /// Resources only: the exact stored `type` (the API's `?type=` compares the raw value).
    pub kind: Option<String>,
}

/// The sort column of a catalogue list (ties are broken by id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CatalogSort {
    #[default]
    Name,
    Created,
    /// Resources: type, then name (the API's order).
    Kind,
}

/// A catalogue order: column and direction.
pub type CatalogOrder = (CatalogSort, bool);

/// The columns a catalogue list filters and orders on.
struct CatalogColumns<C> {
    name: C,
    active: C,
    created_at: C,
    id: C,
    /// Resources only: the `type` column.
    kind: Option<C>,
}

impl<C: ColumnTrait> CatalogColumns<C> {
    /// Name search, `active` and `type` filters; ordered by name, creation or type and name,
    /// ties broken by id.
    fn select<E: EntityTrait<Column = C>>(
        self,
        select: Select<E>,
        filter: &CatalogFilter,
        (sort, descending): CatalogOrder,
    ) -> Select<E> {
        let select = filter_contains(select, self.name, filter.q.as_ref());
        let select = filter_eq(select, self.active, filter.active);
        let select = match self.kind {
            Some(kind) => filter_eq(select, kind, filter.kind.clone()),
            None => select,
        };
        let select = match (sort, self.kind) {
            (CatalogSort::Created, _) => select.order_by(self.created_at, order(descending)),
            (CatalogSort::Kind, Some(kind)) => select
                .order_by(kind, order(descending))
                .order_by(self.name, order(descending)),
            (CatalogSort::Name | CatalogSort::Kind, _) => {
                select.order_by(self.name, order(descending))
            }
        };
        select.order_by(self.id, order(descending))
    }
}

/// Appointment types (data-model.md §5.1).
pub struct AppointmentTypes;

impl MasterTable for AppointmentTypes {
    type Entity = appointment_type::Entity;
    type Record = AppointmentTypeRecord;
    type Filter = CatalogFilter;
    type Sort = CatalogOrder;
    const MODEL: &'static str = "AppointmentType";

    fn by_id(id: i64) -> Select<Self::Entity> {
        appointment_type::Entity::find_by_id(id)
    }

    fn record(row: appointment_type::Model) -> Result<AppointmentTypeRecord, StoreError> {
        Ok(AppointmentTypeRecord {
            id: row.id,
            fields: AppointmentTypeFields {
                name: row.name,
                color: row.color,
                duration_minutes: row.duration_minutes,
                active: row.active,
                buffers: praxi_domain::scheduling::Buffers::from_minutes(
                    i64::from(row.buffer_before_minutes),
                    i64::from(row.buffer_after_minutes),
                ),
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    fn select(filter: &CatalogFilter, sort: CatalogOrder) -> Select<Self::Entity> {
        use appointment_type::Column;
        let columns = CatalogColumns {
            name: Column::Name,
            active: Column::Active,
            created_at: Column::CreatedAt,
            id: Column::Id,
            kind: None,
        };
        columns.select(appointment_type::Entity::find(), filter, sort)
    }
}

/// Operation types (data-model.md §5.6).
pub struct OperationTypes;

impl MasterTable for OperationTypes {
    type Entity = operation_type::Entity;
    type Record = OperationTypeRecord;
    type Filter = CatalogFilter;
    type Sort = CatalogOrder;
    const MODEL: &'static str = "OperationType";

    fn by_id(id: i64) -> Select<Self::Entity> {
        operation_type::Entity::find_by_id(id)
    }

    fn record(row: operation_type::Model) -> Result<OperationTypeRecord, StoreError> {
        Ok(OperationTypeRecord {
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
        })
    }

    fn select(filter: &CatalogFilter, sort: CatalogOrder) -> Select<Self::Entity> {
        use operation_type::Column;
        let columns = CatalogColumns {
            name: Column::Name,
            active: Column::Active,
            created_at: Column::CreatedAt,
            id: Column::Id,
            kind: None,
        };
        columns.select(operation_type::Entity::find(), filter, sort)
    }
}

/// Resources: rooms and devices (data-model.md §5.9).
pub struct Resources;

impl MasterTable for Resources {
    type Entity = resource::Entity;
    type Record = ResourceRecord;
    type Filter = CatalogFilter;
    type Sort = CatalogOrder;
    const MODEL: &'static str = "Resource";

    fn by_id(id: i64) -> Select<Self::Entity> {
        resource::Entity::find_by_id(id)
    }

    fn record(row: resource::Model) -> Result<ResourceRecord, StoreError> {
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

    fn select(filter: &CatalogFilter, sort: CatalogOrder) -> Select<Self::Entity> {
        use resource::Column;
        let columns = CatalogColumns {
            name: Column::Name,
            active: Column::Active,
            created_at: Column::CreatedAt,
            id: Column::Id,
            kind: Some(Column::Type),
        };
        columns.select(resource::Entity::find(), filter, sort)
    }
}

// ---- calendar configuration: practice hours, doctor hours, breaks ------------------------------

/// Filters of the practice-hours list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HoursFilter {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: Option<i32>,
    pub active: Option<bool>,
}

/// The practice's weekly opening windows (data-model.md §5.2), in week order (weekday, start
/// time, id).
pub struct PracticeHours;

impl MasterTable for PracticeHours {
    type Entity = practice_hours::Entity;
    type Record = PracticeHoursRecord;
    type Filter = HoursFilter;
    type Sort = ();
    const MODEL: &'static str = "PracticeHours";

    fn by_id(id: i64) -> Select<Self::Entity> {
        practice_hours::Entity::find_by_id(id)
    }

    fn record(row: practice_hours::Model) -> Result<PracticeHoursRecord, StoreError> {
        Ok(row.into())
    }

    fn select(filter: &HoursFilter, (): ()) -> Select<Self::Entity> {
        use practice_hours::Column;
        let select = filter_eq(
            practice_hours::Entity::find(),
            Column::Weekday,
            filter.weekday,
        );
        filter_eq(select, Column::Active, filter.active)
            .order_by_asc(Column::Weekday)
            .order_by_asc(Column::StartTime)
            .order_by_asc(Column::Id)
    }
}

/// Filters of the doctor-hours list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoctorHoursFilter {
    pub doctor_id: Option<i64>,
    pub weekday: Option<i32>,
    pub active: Option<bool>,
}

/// Weekly availability of each doctor (data-model.md §5.3), ordered by doctor, weekday, start
/// time, id.
pub struct DoctorHours;

impl MasterTable for DoctorHours {
    type Entity = doctor_hours::Entity;
    type Record = DoctorHoursRecord;
    type Filter = DoctorHoursFilter;
    type Sort = ();
    const MODEL: &'static str = "DoctorHours";

    fn by_id(id: i64) -> Select<Self::Entity> {
        doctor_hours::Entity::find_by_id(id)
    }

    fn record(row: doctor_hours::Model) -> Result<DoctorHoursRecord, StoreError> {
        Ok(row.into())
    }

    fn select(filter: &DoctorHoursFilter, (): ()) -> Select<Self::Entity> {
        use doctor_hours::Column;
        let select = filter_eq(
            doctor_hours::Entity::find(),
            Column::DoctorId,
            filter.doctor_id,
        );
        let select = filter_eq(select, Column::Weekday, filter.weekday);
        filter_eq(select, Column::Active, filter.active)
            .order_by_asc(Column::DoctorId)
            .order_by_asc(Column::Weekday)
            .order_by_asc(Column::StartTime)
            .order_by_asc(Column::Id)
    }
}

/// Whose breaks a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BreakOwner {
    #[default]
    Any,
    /// Practice-wide breaks only.
    Practice,
    Doctor(i64),
    /// What a doctor sees: their own and the practice-wide breaks (they block them too).
    DoctorOrPractice(i64),
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

/// Blocked time on one date, for one doctor or practice-wide (data-model.md §5.5), in the
/// original's order: date, start time, doctor (practice-wide last, as on PostgreSQL), id.
pub struct Breaks;

impl MasterTable for Breaks {
    type Entity = doctor_break::Entity;
    type Record = BreakRecord;
    type Filter = BreakFilter;
    type Sort = ();
    const MODEL: &'static str = "DoctorBreak";

    fn by_id(id: i64) -> Select<Self::Entity> {
        doctor_break::Entity::find_by_id(id)
    }

    fn record(row: doctor_break::Model) -> Result<BreakRecord, StoreError> {
        Ok(row.into())
    }

    fn select(filter: &BreakFilter, (): ()) -> Select<Self::Entity> {
        use doctor_break::Column;
        let select = doctor_break::Entity::find();
        let select = match filter.owner {
            BreakOwner::Any => select,
            BreakOwner::Practice => select.filter(Column::DoctorId.is_null()),
            BreakOwner::Doctor(id) => select.filter(Column::DoctorId.eq(id)),
            BreakOwner::DoctorOrPractice(id) => select.filter(
                Condition::any()
                    .add(Column::DoctorId.eq(id))
                    .add(Column::DoctorId.is_null()),
            ),
        };
        let select = filter_eq(select, Column::Active, filter.active);
        let select = match filter.from {
            Some(from) => select.filter(Column::Date.gte(from)),
            None => select,
        };
        filter_contains(select, Column::Reason, filter.q.as_ref())
            .order_by_asc(Column::Date)
            .order_by_asc(Column::StartTime)
            .order_by_with_nulls(Column::DoctorId, Order::Asc, NullOrdering::Last)
            .order_by_asc(Column::Id)
    }
}

// ---- absences ---------------------------------------------------------------------------------

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

/// The order of an absence list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AbsenceSort {
    /// The API's (the original's) order: doctor, start date, end date, id.
    #[default]
    Doctor,
    /// The administration's: start date, end date, id.
    Date,
}

/// Whole-day absences of doctors (data-model.md §5.4).
pub struct Absences;

impl MasterTable for Absences {
    type Entity = doctor_absence::Entity;
    type Record = AbsenceRecord;
    type Filter = AbsenceFilter;
    type Sort = AbsenceSort;
    const MODEL: &'static str = "DoctorAbsence";

    fn by_id(id: i64) -> Select<Self::Entity> {
        doctor_absence::Entity::find_by_id(id)
    }

    fn record(row: doctor_absence::Model) -> Result<AbsenceRecord, StoreError> {
        Ok(row.into())
    }

    fn select(filter: &AbsenceFilter, sort: AbsenceSort) -> Select<Self::Entity> {
        use doctor_absence::Column;
        let select = filter_eq(
            doctor_absence::Entity::find(),
            Column::DoctorId,
            filter.doctor_id,
        );
        let select = filter_eq(select, Column::Active, filter.active);
        let select = match filter.from {
            Some(from) => select.filter(Column::EndDate.gte(from)),
            None => select,
        };
        let select = filter_contains(select, Column::Reason, filter.q.as_ref());
        let select = match sort {
            AbsenceSort::Doctor => select.order_by_asc(Column::DoctorId),
            AbsenceSort::Date => select,
        };
        select
            .order_by_asc(Column::StartDate)
            .order_by_asc(Column::EndDate)
            .order_by_asc(Column::Id)
    }
}
