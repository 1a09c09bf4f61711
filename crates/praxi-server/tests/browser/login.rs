use praxi_domain::Role;

use crate::harness::browser;
use crate::helpers::TestApp;

#[tokio::test]
async fn staff_log_in_see_their_name_and_log_out() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.create_user("mfa", Some(Role::Assistant)).await;

    browser.goto(&app, "/dashboard/").await;
    assert_eq!(
        browser.current_path().await,
        "/login/",
        "pages need a session"
    );
    browser.login(&app, "mfa").await;
    assert_eq!(browser.current_path().await, "/dashboard/");
    let header = browser.text("header.topbar").await;
    assert!(header.contains("First mfa Last mfa"), "{header}");
    assert!(header.contains("Abmelden"), "German by default: {header}");

    // The language switch.
    browser.click("a.lang").await;
    browser.wait_for_text("header.topbar", "Log out").await;

    browser.click("header form button[type=submit]").await;
    browser.wait_for("#id_username").await;
    browser.goto(&app, "/dashboard/").await;
    assert_eq!(browser.current_path().await, "/login/", "the session ended");
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn wrong_passwords_are_refused_with_a_message() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.create_user("doc", Some(Role::Doctor)).await;
    browser.goto(&app, "/login/").await;
    browser.fill("#id_username", "doc").await;
    browser.fill("#id_password", "wrong-password").await;
    browser.click("form button[type=submit]").await;
    let alert = browser.text("[role=alert]").await;
    assert!(alert.contains("falsch"), "{alert}");
    browser.screenshot("login").await;
    browser.close().await;
    app.stop().await;
}
