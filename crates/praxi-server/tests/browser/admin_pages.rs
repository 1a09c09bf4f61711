//! The administration (`/admin/`) over plain HTTP with a session cookie: the role matrix of
//! every page and POST, CSRF, validation messages next to the fields, audit rows, the
//! "still referenced" delete, user deactivation ending sessions. (Rendering and JavaScript are
//! covered by the browser tests in `admin.rs`.)

use chrono::{NaiveDate, Utc};
use praxi_domain::Role;
use praxi_store::users::UserRecord;
use reqwest::header::{COOKIE, LOCATION};

use crate::fixtures::{self, Practice, time};
use crate::helpers::TestApp;

/// A signed-in browser session without a browser.
pub(crate) struct Web<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
    pub(crate) csrf: String,
}

/// One response.
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: String,
    pub(crate) body: String,
}

impl<'a> Web<'a> {
    /// A session for `user`, as the login form would create it.
    pub(crate) async fn login(app: &'a TestApp, user: &UserRecord) -> Web<'a> {
        let (key, csrf) = praxi_server::web::session::start_session(&app.state, user.id)
            .await
            .expect("session");
        Web {
            app,
            cookie: Some(format!("praxi_session={key}")),
            csrf,
        }
    }

    /// The same session with the English UI.
    fn english(mut self) -> Web<'a> {
        self.cookie = self.cookie.map(|cookie| format!("{cookie}; lang=en"));
        self
    }

