//! The calendar-feed administration and the API viewer in a real browser: an admin creates a
//! doctor's feed with the appointment type shown, copies its secret URL (which serves the
//! feed), and revokes it (the URL then answers 404); `/api/docs/` renders Swagger UI under the
//! strict CSP.

use fantoccini::Locator;
use praxi_domain::Role;

use crate::fixtures::Practice;
use crate::harness::browser;
use crate::helpers::TestApp;

#[tokio::test]
async fn an_admin_creates_copies_and_revokes_a_calendar_feed() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    app.create_user("chef", Some(Role::Admin)).await;
    browser.login(&app, "chef").await;

    browser.click("nav.mainnav a[href='/admin/']").await;
    browser.click("#tile-calendar-feeds a.tile-link").await;
    browser.wait_for("#admin-calendar-feeds #feeds-empty").await;

    // A feed for the doctor, showing the appointment type.
    browser
        .wait_for("#feed-target")
        .await
        .select_by_value(&format!("doctor:{}", practice.doctor.id))
        .await
        .expect("choose the doctor");
    browser.click("#feed-include-type").await;
    browser.click("#feed-submit").await;
    browser.wait_for_text("#flash", "Abo angelegt").await;
    let url = browser
        .wait_for("#feed-url")
        .await
        .prop("value")
        .await
        .expect("value")
        .expect("a feed URL");
    assert!(
        url.starts_with(&format!("http://{}/ical/", app.addr)) && url.ends_with(".ics"),
        "{url}"
    );
    browser.screenshot("admin-calendar-feeds").await;

    let feeds = app.store().calendar_feeds().await.unwrap();
    assert_eq!(feeds.len(), 1);
    let feed = &feeds[0];
    assert_eq!(feed.target_id, practice.doctor.id);
    assert!(feed.include_type && feed.revoked_at.is_none());
    let row = browser.text(&format!("#feed-{}", feed.id)).await;
    assert!(
        row.contains(&practice.doctor.display_name())
            && row.contains("ja")
            && row.contains("Aktiv"),
        "{row}"
    );
    // The URL is a working feed; the page never shows the secret again.
    let served = app.http.get(&url).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert!(served.text().await.unwrap().contains("BEGIN:VCALENDAR"));
    browser.goto(&app, "/admin/calendar-feeds/").await;
    let page = browser.text("#admin-calendar-feeds").await;
    assert!(!page.contains("/ical/"), "{page}");

    // Revoke (after the confirmation prompt).
    browser.click(&format!("#feed-{}-revoke", feed.id)).await;
    browser.client.accept_alert().await.expect("confirm");
    browser.wait_for_text("#flash", "Abo widerrufen").await;
    let row = browser.text(&format!("#feed-{}", feed.id)).await;
    assert!(row.contains("Widerrufen am"), "{row}");
    assert!(
        browser
            .client
            .find_all(Locator::Css(&format!("#feed-{}-revoke", feed.id)))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        app.store().calendar_feeds().await.unwrap()[0]
            .revoked_at
            .is_some()
    );
    assert_eq!(app.http.get(&url).send().await.unwrap().status(), 404);
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_api_viewer_renders_the_schema_under_the_strict_csp() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    browser.goto(&app, "/api/docs/").await;
    browser
        .wait_for_text(".swagger-ui .information-container", "Praxi API")
        .await;
    // Tags start collapsed; every tag is listed and opens to its operations.
    for tag in ["patients", "holidays", "reminders", "audit"] {
        browser.wait_for(&format!("#operations-tag-{tag}")).await;
    }
    browser.click("#operations-tag-patients").await;
    browser.wait_for_text(".swagger-ui", "/api/patients/").await;
    browser.click("#operations-tag-reminders").await;
    browser
        .wait_for_text(".swagger-ui", "/api/reminders/")
        .await;
    browser.close().await;
    app.stop().await;
}

/// Over plain HTTP: only admins see and use the page (like `/api/calendar-feeds/`), a POST
/// without the session's CSRF token changes nothing, a bad target is a message (400), and
/// create and revoke write the API's audit rows.
#[tokio::test]
async fn the_feed_page_follows_the_policy_and_csrf_and_audits_like_the_api() {
    use crate::admin_pages::Web;

    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.create_user("feed_admin", Some(Role::Admin)).await;
    let admin_web = Web::login(&app, &admin).await;
    for role in [Role::Assistant, Role::Doctor, Role::Billing] {
        let user = app
            .create_user(&format!("feed_{}", role.name()), Some(role))
            .await;
        let web = Web::login(&app, &user).await;
        assert_eq!(
            web.get("/admin/calendar-feeds/").await.status,
            403,
            "{role:?}"
        );
        let target = format!("room:{}", practice.room);
        let post = web
            .post("/admin/calendar-feeds/", &[("target", target.as_str())])
            .await;
        assert_eq!(post.status, 403, "{role:?}");
    }
    assert_eq!(admin_web.get("/admin/calendar-feeds/").await.status, 200);
    let target = format!("room:{}", practice.room);
    let forged = admin_web
        .post_raw(
            "/admin/calendar-feeds/",
            &[("csrf_token", "wrong"), ("target", target.as_str())],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(app.store().calendar_feeds().await.unwrap().is_empty());

    let bad = admin_web
        .post("/admin/calendar-feeds/", &[("target", "room:999999")])
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body
            .contains("Bitte wählen Sie einen aktiven Arzt oder einen Raum")
    );
    let not_a_doctor = format!("doctor:{}", admin.id);
    let bad = admin_web
        .post(
            "/admin/calendar-feeds/",
            &[("target", not_a_doctor.as_str())],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(app.store().calendar_feeds().await.unwrap().is_empty());

    let created = admin_web
        .post("/admin/calendar-feeds/", &[("target", target.as_str())])
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.contains("/ical/"), "{}", created.body);
    let feeds = app.store().calendar_feeds().await.unwrap();
    assert_eq!(feeds.len(), 1);
    assert!(!feeds[0].include_type);
    let id = feeds[0].id.to_string();
    let revoke_path = format!("/admin/calendar-feeds/{id}/revoke/");
    let forged = admin_web
        .post_raw(&revoke_path, &[("csrf_token", "wrong")])
        .await;
    assert_eq!(forged.status, 403);
    assert!(
        app.store().calendar_feeds().await.unwrap()[0]
            .revoked_at
            .is_none()
    );
    let revoked = admin_web.post(&revoke_path, &[]).await;
    assert_eq!(revoked.status, 303);
    assert_eq!(
        revoked.location,
        format!("/admin/calendar-feeds/?revoked={id}")
    );
    assert!(
        app.store().calendar_feeds().await.unwrap()[0]
            .revoked_at
            .is_some()
    );

    for action in ["calendar_feed_create", "calendar_feed_revoke"] {
        let rows = app.store().audit_log(Some(action), 5).await.unwrap();
        assert_eq!(rows.len(), 1, "{action}");
        assert_eq!(rows[0].username, "feed_admin");
        assert_eq!(
            rows[0].meta,
            Some(serde_json::json!({"feed_id": feeds[0].id}))
        );
    }
    app.stop().await;
}
