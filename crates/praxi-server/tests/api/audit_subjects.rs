//! Issue #16 part A: every audited read records the patients it showed (`subjects`), the
//! access report `GET /api/audit/accesses/` answers "who accessed patient X" and "what did
//! user U access" (JSON pages and CSV, itself audited), master-data reads are not audited, and
//! the hash chain over the log finds a row edited behind the append-only trigger's back.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

use chrono::{Duration, Utc};
use praxi_domain::Role;
use praxi_store::audit::{AuditEntry, BrokenLink, ChainCheck};
use praxi_store::entity;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, Set};
use serde_json::json;

use crate::fixtures::{Practice, utc};
use crate::helpers::TestApp;

const MONDAY: &str = "2030-01-14";

/// The subjects of the newest audit row of `action`.
async fn subjects_of_latest(app: &TestApp, action: &str) -> Vec<i32> {
    let rows = app.store().audit_log(Some(action), 1).await.unwrap();
    let row = rows
        .first()
        .unwrap_or_else(|| panic!("no {action} audit row"));
    app.store()
        .audit_subjects([row.id])
        .await
        .unwrap()
        .remove(&row.id)
        .unwrap_or_default()
}

/// The practice of the fixtures with: patient 1 booked with doctor A and patient 2 with
/// doctor B on Monday, an operation of patient 3 on Monday, a flow for patient 1's
/// appointment. Patient 4 appears nowhere.
async fn world(app: &TestApp) -> Practice {
    let practice = Practice::new(app).await;
    let admin = app.as_role(Role::Admin).await;
    let first = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    practice
        .book(
            &admin,
            &practice.booking(practice.other_doctor.id, 2, (0, 10, 0), (0, 10, 30)),
        )
        .await;
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
    .unwrap()
    .id;
    let start = utc(0, 13, 0);
    entity::operation::ActiveModel {
        patient_id: Set(3),
        primary_surgeon_id: Set(practice.doctor.id),
        op_room_id: Set(practice.other_room),
        op_type_id: Set(op_type),
        start_time: Set(start),
        end_time: Set(start + Duration::minutes(50)),
        prep_duration: Set(10),
        op_duration: Set(30),
        post_duration: Set(10),
        status: Set("planned".to_owned()),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap();
    let res = admin
        .post("/api/patient-flow/", &json!({"appointment_id": first}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    practice
}

#[tokio::test]
async fn list_calendar_and_board_reads_record_the_patients_they_showed() {
    let app = TestApp::spawn().await;
    let practice = world(&app).await;
    let admin = app.as_role(Role::Admin).await;
    for (path, action, expected) in [
        (
            format!("/api/appointments/?date={MONDAY}"),
            "appointment_list",
            vec![1, 2],
        ),
        (
            format!("/api/calendar/week/?date={MONDAY}"),
            "calendar_week",
            vec![1, 2, 3],
        ),
        (
            format!("/api/op-dashboard/?date={MONDAY}"),
            "op_dashboard_view",
            vec![3],
        ),
        (
            format!("/api/op-timeline/?date={MONDAY}"),
            "op_timeline_view",
            vec![3],
        ),
        (
            "/api/patient-flow/".to_owned(),
            "patient_flow_view",
            vec![1],
        ),
        (
            "/api/patients/".to_owned(),
            "patient_list",
            vec![1, 2, 3, 4],
        ),
        (
            "/api/patients/search/?q=Patient2".to_owned(),
            "patient_search",
            vec![2],
        ),
        (
            "/fhir/Patient?family=Patient3".to_owned(),
            "patient_search",
            vec![3],
        ),
    ] {
        let res = admin.get(&path).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text);
        assert_eq!(subjects_of_latest(&app, action).await, expected, "{path}");
    }
    // A page of a paginated list: only the rows on that page.
    let res = admin
        .get(&format!(
            "/api/appointments/?date={MONDAY}&page=2&page_size=1"
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(subjects_of_latest(&app, "appointment_list").await, vec![2]);
    // A doctor's filtered calendar shows (and records) only their bookings.
    let doctor = app.as_user(&practice.doctor);
    let res = doctor
        .get(&format!("/api/calendar/day/?date={MONDAY}"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(subjects_of_latest(&app, "calendar_day").await, vec![1, 3]);
    // A single-patient action lists its patient as subject too.
    let res = admin.get("/api/patients/4/").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(subjects_of_latest(&app, "patient_view").await, vec![4]);
    app.stop().await;
}

#[tokio::test]
async fn who_accessed_a_patient_lists_every_read_that_showed_them_and_is_audited() {
    let app = TestApp::spawn().await;
    world(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let assistant = app.as_role(Role::Assistant).await;
    assert_eq!(
        assistant
            .get(&format!("/api/calendar/week/?date={MONDAY}"))
            .await
            .status,
        200
    );
    assert_eq!(
        assistant
            .get("/api/patients/search/?q=Patient1")
            .await
            .status,
        200
    );
    assert_eq!(assistant.get("/api/patients/2/").await.status, 200);

    // Who saw patient 3 (only in the calendar, never opened)?
    let today = Utc::now().date_naive();
    let res = admin
        .get(&format!(
            "/api/audit/accesses/?patient_id=3&from={today}&to={today}&user_id={}",
            assistant.user_id()
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["count"], 1, "{}", res.text);
    let row = &res.body["results"][0];
    assert_eq!(row["action"], "calendar_week");
    assert_eq!(row["username"], assistant.user.as_ref().unwrap().username);
    assert_eq!(row["subjects"], json!([1, 2, 3]));
    assert!(row["patient_id"].is_null());

    // Who saw patient 2: the calendar and the detail view (newest first), not the search.
    let res = admin
        .get(&format!(
            "/api/audit/accesses/?patient_id=2&user_id={}",
            assistant.user_id()
        ))
        .await;
    let actions: Vec<&str> = res.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["patient_view", "calendar_week"], "{}", res.text);

    // A period before the reads finds nothing.
    let res = admin
        .get("/api/audit/accesses/?patient_id=3&from=2020-01-01&to=2020-12-31")
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["count"], 0);

    // What did the assistant access: their reads (the calendar writes two rows: the view and
    // its doctor list), nothing of others.
    let res = admin
        .get(&format!(
            "/api/audit/accesses/?user_id={}&page_size=2",
            assistant.user_id()
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["count"], 4, "{}", res.text);
    assert_eq!(res.body["results"].as_array().unwrap().len(), 2);
    assert!(res.body["next"].as_str().unwrap().contains("page=2"));

    // CSV: the same rows, one line each after the header.
    let res = admin
        .get("/api/audit/accesses/?patient_id=1&format=csv")
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(
        res.header("content-type").unwrap().starts_with("text/csv"),
        "{:?}",
        res.headers
    );
    let lines: Vec<&str> = res.text.lines().collect();
    assert_eq!(
        lines[0],
        "id,timestamp,user_id,username,role,action,patient_id,subjects,request_id,meta"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.contains(",calendar_week,,1 2 3,")),
        "{}",
        res.text
    );
    assert!(lines.iter().any(|line| line.contains(",patient_search,")));

    // Each query is itself audited, with the queried patient as subject.
    let queries = app
        .store()
        .audit_log(Some("audit_access_query"), 10)
        .await
        .unwrap();
    assert_eq!(queries.len(), 5);
    assert_eq!(queries[0].patient_id, Some(1));
    assert_eq!(queries[0].meta.as_ref().unwrap()["format"], "csv");
    assert_eq!(
        subjects_of_latest(&app, "audit_access_query").await,
        vec![1]
    );
    let mine = admin
        .get(&format!("/api/audit/accesses/?user_id={}", admin.user_id()))
        .await;
    assert!(
        mine.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["action"] == "audit_access_query"),
        "{}",
        mine.text
    );
    app.stop().await;
}

#[tokio::test]
async fn the_access_report_is_admin_only_and_names_bad_parameters() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    for role in [Role::Assistant, Role::Doctor, Role::Billing] {
        let client = app.as_role(role).await;
        let res = client.get("/api/audit/accesses/?patient_id=1").await;
        assert_eq!(res.status, 403, "{role:?}: {}", res.text);
    }
    assert_eq!(
        app.anonymous()
            .get("/api/audit/accesses/?patient_id=1")
            .await
            .status,
        401
    );
    for (query, field) in [
        ("", "patient_id"),
        ("patient_id=x", "patient_id"),
        ("user_id=1.5", "user_id"),
        ("patient_id=1&from=yesterday", "from"),
        ("patient_id=1&to=2030-13-01", "to"),
        ("patient_id=1&format=xml", "format"),
    ] {
        let res = admin.get(&format!("/api/audit/accesses/?{query}")).await;
        assert_eq!(res.status, 400, "{query}: {}", res.text);
        assert!(res.body[field].is_array(), "{query}: {}", res.text);
    }
    let res = admin.post("/api/audit/accesses/", &json!({})).await;
    assert_eq!(res.status, 405, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn master_data_reads_are_not_audited_but_their_writes_are() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let before = app.store().audit_log(None, 10_000).await.unwrap().len();
    for path in [
        "/api/appointment-types/".to_owned(),
        "/api/resources/".to_owned(),
        format!("/api/resources/{}/", practice.room),
        "/api/practice-hours/".to_owned(),
        "/api/doctor-hours/".to_owned(),
        "/api/doctor-absences/".to_owned(),
        "/api/doctor-breaks/".to_owned(),
        "/api/operation-types/".to_owned(),
        "/api/doctors/".to_owned(),
        "/api/resource-calendar/resources/".to_owned(),
    ] {
        let res = admin.get(&path).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text);
    }
    let after = app.store().audit_log(None, 10_000).await.unwrap();
    assert_eq!(after.len(), before, "{:?}", &after[..after.len() - before]);
    let res = admin
        .post("/api/appointment-types/", &json!({"name": "Kontrolle"}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let rows = app.store().audit_log(None, 1).await.unwrap();
    assert_eq!(rows[0].action, "appointment_type_create");
    app.stop().await;
}

fn entry(action: &str, patient_id: Option<i32>, subjects: Vec<i32>) -> AuditEntry {
    AuditEntry {
        user_id: None,
        username: "chain-test".to_owned(),
        role_name: String::new(),
        action: action.to_owned(),
        patient_id,
        meta: Some(json!({"z": 1, "a": {"y": [1, 2], "b": null}})),
        request_id: Some("req-chain".to_owned()),
        subjects,
    }
}

/// Runs `update` on `core_auditlog` with the append-only trigger out of the way.
async fn edit_behind_the_trigger(app: &TestApp, update: &str) {
    let conn = app.store().conn();
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared(&format!(
            "ALTER TABLE core_auditlog DISABLE TRIGGER core_auditlog_no_update_delete; {update}; \
             ALTER TABLE core_auditlog ENABLE TRIGGER core_auditlog_no_update_delete;"
        ))
        .await
        .unwrap();
    } else {
        conn.execute_unprepared(&format!(
            "DROP TRIGGER core_auditlog_no_update; DROP TRIGGER core_auditlog_no_delete; {update}; \
             CREATE TRIGGER core_auditlog_no_update BEFORE UPDATE ON core_auditlog \
             BEGIN SELECT RAISE(ABORT, 'core_auditlog is append-only'); END; \
             CREATE TRIGGER core_auditlog_no_delete BEFORE DELETE ON core_auditlog \
             BEGIN SELECT RAISE(ABORT, 'core_auditlog is append-only'); END;"
        ))
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn the_hash_chain_verifies_and_finds_an_edited_row() {
    let app = TestApp::spawn().await;
    let store = app.store();
    // Group-committed reads (several at once) and writes inside their transactions.
    let mut reads = Vec::new();
    for n in 0..8 {
        let store = store.clone();
        reads.push(tokio::spawn(async move {
            store
                .record_audits(vec![
                    entry("chain_read", None, vec![n, n + 1, n]),
                    entry("chain_read", Some(40 + n), Vec::new()),
                ])
                .await
        }));
    }
    for read in reads {
        read.await.unwrap().unwrap();
    }
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/patients/",
            &json!({"id": 77, "first_name": "A", "last_name": "B"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let ChainCheck::Intact { chained, legacy } = store.verify_audit_chain().await.unwrap() else {
        panic!("the chain should be intact");
    };
    assert!(chained >= 17, "{chained}");
    assert_eq!(legacy, 0);

    // Edit one row's action: the verification names exactly that row.
    let rows = store.audit_log(Some("chain_read"), 100).await.unwrap();
    let victim = rows[5].id;
    edit_behind_the_trigger(
        &app,
        &format!("UPDATE core_auditlog SET action = 'chain_reed' WHERE id = {victim}"),
    )
    .await;
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        ChainCheck::Broken {
            id: victim,
            reason: BrokenLink::ContentChanged
        }
    );
    // Put it back: intact again. Then remove the row: the next one no longer links.
    edit_behind_the_trigger(
        &app,
        &format!("UPDATE core_auditlog SET action = 'chain_read' WHERE id = {victim}"),
    )
    .await;
    assert!(matches!(
        store.verify_audit_chain().await.unwrap(),
        ChainCheck::Intact { .. }
    ));
    edit_behind_the_trigger(
        &app,
        &format!("DELETE FROM core_auditlog WHERE id = {victim}"),
    )
    .await;
    let ChainCheck::Broken { id, reason } = store.verify_audit_chain().await.unwrap() else {
        panic!("a removed row must break the chain");
    };
    assert_eq!(reason, BrokenLink::WrongPrevious);
    assert!(id > victim, "{id} after {victim}");
    app.stop().await;
}

#[tokio::test]
async fn a_subject_added_afterwards_breaks_its_rows_hash() {
    let app = TestApp::spawn().await;
    let store = app.store();
    store
        .record_audit(&entry("chain_read", None, vec![5, 6]))
        .await
        .unwrap();
    let id = store.audit_log(Some("chain_read"), 1).await.unwrap()[0].id;
    assert_eq!(
        store.audit_subjects([id]).await.unwrap().remove(&id),
        Some(vec![5, 6])
    );
    // Inserts are what the append-only triggers allow: hiding an access by re-labelling is
    // not possible, and adding a subject later is found.
    store
        .conn()
        .execute_unprepared(&format!(
            "INSERT INTO core_auditlog_subject (audit_id, patient_id) VALUES ({id}, 9)"
        ))
        .await
        .unwrap();
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        ChainCheck::Broken {
            id,
            reason: BrokenLink::ContentChanged
        }
    );
    app.stop().await;
}
