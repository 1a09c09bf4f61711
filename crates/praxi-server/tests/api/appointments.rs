use praxi_domain::Role;
use serde_json::{Value, json};

use crate::fixtures::{Practice, absence, at, day, practice_break, time};
use crate::helpers::TestApp;

#[tokio::test]
async fn create_returns_201_with_the_read_shape() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let assistant = app.as_role(Role::Assistant).await;
    let mut body = practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30));
    body["resource_ids"] = json!([practice.room, practice.device, practice.room]);
    body["notes"] = json!("Kontrolle");
    let res = assistant.post("/api/appointments/", &body).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let keys: Vec<&str> = res
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "patient_id",
            "patient_name",
            "type",
            "doctor",
            "doctor_name",
            "resources",
            "room_name",
            "resource_names",
            "appointment_color",
            "doctor_color",
            "start_time",
            "end_time",
            "status",
            "is_no_show",
            "notes",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(res.body["patient_name"], "Patient1, P");
    assert_eq!(res.body["doctor"], practice.doctor.id);
    assert_eq!(res.body["start_time"], "2030-01-14T09:00:00+01:00");
    assert_eq!(res.body["status"], "scheduled");
    assert_eq!(res.body["room_name"], "Behandlungsraum 1");
    assert_eq!(res.body["resource_names"], json!(["EKG"]));
    assert_eq!(
        res.body["resources"].as_array().unwrap().len(),
        2,
        "duplicates collapsed"
    );
    let audit = app
        .store()
        .audit_log(Some("appointment_create"), 5)
        .await
        .unwrap();
    assert_eq!(audit[0].patient_id, Some(1));
    app.stop().await;
}

#[tokio::test]
async fn touching_appointments_do_not_conflict() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 2, (0, 9, 30), (0, 10, 0)),
        )
        .await;
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 3, (0, 8, 30), (0, 9, 0)),
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn doctor_overlap_is_doctor_unavailable_with_alternatives() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 10, 0)),
        )
        .await;
    let res = admin
        .post(
            "/api/appointments/",
            &practice.booking(practice.doctor.id, 2, (0, 9, 30), (0, 10, 30)),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body["detail"], json!(["Doctor unavailable."]));
    let alternatives = res.body["alternatives"].as_array().unwrap();
    assert_eq!(alternatives.len(), 1);
    assert_eq!(
        alternatives[0]["doctor"]["id"],
        json!(practice.other_doctor.id.to_string())
    );
    assert!(alternatives[0]["next_available"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn patient_overlap_with_another_doctor_is_a_patient_conflict() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 10, 0)),
        )
        .await;
    let res = admin
        .post(
            "/api/appointments/",
            &practice.booking(practice.other_doctor.id, 1, (0, 9, 30), (0, 10, 30)),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(
        res.body["detail"][0]
            .as_str()
            .unwrap()
            .contains("patient already has an appointment")
    );
    app.stop().await;
}

#[tokio::test]
async fn room_double_booking_is_a_resource_conflict_and_audited() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let mut first = practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 10, 0));
    first["resource_ids"] = json!([practice.room]);
    practice.book(&admin, &first).await;
    let mut second = practice.booking(practice.other_doctor.id, 2, (0, 9, 30), (0, 10, 30));
    second["resource_ids"] = json!([practice.room]);
    let res = admin.post("/api/appointments/", &second).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["non_field_errors"], json!(["Resource conflict"]));
    let audit = app
        .store()
        .audit_log(Some("resource_booking_conflict"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].patient_id, Some(2));
    app.stop().await;
}

