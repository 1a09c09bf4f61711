//! `/api/patient-flow/` (api.md §3.18, scheduling.md §5, §8.6). Tests covering a scenario of
//! the scheduling catalogue §8.6 are named `flow_<n>_…`.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use praxi_domain::Role;
use praxi_domain::flow::{FlowStatus, FlowUpdate};
use praxi_store::StoreError;
use praxi_store::audit::AuditEntry;
use praxi_store::entity;
use praxi_store::flow::{FlowWrite, STALE_FLOW_STATUS};
use praxi_store::users::UserRecord;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};

use crate::events::{next_event, open_stream};
use crate::fixtures::{Practice, utc};
use crate::helpers::{Client, TestApp};

const CHAIN: [&str; 6] = [
    "registered",
    "waiting",
    "preparing",
    "in_treatment",
    "post_treatment",
    "done",
];
const FORBIDDEN: &str = "You do not have permission to perform this action.";
const NOT_FOUND: &str = "No PatientFlow matches the given query.";

// ---- fixtures --------------------------------------------------------------------------

async fn insert_appointment(
    app: &TestApp,
    doctor: i64,
    patient: i32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> i64 {
    let model = entity::appointment::ActiveModel {
        patient_id: Set(patient),
        type_id: Set(None),
        doctor_id: Set(doctor),
        start_time: Set(start),
        end_time: Set(end),
        status: Set("scheduled".to_owned()),
        is_no_show: Set(false),
        notes: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap();
    i64::from(model.id)
}

async fn insert_operation(
    app: &TestApp,
    (surgeon, assistant): (i64, Option<i64>),
    patient: i32,
    room: i64,
    start: DateTime<Utc>,
) -> i64 {
    let op_type = entity::operation_type::ActiveModel {
        name: Set(format!("Eingriff {start}")),
        prep_duration: Set(10),
        op_duration: Set(30),
        post_duration: Set(10),
        color: Set("#445566".to_owned()),
        active: Set(true),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id;
    entity::operation::ActiveModel {
        patient_id: Set(patient),
        primary_surgeon_id: Set(surgeon),
        assistant_id: Set(assistant),
        anesthesist_id: Set(None),
        op_room_id: Set(room),
        op_room_type: Set("room".to_owned()),
        op_type_id: Set(op_type),
        start_time: Set(start),
        end_time: Set(start + Duration::minutes(50)),
        prep_duration: Set(10),
        op_duration: Set(30),
        post_duration: Set(10),
        status: Set("planned".to_owned()),
        notes: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id
}

/// The practice of the fixtures plus an admin, two appointments and two operations on
/// MONDAY (2030-01-14): doctor A's appointment (patient 1), doctor B's appointment (patient
/// 2), B's operation with A assisting (patient 3) and B's operation alone (patient 4).
struct Ward {
    practice: Practice,
    admin: UserRecord,
    appointment: i64,
    foreign_appointment: i64,
    operation: i64,
    foreign_operation: i64,
}

impl Ward {
    async fn new(app: &TestApp) -> Ward {
        let practice = Practice::new(app).await;
        let admin = app.create_user("ward.admin", Some(Role::Admin)).await;
        let (a, b) = (practice.doctor.id, practice.other_doctor.id);
        let appointment = insert_appointment(app, a, 1, utc(0, 9, 0), utc(0, 9, 30)).await;
        let foreign_appointment = insert_appointment(app, b, 2, utc(0, 9, 0), utc(0, 9, 30)).await;
        let room = practice.other_room;
        let operation = insert_operation(app, (b, Some(a)), 3, room, utc(0, 10, 0)).await;
        let foreign_operation = insert_operation(app, (b, None), 4, room, utc(0, 11, 0)).await;
        Ward {
            practice,
            admin,
            appointment,
            foreign_appointment,
            operation,
            foreign_operation,
        }
    }

    fn admin<'a>(&self, app: &'a TestApp) -> Client<'a> {
        app.as_user(&self.admin)
    }

    /// Doctor A (owns `appointment` and is in the team of `operation`).
    fn doctor<'a>(&self, app: &'a TestApp) -> Client<'a> {
        app.as_user(&self.practice.doctor)
    }
}

/// POSTs as `client` and expects 201; returns the id.
async fn create(client: &Client<'_>, body: Value) -> i64 {
    let res = client.post("/api/patient-flow/", &body).await;
    assert_eq!(res.status, 201, "{body}: {}", res.text);
    res.body["id"].as_i64().unwrap()
}

/// Moves a registered flow step by step to `to` through the status endpoint.
async fn walk(client: &Client<'_>, id: i64, to: &str) {
    let target = CHAIN.iter().position(|status| *status == to).unwrap();
    for status in &CHAIN[1..=target] {
        let res = client
            .patch(
                &format!("/api/patient-flow/{id}/status/"),
                &json!({ "status": status }),
            )
            .await;
        assert_eq!(res.status, 200, "{status}: {}", res.text);
    }
}

