//! Planning, editing and cancelling operations in the staff UI (#15 item 6a): an assistant
//! plans an operation from the OP board, a second one in the same room at the same time is
//! refused with the reason in words and the team's free times as links (every input kept),
//! the offered time books it, the edit form changes it and the cancel button cancels it;
//! doctors and billing get no form.

use chrono::Utc;
use praxi_domain::Role;
use praxi_store::entity;
use sea_orm::{ActiveModelTrait, Set};

use crate::fixtures::Practice;
use crate::harness::{Browser, browser};
use crate::helpers::TestApp;

async fn op_type(app: &TestApp, name: &str) -> i64 {
    entity::operation_type::ActiveModel {
        name: Set(name.to_owned()),
        prep_duration: Set(10),
        op_duration: Set(40),
        post_duration: Set(10),
        color: Set("#445566".to_owned()),
        active: Set(true),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("operation type")
    .id
}

/// Fills the planning form through the DOM (date and time inputs are locale-dependent to
/// type into) and submits it.
async fn plan(browser: &Browser, patient: i32, op_type: i64, room: i64, surgeon: i64, start: &str) {
    browser.wait_for("#operationForm").await;
    let script = format!(
        "document.querySelector('#opPatient').value = '{patient}';
         document.querySelector('#opType').value = '{op_type}';
         document.querySelector('#opDate').value = '2030-01-14';
         document.querySelector('#opStart').value = '{start}';
         document.querySelector('#opRoom').value = '{room}';
         document.querySelector('#opSurgeon').value = '{surgeon}';
         document.querySelector('#opNotes').value = 'Notiz <b>fett</b>';"
    );
    browser
        .client
        .execute(&script, vec![])
        .await
        .expect("fill the form");
    browser.click("#opSave").await;
}

/// Clicks the first link matching `css` whose text contains `needle`.
async fn click_link_with(browser: &Browser, css: &str, needle: &str) {
    browser.wait_for(css).await;
    let links = browser
        .client
        .find_all(fantoccini::Locator::Css(css))
        .await
        .expect("links");
    for link in links {
        if link.text().await.expect("text").contains(needle) {
            link.click().await.expect("click");
            return;
        }
    }
    panic!("no link {css} with {needle:?}");
}

async fn value(browser: &Browser, css: &str) -> String {
    browser
        .wait_for(css)
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

#[tokio::test]
async fn an_assistant_plans_edits_and_cancels_an_operation_with_conflicts_explained() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let kind = op_type(&app, "Arthroskopie").await;
    app.create_user("assist", Some(Role::Assistant)).await;
    browser.login(&app, "assist").await;

    // From the OP board of the day to the planning form.
    browser.goto(&app, "/operations/?date=2030-01-14").await;
    browser.click("#opNew").await;
    // The patient search keeps the day.
    browser.fill("#patientSearch", "Patient1").await;
    browser.click("#patientSearchButton").await;
    browser.wait_for("#patientSearchResult").await;
    assert_eq!(value(&browser, "#opDate").await, "2030-01-14");
    plan(
        &browser,
        1,
        kind,
        practice.other_room,
        practice.doctor.id,
        "09:00",
    )
    .await;
    let flash = browser.text("#boardFlash").await;
    assert!(flash.contains("Die Operation wurde geplant."), "{flash}");
    let board = browser.text("#opBoard").await;
    assert!(board.contains("Arthroskopie"), "{board}");
    assert!(board.contains("09:00–10:00"), "{board}");

    // The same room at the same time: refused, explained, every input kept.
    browser.click("#opNew").await;
    browser.fill("#patientSearch", "Patient2").await;
    browser.click("#patientSearchButton").await;
    browser.wait_for("#patientSearchResult").await;
    plan(
        &browser,
        2,
        kind,
        practice.other_room,
        practice.other_doctor.id,
        "09:30",
    )
    .await;
    let title = browser.text("#conflictTitle").await;
    assert!(title.contains("nicht geplant"), "{title}");
    let reasons = browser.text("#conflictReasons").await;
    assert!(
        reasons.contains("Ressource bereits belegt: OP-1"),
        "{reasons}"
    );
    assert!(reasons.contains("09:00 bis 10:00"), "{reasons}");
    assert_eq!(value(&browser, "#opStart").await, "09:30");
    assert_eq!(value(&browser, "#opPatient").await, "2");
    assert_eq!(
        value(&browser, "#opSurgeon").await,
        practice.other_doctor.id.to_string()
    );
    assert_eq!(value(&browser, "#opNotes").await, "Notiz <b>fett</b>");
    // The nearest free time is offered as a link that plans it.
    let free = browser.text("#conflictNextFree").await;
    assert!(free.contains("14.01.2030 10:00"), "{free}");
    click_link_with(&browser, "#conflictNextFree a", "10:00").await;
    assert_eq!(value(&browser, "#opStart").await, "10:00");
    assert_eq!(value(&browser, "#opPatient").await, "2");
    browser.click("#opSave").await;
    let flash = browser.text("#boardFlash").await;
    assert!(flash.contains("Die Operation wurde geplant."), "{flash}");

    // Edit the first operation: another start; then cancel it.
    let operations = app
        .store()
        .operations(&Default::default())
        .await
        .expect("operations");
    assert_eq!(operations.len(), 2);
    let first = operations
        .iter()
        .find(|op| op.patient_id == 1)
        .expect("first operation");
    assert_eq!(first.notes.as_deref(), Some("Notiz <b>fett</b>"));
    browser.click(&format!("#op-{}-edit", first.id)).await;
    browser.wait_for("#operationForm").await;
    assert_eq!(value(&browser, "#opStart").await, "09:00");
    // Moving onto the second one (10:00–11:00 in the same room) is refused, nothing saved.
    browser
        .client
        .execute(
            "document.querySelector('#opStart').value = '10:30';",
            vec![],
        )
        .await
        .expect("set start");
    browser.click("#opSave").await;
    let title = browser.text("#conflictTitle").await;
    assert!(title.contains("nicht gespeichert"), "{title}");
    browser
        .client
        .execute(
            "document.querySelector('#opStart').value = '08:00';",
            vec![],
        )
        .await
        .expect("set start");
    browser.click("#opSave").await;
    let flash = browser.text("#boardFlash").await;
    assert!(
        flash.contains("Die Operation wurde gespeichert."),
        "{flash}"
    );
    assert!(browser.text("#opBoard").await.contains("08:00–09:00"));

    browser.click(&format!("#op-{}-edit", first.id)).await;
    browser.wait_for("#opCancel").await;
    browser
        .client
        .execute("window.confirm = function () { return true; };", vec![])
        .await
        .expect("answer the confirmation");
    browser.click("#opCancel").await;
    let flash = browser.text("#boardFlash").await;
    assert!(flash.contains("Die Operation wurde abgesagt."), "{flash}");
    let stored = app
        .store()
        .operation(first.id)
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(stored.status, "cancelled");

    // Every write is audited like the API's.
    let actions: Vec<String> = app
        .store()
        .audit_log(None, 1000)
        .await
        .expect("audit")
        .into_iter()
        .map(|row| row.action)
        .collect();
    for action in ["operation_create", "operation_update", "operation_conflict"] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn doctors_and_billing_get_no_operation_forms() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let billing = app.create_user("billing", Some(Role::Billing)).await;
    for user in [&practice.doctor, &billing] {
        let (key, _csrf) = praxi_server::web::session::start_session(&app.state, user.id)
            .await
            .expect("session");
        let cookie = format!("praxi_session={key}");
        for path in ["/operations/new/", "/operations/1/"] {
            let res = app
                .http
                .get(app.url(path))
                .header("cookie", &cookie)
                .send()
                .await
                .expect("get");
            assert_eq!(res.status().as_u16(), 403, "{path} as {}", user.username);
        }
        let board = app
            .http
            .get(app.url("/operations/"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("body");
        assert!(!board.contains("id=\"opNew\""), "{}", user.username);
    }
    app.stop().await;
}