#[tokio::test]
async fn hours_absences_and_breaks_make_the_doctor_unavailable() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    absence(&app, practice.doctor.id, day(2), day(2)).await;
    practice_break(&app, None, day(3), time(12, 0), time(12, 30)).await;
    let admin = app.as_role(Role::Admin).await;
    let cases = [
        ((0, 7, 0), (0, 7, 30), "outside_practice"),
        ((0, 16, 45), (0, 17, 15), "outside_practice"),
        ((5, 10, 0), (5, 10, 30), "no_practice_hours"),
        ((2, 10, 0), (2, 10, 30), "absence"),
        ((3, 12, 15), (3, 12, 45), "break"),
        ((0, 16, 0), (1, 9, 0), "outside_practice"),
    ];
    for (from, to, reason) in cases {
        let res = admin
            .post(
                "/api/appointments/",
                &practice.booking(practice.doctor.id, 1, from, to),
            )
            .await;
        assert_eq!(res.status, 400, "{from:?}: {}", res.text);
        assert_eq!(
            res.body["detail"],
            json!(["Doctor unavailable."]),
            "{from:?}"
        );
        assert_eq!(res.body["reason"], reason, "{from:?}: {}", res.text);
    }
    // Ending exactly at closing time is fine.
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 16, 30), (0, 17, 0)),
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn cancelled_appointments_free_their_slot() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 10, 0)),
        )
        .await;
    let res = admin
        .patch(
            &format!("/api/appointments/{id}/"),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 10, 0)),
        )
        .await;
    // Reviving the cancelled one now conflicts.
    let res = admin
        .patch(
            &format!("/api/appointments/{id}/"),
            &json!({"status": "scheduled"}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn field_validation_names_the_field() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let base = practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30));
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let cases = [
        (
            with("end_time", json!(at(0, 8, 0))),
            "end_time",
            "Endzeit muss nach der Startzeit liegen.",
        ),
        (
            with("patient_id", json!(0)),
            "patient_id",
            "patient_id muss positiv sein.",
        ),
        (
            with("patient_id", json!("x")),
            "patient_id",
            "A valid integer is required.",
        ),
        (
            with("patient_id", json!(999)),
            "patient_id",
            "Invalid pk \"999\" - object does not exist.",
        ),
        (
            with("doctor", json!(99999)),
            "doctor",
            "Invalid pk \"99999\" - object does not exist.",
        ),
        (
            with("doctor", json!(admin.user_id())),
            "doctor",
            "Der Arzt muss die Rolle \"doctor\" haben.",
        ),
        (
            with("status", json!("bogus")),
            "status",
            "\"bogus\" is not a valid choice.",
        ),
        (
            with("resource_ids", json!([4242])),
            "resource_ids",
            "resource_ids enthält unbekannte oder inaktive Ressource(n).",
        ),
        (
            with("start_time", json!("tomorrow")),
            "start_time",
            "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
        ),
        (
            with("type", json!(77)),
            "type",
            "Invalid pk \"77\" - object does not exist.",
        ),
    ];
    for (body, field, message) in cases {
        let res = admin.post("/api/appointments/", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.body[field], json!([message]), "{body}: {}", res.text);
    }
    let res = admin.put("/api/appointments/1/", &json!({})).await;
    assert_eq!(res.status, 404);
    let res = admin.post("/api/appointments/", &json!({})).await;
    assert_eq!(res.status, 400);
    for field in ["patient_id", "doctor", "start_time", "end_time"] {
        assert_eq!(
            res.body[field],
            json!(["This field is required."]),
            "{field}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn doctors_book_only_for_themselves_and_billing_is_read_only() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let doctor = app.as_user(&practice.doctor);
    let res = doctor
        .post(
            "/api/appointments/",
            &practice.booking(practice.other_doctor.id, 1, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body["doctor"],
        json!(["Ärzte dürfen nur eigene Termine anlegen/ändern."])
    );
    let own = practice
        .book(
            &doctor,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    let admin = app.as_role(Role::Admin).await;
    let foreign = practice
        .book(
            &admin,
            &practice.booking(practice.other_doctor.id, 2, (0, 9, 0), (0, 9, 30)),
        )
        .await;

    let list = doctor.get("/api/appointments/").await;
    let ids: Vec<i64> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [own]);
    assert_eq!(
        doctor
            .get(&format!("/api/appointments/{foreign}/"))
            .await
            .status,
        403
    );
    assert_eq!(
        doctor
            .patch(
                &format!("/api/appointments/{foreign}/"),
                &json!({"notes": "x"})
            )
            .await
            .status,
        403
    );
    assert_eq!(
        doctor
            .delete(&format!("/api/appointments/{foreign}/"))
            .await
            .status,
        403
    );
    assert_eq!(
        doctor
            .get(&format!("/api/appointments/{own}/"))
            .await
            .status,
        200
    );

    let billing = app.as_role(Role::Billing).await;
    assert_eq!(
        billing
            .get("/api/appointments/")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        billing
            .get(&format!("/api/appointments/{own}/"))
            .await
            .status,
        200
    );
    let res = billing
        .post(
            "/api/appointments/",
            &practice.booking(practice.doctor.id, 3, (1, 9, 0), (1, 9, 30)),
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(
        billing
            .patch(&format!("/api/appointments/{own}/"), &json!({"notes": "x"}))
            .await
            .status,
        403
    );
    assert_eq!(
        billing
            .delete(&format!("/api/appointments/{own}/"))
            .await
            .status,
        403
    );
    let nobody = app.as_no_role().await;
    assert_eq!(nobody.get("/api/appointments/").await.status, 403);
    assert_eq!(app.anonymous().get("/api/appointments/").await.status, 401);
    app.stop().await;
}

#[tokio::test]
async fn updates_are_checked_like_creates_but_notes_edits_always_work() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let first = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 10, 0)),
        )
        .await;
    let second = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 2, (0, 10, 0), (0, 11, 0)),
        )
        .await;
    // Moving the second onto the first is refused.
    let res = admin
        .patch(
            &format!("/api/appointments/{second}/"),
            &json!({"start_time": at(0, 9, 30)}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body["detail"], json!(["Doctor unavailable."]));
    // Moving within its own time (self excluded) works.
    let res = admin
        .patch(
            &format!("/api/appointments/{first}/"),
            &json!({"start_time": at(0, 8, 30)}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    // After the hours change, a notes edit still works (no re-validation without a move).
    let res = admin
        .patch(
            &format!("/api/appointments/{second}/"),
            &json!({"notes": "nur Notiz", "resource_ids": []}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["notes"], "nur Notiz");
    let res = admin
        .put(
            &format!("/api/appointments/{second}/"),
            &json!({"notes": "x"}),
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["doctor"], json!(["This field is required."]));
    app.stop().await;
}

#[tokio::test]
async fn delete_and_mark_no_show() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 10, 0)),
        )
        .await;
    let res = admin
        .post(&format!("/api/appointments/{id}/mark-no-show/"), &json!({}))
        .await;
    assert_eq!(res.status, 400, "future appointments cannot be no-shows");
    assert_eq!(
        res.body["detail"],
        "No-Show kann nur für vergangene Termine gesetzt werden."
    );
    app.state.clock.advance(chrono::Duration::days(365 * 5));
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(&format!("/api/appointments/{id}/mark-no-show/"), &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["is_no_show"], true);
    assert_eq!(res.body["status"], "scheduled");
    let res = admin
        .post(&format!("/api/appointments/{id}/mark-no-show/"), &json!({}))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        app.store()
            .audit_log(Some("appointment_mark_no_show"), 5)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        admin
            .get(&format!("/api/appointments/{id}/mark-no-show/"))
            .await
            .status,
        405
    );
    assert_eq!(
        admin
            .delete(&format!("/api/appointments/{id}/"))
            .await
            .status,
        204
    );
    assert_eq!(
        admin.get(&format!("/api/appointments/{id}/")).await.status,
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn list_filters_by_local_day_and_doctor() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 8, 0), (0, 8, 30)),
        )
        .await;
    practice
        .book(
            &admin,
            &practice.booking(practice.other_doctor.id, 2, (1, 9, 0), (1, 9, 30)),
        )
        .await;
    let res = admin.get("/api/appointments/?date=2030-01-14").await;
    assert_eq!(res.body.as_array().unwrap().len(), 1);
    let res = admin
        .get("/api/appointments/?start_date=2030-01-14&end_date=2030-01-15")
        .await;
    assert_eq!(res.body.as_array().unwrap().len(), 2);
    let res = admin
        .get(&format!(
            "/api/appointments/?doctor_id={}",
            practice.other_doctor.id
        ))
        .await;
    assert_eq!(res.body.as_array().unwrap().len(), 1);
    let res = admin.get("/api/appointments/?doctor_id=abc&limit=5").await;
    assert_eq!(
        res.body.as_array().unwrap().len(),
        2,
        "non-integer ids and limit are ignored"
    );
    let res = admin.get("/api/appointments/?date=garbage").await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("date").is_some());
    app.stop().await;
}

