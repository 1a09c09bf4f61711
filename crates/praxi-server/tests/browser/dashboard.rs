//! The KPI dashboards (`/dashboard/`, `/dashboard/scheduling/`, `/dashboard/operations/`):
//! the numbers of a known practice on the cards, server-drawn SVG charts with titles and data
//! tables, the period selector, a doctor's own figures, and access per role.
//!
//! The app clock is set to Wednesday 2030-01-16 10:00 in Berlin, so "this week" is
//! Mo 14.–So 20.01.2030 of the `Practice` fixture. Seeded (doctor, start, status):
//!
//! | week | Anna | Bert |
//! |---|---|---|
//! | previous | Tue 08. 09:00 completed | Thu 10. 09:00 completed |
//! | this | Mon 14. 09:00 completed; Wed 16. 11:00 scheduled; Wed 16. 15:00 **cancelled**; Fri 18. 14:00 confirmed | Mon 14. 11:00 scheduled (past: a no-show); Tue 15. 10:00 completed |
//!
//! Operations (Anna as primary surgeon, OP-1): Mon 14. 13:00 done, Thu 17. 09:00 planned.
#![allow(clippy::unwrap_used, reason = "test fixtures fail loudly")]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use praxi_domain::Role;
use praxi_store::entity;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};

use crate::fixtures::Practice;
use crate::harness::{Browser, browser};
use crate::helpers::{Client, TestApp};

const PAGES: [&str; 4] = [
    "/dashboard/",
    "/dashboard/scheduling/",
    "/dashboard/operations/",
    "/dashboard/operations/?days=7",
];

