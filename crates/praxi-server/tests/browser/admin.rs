//! The administration in a real browser: an admin edits master data, billing staff only read,
//! and deactivating a user ends their session.

use praxi_domain::Role;
use serde_json::json;

use crate::fixtures::Practice;
use crate::harness::browser;
use crate::helpers::TestApp;

#[tokio::test]
async fn an_admin_edits_master_data_and_sees_validation_errors_inline() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    app.create_user("chef", Some(Role::Admin)).await;
    browser.login(&app, "chef").await;

    // The index: tiles per area, reachable from the navigation.
    browser.click("nav.mainnav a[href='/admin/']").await;
    browser.wait_for("#admin-index #tile-resources").await;
    let index = browser.text("#admin-index").await;
    assert!(
        index.contains("Ressourcen & Räume") && index.contains("Benutzer"),
        "{index}"
    );
    browser.screenshot("admin-index").await;

    // Rename a room and change its colour.
    browser.click("#tile-resources a.tile-link").await;
    browser.click(&format!("#row-{} th a", practice.room)).await;
    browser.fill("#id_name", "Behandlungsraum Nord").await;
    browser.fill("#id_color", "#AA5500").await;
    browser.click("#save").await;
    browser
        .wait_for_text("#flash", "Änderungen gespeichert")
        .await;
    let row = browser.text(&format!("#row-{}", practice.room)).await;
    assert!(
        row.contains("Behandlungsraum Nord") && row.contains("#AA5500"),
        "{row}"
    );
    let stored = app.store().resource(practice.room).await.unwrap().unwrap();
    assert_eq!(stored.fields.name, "Behandlungsraum Nord");
    assert_eq!(stored.fields.color, "#AA5500");
    browser.screenshot("admin-resources").await;

    // A colour that is not #RRGGBB: the message stands next to the field, nothing is saved.
    browser.click(&format!("#row-{} th a", practice.room)).await;
    browser.fill("#id_color", "red").await;
    browser.click("#save").await;
    let errors = browser.text("#id_color-errors").await;
    assert!(errors.contains("#RRGGBB"), "{errors}");
    assert_eq!(
        browser
            .client
            .find(fantoccini::Locator::Css("#id_color"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap(),
        Some("red".to_owned()),
        "the typed value stays for correction"
    );
    assert_eq!(
        app.store()
            .resource(practice.room)
            .await
            .unwrap()
            .unwrap()
            .fields
            .color,
        "#AA5500"
    );

    // Create an appointment type.
    browser.goto(&app, "/admin/appointment-types/").await;
    browser.click("#create-link").await;
    browser.fill("#id_name", "Vorsorge").await;
    browser.fill("#id_duration_minutes", "20").await;
    browser.click("#save").await;
    browser.wait_for_text("#flash", "Eintrag angelegt").await;
    assert!(browser.text("#admin-table").await.contains("Vorsorge"));
    let audit = app
        .store()
        .audit_log(Some("appointment_type_create"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn billing_reads_the_lists_without_controls_and_forged_posts_are_refused() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    app.create_user("abrechnung", Some(Role::Billing)).await;
    browser.login(&app, "abrechnung").await;

    browser.goto(&app, "/admin/").await;
    let index = browser.text("#admin-index").await;
    assert!(index.contains("Ressourcen"), "{index}");
    assert!(
        !index.contains("Audit-Protokoll"),
        "admin-only tiles are hidden: {index}"
    );
    assert!(
        browser
            .client
            .find_all(fantoccini::Locator::Css(".tile-new"))
            .await
            .unwrap()
            .is_empty(),
        "no create links"
    );

    browser.goto(&app, "/admin/resources/").await;
    browser.wait_for(&format!("#row-{}", practice.room)).await;
    assert!(
        browser
            .text("#read-only-note")
            .await
            .contains("Nur Lesezugriff")
    );
    for css in [
        "#create-link",
        ".row-actions",
        "#admin-table tbody a",
        "form[method=post][action^='/admin/']",
    ] {
        let found = browser
            .client
            .find_all(fantoccini::Locator::Css(css))
            .await
            .unwrap();
        assert!(found.is_empty(), "billing sees no {css}");
    }

    // A forged POST with the session's own CSRF token (read from the page) is refused.
    let script = r#"
        const [path, done] = [arguments[0], arguments[arguments.length - 1]];
        const token = document.querySelector('meta[name=csrf-token]').content;
        const body = new URLSearchParams({csrf_token: token, name: 'Gekapert', type: 'room', color: '#000000'});
        fetch(path, {method: 'POST', body, credentials: 'same-origin', redirect: 'manual'})
            .then(response => done(response.status), () => done(-1));
    "#;
    let path = format!("/admin/resources/{}/", practice.room);
    let status = browser
        .client
        .execute_async(script, vec![json!(path)])
        .await
        .unwrap();
    assert_eq!(status, json!(403));
    let status = browser
        .client
        .execute_async(
            script,
            vec![json!(format!("/admin/resources/{}/delete/", practice.room))],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));
    let stored = app.store().resource(practice.room).await.unwrap().unwrap();
    assert_eq!(stored.fields.name, "Behandlungsraum 1");

    // The edit page itself is refused as well.
    browser.goto(&app, &path).await;
    assert!(
        browser
            .text("[role=alert]")
            .await
            .contains("Keine Berechtigung")
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn deactivating_a_user_ends_their_session() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.create_user("chef", Some(Role::Admin)).await;
    let mfa = app.create_user("mfa", Some(Role::Assistant)).await;

    // The assistant signs in; their session cookie is kept aside.
    browser.login(&app, "mfa").await;
    let cookie = browser
        .client
        .get_named_cookie("praxi_session")
        .await
        .unwrap();
    browser.client.delete_all_cookies().await.unwrap();

    // The admin deactivates them from the user list (confirming nothing: deactivation is undoable).
    browser.login(&app, "chef").await;
    browser.goto(&app, "/admin/users/").await;
    browser.click(&format!("#deactivate-{}", mfa.id)).await;
    browser.wait_for_text("#flash", "deaktiviert").await;
    assert!(
        browser
            .text(&format!("#row-{}", mfa.id))
            .await
            .contains("Inaktiv")
    );

    // The assistant's next page load goes to the login page.
    browser.client.delete_all_cookies().await.unwrap();
    browser.client.add_cookie(cookie).await.unwrap();
    browser.goto(&app, "/dashboard/").await;
    assert_eq!(browser.current_path().await, "/login/");
    browser.close().await;
    app.stop().await;
}
