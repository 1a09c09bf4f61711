//! The OP board: the OP dashboard and the OP timeline (api.md §3.9, §3.10, scheduling.md §6.1,
//! §6.2). Which operations each view shows, read with a fixed number of set-based statements
//! through [`crate::operations`] (two per selection, whatever the number of rows), and the pure
//! rules the views share: the progress of a running operation and the grouping by OP room.
//!
//! Status changes are not made here: the dashboard's status endpoint uses
//! [`Store::set_operation_status`], the one status-only write path of the operations module.
//!
//! Selections (PZ = practice zone):
//!
//! | view | operations |
//! |---|---|
//! | dashboard day | overlapping the local day, any status |
//! | dashboard live | `running` with `start_time <= now` (an overrunning operation stays until it is set done) |
//! | timeline day | overlapping the local day, any status (an operation 23:30–00:30 is on both days; the original showed it on its start day only, W16) |
//! | timeline live | `running` whatever its start, plus `confirmed` with `start_time >= now − 30 min` |
//!
//! The live timeline of the original kept only operations starting within the last 30 minutes,
//! so a running operation vanished 31 minutes after its start (weak point W16); here a running
//! operation stays until it is set done, like on the live dashboard.

use chrono::{DateTime, TimeDelta, Utc};
use praxi_domain::operation::OperationStatus;
use praxi_domain::scheduling::Interval;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, FromQueryResult, Order};

use crate::appointments::ResourceInfo;
use crate::db::Store;
use crate::error::StoreError;
use crate::migration::idens::Resource;
use crate::operations::{OperationFilter, OperationRecord, read_operations};

/// How far back the live timeline reaches for `confirmed` operations (the original's window).
pub const LIVE_CONFIRMED_WINDOW: TimeDelta = TimeDelta::minutes(30);

/// Which operations a board view shows (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardView {
    /// `GET op-dashboard/?date=`: any status, overlapping the local day.
    DashboardDay(Interval),
    /// `GET op-dashboard/live/`: `running` and already started.
    DashboardLive {
        /// The current instant.
        now: DateTime<Utc>,
    },
    /// `GET op-timeline/?date=` and `…/rooms/?date=`: any status, overlapping the day.
    TimelineDay(Interval),
    /// `GET op-timeline/live/`: `running` (any start) and recently started or upcoming
    /// `confirmed` operations.
    TimelineLive {
        /// The current instant.
        now: DateTime<Utc>,
    },
}

/// One OP room with its operations, as the timeline shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomOperations {
    /// The room.
    pub room: ResourceInfo,
    /// Its operations in `start_time, id` order.
    pub operations: Vec<OperationRecord>,
}

