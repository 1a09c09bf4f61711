//! Audited override (issue #14): admins and assistants may book over a closed day, outside
//! hours, into a break or an absence with a reason; the booking records what it overrode and
//! an `appointment_override` audit row lists it (without the reason). A double booking of the
//! same doctor, patient, room or device is never overridable.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use praxi_domain::Role;
use serde_json::{Value, json};

use crate::fixtures::{Practice, absence, day, practice_break, time};
use crate::helpers::TestApp;

fn with_reason(mut body: Value, reason: &str) -> Value {
    body["override_reason"] = json!(reason);
    body
}

#[tokio::test]
async fn an_override_books_over_a_holiday_and_is_audited() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .put("/api/holidays/region/", &json!({"region": "BE"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let easter_monday = json!({
        "patient_id": 1,
        "doctor": practice.doctor.id,
        "start_time": "2030-04-22T10:00:00+02:00",
        "end_time": "2030-04-22T10:30:00+02:00",
    });
    let res = admin.post("/api/appointments/", &easter_monday).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body["reason"], "holiday");

    let assistant = app.as_role(Role::Assistant).await;
    let res = assistant
        .post(
            "/api/appointments/",
            &with_reason(easter_monday.clone(), "Akutschmerz, Notfall"),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["overridden"], json!(["holiday"]));
    assert_eq!(res.body["override_reason"], "Akutschmerz, Notfall");
    let id = res.body["id"].as_i64().unwrap();
    let audit = app
        .store()
        .audit_log(Some("appointment_override"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        audit[0].meta,
        Some(json!({"appointment_id": id, "overridden": ["holiday"]}))
    );
    assert_eq!(audit[0].patient_id, Some(1));
    assert!(
        !audit[0].meta.as_ref().unwrap().to_string().contains("Akut"),
        "the reason stays out of the log"
    );
    // The read shape shows it; a normal booking does not carry the keys.
    let res = admin.get(&format!("/api/appointments/{id}/")).await;
    assert_eq!(res.body["overridden"], json!(["holiday"]));
    // The calendar card is marked.
    let key = format!("{:0>40}", "override");
    let now = app.state.now();
    app.store()
        .create_session(
            &key,
            admin.user_id(),
            "csrf-override",
            now,
            now + chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    let html = app
        .http
        .get(app.url("/calendar/?view=day&date=2030-04-22"))
        .header(
            "cookie",
            format!("{}={key}", praxi_server::web::session::SESSION_COOKIE),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Ausnahme (begründet)"), "{html}");
    assert!(html.contains(" overridden"), "{html}");

    // A double booking of the same doctor is never overridable.
    let mut again = with_reason(easter_monday, "trotzdem");
    again["patient_id"] = json!(2);
    let res = admin.post("/api/appointments/", &again).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body["reason"], "doctor_conflict", "{}", res.text);
    let audit = app
        .store()
        .audit_log(Some("appointment_override"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1, "a refused override writes no override row");
    app.stop().await;
}

#[tokio::test]
async fn overrides_cover_hours_breaks_and_absences_but_never_double_bookings() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    practice_break(&app, None, day(0), time(12, 0), time(13, 0)).await;
    absence(&app, practice.other_doctor.id, day(1), day(1)).await;
    let cases = [
        (
            practice.doctor.id,
            (0, 18, 0),
            (0, 18, 30),
            "outside_practice",
        ),
        (practice.doctor.id, (0, 12, 0), (0, 12, 30), "break"),
        (practice.other_doctor.id, (1, 10, 0), (1, 10, 30), "absence"),
    ];
    for (patient, (doctor, from, to, code)) in (1..).zip(cases) {
        let body = practice.booking(doctor, patient, from, to);
        let res = admin.post("/api/appointments/", &body).await;
        assert_eq!(res.status, 400, "{code}: {}", res.text);
        let res = admin
            .post("/api/appointments/", &with_reason(body, "Ausnahme"))
            .await;
        assert_eq!(res.status, 201, "{code}: {}", res.text);
        assert_eq!(res.body["overridden"], json!([code]), "{code}");
    }
    // Same patient at the same time with another doctor: never, even with a reason.
    let body = practice.booking(practice.other_doctor.id, 1, (0, 18, 0), (0, 18, 30));
    let res = admin
        .post("/api/appointments/", &with_reason(body, "Ausnahme"))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn only_admins_and_assistants_override_with_a_real_reason() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let body = practice.booking(practice.doctor.id, 1, (0, 18, 0), (0, 18, 30));
    let doctor = app.as_user(&practice.doctor);
    let res = doctor
        .post("/api/appointments/", &with_reason(body.clone(), "bitte"))
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    let billing = app.as_role(Role::Billing).await;
    let res = billing
        .post("/api/appointments/", &with_reason(body.clone(), "bitte"))
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    let admin = app.as_role(Role::Admin).await;
    for reason in ["   ", &"x".repeat(501)] {
        let res = admin
            .post("/api/appointments/", &with_reason(body.clone(), reason))
            .await;
        assert_eq!(res.status, 400, "{}", res.text);
        assert!(res.body["override_reason"].is_array(), "{}", res.text);
    }
    // Inside the hours an override reason changes nothing: no override is recorded.
    let inside = practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30));
    let res = admin
        .post("/api/appointments/", &with_reason(inside, "unnötig"))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert!(res.body.get("overridden").is_none(), "{}", res.text);
    app.stop().await;
}
