//! Catalogue master data: appointment types, operation types and resources
//! (data-model.md §5.1, §5.6, §5.9).
//!
//! Every write runs in one transaction with its audit row. Updates and deletes first lock the
//! row (`FOR UPDATE` on PostgreSQL; SQLite writes are serialised anyway), so a booking that is
//! being written concurrently either commits before the reference check sees it or waits and
//! then fails its own foreign-key check. A row that bookings still reference is never deleted
//! ([`StoreError::StillReferenced`]): the original cascaded operation-type and room deletes
//! into the operations (data-model.md §15 item 13). Deactivating is always possible.

use chrono::{DateTime, Utc};
use praxi_domain::ValidationError;
use praxi_domain::catalog::{
    AppointmentTypeFields, OperationTypeFields, ResourceFields, ResourceKind, check_kind_change,
};
use praxi_domain::scheduling::Buffers;
use sea_orm::sea_query::{
    Alias, DynIden, Expr, ExprTrait, IntoIden, LockType, Query, SelectStatement,
};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Order};

use crate::admin_lists::Window;
use crate::audit::{AuditEntry, write_audit};
use crate::db::Store;
use crate::error::{DbFailure, StoreError};
use crate::master_data::{AppointmentTypes, CatalogFilter, OperationTypes, Resources};
use crate::migration::idens::{
    Appointment, AppointmentResource, AppointmentType, Operation, OperationDevice, OperationType,
    Resource,
};
use crate::migration::m0014_scheduling_features::NewColumns;

/// Model names as the API reports them (`No <Model> matches…`, `<Model> is still referenced`).
const APPOINTMENT_TYPE: &str = "AppointmentType";
const OPERATION_TYPE: &str = "OperationType";
const RESOURCE: &str = "Resource";