/// `clamp((now − start) / (end − start), 0, 1)` for a `running` operation; `0.0` for every
/// other status and for an operation without a positive duration (api.md §3.0 OpDashboardItem).
pub fn progress(
    status: OperationStatus,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> f64 {
    if status != OperationStatus::Running {
        return 0.0;
    }
    let total = (end_time - start_time).as_seconds_f64();
    if total <= 0.0 {
        return 0.0;
    }
    ((now - start_time).as_seconds_f64() / total).clamp(0.0, 1.0)
}

/// `start_time, id`: the order of every board list.
fn sort_operations(records: &mut [OperationRecord]) {
    records.sort_by_key(|record| (record.start_time, record.id));
}

/// `name, id`: the order of rooms. Compared in Rust (byte order), so both database backends
/// answer in the same order whatever their collation.
fn sort_rooms(groups: &mut [RoomOperations]) {
    groups
        .sort_by(|a, b| (a.room.name.as_str(), a.room.id).cmp(&(b.room.name.as_str(), b.room.id)));
}

/// Groups operations by their room: only rooms holding operations, ordered by room `name, id`;
/// the operations of a room by `start_time, id`.
pub fn group_by_room(records: Vec<OperationRecord>) -> Vec<RoomOperations> {
    let mut groups: Vec<RoomOperations> = Vec::new();
    for record in records {
        match groups
            .iter_mut()
            .find(|group| group.room.id == record.room.id)
        {
            Some(group) => group.operations.push(record),
            None => groups.push(RoomOperations {
                room: record.room.clone(),
                operations: vec![record],
            }),
        }
    }
    for group in &mut groups {
        sort_operations(&mut group.operations);
    }
    sort_rooms(&mut groups);
    groups
}

/// Every room of `rooms` (ordered by `name, id`) with its operations (possibly none);
/// operations in a room that is not listed (an inactive room) are dropped.
pub fn rooms_with_operations(
    rooms: Vec<ResourceInfo>,
    records: Vec<OperationRecord>,
) -> Vec<RoomOperations> {
    let mut groups: Vec<RoomOperations> = rooms
        .into_iter()
        .map(|room| RoomOperations {
            room,
            operations: Vec::new(),
        })
        .collect();
    for record in records {
        if let Some(group) = groups
            .iter_mut()
            .find(|group| group.room.id == record.room.id)
        {
            group.operations.push(record);
        }
    }
    for group in &mut groups {
        sort_operations(&mut group.operations);
    }
    sort_rooms(&mut groups);
    groups
}

/// The operations of a board view in `start_time, id` order; `team_member` restricts them to
/// operations in which that user holds any team role (a doctor's view). Two statements per
/// selection (rows, then their devices), four for the live timeline; none of them depends on
/// the number of rows.
pub async fn read_board<C: ConnectionTrait>(
    conn: &C,
    view: BoardView,
    team_member: Option<i64>,
) -> Result<Vec<OperationRecord>, StoreError> {
    let base = OperationFilter {
        team_member,
        ..Default::default()
    };
    let mut records = match view {
        BoardView::DashboardDay(day) => {
            let filter = OperationFilter {
                period: Some(day),
                ..base
            };
            read_operations(conn, &filter).await?
        }
        BoardView::DashboardLive { now } => {
            let filter = OperationFilter {
                statuses: vec![OperationStatus::Running],
                ..base
            };
            let mut records = read_operations(conn, &filter).await?;
            records.retain(|record| record.start_time <= now);
            records
        }
        BoardView::TimelineDay(day) => {
            // Overlap, like the dashboard (W16): an operation across midnight is on both days.
            let filter = OperationFilter {
                period: Some(day),
                ..base
            };
            read_operations(conn, &filter).await?
        }
        BoardView::TimelineLive { now } => {
            let running = OperationFilter {
                statuses: vec![OperationStatus::Running],
                ..base.clone()
            };
            let since = now - LIVE_CONFIRMED_WINDOW;
            // `end > since` in SQL is implied by `start >= since` (operations have a positive
            // duration) and bounds the rows read to current and future ones.
            let confirmed = OperationFilter {
                statuses: vec![OperationStatus::Confirmed],
                ends_after: Some(since),
                ..base
            };
            let mut records = read_operations(conn, &running).await?;
            let mut upcoming = read_operations(conn, &confirmed).await?;
            upcoming.retain(|record| record.start_time >= since);
            records.append(&mut upcoming);
            records
        }
    };
    sort_operations(&mut records);
    Ok(records)
}

/// Every active OP room (type `room`), ordered by `name, id` (one statement).
pub async fn read_active_rooms<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<ResourceInfo>, StoreError> {
    let select = Query::select()
        .columns([
            Resource::Id,
            Resource::Name,
            Resource::Type,
            Resource::Color,
            Resource::Active,
            Resource::CreatedAt,
            Resource::UpdatedAt,
        ])
        .from(Resource::Table)
        .and_where(Expr::col(Resource::Type).eq("room"))
        .and_where(Expr::col(Resource::Active).eq(true))
        .order_by(Resource::Name, Order::Asc)
        .order_by(Resource::Id, Order::Asc)
        .to_owned();
    conn.query_all(&select)
        .await?
        .iter()
        .map(|row| ResourceInfo::from_query_result(row, "").map_err(StoreError::from))
        .collect()
}

/// The timeline's rooms view of one local day: every active room with the operations starting
/// that day (three statements).
pub async fn read_timeline_rooms<C: ConnectionTrait>(
    conn: &C,
    day: Interval,
    team_member: Option<i64>,
) -> Result<Vec<RoomOperations>, StoreError> {
    let rooms = read_active_rooms(conn).await?;
    let records = read_board(conn, BoardView::TimelineDay(day), team_member).await?;
    Ok(rooms_with_operations(rooms, records))
}

impl Store {
    /// The operations of a board view (see [`read_board`]).
    pub async fn op_board(
        &self,
        view: BoardView,
        team_member: Option<i64>,
    ) -> Result<Vec<OperationRecord>, StoreError> {
        read_board(self.conn(), view, team_member).await
    }

    /// The timeline's rooms view (see [`read_timeline_rooms`]).
    pub async fn op_timeline_rooms(
        &self,
        day: Interval,
        team_member: Option<i64>,
    ) -> Result<Vec<RoomOperations>, StoreError> {
        read_timeline_rooms(self.conn(), day, team_member).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use praxi_domain::operation::{Durations, OperationStatus::*};

    use super::*;
    use crate::operations::{OperationTypeInfo, TeamMember};

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 14, h, m, 0).unwrap()
    }

    #[test]
    fn progress_is_the_clamped_share_of_a_running_operation() {
        // Every case: an operation from `start` to `end`, asked at `now`.
        let cases = [
            // (10:00–11:00) at 10:30: 30 / 60 = 0.5
            (Running, t(10, 0), t(11, 0), t(10, 30), 0.5),
            // 10:00–10:50 at 10:10: 10 / 50 = 0.2
            (Running, t(10, 0), t(10, 50), t(10, 10), 0.2),
            // at the start: 0 / 60 = 0.0; at the end: 60 / 60 = 1.0
            (Running, t(10, 0), t(11, 0), t(10, 0), 0.0),
            (Running, t(10, 0), t(11, 0), t(11, 0), 1.0),
            // overrun: 120 / 60 = 2.0 → clamped to 1.0
            (Running, t(10, 0), t(11, 0), t(12, 0), 1.0),
            // before its start (a start moved later): −30 / 60 → clamped to 0.0
            (Running, t(10, 0), t(11, 0), t(9, 30), 0.0),
            // no positive duration
            (Running, t(10, 0), t(10, 0), t(10, 30), 0.0),
            (Running, t(11, 0), t(10, 0), t(10, 30), 0.0),
            // every other status reports 0.0, whatever the time
            (Planned, t(10, 0), t(11, 0), t(10, 30), 0.0),
            (Confirmed, t(10, 0), t(11, 0), t(10, 30), 0.0),
            (Done, t(10, 0), t(11, 0), t(10, 30), 0.0),
            (Cancelled, t(10, 0), t(11, 0), t(12, 0), 0.0),
        ];
        for (status, start, end, now, expected) in cases {
            let actual = progress(status, start, end, now);
            assert!(
                (actual - expected).abs() < 1e-12,
                "{status:?} {start}–{end} at {now}: {actual} != {expected}"
            );
        }
    }

    fn room(id: i64, name: &str) -> ResourceInfo {
        ResourceInfo {
            id,
            name: name.to_owned(),
            kind: "room".to_owned(),
            color: "#778899".to_owned(),
            active: true,
            created_at: t(0, 0),
            updated_at: t(0, 0),
        }
    }

    fn op(id: i64, room: &ResourceInfo, start: DateTime<Utc>) -> OperationRecord {
        OperationRecord {
            id,
            patient_id: 1,
            patient_first_name: String::new(),
            patient_last_name: String::new(),
            patient_birth_date: None,
            op_type: OperationTypeInfo {
                id: 1,
                name: "T".to_owned(),
                color: "#445566".to_owned(),
                prep_duration: 10,
                op_duration: 30,
                post_duration: 10,
            },
            durations: Durations::from_type(10, 30, 10),
            room: room.clone(),
            devices: Vec::new(),
            primary_surgeon: TeamMember {
                id: 1,
                username: "a".to_owned(),
                first_name: String::new(),
                last_name: String::new(),
                calendar_color: String::new(),
            },
            assistant: None,
            anesthesist: None,
            start_time: start,
            end_time: start + TimeDelta::minutes(50),
            status: "planned".to_owned(),
            notes: None,
            created_at: t(0, 0),
            updated_at: t(0, 0),
        }
    }

    fn layout(groups: &[RoomOperations]) -> Vec<(i64, Vec<i64>)> {
        groups
            .iter()
            .map(|g| (g.room.id, g.operations.iter().map(|o| o.id).collect()))
            .collect()
    }

    #[test]
    fn groups_are_ordered_by_room_name_then_id_and_operations_by_start_then_id() {
        let (b, a2, a1) = (room(1, "OP-B"), room(3, "OP-A"), room(2, "OP-A"));
        let records = vec![
            op(10, &b, t(9, 0)),
            op(11, &a2, t(8, 0)),
            op(12, &b, t(8, 0)),
            op(14, &a1, t(10, 0)),
            op(13, &a1, t(10, 0)),
        ];
        // OP-A (id 2) before OP-A (id 3) before OP-B; equal starts by id.
        assert_eq!(
            layout(&group_by_room(records)),
            vec![(2, vec![13, 14]), (3, vec![11]), (1, vec![12, 10])]
        );
        assert!(group_by_room(Vec::new()).is_empty());
    }

    #[test]
    fn the_rooms_view_lists_every_given_room_and_drops_operations_elsewhere() {
        let (x, y, gone) = (room(5, "OP-X"), room(4, "OP-Y"), room(6, "Alt"));
        let records = vec![op(1, &y, t(9, 0)), op(2, &gone, t(8, 0))];
        assert_eq!(
            layout(&rooms_with_operations(vec![y.clone(), x.clone()], records)),
            vec![(5, vec![]), (4, vec![1])]
        );
    }
}
