//! The practice's holiday calendar: its region (`praxi_practice_settings.holiday_region`) and
//! its per-date overrides (`praxi_holiday_override`). The holidays themselves are computed
//! from the year in `praxi_domain::scheduling::holidays`; the engine reads the resulting
//! closed days through `read_models::schedule`.

use chrono::{DateTime, NaiveDate, Utc};
use praxi_domain::scheduling::{DayOverride, HolidayRegion};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Order, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::audit::{AuditEntry, write_audit};
use crate::db::Store;
use crate::error::StoreError;
use crate::migration::m0014_scheduling_features::{HolidayOverride, PracticeSettings};

/// A stored override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayOverrideRecord {
    pub id: i64,
    pub date: NaiveDate,
    pub closed: bool,
    pub label: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl HolidayOverrideRecord {
    /// The engine's value.
    pub fn as_override(&self) -> DayOverride {
        DayOverride {
            date: self.date,
            closed: self.closed,
            label: self.label.clone(),
        }
    }
}

#[derive(FromQueryResult)]
struct OverrideRow {
    id: i64,
    date: NaiveDate,
    closed: bool,
    label: Option<String>,
    updated_at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct RegionRow {
    holiday_region: Option<String>,
}

/// Parses a stored region code; an unknown code (edited by hand) counts as none.
pub(crate) fn parse_region(code: Option<&str>) -> Option<HolidayRegion> {
    code.and_then(|c| c.parse().ok())
}

impl Store {
    /// The practice's holiday region (`None`: no holiday calendar).
    pub async fn holiday_region(&self) -> Result<Option<HolidayRegion>, StoreError> {
        let select = Query::select()
            .column(PracticeSettings::HolidayRegion)
            .from(PracticeSettings::Table)
            .and_where(Expr::col(PracticeSettings::Id).eq(1))
            .to_owned();
        let Some(row) = self.conn().query_one(&select).await? else {
            return Ok(None);
        };
        let row = RegionRow::from_query_result(&row, "")?;
        Ok(parse_region(row.holiday_region.as_deref()))
    }

    /// Sets the holiday region (audited in the same transaction).
    pub async fn set_holiday_region(
        &self,
        region: Option<HolidayRegion>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let tx = self.write().await?;
        let upsert = Query::insert()
            .into_table(PracticeSettings::Table)
            .columns([
                PracticeSettings::Id,
                PracticeSettings::HolidayRegion,
                PracticeSettings::UpdatedAt,
            ])
            .values_panic([1.into(), region.map(|r| r.code()).into(), now.into()])
            .on_conflict(
                OnConflict::column(PracticeSettings::Id)
                    .update_columns([PracticeSettings::HolidayRegion, PracticeSettings::UpdatedAt])
                    .to_owned(),
            )
            .to_owned();
        tx.execute(&upsert).await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await
    }

    /// Overrides of the dates `from..=to`, in date order.
    pub async fn holiday_overrides(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<HolidayOverrideRecord>, StoreError> {
        let select = Query::select()
            .columns([
                HolidayOverride::Id,
                HolidayOverride::Date,
                HolidayOverride::Closed,
                HolidayOverride::Label,
                HolidayOverride::UpdatedAt,
            ])
            .from(HolidayOverride::Table)
            .and_where(Expr::col(HolidayOverride::Date).gte(from))
            .and_where(Expr::col(HolidayOverride::Date).lte(to))
            .order_by(HolidayOverride::Date, Order::Asc)
            .to_owned();
        self.conn()
            .query_all(&select)
            .await?
            .iter()
            .map(|row| {
                let row = OverrideRow::from_query_result(row, "")?;
                Ok(HolidayOverrideRecord {
                    id: row.id,
                    date: row.date,
                    closed: row.closed,
                    label: row.label,
                    updated_at: row.updated_at,
                })
            })
            .collect()
    }

    /// Creates or replaces the override of one date (audited in the same transaction).
    pub async fn put_holiday_override(
        &self,
        value: &DayOverride,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let tx = self.write().await?;
        let upsert = Query::insert()
            .into_table(HolidayOverride::Table)
            .columns([
                HolidayOverride::Date,
                HolidayOverride::Closed,
                HolidayOverride::Label,
                HolidayOverride::CreatedAt,
                HolidayOverride::UpdatedAt,
            ])
            .values_panic([
                value.date.into(),
                value.closed.into(),
                value.label.clone().into(),
                now.into(),
                now.into(),
            ])
            .on_conflict(
                OnConflict::column(HolidayOverride::Date)
                    .update_columns([
                        HolidayOverride::Closed,
                        HolidayOverride::Label,
                        HolidayOverride::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .to_owned();
        tx.execute(&upsert).await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await
    }

    /// Deletes the override of one date; `false` when there was none (nothing written).
    pub async fn delete_holiday_override(
        &self,
        date: NaiveDate,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let tx = self.write().await?;
        let delete = Query::delete()
            .from_table(HolidayOverride::Table)
            .and_where(Expr::col(HolidayOverride::Date).eq(date))
            .to_owned();
        let deleted = tx.execute(&delete).await?.rows_affected() > 0;
        if deleted {
            write_audit(&*tx, audit).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
