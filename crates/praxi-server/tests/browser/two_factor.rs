//! Two-factor login in the browser: enrolment with the QR code on the account page, then a
//! login with the password and a code computed here as an authenticator app would.

use chrono::{Duration, Utc};
use praxi_domain::Role;
use praxi_server::two_factor::code_for_base32;

use crate::harness::browser;
use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn totp_enrolment_and_login_with_a_code() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.create_user("dr.tfa", Some(Role::Doctor)).await;
    browser.login(&app, "dr.tfa").await;

    browser.click("#twoFactorLink").await;
    browser.wait_for("#mfaDisabled").await;
    browser.click("#startSubmit").await;
    // The QR code is inline SVG (strict CSP), the key is shown as text too.
    browser.wait_for("#mfaQr svg").await;
    let secret = browser.text("#mfaSecret").await;
    let code = code_for_base32(secret.trim(), Utc::now()).expect("code");
    browser.fill("#id_code", &code).await;
    browser.click("#confirmSubmit").await;
    browser.wait_for("#recoveryCodes").await;
    let codes = browser.text("#recoveryCodes").await;
    assert_eq!(
        codes.lines().filter(|line| !line.trim().is_empty()).count(),
        10,
        "{codes}"
    );
    browser.wait_for_text("#mfaEnabled", "aktiv").await;

    // Log out and in again: the password leads to the code page.
    browser.click("header form button[type=submit]").await;
    browser.wait_for("#id_username").await;
    browser.fill("#id_username", "dr.tfa").await;
    browser.fill("#id_password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("#mfaForm").await;
    assert_eq!(browser.current_path().await, "/login/mfa/");
    // A wrong code is refused with a message.
    browser.fill("#id_code", "000000").await;
    browser.click("#mfaSubmit").await;
    browser.wait_for_text("#mfaError", "Code").await;
    // The next step's code (the enrolment spent the current one).
    let code = code_for_base32(secret.trim(), Utc::now() + Duration::seconds(30)).expect("code");
    browser.fill("#id_code", &code).await;
    browser.click("#mfaSubmit").await;
    browser.wait_for("header.topbar").await;
    assert_eq!(browser.current_path().await, "/dashboard/");
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_required_role_enrols_right_after_the_password() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.create_user("boss", Some(Role::Admin)).await;
    app.create_user("desk", Some(Role::Assistant)).await;
    browser.login(&app, "boss").await;
    browser.goto(&app, "/admin/two-factor/").await;
    browser.click("#role_assistant").await;
    browser.click("#policySave").await;
    browser.wait_for("#flash").await;
    browser.click("header form button[type=submit]").await;
    browser.wait_for("#id_username").await;

    browser.fill("#id_username", "desk").await;
    browser.fill("#id_password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("#mfaEnrolIntro").await;
    browser.wait_for("#mfaQr svg").await;
    let secret = browser.text("#mfaSecret").await;
    let code = code_for_base32(secret.trim(), Utc::now()).expect("code");
    browser.fill("#id_code", &code).await;
    browser.click("#mfaSubmit").await;
    browser.wait_for("#recoveryCodes").await;
    browser.click("#mfaContinue").await;
    browser.wait_for("header.topbar").await;
    assert_eq!(browser.current_path().await, "/dashboard/");
    browser.close().await;
    app.stop().await;
}