fn ids(body: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|flow| flow["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

fn instant(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn audit_rows(app: &TestApp, action: &str) -> Vec<praxi_store::audit::AuditRecord> {
    app.store().audit_log(Some(action), 1000).await.unwrap()
}

async fn history(app: &TestApp, flow: i64) -> Vec<entity::patient_flow_event::Model> {
    entity::patient_flow_event::Entity::find()
        .filter(entity::patient_flow_event::Column::FlowId.eq(flow))
        .order_by_asc(entity::patient_flow_event::Column::Id)
        .all(app.store().conn())
        .await
        .unwrap()
}

// ---- scheduling.md §8.6 ----------------------------------------------------------------

#[tokio::test]
async fn flow_91_walks_the_chain_with_one_history_and_audit_row_per_step() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let res = admin
        .post(
            "/api/patient-flow/",
            &json!({"appointment_id": ward.appointment}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["status"], "registered");
    assert_eq!(res.body["appointment"]["id"], ward.appointment);
    assert_eq!(res.body["operation"], Value::Null);
    assert_eq!(res.body["arrival_time"], Value::Null);
    assert_eq!(res.body["notes"], Value::Null);
    assert_eq!(res.body["wait_time_minutes"], Value::Null);
    assert_eq!(res.body["treatment_time_minutes"], 0);
    let id = res.body["id"].as_i64().unwrap();

    for step in CHAIN.windows(2) {
        let res = admin
            .patch(
                &format!("/api/patient-flow/{id}/status/"),
                &json!({"status": step[1]}),
            )
            .await;
        assert_eq!(res.status, 200, "{step:?}: {}", res.text);
        assert_eq!(res.body["status"], step[1]);
    }

    // One audit row per step, patient of the appointment, meta {flow_id, from, to}.
    let mut audit = audit_rows(&app, "patient_flow_status_update").await;
    audit.reverse();
    assert_eq!(audit.len(), 5);
    for (row, step) in audit.iter().zip(CHAIN.windows(2)) {
        assert_eq!(row.patient_id, Some(1));
        assert_eq!(row.role_name, "admin");
        assert_eq!(
            row.meta,
            Some(json!({"flow_id": id, "from": step[0], "to": step[1]}))
        );
    }
    // The history: the initial status, then every step, by the acting user.
    let events = history(&app, id).await;
    let steps: Vec<(Option<&str>, &str)> = events
        .iter()
        .map(|e| (e.from_status.as_deref(), e.to_status.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (None, "registered"),
            (Some("registered"), "waiting"),
            (Some("waiting"), "preparing"),
            (Some("preparing"), "in_treatment"),
            (Some("in_treatment"), "post_treatment"),
            (Some("post_treatment"), "done"),
        ]
    );
    assert!(events.iter().all(|e| e.user_id == Some(ward.admin.id)));
    app.stop().await;
}

/// The original's e2e expectation: arrival, 20 minutes waiting, 40 minutes in treatment.
#[tokio::test]
async fn flow_92_wait_20_and_treatment_40_minutes_come_from_the_status_history() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let id = create(&admin, json!({"appointment_id": ward.appointment})).await;
    walk(&admin, id, "waiting").await; // arrives now (t = 0)

    app.state.clock.advance(Duration::minutes(20));
    // Access tokens live 15 minutes: mint a fresh one on the advanced clock.
    let admin = ward.admin(&app);
    for status in ["preparing", "in_treatment"] {
        let res = admin
            .patch(
                &format!("/api/patient-flow/{id}/status/"),
                &json!({ "status": status }),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
    }
    let res = admin.get(&format!("/api/patient-flow/{id}/")).await;
    assert_eq!(res.body["wait_time_minutes"], 20);
    assert_eq!(res.body["treatment_time_minutes"], 0);

    app.state.clock.advance(Duration::minutes(40));
    let admin = ward.admin(&app);
    // Still in treatment: the treatment time runs until now (t = 60).
    let res = admin.get(&format!("/api/patient-flow/{id}/")).await;
    assert_eq!(res.body["wait_time_minutes"], 20);
    assert_eq!(res.body["treatment_time_minutes"], 40);
    for status in ["post_treatment", "done"] {
        let res = admin
            .patch(
                &format!("/api/patient-flow/{id}/status/"),
                &json!({ "status": status }),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
    }
    // wait = 20 - 0, treatment = 60 - 20; `done` stops both clocks.
    app.state.clock.advance(Duration::minutes(30));
    let admin = ward.admin(&app);
    let res = admin.get(&format!("/api/patient-flow/{id}/")).await;
    assert_eq!(res.body["status"], "done");
    assert_eq!(res.body["wait_time_minutes"], 20, "{}", res.text);
    assert_eq!(res.body["treatment_time_minutes"], 40, "{}", res.text);
    app.stop().await;
}

/// The original's unit test: the arrival time is given by the client (20 minutes ago), the
/// treatment starts right away and lasts 40 minutes.
#[tokio::test]
async fn flow_92_a_client_given_arrival_time_counts_as_the_start_of_waiting() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let arrival = (app.state.now() - Duration::minutes(20)).trunc_subsecs(0);
    let id = create(
        &admin,
        json!({"appointment_id": ward.appointment, "arrival_time": arrival.to_rfc3339()}),
    )
    .await;
    walk(&admin, id, "in_treatment").await;
    app.state.clock.advance(Duration::minutes(40));
    let admin = ward.admin(&app);
    let res = admin
        .patch(
            &format!("/api/patient-flow/{id}/status/"),
            &json!({"status": "post_treatment"}),
        )
        .await;
    assert_eq!(res.status, 200);
    let res = admin
        .patch(
            &format!("/api/patient-flow/{id}/status/"),
            &json!({"status": "done"}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["wait_time_minutes"], 20, "{}", res.text);
    assert_eq!(res.body["treatment_time_minutes"], 40, "{}", res.text);
    // The arrival time is kept as given (the walk through `waiting` does not overwrite it).
    assert_eq!(instant(&res.body["arrival_time"]), arrival);
    app.stop().await;
}

#[tokio::test]
async fn flow_93_a_done_flow_is_read_only_for_everyone() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let id = create(&admin, json!({"appointment_id": ward.appointment})).await;
    walk(&admin, id, "done").await;
    let detail = format!("/api/patient-flow/{id}/");
    let status = format!("/api/patient-flow/{id}/status/");
    let assistant = app.as_role(Role::Assistant).await;

    // Admin and assistant: the object permission answers 403, before the body is read.
    for client in [&admin, &assistant] {
        for body in [json!({"status": "done"}), json!({})] {
            let res = client.patch(&status, &body).await;
            assert_eq!(res.status, 403, "{}", res.text);
            assert_eq!(res.body["detail"], FORBIDDEN);
        }
        assert_eq!(
            client.patch(&detail, &json!({"notes": "x"})).await.status,
            403
        );
        assert_eq!(
            client.put(&detail, &json!({"notes": "x"})).await.status,
            403
        );
        assert_eq!(client.delete(&detail).await.status, 403);
    }
    // The owning doctor: the field rule answers 400; delete is forbidden for everyone.
    let doctor = ward.doctor(&app);
    let read_only = json!({"status": ["\"done\" ist schreibgeschützt."]});
    let res = doctor.patch(&status, &json!({"status": "done"})).await;
    assert_eq!((res.status, &res.body), (400, &read_only));
    let res = doctor.patch(&detail, &json!({"notes": "x"})).await;
    assert_eq!((res.status, &res.body), (400, &read_only));
    let res = doctor.delete(&detail).await;
    assert_eq!(
        (res.status, res.body["detail"].as_str()),
        (403, Some(FORBIDDEN))
    );

    // Nothing changed, nothing more was audited.
    let res = admin.get(&detail).await;
    assert_eq!(res.body["status"], "done");
    assert_eq!(res.body["notes"], Value::Null);
    assert_eq!(
        audit_rows(&app, "patient_flow_status_update").await.len(),
        5
    );
    assert!(audit_rows(&app, "patient_flow_delete").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn flow_94_skipping_and_going_back_are_rejected_and_not_audited() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let id = create(&admin, json!({"appointment_id": ward.appointment})).await;
    let status = format!("/api/patient-flow/{id}/status/");
    walk(&admin, id, "waiting").await;
    let res = admin
        .patch(&status, &json!({"status": "in_treatment"}))
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"status": ["Ungültiger Übergang waiting -> in_treatment."]})
    );
    let res = admin.patch(&status, &json!({"status": "preparing"})).await;
    assert_eq!(res.status, 200);
    let res = admin.patch(&status, &json!({"status": "waiting"})).await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"status": ["Ungültiger Übergang preparing -> waiting."]})
    );
    // A same-status request is an accepted no-op, audited like the original.
    let res = admin.patch(&status, &json!({"status": "preparing"})).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["status"], "preparing");
    let audit = audit_rows(&app, "patient_flow_status_update").await;
    assert_eq!(audit.len(), 3, "waiting, preparing, the no-op");
    assert_eq!(
        audit[0].meta,
        Some(json!({"flow_id": id, "from": "preparing", "to": "preparing"}))
    );
    // The no-op leaves no history row.
    assert_eq!(history(&app, id).await.len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn flow_95_a_flow_links_exactly_one_appointment_or_operation() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let neither =
        json!({"non_field_errors": ["Entweder Termin oder Operation muss gesetzt sein."]});
    for body in [
        json!({}),
        json!({"appointment_id": null, "operation_id": null}),
    ] {
        let res = admin.post("/api/patient-flow/", &body).await;
        assert_eq!((res.status, &res.body), (400, &neither), "{body}");
    }
    let res = admin
        .post(
            "/api/patient-flow/",
            &json!({"appointment_id": ward.appointment, "operation_id": ward.operation}),
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"non_field_errors": ["Nur Termin oder Operation darf gesetzt sein, nicht beides."]})
    );
    // An operation flow on its own is fine.
    let res = admin
        .post(
            "/api/patient-flow/",
            &json!({"operation_id": ward.operation}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["appointment"], Value::Null);
    assert_eq!(res.body["operation"]["id"], ward.operation);
    app.stop().await;
}

