//! iCal feeds (`calendar_feeds`): secret URLs that publish the busy times of one doctor or one
//! room. The table stores only a BLAKE2b hash of each secret, so a leaked table opens no feed.
//! Revoking keeps the row (who created it, when it ended) and closes the URL at once.
//!
//! The events a feed shows carry ids, times and, when the practice turns it on, the type name;
//! never a patient.

use std::collections::{BTreeSet, HashMap};

use blake2::{Blake2b512, Digest};
use chrono::{DateTime, Utc};
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::hours::DoctorCandidate;
use praxi_domain::operation::OperationStatus;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, FromQueryResult};

use crate::audit::{AuditEntry, write_audit};
use crate::db::Store;
use crate::entity::{
    appointment, appointment_resource, appointment_type, operation, operation_type,
};
use crate::error::StoreError;
use crate::hours::doctor_candidate;
use crate::migration::m0009_calendar_feeds::CalendarFeeds;
use crate::repositories::{RowLock, fetch_models, row_by_id, select_rows};

/// Whose busy times a feed publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    Doctor,
    Room,
}

impl FeedKind {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Doctor => "doctor",
            FeedKind::Room => "room",
        }
    }

    /// Parses the exact wire name (`doctor`, `room`).
    pub fn parse(text: &str) -> Option<FeedKind> {
        match text {
            "doctor" => Some(FeedKind::Doctor),
            "room" => Some(FeedKind::Room),
            _ => None,
        }
    }
}

/// A stored feed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarFeed {
    pub id: i64,
    pub kind: FeedKind,
    pub target_id: i64,
    /// Show the appointment or operation type name instead of "busy".
    pub include_type: bool,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, FromQueryResult)]
struct FeedRow {
    id: i64,
    kind: String,
    target_id: i64,
    include_type: bool,
    created_by: Option<i64>,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl FeedRow {
    fn into_feed(self) -> Result<CalendarFeed, StoreError> {
        Ok(CalendarFeed {
            id: self.id,
            kind: FeedKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Db(format!("unknown feed kind {:?}", self.kind)))?,
            target_id: self.target_id,
            include_type: self.include_type,
            created_by: self.created_by,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        })
    }
}

/// A feed to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeed {
    pub kind: FeedKind,
    pub target_id: i64,
    pub include_type: bool,
}

/// What a feed entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedEventKind {
    Appointment,
    Operation,
}

/// One busy block of a feed: ids and times, the type name only when the feed includes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    pub kind: FeedEventKind,
    pub id: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `None` unless the feed has `include_type` (or the booking has no type).
    pub type_name: Option<String>,
    /// The last change of the booking (the event's `DTSTAMP`).
    pub updated_at: DateTime<Utc>,
}

/// The hash under which a feed secret is stored (hex BLAKE2b-512).
pub fn hash_feed_token(token: &str) -> String {
    Blake2b512::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn select_feeds() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .columns([
            CalendarFeeds::Id,
            CalendarFeeds::Kind,
            CalendarFeeds::TargetId,
            CalendarFeeds::IncludeType,
            CalendarFeeds::CreatedBy,
            CalendarFeeds::CreatedAt,
            CalendarFeeds::RevokedAt,
        ])
        .from(CalendarFeeds::Table)
        .to_owned()
}

async fn load_feeds<C: ConnectionTrait>(
    conn: &C,
    select: &sea_orm::sea_query::SelectStatement,
) -> Result<Vec<CalendarFeed>, StoreError> {
    conn.query_all(select)
        .await?
        .iter()
        .map(|row| FeedRow::from_query_result(row, "")?.into_feed())
        .collect()
}

impl Store {
    /// Creates a feed for an active doctor or a room; `token_hash` comes from
    /// [`hash_feed_token`]. The audit row is written in the same transaction.
    pub async fn create_calendar_feed(
        &self,
        feed: &NewFeed,
        token_hash: &str,
        created_by: Option<i64>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<CalendarFeed, StoreError> {
        let tx = self.write().await?;
        match feed.kind {
            FeedKind::Doctor => {
                let is_doctor = matches!(
                    doctor_candidate(&*tx, feed.target_id).await?,
                    DoctorCandidate::User {
                        is_active: true,
                        is_doctor: true
                    }
                );
                if !is_doctor {
                    return Err(StoreError::field(
                        "target_id",
                        format!("Invalid pk \"{}\" - no active doctor.", feed.target_id),
                    ));
                }
            }
            FeedKind::Room => {
                let room = row_by_id::<crate::entity::resource::Entity, _>(
                    &*tx,
                    feed.target_id,
                    RowLock::None,
                )
                .await?;
                if room.is_none_or(|room| room.r#type != "room") {
                    return Err(StoreError::field(
                        "target_id",
                        format!("Invalid pk \"{}\" - no room.", feed.target_id),
                    ));
                }
            }
        }
        let insert = Query::insert()
            .into_table(CalendarFeeds::Table)
            .columns([
                CalendarFeeds::Kind,
                CalendarFeeds::TargetId,
                CalendarFeeds::TokenHash,
                CalendarFeeds::IncludeType,
                CalendarFeeds::CreatedBy,
                CalendarFeeds::CreatedAt,
            ])
            .values_panic([
                feed.kind.as_str().into(),
                feed.target_id.into(),
                token_hash.into(),
                feed.include_type.into(),
                created_by.into(),
                Utc::now().into(),
            ])
            .returning_col(CalendarFeeds::Id)
            .to_owned();
        let row = tx
            .query_one(&insert)
            .await?
            .ok_or_else(|| StoreError::Db("insert returned no id".to_owned()))?;
        let id: i64 = row.try_get("", "id")?;
        write_audit(&*tx, &audit(id)).await?;
        let created = load_feeds(
            &*tx,
            select_feeds().and_where(Expr::col(CalendarFeeds::Id).eq(id)),
        )
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound("calendar feed"))?;
        tx.commit().await?;
        Ok(created)
    }

