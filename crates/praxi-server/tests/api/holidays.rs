//! Public holidays and per-date overrides (issue #14): Easter Monday is closed for a Berlin
//! practice in suggest, booking and the calendar, an override opens it again, another
//! override closes a normal day, and only admins and assistants change the calendar.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use praxi_domain::Role;
use serde_json::{Value, json};

use crate::fixtures::Practice;
use crate::helpers::{Client, TestApp};

/// Easter Monday 2030 (Easter Sunday is 21 April).
const EASTER_MONDAY: &str = "2030-04-22";

fn booking(practice: &Practice, date: &str, from: &str, to: &str) -> Value {
    json!({
        "patient_id": 1,
        "doctor": practice.doctor.id,
        "start_time": format!("{date}T{from}:00+02:00"),
        "end_time": format!("{date}T{to}:00+02:00"),
    })
}

async fn choose_berlin(admin: &Client<'_>) {
    let res = admin
        .put("/api/holidays/region/", &json!({"region": "BE"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["region"], "BE");
}

async fn suggest_first(client: &Client<'_>, doctor: i64, date: &str) -> Value {
    let res = client
        .get(&format!(
            "/api/appointments/suggest/?doctor_id={doctor}&duration_minutes=30&start_date={date}&limit=1&days=3"
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["primary_suggestions"][0]["start_time"].clone()
}

#[tokio::test]
async fn easter_monday_is_closed_for_a_berlin_practice() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let assistant = app.as_role(Role::Assistant).await;

    // Without a holiday calendar Easter Monday is a normal Monday.
    assert_eq!(
        suggest_first(&assistant, practice.doctor.id, EASTER_MONDAY).await,
        "2030-04-22T08:00:00+02:00"
    );

    choose_berlin(&admin).await;
    let res = assistant.get("/api/holidays/?year=2030").await;
    assert_eq!(res.status, 200, "{}", res.text);
    let easter = res.body["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == EASTER_MONDAY)
        .cloned()
        .unwrap();
    assert_eq!(easter["holiday"], "Ostermontag");
    assert_eq!(easter["closed"], true);
    // Berlin has Frauentag (8 March) and no Fronleichnam.
    let dates: Vec<&str> = res.body["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["date"].as_str())
        .collect();
    assert!(dates.contains(&"2030-03-08"), "{dates:?}");
    assert!(!dates.contains(&"2030-06-20"), "{dates:?}");

    // Suggest skips the holiday, booking is refused with the reason.
    assert_eq!(
        suggest_first(&assistant, practice.doctor.id, EASTER_MONDAY).await,
        "2030-04-23T08:00:00+02:00"
    );
    let res = assistant
        .post(
            "/api/appointments/",
            &booking(&practice, EASTER_MONDAY, "10:00", "10:30"),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body["detail"], json!(["Doctor unavailable."]));
    assert_eq!(res.body["reason"], "holiday");

    // The calendar's available doctors say why.
    let res = assistant
        .get(&format!("/api/calendar/day/?date={EASTER_MONDAY}"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let reasons: Vec<&Value> = res.body["available_doctors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["reason"])
        .collect();
    assert!(reasons.iter().all(|r| *r == "holiday"), "{reasons:?}");

    // The day after is a normal day.
    let res = assistant
        .post(
            "/api/appointments/",
            &booking(&practice, "2030-04-23", "10:00", "10:30"),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn overrides_open_a_holiday_and_close_a_normal_day() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    choose_berlin(&admin).await;

    let res = admin
        .put(
            &format!("/api/holidays/overrides/{EASTER_MONDAY}/"),
            &json!({"closed": false, "label": "Notdienst"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin
        .post(
            "/api/appointments/",
            &booking(&practice, EASTER_MONDAY, "10:00", "10:30"),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);

    let res = admin
        .put(
            "/api/holidays/overrides/2030-04-24/",
            &json!({"closed": true, "label": "Betriebsausflug"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin
        .post(
            "/api/appointments/",
            &booking(&practice, "2030-04-24", "10:00", "10:30"),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body["reason"], "holiday");

    let res = admin
        .get("/api/holidays/?from=2030-04-20&to=2030-04-30")
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.body["days"],
        json!([
            {"date": "2030-04-22", "holiday": "Ostermontag", "label": "Notdienst", "closed": false, "overridden": true},
            {"date": "2030-04-24", "holiday": null, "label": "Betriebsausflug", "closed": true, "overridden": true},
        ])
    );

    // Removing the override makes the day bookable again; a second delete is 404.
    let res = admin.delete("/api/holidays/overrides/2030-04-24/").await;
    assert_eq!(res.status, 204, "{}", res.text);
    let res = admin.delete("/api/holidays/overrides/2030-04-24/").await;
    assert_eq!(res.status, 404, "{}", res.text);
    let res = admin
        .post(
            "/api/appointments/",
            &booking(&practice, "2030-04-24", "10:00", "10:30"),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);

    let audit = app
        .store()
        .audit_log(Some("holiday_override_update"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].patient_id, None);
    app.stop().await;
}

#[tokio::test]
async fn only_admins_and_assistants_change_the_holiday_calendar() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = app.as_role(Role::Doctor).await;
    let billing = app.as_role(Role::Billing).await;
    for client in [&doctor, &billing] {
        let res = client.get("/api/holidays/").await;
        assert_eq!(res.status, 200, "{}", res.text);
        let res = client
            .put("/api/holidays/region/", &json!({"region": "BY"}))
            .await;
        assert_eq!(res.status, 403, "{}", res.text);
        let res = client
            .put(
                "/api/holidays/overrides/2030-01-02/",
                &json!({"closed": true}),
            )
            .await;
        assert_eq!(res.status, 403, "{}", res.text);
    }
    let res = assistant
        .put("/api/holidays/region/", &json!({"region": "XX"}))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body["region"].is_array(), "{}", res.text);
    let res = assistant
        .put(
            "/api/holidays/overrides/2030-01-02/",
            &json!({"label": "x"}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body["closed"].is_array(), "{}", res.text);
    let res = assistant
        .put(
            "/api/holidays/overrides/2030-01-02/",
            &json!({"closed": true, "label": "x".repeat(101)}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body["label"].is_array(), "{}", res.text);
    let res = admin.get("/api/holidays/?year=abc").await;
    assert_eq!(res.status, 400, "{}", res.text);
    let res = admin
        .get("/api/holidays/?from=2030-01-01&to=2031-06-01")
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    let res = admin
        .put("/api/holidays/region/", &json!({"region": null}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["region"], Value::Null);
    app.stop().await;
}

/// The administration page over plain HTTP with a staff session: it lists the year's
/// holidays of the chosen state, and its override form (with the session's CSRF token) goes
/// through the same use case as the API.
#[tokio::test]
async fn the_admin_page_shows_the_holidays_and_sets_an_override() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    choose_berlin(&admin).await;
    let key = format!("{:0>40}", "holidays");
    let now = app.state.now();
    app.store()
        .create_session(
            &key,
            admin.user_id(),
            "csrf-holidays",
            now,
            now + chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    let cookie = format!("{}={key}", praxi_server::web::session::SESSION_COOKIE);
    let page = app
        .http
        .get(app.url("/admin/holidays/?year=2030"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Ostermontag"), "{html}");
    assert!(html.contains("id=\"day-2030-04-22\""), "{html}");
    assert!(html.contains("<option value=\"BE\" selected>"), "{html}");

    let res = app
        .http
        .post(app.url("/admin/holidays/overrides/"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf_token", "csrf-holidays"),
            ("date", "2030-04-22"),
            ("closed", "false"),
            ("label", "Notdienst"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = admin
        .get("/api/holidays/?from=2030-04-22&to=2030-04-22")
        .await;
    assert_eq!(res.body["days"][0]["closed"], false, "{}", res.text);
    assert_eq!(res.body["days"][0]["label"], "Notdienst");

    // Without the CSRF token nothing changes.
    let res = app
        .http
        .post(app.url("/admin/holidays/region/"))
        .header("cookie", &cookie)
        .form(&[("region", "BY")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = admin.get("/api/holidays/").await;
    assert_eq!(res.body["region"], "BE");
    app.stop().await;
}