#[tokio::test]
async fn flow_96_new_flows_start_registered_or_waiting() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    for status in ["preparing", "in_treatment", "post_treatment", "done"] {
        let res = admin
            .post(
                "/api/patient-flow/",
                &json!({"appointment_id": ward.appointment, "status": status}),
            )
            .await;
        assert_eq!(res.status, 400, "{status}");
        let keys: Vec<&String> = res.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["status"], "{}", res.text);
        assert_eq!(
            res.body["status"][0],
            format!(
                "Ungültiger Anfangsstatus \"{status}\": ein Ablauf beginnt mit \"registered\" oder \"waiting\"."
            )
        );
    }
    // Registered by default, without an arrival time.
    let res = admin
        .post(
            "/api/patient-flow/",
            &json!({"appointment_id": ward.appointment}),
        )
        .await;
    assert_eq!(res.body["status"], "registered");
    assert_eq!(res.body["arrival_time"], Value::Null);
    // Created as waiting: the patient has arrived now.
    let res = admin
        .post(
            "/api/patient-flow/",
            &json!({"appointment_id": ward.appointment, "status": "waiting", "notes": "Rückruf"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["status"], "waiting");
    assert_eq!(res.body["notes"], "Rückruf");
    assert_eq!(
        res.body["arrival_time"], res.body["status_changed_at"],
        "{}",
        res.text
    );
    assert_eq!(res.body["wait_time_minutes"], 0);
    assert_eq!(audit_rows(&app, "patient_flow_create").await.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn flow_97_live_excludes_done_doctors_see_their_own_billing_only_reads() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let done = create(&admin, json!({"appointment_id": ward.appointment})).await;
    walk(&admin, done, "done").await;
    let own = create(&admin, json!({"appointment_id": ward.appointment})).await;
    let foreign = create(&admin, json!({"appointment_id": ward.foreign_appointment})).await;
    let team = create(&admin, json!({"operation_id": ward.operation})).await;
    let foreign_op = create(&admin, json!({"operation_id": ward.foreign_operation})).await;

    let res = admin.get("/api/patient-flow/").await;
    assert_eq!(res.status, 200);
    assert_eq!(ids(&res.body), [done, own, foreign, team, foreign_op]);
    // Every flow changed just now, so all but the done one are live.
    let res = admin.get("/api/patient-flow/live/").await;
    assert_eq!(ids(&res.body), [own, foreign, team, foreign_op]);

    let doctor = ward.doctor(&app);
    let res = doctor.get("/api/patient-flow/").await;
    assert_eq!(res.status, 200);
    assert_eq!(ids(&res.body), [done, own, team]);
    let res = doctor.get("/api/patient-flow/live/").await;
    assert_eq!(ids(&res.body), [own, team]);

    let billing = app.as_role(Role::Billing).await;
    let res = billing.get("/api/patient-flow/").await;
    assert_eq!(res.status, 200);
    assert_eq!(ids(&res.body).len(), 5);
    assert_eq!(
        billing
            .get(&format!("/api/patient-flow/{own}/"))
            .await
            .status,
        200
    );
    let res = billing
        .post(
            "/api/patient-flow/",
            &json!({"appointment_id": ward.appointment}),
        )
        .await;
    assert_eq!(
        (res.status, res.body["detail"].as_str()),
        (403, Some(FORBIDDEN))
    );
    let res = billing
        .patch(
            &format!("/api/patient-flow/{own}/status/"),
            &json!({"status": "waiting"}),
        )
        .await;
    assert_eq!(res.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn flow_98_doctors_create_flows_only_for_their_own_appointments_and_operations() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let doctor = ward.doctor(&app);
    for body in [
        json!({"appointment_id": ward.foreign_appointment}),
        json!({"operation_id": ward.foreign_operation}),
    ] {
        let res = doctor.post("/api/patient-flow/", &body).await;
        assert_eq!(res.status, 403, "{body}: {}", res.text);
        assert_eq!(res.body["detail"], FORBIDDEN);
    }
    assert!(
        app.store()
            .patient_flows(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    // Own appointment, and an operation in which the doctor assists.
    create(&doctor, json!({"appointment_id": ward.appointment})).await;
    create(&doctor, json!({"operation_id": ward.operation})).await;
    app.stop().await;
}

// ---- the state machine over HTTP -------------------------------------------------------

/// Every (from, to) pair of the 6 × 6 table, on both write paths: the status endpoint and the
/// generic `PATCH`.
#[tokio::test]
async fn every_allowed_and_forbidden_transition_over_http() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    for (from_idx, from) in CHAIN.iter().enumerate() {
        for (to_idx, to) in CHAIN.iter().enumerate() {
            for path in ["status/", ""] {
                let id = create(&admin, json!({"appointment_id": ward.appointment})).await;
                walk(&admin, id, from).await;
                let res = admin
                    .patch(
                        &format!("/api/patient-flow/{id}/{path}"),
                        &json!({ "status": to }),
                    )
                    .await;
                let case = format!("{from} -> {to} via /{path}: {}", res.text);
                if *from == "done" {
                    assert_eq!(res.status, 403, "{case}");
                } else if to_idx == from_idx || to_idx == from_idx + 1 {
                    assert_eq!(res.status, 200, "{case}");
                    assert_eq!(res.body["status"], *to, "{case}");
                } else {
                    assert_eq!(res.status, 400, "{case}");
                    assert_eq!(
                        res.body,
                        json!({"status": [format!("Ungültiger Übergang {from} -> {to}.")]}),
                        "{case}"
                    );
                }
                let stored = admin.get(&format!("/api/patient-flow/{id}/")).await;
                let expected = if to_idx == from_idx + 1 && *from != "done" {
                    to
                } else {
                    from
                };
                assert_eq!(stored.body["status"], *expected, "{case}");
            }
        }
    }
    app.stop().await;
}

/// Two clients race the same step: the conditional update lets exactly one through.
#[tokio::test]
async fn concurrent_status_changes_record_the_step_once() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let id = create(&admin, json!({"appointment_id": ward.appointment})).await;
    let path = format!("/api/patient-flow/{id}/status/");
    let body = json!({"status": "waiting"});
    let clients: Vec<Client<'_>> = (0..8).map(|_| ward.admin(&app)).collect();
    let responses =
        futures_util::future::join_all(clients.iter().map(|c| c.patch(&path, &body))).await;
    for res in &responses {
        assert!(
            res.status == 200
                || (res.status == 400 && res.body == json!({"status": [STALE_FLOW_STATUS]})),
            "{}",
            res.text
        );
    }
    let steps = history(&app, id).await;
    assert_eq!(steps.iter().filter(|e| e.to_status == "waiting").count(), 1);
    app.stop().await;
}

/// A change decided on a stale read is refused by the store (§15 item 18), on update and
/// delete alike.
#[tokio::test]
async fn stale_reads_cannot_overwrite_a_newer_status() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let id = create(&admin, json!({"appointment_id": ward.appointment})).await;
    let stale = app.store().patient_flow(id).await.unwrap().unwrap();
    walk(&admin, id, "waiting").await;
    let audit = |action: &str, patient_id: Option<i32>, meta: Value| AuditEntry {
        user_id: Some(ward.admin.id),
        username: ward.admin.username.clone(),
        role_name: "admin".to_owned(),
        action: action.to_owned(),
        patient_id,
        meta: Some(meta),
        request_id: None,
        subjects: Vec::new(),
    };
    let result = app
        .store()
        .update_patient_flow(
            &stale,
            stale.link().unwrap(),
            FlowUpdate {
                status: Some(FlowStatus::Waiting),
                ..Default::default()
            },
            FlowWrite::Status,
            Some(ward.admin.id),
            app.state.now(),
            audit,
        )
        .await;
    let Err(StoreError::Invalid(errors)) = result else {
        panic!("expected a stale-status error, got {result:?}")
    };
    assert_eq!(errors.fields()["status"], [STALE_FLOW_STATUS]);
    let result = app.store().delete_patient_flow(&stale, audit).await;
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
    assert_eq!(history(&app, id).await.len(), 2);
    app.stop().await;
}

// ---- RBAC ------------------------------------------------------------------------------

#[tokio::test]
async fn every_endpoint_answers_each_role_with_the_matrix_status() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = ward.doctor(&app);
    let billing = app.as_role(Role::Billing).await;
    let nobody = app.as_no_role().await;
    let anonymous = app.anonymous();
    let own = create(&admin, json!({"appointment_id": ward.appointment})).await;
    let foreign = create(&admin, json!({"operation_id": ward.foreign_operation})).await;

    // (client, list/live, detail of own, detail of foreign)
    let readers: [(&str, &Client<'_>, u16, u16, u16); 6] = [
        ("admin", &admin, 200, 200, 200),
        ("assistant", &assistant, 200, 200, 200),
        ("doctor", &doctor, 200, 200, 404),
        ("billing", &billing, 200, 200, 200),
        ("no role", &nobody, 403, 403, 403),
        ("anonymous", &anonymous, 401, 401, 401),
    ];
    for (who, client, list, own_status, foreign_status) in readers {
        for path in ["/api/patient-flow/", "/api/patient-flow/live/"] {
            assert_eq!(client.get(path).await.status, list, "{who} {path}");
        }
        let res = client.get(&format!("/api/patient-flow/{own}/")).await;
        assert_eq!(res.status, own_status, "{who} own");
        let res = client.get(&format!("/api/patient-flow/{foreign}/")).await;
        assert_eq!(res.status, foreign_status, "{who} foreign");
        if foreign_status == 404 {
            assert_eq!(res.body["detail"], NOT_FOUND);
        }
    }

    // Writes: (client, create own, create foreign, write own, write foreign).
    let writers: [(&str, &Client<'_>, u16, u16, u16, u16); 6] = [
        ("admin", &admin, 201, 201, 200, 200),
        ("assistant", &assistant, 201, 201, 200, 200),
        ("doctor", &doctor, 201, 403, 200, 404),
        ("billing", &billing, 403, 403, 403, 403),
        ("no role", &nobody, 403, 403, 403, 403),
        ("anonymous", &anonymous, 401, 401, 401, 401),
    ];
    for (who, client, create_own, create_foreign, write_own, write_foreign) in writers {
        let res = client
            .post(
                "/api/patient-flow/",
                &json!({"appointment_id": ward.appointment}),
            )
            .await;
        assert_eq!(res.status, create_own, "{who} create own: {}", res.text);
        let res = client
            .post(
                "/api/patient-flow/",
                &json!({"appointment_id": ward.foreign_appointment}),
            )
            .await;
        assert_eq!(res.status, create_foreign, "{who} create foreign");
        for (flow, expected) in [(own, write_own), (foreign, write_foreign)] {
            let detail = format!("/api/patient-flow/{flow}/");
            let body = json!({"notes": who});
            assert_eq!(
                client.put(&detail, &body).await.status,
                expected,
                "{who} PUT {flow}"
            );
            assert_eq!(
                client.patch(&detail, &body).await.status,
                expected,
                "{who} PATCH {flow}"
            );
            let res = client.patch(&format!("{detail}status/"), &json!({})).await;
            assert_eq!(res.status, expected, "{who} status {flow}");
        }
    }

    // Deletes, each on a fresh flow.
    let deleters: [(&str, &Client<'_>, u16, u16); 6] = [
        ("admin", &admin, 204, 204),
        ("assistant", &assistant, 204, 204),
        ("doctor", &doctor, 204, 404),
        ("billing", &billing, 403, 403),
        ("no role", &nobody, 403, 403),
        ("anonymous", &anonymous, 401, 401),
    ];
    for (who, client, own_status, foreign_status) in deleters {
        let own = create(&admin, json!({"appointment_id": ward.appointment})).await;
        let foreign = create(&admin, json!({"appointment_id": ward.foreign_appointment})).await;
        let res = client.delete(&format!("/api/patient-flow/{own}/")).await;
        assert_eq!(res.status, own_status, "{who} delete own");
        if own_status == 204 {
            assert!(res.text.is_empty());
        }
        let res = client
            .delete(&format!("/api/patient-flow/{foreign}/"))
            .await;
        assert_eq!(res.status, foreign_status, "{who} delete foreign");
    }

    // Methods the routes do not have: 401 → 403 → 405, as DRF orders them.
    let unsupported: [(&str, &Client<'_>, u16); 4] = [
        ("admin", &admin, 405),
        ("billing", &billing, 403),
        ("no role", &nobody, 403),
        ("anonymous", &anonymous, 401),
    ];
    for (who, client, expected) in unsupported {
        assert_eq!(
            client.delete("/api/patient-flow/").await.status,
            expected,
            "{who}"
        );
        assert_eq!(
            client
                .post("/api/patient-flow/live/", &json!({}))
                .await
                .status,
            expected,
            "{who}"
        );
        let status = format!("/api/patient-flow/{own}/status/");
        assert_eq!(
            client.put(&status, &json!({})).await.status,
            expected,
            "{who}"
        );
    }
    assert_eq!(
        admin
            .get(&format!("/api/patient-flow/{own}/status/"))
            .await
            .status,
        405
    );
    app.stop().await;
}

// ---- audit -----------------------------------------------------------------------------

#[tokio::test]
async fn reads_and_writes_leave_the_audit_rows_of_the_spec() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let id = create(&admin, json!({"appointment_id": ward.appointment})).await;
    let op_flow = create(&admin, json!({"operation_id": ward.operation})).await;
    let create_rows = audit_rows(&app, "patient_flow_create").await;
    assert_eq!(create_rows.len(), 2);
    assert_eq!(create_rows[1].patient_id, Some(1));
    assert_eq!(
        create_rows[1].meta,
        Some(json!({"flow_id": id, "status": "registered"}))
    );
    // The patient of an operation flow is the operation's patient.
    assert_eq!(create_rows[0].patient_id, Some(3));

    // A list writes exactly one row, without a patient.
    admin.get("/api/patient-flow/").await;
    let views = audit_rows(&app, "patient_flow_view").await;
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].patient_id, None);
    assert_eq!(views[0].meta, Some(json!({"count": 2})));
    admin.get("/api/patient-flow/live/").await;
    let views = audit_rows(&app, "patient_flow_view").await;
    assert_eq!(views.len(), 2);
    assert_eq!(views[0].meta, Some(json!({"live": true, "count": 2})));
    admin.get(&format!("/api/patient-flow/{id}/")).await;
    let views = audit_rows(&app, "patient_flow_view").await;
    assert_eq!(views.len(), 3);
    assert_eq!(views[0].patient_id, Some(1));
    assert_eq!(views[0].meta, Some(json!({"flow_id": id})));
    // A 404 is not audited.
    assert_eq!(admin.get("/api/patient-flow/999999/").await.status, 404);
    assert_eq!(audit_rows(&app, "patient_flow_view").await.len(), 3);

    // A generic update: `patient_flow_update` always, the status row only on a change.
    let detail = format!("/api/patient-flow/{id}/");
    admin.patch(&detail, &json!({"notes": "Rückruf"})).await;
    assert_eq!(audit_rows(&app, "patient_flow_update").await.len(), 1);
    assert!(
        audit_rows(&app, "patient_flow_status_update")
            .await
            .is_empty()
    );
    admin.patch(&detail, &json!({"status": "waiting"})).await;
    let updates = audit_rows(&app, "patient_flow_update").await;
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0].meta, Some(json!({"flow_id": id})));
    let status_rows = audit_rows(&app, "patient_flow_status_update").await;
    assert_eq!(status_rows.len(), 1);
    assert_eq!(
        status_rows[0].meta,
        Some(json!({"flow_id": id, "from": "registered", "to": "waiting"}))
    );
    // The status endpoint audits every accepted call, `{}` included.
    let res = admin
        .patch(&format!("/api/patient-flow/{op_flow}/status/"), &json!({}))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["status"], "registered");
    let status_rows = audit_rows(&app, "patient_flow_status_update").await;
    assert_eq!(status_rows.len(), 2);
    assert_eq!(status_rows[0].patient_id, Some(3));
    assert_eq!(
        status_rows[0].meta,
        Some(json!({"flow_id": op_flow, "from": "registered", "to": "registered"}))
    );

    assert_eq!(admin.delete(&detail).await.status, 204);
    let deletes = audit_rows(&app, "patient_flow_delete").await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].patient_id, Some(1));
    assert_eq!(
        deletes[0].meta,
        Some(json!({"flow_id": id, "status": "waiting"}))
    );
    assert_eq!(admin.get(&detail).await.status, 404);
    app.stop().await;
}

