//! The migrations build the whole schema on SQLite (always) and on PostgreSQL (when
//! `PRAXI_TEST_DATABASE_URL` points at a server), every entity maps onto its table, and the
//! constraints that replace the original's ORM-only rules really fire in the database.
//!
//! Each test gets fresh databases: an in-memory SQLite one, and a `praxi_mig_<unique>` database
//! created next to the one named by `PRAXI_TEST_DATABASE_URL` and dropped afterwards.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use praxi_store::entity::{
    appointment, appointment_resource, appointment_type, audit_log, auth_group, auth_permission,
    blacklisted_token, doctor_absence, doctor_break, doctor_hours, operation, operation_device,
    operation_status_event, operation_type, outstanding_token, patient, patient_document,
    patient_flow, patient_flow_event, patient_note, practice_hours, resource, role, session, user,
    user_groups, user_user_permissions,
};
use praxi_store::migration::Migrator;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    Statement,
};
use sea_orm_migration::{MigratorTrait, SchemaManager};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// One fresh, empty database.
struct TestDb {
    conn: DatabaseConnection,
    /// For PostgreSQL: the admin connection and the name of the database to drop afterwards.
    pg_admin: Option<(DatabaseConnection, String)>,
}

impl TestDb {
    fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    async fn cleanup(self) -> TestResult {
        self.conn.close().await?;
        if let Some((admin, name)) = self.pg_admin {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

/// Fresh databases for every backend under test: SQLite always, PostgreSQL when configured.
async fn test_dbs() -> TestResult<Vec<TestDb>> {
    let mut dbs = vec![TestDb {
        conn: Database::connect("sqlite::memory:").await?,
        pg_admin: None,
    }];
    if let Ok(url) = std::env::var("PRAXI_TEST_DATABASE_URL") {
        dbs.push(fresh_postgres(&url).await?);
    }
    Ok(dbs)
}

async fn fresh_postgres(admin_url: &str) -> TestResult<TestDb> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .subsec_nanos();
    let name = format!(
        "praxi_mig_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let admin = Database::connect(admin_url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let (server, _) = base
        .rsplit_once('/')
        .ok_or("PRAXI_TEST_DATABASE_URL has no database path")?;
    let conn = Database::connect(format!("{server}/{name}{query}")).await?;
    Ok(TestDb {
        conn,
        pg_admin: Some((admin, name)),
    })
}

/// Runs `scenario` against a migrated fresh database of every backend under test, always
/// dropping the PostgreSQL database afterwards.
macro_rules! on_every_backend {
    ($scenario:ident) => {{
        for db in test_dbs().await? {
            let backend = db.backend();
            let result = async {
                Migrator::up(&db.conn, None).await?;
                $scenario(&db.conn).await
            }
            .await;
            db.cleanup().await?;
            result.map_err(|e| format!("{backend:?}: {e}"))?;
        }
        Ok(())
    }};
}

fn at(rfc3339: &str) -> TestResult<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(rfc3339)?.with_timezone(&Utc))
}

fn hm(hour: u32, minute: u32) -> TestResult<NaiveTime> {
    Ok(NaiveTime::from_hms_opt(hour, minute, 0).ok_or("bad time")?)
}

fn ymd(year: i32, month: u32, day: u32) -> TestResult<NaiveDate> {
    Ok(NaiveDate::from_ymd_opt(year, month, day).ok_or("bad date")?)
}

/// Asserts that `result` failed with an error mentioning `needle` (usually a constraint name).
fn expect_violation<T: std::fmt::Debug>(result: Result<T, DbErr>, needle: &str) -> TestResult {
    match result {
        Ok(value) => Err(format!("expected a violation of {needle}, got {value:?}").into()),
        Err(error) if error.to_string().contains(needle) => Ok(()),
        Err(error) => Err(format!("expected a violation of {needle}, got: {error}").into()),
    }
}

/// SQLite reports foreign-key failures without the constraint name.
fn fk_needle(conn: &DatabaseConnection, constraint: &'static str) -> &'static str {
    match conn.get_database_backend() {
        DbBackend::Sqlite => "FOREIGN KEY constraint failed",
        _ => constraint,
    }
}

/// Rows most scenarios need.
struct Fixture {
    doctor: user::Model,
    patient: patient::Model,
    room: resource::Model,
    device: resource::Model,
    op_type: operation_type::Model,
}

async fn fixture(conn: &DatabaseConnection) -> TestResult<Fixture> {
    let doctor_role = role::ActiveModel {
        name: Set("doctor".into()),
        label: Set("Arzt".into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let doctor = user::ActiveModel {
        password: Set("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        username: Set("dr.mueller".into()),
        first_name: Set("Anna".into()),
        last_name: Set("Müller".into()),
        email: Set(Some("anna@example.org".into())),
        role_id: Set(Some(doctor_role.id)),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let patient = patient::ActiveModel {
        id: Set(1001),
        first_name: Set("Sara".into()),
        last_name: Set("Haddad".into()),
        birth_date: Set(Some(ymd(1980, 5, 17)?)),
        created_at: Set(Some(Utc::now())),
        updated_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let room = resource::ActiveModel {
        name: Set("OP-1".into()),
        r#type: Set("room".into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let device = resource::ActiveModel {
        name: Set("EKG-Gerät".into()),
        r#type: Set("device".into()),
        color: Set("#FBBC05".into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let op_type = operation_type::ActiveModel {
        name: Set("Arthroskopie".into()),
        prep_duration: Set(20),
        op_duration: Set(45),
        post_duration: Set(20),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(Fixture {
        doctor,
        patient,
        room,
        device,
        op_type,
    })
}

fn appointment_row(fx: &Fixture, start: &str, end: &str) -> TestResult<appointment::ActiveModel> {
    Ok(appointment::ActiveModel {
        patient_id: Set(fx.patient.id),
        doctor_id: Set(fx.doctor.id),
        start_time: Set(at(start)?),
        end_time: Set(at(end)?),
        ..Default::default()
    })
}

fn operation_row(fx: &Fixture, start: &str, end: &str) -> TestResult<operation::ActiveModel> {
    Ok(operation::ActiveModel {
        patient_id: Set(fx.patient.id),
        primary_surgeon_id: Set(fx.doctor.id),
        op_room_id: Set(fx.room.id),
        op_type_id: Set(fx.op_type.id),
        start_time: Set(at(start)?),
        end_time: Set(at(end)?),
        prep_duration: Set(fx.op_type.prep_duration),
        op_duration: Set(fx.op_type.op_duration),
        post_duration: Set(fx.op_type.post_duration),
        ..Default::default()
    })
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sqlite_connections_enforce_foreign_keys() -> TestResult {
    let conn = Database::connect("sqlite::memory:").await?;
    let row = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA foreign_keys",
        ))
        .await?
        .ok_or("no pragma row")?;
    let enabled: i32 = row.try_get_by_index(0)?;
    assert_eq!(enabled, 1);
    Ok(())
}

async fn every_table_round_trips(conn: &DatabaseConnection) -> TestResult {
    let fx = fixture(conn).await?;

    // Real database defaults.
    assert_eq!(fx.doctor.calendar_color, "#1E90FF");
    assert_eq!(fx.doctor.vacation_days_per_year, 30);
    assert_eq!(fx.doctor.token_version, 0);
    assert!(fx.doctor.is_active && !fx.doctor.is_staff && !fx.doctor.is_superuser);
    assert!((Utc::now() - fx.doctor.date_joined).num_minutes().abs() < 5);
    assert_eq!(fx.room.color, "#6A5ACD");
    assert!(fx.room.active);
    assert_eq!(fx.op_type.color, "#8A2BE2");

    let group = auth_group::ActiveModel {
        name: Set("imported".into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let permission = auth_permission::ActiveModel {
        name: Set("Can view patient".into()),
        codename: Set("view_patient".into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    user_groups::ActiveModel {
        user_id: Set(fx.doctor.id),
        group_id: Set(group.id),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    user_user_permissions::ActiveModel {
        user_id: Set(fx.doctor.id),
        permission_id: Set(permission.id),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let audit = audit_log::ActiveModel {
        user_id: Set(Some(fx.doctor.id)),
        username: Set(fx.doctor.username.clone()),
        role_name: Set("doctor".into()),
        action: Set("patient_created".into()),
        patient_id: Set(Some(fx.patient.id)),
        meta: Set(Some(serde_json::json!({ "source": "test" }))),
        request_id: Set(Some("req-1".into())),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    assert_eq!(audit.meta, Some(serde_json::json!({ "source": "test" })));

    let kind = appointment_type::ActiveModel {
        name: Set("Kontrolle".into()),
        duration_minutes: Set(Some(15)),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    assert_eq!(kind.color.as_deref(), Some("#2E8B57"));
    practice_hours::ActiveModel {
        weekday: Set(0),
        start_time: Set(hm(8, 0)?),
        end_time: Set(hm(17, 0)?),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    doctor_hours::ActiveModel {
        doctor_id: Set(fx.doctor.id),
        weekday: Set(0),
        start_time: Set(hm(9, 0)?),
        end_time: Set(hm(15, 0)?),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    doctor_absence::ActiveModel {
        doctor_id: Set(fx.doctor.id),
        start_date: Set(ymd(2030, 1, 14)?),
        end_date: Set(ymd(2030, 1, 18)?),
        reason: Set(Some("Urlaub".into())),
        duration_workdays: Set(Some(5)),
        remaining_days: Set(Some(25)),
        return_date: Set(Some(ymd(2030, 1, 21)?)),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    doctor_break::ActiveModel {
        doctor_id: Set(None),
        date: Set(ymd(2030, 1, 7)?),
        start_time: Set(hm(12, 0)?),
        end_time: Set(hm(12, 30)?),
        reason: Set(Some("Mittagspause".into())),
        ..Default::default()
    }
    .insert(conn)
    .await?;

    let mut booking = appointment_row(&fx, "2030-01-07T09:00:00Z", "2030-01-07T09:30:00Z")?;
    booking.type_id = Set(Some(kind.id));
    let booking = booking.insert(conn).await?;
    assert_eq!(booking.status, "scheduled");
    assert!(!booking.is_no_show);
    assert_eq!(booking.start_time, at("2030-01-07T09:00:00Z")?);
    appointment_resource::ActiveModel {
        appointment_id: Set(booking.id),
        resource_id: Set(fx.room.id),
        ..Default::default()
    }
    .insert(conn)
    .await?;

    let surgery = operation_row(&fx, "2030-01-08T10:00:00Z", "2030-01-08T11:25:00Z")?
        .insert(conn)
        .await?;
    assert_eq!(surgery.status, "planned");
    assert_eq!(surgery.op_room_type, "room");
    assert_eq!(surgery.op_duration, 45);
    let device_use = operation_device::ActiveModel {
        operation_id: Set(surgery.id),
        resource_id: Set(fx.device.id),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    assert_eq!(device_use.resource_type, "device");
    operation_status_event::ActiveModel {
        operation_id: Set(surgery.id),
        from_status: Set(None),
        to_status: Set("planned".into()),
        user_id: Set(Some(fx.doctor.id)),
        ..Default::default()
    }
    .insert(conn)
    .await?;

    let flow = patient_flow::ActiveModel {
        appointment_id: Set(Some(booking.id)),
        arrival_time: Set(Some(at("2030-01-07T08:50:00Z")?)),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    assert_eq!(flow.status, "registered");
    patient_flow_event::ActiveModel {
        flow_id: Set(flow.id),
        from_status: Set(Some("registered".into())),
        to_status: Set("waiting".into()),
        user_id: Set(Some(fx.doctor.id)),
        ..Default::default()
    }
    .insert(conn)
    .await?;

    let document = patient_document::ActiveModel {
        patient_id: Set(fx.patient.id),
        title: Set("Befund".into()),
        file: Set(Some("patient_documents/2030/01/07/a.pdf".into())),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    assert_eq!(document.doc_type, "document");
    assert_eq!(document.note, "");
    patient_note::ActiveModel {
        patient_id: Set(fx.patient.id),
        author_name: Set("Anna Müller".into()),
        author_role: Set("doctor".into()),
        content: Set("Kontrolle in 4 Wochen".into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;

    let token = outstanding_token::ActiveModel {
        user_id: Set(fx.doctor.id),
        jti: Set("jti-1".into()),
        family: Set("family-1".into()),
        expires_at: Set(at("2030-01-08T00:00:00Z")?),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    blacklisted_token::ActiveModel {
        token_id: Set(token.id),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let web_session = session::ActiveModel {
        session_key: Set("k".repeat(64)),
        user_id: Set(fx.doctor.id),
        csrf_token: Set("c".repeat(64)),
        expire_date: Set(at("2030-01-08T00:00:00Z")?),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    assert_eq!(web_session.data, "{}");

    // Every entity decodes the rows of its table (types and nullability match the schema).
    assert_eq!(role::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(user::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(auth_group::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(auth_permission::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(user_groups::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(
        user_user_permissions::Entity::find().all(conn).await?.len(),
        1
    );
    assert_eq!(audit_log::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(appointment_type::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(practice_hours::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(doctor_hours::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(doctor_absence::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(doctor_break::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(resource::Entity::find().all(conn).await?.len(), 2);
    assert_eq!(operation_type::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(appointment::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(
        appointment_resource::Entity::find().all(conn).await?.len(),
        1
    );
    assert_eq!(operation::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(operation_device::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(
        operation_status_event::Entity::find()
            .all(conn)
            .await?
            .len(),
        1
    );
    assert_eq!(patient_flow::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(patient_flow_event::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(patient::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(patient_document::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(patient_note::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(outstanding_token::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(blacklisted_token::Entity::find().all(conn).await?.len(), 1);
    assert_eq!(session::Entity::find().all(conn).await?.len(), 1);

    // Relations resolve.
    let rooms = appointment::Entity::find_by_id(booking.id)
        .find_with_related(resource::Entity)
        .all(conn)
        .await?;
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0].1.len(), 1);
    Ok(())
}

#[tokio::test]
async fn every_table_is_created_and_every_entity_round_trips() -> TestResult {
    on_every_backend!(every_table_round_trips)
}

async fn start_not_before_end(conn: &DatabaseConnection) -> TestResult {
    let fx = fixture(conn).await?;
    expect_violation(
        appointment_row(&fx, "2030-01-07T10:00:00Z", "2030-01-07T10:00:00Z")?
            .insert(conn)
            .await,
        "appointments_appointment_start_before_end",
    )?;
    expect_violation(
        operation_row(&fx, "2030-01-07T11:00:00Z", "2030-01-07T10:00:00Z")?
            .insert(conn)
            .await,
        "appointments_operation_start_before_end",
    )?;
    expect_violation(
        practice_hours::ActiveModel {
            weekday: Set(1),
            start_time: Set(hm(17, 0)?),
            end_time: Set(hm(8, 0)?),
            ..Default::default()
        }
        .insert(conn)
        .await,
        "appointments_practicehours_start_before_end",
    )?;
    expect_violation(
        practice_hours::ActiveModel {
            weekday: Set(7),
            start_time: Set(hm(8, 0)?),
            end_time: Set(hm(17, 0)?),
            ..Default::default()
        }
        .insert(conn)
        .await,
        "appointments_practicehours_weekday_check",
    )?;
    expect_violation(
        doctor_break::ActiveModel {
            date: Set(ymd(2030, 1, 7)?),
            start_time: Set(hm(12, 30)?),
            end_time: Set(hm(12, 0)?),
            ..Default::default()
        }
        .insert(conn)
        .await,
        "appointments_doctorbreak_start_before_end",
    )?;
    expect_violation(
        doctor_absence::ActiveModel {
            doctor_id: Set(fx.doctor.id),
            start_date: Set(ymd(2030, 1, 18)?),
            end_date: Set(ymd(2030, 1, 14)?),
            ..Default::default()
        }
        .insert(conn)
        .await,
        "appointments_doctorabsence_start_not_after_end",
    )?;
    // A one-day absence (start = end) is fine.
    doctor_absence::ActiveModel {
        doctor_id: Set(fx.doctor.id),
        start_date: Set(ymd(2030, 1, 14)?),
        end_date: Set(ymd(2030, 1, 14)?),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

#[tokio::test]
async fn intervals_that_do_not_start_before_they_end_are_rejected() -> TestResult {
    on_every_backend!(start_not_before_end)
}

async fn unknown_values(conn: &DatabaseConnection) -> TestResult {
    let fx = fixture(conn).await?;
    let mut booking = appointment_row(&fx, "2030-01-07T09:00:00Z", "2030-01-07T09:30:00Z")?;
    booking.status = Set("no_show".into());
    expect_violation(
        booking.insert(conn).await,
        "appointments_appointment_status_check",
    )?;
    let mut surgery = operation_row(&fx, "2030-01-08T10:00:00Z", "2030-01-08T11:00:00Z")?;
    surgery.status = Set("finished".into());
    expect_violation(
        surgery.insert(conn).await,
        "appointments_operation_status_check",
    )?;
    expect_violation(
        resource::ActiveModel {
            name: Set("MFA Müller".into()),
            r#type: Set("staff".into()),
            ..Default::default()
        }
        .insert(conn)
        .await,
        "appointments_resource_type_check",
    )?;
    expect_violation(
        user::ActiveModel {
            password: Set("x".into()),
            username: Set("negative".into()),
            vacation_days_per_year: Set(-1),
            ..Default::default()
        }
        .insert(conn)
        .await,
        "core_user_vacation_days_per_year_check",
    )?;
    Ok(())
}

#[tokio::test]
async fn unknown_status_and_type_values_are_rejected() -> TestResult {
    on_every_backend!(unknown_values)
}

async fn bad_colours(conn: &DatabaseConnection) -> TestResult {
    for colour in ["red", "", "#12", "1E90FF#"] {
        expect_violation(
            resource::ActiveModel {
                name: Set("Raum".into()),
                r#type: Set("room".into()),
                color: Set(colour.into()),
                ..Default::default()
            }
            .insert(conn)
            .await,
            "appointments_resource_color_check",
        )?;
    }
    expect_violation(
        user::ActiveModel {
            password: Set("x".into()),
            username: Set("colourless".into()),
            calendar_color: Set(String::new()),
            ..Default::default()
        }
        .insert(conn)
        .await,
        "core_user_calendar_color_check",
    )?;
    expect_violation(
        appointment_type::ActiveModel {
            name: Set("Kontrolle".into()),
            color: Set(Some("green".into())),
            ..Default::default()
        }
        .insert(conn)
        .await,
        "appointments_appointmenttype_color_check",
    )?;
    expect_violation(
        operation_type::ActiveModel {
            name: Set("Katarakt-OP".into()),
            color: Set("#FF8C0".into()),
            ..Default::default()
        }
        .insert(conn)
        .await,
        "appointments_operationtype_color_check",
    )?;
    // The appointment-type colour may be NULL.
    appointment_type::ActiveModel {
        name: Set("Ohne Farbe".into()),
        color: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

#[tokio::test]
async fn malformed_colours_are_rejected() -> TestResult {
    on_every_backend!(bad_colours)
}

async fn flow_links(conn: &DatabaseConnection) -> TestResult {
    let fx = fixture(conn).await?;
    let booking = appointment_row(&fx, "2030-01-07T09:00:00Z", "2030-01-07T09:30:00Z")?
        .insert(conn)
        .await?;
    let surgery = operation_row(&fx, "2030-01-08T10:00:00Z", "2030-01-08T11:00:00Z")?
        .insert(conn)
        .await?;
    expect_violation(
        patient_flow::ActiveModel {
            appointment_id: Set(Some(booking.id)),
            operation_id: Set(Some(surgery.id)),
            ..Default::default()
        }
        .insert(conn)
        .await,
        "appointments_patientflow_exactly_one_link",
    )?;
    expect_violation(
        patient_flow::ActiveModel {
            ..Default::default()
        }
        .insert(conn)
        .await,
        "appointments_patientflow_exactly_one_link",
    )?;
    expect_violation(
        patient_flow::ActiveModel {
            operation_id: Set(Some(surgery.id)),
            status: Set("cancelled".into()),
            ..Default::default()
        }
        .insert(conn)
        .await,
        "appointments_patientflow_status_check",
    )?;
    let flow = patient_flow::ActiveModel {
        operation_id: Set(Some(surgery.id)),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    patient_flow_event::ActiveModel {
        flow_id: Set(flow.id),
        to_status: Set("registered".into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    // Deleting the operation takes its flow and the flow's history with it.
    operation::Entity::delete_by_id(surgery.id)
        .exec(conn)
        .await?;
    assert!(patient_flow::Entity::find().all(conn).await?.is_empty());
    assert!(
        patient_flow_event::Entity::find()
            .all(conn)
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn patient_flow_must_link_exactly_one_appointment_or_operation() -> TestResult {
    on_every_backend!(flow_links)
}

async fn append_only_audit(conn: &DatabaseConnection) -> TestResult {
    let fx = fixture(conn).await?;
    let entry = audit_log::ActiveModel {
        user_id: Set(Some(fx.doctor.id)),
        username: Set(fx.doctor.username.clone()),
        action: Set("appointment_view".into()),
        timestamp: Set(at("2030-01-01T00:00:00Z")?),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    // Back-dated entries (imports) are possible (§15 item 29).
    assert_eq!(entry.timestamp, at("2030-01-01T00:00:00Z")?);

    let mut change: audit_log::ActiveModel = entry.clone().into();
    change.action = Set("nothing_to_see".into());
    expect_violation(change.update(conn).await, "core_auditlog is append-only")?;
    expect_violation(
        audit_log::Entity::delete_by_id(entry.id).exec(conn).await,
        "core_auditlog is append-only",
    )?;
    expect_violation(
        conn.execute_unprepared("DELETE FROM core_auditlog").await,
        "core_auditlog is append-only",
    )?;
    if conn.get_database_backend() == DbBackend::Postgres {
        expect_violation(
            conn.execute_unprepared("TRUNCATE core_auditlog").await,
            "core_auditlog is append-only",
        )?;
    }
    // An audited user cannot be hard-deleted either.
    expect_violation(
        user::Entity::delete_by_id(fx.doctor.id).exec(conn).await,
        fk_needle(conn, "core_auditlog_user_id_fkey"),
    )?;
    assert_eq!(audit_log::Entity::find().all(conn).await?, vec![entry]);
    Ok(())
}

#[tokio::test]
async fn audit_log_rejects_update_and_delete() -> TestResult {
    on_every_backend!(append_only_audit)
}

async fn restricted_deletes(conn: &DatabaseConnection) -> TestResult {
    let fx = fixture(conn).await?;
    let booking = appointment_row(&fx, "2030-01-07T09:00:00Z", "2030-01-07T09:30:00Z")?
        .insert(conn)
        .await?;
    appointment_resource::ActiveModel {
        appointment_id: Set(booking.id),
        resource_id: Set(fx.room.id),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    expect_violation(
        resource::Entity::delete_by_id(fx.room.id).exec(conn).await,
        fk_needle(conn, "appointments_appointmentresource_resource_id_fkey"),
    )?;
    expect_violation(
        patient::Entity::delete_by_id(fx.patient.id)
            .exec(conn)
            .await,
        fk_needle(conn, "appointments_appointment_patient_id_fkey"),
    )?;
    // Unreferenced resources can still be deleted.
    let spare = resource::ActiveModel {
        name: Set("Behandlungsraum 2".into()),
        r#type: Set("room".into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    resource::Entity::delete_by_id(spare.id).exec(conn).await?;

    // A device cannot be the OP room, a room cannot be an OP device.
    let mut in_device = operation_row(&fx, "2030-01-08T10:00:00Z", "2030-01-08T11:00:00Z")?;
    in_device.op_room_id = Set(fx.device.id);
    expect_violation(
        in_device.insert(conn).await,
        fk_needle(conn, "appointments_operation_op_room_fkey"),
    )?;
    let surgery = operation_row(&fx, "2030-01-08T10:00:00Z", "2030-01-08T11:00:00Z")?
        .insert(conn)
        .await?;
    expect_violation(
        operation_device::ActiveModel {
            operation_id: Set(surgery.id),
            resource_id: Set(fx.room.id),
            ..Default::default()
        }
        .insert(conn)
        .await,
        fk_needle(conn, "appointments_operationdevice_resource_fkey"),
    )?;
    // Operation types in use cannot be deleted (no cascade into clinical history).
    expect_violation(
        operation_type::Entity::delete_by_id(fx.op_type.id)
            .exec(conn)
            .await,
        fk_needle(conn, "appointments_operation_op_type_id_fkey"),
    )?;
    // Deleting an appointment cascades to its resource rows.
    appointment::Entity::delete_by_id(booking.id)
        .exec(conn)
        .await?;
    assert!(
        appointment_resource::Entity::find()
            .all(conn)
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn referenced_resources_patients_and_types_cannot_be_deleted() -> TestResult {
    on_every_backend!(restricted_deletes)
}

async fn exclusion_constraints(conn: &DatabaseConnection) -> TestResult {
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let fx = fixture(conn).await?;
    appointment_row(&fx, "2030-01-07T09:00:00Z", "2030-01-07T09:30:00Z")?
        .insert(conn)
        .await?;
    expect_violation(
        appointment_row(&fx, "2030-01-07T09:15:00Z", "2030-01-07T09:45:00Z")?
            .insert(conn)
            .await,
        "appointments_no_doctor_overlap",
    )?;
    // Touching intervals do not overlap.
    appointment_row(&fx, "2030-01-07T09:30:00Z", "2030-01-07T10:00:00Z")?
        .insert(conn)
        .await?;
    // Cancelled bookings do not block.
    let mut cancelled = appointment_row(&fx, "2030-01-07T09:00:00Z", "2030-01-07T09:30:00Z")?;
    cancelled.status = Set("cancelled".into());
    cancelled.insert(conn).await?;

    let other_doctor = user::ActiveModel {
        password: Set("x".into()),
        username: Set("dr.schmidt".into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let mut same_patient = appointment_row(&fx, "2030-01-07T09:10:00Z", "2030-01-07T09:20:00Z")?;
    same_patient.doctor_id = Set(other_doctor.id);
    expect_violation(
        same_patient.insert(conn).await,
        "appointments_no_patient_overlap",
    )?;

    operation_row(&fx, "2030-01-08T10:00:00Z", "2030-01-08T11:00:00Z")?
        .insert(conn)
        .await?;
    expect_violation(
        operation_row(&fx, "2030-01-08T10:30:00Z", "2030-01-08T11:30:00Z")?
            .insert(conn)
            .await,
        "operations_no_room_overlap",
    )?;
    Ok(())
}

#[tokio::test]
async fn postgres_rejects_double_bookings() -> TestResult {
    on_every_backend!(exclusion_constraints)
}

#[tokio::test]
async fn down_then_up_again_works() -> TestResult {
    for db in test_dbs().await? {
        let backend = db.backend();
        let result: TestResult = async {
            Migrator::up(&db.conn, None).await?;
            Migrator::down(&db.conn, None).await?;
            let manager = SchemaManager::new(&db.conn);
            for table in [
                "core_user",
                "core_auditlog",
                "patients",
                "appointments_appointment",
            ] {
                assert!(!manager.has_table(table).await?, "{table} survived down");
            }
            Migrator::up(&db.conn, None).await?;
            assert!(manager.has_table("appointments_patientflowevent").await?);
            assert!(Migrator::get_pending_migrations(&db.conn).await?.is_empty());
            every_table_round_trips(&db.conn).await
        }
        .await;
        db.cleanup().await?;
        result.map_err(|e| format!("{backend:?}: {e}"))?;
    }
    Ok(())
}

/// Every constraint kind the store reacts to is classified by code, on both backends
/// (`DbFailure::of`), never by message text.
async fn failures_are_classified_by_code(conn: &DatabaseConnection) -> TestResult {
    use praxi_store::DbFailure;
    let pg = conn.get_database_backend() == DbBackend::Postgres;
    conn.execute_unprepared(
        "CREATE TABLE t_parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, \
         n INTEGER NOT NULL CHECK (n > 0))",
    )
    .await?;
    conn.execute_unprepared(
        "CREATE TABLE t_child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL \
         REFERENCES t_parent (id))",
    )
    .await?;
    conn.execute_unprepared("INSERT INTO t_parent (id, name, n) VALUES (1, 'a', 1)")
        .await?;
    let cases = [
        (
            "INSERT INTO t_parent (id, name, n) VALUES (2, 'a', 1)",
            DbFailure::Unique,
        ),
        (
            "INSERT INTO t_parent (id, name, n) VALUES (1, 'b', 1)",
            DbFailure::Unique,
        ),
        (
            "INSERT INTO t_parent (id, name, n) VALUES (3, 'c', 0)",
            DbFailure::Check,
        ),
        (
            "INSERT INTO t_parent (id, name, n) VALUES (4, NULL, 1)",
            DbFailure::NotNull,
        ),
        (
            "INSERT INTO t_child (id, parent_id) VALUES (1, 99)",
            DbFailure::ForeignKey,
        ),
    ];
    for (sql, expected) in cases {
        match conn.execute_unprepared(sql).await {
            Ok(_) => return Err(format!("{sql}: no error").into()),
            Err(error) => {
                let got = DbFailure::of(&error);
                if got != expected {
                    return Err(format!("{sql}: {got:?} instead of {expected:?} ({error})").into());
                }
                if got.is_contention() {
                    return Err(format!("{sql}: a constraint is no contention").into());
                }
            }
        }
    }
    if pg {
        // The double-booking safety net: an exclusion constraint of the real schema.
        let exclusion = conn
            .execute_unprepared(
                "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '23P01', MESSAGE = 'x'; END $$",
            )
            .await;
        let Err(error) = exclusion else {
            return Err("23P01 was not raised".into());
        };
        if DbFailure::of(&error) != DbFailure::Exclusion {
            return Err(format!("23P01 classified as {:?}", DbFailure::of(&error)).into());
        }
        for (code, expected) in [
            ("40001", DbFailure::Serialization),
            ("40P01", DbFailure::Deadlock),
            ("55P03", DbFailure::LockTimeout),
        ] {
            let Err(error) = conn
                .execute_unprepared(&format!(
                    "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '{code}', MESSAGE = 'x'; END $$"
                ))
                .await
            else {
                return Err(format!("{code} was not raised").into());
            };
            let got = DbFailure::of(&error);
            if got != expected || !got.is_contention() {
                return Err(format!("{code} classified as {got:?}").into());
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn database_failures_are_classified_by_code_on_every_backend() -> TestResult {
    on_every_backend!(failures_are_classified_by_code)
}