/// Berlin wall-clock time on a January 2030 day, as an instant.
fn berlin(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    let date = NaiveDate::from_ymd_opt(2030, 1, day).unwrap();
    chrono_tz::Europe::Berlin
        .from_local_datetime(&date.and_hms_opt(h, m, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

async fn book(
    admin: &Client<'_>,
    doctor: i64,
    patient: i32,
    (day, h, m): (u32, u32, u32),
    status: &str,
) -> i64 {
    let start = berlin(day, h, m);
    let res = admin
        .post(
            "/api/appointments/",
            &json!({
                "patient_id": patient,
                "doctor": doctor,
                "start_time": start.to_rfc3339(),
                "end_time": (start + chrono::Duration::minutes(30)).to_rfc3339(),
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["id"].as_i64().unwrap();
    if status != "scheduled" {
        let res = admin
            .patch(
                &format!("/api/appointments/{id}/"),
                &json!({"status": status}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
    }
    id
}

async fn operation(admin: &Client<'_>, body: Value, statuses: &[&str]) -> i64 {
    let res = admin.post("/api/operations/", &body).await;
    assert_eq!(res.status, 201, "{body}: {}", res.text);
    let id = res.body["id"].as_i64().unwrap();
    for status in statuses {
        let res = admin
            .patch(
                &format!("/api/operations/{id}/"),
                &json!({"status": status}),
            )
            .await;
        assert_eq!(res.status, 200, "{status}: {}", res.text);
    }
    id
}

/// The practice of the module documentation, with the clock on Wed 2030-01-16 10:00.
async fn seeded(app: &TestApp) -> Practice {
    app.state.clock.advance(berlin(16, 10, 0) - Utc::now());
    let practice = Practice::new(app).await;
    let admin = app.as_role(Role::Admin).await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    book(&admin, anna, 2, (8, 9, 0), "completed").await;
    book(&admin, bert, 3, (10, 9, 0), "completed").await;
    book(&admin, anna, 1, (14, 9, 0), "completed").await;
    book(&admin, bert, 2, (14, 11, 0), "scheduled").await;
    book(&admin, bert, 4, (15, 10, 0), "completed").await;
    book(&admin, anna, 2, (16, 11, 0), "scheduled").await;
    book(&admin, anna, 1, (16, 15, 0), "cancelled").await;
    book(&admin, anna, 3, (18, 14, 0), "confirmed").await;
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
    let op = |patient: i32, start: DateTime<Utc>, status: &str| {
        json!({
            "patient_id": patient,
            "primary_surgeon": anna,
            "op_room": practice.other_room,
            "op_type": op_type,
            "start_time": start.to_rfc3339(),
            "status": status,
        })
    };
    operation(
        &admin,
        op(4, berlin(14, 13, 0), "confirmed"),
        &["running", "done"],
    )
    .await;
    operation(&admin, op(2, berlin(17, 9, 0), "planned"), &[]).await;
    practice
}

/// The whitespace-normalised text content of an element.
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

/// Each chart is an `<svg>` with a non-empty `<title>` and a data table with rows.
async fn assert_charts(browser: &Browser, ids: &[&str]) {
    for id in ids {
        let title = content(browser, &format!("svg#{id} > title")).await;
        assert!(!title.is_empty(), "{id} has no title");
        let desc = content(browser, &format!("svg#{id} > desc")).await;
        assert!(!desc.is_empty(), "{id} has no desc");
        let labelled = browser
            .wait_for(&format!("svg#{id}"))
            .await
            .attr("aria-labelledby")
            .await
            .unwrap();
        assert_eq!(
            labelled.as_deref(),
            Some(format!("{id}-title {id}-desc").as_str())
        );
        let rows = browser
            .client
            .find_all(fantoccini::Locator::Css(&format!(
                "#{id}Figure details table tbody tr"
            )))
            .await
            .unwrap();
        assert!(!rows.is_empty(), "{id} has no data table");
    }
}

/// The rows of a chart's data table, each as its cells joined by " | ".
async fn table(browser: &Browser, chart: &str) -> Vec<String> {
    browser.wait_for(&format!("#{chart}Figure table")).await;
    let value = browser
        .client
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(function (row) {\
               return Array.from(row.cells).map(function (cell) { return cell.textContent.trim(); }).join(' | ');\
             });",
            vec![json!(format!("#{chart}Figure table tbody tr"))],
        )
        .await
        .expect("table rows");
    value
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|row| row.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A full-page screenshot: the window grows to the page's height first.
async fn full_page(browser: &Browser, name: &str) {
    let height = browser
        .client
        .execute(
            "window.scrollTo(0, 0); return document.documentElement.scrollHeight;",
            vec![],
        )
        .await
        .expect("page height")
        .as_u64()
        .unwrap_or(1000);
    browser
        .client
        .set_window_size(1280, u32::try_from(height.clamp(800, 6000)).unwrap() + 120)
        .await
        .expect("resize");
    browser.screenshot(name).await;
    browser
        .client
        .set_window_size(1280, 1000)
        .await
        .expect("resize");
}

async fn value(browser: &Browser, card: &str) -> String {
    content(browser, &format!("#{card} .value")).await
}

#[tokio::test]
async fn an_admin_sees_the_practice_figures_with_named_windows_and_svg_charts() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    seeded(&app).await;
    app.create_user("chef", Some(Role::Admin)).await;
    browser.login(&app, "chef").await;
    browser.goto(&app, "/dashboard/").await;

    // Volumes without the cancelled appointment, which is named separately.
    assert_eq!(value(&browser, "kpiAppointmentsToday").await, "1");
    let today = content(&browser, "#kpiAppointmentsToday").await;
    assert!(
        today.contains("Mi 16.01.2030") && today.contains("+ 1 zusätzlich abgesagt"),
        "{today}"
    );
    assert_eq!(value(&browser, "kpiAppointmentsWeek").await, "5");
    let week = content(&browser, "#kpiAppointmentsWeek").await;
    assert!(week.contains("Mo 14.–So 20.01.2030"), "{week}");
    assert!(week.contains("Vorwoche: 2 (+3)"), "{week}");
    assert!(!week.contains("Letzte 7 Tage"), "{week}");
    assert_eq!(value(&browser, "kpiAppointmentsMonth").await, "7");
    assert!(
        content(&browser, "#kpiAppointmentsMonth")
            .await
            .contains("Januar 2030")
    );
    assert_eq!(value(&browser, "kpiOperationsToday").await, "0");
    assert_eq!(value(&browser, "kpiOperationsWeek").await, "2");
    // Last 30 days: all appointments last 30 minutes; the busiest weekday is Monday (2).
    assert_eq!(value(&browser, "kpiAverageDuration").await, "30,0 min");
    assert_eq!(value(&browser, "kpiPeakDay").await, "Montag");
    assert_eq!(value(&browser, "kpiPeakHour").await, "09:00–10:00");
    // Current state: 4 patients, 2 doctors; users (admin only): the doctors, the fixture's
    // two API admins and "chef".
    assert_eq!(value(&browser, "kpiPatients").await, "4");
    assert_eq!(value(&browser, "kpiDoctors").await, "2");
    assert_eq!(value(&browser, "kpiUsers").await, "5");
    assert_eq!(value(&browser, "kpiRooms").await, "2");

    assert_charts(
        &browser,
        &[
            "statusChart",
            "appointmentsPerDayChart",
            "surgeonChart",
            "heatmapChart",
            "doctorUtilisationChart",
            "roomUtilisationChart",
        ],
    )
    .await;
    // The status table: 7 starts in the last 30 days up to today, one of them cancelled.
    let status = table(&browser, "statusChart").await;
    assert_eq!(
        status,
        [
            "Geplant | 2 | 28,6 %",
            "Bestätigt | 0 | 0,0 %",
            "Erledigt | 4 | 57,1 %",
            "Abgesagt | 1 | 14,3 %",
        ]
    );
    // Operations per surgeon in January: Anna's two, 50 minutes each.
    let surgeons = table(&browser, "surgeonChart").await;
    assert_eq!(surgeons, ["First dr.anna Last dr.anna | 2 | 1,7 h"]);
    full_page(&browser, "dashboard").await;
    // The data tables open from a summary (keyboard and screen readers).
    browser.click("#statusChartFigure summary").await;
    assert!(
        browser
            .wait_for("#statusChartFigure table")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_scheduling_dashboard_shows_rates_funnel_trend_and_peak_load() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    seeded(&app).await;
    app.create_user("mfa", Some(Role::Assistant)).await;
    browser.login(&app, "mfa").await;
    browser.goto(&app, "/dashboard/").await;
    browser
        .click(".dash-tabs a[href='/dashboard/scheduling/']")
        .await;
    browser.wait_for("#schedulingDashboard").await;

    // 5 past bookings (not cancelled) in the last 30 days: 4 completed, 1 still scheduled.
    assert_eq!(value(&browser, "kpiCompletionRate").await, "80,0 %");
    assert_eq!(value(&browser, "kpiNoShowRate").await, "20,0 %");
    // 7 appointments start in the last 30 days, 1 cancelled.
    assert_eq!(value(&browser, "kpiCancellationRate").await, "14,3 %");
    assert!(
        content(&browser, "#kpiCancellationRate")
            .await
            .contains("1 von 7")
    );
    assert!(
        content(&browser, "#schedulingDashboard")
            .await
            .contains("Effizienz-Score")
    );
    browser.wait_for("#funnelContainer svg").await;
    assert_charts(
        &browser,
        &[
            "funnelChart",
            "trendChart",
            "leadTimeChart",
            "doctorUtilisationChart",
            "roomUtilisationChart",
            "hourlyChart",
            "weekdayChart",
            "heatmapChart",
        ],
    )
    .await;
    let peak = content(&browser, "#peakText").await;
    assert!(
        peak.contains("Montag") && peak.contains("09:00–10:00"),
        "{peak}"
    );
    full_page(&browser, "dashboard-scheduling").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_period_select_changes_the_window_of_the_operations_dashboard() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    seeded(&app).await;
    app.create_user("abrechnung", Some(Role::Billing)).await;
    browser.login(&app, "abrechnung").await;
    browser.goto(&app, "/dashboard/operations/").await;

    // Default: the last 30 days up to today. Throughput = 4 completed appointments + 1 done
    // operation.
    assert!(
        content(&browser, "#periodWindow")
            .await
            .contains("Di 18.12.2029–Mi 16.01.2030")
    );
    assert_eq!(value(&browser, "kpiThroughput").await, "5");
    assert_eq!(value(&browser, "kpiOperations").await, "1");
    assert_charts(
        &browser,
        &[
            "hourlyChart",
            "dailyTrendChart",
            "statusChart",
            "opStatusChart",
        ],
    )
    .await;

    // Choosing a period submits the form (GET).
    browser
        .wait_for("#periodSelect")
        .await
        .select_by_value("7")
        .await
        .unwrap();
    browser
        .wait_for_text("#periodWindow", "Do 10.–Mi 16.01.2030")
        .await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.query(), Some("days=7"));
    assert_eq!(value(&browser, "kpiThroughput").await, "4");
    let daily = table(&browser, "dailyTrendChart").await;
    assert_eq!(daily.len(), 7);
    assert_eq!(daily[4], "14.01. | 1 | 1");
    full_page(&browser, "dashboard-operations").await;

    // The form works without JavaScript too: a GET form with a submit button.
    let form = browser.wait_for("#periodForm").await;
    assert_eq!(form.attr("method").await.unwrap().as_deref(), Some("get"));
    browser.wait_for("#periodForm button[type=submit]").await;
    // Today only.
    browser
        .wait_for("#periodSelect")
        .await
        .select_by_value("1")
        .await
        .unwrap();
    browser
        .wait_for_text("#periodWindow", "Mi 16.01.2030")
        .await;
    assert_eq!(value(&browser, "kpiThroughput").await, "0");
    assert_eq!(value(&browser, "kpiOperations").await, "0");
    assert!(
        content(&browser, "#dailyTrendChartFigure")
            .await
            .contains("Keine Daten im Zeitraum")
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_doctor_sees_figures_of_their_own_appointments_only() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    seeded(&app).await;
    browser.login(&app, "dr.anna").await;
    browser.goto(&app, "/dashboard/").await;

    assert!(
        content(&browser, "#dashScope")
            .await
            .contains("eigenen Terminen")
    );
    assert_eq!(value(&browser, "kpiAppointmentsWeek").await, "3");
    assert!(
        content(&browser, "#kpiAppointmentsWeek")
            .await
            .contains("Vorwoche: 1 (+2)")
    );
    assert_eq!(value(&browser, "kpiOperationsWeek").await, "2");
    // No user administration figures for doctors; the utilisation lists only her.
    let users = browser
        .client
        .find_all(fantoccini::Locator::Css("#kpiUsers"))
        .await
        .unwrap();
    assert!(users.is_empty());
    let doctors = table(&browser, "doctorUtilisationChart").await;
    assert_eq!(doctors.len(), 1, "{doctors:?}");
    assert!(
        doctors[0].starts_with("First dr.anna Last dr.anna | "),
        "{doctors:?}"
    );

    browser.goto(&app, "/dashboard/scheduling/").await;
    // Her past bookings: Tue 08. and Mon 14., both completed.
    assert_eq!(value(&browser, "kpiCompletionRate").await, "100,0 %");
    browser.goto(&app, "/dashboard/operations/?days=7").await;
    assert_eq!(value(&browser, "kpiThroughput").await, "2");
    browser.close().await;
    app.stop().await;
}

// ---- without a browser: status per role, redirects, escaping -------------------------------

/// A GET with a fresh session of `user` (or anonymous), in German.
async fn page(
    app: &TestApp,
    user: Option<&praxi_store::users::UserRecord>,
    path: &str,
) -> (u16, String, String) {
    page_in(app, user, path, "de").await
}

/// A GET with a fresh session of `user` (or anonymous) in language `lang`.
async fn page_in(
    app: &TestApp,
    user: Option<&praxi_store::users::UserRecord>,
    path: &str,
    lang: &str,
) -> (u16, String, String) {
    let mut request = app.http.get(app.url(path));
    let mut cookie = format!("lang={lang}");
    if let Some(user) = user {
        let (key, _csrf) = praxi_server::web::session::start_session(&app.state, user.id)
            .await
            .unwrap();
        cookie.push_str(&format!("; praxi_session={key}"));
    }
    request = request.header("Cookie", cookie);
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, location, response.text().await.unwrap())
}

#[tokio::test]
async fn every_role_opens_the_dashboards_and_others_are_refused() {
    let app = TestApp::spawn().await;
    seeded(&app).await;
    let mut users = Vec::new();
    for (name, role) in [
        ("chef", Some(Role::Admin)),
        ("mfa", Some(Role::Assistant)),
        ("dr.cora", Some(Role::Doctor)),
        ("abrechnung", Some(Role::Billing)),
        ("gast", None),
    ] {
        users.push((name, role, app.create_user(name, role).await));
    }
    for path in PAGES {
        for (name, role, user) in &users {
            let (status, _, body) = page(&app, Some(user), path).await;
            if role.is_some() {
                assert_eq!(status, 200, "{name} {path}");
                assert!(body.contains("<svg"), "{name} {path}");
                assert!(!body.contains(" style="), "{name} {path}: inline style");
                assert!(
                    !body.contains("dashboard."),
                    "{name} {path}: a text key without text"
                );
            } else {
                assert_eq!(status, 403, "{name} {path}");
            }
        }
        let (status, location, _) = page(&app, None, path).await;
        assert_eq!(status, 303, "anonymous {path}");
        assert!(
            location.starts_with("/login/?next=/dashboard/"),
            "{location}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_dashboards_have_every_text_in_english() {
    let app = TestApp::spawn().await;
    seeded(&app).await;
    let admin = app.create_user("chef", Some(Role::Admin)).await;
    for path in PAGES {
        let (status, _, body) = page_in(&app, Some(&admin), path, "en").await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains("<html lang=\"en\">"), "{path}");
        for key in ["dashboard.", "calendar."] {
            assert!(!body.contains(key), "{path}: a text key without text");
        }
        assert!(
            !body.contains("Termine"),
            "{path}: German text in the English page"
        );
    }
    let (_, _, body) = page_in(&app, Some(&admin), "/dashboard/", "en").await;
    assert!(body.contains("Mon 14.–Sun 20.01.2030"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_period_falls_back_to_30_days_with_a_notice_and_old_addresses_redirect() {
    let app = TestApp::spawn().await;
    seeded(&app).await;
    let admin = app.create_user("chef", Some(Role::Admin)).await;
    for query in ["days=8", "days=abc", "days=-1", "days=99999999999"] {
        let (status, _, body) = page(
            &app,
            Some(&admin),
            &format!("/dashboard/operations/?{query}"),
        )
        .await;
        assert_eq!(status, 200, "{query}");
        assert!(body.contains("id=\"periodNotice\""), "{query}");
        assert!(body.contains("<option value=\"30\" selected>"), "{query}");
    }
    for (old, new) in [
        (
            "/praxi_backend/dashboard/scheduling/",
            "/dashboard/scheduling/",
        ),
        (
            "/praxi_backend/dashboard/operations/?days=7",
            "/dashboard/operations/?days=7",
        ),
        (
            "/praxi_backend/dashboard/operations/?days=oops",
            "/dashboard/operations/",
        ),
    ] {
        let (status, location, _) = page(&app, Some(&admin), old).await;
        assert_eq!((status, location.as_str()), (308, new), "{old}");
    }
    app.stop().await;
}

#[tokio::test]
async fn stored_names_are_escaped_in_charts_and_tables() {
    let app = TestApp::spawn().await;
    seeded(&app).await;
    crate::fixtures::resource(&app, "<script>alert(1)</script>", "room").await;
    let admin = app.create_user("chef", Some(Role::Admin)).await;
    for path in [
        "/dashboard/",
        "/dashboard/scheduling/",
        "/dashboard/operations/",
    ] {
        let (status, _, body) = page(&app, Some(&admin), path).await;
        assert_eq!(status, 200);
        assert!(!body.contains("<script>alert(1)"), "{path}");
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn an_empty_practice_shows_dashes_and_notes_instead_of_invented_figures() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("chef", Some(Role::Admin)).await;
    let (status, _, body) = page(&app, Some(&admin), "/dashboard/").await;
    assert_eq!(status, 200);
    // No peak hour is made up (the original showed "9:00"), the rates are dashes.
    let peak = body.split("id=\"kpiPeakHour\"").nth(1).unwrap_or_default();
    let peak = peak.split("</li>").next().unwrap_or_default();
    assert!(peak.contains("<p class=\"value\">–</p>"), "{peak}");
    assert!(peak.contains("Keine Termine im Zeitraum."), "{peak}");
    assert!(body.contains("Keine Daten im Zeitraum"));
    let (_, _, body) = page(&app, Some(&admin), "/dashboard/scheduling/").await;
    let completion = body
        .split("id=\"kpiCompletionRate\"")
        .nth(1)
        .unwrap_or_default();
    assert!(
        completion.contains("<p class=\"value\">–</p>"),
        "{completion}"
    );
    app.stop().await;
}