// ---- timestamps ------------------------------------------------------------------------

#[tokio::test]
async fn status_changed_at_moves_only_with_the_status_and_orders_the_list() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let first = create(&admin, json!({"appointment_id": ward.appointment})).await;
    let second = create(&admin, json!({"appointment_id": ward.appointment})).await;
    let detail = format!("/api/patient-flow/{first}/");
    let created = instant(&admin.get(&detail).await.body["status_changed_at"]);

    app.state.clock.advance(Duration::minutes(1));
    let admin = ward.admin(&app);
    // Notes and a same-status request leave it alone.
    assert_eq!(
        admin.patch(&detail, &json!({"notes": "x"})).await.status,
        200
    );
    let res = admin
        .patch(
            &format!("{detail}status/"),
            &json!({"status": "registered"}),
        )
        .await;
    assert_eq!(instant(&res.body["status_changed_at"]), created);
    // Newest change first: `second` was created after `first`.
    let res = admin.get("/api/patient-flow/").await;
    let order: Vec<i64> = res
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, [second, first]);

    // A status change moves it to now, and the flow to the top.
    let res = admin
        .patch(&format!("{detail}status/"), &json!({"status": "waiting"}))
        .await;
    let changed = instant(&res.body["status_changed_at"]);
    assert!(
        changed >= created + Duration::minutes(1),
        "{changed} {created}"
    );
    // The first step to `waiting` fills the empty arrival time.
    assert_eq!(res.body["arrival_time"], res.body["status_changed_at"]);
    let res = admin.get("/api/patient-flow/").await;
    assert_eq!(res.body[0]["id"], first);
    app.stop().await;
}

