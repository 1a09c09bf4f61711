//! German pages show no English validation message and no raw catalogue key (#15 item 3): an
//! admin's colour error, a refused delete of a referenced appointment type, the patient page
//! with a gender, a refused change of an appointment in the calendar.

use praxi_domain::Role;
use serde_json::json;

use crate::fixtures::Practice;
use crate::harness::{Browser, browser};
use crate::helpers::TestApp;

/// The English wording of the domain's, the store's and the form reader's validation problems
/// (as the JSON API answers them); none of it may reach a German page.
const ENGLISH: &[&str] = &[
    "This field is required",
    "This field may not be",
    "Enter a colour",
    "Enter a valid",
    "Invalid email address",
    "Ensure this field",
    "Ensure this value",
    "is not a valid choice",
    "is still referenced",
    "does not exist",
    "matches the given query",
    "already exists",
    "A valid integer is required",
    "Must be a valid boolean",
    "Not a valid string",
    "Null characters are not allowed",
    "Expected a list of items",
    "Unknown field",
    "Invalid status transition",
    "Doctor unavailable",
    "You do not have permission",
    "You cannot",
    "This password is",
    "The password is too similar",
    "has wrong format",
    "Concurrent changes collided",
    "AppointmentType",
    "OperationType",
];

/// English words of a stored value that a German page must translate.
const ENGLISH_WORDS: &[&str] = &["female", "male", "diverse", "unknown"];

/// The first parts of the catalogue's keys (`admin.flash.saved`, `problem.colour`, …).
const KEY_PREFIXES: &[&str] = &[
    "app",
    "nav",
    "auth",
    "lang",
    "role",
    "error",
    "status",
    "common",
    "dashboard",
    "admin",
    "calendar",
    "patients",
    "people",
    "doctors",
    "problem",
    "gender",
    "boards",
    "flow",
    "operations",
    "resources",
];

/// `true` for a word shaped like a catalogue key: two or more dot-separated parts of `a-z`/`_`
/// whose first part is a key prefix.
fn looks_like_key(word: &str) -> bool {
    let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_');
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() >= 2
        && KEY_PREFIXES.contains(&parts[0])
        && parts.iter().all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        })
}

/// What is wrong with a German page's visible text (empty when nothing is).
fn problems(text: &str) -> Vec<String> {
    let mut found: Vec<String> = ENGLISH
        .iter()
        .filter(|english| text.contains(*english))
        .map(|english| format!("English text {english:?}"))
        .collect();
    for word in text.split_whitespace() {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        if ENGLISH_WORDS.contains(&bare.to_lowercase().as_str()) {
            found.push(format!("English word {bare:?}"));
        }
        if looks_like_key(word) {
            found.push(format!("raw key {word:?}"));
        }
    }
    found
}

/// Fails when the visible page shows English validation text or a raw key.
async fn assert_german(browser: &Browser, situation: &str) {
    let text = browser.text("body").await;
    let found = problems(&text);
    assert!(
        found.is_empty(),
        "{situation}: {found:?} on the German page:\n{text}"
    );
}

#[test]
fn the_checker_finds_english_messages_and_raw_keys() {
    assert!(problems("Farbe: Enter a colour in the form #RRGGBB.").len() == 1);
    assert!(problems("AppointmentType is still referenced.").len() == 2);
    assert!(!problems("Geschlecht female").is_empty());
    assert!(!problems("Fehler: problem.colour").is_empty());
    assert!(!problems("(calendar.conflict.title_edit)").is_empty());
    assert!(problems("Geschlecht weiblich, dr.anna, erika@example.test, z. B. #1E90FF").is_empty());
}

#[tokio::test]
async fn german_pages_show_no_english_validation_text_and_no_raw_keys() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/appointment-types/",
            &json!({"name": "Vorsorge", "duration_minutes": 30, "color": "#1E90FF", "active": true}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let type_id = res.body["id"].as_i64().unwrap();
    let res = admin
        .patch("/api/patients/1/", &json!({"gender": "female"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut first = practice.booking(practice.doctor.id, 1, (0, 10, 0), (0, 10, 30));
    first["type"] = json!(type_id);
    let first = practice.book(&admin, &first).await;
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 2, (0, 11, 0), (0, 11, 30)),
        )
        .await;
    app.create_user("chef", Some(Role::Admin)).await;
    browser.login(&app, "chef").await;

    // A colour that is not #RRGGBB.
    browser
        .goto(&app, &format!("/admin/resources/{}/", practice.room))
        .await;
    browser.fill("#id_color", "red").await;
    browser.click("#save").await;
    let errors = browser.text("#id_color-errors").await;
    assert!(
        errors.contains("Bitte eine Farbe im Format #RRGGBB"),
        "{errors}"
    );
    assert_german(&browser, "admin colour error").await;

    // Deleting an appointment type that an appointment uses is refused.
    browser
        .goto(&app, &format!("/admin/appointment-types/{type_id}/"))
        .await;
    browser
        .client
        .execute("window.confirm = function () { return true; };", vec![])
        .await
        .expect("answer the confirmation");
    browser.click("#delete-form-submit").await;
    browser
        .wait_for_text("#flash", "Die Terminart wird noch von Terminen verwendet.")
        .await;
    assert_german(&browser, "refused delete").await;

    // The patient page names the gender in German.
    browser.goto(&app, "/patients/1/").await;
    let master = browser.text("main").await;
    assert!(master.contains("weiblich"), "{master}");
    assert_german(&browser, "patient page").await;

    // Moving the first appointment onto the second: the change is refused, not "not booked".
    browser
        .goto(&app, &format!("/calendar/appointments/{first}/"))
        .await;
    browser.wait_for("#appointmentForm").await;
    browser
        .client
        .execute(
            "document.querySelector('#modalStartTime').value = '11:00';
             document.querySelector('#modalEndTime').value = '11:30';",
            vec![],
        )
        .await
        .expect("set the times");
    browser.click("#modalSave").await;
    let title = browser.text("#conflictTitle").await;
    assert!(title.contains("nicht gespeichert"), "{title}");
    assert!(!title.contains("gebucht"), "{title}");
    assert_german(&browser, "refused calendar edit").await;
    browser.close().await;
    app.stop().await;
}
