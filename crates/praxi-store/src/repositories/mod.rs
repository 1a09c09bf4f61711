//! Repositories: one module per aggregate, speaking domain types. Every write runs in one
//! transaction (`Store::write`) together with its audit row; reads return one aggregate or a
//! page of it. Query style: sea-query statements built in code (`Query::insert/update/delete/
//! select`) executed on the transaction, rows read through `FromQueryResult` (a row struct, or
//! the table's SeaORM entity model for the plain configuration tables, through the helpers
//! below). No SeaORM entity finders or active models here.

pub mod absences;
pub mod appointments;
pub mod audit;
pub mod catalog;
pub mod feeds;
pub mod flow;
pub mod holds;
pub mod holidays;
pub mod hours;
pub mod login_throttle;
pub mod operations;
pub mod outbox;
pub mod patient_files;
pub mod patient_rights;
pub mod patients;
pub mod sessions;
pub mod tokens;
pub mod two_factor;
pub mod users;

use sea_orm::sea_query::{
    Expr, ExprTrait, InsertStatement, LockType, Query, SelectStatement, SimpleExpr, UpdateStatement,
};
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, Iterable, PrimaryKeyToColumn};

use crate::error::StoreError;

/// `SELECT <every column of E> FROM E`, to be narrowed with `and_where`/`order_by`.
pub(crate) fn select_rows<E: EntityTrait>() -> SelectStatement {
    Query::select()
        .columns(E::Column::iter().map(|column| (E::default(), column)))
        .from(E::default())
        .to_owned()
}

/// The primary-key column of `E` (the tables read through these helpers have one `id`).
fn id_column<E: EntityTrait>() -> E::Column {
    E::PrimaryKey::iter()
        .next()
        .map(PrimaryKeyToColumn::into_column)
        .unwrap_or_else(|| unreachable!("every entity has a primary key"))
}

/// `WHERE id = $id` of `E`.
pub(crate) fn id_is<E: EntityTrait>(id: i64) -> SimpleExpr {
    Expr::col((E::default(), id_column::<E>())).eq(id)
}

/// Whether a row read for a write is locked (`FOR UPDATE`) for the rest of the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowLock {
    None,
    ForUpdate,
}

/// The row `id` of `E` as its model (`None` when it does not exist).
pub(crate) async fn row_by_id<E, C>(
    conn: &C,
    id: i64,
    row_lock: RowLock,
) -> Result<Option<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut select = select_rows::<E>().and_where(id_is::<E>(id)).to_owned();
    if row_lock == RowLock::ForUpdate {
        select.lock(LockType::Update);
    }
    match conn.query_one(&select).await? {
        Some(row) => Ok(Some(E::Model::from_query_result(&row, "")?)),
        None => Ok(None),
    }
}

/// The rows of a [`select_rows`] statement as models.
pub(crate) async fn fetch_models<E, C>(
    conn: &C,
    select: &SelectStatement,
) -> Result<Vec<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    conn.query_all(select)
        .await?
        .iter()
        .map(|row| E::Model::from_query_result(row, "").map_err(StoreError::from))
        .collect()
}

/// Runs an `INSERT … RETURNING` or `UPDATE … RETURNING` of every column of `E` and reads the
/// written row (`None`: an update found no row).
pub(crate) async fn write_returning<E, C>(
    conn: &C,
    statement: Returning,
) -> Result<Option<E::Model>, sea_orm::DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let columns = E::Column::iter().map(|column| (E::default(), column));
    let row = match statement {
        Returning::Insert(mut insert) => {
            insert.returning(Query::returning().columns(columns));
            conn.query_one(&insert).await?
        }
        Returning::Update(mut update) => {
            update.returning(Query::returning().columns(columns));
            conn.query_one(&update).await?
        }
    };
    row.map(|row| E::Model::from_query_result(&row, ""))
        .transpose()
}

/// A write whose row [`write_returning`] reads back.
pub(crate) enum Returning {
    Insert(InsertStatement),
    Update(UpdateStatement),
}

/// `DELETE FROM E WHERE id = $id`; `NotFound(model)` when no row was deleted.
pub(crate) async fn delete_by_id<E, C>(
    conn: &C,
    id: i64,
    model: &'static str,
) -> Result<(), StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let delete = Query::delete()
        .from_table(E::default())
        .and_where(id_is::<E>(id))
        .to_owned();
    if conn.execute(&delete).await?.rows_affected() == 0 {
        return Err(StoreError::NotFound(model));
    }
    Ok(())
}

/// An `INSERT` of `E` read back as its model.
pub(crate) async fn inserted<E, C>(
    conn: &C,
    insert: sea_orm::sea_query::InsertStatement,
) -> Result<E::Model, StoreError>
where
    E: sea_orm::EntityTrait,
    C: ConnectionTrait,
{
    write_returning::<E, C>(conn, Returning::Insert(insert))
        .await?
        .ok_or_else(no_row)
}

/// An `UPDATE` of one row of `E` read back as its model; `NotFound(model)` without a row.
pub(crate) async fn updated<E, C>(
    conn: &C,
    update: sea_orm::sea_query::UpdateStatement,
    model: &'static str,
) -> Result<E::Model, StoreError>
where
    E: sea_orm::EntityTrait,
    C: ConnectionTrait,
{
    write_returning::<E, C>(conn, Returning::Update(update))
        .await?
        .ok_or(StoreError::NotFound(model))
}

pub(crate) fn no_row() -> StoreError {
    StoreError::Db("insert returned no row".to_owned())
}