// ---- the live board --------------------------------------------------------------------

#[tokio::test]
async fn live_shows_todays_and_recently_changed_flows_and_takes_a_date() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    // On MONDAY (2030), changed now: live by recent activity only.
    let old = create(&admin, json!({"appointment_id": ward.appointment})).await;

    // A day and an hour later: `old` changed yesterday, more than 12 hours ago.
    app.state.clock.advance(Duration::hours(25));
    let admin = ward.admin(&app);
    let now = app.state.now();
    let today = now.with_timezone(&chrono_tz::Europe::Berlin).date_naive();
    let today_appointment = insert_appointment(
        &app,
        ward.practice.doctor.id,
        1,
        now - Duration::minutes(1),
        now + Duration::minutes(1),
    )
    .await;
    let on_today = create(&admin, json!({"appointment_id": today_appointment})).await;
    let done_today = create(&admin, json!({"appointment_id": today_appointment})).await;
    walk(&admin, done_today, "done").await;
    let recent = create(&admin, json!({"appointment_id": ward.foreign_appointment})).await;

    // `old` changed 25 hours ago and its appointment is not today: off the board.
    let res = admin.get("/api/patient-flow/live/").await;
    assert_eq!(res.status, 200);
    assert_eq!(ids(&res.body), [on_today, recent]);
    // A given day shows that day's flows (and flows changed on it), never done ones.
    let res = admin.get("/api/patient-flow/live/?date=2030-01-14").await;
    assert_eq!(ids(&res.body), [old, recent]);
    let res = admin
        .get(&format!("/api/patient-flow/live/?date={today}"))
        .await;
    assert_eq!(ids(&res.body), [on_today, recent]);
    let views = audit_rows(&app, "patient_flow_view").await;
    assert_eq!(
        views[0].meta,
        Some(json!({"live": true, "count": 2, "date": today}))
    );
    // The doctor's board is filtered too.
    let res = ward.doctor(&app).get("/api/patient-flow/live/").await;
    assert_eq!(ids(&res.body), [on_today]);

    let res = admin.get("/api/patient-flow/live/?date=14.01.2030").await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]})
    );
    app.stop().await;
}

