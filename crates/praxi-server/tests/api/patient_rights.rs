//! Patient rights (DSGVO Art. 15, 17): the export of everything stored about a patient and
//! the erasure that keeps bookings, flows and the audit log consistent
//! (docs/data-protection.md, "Patient rights").

use chrono::{Duration, Utc};
use praxi_domain::Role;
use praxi_store::entity;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};

use crate::fixtures::{Practice, at};
use crate::helpers::TestApp;

/// Patient 1 with an appointment (with notes), a flow (with notes), an operation (with
/// notes), a note and a document; returns (appointment id, operation id, flow id).
async fn patient_with_records(app: &TestApp, practice: &Practice) -> (i64, i64, i64) {
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .patch(
            "/api/patients/1/",
            &json!({"first_name": "Erika", "last_name": "Mustermann", "birth_date": "1964-08-12",
                    "phone": "030 1234567", "email": "erika@example.test"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut body = practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30));
    body["notes"] = json!("Rückenschmerzen seit Mai");
    let appointment = practice.book(&admin, &body).await;
    let res = admin
        .post(
            "/api/patient-flow/",
            &json!({"appointment_id": appointment, "notes": "kommt mit Begleitung"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let flow = res.body["id"].as_i64().expect("flow id");
    let op_type = entity::operation_type::ActiveModel {
        name: Set("Kleiner Eingriff".to_owned()),
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
    .expect("op type")
    .id;
    let res = admin
        .post(
            "/api/operations/",
            &json!({"patient_id": 1, "primary_surgeon": practice.other_doctor.id,
                    "op_room": practice.other_room, "op_type": op_type,
                    "start_time": at(1, 10, 0), "notes": "Allergie: Latex"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let operation = res.body["id"].as_i64().expect("operation id");
    entity::patient_note::ActiveModel {
        patient_id: Set(1),
        author_name: Set("Dr. Anna".to_owned()),
        author_role: Set("doctor".to_owned()),
        content: Set("Befund unauffällig".to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("note");
    entity::patient_document::ActiveModel {
        patient_id: Set(1),
        title: Set("Arztbrief".to_owned()),
        doc_type: Set("report".to_owned()),
        file: Set(Some("patient_documents/2030/01/14/brief.pdf".to_owned())),
        note: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("document");
    (appointment, operation, flow)
}

#[tokio::test]
async fn export_holds_everything_about_the_patient_and_is_audited() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let (appointment, operation, flow) = patient_with_records(&app, &practice).await;
    let assistant = app.as_role(Role::Assistant).await;
    assistant.get("/api/patients/1/").await;

    let res = assistant.get("/api/patients/1/export/").await;
    assert_eq!(res.status, 200, "{}", res.text);
    let export = &res.body;
    assert_eq!(export["patient"]["last_name"], "Mustermann");
    assert_eq!(export["patient"]["birth_date"], "1964-08-12");
    assert_eq!(export["appointments"][0]["id"], appointment);
    assert_eq!(
        export["appointments"][0]["notes"],
        "Rückenschmerzen seit Mai"
    );
    assert_eq!(export["operations"][0]["id"], operation);
    assert_eq!(export["operations"][0]["notes"], "Allergie: Latex");
    assert_eq!(export["patient_flows"][0]["id"], flow);
    assert_eq!(
        export["patient_flows"][0]["status_history"][0]["to_status"],
        "registered"
    );
    assert_eq!(export["notes"][0]["content"], "Befund unauffällig");
    assert_eq!(export["documents"][0]["title"], "Arztbrief");
    assert_eq!(export["retention_until"], "2040-01-15");
    assert_eq!(export["erasure"], Value::Null);
    let actions: Vec<&str> = export["access_log"]
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|row| row["action"].as_str())
        .collect();
    assert!(actions.contains(&"patient_view"), "{actions:?}");
    // The export itself is audited, naming the patient.
    let rows = app
        .store()
        .audit_log(Some("patient_export"), 5)
        .await
        .expect("audit");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].patient_id, Some(1));
    assert_eq!(rows[0].meta, None);

    // Who may export: admin and assistant; doctors and billing not.
    assert_eq!(
        app.as_role(Role::Admin)
            .await
            .get("/api/patients/1/export/")
            .await
            .status,
        200
    );
    assert_eq!(
        app.as_role(Role::Doctor)
            .await
            .get("/api/patients/1/export/")
            .await
            .status,
        403
    );
    assert_eq!(
        app.as_role(Role::Billing)
            .await
            .get("/api/patients/1/export/")
            .await
            .status,
        403
    );
    assert_eq!(
        app.anonymous().get("/api/patients/1/export/").await.status,
        401
    );
    assert_eq!(assistant.get("/api/patients/999/export/").await.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn erasure_pseudonymises_and_keeps_bookings_flows_and_audit_consistent() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let (appointment, operation, flow) = patient_with_records(&app, &practice).await;
    let admin = app.as_role(Role::Admin).await;
    let before_appointment = admin
        .get(&format!("/api/appointments/{appointment}/"))
        .await;
    let before_operation = admin.get(&format!("/api/operations/{operation}/")).await;
    let audit_before = entity::audit_log::Entity::find()
        .count(app.store().conn())
        .await
        .expect("count");

    // Only admins erase; a reason is required; the retention period needs a confirmation.
    let res = app
        .as_role(Role::Assistant)
        .await
        .post("/api/patients/1/erase/", &json!({"reason": "Antrag"}))
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    let res = admin
        .post("/api/patients/1/erase/", &json!({"reason": " "}))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body.get("reason").is_some());
    let res = admin.post("/api/patients/1/erase/", &json!({})).await;
    assert_eq!(res.status, 400, "{}", res.text);
    let res = admin
        .post(
            "/api/patients/1/erase/",
            &json!({"reason": "Antrag", "confirm_retention": "ja"}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body.get("confirm_retention").is_some());
    let res = admin
        .post(
            "/api/patients/1/erase/",
            &json!({"reason": "Antrag vom 3.12."}),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert!(
        res.body["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("2040-01-15")),
        "{}",
        res.text
    );

    let res = admin
        .post(
            "/api/patients/1/erase/",
            &json!({"reason": "Antrag vom 3.12.", "confirm_retention": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["retention_overridden"], true);
    assert_eq!(res.body["retention_until"], "2040-01-15");
    assert_eq!(res.body["notes_deleted"], 1);
    assert_eq!(res.body["documents_deleted"], 1);
    assert_eq!(
        res.body["document_files"],
        json!(["patient_documents/2030/01/14/brief.pdf"])
    );

    // The patient row holds no personal data; search does not find the old names.
    let patient = admin.get("/api/patients/1/").await;
    assert_eq!(patient.body["first_name"], "");
    assert_eq!(patient.body["last_name"], "Gelöscht");
    assert_eq!(patient.body["birth_date"], Value::Null);
    assert_eq!(patient.body["phone"], Value::Null);
    assert_eq!(patient.body["email"], Value::Null);
    for q in ["Muster", "erika", "1234567"] {
        let found = admin.get(&format!("/api/patients/search/?q={q}")).await;
        assert_eq!(found.body, json!([]), "{q}: {}", found.text);
    }

    // Bookings keep slot, status, doctor, room; only the free text is gone.
    let after = admin
        .get(&format!("/api/appointments/{appointment}/"))
        .await;
    assert_eq!(after.status, 200, "{}", after.text);
    for field in ["start_time", "end_time", "status", "doctor", "patient_id"] {
        assert_eq!(after.body[field], before_appointment.body[field], "{field}");
    }
    assert!(
        after.body["notes"].is_null() || after.body["notes"] == "",
        "{}",
        after.text
    );
    let after = admin.get(&format!("/api/operations/{operation}/")).await;
    for field in [
        "start_time",
        "end_time",
        "status",
        "primary_surgeon",
        "op_room",
    ] {
        assert_eq!(after.body[field], before_operation.body[field], "{field}");
    }
    let flow_row = entity::patient_flow::Entity::find_by_id(flow)
        .one(app.store().conn())
        .await
        .expect("flow")
        .expect("flow kept");
    assert_eq!(flow_row.notes, None);
    assert_eq!(flow_row.status, "registered");
    // The slot is still taken: the same time for the same doctor conflicts.
    let res = admin
        .post(
            "/api/appointments/",
            &practice.booking(practice.doctor.id, 2, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);

    // The audit log: every earlier row is still there, plus one erasure row without the reason.
    let audit_after = entity::audit_log::Entity::find()
        .count(app.store().conn())
        .await
        .expect("count");
    assert!(audit_after > audit_before);
    let rows = app
        .store()
        .audit_log(Some("patient_erase"), 5)
        .await
        .expect("audit");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].patient_id, Some(1));
    let meta = rows[0].meta.clone().unwrap_or_default().to_string();
    assert!(!meta.contains("Antrag"), "{meta}");
    let erasure = app
        .store()
        .patient_erasure(1)
        .await
        .expect("erasure")
        .expect("row");
    assert_eq!(erasure.reason.as_deref(), Some("Antrag vom 3.12."));

    // The export says it was erased; a second erasure is 409.
    let export = admin.get("/api/patients/1/export/").await;
    assert_eq!(export.body["patient"]["last_name"], "Gelöscht");
    assert_eq!(export.body["notes"], json!([]));
    assert_eq!(export.body["erasure"]["retention_overridden"], true);
    let res = admin
        .post(
            "/api/patients/1/erase/",
            &json!({"reason": "nochmal", "confirm_retention": true}),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn after_the_retention_period_erasure_needs_no_confirmation() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    patient_with_records(&app, &practice).await;
    let admin = app.as_role(Role::Admin).await;
    // A patient without medical records is not retained at all.
    let res = admin
        .post("/api/patients/2/erase/", &json!({"reason": "Antrag"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["retention_overridden"], false);
    assert_eq!(res.body["retention_until"], Value::Null);
    // Fifteen years later the records of patient 1 may go.
    app.state.clock.advance(Duration::days(365 * 15));
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post("/api/patients/1/erase/", &json!({"reason": "Antrag"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["retention_overridden"], false);
    app.stop().await;
}