/// Issue 4 "must show": 50 parallel POSTs for the same free slot, exactly one 201, the others
/// the conflict error, no 5xx — on whichever backend this run uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_bookings_of_one_slot_yield_exactly_one() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let token = admin.token.clone().unwrap();
    let url = app.url("/api/appointments/");
    let mut tasks = Vec::new();
    for idx in 0..50 {
        // Same doctor and slot; patients alternate so the doctor is the contended occupant.
        let body = practice.booking(
            practice.doctor.id,
            practice.patients[idx % 4],
            (0, 9, 0),
            (0, 9, 30),
        );
        let http = app.http.clone();
        let url = url.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let res = http
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }));
    }
    let mut created = 0;
    for task in tasks {
        let (status, text) = task.await.unwrap();
        match status {
            201 => created += 1,
            400 => assert!(
                text.contains("Doctor unavailable.") || text.contains("patient"),
                "{text}"
            ),
            other => panic!("unexpected {other}: {text}"),
        }
    }
    assert_eq!(created, 1);
    let all = admin.get("/api/appointments/").await;
    assert_eq!(all.body.as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn suggest_returns_free_grid_slots_and_falls_back_to_other_doctors() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 8, 0), (0, 9, 0)),
        )
        .await;
    let res = admin
        .get(&format!(
            "/api/appointments/suggest/?doctor_id={}&duration_minutes=30&start_date=2030-01-14&limit=3",
            practice.doctor.id
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let slots = res.body["primary_suggestions"].as_array().unwrap();
    assert_eq!(slots.len(), 3);
    assert_eq!(slots[0]["start_time"], "2030-01-14T09:00:00+01:00");
    assert_eq!(slots[1]["start_time"], "2030-01-14T09:30:00+01:00");
    assert_eq!(res.body["primary_doctor"]["id"], practice.doctor.id);
    assert_eq!(res.body["fallback_suggestions"], json!([]));

    absence(&app, practice.doctor.id, day(1), day(1)).await;
    let res = admin
        .get(&format!(
            "/api/appointments/suggest/?doctor_id={}&duration_minutes=30&start_date=2030-01-15",
            practice.doctor.id
        ))
        .await;
    assert_eq!(res.body["primary_suggestions"], json!([]));
    let fallback = res.body["fallback_suggestions"].as_array().unwrap();
    assert_eq!(fallback.len(), 1);
    assert_eq!(fallback[0]["doctor"]["id"], practice.other_doctor.id);
    assert_eq!(
        app.store()
            .audit_log(Some("doctor_substitution_suggest"), 5)
            .await
            .unwrap()
            .len(),
        1
    );

    for (query, detail) in [
        ("", "doctor_id query parameter is required."),
        ("doctor_id=x", "doctor_id must be an integer."),
        (
            "doctor_id=1&duration_minutes=30&start_date=2030-13-01",
            "start_date must be in format YYYY-MM-DD.",
        ),
        (
            "doctor_id=1&duration_minutes=30&limit=0",
            "limit must be >= 1.",
        ),
    ] {
        let res = admin
            .get(&format!("/api/appointments/suggest/?{query}"))
            .await;
        assert_eq!(res.status, 400, "{query}");
        assert_eq!(res.body["detail"], detail, "{query}");
    }
    let doctor = app.as_user(&practice.doctor);
    let res = doctor
        .get(&format!(
            "/api/appointments/suggest/?doctor_id={}&duration_minutes=30",
            practice.other_doctor.id
        ))
        .await;
    assert_eq!(res.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn open_ended_date_ranges_work_on_every_backend() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    for query in [
        "end_date=2030-01-20",
        "start_date=2030-01-01",
        "start_date=0001-01-01",
        "end_date=9999-12-31",
    ] {
        let res = admin.get(&format!("/api/appointments/?{query}")).await;
        assert_eq!(res.status, 200, "{query}: {}", res.text);
        assert_eq!(res.body.as_array().unwrap().len(), 1, "{query}");
    }
    let res = admin.get("/api/appointments/?end_date=2029-12-31").await;
    assert_eq!(res.body.as_array().unwrap().len(), 0);
    app.stop().await;
}

#[tokio::test]
async fn bookings_longer_than_24_hours_are_refused() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let mut body = practice.booking(practice.doctor.id, 1, (0, 9, 0), (2, 9, 0));
    body["status"] = json!("cancelled");
    let res = admin.post("/api/appointments/", &body).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(
        res.body["end_time"],
        json!(["Ein Termin darf höchstens 24 Stunden dauern."])
    );
    app.stop().await;
}

#[tokio::test]
async fn the_list_keeps_the_array_shape_but_pages_when_asked() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    for (idx, hour) in [8, 9, 10].into_iter().enumerate() {
        let patient = practice.patients[idx];
        practice
            .book(
                &admin,
                &practice.booking(practice.doctor.id, patient, (0, hour, 0), (0, hour, 30)),
            )
            .await;
    }
    assert!(admin.get("/api/appointments/").await.body.is_array());
    let res = admin.get("/api/appointments/?page=2&page_size=2").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["count"], 3);
    assert_eq!(res.body["results"].as_array().unwrap().len(), 1);
    assert_eq!(
        res.body["results"][0]["start_time"],
        "2030-01-14T10:00:00+01:00"
    );
    assert!(
        res.body["previous"]
            .as_str()
            .unwrap()
            .contains("page_size=2")
    );
    assert_eq!(admin.get("/api/appointments/?page=9").await.status, 404);
    app.stop().await;
}