// ---- live push -------------------------------------------------------------------------

#[tokio::test]
async fn the_patient_flow_board_hears_every_change_within_a_second() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let assistant = app.as_role(Role::Assistant).await;
    let mut stream = open_stream(&app, assistant.token.as_deref().unwrap(), "patient-flow").await;
    let ready = tokio::time::timeout(StdDuration::from_secs(2), stream.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&ready).contains("event: ready"));

    let id = create(&admin, json!({"appointment_id": ward.appointment})).await;
    let event = next_event(&mut stream, "flow.created")
        .await
        .expect("created");
    assert_eq!(
        (event["id"].as_i64(), event["status"].as_str()),
        (Some(id), Some("registered"))
    );

    let started = std::time::Instant::now();
    let res = admin
        .patch(
            &format!("/api/patient-flow/{id}/status/"),
            &json!({"status": "waiting"}),
        )
        .await;
    assert_eq!(res.status, 200);
    let event = next_event(&mut stream, "flow.status")
        .await
        .expect("status");
    assert!(started.elapsed() < StdDuration::from_secs(1));
    assert_eq!(event["board"], "patient-flow");
    assert_eq!(event["id"], id);
    assert_eq!(event["status"], "waiting");
    // Events carry ids and the status only, never patient data.
    let keys: Vec<&String> = event.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["board", "kind", "id", "status", "at"]);

    admin
        .patch(&format!("/api/patient-flow/{id}/"), &json!({"notes": "x"}))
        .await;
    let event = next_event(&mut stream, "flow.updated")
        .await
        .expect("updated");
    assert_eq!(event["id"], id);
    admin.delete(&format!("/api/patient-flow/{id}/")).await;
    let event = next_event(&mut stream, "flow.deleted")
        .await
        .expect("deleted");
    assert_eq!(event["id"], id);
    app.stop().await;
}

