//! Rows the original allowed but Praxi forbids, found with portable SQL plus a streaming sweep
//! (SQLite and PostgreSQL alike, memory flat in the number of bookings).
//!
//! Every finding names ids only, never patient data, so the report may be shown to anyone who
//! may run the switch.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sea_orm::{ConnectionTrait, DbBackend, Statement, StreamTrait};

use super::PraxiAppError;

/// Role names Praxi knows (`praxi_domain::Role`).
const KNOWN_ROLES: [&str; 4] = ["admin", "assistant", "doctor", "billing"];

/// A booking: an appointment or an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BookingRef {
    pub kind: BookingKind,
    pub id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BookingKind {
    Appointment,
    Operation,
}

impl fmt::Display for BookingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            BookingKind::Appointment => write!(f, "appointment#{}", self.id),
            BookingKind::Operation => write!(f, "operation#{}", self.id),
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// Two bookings of one doctor, patient, room or device overlap (cancelled ones excluded).
    Overlap {
        /// `doctor`, `patient`, `room` or `device`.
        what: String,
        key: i64,
        first: BookingRef,
        second: BookingRef,
    },
    /// A booking longer than 24 hours.
    TooLong { booking: BookingRef, minutes: i64 },
    /// A booking that ends before (or when) it starts.
    EndsBeforeStart { booking: BookingRef },
    /// A booking whose patient id has no patient row.
    OrphanPatient {
        booking: BookingRef,
        patient_id: i64,
    },
    /// Users whose e-mail addresses are equal ignoring case.
    DuplicateEmail { user_ids: Vec<i64> },
    /// An operation room that is not a room, or an operation device that is not a device.
    WrongResourceType {
        booking: BookingRef,
        resource_id: i64,
        expected: &'static str,
    },
    /// A user whose role Praxi does not know: they can do nothing until an admin gives them
    /// one of admin, assistant, doctor, billing.
    UnknownRole { user_id: i64, role: String },
}

impl Violation {
    /// The category, the first word of the report line.
    pub fn category(&self) -> &'static str {
        match self {
            Violation::Overlap { .. } => "overlap",
            Violation::TooLong { .. } => "too_long",
            Violation::EndsBeforeStart { .. } => "ends_before_start",
            Violation::OrphanPatient { .. } => "orphan_patient",
            Violation::DuplicateEmail { .. } => "duplicate_email",
            Violation::WrongResourceType { .. } => "wrong_resource_type",
            Violation::UnknownRole { .. } => "unknown_role",
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Overlap {
                what,
                key,
                first,
                second,
            } => write!(f, "overlap {what}={key} {first} {second}"),
            Violation::TooLong { booking, minutes } => {
                write!(f, "too_long {booking} minutes={minutes}")
            }
            Violation::EndsBeforeStart { booking } => write!(f, "ends_before_start {booking}"),
            Violation::OrphanPatient {
                booking,
                patient_id,
            } => write!(f, "orphan_patient {booking} patient_id={patient_id}"),
            Violation::DuplicateEmail { user_ids } => {
                let ids: Vec<String> = user_ids.iter().map(|id| format!("user#{id}")).collect();
                write!(f, "duplicate_email {}", ids.join(" "))
            }
            Violation::WrongResourceType {
                booking,
                resource_id,
                expected,
            } => write!(
                f,
                "wrong_resource_type {booking} resource#{resource_id} expected={expected}"
            ),
            Violation::UnknownRole { user_id, role } => {
                write!(f, "unknown_role user#{user_id} role={role}")
            }
        }
    }
}

/// Everything found, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub violations: Vec<Violation>,
}

impl Findings {
    /// Findings of one category.
    pub fn of(&self, category: &str) -> Vec<&Violation> {
        self.violations
            .iter()
            .filter(|violation| violation.category() == category)
            .collect()
    }

