//! Unknown and old addresses in a browser: styled error pages, the original's page URLs
//! redirected to their pages, a favicon on every page.

use praxi_domain::Role;
use serde_json::json;

use crate::harness::browser;
use crate::helpers::TestApp;

#[tokio::test]
async fn unknown_and_old_addresses_lead_somewhere_useful() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.create_user("mfa", Some(Role::Assistant)).await;
    browser.login(&app, "mfa").await;

    // An unknown address: a styled page in German with a way back, not raw JSON.
    browser.goto(&app, "/terminplanung/alt/").await;
    assert_eq!(browser.text(".error-code").await, "404");
    assert_eq!(browser.text("h1").await, "Seite nicht gefunden");
    let body = browser.text("body").await;
    assert!(!body.contains("detail"), "{body}");
    browser.screenshot("error-404").await;
    browser.click("main a.button").await;
    browser.wait_for("header.topbar").await;
    assert_eq!(browser.current_path().await, "/dashboard/");

    // The original's dashboard addresses open the page that replaced them.
    for (old, new) in [
        ("/praxi_backend/", "/dashboard/"),
        ("/praxi_backend/dashboard/appointments/", "/calendar/"),
        ("/praxi_backend/dashboard/resources/", "/resources/"),
        ("/praxi_backend/dashboard/patients/overview/", "/patients/"),
        (
            "/praxi_backend/dashboard/scheduling/",
            "/dashboard/scheduling/",
        ),
    ] {
        browser.goto(&app, old).await;
        browser.wait_for("header.topbar").await;
        assert_eq!(browser.current_path().await, new, "{old}");
    }

    // The favicon: linked from every page and served (no 404 in the log of every page).
    let script = r#"
        const done = arguments[arguments.length - 1];
        const link = document.querySelector('link[rel=icon]');
        Promise.all([fetch(link.href), fetch('/favicon.ico')])
            .then(([svg, ico]) => done([svg.status, ico.status, ico.headers.get('content-type')]),
                  () => done(null));
    "#;
    let answer = browser.client.execute_async(script, vec![]).await.unwrap();
    assert_eq!(answer, json!([200, 200, "image/x-icon"]));
    browser.close().await;
    app.stop().await;
}