// ---- shapes and validation -------------------------------------------------------------

#[tokio::test]
async fn reads_nest_the_appointment_and_operation_read_shapes() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let appointment_flow = create(&admin, json!({"appointment_id": ward.appointment})).await;
    let operation_flow = create(&admin, json!({"operation_id": ward.operation})).await;
    let appointment = admin
        .get(&format!("/api/appointments/{}/", ward.appointment))
        .await;
    let operation = admin
        .get(&format!("/api/operations/{}/", ward.operation))
        .await;
    assert_eq!(operation.status, 200, "{}", operation.text);

    let res = admin.get("/api/patient-flow/").await;
    let flows = res.body.as_array().unwrap();
    let by_id = |id: i64| flows.iter().find(|f| f["id"] == id).unwrap();
    let keys: Vec<&String> = by_id(appointment_flow)
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "appointment",
            "operation",
            "status",
            "arrival_time",
            "status_changed_at",
            "notes",
            "wait_time_minutes",
            "treatment_time_minutes"
        ]
    );
    assert_eq!(by_id(appointment_flow)["appointment"], appointment.body);
    assert_eq!(by_id(operation_flow)["operation"], operation.body);
    let detail = admin
        .get(&format!("/api/patient-flow/{operation_flow}/"))
        .await;
    assert_eq!(detail.body["operation"], operation.body);
    assert_eq!(detail.body["appointment"], Value::Null);

    // PUT/PATCH answer with the original's short write shape.
    let res = admin
        .put(
            &format!("/api/patient-flow/{appointment_flow}/"),
            &json!({"notes": "Rückruf"}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.body,
        json!({"status": "registered", "arrival_time": null, "notes": "Rückruf"})
    );
    // A client echoing the read shape back is fine: read-only keys are ignored.
    let mut echo = detail.body.clone();
    echo["notes"] = json!("echo");
    let res = admin
        .patch(&format!("/api/patient-flow/{operation_flow}/"), &echo)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["notes"], "echo");
    app.stop().await;
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let id = create(&admin, json!({"appointment_id": ward.appointment})).await;
    let post = |body: Value| {
        let admin = &admin;
        async move { admin.post("/api/patient-flow/", &body).await }
    };
    let cases = [
        (
            json!({"appointment_id": ward.appointment, "status": "bogus"}),
            json!({"status": ["\"bogus\" is not a valid choice."]}),
        ),
        (
            json!({"appointment_id": ward.appointment, "status": null}),
            json!({"status": ["This field may not be null."]}),
        ),
        (
            json!({"appointment_id": 99_999_999}),
            json!({"appointment_id": ["Invalid pk \"99999999\" - object does not exist."]}),
        ),
        (
            json!({"appointment_id": 9_999_999_999_i64}),
            json!({"appointment_id": ["Invalid pk \"9999999999\" - object does not exist."]}),
        ),
        (
            json!({"operation_id": 99_999_999}),
            json!({"operation_id": ["Invalid pk \"99999999\" - object does not exist."]}),
        ),
        (
            json!({"appointment_id": "abc"}),
            json!({"appointment_id": ["A valid integer is required."]}),
        ),
        (
            json!({"appointment_id": ward.appointment, "color": "red"}),
            json!({"color": ["Unknown field."]}),
        ),
    ];
    for (body, expected) in cases {
        let res = post(body.clone()).await;
        assert_eq!((res.status, &res.body), (400, &expected), "{body}");
    }
    let res = post(json!({"appointment_id": ward.appointment, "arrival_time": "gestern"})).await;
    assert_eq!(res.status, 400);
    assert!(res.body["arrival_time"].is_array(), "{}", res.text);

    let status = format!("/api/patient-flow/{id}/status/");
    let res = admin.patch(&status, &json!({"status": "bogus"})).await;
    assert_eq!(
        (res.status, &res.body),
        (
            400,
            &json!({"status": ["\"bogus\" is not a valid choice."]})
        )
    );
    let res = admin.patch(&status, &json!({"notes": "x"})).await;
    assert_eq!(
        (res.status, &res.body),
        (400, &json!({"notes": ["Unknown field."]}))
    );
    let res = admin
        .patch(
            &format!("/api/patient-flow/{id}/"),
            &json!({"arrival_time": 5}),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body["arrival_time"].is_array());

    let res = admin.get("/api/patient-flow/999999/").await;
    assert_eq!(
        (res.status, res.body["detail"].as_str()),
        (404, Some(NOT_FOUND))
    );
    let res = admin
        .patch(
            "/api/patient-flow/999999/status/",
            &json!({"status": "waiting"}),
        )
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(admin.get("/api/patient-flow/abc/").await.status, 404);
    assert_eq!(history(&app, id).await.len(), 1, "nothing was written");
    app.stop().await;
}

