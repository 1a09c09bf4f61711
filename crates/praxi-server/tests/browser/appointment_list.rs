//! The appointment list with filters and CSV export (#15 item 6b): an assistant filters by
//! range, doctor, status and patient in the browser; the export has the same rows as an
//! attachment whose cells never start a formula; doctors get only their own appointments
//! whatever they ask for; billing reads; every read is audited.

use praxi_domain::Role;
use serde_json::json;

use crate::fixtures::Practice;
use crate::harness::browser;
use crate::helpers::TestApp;

/// Books the fixture appointments on Monday 2030-01-14 and Tuesday: Anna with patient 1 at
/// 10:00, Bert with patient 2 at 11:00 (then cancelled), Anna with a formula-named patient
/// on Tuesday at 09:00.
async fn bookings(app: &TestApp, practice: &Practice) -> (i64, i64, i64) {
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/patients/",
            &json!({"id": 9, "first_name": "-Eva", "last_name": "=HYPERLINK(\"http://x\")"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let first = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 10, 0), (0, 10, 30)),
        )
        .await;
    let second = practice
        .book(
            &admin,
            &practice.booking(practice.other_doctor.id, 2, (0, 11, 0), (0, 11, 30)),
        )
        .await;
    let res = admin
        .patch(
            &format!("/api/appointments/{second}/"),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut third = practice.booking(practice.doctor.id, 9, (1, 9, 0), (1, 9, 30));
    third["notes"] = json!("+Rückruf; bitte \"dringend\"");
    let third = practice.book(&admin, &third).await;
    (first, second, third)
}

async fn session_cookie(app: &TestApp, user: &praxi_store::users::UserRecord) -> String {
    let (key, _csrf) = praxi_server::web::session::start_session(&app.state, user.id)
        .await
        .expect("session");
    format!("praxi_session={key}")
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .expect("get")
}

/// The body as sent (a byte-order mark stays).
async fn utf8(res: reqwest::Response) -> String {
    String::from_utf8(res.bytes().await.expect("body").to_vec()).expect("UTF-8")
}

