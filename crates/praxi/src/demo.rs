//! The demo practice: a realistic small practice, created through the same store calls and
//! domain rules as the API, so the demo data is valid. Idempotent: running it again adds
//! nothing that is already there.

use std::fmt::Write as _;

use chrono::NaiveDate;
use chrono_tz::Tz;
use praxi_domain::Role;
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::patient::{PatientChanges, PatientId};
use praxi_store::Store;
use praxi_store::audit::AuditEntry;
use praxi_store::users::NewUser;

const DOCTORS: [(&str, &str, &str, &str); 5] = [
    ("dr.mueller", "Anna", "Müller", "#1E90FF"),
    ("dr.schmidt", "Thomas", "Schmidt", "#32CD32"),
    ("dr.meier", "Julia", "Meier", "#FF8C00"),
    ("dr.lehmann", "David", "Lehmann", "#8A2BE2"),
    ("dr.klein", "Sarah", "Klein", "#C71585"),
];

const STAFF: [(&str, &str, &str, Role); 2] = [
    ("mfa.walter", "Lisa", "Walter", Role::Assistant),
    ("abrechnung", "Klara", "Vogel", Role::Billing),
];

const MALE: [&str; 6] = ["Ali", "Omar", "Karim", "Hassan", "Yusuf", "Mahmoud"];
const FEMALE: [&str; 6] = ["Sara", "Layla", "Mariam", "Amina", "Noura", "Fatima"];
const LAST: [&str; 8] = [
    "Ahmad", "Salim", "Jabari", "Haddad", "Khalil", "Rahman", "Hamidi", "Faruq",
];

fn system_audit(action: &str, patient_id: i32) -> AuditEntry {
    AuditEntry {
        user_id: None,
        username: "praxi seed-demo".to_owned(),
        role_name: String::new(),
        action: action.to_owned(),
        patient_id: Some(patient_id),
        meta: Some(serde_json::json!({"source": "seed-demo"})),
        request_id: None,
        subjects: Vec::new(),
    }
}

/// Seeds what is missing and reports what it created (with one-time passwords).
pub(crate) async fn seed(store: &Store, tz: Tz) -> anyhow::Result<String> {
    seed_at(store, tz, chrono::Utc::now()).await
}