#[tokio::test]
async fn updates_may_move_a_flow_to_another_appointment_or_operation() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let doctor = ward.doctor(&app);
    let second = insert_appointment(
        &app,
        ward.practice.doctor.id,
        2,
        utc(1, 9, 0),
        utc(1, 9, 30),
    )
    .await;
    let id = create(&doctor, json!({"appointment_id": ward.appointment})).await;
    let detail = format!("/api/patient-flow/{id}/");

    let res = doctor
        .patch(&detail, &json!({"appointment_id": second}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin.get(&detail).await;
    assert_eq!(res.body["appointment"]["id"], second);
    // Doctors may only move it to their own appointments.
    let res = doctor
        .patch(
            &detail,
            &json!({"appointment_id": ward.foreign_appointment}),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    // Both links at once are refused; clearing one while setting the other is a move.
    let res = admin
        .patch(&detail, &json!({"operation_id": ward.operation}))
        .await;
    assert_eq!(
        (res.status, &res.body),
        (
            400,
            &json!({"non_field_errors": ["Nur Termin oder Operation darf gesetzt sein, nicht beides."]})
        )
    );
    let res = admin
        .patch(
            &detail,
            &json!({"appointment_id": null, "operation_id": ward.operation}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin.get(&detail).await;
    assert_eq!(res.body["appointment"], Value::Null);
    assert_eq!(res.body["operation"]["id"], ward.operation);
    let res = admin
        .patch(&detail, &json!({"operation_id": 99_999_999}))
        .await;
    assert_eq!(
        (res.status, &res.body),
        (
            400,
            &json!({"operation_id": ["Invalid pk \"99999999\" - object does not exist."]})
        )
    );
    app.stop().await;
}

/// Deleting an appointment or operation deletes its flows (the original orphaned them with
/// both links empty — rows no account could delete once `done`).
#[tokio::test]
async fn flows_go_with_their_appointment_or_operation() {
    let app = TestApp::spawn().await;
    let ward = Ward::new(&app).await;
    let admin = ward.admin(&app);
    let appointment_flow = create(&admin, json!({"appointment_id": ward.appointment})).await;
    walk(&admin, appointment_flow, "done").await;
    let operation_flow = create(&admin, json!({"operation_id": ward.operation})).await;
    let res = admin
        .delete(&format!("/api/appointments/{}/", ward.appointment))
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    let res = admin
        .delete(&format!("/api/operations/{}/", ward.operation))
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    for id in [appointment_flow, operation_flow] {
        assert_eq!(
            admin.get(&format!("/api/patient-flow/{id}/")).await.status,
            404
        );
        assert!(history(&app, id).await.is_empty());
    }
    app.stop().await;
}

/// Issue 5: the number of statements of a flow list does not grow with the data.
#[tokio::test]
async fn listing_flows_runs_a_fixed_number_of_statements() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let mut conn = app.store().conn().clone();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    conn.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let mut measured = Vec::new();
    let mut hour = 8;
    for batch in [1, 8] {
        for _ in 0..batch {
            let patient = practice.patients[hour as usize % 4];
            let id = practice
                .book(
                    &admin,
                    &practice.booking(practice.doctor.id, patient, (0, hour, 0), (0, hour, 15)),
                )
                .await;
            hour += 1;
            let res = admin
                .post(
                    "/api/patient-flow/",
                    &json!({"appointment_id": id, "status": "waiting"}),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.text);
        }
        count.store(0, Ordering::SeqCst);
        let flows = praxi_store::flow::read_flows(&conn, &praxi_store::flow::FlowFilter::default())
            .await
            .expect("flows");
        assert!(!flows.is_empty());
        measured.push(count.load(Ordering::SeqCst));
    }
    assert_eq!(measured[0], measured[1], "statements: {measured:?}");
    assert!(measured[0] <= 6, "statements: {measured:?}");
    app.stop().await;
}