    /// Every feed, newest first (revoked ones too).
    pub async fn calendar_feeds(&self) -> Result<Vec<CalendarFeed>, StoreError> {
        load_feeds(
            self.conn(),
            select_feeds().order_by(CalendarFeeds::Id, sea_orm::Order::Desc),
        )
        .await
    }

    /// Revokes a feed (idempotent: a revoked feed keeps its first revocation time).
    pub async fn revoke_calendar_feed(
        &self,
        id: i64,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<CalendarFeed, StoreError> {
        let tx = self.write().await?;
        let update = Query::update()
            .table(CalendarFeeds::Table)
            .value(CalendarFeeds::RevokedAt, now)
            .and_where(Expr::col(CalendarFeeds::Id).eq(id))
            .and_where(Expr::col(CalendarFeeds::RevokedAt).is_null())
            .to_owned();
        tx.execute(&update).await?;
        let feed = load_feeds(
            &*tx,
            select_feeds().and_where(Expr::col(CalendarFeeds::Id).eq(id)),
        )
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound("calendar feed"))?;
        write_audit(&*tx, audit).await?;
        tx.commit().await?;
        Ok(feed)
    }

    /// The live (not revoked) feed with this secret hash.
    pub async fn active_calendar_feed(
        &self,
        token_hash: &str,
    ) -> Result<Option<CalendarFeed>, StoreError> {
        Ok(load_feeds(
            self.conn(),
            select_feeds()
                .and_where(Expr::col(CalendarFeeds::TokenHash).eq(token_hash))
                .and_where(Expr::col(CalendarFeeds::RevokedAt).is_null()),
        )
        .await?
        .into_iter()
        .next())
    }

    /// The feed's non-cancelled bookings overlapping `[from, to)`, by start time. A doctor's
    /// feed shows their appointments and the operations whose team they are on; a room's the
    /// operations in it and the appointments that use it. Four statements at most.
    pub async fn calendar_feed_events(
        &self,
        feed: &CalendarFeed,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let target = feed.target_id;
        let appointment_scope = match feed.kind {
            FeedKind::Doctor => Condition::all().add(appointment::Column::DoctorId.eq(target)),
            FeedKind::Room => Condition::all().add(
                appointment::Column::Id.in_subquery(
                    Query::select()
                        .column(appointment_resource::Column::AppointmentId)
                        .from(appointment_resource::Entity)
                        .and_where(appointment_resource::Column::ResourceId.eq(target))
                        .to_owned(),
                ),
            ),
        };
        let operation_scope = match feed.kind {
            FeedKind::Doctor => Condition::any()
                .add(operation::Column::PrimarySurgeonId.eq(target))
                .add(operation::Column::AssistantId.eq(target))
                .add(operation::Column::AnesthesistId.eq(target)),
            FeedKind::Room => Condition::all().add(operation::Column::OpRoomId.eq(target)),
        };
        let appointments = fetch_models::<appointment::Entity, _>(
            self.conn(),
            &select_rows::<appointment::Entity>()
                .cond_where(appointment_scope)
                .and_where(appointment::Column::Status.ne(AppointmentStatus::Cancelled.as_str()))
                .and_where(appointment::Column::StartTime.lt(to))
                .and_where(appointment::Column::EndTime.gt(from))
                .to_owned(),
        )
        .await?;
        let operations = fetch_models::<operation::Entity, _>(
            self.conn(),
            &select_rows::<operation::Entity>()
                .cond_where(operation_scope)
                .and_where(operation::Column::Status.ne(OperationStatus::Cancelled.as_str()))
                .and_where(operation::Column::StartTime.lt(to))
                .and_where(operation::Column::EndTime.gt(from))
                .to_owned(),
        )
        .await?;
        let (mut appointment_types, mut operation_types) = (HashMap::new(), HashMap::new());
        if feed.include_type {
            let ids: BTreeSet<i64> = appointments.iter().filter_map(|row| row.type_id).collect();
            if !ids.is_empty() {
                let select = select_rows::<appointment_type::Entity>()
                    .and_where(appointment_type::Column::Id.is_in(ids))
                    .to_owned();
                appointment_types =
                    fetch_models::<appointment_type::Entity, _>(self.conn(), &select)
                        .await?
                        .into_iter()
                        .map(|row| (row.id, row.name))
                        .collect();
            }
            let ids: BTreeSet<i64> = operations.iter().map(|row| row.op_type_id).collect();
            if !ids.is_empty() {
                let select = select_rows::<operation_type::Entity>()
                    .and_where(operation_type::Column::Id.is_in(ids))
                    .to_owned();
                operation_types = fetch_models::<operation_type::Entity, _>(self.conn(), &select)
                    .await?
                    .into_iter()
                    .map(|row| (row.id, row.name))
                    .collect();
            }
        }
        let mut events: Vec<FeedEvent> = appointments
            .into_iter()
            .map(|row| FeedEvent {
                kind: FeedEventKind::Appointment,
                id: i64::from(row.id),
                start: row.start_time,
                end: row.end_time,
                type_name: row
                    .type_id
                    .and_then(|id| appointment_types.get(&id).cloned()),
                updated_at: row.updated_at,
            })
            .chain(operations.into_iter().map(|row| FeedEvent {
                kind: FeedEventKind::Operation,
                id: row.id,
                start: row.start_time,
                end: row.end_time,
                type_name: operation_types.get(&row.op_type_id).cloned(),
                updated_at: row.updated_at,
            }))
            .collect();
        events.sort_by_key(|event| (event.start, event.id));
        Ok(events)
    }
}