/// [`seed`] as if it were `now`.
async fn seed_at(
    store: &Store,
    tz: Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<String> {
    let mut report = String::new();
    let today = now.with_timezone(&tz).date_naive();

    let mut created_users = Vec::new();
    for (username, first, last, colour) in DOCTORS {
        if store.user_by_username(username).await?.is_none() {
            created_users.push((username, Role::Doctor, first, last, Some(colour)));
        }
    }
    for (username, first, last, role) in STAFF {
        if store.user_by_username(username).await?.is_none() {
            created_users.push((username, role, first, last, None));
        }
    }
    for (username, role, first, last, colour) in created_users {
        let password = crate::random_token(16);
        let hash = praxi_server::auth::hash_password_blocking(&password)
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        store
            .create_user(
                NewUser {
                    username: username.to_owned(),
                    password_hash: hash,
                    role: Some(role),
                    first_name: first.to_owned(),
                    last_name: last.to_owned(),
                    email: Some(format!("{username}@praxi.example")),
                    calendar_color: colour.map(str::to_owned),
                    is_staff: true,
                    is_superuser: false,
                },
                now,
            )
            .await?;
        writeln!(
            report,
            "  demo user {username:<12} role {role:<9} password {password}"
        )?;
    }

    if store.count_patients().await? == 0 {
        for idx in 0..20_i32 {
            let first = if idx % 2 == 0 {
                MALE[(idx as usize / 2) % MALE.len()]
            } else {
                FEMALE[(idx as usize / 2) % FEMALE.len()]
            };
            let last = LAST[(idx as usize * 3) % LAST.len()];
            let year = 1940 + (idx * 7) % 70;
            let birth_date =
                NaiveDate::from_ymd_opt(year, (idx % 12 + 1) as u32, (idx % 28 + 1) as u32);
            let changes = PatientChanges {
                first_name: Some(first.to_owned()),
                last_name: Some(last.to_owned()),
                birth_date: Some(birth_date),
                gender: Some(Some(
                    if idx % 2 == 0 { "male" } else { "female" }.to_owned(),
                )),
                phone: Some(Some(format!("+49 170 {:07}", 1_234_567 + idx * 7919))),
                email: Some(Some(format!(
                    "{}.{}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase()
                ))),
            };
            let fields = changes.apply(Default::default(), today)?;
            let id = PatientId::new(i64::from(idx) + 1)?;
            store
                .create_patient(Some(id), fields, now, |id| {
                    system_audit("patient_created", id)
                })
                .await?;
        }
        writeln!(report, "  demo patients: 20")?;
    }
    seed_calendar(store, tz, now, &mut report).await?;
    if report.is_empty() {
        report.push_str("  demo practice already present: nothing to add\n");
    } else {
        report.insert_str(0, "Seeded the demo practice:\n");
    }
    Ok(report)
}

const APPOINTMENT_TYPES: [(&str, &str, i64); 6] = [
    ("Erstgespräch", "#1A73E8", 30),
    ("Kontrolle", "#34A853", 15),
    ("Blutabnahme", "#FBBC05", 10),
    ("Ultraschall", "#8A2BE2", 25),
    ("OP-Vorgespräch", "#FF8C00", 40),
    ("Nachsorge", "#20B2AA", 20),
];

const RESOURCES: [(&str, &str, &str); 6] = [
    ("OP-1", "room", "#8A2BE2"),
    ("OP-2", "room", "#6A5ACD"),
    ("Behandlungsraum 1", "room", "#1A73E8"),
    ("Behandlungsraum 2", "room", "#34A853"),
    ("Ultraschallgerät", "device", "#FF8C00"),
    ("EKG-Gerät", "device", "#FBBC05"),
];

const OPERATION_TYPES: [(&str, i64, i64, i64, &str); 4] = [
    ("Appendektomie", 30, 60, 30, "#8A2BE2"),
    ("Arthroskopie", 20, 45, 20, "#1A73E8"),
    ("Hernien-OP", 25, 50, 25, "#34A853"),
    ("Katarakt-OP", 15, 40, 20, "#FF8C00"),
];

fn system_entry(action: &str, patient_id: Option<i32>) -> AuditEntry {
    AuditEntry {
        user_id: None,
        username: "praxi seed-demo".to_owned(),
        role_name: String::new(),
        action: action.to_owned(),
        patient_id,
        meta: Some(serde_json::json!({"source": "seed-demo"})),
        request_id: None,
        subjects: Vec::new(),
    }
}

/// Deterministic pseudo-random numbers for reproducible demo data.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// The local instant of `date` at `hour:minute` in the practice zone.
fn local(tz: Tz, date: NaiveDate, hour: u32, minute: u32) -> Option<chrono::DateTime<chrono::Utc>> {
    let time = chrono::NaiveTime::from_hms_opt(hour, minute, 0)?;
    praxi_domain::scheduling::local_to_utc_strict(tz, date.and_time(time)).ok()
}

/// Configuration (types, resources, hours, breaks) and bookings of the demo practice, created
/// through the same store calls as the API: every booking passes the scheduling engine, so the
/// demo never contains a double booking or a slot outside the hours. Only runs on a practice
/// without configuration and without appointments.
async fn seed_calendar(
    store: &Store,
    tz: Tz,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut String,
) -> anyhow::Result<()> {
    use chrono::Datelike;
    use praxi_domain::catalog::{AppointmentTypeChanges, OperationTypeChanges, ResourceChanges};
    use praxi_domain::hours::{BreakFields, DoctorHoursFields, HoursWindow};
    use praxi_domain::operation::{Durations, OperationStatus, TeamIds};
    use praxi_store::appointments::{AppointmentDraft, AppointmentFilter, ScheduleCheck};
    use praxi_store::operations::OperationDraft;

    if store.count_practice_hours().await? > 0
        || !store
            .appointments(&AppointmentFilter::default())
            .await?
            .is_empty()
    {
        return Ok(());
    }
    let today = now.with_timezone(&tz).date_naive();
    let time = |h: u32, m: u32| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();

    let mut type_ids = Vec::new();
    for (name, colour, minutes) in APPOINTMENT_TYPES {
        let fields = AppointmentTypeChanges {
            name: Some(name.to_owned()),
            color: Some(Some(colour.to_owned())),
            duration_minutes: Some(Some(minutes)),
            active: Some(true),
            ..Default::default()
        }
        .create()?;
        let record = store
            .create_appointment_type(fields, now, |_| {
                system_entry("appointment_type_create", None)
            })
            .await?;
        type_ids.push((record.id, minutes));
    }
    let mut rooms = Vec::new();
    let mut devices = Vec::new();
    for (name, kind, colour) in RESOURCES {
        let fields = ResourceChanges {
            name: Some(name.to_owned()),
            kind: Some(kind.to_owned()),
            color: Some(colour.to_owned()),
            active: Some(true),
        }
        .create()?;
        let record = store
            .create_resource(fields, now, |_| system_entry("resource_create", None))
            .await?;
        if kind == "room" {
            rooms.push(record.id);
        } else {
            devices.push(record.id);
        }
    }
    let mut op_types = Vec::new();
    for (name, prep, op, post, colour) in OPERATION_TYPES {
        let fields = OperationTypeChanges {
            name: Some(name.to_owned()),
            prep_duration: Some(prep),
            op_duration: Some(op),
            post_duration: Some(post),
            color: Some(colour.to_owned()),
            active: Some(true),
        }
        .create()?;
        let record = store
            .create_operation_type(fields, now, |_| system_entry("operation_type_create", None))
            .await?;
        op_types.push((record.id, prep, op, post));
    }
    // Mon–Fri 08:00–17:00, Saturday 09:00–12:00.
    for weekday in 0..6 {
        let (start, end) = if weekday < 5 {
            (time(8, 0), time(17, 0))
        } else {
            (time(9, 0), time(12, 0))
        };
        store
            .create_practice_hours(
                HoursWindow {
                    weekday,
                    start_time: start,
                    end_time: end,
                    active: true,
                },
                now,
                |_| system_entry("practice_hours_create", None),
            )
            .await?;
    }
    let doctors = store.list_doctors().await?;
    for doctor in &doctors {
        for weekday in 0..5 {
            store
                .create_doctor_hours(
                    DoctorHoursFields {
                        doctor_id: doctor.id,
                        window: HoursWindow {
                            weekday,
                            start_time: time(8, 0),
                            end_time: time(17, 0),
                            active: true,
                        },
                    },
                    now,
                    |_| system_entry("doctor_hours_create", None),
                )
                .await?;
        }
    }
    // Eight weeks of history, this week and the next: a practice-wide lunch break every
    // weekday.
    let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
    let first = monday - chrono::Days::new(7 * HISTORY_WEEKS);
    let days: Vec<NaiveDate> = (0..(7 * (HISTORY_WEEKS + 2)))
        .filter_map(|offset| first.checked_add_days(chrono::Days::new(offset)))
        .filter(|date| date.weekday().num_days_from_monday() < 5)
        .collect();
    for date in &days {
        store
            .create_break(
                BreakFields {
                    doctor_id: None,
                    date: *date,
                    start_time: time(12, 0),
                    end_time: time(12, 30),
                    reason: Some("Mittagspause".to_owned()),
                    active: true,
                },
                now,
                |_| system_entry("doctor_break_create", None),
            )
            .await?;
    }
    writeln!(
        report,
        "  demo configuration: 6 appointment types, 6 resources, 4 operation types, hours, lunch breaks"
    )?;

    // Bookings: operations first (they need three free people and a room), then appointments
    // in the remaining time. The engine refuses anything that would conflict; those are skipped.
    let patients: Vec<i32> = store
        .list_patients(0, 200)
        .await?
        .iter()
        .map(|p| p.id)
        .collect();
    let mut rng = Lcg(42);
    let mut n_operations = 0;
    let mut n_appointments = 0;
    let mut n_no_shows = 0;
    if doctors.len() >= 3 && !patients.is_empty() {
        for (day_idx, date) in days.iter().enumerate() {
            for (slot, room) in rooms.iter().take(2).enumerate() {
                let Some(start) = local(tz, *date, 8 + u32::try_from(slot).unwrap_or(0) * 2, 0)
                else {
                    continue;
                };
                let (op_type, prep, op, post) = op_types[(day_idx + slot) % op_types.len()];
                let surgeon = (day_idx + slot * 2) % doctors.len();
                let team = TeamIds {
                    primary_surgeon: doctors[surgeon].id,
                    assistant: Some(doctors[(surgeon + 1) % doctors.len()].id),
                    anesthesist: Some(doctors[(surgeon + 2) % doctors.len()].id),
                };
                let durations = Durations {
                    prep: i32::try_from(prep).unwrap_or(0),
                    op: i32::try_from(op).unwrap_or(0),
                    post: i32::try_from(post).unwrap_or(0),
                };
                let end = start + chrono::Duration::minutes(prep + op + post);
                let status = if end < now {
                    OperationStatus::Done
                } else {
                    OperationStatus::Planned
                };
                let patient = patients[rng.below(patients.len() as u64) as usize];
                let draft = OperationDraft {
                    patient_id: patient,
                    op_type_id: op_type,
                    durations,
                    room_id: *room,
                    device_ids: if slot == 0 {
                        vec![devices[1]]
                    } else {
                        Vec::new()
                    },
                    team,
                    start_time: start,
                    end_time: end,
                    status: OperationStatus::Planned,
                    notes: Some("Demo-OP".to_owned()),
                };
                let saved = store
                    .save_operation(
                        None,
                        draft,
                        tz,
                        ScheduleCheck::Check,
                        None,
                        start - chrono::Duration::hours(1),
                        |_| system_entry("operation_create", Some(patient)),
                    )
                    .await;
                match saved {
                    Ok(record) => {
                        n_operations += 1;
                        if status == OperationStatus::Done {
                            for (from, to) in [
                                (OperationStatus::Planned, OperationStatus::Confirmed),
                                (OperationStatus::Confirmed, OperationStatus::Running),
                                (OperationStatus::Running, OperationStatus::Done),
                            ] {
                                store
                                    .set_operation_status(
                                        record.id,
                                        from,
                                        to,
                                        None,
                                        end,
                                        &system_entry("op_status_update", Some(patient)),
                                    )
                                    .await?;
                            }
                        }
                    }
                    Err(praxi_store::StoreError::Scheduling(_)) => {}
                    Err(error) => return Err(error.into()),
                }
            }
            for doctor in &doctors {
                let mut minute = 8 * 60;
                while minute < 16 * 60 + 30 {
                    let (type_id, length) = type_ids[rng.below(type_ids.len() as u64) as usize];
                    let hour = u32::try_from(minute / 60).unwrap_or(8);
                    let Some(start) =
                        local(tz, *date, hour, u32::try_from(minute % 60).unwrap_or(0))
                    else {
                        break;
                    };
                    let end = start + chrono::Duration::minutes(length);
                    minute += length + 5 * i64::try_from(rng.below(4)).unwrap_or(0);
                    // Past weeks are booked more thinly (keeps the first start quick).
                    let skip = if *date < monday { 2 } else { 1 };
                    if rng.below(3) < skip {
                        continue;
                    }
                    let patient = patients[rng.below(patients.len() as u64) as usize];
                    // Over: mostly done, some cancelled, some did not come (marked below).
                    let roll = rng.below(100);
                    let no_show = end < now && (82..91).contains(&roll);
                    let status = if end < now {
                        match roll {
                            0..82 => AppointmentStatus::Completed,
                            82..91 => AppointmentStatus::Scheduled,
                            _ => AppointmentStatus::Cancelled,
                        }
                    } else if rng.below(4) == 0 {
                        AppointmentStatus::Confirmed
                    } else {
                        AppointmentStatus::Scheduled
                    };
                    // Booked some days ahead (never after now), for realistic lead times.
                    let lead = chrono::Duration::days(i64::try_from(rng.below(21)).unwrap_or(0));
                    let booked_at = (start - lead - chrono::Duration::hours(2)).min(now);
                    let draft = AppointmentDraft {
                        patient_id: patient,
                        doctor_id: doctor.id,
                        type_id: Some(type_id),
                        resources: Vec::new(),
                        start_time: start,
                        end_time: end,
                        status,
                        notes: Some(String::new()),
                        hold_id: None,
                        override_reason: None,
                    };
                    match store
                        .save_appointment(None, draft, tz, ScheduleCheck::Check, booked_at, |_| {
                            system_entry("appointment_create", Some(patient))
                        })
                        .await
                    {
                        Ok(record) => {
                            n_appointments += 1;
                            if no_show {
                                store
                                    .mark_no_show_checked(record.id, now, |row| {
                                        Ok::<_, praxi_store::StoreError>(system_entry(
                                            "appointment_mark_no_show",
                                            Some(row.patient_id),
                                        ))
                                    })
                                    .await?;
                                n_no_shows += 1;
                            }
                        }
                        Err(praxi_store::StoreError::Scheduling(_)) => {}
                        Err(error) => return Err(error.into()),
                    }
                }
            }
        }
    }
    writeln!(
        report,
        "  demo bookings: {n_appointments} appointments ({n_no_shows} no-shows), \
         {n_operations} operations over {HISTORY_WEEKS} weeks of history and two weeks ahead \
         (engine-checked)"
    )?;
    let flows = seed_waiting_room(store, tz, now).await?;
    writeln!(report, "  demo waiting room today: {flows} patients")?;
    Ok(())
}

/// Weeks of history the demo practice has.
const HISTORY_WEEKS: u64 = 8;

/// Today's waiting room: patients whose appointment is over went through the whole flow,
/// those in their appointment now are in treatment, those due within 20 minutes are waiting.
/// Each step is stored at the time it would have happened.
async fn seed_waiting_room(
    store: &Store,
    tz: Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<usize> {
    use praxi_domain::flow::{FlowLink, FlowStatus, FlowUpdate, initial_state};
    use praxi_store::appointments::AppointmentFilter;
    use praxi_store::flow::{FlowWrite, NewFlow};

    let today = now.with_timezone(&tz).date_naive();
    let Some(day) = praxi_domain::scheduling::local_day(tz, today) else {
        return Ok(0);
    };
    let filter = AppointmentFilter {
        period: Some(day),
        ..Default::default()
    };
    let audit = |action: &str, patient_id: Option<i32>, _meta: serde_json::Value| {
        system_entry(action, patient_id)
    };
    let minutes = chrono::Duration::minutes;
    let mut created = 0;
    for appointment in store.appointments(&filter).await? {
        if appointment.status == AppointmentStatus::Cancelled || appointment.is_no_show {
            continue;
        }
        let (start, end) = (appointment.start_time, appointment.end_time);
        // The steps to take and when: arrival 10 minutes early.
        let arrival = (start - minutes(10)).min(now);
        let steps: Vec<(FlowStatus, chrono::DateTime<chrono::Utc>)> = if end + minutes(10) < now {
            vec![
                (FlowStatus::Preparing, start),
                (FlowStatus::InTreatment, start + minutes(3)),
                (FlowStatus::PostTreatment, end),
                (FlowStatus::Done, end + minutes(5)),
            ]
        } else if start <= now {
            vec![
                (FlowStatus::Preparing, start.min(now)),
                (FlowStatus::InTreatment, (start + minutes(3)).min(now)),
            ]
        } else if start <= now + minutes(20) {
            Vec::new()
        } else {
            continue;
        };
        let state = initial_state(Some(FlowStatus::Waiting), Some(arrival), None, arrival)?;
        let link = FlowLink::Appointment(i64::from(appointment.id));
        let mut flow = store
            .create_patient_flow(NewFlow { link, state }, None, arrival, audit)
            .await?;
        for (to, at) in steps {
            let update = FlowUpdate {
                status: Some(to),
                ..Default::default()
            };
            let (next, _) = store
                .update_patient_flow(&flow, link, update, FlowWrite::Status, None, at, audit)
                .await?;
            flow = next;
        }
        created += 1;
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use chrono::{Datelike, TimeZone, Utc};
    use praxi_domain::appointment::AppointmentStatus;
    use praxi_domain::flow::FlowStatus;
    use praxi_store::Store;
    use praxi_store::appointments::AppointmentFilter;
    use praxi_store::flow::FlowFilter;

    #[tokio::test]
    async fn the_demo_practice_has_history_and_a_living_waiting_room() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("demo.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let tz = chrono_tz::Europe::Berlin;
        // A Wednesday, 11:10 in the practice.
        let now = tz
            .with_ymd_and_hms(2031, 3, 12, 11, 10, 0)
            .unwrap()
            .with_timezone(&Utc);
        let report = super::seed_at(&store, tz, now).await.unwrap();
        assert!(report.contains("8 weeks of history"), "{report}");

        let all = store
            .appointments(&AppointmentFilter::default())
            .await
            .unwrap();
        let earliest = all.iter().map(|a| a.start_time).min().unwrap();
        assert!(
            (now - earliest).num_days() >= 7 * 8 - 3,
            "eight weeks of history: {earliest}"
        );
        let past: Vec<_> = all.iter().filter(|a| a.end_time < now).collect();
        let count = |pred: &dyn Fn(&&&praxi_store::appointments::AppointmentRecord) -> bool| {
            past.iter().filter(pred).count()
        };
        let completed = count(&|a| a.status == AppointmentStatus::Completed);
        let cancelled = count(&|a| a.status == AppointmentStatus::Cancelled);
        let no_show = count(&|a| a.is_no_show);
        assert!(
            completed > 10 * cancelled.max(1) / 2,
            "{completed} {cancelled}"
        );
        assert!(cancelled > 0 && no_show > 0, "{cancelled} {no_show}");
        // Booked ahead: creation before the appointment, never after now.
        assert!(all.iter().all(|a| a.created_at <= now));
        assert!(
            past.iter()
                .any(|a| (a.start_time - a.created_at).num_days() >= 7)
        );
        // Nothing on the weekend (no doctor works then).
        assert!(all.iter().all(|a| {
            a.start_time
                .with_timezone(&tz)
                .weekday()
                .num_days_from_monday()
                < 5
        }));

        let flows = store.patient_flows(&FlowFilter::default()).await.unwrap();
        let with = |status: FlowStatus| flows.iter().filter(|f| f.status == status).count();
        assert!(with(FlowStatus::Done) > 0, "finished visits this morning");
        assert!(
            with(FlowStatus::InTreatment) + with(FlowStatus::Waiting) > 0,
            "someone is here now"
        );

        // Idempotent: a second run adds nothing.
        let again = super::seed_at(&store, tz, now).await.unwrap();
        assert!(again.contains("nothing to add"), "{again}");
        let count_again = store
            .appointments(&AppointmentFilter::default())
            .await
            .unwrap()
            .len();
        assert_eq!(count_again, all.len());
    }
}
