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

/// The focus ring reaches 3:1 against what surrounds it, on the page and on the dark top bar
/// (#15 item 8).
#[tokio::test]
async fn the_focus_ring_has_three_to_one_contrast() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.create_user("mfa", Some(Role::Assistant)).await;
    browser.login(&app, "mfa").await;
    browser.goto(&app, "/calendar/").await;
    let script = r#"
        const lum = (css) => {
            const [r, g, b] = css.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map(v => {
                v /= 255;
                return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
            });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        const ratio = (a, b) => {
            const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
            return (x + 0.05) / (y + 0.05);
        };
        const background = (el) => {
            for (let node = el.parentElement; node; node = node.parentElement) {
                const bg = getComputedStyle(node).backgroundColor;
                if (bg && !bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') return bg;
            }
            return 'rgb(255, 255, 255)';
        };
        return [document.querySelector('main a, main button'),
                document.querySelector('header.topbar a')].map(el => {
            el.focus();
            const style = getComputedStyle(el);
            return [style.outlineStyle, ratio(style.outlineColor, background(el))];
        });
    "#;
    let answer = browser.client.execute(script, vec![]).await.unwrap();
    for ring in answer.as_array().unwrap() {
        assert_eq!(ring[0], json!("solid"), "{answer}");
        let ratio = ring[1].as_f64().unwrap();
        assert!(ratio >= 3.0, "focus ring contrast {ratio:.2}: {answer}");
    }
    browser.close().await;
    app.stop().await;
}