    /// Counts per category.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for violation in &self.violations {
            *counts.entry(violation.category()).or_insert(0) += 1;
        }
        counts
    }

    /// Ids of bookings that take part in an overlap, per constraint family
    /// (`(table, column)` → booking ids), for the exclusion constraints' exception lists.
    pub(crate) fn overlapping_ids(&self, kind: BookingKind, what: &[&str]) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .violations
            .iter()
            .filter_map(|violation| match violation {
                Violation::Overlap {
                    what: found,
                    first,
                    second,
                    ..
                } if what.contains(&found.as_str()) => Some([*first, *second]),
                _ => None,
            })
            .flatten()
            .filter(|booking| booking.kind == kind)
            .map(|booking| booking.id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// Runs every check against a PraxiApp or Praxi database (same table names on both).
pub async fn find_violations<C>(conn: &C) -> Result<Findings, PraxiAppError>
where
    C: ConnectionTrait + StreamTrait,
{
    let mut violations = Vec::new();
    for (what, sql) in overlap_queries() {
        sweep_overlaps(conn, what, &sql, &mut violations).await?;
    }
    for (kind, table) in [
        (BookingKind::Appointment, "appointments_appointment"),
        (BookingKind::Operation, "appointments_operation"),
    ] {
        check_durations(conn, kind, table, &mut violations).await?;
    }
    for (kind, table) in [
        (BookingKind::Appointment, "appointments_appointment"),
        (BookingKind::Operation, "appointments_operation"),
    ] {
        let rows = query(
            conn,
            &format!(
                "SELECT b.id AS id, b.patient_id AS patient_id FROM {table} b \
                 WHERE NOT EXISTS (SELECT 1 FROM patients p WHERE p.id = b.patient_id) \
                 ORDER BY b.id"
            ),
        )
        .await?;
        for row in rows {
            violations.push(Violation::OrphanPatient {
                booking: BookingRef {
                    kind,
                    id: get_i64(&row, "id")?,
                },
                patient_id: get_i64(&row, "patient_id")?,
            });
        }
    }
    let rows = query(
        conn,
        "SELECT u.id AS id, lower(u.email) AS email FROM core_user u \
         WHERE u.email IS NOT NULL AND u.email <> '' AND lower(u.email) IN ( \
           SELECT lower(email) FROM core_user WHERE email IS NOT NULL AND email <> '' \
           GROUP BY lower(email) HAVING count(*) > 1) \
         ORDER BY lower(u.email), u.id",
    )
    .await?;
    let mut groups: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for row in rows {
        let email: String = row.try_get("", "email")?;
        groups.entry(email).or_default().push(get_i64(&row, "id")?);
    }
    let mut groups: Vec<Vec<i64>> = groups.into_values().collect();
    groups.sort();
    for user_ids in groups {
        violations.push(Violation::DuplicateEmail { user_ids });
    }
    for (sql, expected) in [
        (
            "SELECT o.id AS id, o.op_room_id AS resource_id FROM appointments_operation o \
             JOIN appointments_resource r ON r.id = o.op_room_id WHERE r.type <> 'room' ORDER BY o.id",
            "room",
        ),
        (
            "SELECT d.operation_id AS id, d.resource_id AS resource_id \
             FROM appointments_operationdevice d \
             JOIN appointments_resource r ON r.id = d.resource_id WHERE r.type <> 'device' \
             ORDER BY d.operation_id, d.resource_id",
            "device",
        ),
    ] {
        for row in query(conn, sql).await? {
            violations.push(Violation::WrongResourceType {
                booking: BookingRef {
                    kind: BookingKind::Operation,
                    id: get_i64(&row, "id")?,
                },
                resource_id: get_i64(&row, "resource_id")?,
                expected,
            });
        }
    }
    let known = KNOWN_ROLES
        .iter()
        .map(|role| format!("'{role}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = query(
        conn,
        &format!(
            "SELECT u.id AS id, r.name AS role FROM core_user u \
             JOIN core_role r ON r.id = u.role_id WHERE r.name NOT IN ({known}) ORDER BY u.id"
        ),
    )
    .await?;
    for row in rows {
        violations.push(Violation::UnknownRole {
            user_id: get_i64(&row, "id")?,
            role: row.try_get("", "role")?,
        });
    }
    Ok(Findings { violations })
}

/// `(what, query)`: every busy interval of one kind of key, ordered for the sweep. Columns:
/// `k` (key), `s`, `e`, `src` (0 appointment, 1 operation), `id`.
fn overlap_queries() -> Vec<(&'static str, String)> {
    let live_appointments = "a.status <> 'cancelled' AND a.start_time < a.end_time";
    let live_operations = "o.status <> 'cancelled' AND o.start_time < o.end_time";
    let order = "ORDER BY k, s, src, id";
    vec![
        (
            "doctor",
            format!(
                "SELECT k, s, e, src, id FROM ( \
                   SELECT a.doctor_id AS k, a.start_time AS s, a.end_time AS e, 0 AS src, a.id AS id \
                   FROM appointments_appointment a WHERE {live_appointments} \
                   UNION ALL SELECT o.primary_surgeon_id, o.start_time, o.end_time, 1, o.id \
                   FROM appointments_operation o WHERE {live_operations} \
                   UNION ALL SELECT o.assistant_id, o.start_time, o.end_time, 1, o.id \
                   FROM appointments_operation o WHERE {live_operations} AND o.assistant_id IS NOT NULL \
                   UNION ALL SELECT o.anesthesist_id, o.start_time, o.end_time, 1, o.id \
                   FROM appointments_operation o WHERE {live_operations} AND o.anesthesist_id IS NOT NULL \
                 ) busy {order}"
            ),
        ),
        (
            "patient",
            format!(
                "SELECT k, s, e, src, id FROM ( \
                   SELECT a.patient_id AS k, a.start_time AS s, a.end_time AS e, 0 AS src, a.id AS id \
                   FROM appointments_appointment a WHERE {live_appointments} \
                   UNION ALL SELECT o.patient_id, o.start_time, o.end_time, 1, o.id \
                   FROM appointments_operation o WHERE {live_operations} \
                 ) busy {order}"
            ),
        ),
        (
            "resource",
            format!(
                "SELECT k, s, e, src, id FROM ( \
                   SELECT ar.resource_id AS k, a.start_time AS s, a.end_time AS e, 0 AS src, a.id AS id \
                   FROM appointments_appointmentresource ar \
                   JOIN appointments_appointment a ON a.id = ar.appointment_id WHERE {live_appointments} \
                   UNION ALL SELECT o.op_room_id, o.start_time, o.end_time, 1, o.id \
                   FROM appointments_operation o WHERE {live_operations} \
                   UNION ALL SELECT d.resource_id, o.start_time, o.end_time, 1, o.id \
                   FROM appointments_operationdevice d \
                   JOIN appointments_operation o ON o.id = d.operation_id WHERE {live_operations} \
                 ) busy {order}"
            ),
        ),
    ]
}

/// Sweeps one ordered stream of busy intervals and records every overlapping pair.
async fn sweep_overlaps<C>(
    conn: &C,
    what: &str,
    sql: &str,
    violations: &mut Vec<Violation>,
) -> Result<(), PraxiAppError>
where
    C: ConnectionTrait + StreamTrait,
{
    let resource_types: BTreeMap<i64, String> = if what == "resource" {
        let mut types = BTreeMap::new();
        for row in query(conn, "SELECT id, type FROM appointments_resource").await? {
            types.insert(get_i64(&row, "id")?, row.try_get::<String>("", "type")?);
        }
        types
    } else {
        BTreeMap::new()
    };
    let backend = ConnectionTrait::get_database_backend(conn);
    let stream = conn
        .stream_raw(Statement::from_string(backend, sql.to_owned()))
        .await?;
    let mut stream = std::pin::pin!(stream);
    let mut current_key: Option<i64> = None;
    // Intervals of the current key that may still overlap what comes next.
    let mut active: Vec<(DateTime<Utc>, BookingRef)> = Vec::new();
    let mut found: Vec<Violation> = Vec::new();
    while let Some(row) = stream.try_next().await? {
        let key = get_i64(&row, "k")?;
        let start: DateTime<Utc> = row.try_get("", "s")?;
        let end: DateTime<Utc> = row.try_get("", "e")?;
        let booking = BookingRef {
            kind: if get_i64(&row, "src")? == 0 {
                BookingKind::Appointment
            } else {
                BookingKind::Operation
            },
            id: get_i64(&row, "id")?,
        };
        if current_key != Some(key) {
            current_key = Some(key);
            active.clear();
        }
        active.retain(|(active_end, _)| *active_end > start);
        for (_, other) in &active {
            if *other == booking {
                continue;
            }
            let label = if what == "resource" {
                resource_types
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| "resource".to_owned())
            } else {
                what.to_owned()
            };
            let (first, second) = if *other < booking {
                (*other, booking)
            } else {
                (booking, *other)
            };
            found.push(Violation::Overlap {
                what: label,
                key,
                first,
                second,
            });
        }
        active.push((end, booking));
    }
    found.sort_by_key(ToString::to_string);
    found.dedup();
    violations.extend(found);
    Ok(())
}

/// Bookings that end before they start or last longer than 24 hours.
async fn check_durations<C>(
    conn: &C,
    kind: BookingKind,
    table: &str,
    violations: &mut Vec<Violation>,
) -> Result<(), PraxiAppError>
where
    C: ConnectionTrait + StreamTrait,
{
    let backend = ConnectionTrait::get_database_backend(conn);
    let stream = conn
        .stream_raw(Statement::from_string(
            backend,
            format!("SELECT id, start_time, end_time FROM {table} ORDER BY id"),
        ))
        .await?;
    let mut stream = std::pin::pin!(stream);
    while let Some(row) = stream.try_next().await? {
        let booking = BookingRef {
            kind,
            id: get_i64(&row, "id")?,
        };
        let start: DateTime<Utc> = row.try_get("", "start_time")?;
        let end: DateTime<Utc> = row.try_get("", "end_time")?;
        if end <= start {
            violations.push(Violation::EndsBeforeStart { booking });
        } else if end - start > chrono::Duration::hours(24) {
            violations.push(Violation::TooLong {
                booking,
                minutes: (end - start).num_minutes(),
            });
        }
    }
    Ok(())
}

async fn query<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
) -> Result<Vec<sea_orm::QueryResult>, PraxiAppError> {
    Ok(conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            sql.to_owned(),
        ))
        .await?)
}

/// An integer column as i64, whatever its width (int4 on PostgreSQL, int8, SQLite integer).
pub(crate) fn get_i64(row: &sea_orm::QueryResult, column: &str) -> Result<i64, PraxiAppError> {
    if let Ok(value) = row.try_get::<i64>("", column) {
        return Ok(value);
    }
    Ok(i64::from(row.try_get::<i32>("", column)?))
}

/// Ensures the backend is PostgreSQL.
pub(crate) fn require_postgres(backend: DbBackend, what: &str) -> Result<(), PraxiAppError> {
    if backend == DbBackend::Postgres {
        Ok(())
    } else {
        Err(PraxiAppError::NotPraxiApp(format!(
            "{what} needs a PostgreSQL database (PraxiApp runs on PostgreSQL)"
        )))
    }
}
