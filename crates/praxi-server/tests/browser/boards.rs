//! The live boards in a real browser: the patient-flow board updates without a reload when a
//! patient arrives or moves on (through the API), its buttons move cards; doctors see only
//! their own flows, billing reads without buttons; the OP board moves an operation
//! planned → confirmed and explains a refused transition; the resource page shows bookings,
//! absences and breaks with edit links for assistants.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use fantoccini::Locator;
use praxi_domain::Role;
use praxi_store::entity;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::fixtures::{Practice, absence, day, practice_break, time, utc};
use crate::harness::{Browser, browser};
use crate::helpers::{Client, TestApp};

// ---- fixtures ------------------------------------------------------------------------------

/// A local wall-clock time today in the practice zone.
fn today_at(app: &TestApp, h: u32, m: u32) -> DateTime<Utc> {
    local(app, app.state.today(), h, m)
}

fn local(app: &TestApp, date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    app.state
        .tz()
        .from_local_datetime(&date.and_time(time(h, m)))
        .earliest()
        .expect("local time")
        .with_timezone(&Utc)
}

async fn appointment(
    app: &TestApp,
    doctor: i64,
    patient: i32,
    start: DateTime<Utc>,
    minutes: i64,
) -> i32 {
    entity::appointment::ActiveModel {
        patient_id: Set(patient),
        type_id: Set(None),
        doctor_id: Set(doctor),
        start_time: Set(start),
        end_time: Set(start + chrono::Duration::minutes(minutes)),
        status: Set("scheduled".to_owned()),
        is_no_show: Set(false),
        notes: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("appointment")
    .id
}

async fn book_resource(app: &TestApp, appointment: i32, resource: i64) {
    entity::appointment_resource::ActiveModel {
        appointment_id: Set(appointment),
        resource_id: Set(resource),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("appointment resource");
}

struct Op<'a> {
    name: &'a str,
    colour: &'a str,
    surgeon: i64,
    assistant: Option<i64>,
    patient: i32,
    room: i64,
    start: DateTime<Utc>,
    status: &'a str,
}

async fn operation(app: &TestApp, op: Op<'_>) -> i64 {
    let op_type = entity::operation_type::ActiveModel {
        name: Set(op.name.to_owned()),
        prep_duration: Set(10),
        op_duration: Set(40),
        post_duration: Set(10),
        color: Set(op.colour.to_owned()),
        active: Set(true),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("operation type")
    .id;
    entity::operation::ActiveModel {
        patient_id: Set(op.patient),
        primary_surgeon_id: Set(op.surgeon),
        assistant_id: Set(op.assistant),
        anesthesist_id: Set(None),
        op_room_id: Set(op.room),
        op_room_type: Set("room".to_owned()),
        op_type_id: Set(op_type),
        start_time: Set(op.start),
        end_time: Set(op.start + chrono::Duration::minutes(60)),
        prep_duration: Set(10),
        op_duration: Set(40),
        post_duration: Set(10),
        status: Set(op.status.to_owned()),
        notes: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("operation")
    .id
}

async fn name_user(app: &TestApp, id: i64, first: &str, last: &str) {
    entity::user::Entity::update_many()
        .col_expr(entity::user::Column::FirstName, Expr::value(first))
        .col_expr(entity::user::Column::LastName, Expr::value(last))
        .filter(entity::user::Column::Id.eq(id))
        .exec(app.store().conn())
        .await
        .expect("name");
}

async fn patient(admin: &Client<'_>, id: i32, first: &str, last: &str) {
    let res = admin
        .post(
            "/api/patients/",
            &json!({"id": id, "first_name": first, "last_name": last}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
}

/// Creates a flow through the API (the same path as the board's "arrived" button).
async fn arrive(client: &Client<'_>, appointment: i32) -> i64 {
    let res = client
        .post(
            "/api/patient-flow/",
            &json!({"appointment_id": appointment, "status": "waiting"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body["id"].as_i64().expect("flow id")
}

async fn step(client: &Client<'_>, flow: i64, status: &str) {
    let res = client
        .patch(
            &format!("/api/patient-flow/{flow}/status/"),
            &json!({"status": status}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
}

// ---- browser helpers -----------------------------------------------------------------------

/// How many elements match.
async fn count(browser: &Browser, css: &str) -> usize {
    browser
        .client
        .find_all(Locator::Css(css))
        .await
        .expect("find")
        .len()
}

/// The rendered text of the first element matching `css` ("" when there is none), read in
/// one script call so a live refresh replacing the element in between cannot break it.
async fn text(browser: &Browser, css: &str) -> String {
    let value = browser
        .client
        .execute(
            "var el = document.querySelector(arguments[0]); return el ? el.innerText : '';",
            vec![json!(css)],
        )
        .await
        .expect("inner text");
    value
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Waits (up to 10 s) until the element's text contains `needle`.
async fn wait_text(browser: &Browser, css: &str, needle: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let current = text(browser, css).await;
        if current.contains(needle) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{css} never contained {needle:?}; last text: {current}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the live board is subscribed (plus a moment for the stream to open).
async fn live_ready(browser: &Browser) {
    browser.wait_for("main[data-live-connected]").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
}

/// Sets a marker on the window; it survives live refreshes but not a navigation.
async fn mark_window(browser: &Browser) {
    browser
        .client
        .execute(
            "window.praxiTestMarker = 'still here'; return null;",
            vec![],
        )
        .await
        .expect("mark");
}

async fn window_marked(browser: &Browser) -> bool {
    browser
        .client
        .execute("return window.praxiTestMarker === 'still here';", vec![])
        .await
        .expect("marker")
        .as_bool()
        .unwrap_or(false)
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

/// A form post with the browser's session; returns the status.
async fn forged_post(app: &TestApp, browser: &Browser, path: &str, fields: &[(&str, &str)]) -> u16 {
    post_form(app, browser, path, fields).await.0
}

/// A form post with the browser's session; returns the status and the redirect target.
async fn post_form(
    app: &TestApp,
    browser: &Browser,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, Option<String>) {
    let (cookie, csrf) = session(browser).await;
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    let res = app
        .http
        .post(app.url(path))
        .header("cookie", cookie)
        .form(&form)
        .send()
        .await
        .expect("post");
    let location = res
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    (res.status().as_u16(), location)
}

async fn logout(browser: &Browser) {
    browser
        .click("header .account form button[type=submit]")
        .await;
    browser.wait_for("#id_username").await;
}

// ---- patient flow --------------------------------------------------------------------------

#[tokio::test]
async fn a_patient_marked_arrived_through_the_api_appears_on_the_open_flow_board_without_reload() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    name_user(&app, practice.doctor.id, "Anna", "Berger").await;
    name_user(&app, practice.other_doctor.id, "Bert", "Keller").await;
    let admin = app.as_role(Role::Admin).await;
    for (id, first, last) in [
        (11, "Maria", "Schmidt"),
        (12, "Jonas", "Weber"),
        (13, "Lea", "Fischer"),
        (14, "Paul", "Wagner"),
        (15, "Emma", "Becker"),
    ] {
        patient(&admin, id, first, last).await;
    }
    let (doctor, other) = (practice.doctor.id, practice.other_doctor.id);
    let maria = appointment(&app, doctor, 11, today_at(&app, 8, 0), 30).await;
    let jonas = appointment(&app, other, 12, today_at(&app, 8, 30), 30).await;
    let lea = appointment(&app, doctor, 13, today_at(&app, 9, 0), 20).await;
    let paul = appointment(&app, other, 14, today_at(&app, 9, 30), 30).await;
    let emma = appointment(&app, doctor, 15, today_at(&app, 10, 0), 30).await;
    // Context for the screenshot: someone in treatment, someone done.
    let lea_flow = arrive(&admin, lea).await;
    for status in ["preparing", "in_treatment"] {
        step(&admin, lea_flow, status).await;
    }
    let paul_flow = arrive(&admin, paul).await;
    for status in ["preparing", "in_treatment", "post_treatment", "done"] {
        step(&admin, paul_flow, status).await;
    }

    let assistant = app.create_user("mfa.eva", Some(Role::Assistant)).await;
    name_user(&app, assistant.id, "Eva", "Brandt").await;
    browser.login(&app, "mfa.eva").await;
    browser.click("nav.mainnav a[href='/flow/']").await;
    browser.wait_for("#flowBoard").await;
    assert_eq!(browser.current_path().await, "/flow/");
    let treatment = text(&browser, "#col-in_treatment").await;
    assert!(treatment.contains("Fischer, Lea"), "{treatment}");
    let done = text(&browser, "#col-done").await;
    assert!(
        done.contains("Wagner, Paul") && done.contains("Fertig um"),
        "{done}"
    );
    assert_eq!(
        count(&browser, &format!("#arrive-{maria}")).await,
        1,
        "Maria is expected"
    );
    assert_eq!(
        count(&browser, &format!("#arrive-{lea}")).await,
        0,
        "Lea has arrived"
    );
    assert_eq!(
        count(&browser, &format!("#arrive-{emma}")).await,
        1,
        "Emma is expected"
    );

    // The reception (through the API) marks Maria arrived: the open board shows her waiting,
    // without a navigation.
    live_ready(&browser).await;
    mark_window(&browser).await;
    let api = app.as_user(&assistant);
    let maria_flow = arrive(&api, maria).await;
    wait_text(&browser, "#col-waiting", "Schmidt, Maria").await;
    assert!(window_marked(&browser).await, "no reload");
    assert_eq!(browser.current_path().await, "/flow/");
    let card = text(&browser, &format!("#flow-{maria_flow}")).await;
    assert!(
        card.contains("Ankunft") && card.contains("Wartezeit"),
        "{card}"
    );
    assert!(
        text(&browser, &format!("#appt-{maria}"))
            .await
            .contains("Wartend"),
        "the day list follows"
    );

    // A second change after the refresh: the board keeps following.
    step(&api, maria_flow, "preparing").await;
    wait_text(&browser, "#col-preparing", "Schmidt, Maria").await;
    assert!(
        !text(&browser, "#col-waiting")
            .await
            .contains("Schmidt, Maria")
    );
    assert!(window_marked(&browser).await, "still no reload");
    assert_eq!(
        browser
            .wait_for("main")
            .await
            .attr("data-live-connected")
            .await
            .unwrap()
            .as_deref(),
        Some("1")
    );

    // In the browser: Jonas arrives by button, then moves on by button.
    browser.click(&format!("#arrive-{jonas}")).await;
    wait_text(&browser, "#boardFlash", "Ankunft erfasst").await;
    wait_text(&browser, "#col-waiting", "Weber, Jonas").await;
    let flows = app
        .store()
        .patient_flows(&Default::default())
        .await
        .unwrap();
    let jonas_flow = flows
        .iter()
        .find(|flow| flow.appointment.as_ref().is_some_and(|a| a.id == jonas))
        .expect("Jonas' flow");
    assert_eq!(jonas_flow.status.as_str(), "waiting");
    assert!(jonas_flow.arrival_time.is_some(), "arrival time set");
    browser
        .click(&format!("#flow-{}-next", jonas_flow.id))
        .await;
    wait_text(&browser, "#boardFlash", "Vorbereitung").await;
    wait_text(&browser, "#col-preparing", "Weber, Jonas").await;
    assert!(
        !text(&browser, "#col-waiting")
            .await
            .contains("Weber, Jonas")
    );
    let stored = app
        .store()
        .patient_flow(jonas_flow.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status.as_str(), "preparing");
    let audit = app
        .store()
        .audit_log(Some("patient_flow_status_update"), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].username, "mfa.eva");
    assert_eq!(audit[0].patient_id, Some(12));
    assert_eq!(
        audit[0].meta,
        Some(json!({"flow_id": jonas_flow.id, "from": "waiting", "to": "preparing"}))
    );
    let created = app
        .store()
        .audit_log(Some("patient_flow_create"), 1)
        .await
        .unwrap();
    assert_eq!(created[0].username, "mfa.eva");
    let views = app
        .store()
        .audit_log(Some("patient_flow_view"), 50)
        .await
        .unwrap();
    assert!(
        views.iter().any(|row| row.username == "mfa.eva"),
        "board views are audited"
    );

    // A stale button (the card moved meanwhile) is refused with an explanation.
    let (status, location) = post_form(
        &app,
        &browser,
        &format!("/flow/{}/status/", jonas_flow.id),
        &[("from", "waiting"), ("status", "preparing")],
    )
    .await;
    assert_eq!(status, 303, "redirect with a flash");
    let location = location.expect("location");
    assert_eq!(location, "/flow/?error=stale");
    browser.goto(&app, &location).await;
    wait_text(&browser, "#boardFlash", "inzwischen geändert").await;
    // More context for the screenshot: Emma has been waiting for 40 minutes, Noah registered.
    let res = admin
        .post(
            "/api/patient-flow/",
            &json!({
                "appointment_id": emma,
                "status": "waiting",
                "arrival_time": (app.state.now() - chrono::Duration::minutes(40)).to_rfc3339(),
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let emma_flow = res.body["id"].as_i64().unwrap();
    patient(&admin, 16, "Noah", "Hoffmann").await;
    let noah = appointment(&app, other, 16, today_at(&app, 10, 30), 30).await;
    let res = admin
        .post("/api/patient-flow/", &json!({"appointment_id": noah}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    patient(&admin, 17, "Mia", "Schulz").await;
    appointment(&app, doctor, 17, today_at(&app, 11, 0), 30).await;
    browser.goto(&app, "/flow/").await;
    wait_text(&browser, &format!("#flow-{emma_flow}"), "lange Wartezeit").await;
    wait_text(&browser, "#col-registered", "Hoffmann, Noah").await;
    browser.screenshot("flow-board").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn doctors_see_only_their_own_flows_and_billing_sees_the_board_without_buttons() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let own = appointment(&app, practice.doctor.id, 1, today_at(&app, 8, 0), 30).await;
    let foreign = appointment(&app, practice.other_doctor.id, 2, today_at(&app, 8, 0), 30).await;
    let own_waiting = appointment(&app, practice.doctor.id, 3, today_at(&app, 9, 0), 30).await;
    let own_flow = arrive(&admin, own).await;
    let foreign_flow = arrive(&admin, foreign).await;

    browser.login(&app, "dr.anna").await;
    browser.goto(&app, "/flow/").await;
    let board = text(&browser, "#flowBoard").await;
    assert!(board.contains("Patient1, P"), "own flow: {board}");
    assert!(!board.contains("Patient2, P"), "no foreign flow: {board}");
    assert_eq!(count(&browser, &format!("#flow-{own_flow}-next")).await, 1);
    let day_list = text(&browser, "#dayList").await;
    assert!(
        !day_list.contains("Patient2"),
        "own appointments only: {day_list}"
    );
    assert_eq!(count(&browser, &format!("#arrive-{own_waiting}")).await, 1);
    // The doctor moves their own patient on; a foreign flow is not found for them.
    browser.click(&format!("#flow-{own_flow}-next")).await;
    wait_text(&browser, "#col-preparing", "Patient1, P").await;
    let status = forged_post(
        &app,
        &browser,
        &format!("/flow/{foreign_flow}/status/"),
        &[("status", "preparing")],
    )
    .await;
    assert_eq!(status, 404);
    let status = forged_post(
        &app,
        &browser,
        "/flow/arrive/",
        &[("appointment_id", &foreign.to_string())],
    )
    .await;
    assert_eq!(status, 403, "a foreign appointment");
    let stored = app
        .store()
        .patient_flow(foreign_flow)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status.as_str(), "waiting", "unchanged");
    logout(&browser).await;

    app.create_user("abrechnung", Some(Role::Billing)).await;
    browser.login(&app, "abrechnung").await;
    browser.goto(&app, "/flow/").await;
    let board = text(&browser, "#flowBoard").await;
    assert!(
        board.contains("Patient1, P") && board.contains("Patient2, P"),
        "{board}"
    );
    assert_eq!(
        count(&browser, ".flow-advance").await,
        0,
        "no status buttons"
    );
    assert_eq!(
        count(&browser, "#dayList button").await,
        0,
        "no arrival buttons"
    );
    assert!(
        text(&browser, "#boardReadOnly")
            .await
            .contains("Nur Ansicht")
    );
    let status = forged_post(
        &app,
        &browser,
        &format!("/flow/{foreign_flow}/status/"),
        &[("status", "preparing")],
    )
    .await;
    assert_eq!(status, 403, "billing may not write");
    let status = forged_post(
        &app,
        &browser,
        "/flow/arrive/",
        &[("appointment_id", &own_waiting.to_string())],
    )
    .await;
    assert_eq!(status, 403);
    assert!(!app.store().appointment_has_flow(own_waiting).await.unwrap());
    // Without the CSRF token nothing happens either.
    let (cookie, _) = session(&browser).await;
    let res = app
        .http
        .post(app.url(&format!("/flow/{foreign_flow}/status/")))
        .header("cookie", cookie)
        .form(&[("csrf_token", "wrong"), ("status", "preparing")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    browser.close().await;
    app.stop().await;
}

// ---- OP board ------------------------------------------------------------------------------

#[tokio::test]
async fn an_assistant_confirms_an_operation_on_the_op_board_and_sees_refusals_explained() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    name_user(&app, practice.doctor.id, "Anna", "Berger").await;
    name_user(&app, practice.other_doctor.id, "Bert", "Keller").await;
    let (doctor, other) = (practice.doctor.id, practice.other_doctor.id);
    let planned = operation(
        &app,
        Op {
            name: "Knie-Arthroskopie",
            colour: "#2E8B57",
            surgeon: doctor,
            assistant: Some(other),
            patient: 1,
            room: practice.other_room,
            start: utc(0, 9, 0),
            status: "planned",
        },
    )
    .await;
    let second = operation(
        &app,
        Op {
            name: "Karpaltunnel",
            colour: "#6A1B9A",
            surgeon: other,
            assistant: None,
            patient: 2,
            room: practice.other_room,
            start: utc(0, 11, 0),
            status: "confirmed",
        },
    )
    .await;

    app.create_user("mfa", Some(Role::Assistant)).await;
    browser.login(&app, "mfa").await;
    browser.goto(&app, "/operations/?date=2030-01-14").await;
    assert!(text(&browser, "#opDate").await.contains("14.01.2030"));
    let row = text(&browser, &format!("#op-{planned}")).await;
    assert!(
        row.contains("09:00–10:00")
            && row.contains("Knie-Arthroskopie")
            && row.contains("Anna Berger")
            && row.contains("Bert Keller")
            && row.contains("Geplant"),
        "{row}"
    );
    assert!(!row.contains("Patient1"), "no patient data on the board");
    assert_eq!(
        count(
            &browser,
            &format!("#room-{} .timeline rect.tl-bar", practice.other_room)
        )
        .await,
        2
    );
    assert_eq!(
        count(&browser, &format!("#room-{}", practice.room)).await,
        1,
        "empty rooms are listed"
    );

    browser.click(&format!("#op-{planned}-confirmed")).await;
    wait_text(&browser, "#boardFlash", "Status geändert").await;
    assert_eq!(
        browser
            .wait_for(&format!("#op-{planned}"))
            .await
            .attr("data-status")
            .await
            .unwrap()
            .as_deref(),
        Some("confirmed")
    );
    assert!(
        text(&browser, &format!("#op-{planned}"))
            .await
            .contains("Bestätigt")
    );
    let stored = app.store().operation(planned).await.unwrap().unwrap();
    assert_eq!(stored.status, "confirmed");
    let audit = app
        .store()
        .audit_log(Some("op_status_update"), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].username, "mfa");
    assert_eq!(
        audit[0].meta,
        Some(json!({"from": "planned", "to": "confirmed", "ok": true}))
    );
    let history = app.store().operation_status_events(planned).await.unwrap();
    assert_eq!(history.len(), 1, "one history row: {history:?}");

    // Starting an operation of 2030 now: refused by the store's rule, with the reason.
    browser.click(&format!("#op-{planned}-running")).await;
    wait_text(&browser, "#boardFlash", "erst ab ihrer geplanten Startzeit").await;
    assert_eq!(
        app.store()
            .operation(planned)
            .await
            .unwrap()
            .unwrap()
            .status,
        "confirmed"
    );
    let audit = app
        .store()
        .audit_log(Some("op_status_update"), 1)
        .await
        .unwrap();
    assert_eq!(
        audit[0].meta,
        Some(
            json!({"from": "confirmed", "to": "running", "ok": false, "detail": "running_before_start"})
        )
    );

    // Live: a change through the API shows up without a reload.
    live_ready(&browser).await;
    mark_window(&browser).await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .patch(
            &format!("/api/op-dashboard/{second}/status/"),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    wait_text(&browser, &format!("#op-{second}"), "Abgesagt").await;
    assert!(window_marked(&browser).await, "no reload");

    // Today's board with a running operation, for the screenshot.
    let now = app.state.now();
    operation(
        &app,
        Op {
            name: "Hüft-TEP",
            colour: "#1E6FB8",
            surgeon: doctor,
            assistant: Some(other),
            patient: 3,
            room: practice.other_room,
            start: now - chrono::Duration::minutes(20),
            status: "running",
        },
    )
    .await;
    operation(
        &app,
        Op {
            name: "Leistenhernie",
            colour: "#C06014",
            surgeon: other,
            assistant: None,
            patient: 4,
            room: practice.room,
            start: now + chrono::Duration::minutes(60),
            status: "planned",
        },
    )
    .await;
    operation(
        &app,
        Op {
            name: "Arthroskopie Schulter",
            colour: "#8B5A2B",
            surgeon: other,
            assistant: None,
            patient: 1,
            room: practice.other_room,
            start: now + chrono::Duration::minutes(90),
            status: "confirmed",
        },
    )
    .await;
    browser.click("#opToday").await;
    browser.wait_for(".op-progress svg.progress").await;
    browser.screenshot("op-board").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn doctors_see_their_own_operations_and_billing_reads_the_op_board_without_buttons() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let mine = operation(
        &app,
        Op {
            name: "Eigener Eingriff",
            colour: "#2E8B57",
            surgeon: practice.doctor.id,
            assistant: None,
            patient: 1,
            room: practice.other_room,
            start: utc(0, 9, 0),
            status: "planned",
        },
    )
    .await;
    let foreign = operation(
        &app,
        Op {
            name: "Fremder Eingriff",
            colour: "#6A1B9A",
            surgeon: practice.other_doctor.id,
            assistant: None,
            patient: 2,
            room: practice.other_room,
            start: utc(0, 11, 0),
            status: "planned",
        },
    )
    .await;
    browser.login(&app, "dr.anna").await;
    browser.goto(&app, "/operations/?date=2030-01-14").await;
    let board = text(&browser, "#opBoard").await;
    assert!(
        board.contains("Eigener Eingriff") && !board.contains("Fremder Eingriff"),
        "{board}"
    );
    assert_eq!(
        count(&browser, ".op-actions").await,
        0,
        "doctors do not set statuses here"
    );
    let status = forged_post(
        &app,
        &browser,
        &format!("/operations/{mine}/status/"),
        &[("status", "confirmed")],
    )
    .await;
    assert_eq!(status, 403);
    logout(&browser).await;

    app.create_user("abrechnung", Some(Role::Billing)).await;
    browser.login(&app, "abrechnung").await;
    browser.goto(&app, "/operations/?date=2030-01-14").await;
    let board = text(&browser, "#opBoard").await;
    assert!(
        board.contains("Eigener Eingriff") && board.contains("Fremder Eingriff"),
        "{board}"
    );
    assert_eq!(count(&browser, ".op-actions button").await, 0);
    let status = forged_post(
        &app,
        &browser,
        &format!("/operations/{foreign}/status/"),
        &[("status", "confirmed")],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        app.store()
            .operation(foreign)
            .await
            .unwrap()
            .unwrap()
            .status,
        "planned"
    );
    // A bad date is reported and today is shown.
    browser.goto(&app, "/operations/?date=2030-02-30").await;
    assert!(
        text(&browser, "#boardNotice")
            .await
            .contains("Ungültiges Datum")
    );
    browser.close().await;
    app.stop().await;
}

// ---- resources -----------------------------------------------------------------------------

#[tokio::test]
async fn the_resource_page_shows_bookings_per_room_with_absences_and_edit_links() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    name_user(&app, practice.doctor.id, "Anna", "Berger").await;
    name_user(&app, practice.other_doctor.id, "Bert", "Keller").await;
    let booked = appointment(&app, practice.doctor.id, 1, utc(0, 9, 0), 45).await;
    book_resource(&app, booked, practice.room).await;
    let ecg = appointment(&app, practice.doctor.id, 2, utc(0, 10, 0), 30).await;
    book_resource(&app, ecg, practice.device).await;
    book_resource(&app, ecg, practice.room).await;
    let later = appointment(&app, practice.doctor.id, 3, utc(2, 14, 0), 30).await;
    book_resource(&app, later, practice.room).await;
    operation(
        &app,
        Op {
            name: "Knie-Arthroskopie",
            colour: "#2E8B57",
            surgeon: practice.other_doctor.id,
            assistant: None,
            patient: 4,
            room: practice.other_room,
            start: utc(0, 11, 0),
            status: "planned",
        },
    )
    .await;
    absence(&app, practice.other_doctor.id, day(0), day(0)).await;
    practice_break(&app, None, day(0), time(12, 30), time(13, 0)).await;

    app.create_user("mfa", Some(Role::Assistant)).await;
    browser.login(&app, "mfa").await;
    browser.click("nav.mainnav a[href='/resources/']").await;
    browser.wait_for("#resToolbar").await;
    browser.goto(&app, "/resources/?date=2030-01-14").await;
    let room = text(&browser, &format!("#res-{}", practice.room)).await;
    assert!(
        room.contains("Behandlungsraum 1") && room.contains("09:00–09:45"),
        "{room}"
    );
    assert!(room.contains("10:00–10:30"), "{room}");
    let entries = text(&browser, &format!("#res-{} .res-entries", practice.room)).await;
    assert!(!entries.contains("14:00–14:30"), "another day: {entries}");
    assert_eq!(
        count(
            &browser,
            &format!("#res-{} .timeline rect.tl-bar", practice.room)
        )
        .await,
        2
    );
    let op_room = text(&browser, &format!("#res-{}", practice.other_room)).await;
    assert!(op_room.contains("Knie-Arthroskopie"), "{op_room}");
    let device = text(&browser, &format!("#res-{}", practice.device)).await;
    assert!(device.contains("10:00–10:30"), "{device}");
    let shared = text(&browser, "#resShared").await;
    assert!(
        shared.contains("Urlaub") && shared.contains("12:30–13:00"),
        "{shared}"
    );
    let edit = browser
        .wait_for(&format!("#res-{}-edit", practice.room))
        .await
        .attr("href")
        .await
        .unwrap();
    assert_eq!(
        edit.as_deref(),
        Some(format!("/admin/resources/{}/", practice.room).as_str())
    );
    let audit = app
        .store()
        .audit_log(Some("resource_calendar_view"), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].username, "mfa");
    assert_eq!(audit[0].meta.as_ref().unwrap()["date"], json!("2030-01-14"));
    browser.screenshot("resources").await;

    // The week: Monday to Sunday, the Wednesday booking in its column.
    browser.click("nav.board-views a[href*='view=week']").await;
    browser.wait_for("#resWeek").await;
    assert!(text(&browser, "#resHeading").await.contains("20.01.2030"));
    let week_row = text(&browser, &format!("#resWeek #res-{}", practice.room)).await;
    assert!(
        week_row.contains("09:00–09:45") && week_row.contains("14:00–14:30"),
        "{week_row}"
    );
    let audit = app
        .store()
        .audit_log(Some("resource_calendar_view"), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].meta.as_ref().unwrap()["days"], json!(7));
    logout(&browser).await;

    // Billing reads without edit links.
    app.create_user("abrechnung", Some(Role::Billing)).await;
    browser.login(&app, "abrechnung").await;
    browser.goto(&app, "/resources/?date=2030-01-14").await;
    browser.wait_for(&format!("#res-{}", practice.room)).await;
    assert_eq!(count(&browser, ".res-edit").await, 0);
    browser.close().await;
    app.stop().await;
}

// ---- the role matrix over HTTP (no browser needed) -----------------------------------------

/// A page session for a user (as the login form creates it): the cookie and the CSRF token.
async fn page_session(app: &TestApp, user: &praxi_store::users::UserRecord) -> (String, String) {
    let (key, csrf) = praxi_server::web::session::start_session(&app.state, user.id)
        .await
        .expect("session");
    (format!("praxi_session={key}"), csrf)
}

/// `GET` with an optional session (and language); status, location and body.
async fn get_page(app: &TestApp, cookie: Option<&str>, path: &str) -> (u16, String, String) {
    let mut request = app.http.get(app.url(path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let res = request.send().await.expect("get");
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, location, res.text().await.expect("body"))
}

/// `POST` of a form with an optional session; status and location.
async fn post_page(
    app: &TestApp,
    cookie: Option<&str>,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let mut request = app.http.post(app.url(path)).form(form);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let res = request.send().await.expect("post");
    let location = res
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (res.status().as_u16(), location)
}

#[tokio::test]
async fn board_pages_answer_every_role_like_the_api_policy() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin_api = app.as_role(Role::Admin).await;
    let own = appointment(&app, practice.doctor.id, 1, today_at(&app, 8, 0), 30).await;
    let flow = arrive(&admin_api, own).await;
    let op = operation(
        &app,
        Op {
            name: "Eingriff",
            colour: "#2E8B57",
            surgeon: practice.doctor.id,
            assistant: None,
            patient: 2,
            room: practice.other_room,
            start: utc(0, 9, 0),
            status: "planned",
        },
    )
    .await;
    let admin = app.create_user("chefin", Some(Role::Admin)).await;
    let assistant = app.create_user("mfa", Some(Role::Assistant)).await;
    let billing = app.create_user("abrechnung", Some(Role::Billing)).await;
    let nobody = app.create_user("praktikant", None).await;

    // Reads: every staff role 200, a user without role 403, anonymous to the login page.
    for path in [
        "/flow/",
        "/operations/?date=2030-01-14",
        "/resources/?view=week&date=2030-01-14",
    ] {
        for user in [&admin, &assistant, &practice.doctor, &billing] {
            let (cookie, _) = page_session(&app, user).await;
            let (status, _, body) = get_page(&app, Some(&cookie), path).await;
            assert_eq!(status, 200, "{} {path}", user.username);
            assert!(body.contains("data-live="), "a live board: {path}");
            assert!(!body.contains(" style="), "no inline styles: {path}");
        }
        let (cookie, _) = page_session(&app, &nobody).await;
        assert_eq!(
            get_page(&app, Some(&cookie), path).await.0,
            403,
            "no role {path}"
        );
        let (status, location, _) = get_page(&app, None, path).await;
        assert_eq!(status, 303, "anonymous {path}");
        assert!(location.starts_with("/login/?next="), "{location}");
    }

    // Buttons only for those who may write.
    let buttons = [
        (&admin, true, true),
        (&assistant, true, true),
        (&practice.doctor, true, false),
        (&billing, false, false),
    ];
    for (user, flow_buttons, op_buttons) in buttons {
        let (cookie, _) = page_session(&app, user).await;
        let (_, _, body) = get_page(&app, Some(&cookie), "/flow/").await;
        assert_eq!(
            body.contains(&format!("id=\"flow-{flow}-next\"")),
            flow_buttons,
            "{}",
            user.username
        );
        let (_, _, body) = get_page(&app, Some(&cookie), "/operations/?date=2030-01-14").await;
        assert_eq!(
            body.contains(&format!("id=\"op-{op}-confirmed\"")),
            op_buttons,
            "{}",
            user.username
        );
    }

    // Writes: the policy decides; billing and no-role users are refused, anonymous logs in,
    // a wrong CSRF token is refused.
    let unknown_flow = "/flow/999999/status/";
    let op_status = format!("/operations/{op}/status/");
    for (user, flow_expected, op_expected) in [
        (&admin, 303, 303),
        (&assistant, 303, 303),
        (&practice.doctor, 303, 403),
        (&billing, 403, 403),
        (&nobody, 403, 403),
    ] {
        let (cookie, csrf) = page_session(&app, user).await;
        let form = [("csrf_token", csrf.as_str()), ("status", "preparing")];
        let (status, location) = post_page(&app, Some(&cookie), unknown_flow, &form).await;
        assert_eq!(status, flow_expected, "{} flow", user.username);
        if status == 303 {
            assert_eq!(location, "/flow/?error=gone");
        }
        let form = [("csrf_token", csrf.as_str()), ("status", "bogus")];
        let (status, location) = post_page(&app, Some(&cookie), &op_status, &form).await;
        assert_eq!(status, op_expected, "{} op", user.username);
        if status == 303 {
            assert_eq!(
                location,
                "/operations/?date=2030-01-14&error=invalid_transition&from=planned"
            );
        }
        let form = [("csrf_token", "forged"), ("status", "confirmed")];
        assert_eq!(
            post_page(&app, Some(&cookie), &op_status, &form).await.0,
            403
        );
    }
    let (status, location) = post_page(&app, None, &op_status, &[("status", "confirmed")]).await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/login/"), "{location}");
    assert_eq!(
        app.store().operation(op).await.unwrap().unwrap().status,
        "planned"
    );
    // Every refused attempt after the lookup is audited like the API's.
    let refused = app
        .store()
        .audit_log(Some("op_status_update"), 10)
        .await
        .unwrap();
    assert_eq!(refused.len(), 2, "admin and assistant reached the decision");
    assert!(
        refused
            .iter()
            .all(|row| row.meta.as_ref().unwrap()["ok"] == json!(false))
    );

    // English texts.
    let (cookie, _) = page_session(&app, &assistant).await;
    let (_, _, body) = get_page(&app, Some(&format!("{cookie}; lang=en")), "/flow/").await;
    assert!(
        body.contains("Patient flow") && body.contains("Waiting") && body.contains("Prepare"),
        "English"
    );
    let (_, _, body) = get_page(
        &app,
        Some(&format!("{cookie}; lang=en")),
        "/operations/?date=2030-01-14",
    )
    .await;
    assert!(
        body.contains("Operations board") && body.contains("Confirm"),
        "English"
    );
    let (_, _, body) = get_page(&app, Some(&format!("{cookie}; lang=en")), "/resources/").await;
    assert!(
        body.contains("Resources &#38; rooms") && body.contains("Absences &#38; breaks"),
        "English: {body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_waiting_room_marks_a_patient_who_did_not_come_once_the_appointment_is_over() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    patient(&admin, 21, "Maria", "Schmidt").await;
    patient(&admin, 22, "Jonas", "Weber").await;
    let now = app.state.now();
    let midnight = local(&app, app.state.today(), 0, 0);
    let minutes_today = (now - midnight).num_minutes();
    if minutes_today < 3 {
        eprintln!("skipped: too close to midnight for an appointment that is over today");
        return;
    }
    // Maria's appointment is over, Jonas's is running.
    let over = appointment(&app, practice.doctor.id, 21, midnight, minutes_today - 1).await;
    let running = appointment(
        &app,
        practice.doctor.id,
        22,
        now - chrono::Duration::minutes(1),
        20,
    )
    .await;

    app.create_user("kasse", Some(Role::Billing)).await;
    browser.login(&app, "kasse").await;
    browser.goto(&app, "/flow/").await;
    browser.wait_for(&format!("#appt-{over}")).await;
    assert_eq!(
        count(&browser, "button[id^=no-show-]").await,
        0,
        "billing reads only"
    );
    logout(&browser).await;

    app.create_user("mfa", Some(Role::Assistant)).await;
    browser.login(&app, "mfa").await;
    browser.goto(&app, "/flow/").await;
    browser.wait_for(&format!("#no-show-{over}")).await;
    assert_eq!(
        count(&browser, &format!("#no-show-{running}")).await,
        0,
        "a running appointment cannot be a no-show yet"
    );
    browser.click(&format!("#no-show-{over}")).await;
    browser
        .wait_for_text("main", "Als nicht erschienen vermerkt.")
        .await;
    let row = text(&browser, &format!("#appt-{over}")).await;
    assert!(row.contains("Nicht erschienen"), "{row}");
    assert_eq!(count(&browser, &format!("#no-show-{over}")).await, 0);
    assert_eq!(count(&browser, &format!("#arrive-{over}")).await, 0);
    let stored = admin.get(&format!("/api/appointments/{over}/")).await;
    assert_eq!(stored.body["is_no_show"], json!(true), "{}", stored.text);
    browser.close().await;
    app.stop().await;
}