/// A stored appointment type.
#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentTypeRecord {
    pub id: i64,
    pub fields: AppointmentTypeFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A stored operation type.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationTypeRecord {
    pub id: i64,
    pub fields: OperationTypeFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A stored resource (room or device).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRecord {
    pub id: i64,
    pub fields: ResourceFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct AppointmentTypeRow {
    id: i64,
    name: String,
    color: Option<String>,
    duration_minutes: Option<i32>,
    active: bool,
    buffer_before_minutes: i32,
    buffer_after_minutes: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<AppointmentTypeRow> for AppointmentTypeRecord {
    fn from(row: AppointmentTypeRow) -> Self {
        AppointmentTypeRecord {
            id: row.id,
            fields: AppointmentTypeFields {
                name: row.name,
                color: row.color,
                duration_minutes: row.duration_minutes,
                active: row.active,
                buffers: Buffers::from_minutes(
                    i64::from(row.buffer_before_minutes),
                    i64::from(row.buffer_after_minutes),
                ),
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct OperationTypeRow {
    id: i64,
    name: String,
    prep_duration: i32,
    op_duration: i32,
    post_duration: i32,
    color: String,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<OperationTypeRow> for OperationTypeRecord {
    fn from(row: OperationTypeRow) -> Self {
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
}

#[derive(Debug, FromQueryResult)]
struct ResourceRow {
    id: i64,
    name: String,
    /// The `type` column (aliased: `type` is a Rust keyword).
    kind: String,
    color: String,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ResourceRow> for ResourceRecord {
    type Error = StoreError;

    fn try_from(row: ResourceRow) -> Result<Self, StoreError> {
        let kind = ResourceKind::parse(&row.kind).ok_or_else(|| {
            StoreError::Db(format!(
                "resource {} has unknown type {:?}",
                row.id, row.kind
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
}

fn appointment_type_select() -> SelectStatement {
    Query::select()
        .columns([
            AppointmentType::Id,
            AppointmentType::Name,
            AppointmentType::Color,
            AppointmentType::DurationMinutes,
            AppointmentType::Active,
            AppointmentType::CreatedAt,
            AppointmentType::UpdatedAt,
        ])
        .columns([
            NewColumns::BufferBeforeMinutes,
            NewColumns::BufferAfterMinutes,
        ])
        .from(AppointmentType::Table)
        .order_by(AppointmentType::Name, Order::Asc)
        .order_by(AppointmentType::Id, Order::Asc)
        .to_owned()
}

fn operation_type_select() -> SelectStatement {
    Query::select()
        .columns([
            OperationType::Id,
            OperationType::Name,
            OperationType::PrepDuration,
            OperationType::OpDuration,
            OperationType::PostDuration,
            OperationType::Color,
            OperationType::Active,
            OperationType::CreatedAt,
            OperationType::UpdatedAt,
        ])
        .from(OperationType::Table)
        .order_by(OperationType::Name, Order::Asc)
        .order_by(OperationType::Id, Order::Asc)
        .to_owned()
}

fn resource_select() -> SelectStatement {
    Query::select()
        .columns([Resource::Id, Resource::Name])
        .expr_as(Expr::col(Resource::Type), Alias::new("kind"))
        .columns([
            Resource::Color,
            Resource::Active,
            Resource::CreatedAt,
            Resource::UpdatedAt,
        ])
        .from(Resource::Table)
        .order_by(Resource::Type, Order::Asc)
        .order_by(Resource::Name, Order::Asc)
        .order_by(Resource::Id, Order::Asc)
        .to_owned()
}

async fn fetch_rows<C, R>(conn: &C, select: &SelectStatement) -> Result<Vec<R>, StoreError>
where
    C: ConnectionTrait,
    R: FromQueryResult,
{
    conn.query_all(select)
        .await?
        .iter()
        .map(|row| R::from_query_result(row, "").map_err(StoreError::from))
        .collect()
}

async fn fetch_appointment_types<C: ConnectionTrait>(
    conn: &C,
    select: &SelectStatement,
) -> Result<Vec<AppointmentTypeRecord>, StoreError> {
    let rows: Vec<AppointmentTypeRow> = fetch_rows(conn, select).await?;
    Ok(rows.into_iter().map(AppointmentTypeRecord::from).collect())
}

async fn fetch_operation_types<C: ConnectionTrait>(
    conn: &C,
    select: &SelectStatement,
) -> Result<Vec<OperationTypeRecord>, StoreError> {
    let rows: Vec<OperationTypeRow> = fetch_rows(conn, select).await?;
    Ok(rows.into_iter().map(OperationTypeRecord::from).collect())
}

async fn fetch_resources<C: ConnectionTrait>(
    conn: &C,
    select: &SelectStatement,
) -> Result<Vec<ResourceRecord>, StoreError> {
    let rows: Vec<ResourceRow> = fetch_rows(conn, select).await?;
    rows.into_iter().map(ResourceRecord::try_from).collect()
}

/// `SELECT count(*) FROM table WHERE condition`.
async fn count<C, T>(conn: &C, table: T, condition: Option<Expr>) -> Result<u64, StoreError>
where
    C: ConnectionTrait,
    T: IntoIden,
{
    let mut select = Query::select()
        .expr(Expr::cust("count(*)"))
        .from(table)
        .to_owned();
    if let Some(condition) = condition {
        select.and_where(condition);
    }
    let n: i64 = match conn.query_one(&select).await? {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Locks one row for the rest of the transaction; `NotFound(model)` when it does not exist.
async fn lock_row<C, T, I>(
    conn: &C,
    table: T,
    id_column: I,
    id: i64,
    model: &'static str,
) -> Result<(), StoreError>
where
    C: ConnectionTrait,
    T: IntoIden,
    I: IntoIden + Clone,
{
    let select = Query::select()
        .column(id_column.clone())
        .from(table)
        .and_where(Expr::col(id_column).eq(id))
        .lock(LockType::Update)
        .to_owned();
    match conn.query_one(&select).await? {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound(model)),
    }
}

/// Deletes one row; a foreign-key refusal (the safety net behind the explicit reference
/// checks) becomes `StillReferenced`.
async fn delete_row<C, T, I>(
    conn: &C,
    table: T,
    id_column: I,
    id: i64,
    model: &'static str,
) -> Result<(), StoreError>
where
    C: ConnectionTrait,
    T: IntoIden,
    I: IntoIden,
{
    let delete = Query::delete()
        .from_table(table)
        .and_where(Expr::col(id_column).eq(id))
        .to_owned();
    match conn.execute(&delete).await {
        Ok(result) if result.rows_affected() == 0 => Err(StoreError::NotFound(model)),
        Ok(_) => Ok(()),
        Err(error) if is_foreign_key_violation(&error) => {
            Err(StoreError::StillReferenced(model.to_owned()))
        }
        Err(error) => Err(error.into()),
    }
}

/// `true` when the database refused a write because of a foreign key.
fn is_foreign_key_violation(error: &DbErr) -> bool {
    DbFailure::of(error) == DbFailure::ForeignKey
}

/// The id of a row inserted with `RETURNING id`.
async fn insert_returning_id<C: ConnectionTrait>(
    conn: &C,
    insert: &sea_orm::sea_query::InsertStatement,
) -> Result<i64, StoreError> {
    let row = conn
        .query_one(insert)
        .await?
        .ok_or_else(|| StoreError::Db("insert returned no id".to_owned()))?;
    Ok(row.try_get("", "id")?)
}

/// Bookings that use a resource: appointment links, operations in the room, operation devices.
/// A column whose value `id` means "this row uses catalogue row `id`": `(table, column)`.
type Reference = (DynIden, DynIden);

/// The columns that book a resource: appointments, operation rooms, operation devices.
fn resource_references() -> [Reference; 3] {
    [
        (
            AppointmentResource::Table.into_iden(),
            AppointmentResource::ResourceId.into_iden(),
        ),
        (
            Operation::Table.into_iden(),
            Operation::OpRoomId.into_iden(),
        ),
        (
            OperationDevice::Table.into_iden(),
            OperationDevice::ResourceId.into_iden(),
        ),
    ]
}

/// How many rows use catalogue row `id` through `references`.
async fn uses<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    references: &[Reference],
) -> Result<u64, StoreError> {
    let mut n_uses = 0;
    for (table, column) in references {
        n_uses += count(conn, table.clone(), Some(Expr::col(column.clone()).eq(id))).await?;
    }
    Ok(n_uses)
}

/// A catalogue table: `(table, id column, model name)`.
type CatalogTable = (DynIden, DynIden, &'static str);

impl Store {
    /// Deletes a catalogue row no other row uses through `references`, with its audit row, in
    /// one transaction (row locked first). A used row is refused with `StillReferenced`.
    async fn delete_unused(
        &self,
        (table, id_column, model): CatalogTable,
        id: i64,
        references: &[Reference],
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let tx = self.write().await?;
        lock_row(&*tx, table.clone(), id_column.clone(), id, model).await?;
        if uses(&*tx, id, references).await? > 0 {
            return Err(StoreError::StillReferenced(model.to_owned()));
        }
        delete_row(&*tx, table, id_column, id, model).await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await
    }
}

impl Store {
    // ---- appointment types -------------------------------------------------------------

    /// One page of appointment types in list order (name, id); `active` = only active or
    /// inactive ones.
    pub async fn list_appointment_types(
        &self,
        active: Option<bool>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<AppointmentTypeRecord>, StoreError> {
        let filter = CatalogFilter {
            active,
            ..CatalogFilter::default()
        };
        self.master_rows::<AppointmentTypes>(&filter, Default::default(), Window { offset, limit })
            .await
    }

    pub async fn appointment_type(
        &self,
        id: i64,
    ) -> Result<Option<AppointmentTypeRecord>, StoreError> {
        self.master_row::<AppointmentTypes>(id).await
    }

    /// Creates an appointment type and audits it (the entry gets the new id).
    pub async fn create_appointment_type(
        &self,
        fields: AppointmentTypeFields,
        now: DateTime<Utc>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<AppointmentTypeRecord, StoreError> {
        let tx = self.write().await?;
        let insert = Query::insert()
            .into_table(AppointmentType::Table)
            .columns([
                AppointmentType::Name.into_iden(),
                AppointmentType::Color.into_iden(),
                AppointmentType::DurationMinutes.into_iden(),
                AppointmentType::Active.into_iden(),
                AppointmentType::CreatedAt.into_iden(),
                AppointmentType::UpdatedAt.into_iden(),
                NewColumns::BufferBeforeMinutes.into_iden(),
                NewColumns::BufferAfterMinutes.into_iden(),
            ])
            .values_panic([
                fields.name.clone().into(),
                fields.color.clone().into(),
                fields.duration_minutes.into(),
                fields.active.into(),
                now.into(),
                now.into(),
                i32::from(fields.buffers.before_minutes).into(),
                i32::from(fields.buffers.after_minutes).into(),
            ])
            .returning_col(AppointmentType::Id)
            .to_owned();
        let id = insert_returning_id(&*tx, &insert).await?;
        write_audit(&*tx, &audit(id)).await?;
        tx.commit().await?;
        Ok(AppointmentTypeRecord {
            id,
            fields,
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies `change` to the stored appointment type and audits the update, in one
    /// transaction. `change` sees the row as it is inside the transaction, so concurrent
    /// partial updates never overwrite each other's fields.
    pub async fn update_appointment_type(
        &self,
        id: i64,
        change: impl FnOnce(AppointmentTypeFields) -> Result<AppointmentTypeFields, ValidationError>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<AppointmentTypeRecord, StoreError> {
        let tx = self.write().await?;
        lock_row(
            &*tx,
            AppointmentType::Table,
            AppointmentType::Id,
            id,
            APPOINTMENT_TYPE,
        )
        .await?;
        let select = appointment_type_select()
            .and_where(Expr::col(AppointmentType::Id).eq(id))
            .to_owned();
        let current = fetch_appointment_types(&*tx, &select)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound(APPOINTMENT_TYPE))?;
        let fields = change(current.fields)?;
        let update = Query::update()
            .table(AppointmentType::Table)
            .values([
                (AppointmentType::Name, fields.name.clone().into()),
                (AppointmentType::Color, fields.color.clone().into()),
                (
                    AppointmentType::DurationMinutes,
                    fields.duration_minutes.into(),
                ),
                (AppointmentType::Active, fields.active.into()),
                (AppointmentType::UpdatedAt, now.into()),
            ])
            .value(
                NewColumns::BufferBeforeMinutes,
                i32::from(fields.buffers.before_minutes),
            )
            .value(
                NewColumns::BufferAfterMinutes,
                i32::from(fields.buffers.after_minutes),
            )
            .and_where(Expr::col(AppointmentType::Id).eq(id))
            .to_owned();
        tx.execute(&update).await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await?;
        Ok(AppointmentTypeRecord {
            id,
            fields,
            created_at: current.created_at,
            updated_at: now,
        })
    }

    /// Deletes an appointment type no appointment uses, and audits it. A used type is refused
    /// with `StillReferenced` (the schema's SET NULL would silently strip the type from past
    /// appointments).
    pub async fn delete_appointment_type(
        &self,
        id: i64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let table = (
            AppointmentType::Table.into_iden(),
            AppointmentType::Id.into_iden(),
            APPOINTMENT_TYPE,
        );
        let references = [(
            Appointment::Table.into_iden(),
            Appointment::TypeId.into_iden(),
        )];
        self.delete_unused(table, id, &references, audit).await
    }

    // ---- operation types ---------------------------------------------------------------

    pub async fn operation_type(&self, id: i64) -> Result<Option<OperationTypeRecord>, StoreError> {
        self.master_row::<OperationTypes>(id).await
    }

    /// Creates an operation type and audits it (the entry gets the new id).
    pub async fn create_operation_type(
        &self,
        fields: OperationTypeFields,
        now: DateTime<Utc>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<OperationTypeRecord, StoreError> {
        let tx = self.write().await?;
        let insert = Query::insert()
            .into_table(OperationType::Table)
            .columns([
                OperationType::Name,
                OperationType::PrepDuration,
                OperationType::OpDuration,
                OperationType::PostDuration,
                OperationType::Color,
                OperationType::Active,
                OperationType::CreatedAt,
                OperationType::UpdatedAt,
            ])
            .values_panic([
                fields.name.clone().into(),
                fields.prep_duration.into(),
                fields.op_duration.into(),
                fields.post_duration.into(),
                fields.color.clone().into(),
                fields.active.into(),
                now.into(),
                now.into(),
            ])
            .returning_col(OperationType::Id)
            .to_owned();
        let id = insert_returning_id(&*tx, &insert).await?;
        write_audit(&*tx, &audit(id)).await?;
        tx.commit().await?;
        Ok(OperationTypeRecord {
            id,
            fields,
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies `change` to the stored operation type and audits the update, in one
    /// transaction. Operations keep the durations they were planned with (they store a
    /// snapshot).
    pub async fn update_operation_type(
        &self,
        id: i64,
        change: impl FnOnce(OperationTypeFields) -> Result<OperationTypeFields, ValidationError>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<OperationTypeRecord, StoreError> {
        let tx = self.write().await?;
        lock_row(
            &*tx,
            OperationType::Table,
            OperationType::Id,
            id,
            OPERATION_TYPE,
        )
        .await?;
        let select = operation_type_select()
            .and_where(Expr::col(OperationType::Id).eq(id))
            .to_owned();
        let current = fetch_operation_types(&*tx, &select)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound(OPERATION_TYPE))?;
        let fields = change(current.fields)?;
        let update = Query::update()
            .table(OperationType::Table)
            .values([
                (OperationType::Name, fields.name.clone().into()),
                (OperationType::PrepDuration, fields.prep_duration.into()),
                (OperationType::OpDuration, fields.op_duration.into()),
                (OperationType::PostDuration, fields.post_duration.into()),
                (OperationType::Color, fields.color.clone().into()),
                (OperationType::Active, fields.active.into()),
                (OperationType::UpdatedAt, now.into()),
            ])
            .and_where(Expr::col(OperationType::Id).eq(id))
            .to_owned();
        tx.execute(&update).await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await?;
        Ok(OperationTypeRecord {
            id,
            fields,
            created_at: current.created_at,
            updated_at: now,
        })
    }

    /// Deletes an operation type no operation uses, and audits it; a used type is refused
    /// with `StillReferenced` (the original deleted its operations with it).
    pub async fn delete_operation_type(
        &self,
        id: i64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let table = (
            OperationType::Table.into_iden(),
            OperationType::Id.into_iden(),
            OPERATION_TYPE,
        );
        let references = [(
            Operation::Table.into_iden(),
            Operation::OpTypeId.into_iden(),
        )];
        self.delete_unused(table, id, &references, audit).await
    }

    // ---- resources ---------------------------------------------------------------------

    /// How many **active** resources there are, optionally of one exact `type`.
    pub async fn count_active_resources(&self, kind: Option<&str>) -> Result<u64, StoreError> {
        let filter = CatalogFilter {
            active: Some(true),
            kind: kind.map(str::to_owned),
            ..CatalogFilter::default()
        };
        self.master_count::<Resources>(&filter).await
    }

    /// A resource by id, active or not.
    pub async fn resource(&self, id: i64) -> Result<Option<ResourceRecord>, StoreError> {
        self.master_row::<Resources>(id).await
    }

    /// Creates a resource and audits it (the entry gets the new id).
    pub async fn create_resource(
        &self,
        fields: ResourceFields,
        now: DateTime<Utc>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<ResourceRecord, StoreError> {
        let tx = self.write().await?;
        let insert = Query::insert()
            .into_table(Resource::Table)
            .columns([
                Resource::Name,
                Resource::Type,
                Resource::Color,
                Resource::Active,
                Resource::CreatedAt,
                Resource::UpdatedAt,
            ])
            .values_panic([
                fields.name.clone().into(),
                fields.kind.as_str().into(),
                fields.color.clone().into(),
                fields.active.into(),
                now.into(),
                now.into(),
            ])
            .returning_col(Resource::Id)
            .to_owned();
        let id = insert_returning_id(&*tx, &insert).await?;
        write_audit(&*tx, &audit(id)).await?;
        tx.commit().await?;
        Ok(ResourceRecord {
            id,
            fields,
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies `change` to the stored resource and audits the update, in one transaction.
    /// The `type` may only change while no booking uses the resource.
    pub async fn update_resource(
        &self,
        id: i64,
        change: impl FnOnce(ResourceFields) -> Result<ResourceFields, ValidationError>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<ResourceRecord, StoreError> {
        let tx = self.write().await?;
        lock_row(&*tx, Resource::Table, Resource::Id, id, RESOURCE).await?;
        let select = resource_select()
            .and_where(Expr::col(Resource::Id).eq(id))
            .to_owned();
        let current = fetch_resources(&*tx, &select)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound(RESOURCE))?;
        let current_kind = current.fields.kind;
        let fields = change(current.fields)?;
        if fields.kind != current_kind {
            let n_bookings = uses(&*tx, id, &resource_references()).await?;
            check_kind_change(current_kind, fields.kind, n_bookings)?;
        }
        let update = Query::update()
            .table(Resource::Table)
            .values([
                (Resource::Name, fields.name.clone().into()),
                (Resource::Type, fields.kind.as_str().into()),
                (Resource::Color, fields.color.clone().into()),
                (Resource::Active, fields.active.into()),
                (Resource::UpdatedAt, now.into()),
            ])
            .and_where(Expr::col(Resource::Id).eq(id))
            .to_owned();
        if let Err(error) = tx.execute(&update).await {
            // Safety net behind the check above: the composite (id, type) foreign keys of
            // operations and operation devices refuse a type change too.
            if fields.kind != current_kind && is_foreign_key_violation(&error) {
                check_kind_change(current_kind, fields.kind, 1)?;
            }
            return Err(error.into());
        }
        write_audit(&*tx, audit).await?;
        tx.commit().await?;
        Ok(ResourceRecord {
            id,
            fields,
            created_at: current.created_at,
            updated_at: now,
        })
    }

    /// Deletes a resource no booking uses (appointment, operation room or device), and audits
    /// it; a used resource is refused with `StillReferenced` (the original deleted the
    /// operations in a deleted room).
    pub async fn delete_resource(&self, id: i64, audit: &AuditEntry) -> Result<(), StoreError> {
        let table = (
            Resource::Table.into_iden(),
            Resource::Id.into_iden(),
            RESOURCE,
        );
        self.delete_unused(table, id, &resource_references(), audit)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Database errors are classified by code (`DbFailure::of`), never by the text of the
    /// driver's message: a bare message, even one naming a foreign key, is not a foreign-key
    /// violation. (The SQLSTATE/SQLite-code paths are exercised by the API tests on both
    /// backends, e.g. deleting a referenced row answers 409.)
    #[test]
    fn foreign_key_refusals_are_not_recognised_by_message_text() {
        for text in [
            "error returned from database: FOREIGN KEY constraint failed",
            "update or delete on table \"appointments_resource\" violates foreign key \
             constraint \"appointments_operation_op_room_fkey\"",
            "UNIQUE constraint failed: patients.id",
        ] {
            let error = DbErr::Custom(text.to_owned());
            assert!(!is_foreign_key_violation(&error), "{text}");
        }
    }
}