#[tokio::test]
async fn an_assistant_filters_the_appointment_list_and_exports_the_same_rows() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let (first, second, third) = bookings(&app, &practice).await;
    let assistant = app.create_user("assist", Some(Role::Assistant)).await;
    browser.login(&app, "assist").await;

    browser.goto(&app, "/dashboard/").await;
    browser.click("nav a[href='/appointments/']").await;
    browser.wait_for("#appointmentFilter").await;
    browser
        .client
        .execute(
            "document.querySelector('#filterFrom').value = '2030-01-14';
             document.querySelector('#filterTo').value = '2030-01-15';",
            vec![],
        )
        .await
        .expect("set the range");
    browser.click("#filterApply").await;
    browser.wait_for(&format!("#appointment-{third}")).await;
    let count = browser.text("#appointmentCount").await;
    assert!(count.starts_with("3 "), "{count}");
    let list = browser.text("#appointmentList").await;
    assert!(list.contains("Abgesagt"), "{list}");
    // The formula-like name is shown as text.
    assert!(list.contains("=HYPERLINK"), "{list}");

    // Doctor and status: Anna's scheduled ones.
    browser
        .client
        .execute(
            &format!(
                "document.querySelector('#filterDoctor').value = '{}';
                 document.querySelector('#filterStatus').value = 'scheduled';",
                practice.doctor.id
            ),
            vec![],
        )
        .await
        .expect("set the filters");
    browser.click("#filterApply").await;
    browser.wait_for_text("#appointmentCount", "2 ").await;
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css(&format!("#appointment-{second}")))
            .await
            .is_err()
    );
    // Patient by name part, then by number.
    browser.fill("#filterPatient", "patient1").await;
    browser.click("#filterApply").await;
    browser.wait_for_text("#appointmentCount", "1 ").await;
    browser.wait_for(&format!("#appointment-{first}")).await;
    let export = browser
        .wait_for("#appointmentExport")
        .await
        .attr("href")
        .await
        .expect("attr")
        .expect("href");
    assert!(export.starts_with("/appointments/export.csv?from=2030-01-14&to=2030-01-15"));
    assert!(export.contains("status=scheduled"), "{export}");
    assert!(export.contains("patient=patient1"), "{export}");

    // The export with the same filters, fetched with the same user's session.
    let cookie = session_cookie(&app, &assistant).await;
    let res = get(&app, &cookie, &export).await;
    assert_eq!(res.status().as_u16(), 200);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"termine-2030-01-14-2030-01-15.csv\""
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let body = utf8(res).await;
    let lines: Vec<&str> = body.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(
        lines[0].starts_with("\u{feff}Termin-Nr.;Datum;Beginn"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(&format!("{first};14.01.2030;10:00;10:30;1;")),
        "{}",
        lines[1]
    );

    // Everything in the range: the formula cells are neutralised and quoted.
    let res = get(
        &app,
        &cookie,
        "/appointments/export.csv?from=2030-01-14&to=2030-01-15",
    )
    .await;
    let body = utf8(res).await;
    let row = body
        .split("\r\n")
        .find(|line| line.starts_with(&format!("{third};")))
        .expect("third row");
    assert!(
        row.contains(";\"'-Eva =HYPERLINK(\"\"http://x\"\")\";"),
        "{row}"
    );
    assert!(
        row.ends_with(";\"'+Rückruf; bitte \"\"dringend\"\"\""),
        "{row}"
    );
    assert!(
        !body.contains(";=") && !body.contains(";+") && !body.contains(";@"),
        "{body}"
    );

    // Page views and exports are audited with their counts.
    let exports = app
        .store()
        .audit_log(Some("appointment_export"), 10)
        .await
        .expect("audit");
    assert_eq!(exports.len(), 2);
    let lists = app
        .store()
        .audit_log(Some("appointment_list"), 10)
        .await
        .expect("audit");
    assert!(lists.len() >= 4, "{}", lists.len());
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn doctors_list_and_export_only_their_own_appointments() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let (first, second, third) = bookings(&app, &practice).await;
    let cookie = session_cookie(&app, &practice.other_doctor).await;
    // Bert asks for Anna's appointments: he gets only his own.
    let path = format!(
        "/appointments/?from=2030-01-14&to=2030-01-20&doctor_id={}",
        practice.doctor.id
    );
    let page = get(&app, &cookie, &path).await.text().await.expect("body");
    assert!(
        page.contains(&format!("id=\"appointment-{second}\"")),
        "{page}"
    );
    assert!(!page.contains(&format!("id=\"appointment-{first}\"")));
    assert!(!page.contains(&format!("id=\"appointment-{third}\"")));
    assert!(page.contains("id=\"ownOnly\""));
    assert!(!page.contains("id=\"filterDoctor\""));
    let csv = get(
        &app,
        &cookie,
        &format!(
            "/appointments/export.csv?from=2030-01-14&to=2030-01-20&doctor_id={}",
            practice.doctor.id
        ),
    )
    .await
    .text()
    .await
    .expect("body");
    assert_eq!(csv.trim_end().split("\r\n").count(), 2, "{csv}");
    assert!(csv.contains(&format!("\r\n{second};")), "{csv}");

    // Billing reads everything; without a session the page asks for a login; bad filters
    // are explained, never a server error.
    let billing = app.create_user("billing", Some(Role::Billing)).await;
    let cookie = session_cookie(&app, &billing).await;
    let page = get(
        &app,
        &cookie,
        "/appointments/?from=2030-01-14&to=2030-01-20",
    )
    .await
    .text()
    .await
    .expect("body");
    for id in [first, second, third] {
        assert!(page.contains(&format!("id=\"appointment-{id}\"")), "{id}");
    }
    let res = get(
        &app,
        &cookie,
        "/appointments/?from=bogus&to=2031-13-01&status=x&doctor_id=-1",
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    let res = app
        .http
        .get(app.url("/appointments/export.csv"))
        .send()
        .await
        .expect("get");
    assert!(
        res.status().is_redirection() || res.status().as_u16() == 401,
        "{}",
        res.status()
    );
    app.stop().await;
}
