//! The calendar in a real browser: booking, conflicts explained on the page, moving, the
//! doctors' own view, billing's read-only view, escaping, and the print view. Dates are in the
//! `Practice` fixture's January 2030 (Monday 2030-01-14).

use fantoccini::Locator;
use praxi_domain::Role;
use praxi_store::entity;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::fixtures::{Practice, day, time, utc};
use crate::harness::{Browser, browser};
use crate::helpers::TestApp;

const WEEK: &str = "/calendar/?date=2030-01-14";

/// Sets a form control's value (date and time inputs take typed keys in the browser's locale;
/// the value property is locale-free).
async fn set_value(browser: &Browser, css: &str, value: &str) {
    browser.wait_for(css).await;
    browser
        .client
        .execute(
            "document.querySelector(arguments[0]).value = arguments[1];",
            vec![json!(css), json!(value)],
        )
        .await
        .expect("set value");
}

async fn select(browser: &Browser, css: &str, value: &str) {
    browser
        .wait_for(css)
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|error| panic!("select {value} in {css}: {error}"));
}

/// The text content of an element (also the parts a narrow card clips).
async fn content(browser: &Browser, css: &str) -> String {
    browser.wait_for(css).await;
    let value = browser
        .client
        .execute(
            "return document.querySelector(arguments[0]).textContent;",
            vec![json!(css)],
        )
        .await
        .expect("text content");
    value
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// How many elements match.
async fn count(browser: &Browser, css: &str) -> usize {
    browser
        .client
        .find_all(Locator::Css(css))
        .await
        .expect("find")
        .len()
}

/// The browser's session cookie and the page's CSRF token, for forged requests.
async fn session(browser: &Browser) -> (String, String) {
    let cookie = browser
        .client
        .get_named_cookie("praxi_session")
        .await
        .expect("session cookie");
    let csrf = browser
        .wait_for("meta[name=csrf-token]")
        .await
        .attr("content")
        .await
        .expect("meta")
        .expect("csrf token");
    (format!("praxi_session={}", cookie.value()), csrf)
}

async fn colour(app: &TestApp, user: i64, colour: &str) {
    entity::user::Entity::update_many()
        .col_expr(entity::user::Column::CalendarColor, Expr::value(colour))
        .filter(entity::user::Column::Id.eq(user))
        .exec(app.store().conn())
        .await
        .expect("colour");
}

#[tokio::test]
async fn assistants_book_an_appointment_in_the_calendar_and_see_it_in_the_grid() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    colour(&app, practice.other_doctor.id, "#6A1B9A").await;
    let admin = app.as_role(Role::Admin).await;
    let checkup = admin
        .post(
            "/api/appointment-types/",
            &json!({"name": "Kontrolle", "color": "#2E8B57", "duration_minutes": 20}),
        )
        .await;
    assert_eq!(checkup.status, 201, "{}", checkup.text);
    let checkup = checkup.body["id"].as_i64().unwrap();
    // Some context for the screenshot: both doctors, a room booking, a cancelled one.
    let mut seeded = Vec::new();
    for (doctor, patient, day, from, to) in [
        (practice.doctor.id, 2, 0, (8, 30), (9, 0)),
        (practice.other_doctor.id, 3, 0, (9, 0), (10, 0)),
        (practice.other_doctor.id, 4, 1, (11, 0), (11, 45)),
        (practice.doctor.id, 3, 2, (14, 0), (14, 30)),
        (practice.doctor.id, 4, 3, (10, 0), (10, 30)),
    ] {
        let mut body = practice.booking(doctor, patient, (day, from.0, from.1), (day, to.0, to.1));
        body["resource_ids"] = json!([practice.room]);
        seeded.push(practice.book(&admin, &body).await);
    }
    let cancelled = admin
        .patch(
            &format!("/api/appointments/{}/", seeded[4]),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);

    app.create_user("mfa", Some(Role::Assistant)).await;
    browser.login(&app, "mfa").await;
    browser.goto(&app, WEEK).await;
    let title = browser.text("#calendarTitle").await;
    assert!(
        title.contains("14.01.2030") && title.contains("20.01.2030"),
        "a Monday–Sunday week: {title}"
    );
    assert!(count(&browser, ".tcol").await == 7, "seven day columns");

    // Book: from the toolbar to the form, find the patient by name, choose type and room.
    browser.click("#calendarNewAppointment").await;
    browser.wait_for("#appointmentForm").await;
    browser.fill("#patientSearch", "Patient1").await;
    browser.click("#patientSearchButton").await;
    browser
        .wait_for_text("#patientSearchResult", "1 Treffer")
        .await;
    select(&browser, "#modalPatient", "1").await;
    select(&browser, "#modalDoctor", &practice.doctor.id.to_string()).await;
    select(&browser, "#modalTitle", &checkup.to_string()).await;
    assert_eq!(
        browser
            .wait_for("#modalDate")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("2030-01-14"),
        "the form starts on the shown week"
    );
    set_value(&browser, "#modalStartTime", "09:30").await;
    set_value(&browser, "#modalEndTime", "").await;
    browser
        .click(&format!("#resource-{}", practice.device))
        .await;
    browser.click("#modalSave").await;

    browser.wait_for_text("#calendarFlash", "angelegt").await;
    assert_eq!(browser.current_path().await, "/calendar/");
    let booked = app.store().appointments(&Default::default()).await.unwrap();
    let new = booked.iter().find(|a| a.patient_id == 1).expect("booked");
    assert_eq!(new.start_time, utc(0, 9, 30));
    assert_eq!(new.end_time, utc(0, 9, 50), "the type's 20 minutes");
    assert_eq!(
        new.resources.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![practice.device]
    );
    let card = content(&browser, &format!("[data-appointment-id='{}']", new.id)).await;
    assert!(
        card.contains("09:30–09:50 Geplant") && card.contains("Patient1, P · Kontrolle"),
        "time, status, patient and type: {card}"
    );
    let visible = browser
        .text(&format!("[data-appointment-id='{}']", new.id))
        .await;
    assert!(
        visible.contains("09:30–09:50") && visible.contains("Patient1, P"),
        "{visible}"
    );
    let cancelled_card = content(&browser, &format!("[data-appointment-id='{}']", seeded[4])).await;
    assert!(
        cancelled_card.contains("Abgesagt"),
        "cancelled is labelled: {cancelled_card}"
    );
    assert_eq!(
        count(
            &browser,
            &format!("[data-appointment-id='{}'] s", seeded[4])
        )
        .await,
        1,
        "and struck through"
    );
    assert_eq!(
        app.store()
            .audit_log(Some("appointment_create"), 10)
            .await
            .unwrap()
            .len(),
        6,
        "booked through the audited store path"
    );
    assert!(
        !app.store()
            .audit_log(Some("calendar_week"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    browser.screenshot("calendar-week").await;

    // The day view: one column per doctor, wide enough to read every line of a card.
    browser
        .goto(&app, "/calendar/?view=day&date=2030-01-14")
        .await;
    assert_eq!(count(&browser, ".tcol").await, 2, "a column per doctor");
    let visible = browser
        .text(&format!("[data-appointment-id='{}']", new.id))
        .await;
    assert!(
        visible.contains("Geplant") && visible.contains("Kontrolle"),
        "{visible}"
    );

    // Navigation keeps the filter.
    browser
        .goto(&app, &format!("{WEEK}&doctor_id={}", practice.doctor.id))
        .await;
    browser.click("#calendarNext").await;
    browser.wait_for("#calendarTitle").await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(
        url.query(),
        Some(format!("view=week&date=2030-01-21&doctor_id={}", practice.doctor.id).as_str())
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_double_booking_is_refused_with_the_reason_and_alternatives_on_the_page() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let assistant = app.create_user("mfa", Some(Role::Assistant)).await;
    let api = app.as_user(&assistant);
    practice
        .book(
            &api,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30)),
        )
        .await;

    browser.login(&app, "mfa").await;
    browser
        .goto(
            &app,
            &format!(
                "/calendar/new/?start=2030-01-14T09:15&end=09:45&doctor_id={}&patient_id=2",
                practice.doctor.id
            ),
        )
        .await;
    browser.click("#modalSave").await;
    let intro = browser.text("#conflictIntro").await;
    assert!(intro.contains("nicht verfügbar"), "{intro}");
    let reasons = browser.text("#conflictReasons").await;
    assert!(
        reasons.contains("Doppelbuchung") && reasons.contains("09:00 bis 09:30"),
        "the reason in words: {reasons}"
    );
    browser.screenshot("calendar-conflict").await;
    let alternatives = browser.text("#conflictAlternatives").await;
    assert!(
        alternatives.contains("First dr.bert Last dr.bert"),
        "{alternatives}"
    );
    let next_free = browser.text("#conflictNextFree").await;
    assert!(
        next_free.contains("09:30"),
        "the doctor's next free time: {next_free}"
    );
    assert_eq!(
        app.store()
            .appointments(&Default::default())
            .await
            .unwrap()
            .len(),
        1,
        "nothing was booked"
    );
    // The values stay for correction.
    assert_eq!(
        browser
            .wait_for("#modalStartTime")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("09:15")
    );
    // An alternative prefills the form; booking it works.
    browser.click("#conflictAlternatives a").await;
    browser.wait_for("#appointmentForm").await;
    assert_eq!(
        browser
            .wait_for("#modalDoctor")
            .await
            .prop("value")
            .await
            .unwrap(),
        Some(practice.other_doctor.id.to_string())
    );
    browser.click("#modalSave").await;
    browser.wait_for_text("#calendarFlash", "angelegt").await;
    assert_eq!(
        app.store()
            .appointments(&Default::default())
            .await
            .unwrap()
            .len(),
        2
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn moving_an_appointment_in_the_edit_form_shows_the_new_time() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let assistant = app.create_user("mfa", Some(Role::Assistant)).await;
    let id = practice
        .book(
            &app.as_user(&assistant),
            &practice.booking(practice.doctor.id, 1, (0, 10, 0), (0, 10, 30)),
        )
        .await;

    browser.login(&app, "mfa").await;
    browser.goto(&app, WEEK).await;
    browser
        .click(&format!("[data-appointment-id='{id}'] a"))
        .await;
    browser.wait_for("#appointmentForm").await;
    assert!(
        browser
            .text("#appointmentPatient")
            .await
            .contains("Patient1")
    );
    set_value(&browser, "#modalDate", "2030-01-15").await;
    set_value(&browser, "#modalStartTime", "11:00").await;
    set_value(&browser, "#modalEndTime", "11:30").await;
    browser.click("#modalSave").await;
    browser.wait_for_text("#calendarFlash", "geändert").await;
    let card = browser.text(&format!("[data-appointment-id='{id}']")).await;
    assert!(card.contains("11:00–11:30"), "{card}");
    let stored = app
        .store()
        .appointment(i32::try_from(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.start_time, stored.end_time),
        (utc(1, 11, 0), utc(1, 11, 30))
    );
    assert!(
        !app.store()
            .audit_log(Some("appointment_update"), 5)
            .await
            .unwrap()
            .is_empty()
    );

    // Cancel: status cancelled (no confirm box: the calendar offers an undo), still shown,
    // struck through.
    browser
        .click(&format!("[data-appointment-id='{id}'] a"))
        .await;
    browser.click("#appointmentCancel").await;
    browser.wait_for_text("#calendarFlash", "abgesagt").await;
    let card = browser.text(&format!("[data-appointment-id='{id}']")).await;
    assert!(card.contains("Abgesagt"), "{card}");
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn doctors_see_only_their_own_appointments_and_others_are_forbidden() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let own = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    let other = practice
        .book(
            &admin,
            &practice.booking(practice.other_doctor.id, 2, (0, 9, 0), (0, 9, 30)),
        )
        .await;

    browser.login(&app, "dr.anna").await;
    browser.goto(&app, WEEK).await;
    browser
        .wait_for(&format!("[data-appointment-id='{own}']"))
        .await;
    assert_eq!(
        count(&browser, &format!("[data-appointment-id='{other}']")).await,
        0
    );
    assert!(
        !browser
            .text("#appointmentCalendar")
            .await
            .contains("Patient2")
    );
    assert_eq!(
        count(&browser, "#doctorFilter").await,
        0,
        "no doctor choice: always the own calendar"
    );
    // Asking for the other doctor still shows the own calendar.
    browser
        .goto(
            &app,
            &format!("{WEEK}&doctor_id={}", practice.other_doctor.id),
        )
        .await;
    assert_eq!(
        count(&browser, &format!("[data-appointment-id='{other}']")).await,
        0
    );

    browser
        .goto(&app, &format!("/calendar/appointments/{other}/"))
        .await;
    assert!(browser.text("body").await.contains("Keine Berechtigung"));
    let (cookie, csrf) = {
        browser.goto(&app, WEEK).await;
        session(&browser).await
    };
    let res = app
        .http
        .get(app.url(&format!("/calendar/appointments/{other}/")))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .http
        .post(app.url(&format!("/calendar/appointments/{other}/cancel/")))
        .header("Cookie", &cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let stored = app
        .store()
        .appointment(i32::try_from(other).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status.as_str(), "scheduled");
    // The own appointment opens.
    let res = app
        .http
        .get(app.url(&format!("/calendar/appointments/{own}/")))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn billing_sees_the_calendar_without_booking_and_forged_posts_are_refused() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    app.create_user("abrechnung", Some(Role::Billing)).await;

    browser.login(&app, "abrechnung").await;
    browser.goto(&app, WEEK).await;
    browser
        .wait_for(&format!("[data-appointment-id='{id}']"))
        .await;
    assert_eq!(
        count(&browser, "#calendarNewAppointment").await,
        0,
        "no booking button"
    );
    assert_eq!(count(&browser, "a.slot").await, 0, "no empty-slot links");
    browser
        .click(&format!("[data-appointment-id='{id}'] a"))
        .await;
    browser.wait_for("#readOnlyNote").await;
    assert_eq!(count(&browser, "#appointmentForm").await, 0, "read only");
    assert_eq!(count(&browser, "#appointmentCancel").await, 0);

    let (cookie, csrf) = session(&browser).await;
    let form = |body: String| {
        app.http
            .post(app.url("/calendar/new/"))
            .header("Cookie", &cookie)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
    };
    let body = format!(
        "csrf_token={csrf}&patient_id=2&doctor_id={}&date=2030-01-14&start=11:00&end=11:30",
        practice.doctor.id
    );
    assert_eq!(form(body).send().await.unwrap().status(), 403);
    let res = app
        .http
        .post(app.url(&format!("/calendar/appointments/{id}/")))
        .header("Cookie", &cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf_token={csrf}&doctor_id={}&date=2030-01-14&start=11:00&end=11:30&status=scheduled",
            practice.doctor.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let get = app
        .http
        .get(app.url("/calendar/new/"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 403);
    assert_eq!(
        app.store()
            .appointments(&Default::default())
            .await
            .unwrap()
            .len(),
        1
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn patient_names_with_markup_are_shown_as_text() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let created = admin
        .post(
            "/api/patients/",
            &json!({"id": 77, "first_name": "Eve", "last_name": "<script>alert(1)</script>"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 77, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    app.create_user("mfa", Some(Role::Assistant)).await;

    browser.login(&app, "mfa").await;
    for path in [
        WEEK.to_owned(),
        "/calendar/?view=month&date=2030-01-14".to_owned(),
        format!("/calendar/appointments/{id}/"),
        "/calendar/print/?date=2030-01-14".to_owned(),
    ] {
        browser.goto(&app, &path).await;
        let text = browser.text("main").await;
        assert!(
            text.contains("<script>alert(1)</script>, Eve"),
            "{path}: {text}"
        );
        assert!(
            browser.client.get_alert_text().await.is_err(),
            "{path}: no alert dialog"
        );
        let source = browser.client.source().await.unwrap();
        assert!(!source.contains("<script>alert(1)"), "{path}: escaped");
    }
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_print_view_lists_the_day_of_a_room() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    for (doctor, patient, from, to, room) in [
        (practice.doctor.id, 1, (8, 0), (8, 30), practice.room),
        (practice.other_doctor.id, 2, (9, 0), (9, 45), practice.room),
        (
            practice.doctor.id,
            3,
            (10, 0),
            (10, 30),
            practice.other_room,
        ),
    ] {
        let mut body = practice.booking(doctor, patient, (0, from.0, from.1), (0, to.0, to.1));
        body["resource_ids"] = json!([room]);
        body["notes"] = json!(format!("Notiz {patient}"));
        practice.book(&admin, &body).await;
    }
    app.create_user("mfa", Some(Role::Assistant)).await;
    browser.login(&app, "mfa").await;
    browser
        .goto(
            &app,
            &format!(
                "/calendar/?view=day&date=2030-01-14&room_id={}",
                practice.room
            ),
        )
        .await;
    browser.click("#calendarPrint").await;
    browser.wait_for("#daySchedule").await;
    let heading = browser.text("#printHeading").await;
    assert!(
        heading.contains("14.01.2030") && heading.contains("Behandlungsraum 1"),
        "{heading}"
    );
    let table = browser.text("#daySchedule tbody").await;
    assert!(
        table.contains("08:00–08:30") && table.contains("Patient1, P") && table.contains("Notiz 1"),
        "{table}"
    );
    assert!(
        table.contains("09:00–09:45") && table.contains("First dr.bert Last dr.bert"),
        "{table}"
    );
    assert!(!table.contains("Patient3"), "another room: {table}");
    assert_eq!(count(&browser, "#daySchedule tbody tr").await, 2);
    let audit = app
        .store()
        .audit_log(Some("appointment_list"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1, "audited as an appointment list read");
    browser.screenshot("print-day").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_room_view_shows_the_rooms_appointments_and_operations() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let op_type = entity::operation_type::ActiveModel {
        name: Set("Kleiner Eingriff".to_owned()),
        prep_duration: Set(10),
        op_duration: Set(30),
        post_duration: Set(10),
        color: Set("#445566".to_owned()),
        active: Set(true),
        created_at: Set(chrono::Utc::now()),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id;
    let admin = app.as_role(Role::Admin).await;
    let operation = admin
        .post(
            "/api/operations/",
            &json!({
                "patient_id": 3,
                "primary_surgeon": practice.other_doctor.id,
                "op_room": practice.other_room,
                "op_type": op_type,
                "start_time": crate::fixtures::at(0, 11, 0),
            }),
        )
        .await;
    assert_eq!(operation.status, 201, "{}", operation.text);
    let mut in_room = practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30));
    in_room["resource_ids"] = json!([practice.other_room]);
    let in_room = practice.book(&admin, &in_room).await;
    let elsewhere = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 2, (0, 10, 0), (0, 10, 30)),
        )
        .await;
    app.create_user("mfa", Some(Role::Assistant)).await;

    browser.login(&app, "mfa").await;
    browser.goto(&app, WEEK).await;
    select(&browser, "#roomFilter", &practice.other_room.to_string()).await;
    browser.wait_for("#calendarTitle").await;
    browser.wait_for_text("#calendarTitle", "OP-1").await;
    browser
        .wait_for(&format!("[data-appointment-id='{in_room}']"))
        .await;
    assert_eq!(
        count(&browser, &format!("[data-appointment-id='{elsewhere}']")).await,
        0,
        "not in this room"
    );
    let operation = content(&browser, ".appt.op").await;
    assert!(
        operation.contains("11:00–11:50")
            && operation.contains("OP: Kleiner Eingriff")
            && operation.contains("Patient3, P"),
        "{operation}"
    );
    // The room stays selected while navigating.
    browser.click("#calendarNext").await;
    browser.wait_for_text("#calendarTitle", "21.01.2030").await;
    assert!(browser.text("#calendarTitle").await.contains("OP-1"));
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn only_hours_in_which_someone_works_offer_a_new_appointment() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    // Saturday: the practice opens 09–12, but no doctor works. Wednesday: Anna is absent.
    // Thursday: Bert starts at 10:30 (his 08–17 row is replaced).
    crate::fixtures::practice_hours(&app, 5, time(9, 0), time(12, 0)).await;
    crate::fixtures::absence(&app, practice.doctor.id, day(2), day(2)).await;
    let admin = app.as_role(Role::Admin).await;
    let hours = admin.get("/api/doctor-hours/?page_size=100").await;
    let thursday = hours.body["results"]
        .as_array()
        .or(hours.body.as_array())
        .unwrap()
        .iter()
        .find(|row| row["weekday"] == 3 && row["doctor"] == practice.other_doctor.id)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = admin
        .patch(
            &format!("/api/doctor-hours/{thursday}/"),
            &json!({"start_time": "10:30:00"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    app.create_user("mfa", Some(Role::Assistant)).await;
    browser.login(&app, "mfa").await;

    let monday = day(0).format("%Y-%m-%d");
    // All doctors: Mon–Fri offer 08:00 … 16:00, Saturday and Sunday nothing.
    browser
        .goto(&app, &format!("/calendar/?view=week&date={monday}"))
        .await;
    let (slots, notes) = columns(&browser).await;
    assert_eq!(slots, [9, 9, 9, 9, 9, 0, 0], "{notes:?}");
    assert!(notes[5].contains("keine Sprechstunde"), "{notes:?}");
    assert!(notes[6].contains("geschlossen"), "{notes:?}");

    // Anna alone: nothing on her absent Wednesday.
    browser
        .goto(
            &app,
            &format!(
                "/calendar/?view=week&date={monday}&doctor_id={}",
                practice.doctor.id
            ),
        )
        .await;
    let (slots, _) = columns(&browser).await;
    assert_eq!(slots, [9, 9, 0, 9, 9, 0, 0]);

    // Bert on Thursday: the first link starts when he does.
    browser
        .goto(
            &app,
            &format!(
                "/calendar/?view=week&date={monday}&doctor_id={}",
                practice.other_doctor.id
            ),
        )
        .await;
    let (slots, _) = columns(&browser).await;
    assert_eq!(slots, [9, 9, 9, 7, 9, 0, 0]);
    let first = browser
        .client
        .execute(
            "return document.querySelectorAll('section.tcol')[3].querySelector('a.slot').textContent;",
            vec![],
        )
        .await
        .unwrap();
    assert!(first.as_str().unwrap_or("").contains("10:30"), "{first}");
    browser.close().await;
    app.stop().await;
}

/// Per time-grid column: the number of new-appointment links and the notes' text.
async fn columns(browser: &Browser) -> (Vec<usize>, Vec<String>) {
    browser.wait_for("section.tcol").await;
    let value = browser
        .client
        .execute(
            "return [...document.querySelectorAll('section.tcol')].map(c => \
                [c.querySelectorAll('a.slot').length, \
                 [...c.querySelectorAll('.cal-note')].map(n => n.textContent).join(' ')]);",
            vec![],
        )
        .await
        .expect("columns");
    let mut slots = Vec::new();
    let mut notes = Vec::new();
    for column in value.as_array().cloned().unwrap_or_default() {
        slots.push(usize::try_from(column[0].as_u64().unwrap_or(0)).unwrap_or(0));
        notes.push(column[1].as_str().unwrap_or("").to_owned());
    }
    (slots, notes)
}

#[tokio::test]
async fn a_cancellation_needs_no_confirm_box_and_can_be_undone_unless_the_time_was_taken() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = practice.doctor.id;
    let first = practice
        .book(&admin, &practice.booking(doctor, 1, (0, 9, 0), (0, 9, 30)))
        .await;
    let second = practice
        .book(
            &admin,
            &practice.booking(doctor, 2, (0, 11, 0), (0, 11, 30)),
        )
        .await;
    let confirmed = admin
        .patch(
            &format!("/api/appointments/{first}/"),
            &json!({"status": "confirmed"}),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    app.create_user("mfa", Some(Role::Assistant)).await;
    browser.login(&app, "mfa").await;

    // Cancel without a confirm box (a dialog would block the next command), then undo: the
    // appointment is confirmed again.
    browser
        .goto(&app, &format!("/calendar/appointments/{first}/"))
        .await;
    browser.click("#appointmentCancel").await;
    browser.wait_for("#calendarUndo").await;
    let stored = admin.get(&format!("/api/appointments/{first}/")).await;
    assert_eq!(stored.body["status"], "cancelled");
    browser.click("#calendarUndo").await;
    browser
        .wait_for_text("#calendarFlash", "rückgängig gemacht")
        .await;
    let stored = admin.get(&format!("/api/appointments/{first}/")).await;
    assert_eq!(stored.body["status"], "confirmed", "{}", stored.text);

    // Cancel, someone books the time, undo is refused with the reason.
    browser
        .goto(&app, &format!("/calendar/appointments/{second}/"))
        .await;
    browser.click("#appointmentCancel").await;
    browser.wait_for("#calendarUndo").await;
    practice
        .book(
            &admin,
            &practice.booking(doctor, 3, (0, 11, 0), (0, 11, 30)),
        )
        .await;
    browser.click("#calendarUndo").await;
    browser
        .wait_for_text("main", "inzwischen anderweitig belegt")
        .await;
    let stored = admin.get(&format!("/api/appointments/{second}/")).await;
    assert_eq!(stored.body["status"], "cancelled");

    // One name for the status on every page (#15 item 8).
    for page in [
        format!("/calendar/?view=day&date=2030-01-14&doctor_id={doctor}"),
        "/patients/2/".to_owned(),
    ] {
        browser.goto(&app, &page).await;
        let body = browser.text("main").await;
        assert!(body.contains("Abgesagt"), "{page}: {body}");
        assert!(
            !body.contains("torniert") && !body.contains("Abgeschlossen"),
            "{page}: {body}"
        );
    }
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_booking_in_the_past_needs_a_second_confirmation() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    app.create_user("mfa", Some(Role::Assistant)).await;
    browser.login(&app, "mfa").await;
    // The last weekday before today (the fixture practice works Monday to Friday).
    let mut date = app.state.today();
    loop {
        date = date.pred_opt().unwrap();
        if chrono::Datelike::weekday(&date).num_days_from_monday() < 5 {
            break;
        }
    }
    browser
        .goto(
            &app,
            &format!(
                "/calendar/new/?start={}T10:00&doctor_id={}&patient_id=1",
                date.format("%Y-%m-%d"),
                practice.doctor.id
            ),
        )
        .await;
    select(&browser, "#modalPatient", "1").await;
    set_value(&browser, "#modalEndTime", "10:30").await;
    browser.click("#modalSave").await;
    browser
        .wait_for_text("#pastWarning", "in der Vergangenheit")
        .await;
    let booked = app.store().appointments(&Default::default()).await.unwrap();
    assert!(booked.is_empty(), "nothing booked without the confirmation");
    // Every input is kept; confirming books it.
    browser.click("#pastOk").await;
    browser.click("#modalSave").await;
    browser.wait_for_text("#calendarFlash", "angelegt").await;
    let booked = app.store().appointments(&Default::default()).await.unwrap();
    assert_eq!(booked.len(), 1);
    assert_eq!(
        booked[0]
            .start_time
            .with_timezone(&app.state.tz())
            .date_naive(),
        date
    );
    browser.close().await;
    app.stop().await;
}

/// #15 item 1: in the all-doctors week, cards whose times do not overlap never intersect on
/// screen, at desktop and at tablet width.
#[tokio::test]
async fn cards_whose_times_do_not_overlap_never_intersect_on_screen() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    for (doctor, patient, day, from, to) in [
        (anna, 1, 0, (9, 0), (9, 30)),
        (bert, 2, 0, (9, 0), (10, 0)),
        (anna, 3, 0, (9, 30), (10, 0)),
        (bert, 4, 0, (10, 0), (10, 10)),
        (anna, 1, 0, (10, 5), (10, 20)),
        (anna, 2, 1, (8, 0), (8, 10)),
        (anna, 3, 1, (8, 10), (8, 20)),
        (bert, 4, 1, (8, 5), (8, 50)),
        (anna, 4, 2, (14, 0), (15, 0)),
        (bert, 1, 2, (14, 30), (14, 45)),
    ] {
        practice
            .book(
                &admin,
                &practice.booking(doctor, patient, (day, from.0, from.1), (day, to.0, to.1)),
            )
            .await;
    }
    let stored = app.store().appointments(&Default::default()).await.unwrap();
    app.create_user("mfa", Some(Role::Assistant)).await;
    browser.login(&app, "mfa").await;
    for (width, height) in [(1440, 900), (820, 1180)] {
        browser.client.set_window_size(width, height).await.unwrap();
        browser
            .goto(&app, "/calendar/?view=week&date=2030-01-14")
            .await;
        browser.wait_for("[data-appointment-id]").await;
        let rects = browser
            .client
            .execute(
                "return [...document.querySelectorAll('.tcol [data-appointment-id]')].map(c => { \
                    const r = c.getBoundingClientRect(); \
                    return [Number(c.dataset.appointmentId), r.left, r.top, r.right, r.bottom]; });",
                vec![],
            )
            .await
            .unwrap();
        let rects: Vec<(i32, f64, f64, f64, f64)> = rects
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let n = |i: usize| r[i].as_f64().unwrap();
                (r[0].as_i64().unwrap() as i32, n(1), n(2), n(3), n(4))
            })
            .collect();
        assert_eq!(
            rects.len(),
            stored.len(),
            "every card is drawn at {width}px"
        );
        for (i, a) in rects.iter().enumerate() {
            assert!(
                a.3 - a.1 >= 20.0 && a.4 - a.2 >= 8.0,
                "card {} too small: {a:?}",
                a.0
            );
            for b in &rects[i + 1..] {
                let (x, y) = (
                    stored.iter().find(|s| s.id == a.0).unwrap(),
                    stored.iter().find(|s| s.id == b.0).unwrap(),
                );
                let overlap_in_time = x.start_time < y.end_time && y.start_time < x.end_time;
                let intersect =
                    a.1 < b.3 - 1.0 && b.1 < a.3 - 1.0 && a.2 < b.4 - 1.0 && b.2 < a.4 - 1.0;
                assert!(
                    overlap_in_time || !intersect,
                    "{width}px: cards {} and {} intersect: {a:?} {b:?}",
                    a.0,
                    b.0
                );
            }
        }
        // The whole week fits: Sunday's column is inside the window.
        let sunday_right = browser
            .client
            .execute(
                "const cols = document.querySelectorAll('section.tcol'); \
                 return cols[cols.length - 1].getBoundingClientRect().right <= window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(sunday_right, json!(true), "{width}px: Sunday is cut off");
    }
    browser.close().await;
    app.stop().await;
}
