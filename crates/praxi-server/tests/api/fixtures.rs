#![allow(clippy::unwrap_used, reason = "test fixtures fail loudly")]
//! A small practice for scheduling tests: Mon–Fri 08:00–17:00 (Europe/Berlin), two doctors
//! with hours 08:00–17:00, patients, a room and a device. Dates are in January 2030 (CET,
//! UTC+1), far in the future so "now" never interferes.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use praxi_domain::Role;
use praxi_store::entity;
use praxi_store::users::UserRecord;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;

use crate::helpers::{Client, TestApp};

/// Monday 2030-01-14.
pub(crate) const MONDAY: (i32, u32, u32) = (2030, 1, 14);

pub(crate) struct Practice {
    pub doctor: UserRecord,
    pub other_doctor: UserRecord,
    pub patients: Vec<i32>,
    pub room: i64,
    pub other_room: i64,
    pub device: i64,
}

pub(crate) fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// A local Berlin wall-clock time on day `day_offset` after MONDAY, as an ISO string with offset.
pub(crate) fn at(day_offset: u32, h: u32, m: u32) -> String {
    let date = NaiveDate::from_ymd_opt(MONDAY.0, MONDAY.1, MONDAY.2 + day_offset).unwrap();
    let local = chrono_tz::Europe::Berlin
        .from_local_datetime(&date.and_time(time(h, m)))
        .single()
        .unwrap();
    local.to_rfc3339()
}

pub(crate) fn utc(day_offset: u32, h: u32, m: u32) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&at(day_offset, h, m))
        .unwrap()
        .with_timezone(&Utc)
}

pub(crate) async fn practice_hours(app: &TestApp, weekday: i32, from: NaiveTime, to: NaiveTime) {
    entity::practice_hours::ActiveModel {
        weekday: Set(weekday),
        start_time: Set(from),
        end_time: Set(to),
        active: Set(true),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap();
}

pub(crate) async fn doctor_hours(
    app: &TestApp,
    doctor: i64,
    weekday: i32,
    from: NaiveTime,
    to: NaiveTime,
) {
    entity::doctor_hours::ActiveModel {
        doctor_id: Set(doctor),
        weekday: Set(weekday),
        start_time: Set(from),
        end_time: Set(to),
        active: Set(true),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap();
}

pub(crate) async fn resource(app: &TestApp, name: &str, kind: &str) -> i64 {
    entity::resource::ActiveModel {
        name: Set(name.to_owned()),
        r#type: Set(kind.to_owned()),
        color: Set("#6A5ACD".to_owned()),
        active: Set(true),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id
}

pub(crate) async fn absence(app: &TestApp, doctor: i64, from: NaiveDate, to: NaiveDate) -> i64 {
    entity::doctor_absence::ActiveModel {
        doctor_id: Set(doctor),
        start_date: Set(from),
        end_date: Set(to),
        reason: Set(Some("Urlaub".to_owned())),
        active: Set(true),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id
}

pub(crate) async fn practice_break(
    app: &TestApp,
    doctor: Option<i64>,
    date: NaiveDate,
    from: NaiveTime,
    to: NaiveTime,
) -> i64 {
    entity::doctor_break::ActiveModel {
        doctor_id: Set(doctor),
        date: Set(date),
        start_time: Set(from),
        end_time: Set(to),
        reason: Set(None),
        active: Set(true),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id
}

pub(crate) fn day(offset: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(MONDAY.0, MONDAY.1, MONDAY.2 + offset).unwrap()
}

impl Practice {
    pub(crate) async fn new(app: &TestApp) -> Practice {
        let doctor = app.create_user("dr.anna", Some(Role::Doctor)).await;
        let other_doctor = app.create_user("dr.bert", Some(Role::Doctor)).await;
        for weekday in 0..5 {
            practice_hours(app, weekday, time(8, 0), time(17, 0)).await;
            doctor_hours(app, doctor.id, weekday, time(8, 0), time(17, 0)).await;
            doctor_hours(app, other_doctor.id, weekday, time(8, 0), time(17, 0)).await;
        }
        let admin = app.as_role(Role::Admin).await;
        let mut patients = Vec::new();
        for id in 1..=4 {
            let res = admin
                .post(
                    "/api/patients/",
                    &json!({"id": id, "first_name": "P", "last_name": format!("Patient{id}")}),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.text);
            patients.push(id);
        }
        Practice {
            room: resource(app, "Behandlungsraum 1", "room").await,
            other_room: resource(app, "OP-1", "room").await,
            device: resource(app, "EKG", "device").await,
            doctor,
            other_doctor,
            patients,
        }
    }

    /// A create body for `doctor` and `patient` from `from` to `to` (day 0 = MONDAY).
    pub(crate) fn booking(
        &self,
        doctor: i64,
        patient: i32,
        from: (u32, u32, u32),
        to: (u32, u32, u32),
    ) -> serde_json::Value {
        json!({
            "patient_id": patient,
            "doctor": doctor,
            "start_time": at(from.0, from.1, from.2),
            "end_time": at(to.0, to.1, to.2),
        })
    }

    pub(crate) async fn book(&self, client: &Client<'_>, body: &serde_json::Value) -> i64 {
        let res = client.post("/api/appointments/", body).await;
        assert_eq!(res.status, 201, "{}", res.text);
        res.body["id"].as_i64().unwrap()
    }
}