    fn anonymous(app: &'a TestApp) -> Web<'a> {
        Web {
            app,
            cookie: None,
            csrf: String::new(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        };
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response.text().await.expect("body");
        Page {
            status,
            location,
            body,
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Page {
        self.send(self.app.http.get(self.app.url(path))).await
    }

    /// Posts a form with the session's CSRF token.
    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut fields: Vec<(&str, &str)> = vec![("csrf_token", &self.csrf)];
        fields.extend_from_slice(form);
        self.post_raw(path, &fields).await
    }

    /// Posts exactly these fields (no CSRF token added).
    pub(crate) async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(self.app.http.post(self.app.url(path)).form(form))
            .await
    }
}

const ROLES: [Option<Role>; 5] = [
    Some(Role::Admin),
    Some(Role::Assistant),
    Some(Role::Doctor),
    Some(Role::Billing),
    None,
];

fn role_name(role: Option<Role>) -> &'static str {
    role.map_or("none", Role::name)
}

/// Sessions for admin, assistant, doctor, billing, a user without role, and anonymous.
async fn sessions(app: &TestApp) -> Vec<(String, Web<'_>)> {
    let mut sessions = Vec::new();
    for role in ROLES {
        let name = format!("web_{}", role_name(role));
        let user = app.create_user(&name, role).await;
        sessions.push((role_name(role).to_owned(), Web::login(app, &user).await));
    }
    sessions.push(("anonymous".to_owned(), Web::anonymous(app)));
    sessions
}

/// Expected statuses in the order admin, assistant, doctor, billing, no role, anonymous.
type Expect = [u16; 6];

async fn check_get(sessions: &[(String, Web<'_>)], path: &str, expected: Expect) {
    for ((who, web), status) in sessions.iter().zip(expected) {
        let page = web.get(path).await;
        assert_eq!(page.status, status, "GET {path} as {who}");
        if who == "anonymous" {
            assert!(
                page.location.starts_with("/login/?next="),
                "{path}: {}",
                page.location
            );
        }
    }
}

async fn check_post(
    sessions: &[(String, Web<'_>)],
    path: &str,
    form: &[(&str, &str)],
    expected: Expect,
) {
    for ((who, web), status) in sessions.iter().zip(expected) {
        let page = web.post(path, form).await;
        assert_eq!(page.status, status, "POST {path} as {who}: {}", page.body);
    }
}

const ALL: Expect = [200, 200, 403, 200, 403, 303];
const ADMIN: Expect = [200, 403, 403, 403, 403, 303];
const STAFF: Expect = [200, 200, 403, 403, 403, 303];

#[tokio::test]
async fn every_admin_page_answers_each_role_like_the_api_policy() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let break_id =
        fixtures::practice_break(&app, None, fixtures::day(1), time(12, 0), time(13, 0)).await;
    let absence =
        fixtures::absence(&app, practice.doctor.id, fixtures::day(2), fixtures::day(3)).await;
    let admin = app.as_role(Role::Admin).await;
    let types = admin
        .post(
            "/api/appointment-types/",
            &serde_json::json!({"name": "Kontrolle"}),
        )
        .await;
    let op_types = admin
        .post(
            "/api/operation-types/",
            &serde_json::json!({"name": "Arthroskopie"}),
        )
        .await;
    let practice_hours = admin.get("/api/practice-hours/").await;
    let doctor_hours = admin.get("/api/doctor-hours/").await;
    let sessions = sessions(&app).await;

    check_get(&sessions, "/admin/", ALL).await;
    let rows: [(&str, i64, Expect, Expect); 10] = [
        ("users", practice.doctor.id, ADMIN, ADMIN),
        (
            "appointment-types",
            types.body["id"].as_i64().unwrap(),
            ALL,
            ADMIN,
        ),
        (
            "operation-types",
            op_types.body["id"].as_i64().unwrap(),
            ALL,
            ADMIN,
        ),
        ("resources", practice.room, ALL, STAFF),
        (
            "practice-hours",
            practice_hours.body["results"][0]["id"].as_i64().unwrap(),
            ALL,
            STAFF,
        ),
        (
            "doctor-hours",
            doctor_hours.body["results"][0]["id"].as_i64().unwrap(),
            ALL,
            STAFF,
        ),
        ("breaks", break_id, ALL, STAFF),
        ("absences", absence, ALL, STAFF),
        ("patients", i64::from(practice.patients[0]), ALL, STAFF),
        ("audit-log", 0, ADMIN, ADMIN),
    ];
    for (slug, id, list, write) in rows {
        check_get(&sessions, &format!("/admin/{slug}/"), list).await;
        if slug == "audit-log" {
            continue;
        }
        check_get(&sessions, &format!("/admin/{slug}/{id}/"), write).await;
        if slug != "patients" {
            check_get(&sessions, &format!("/admin/{slug}/new/"), write).await;
        }
    }
    // Unknown ids and non-numeric ids are a 404 page, never a 500.
    let (_, admin_web) = &sessions[0];
    assert_eq!(admin_web.get("/admin/resources/999999/").await.status, 404);
    assert_eq!(admin_web.get("/admin/resources/abc/").await.status, 404);
    assert_eq!(
        admin_web.get("/admin/patients/99999999999/").await.status,
        404
    );
    // Patients cannot be created or deleted here.
    assert_eq!(admin_web.get("/admin/patients/new/").await.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn writes_follow_the_policy_and_billing_posts_are_refused() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let sessions = sessions(&app).await;
    let room = practice.other_room.to_string();
    // Resources: admins and assistants write; billing, doctors and users without role get 403.
    let resource_form = [
        ("name", "Raum X"),
        ("type", "room"),
        ("color", "#112233"),
        ("active", "true"),
    ];
    check_post(
        &sessions,
        "/admin/resources/new/",
        &resource_form,
        [303, 303, 403, 403, 403, 303],
    )
    .await;
    check_post(
        &sessions,
        &format!("/admin/resources/{room}/"),
        &resource_form,
        [303, 303, 403, 403, 403, 303],
    )
    .await;
    check_post(
        &sessions,
        &format!("/admin/resources/{room}/deactivate/"),
        &[],
        [303, 303, 403, 403, 403, 303],
    )
    .await;
    // Appointment types: admin only.
    check_post(
        &sessions,
        "/admin/appointment-types/new/",
        &[("name", "Impfung")],
        [303, 403, 403, 403, 403, 303],
    )
    .await;
    // Users: admin only.
    check_post(
        &sessions,
        &format!("/admin/users/{}/password/", practice.other_doctor.id),
        &[("password", "a-much-better-password")],
        [303, 403, 403, 403, 403, 303],
    )
    .await;
    // Billing's forged delete with a valid CSRF token changes nothing.
    let (_, billing) = &sessions[3];
    let page = billing
        .post(
            &format!("/admin/resources/{}/delete/", practice.device),
            &[],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(
        app.store()
            .resource(practice.device)
            .await
            .unwrap()
            .is_some()
    );
    // Without the CSRF token even an admin is refused.
    let (_, admin) = &sessions[0];
    let page = admin
        .post_raw(
            &format!("/admin/resources/{}/delete/", practice.device),
            &[],
        )
        .await;
    assert_eq!(page.status, 403);
    let page = admin
        .post_raw(
            &format!("/admin/resources/{}/delete/", practice.device),
            &[("csrf_token", "forged")],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(
        app.store()
            .resource(practice.device)
            .await
            .unwrap()
            .is_some()
    );
    app.stop().await;
}

#[tokio::test]
async fn an_admin_creates_and_edits_master_data_through_the_store_with_audit_rows() {
    let app = TestApp::spawn().await;
    let admin_user = app.create_user("chef", Some(Role::Admin)).await;
    let web = Web::login(&app, &admin_user).await;

    let page = web
        .post(
            "/admin/appointment-types/new/",
            &[
                ("name", " Erstgespräch "),
                ("color", "#00AA00"),
                ("duration_minutes", "30"),
                ("active", "true"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location, "/admin/appointment-types/?ok=created");
    let created = app
        .store()
        .audit_log(Some("appointment_type_create"), 5)
        .await
        .unwrap();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].user_id, Some(admin_user.id));
    let id = created[0].meta.as_ref().unwrap()["appointment_type_id"]
        .as_i64()
        .unwrap();
    let stored = app.store().appointment_type(id).await.unwrap().unwrap();
    assert_eq!(stored.fields.name, "Erstgespräch", "trimmed by the domain");
    assert_eq!(stored.fields.duration_minutes, Some(30));

    // The list shows the flash, the row and its swatch class (CSS from the validated colour).
    let list = web.get("/admin/appointment-types/?ok=created").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Eintrag angelegt."), "{}", list.body);
    assert!(list.body.contains("Erstgespräch"));
    assert!(list.body.contains(".sw-00aa00{background:#00aa00}"));
    assert_eq!(
        app.store()
            .audit_log(Some("appointment_type_list"), 5)
            .await
            .unwrap()
            .len(),
        0
    );

    // Master data holds no patient data: neither the list nor the edit form is audited.
    let edit = web.get(&format!("/admin/appointment-types/{id}/")).await;
    assert_eq!(edit.status, 200);
    assert!(edit.body.contains("value=\"Erstgespräch\""));
    assert_eq!(
        app.store()
            .audit_log(Some("appointment_type_view"), 5)
            .await
            .unwrap()
            .len(),
        0
    );

    // Clearing the colour and the duration is allowed (both are optional).
    let page = web
        .post(
            &format!("/admin/appointment-types/{id}/"),
            &[
                ("name", "Erstgespräch lang"),
                ("color", ""),
                ("duration_minutes", ""),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let stored = app.store().appointment_type(id).await.unwrap().unwrap();
    assert_eq!(stored.fields.color, None);
    assert_eq!(stored.fields.duration_minutes, None);
    assert!(!stored.fields.active, "the unticked checkbox deactivates");
    assert_eq!(
        app.store()
            .audit_log(Some("appointment_type_update"), 5)
            .await
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn validation_errors_are_shown_next_to_their_fields_and_nothing_is_saved() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin_user = app.create_user("chef", Some(Role::Admin)).await;
    let web = Web::login(&app, &admin_user).await;
    let room = practice.room;
    let before = app.store().resource(room).await.unwrap().unwrap();

    let page = web
        .post(
            &format!("/admin/resources/{room}/"),
            &[
                ("name", "  "),
                ("type", "room"),
                ("color", "red"),
                ("active", "true"),
            ],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.body.contains("id=\"id_color-errors\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Bitte eine Farbe im Format #RRGGBB angeben")
    );
    assert!(page.body.contains("Darf nicht leer sein."));
    assert!(page.body.contains("value=\"red\""), "the typed value stays");
    assert!(page.body.contains("aria-invalid=\"true\""));
    assert_eq!(app.store().resource(room).await.unwrap().unwrap(), before);
    assert!(
        app.store()
            .audit_log(Some("resource_update"), 5)
            .await
            .unwrap()
            .is_empty()
    );

    // Type errors are shown in the page's language too.
    let page = web
        .post(
            "/admin/operation-types/new/",
            &[("name", "OP"), ("op_duration", "-5"), ("color", "#123456")],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("Mindestens 0."), "{}", page.body);
    let page = web
        .post(
            "/admin/practice-hours/new/",
            &[
                ("weekday", "0"),
                ("start_time", "12:00"),
                ("end_time", "08:00"),
            ],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.body
            .contains("Endzeit muss nach der Startzeit liegen."),
        "{}",
        page.body
    );
    let page = web
        .post("/admin/practice-hours/new/", &[("weekday", "0")])
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("id=\"id_start_time-errors\""));
    assert!(page.body.contains("Bitte ausfüllen."));
    // A second active window of the same doctor and weekday overlapping the first.
    let doctor = practice.doctor.id.to_string();
    let page = web
        .post(
            "/admin/doctor-hours/new/",
            &[
                ("doctor", &doctor),
                ("weekday", "0"),
                ("start_time", "16:00"),
                ("end_time", "18:00"),
                ("active", "true"),
            ],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("überschneidet sich"), "{}", page.body);
    // An absence ending before it starts.
    let page = web
        .post(
            "/admin/absences/new/",
            &[
                ("doctor", &doctor),
                ("start_date", "2030-01-10"),
                ("end_date", "2030-01-09"),
            ],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.body
            .contains("Enddatum muss am oder nach dem Startdatum liegen.")
    );
    // Only active doctors may be referenced.
    let assistant = app.create_user("mfa", Some(Role::Assistant)).await;
    let page = web
        .post(
            "/admin/breaks/new/",
            &[
                ("doctor", &assistant.id.to_string()),
                ("date", "2030-01-10"),
                ("start_time", "12:00"),
                ("end_time", "13:00"),
            ],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.body.contains("hat nicht die Rolle Arzt"),
        "{}",
        page.body
    );
    app.stop().await;
}

#[tokio::test]
async fn a_referenced_row_cannot_be_deleted_and_the_admin_is_told_to_deactivate_it() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let assistant = app.as_role(Role::Assistant).await;
    let mut booking = practice.booking(
        practice.doctor.id,
        practice.patients[0],
        (0, 9, 0),
        (0, 9, 30),
    );
    booking["resource_ids"] = serde_json::json!([practice.room]);
    practice.book(&assistant, &booking).await;
    let admin_user = app.create_user("chef", Some(Role::Admin)).await;
    let web = Web::login(&app, &admin_user).await;

    let page = web
        .post(&format!("/admin/resources/{}/delete/", practice.room), &[])
        .await;
    assert_eq!(page.status, 409);
    assert!(
        page.body
            .contains("Die Ressource wird noch von Terminen oder Operationen verwendet."),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Bitte deaktivieren Sie ihn stattdessen.")
    );
    assert!(
        page.body.contains("id=\"deactivate-form\""),
        "the way out is offered"
    );
    assert!(app.store().resource(practice.room).await.unwrap().is_some());

    let page = web
        .post(
            &format!("/admin/resources/{}/deactivate/", practice.room),
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location, "/admin/resources/?ok=deactivated");
    assert!(
        !app.store()
            .resource(practice.room)
            .await
            .unwrap()
            .unwrap()
            .fields
            .active
    );
    assert_eq!(
        app.store()
            .audit_log(Some("resource_update"), 5)
            .await
            .unwrap()
            .len(),
        1
    );

    // An unused row is deleted, with its audit row.
    let page = web
        .post(
            &format!("/admin/resources/{}/delete/", practice.device),
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    assert!(
        app.store()
            .resource(practice.device)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        app.store()
            .audit_log(Some("resource_delete"), 5)
            .await
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn users_are_created_changed_deactivated_and_get_new_passwords() {
    let app = TestApp::spawn().await;
    let admin_user = app.create_user("chef", Some(Role::Admin)).await;
    let web = Web::login(&app, &admin_user).await;

    // The domain's rules: username characters, password strength, a role.
    let page = web
        .post(
            "/admin/users/new/",
            &[("username", "bad name"), ("password", "123"), ("role", "")],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.body
            .contains("Bitte einen gültigen Benutzernamen angeben"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Das Passwort ist zu kurz"));
    assert!(page.body.contains("id=\"id_role-errors\""));
    assert!(
        !page.body.contains("value=\"123\""),
        "passwords are never echoed"
    );

    let page = web
        .post(
            "/admin/users/new/",
            &[
                ("username", "dr.neu"),
                ("password", "ein-langes-passwort"),
                ("role", "doctor"),
                ("first_name", "Nora"),
                ("last_name", "Neu"),
                ("email", "neu@example.test"),
                ("calendar_color", "#AA3300"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let created = app
        .store()
        .user_by_username("dr.neu")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.api_role(), Some(Role::Doctor));
    assert_eq!(
        app.store()
            .audit_log(Some("user_create"), 5)
            .await
            .unwrap()
            .len(),
        1
    );

    // Role change: the user's sessions end.
    let their_session = Web::login(&app, &created).await;
    assert_eq!(their_session.get("/dashboard/").await.status, 200);
    let page = web
        .post(
            &format!("/admin/users/{}/", created.id),
            &[
                ("role", "assistant"),
                ("first_name", "Nora"),
                ("last_name", "Neu"),
                ("email", ""),
                ("calendar_color", "#AA3300"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let changed = app.store().user_by_id(created.id).await.unwrap().unwrap();
    assert_eq!(changed.api_role(), Some(Role::Assistant));
    assert_eq!(changed.email, None);
    assert_eq!(their_session.get("/dashboard/").await.status, 303);

    // Lock-out protection: no own deactivation (not even offered), no own demotion.
    let own = web.get(&format!("/admin/users/{}/", admin_user.id)).await;
    assert!(!own.body.contains("id=\"deactivate-form\""), "{}", own.body);
    assert!(
        !web.get("/admin/users/")
            .await
            .body
            .contains(&format!("id=\"deactivate-{}\"", admin_user.id))
    );
    let page = web
        .post(&format!("/admin/users/{}/deactivate/", admin_user.id), &[])
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.body
            .contains("Das eigene Konto kann nicht deaktiviert werden.")
    );
    let page = web
        .post(
            &format!("/admin/users/{}/", admin_user.id),
            &[
                ("role", "billing"),
                ("first_name", ""),
                ("last_name", ""),
                ("email", ""),
                ("calendar_color", "#1E90FF"),
            ],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.body
            .contains("Die eigene Administrationsrolle kann nicht entzogen werden.")
    );
    assert_eq!(
        app.store()
            .user_by_id(admin_user.id)
            .await
            .unwrap()
            .unwrap()
            .api_role(),
        Some(Role::Admin)
    );

    // Deactivation ends the user's session at once; activation restores the account.
    let changed = app.store().user_by_id(created.id).await.unwrap().unwrap();
    let their_session = Web::login(&app, &changed).await;
    assert_eq!(their_session.get("/dashboard/").await.status, 200);
    let page = web
        .post(&format!("/admin/users/{}/deactivate/", created.id), &[])
        .await;
    assert_eq!(page.status, 303);
    let next = their_session.get("/dashboard/").await;
    assert_eq!(next.status, 303);
    assert!(next.location.starts_with("/login/"));
    assert_eq!(
        app.store()
            .audit_log(Some("user_deactivate"), 5)
            .await
            .unwrap()
            .len(),
        1
    );
    let page = web
        .post(&format!("/admin/users/{}/activate/", created.id), &[])
        .await;
    assert_eq!(page.status, 303);
    assert!(
        app.store()
            .user_by_id(created.id)
            .await
            .unwrap()
            .unwrap()
            .is_active
    );

    // Password reset: the domain's rules, then an audited change.
    let page = web
        .post(
            &format!("/admin/users/{}/password/", created.id),
            &[("password", "dr.neu")],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.body.contains("Das Passwort ähnelt zu sehr dem Namen"),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"id_password-errors\""));
    let page = web
        .post(
            &format!("/admin/users/{}/password/", created.id),
            &[("password", "noch-ein-besseres-passwort")],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location,
        format!("/admin/users/{}/?ok=password", created.id)
    );
    assert_eq!(
        app.store()
            .audit_log(Some("user_set_password"), 5)
            .await
            .unwrap()
            .len(),
        1
    );
    // Accounts are never deleted.
    assert_eq!(
        web.post(&format!("/admin/users/{}/delete/", created.id), &[])
            .await
            .status,
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn patient_pages_are_audited_like_the_api() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let assistant = app.create_user("mfa", Some(Role::Assistant)).await;
    let web = Web::login(&app, &assistant).await;
    let id = practice.patients[1];

    let page = web.get("/admin/patients/").await;
    assert_eq!(page.status, 200);
    let list = app
        .store()
        .audit_log(Some("patient_list"), 5)
        .await
        .unwrap();
    assert_eq!(
        list[0].meta.as_ref().unwrap()["patient_ids"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let page = web.get("/admin/patients/?q=patient2").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Patient2, P"), "{}", page.body);
    assert!(!page.body.contains("Patient3, P"));
    let search = app
        .store()
        .audit_log(Some("patient_search"), 5)
        .await
        .unwrap();
    assert_eq!(search[0].meta.as_ref().unwrap()["query_length"], 8);
    assert_eq!(
        search[0].meta.as_ref().unwrap()["patient_ids"],
        serde_json::json!([2])
    );
    assert!(
        !search[0]
            .meta
            .as_ref()
            .unwrap()
            .to_string()
            .contains("patient2"),
        "never the query"
    );

    let page = web.get(&format!("/admin/patients/{id}/")).await;
    assert_eq!(page.status, 200);
    let viewed = app
        .store()
        .audit_log(Some("patient_view"), 5)
        .await
        .unwrap();
    assert_eq!(viewed[0].patient_id, Some(id));

    let tomorrow = (Utc::now().date_naive() + chrono::Duration::days(400)).to_string();
    let page = web
        .post(
            &format!("/admin/patients/{id}/"),
            &[
                ("first_name", "Paula"),
                ("last_name", "Patient2"),
                ("birth_date", &tomorrow),
            ],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.body
            .contains("Das Geburtsdatum darf nicht in der Zukunft liegen.")
    );
    let page = web
        .post(
            &format!("/admin/patients/{id}/"),
            &[
                ("first_name", "Paula"),
                ("last_name", "Patient2"),
                ("birth_date", "1980-03-01"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let stored = app.store().patient(id).await.unwrap().unwrap();
    assert_eq!(stored.fields.first_name, "Paula");
    assert_eq!(
        stored.fields.birth_date,
        NaiveDate::from_ymd_opt(1980, 3, 1)
    );
    let updated = app
        .store()
        .audit_log(Some("patient_updated"), 5)
        .await
        .unwrap();
    assert_eq!(updated[0].patient_id, Some(id));
    // Search by birth date and number.
    assert!(
        web.get("/admin/patients/?q=01.03.1980")
            .await
            .body
            .contains("Patient2, Paula")
    );
    assert!(
        web.get(&format!("/admin/patients/?q={id}"))
            .await
            .body
            .contains("Patient2, Paula")
    );
    app.stop().await;
}

#[tokio::test]
async fn lists_filter_search_sort_and_paginate() {
    let app = TestApp::spawn().await;
    for n in 0..30 {
        fixtures::resource(
            &app,
            &format!("Raum {n:02}"),
            if n % 3 == 0 { "device" } else { "room" },
        )
        .await;
    }
    let admin_user = app.create_user("chef", Some(Role::Admin)).await;
    let web = Web::login(&app, &admin_user).await;

    let first = web.get("/admin/resources/").await;
    assert!(first.body.contains("Einträge: 30"), "{}", first.body);
    assert!(first.body.contains("Raum 00") && !first.body.contains("Raum 29"));
    assert!(
        first.body.contains("href=\"/admin/resources/?page=2\""),
        "page links"
    );
    let second = web.get("/admin/resources/?page=2").await;
    assert!(second.body.contains("Raum 29") && !second.body.contains("Raum 00"));
    let sorted = web.get("/admin/resources/?sort=-name").await;
    assert!(sorted.body.contains("Raum 29") && sorted.body.contains("aria-sort=\"descending\""));
    let devices = web.get("/admin/resources/?type=device&q=raum%202").await;
    assert!(
        devices.body.contains("Einträge: 3"),
        "Raum 21, 24, 27: {}",
        devices.body
    );
    // Bad parameters never fail the page.
    assert_eq!(
        web.get("/admin/resources/?page=abc&sort=nonsense&active=maybe")
            .await
            .status,
        200
    );
    assert_eq!(web.get("/admin/resources/?page=99").await.status, 200);
    // English texts for the same page.
    let english = web.english().get("/admin/resources/?page=2").await;
    assert!(
        english.body.contains("Resources &amp; rooms")
            || english.body.contains("Resources &#38; rooms"),
        "{}",
        english.body
    );
    assert!(english.body.contains("Entries: 30") && english.body.contains("Previous"));
    app.stop().await;
}

#[tokio::test]
async fn output_is_escaped_and_flashes_are_never_free_text() {
    let app = TestApp::spawn().await;
    let admin_user = app.create_user("chef", Some(Role::Admin)).await;
    let web = Web::login(&app, &admin_user).await;
    let page = web
        .post(
            "/admin/resources/new/",
            &[
                ("name", "<script>alert(1)</script>"),
                ("type", "room"),
                ("color", "#112233"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let list = web.get("/admin/resources/?ok=%3Cb%3Ehi%3C%2Fb%3E").await;
    assert!(!list.body.contains("<script>alert(1)"), "{}", list.body);
    assert!(
        list.body.contains("&#60;script&#62;alert(1)")
            || list.body.contains("&lt;script&gt;alert(1)")
    );
    assert!(
        !list.body.contains("<b>hi"),
        "unknown flash keys are ignored"
    );
    let csp = app
        .http
        .get(app.url("/admin/resources/"))
        .header(COOKIE, web.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    let policy = csp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    app.stop().await;
}

#[tokio::test]
async fn the_audit_log_shows_ids_and_actions_to_admins_only() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin_user = app.create_user("chef", Some(Role::Admin)).await;
    let web = Web::login(&app, &admin_user).await;
    web.get(&format!("/admin/patients/{}/", practice.patients[0]))
        .await;

    let page = web.get("/admin/audit-log/?action=patient_view").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Patient: angezeigt (patient_view)"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("href=\"/admin/users/{}/\"", admin_user.id)),
        "links that exist"
    );
    assert!(page.body.contains(&format!(
        "href=\"/admin/patients/{}/\"",
        practice.patients[0]
    )));
    assert!(!page.body.contains("Patient1"), "no patient data, only ids");
    assert!(page.body.contains("Einträge: 1"));
    let by_user = web.get("/admin/audit-log/?user=nobody").await;
    assert!(by_user.body.contains("Einträge: 0"));
    assert_eq!(
        app.store()
            .audit_log(Some("audit_log_view"), 5)
            .await
            .unwrap()
            .len(),
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn old_admin_urls_redirect() {
    let app = TestApp::spawn().await;
    let web = Web::anonymous(&app);
    let page = web.get("/praxi_backend/Dashboardadministration/").await;
    assert_eq!((page.status, page.location.as_str()), (308, "/admin/"));
    let page = web.get("/praxi_backend/core/user/").await;
    assert_eq!(
        (page.status, page.location.as_str()),
        (308, "/admin/users/")
    );
    app.stop().await;
}

/// The admin patient list shows each patient's age in full years (it showed "(0)" for
/// everyone), and a staff-UI login is the user's last login (it said "nie" for everyone).
#[tokio::test]
async fn patient_ages_and_web_last_logins_are_right() {
    let app = TestApp::spawn().await;
    let admin_api = app.as_role(Role::Admin).await;
    let birth = NaiveDate::from_ymd_opt(1980, 2, 3).expect("date");
    let res = admin_api
        .post(
            "/api/patients/",
            &serde_json::json!({
                "id": 4711,
                "first_name": "Alma",
                "last_name": "Altersprobe",
                "birth_date": "1980-02-03",
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);

    let user = app.create_user("web_last_login", Some(Role::Admin)).await;
    assert!(user.last_login.is_none());
    let before = app.state.now();
    let web = Web::login(&app, &user).await;
    let stored = app
        .state
        .store
        .user_by_id(user.id)
        .await
        .expect("user")
        .expect("exists");
    let last_login = stored
        .last_login
        .expect("a web login records the last login");
    assert!(
        last_login >= before - chrono::Duration::seconds(1),
        "{last_login}"
    );

    let today = app.state.now().with_timezone(&app.state.tz()).date_naive();
    let age = today.years_since(birth).expect("born before today");
    assert!(age >= 46, "{age}");
    let page = web.get("/admin/patients/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("03.02.1980 ({age})")),
        "no age {age} in the patient list"
    );
    assert!(!page.body.contains("03.02.1980 (0)"));
    app.stop().await;
}
