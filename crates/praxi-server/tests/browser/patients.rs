//! The patient and doctor pages (`/patients/`, `/patients/{id}/`, `/doctors/`,
//! `/doctors/{id}/`): the role matrix over plain HTTP with a session cookie, search and pages,
//! registration and edits through the API's rules with inline errors, audit rows, stored
//! figures only, doctors restricted to their own rows; then in Chromium: search and open a
//! patient, a script in a name stays text, billing cannot edit (a forged POST is refused),
//! the period selector, and the screenshots `patients`, `patient-detail` and `doctors`.

use chrono::{NaiveDate, TimeZone, Utc};
use praxi_domain::Role;
use praxi_store::entity;
use praxi_store::users::UserRecord;
use reqwest::header::{COOKIE, LOCATION};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};

use crate::fixtures::{self, Practice, at, utc};
use crate::harness::browser;
use crate::helpers::TestApp;

// ---- a session without a browser ----------------------------------------------------------

/// A signed-in session (or an anonymous one) speaking plain HTTP.
struct Session<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
    csrf: String,
}

/// One response.
struct Page {
    status: u16,
    location: String,
    body: String,
}

impl<'a> Session<'a> {
    async fn of(app: &'a TestApp, user: &UserRecord) -> Session<'a> {
        let (key, csrf) = praxi_server::web::session::start_session(&app.state, user.id)
            .await
            .expect("session");
        Session {
            app,
            cookie: Some(format!("praxi_session={key}")),
            csrf,
        }
    }

    fn anonymous(app: &'a TestApp) -> Session<'a> {
        Session {
            app,
            cookie: None,
            csrf: String::new(),
        }
    }

    fn english(mut self) -> Session<'a> {
        self.cookie = self.cookie.map(|cookie| format!("{cookie}; lang=en"));
        self
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        };
        let response = request.send().await.expect("request");
        Page {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("")
                .to_owned(),
            body: response.text().await.expect("body"),
        }
    }

    async fn get(&self, path: &str) -> Page {
        self.send(self.app.http.get(self.app.url(path))).await
    }

    /// Posts a form with the session's CSRF token.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut fields: Vec<(&str, &str)> = vec![("csrf_token", &self.csrf)];
        fields.extend_from_slice(form);
        self.post_raw(path, &fields).await
    }

    async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> Page {
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

/// Sessions for admin, assistant, doctor, billing, a user without role, and anonymous.
async fn sessions(app: &TestApp) -> Vec<(String, Session<'_>)> {
    let mut out = Vec::new();
    for role in ROLES {
        let name = format!("people_{}", role.map_or("none", Role::name));
        let user = app.create_user(&name, role).await;
        out.push((name, Session::of(app, &user).await));
    }
    out.push(("anonymous".to_owned(), Session::anonymous(app)));
    out
}

/// Expected statuses for admin, assistant, doctor, billing, no role, anonymous.
type Expect = [u16; 6];

async fn check_get(sessions: &[(String, Session<'_>)], path: &str, expected: Expect) {
    for ((who, session), status) in sessions.iter().zip(expected) {
        let page = session.get(path).await;
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
    sessions: &[(String, Session<'_>)],
    path: &str,
    form: &[(&str, &str)],
    expected: Expect,
) {
    for ((who, session), status) in sessions.iter().zip(expected) {
        let page = session.post(path, form).await;
        assert_eq!(page.status, status, "POST {path} as {who}: {}", page.body);
    }
}

async fn audit_meta(app: &TestApp, action: &str) -> (Option<i32>, Value) {
    let rows = app
        .store()
        .audit_log(Some(action), 1)
        .await
        .expect("audit log");
    let row = rows
        .first()
        .unwrap_or_else(|| panic!("no {action} audit row"));
    (row.patient_id, row.meta.clone().unwrap_or(Value::Null))
}

// ---- a practice with history --------------------------------------------------------------

/// The practice of the fixtures with a history for patient 1, seen on Wednesday 2030-01-16
/// 12:00 (the clock is moved there):
///
/// | id | doctor | when | status |
/// |---|---|---|---|
/// | a1 | A | Mon 09:00 | completed |
/// | a2 | A | Mon 10:00 | scheduled, flagged no-show |
/// | a3 | A | Tue 09:00 | cancelled |
/// | a4 | A | Tue 11:00 | scheduled (past, counts as no-show) |
/// | a6 | A | Wed 08:00 | completed, with a patient flow registered → in treatment |
/// | a5 | A | Thu 09:00 | scheduled (upcoming) |
/// | b1 | B | Mon 11:00 | completed |
/// | b2 | B | Fri 10:00 | scheduled (upcoming) |
///
/// plus an operation of patient 1 with doctor B as surgeon (Thu 13:00) and an absence of
/// doctor A from Monday 21 to Friday 25 January.
struct History {
    practice: Practice,
    appointments_a: Vec<i64>,
    appointments_b: Vec<i64>,
    operation: i64,
    flow: i64,
}

async fn history(app: &TestApp) -> History {
    let practice = Practice::new(app).await;
    let admin = app.as_role(Role::Admin).await;
    let a = practice.doctor.id;
    let b = practice.other_doctor.id;
    let book = |doctor: i64, day: u32, hour: u32| {
        practice.booking(doctor, 1, (day, hour, 0), (day, hour, 30))
    };
    let mut appointments_a = Vec::new();
    for (day, hour) in [(0, 9), (0, 10), (1, 9), (1, 11), (2, 8), (3, 9)] {
        appointments_a.push(practice.book(&admin, &book(a, day, hour)).await);
    }
    let mut appointments_b = Vec::new();
    for (day, hour) in [(0, 11), (4, 10)] {
        appointments_b.push(practice.book(&admin, &book(b, day, hour)).await);
    }
    for (id, status) in [
        (appointments_a[0], "completed"),
        (appointments_a[2], "cancelled"),
        (appointments_a[4], "completed"),
        (appointments_b[0], "completed"),
    ] {
        let res = admin
            .patch(
                &format!("/api/appointments/{id}/"),
                &json!({"status": status}),
            )
            .await;
        assert_eq!(res.status, 200, "{status}: {}", res.text);
    }
    let op_type = entity::operation_type::ActiveModel {
        name: Set("Knie-Arthroskopie".to_owned()),
        prep_duration: Set(15),
        op_duration: Set(60),
        post_duration: Set(15),
        color: Set("#445566".to_owned()),
        active: Set(true),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("operation type")
    .id;
    let res = admin
        .post(
            "/api/operations/",
            &json!({
                "patient_id": 1,
                "primary_surgeon": b,
                "op_room": practice.other_room,
                "op_type": op_type,
                "start_time": at(3, 13, 0),
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let operation = res.body["id"].as_i64().expect("fixture");
    fixtures::absence(
        app,
        a,
        NaiveDate::from_ymd_opt(2030, 1, 21).expect("fixture"),
        NaiveDate::from_ymd_opt(2030, 1, 25).expect("fixture"),
    )
    .await;

    // Now is Wednesday 12:00.
    app.state.clock.advance(utc(2, 12, 0) - app.state.now());
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            &format!("/api/appointments/{}/mark-no-show/", appointments_a[1]),
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin
        .post(
            "/api/patient-flow/",
            &json!({"appointment_id": appointments_a[4]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let flow = res.body["id"].as_i64().expect("fixture");
    for status in ["waiting", "preparing", "in_treatment"] {
        let res = admin
            .patch(
                &format!("/api/patient-flow/{flow}/status/"),
                &json!({"status": status}),
            )
            .await;
        assert_eq!(res.status, 200, "{status}: {}", res.text);
    }
    History {
        practice,
        appointments_a,
        appointments_b,
        operation,
        flow,
    }
}

// ---- HTTP ---------------------------------------------------------------------------------

#[tokio::test]
async fn patient_and_doctor_pages_answer_each_role_like_the_api_policy() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let sessions = sessions(&app).await;
    let doctor = practice.doctor.id;
    const READ: Expect = [200, 200, 200, 200, 403, 303];
    check_get(&sessions, "/patients/", READ).await;
    check_get(&sessions, "/patients/?q=Patient2&page=1", READ).await;
    check_get(&sessions, "/patients/1/", READ).await;
    check_get(&sessions, "/doctors/", READ).await;
    check_get(&sessions, "/doctors/?days=90", READ).await;
    check_get(&sessions, &format!("/doctors/{doctor}/"), READ).await;
    const MISSING: Expect = [404, 404, 404, 404, 403, 303];
    check_get(&sessions, "/patients/999/", MISSING).await;
    check_get(&sessions, "/patients/abc/", MISSING).await;
    check_get(&sessions, "/patients/0/", MISSING).await;
    check_get(&sessions, "/doctors/999/", MISSING).await;
    // A user who is not an active doctor has no doctor page.
    let admin_user = app
        .store()
        .user_by_username("people_admin")
        .await
        .unwrap()
        .unwrap();
    check_get(&sessions, &format!("/doctors/{}/", admin_user.id), MISSING).await;

    // Writes: admins, assistants and doctors (the API's Patients create/update row); billing
    // and users without a role are refused, anonymous users go to the login page.
    const WRITE: Expect = [303, 303, 303, 403, 403, 303];
    for (n, (who, session)) in sessions.iter().enumerate() {
        let last = format!("Neu{n}");
        let page = session
            .post(
                "/patients/",
                &[("last_name", &last), ("first_name", "Nina")],
            )
            .await;
        assert_eq!(page.status, WRITE[n], "create as {who}: {}", page.body);
    }
    check_post(
        &sessions,
        "/patients/2/",
        &[("last_name", "Patient2"), ("first_name", "Paul")],
        WRITE,
    )
    .await;
    // Doctors' pages have no forms at all.
    for (who, session) in &sessions {
        let page = session.post("/doctors/", &[]).await;
        assert!(
            page.status == 405 || page.status == 303,
            "POST /doctors/ as {who}: {}",
            page.status
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn billing_gets_no_forms_and_its_posts_are_refused_even_with_a_valid_token() {
    let app = TestApp::spawn().await;
    Practice::new(&app).await;
    let billing = app.create_user("abrechnung", Some(Role::Billing)).await;
    let web = Session::of(&app, &billing).await;
    let list = web.get("/patients/").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("id=\"patientsTable\""));
    assert!(
        !list.body.contains("createPatientForm"),
        "no registration form"
    );
    let detail = web.get("/patients/1/").await;
    assert_eq!(detail.status, 200);
    assert!(!detail.body.contains("editPatientForm"), "no edit form");
    assert!(detail.body.contains("id=\"readOnlyNote\""));
    assert!(
        !detail.body.contains("bookAppointment"),
        "billing cannot book"
    );

    let before = app.store().patient(1).await.unwrap().unwrap();
    let page = web
        .post(
            "/patients/1/",
            &[("last_name", "Geändert"), ("first_name", "X")],
        )
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    let page = web.post("/patients/", &[("last_name", "Neu")]).await;
    assert_eq!(page.status, 403);
    assert_eq!(
        app.store().patient(1).await.unwrap().unwrap(),
        before,
        "nothing changed"
    );
    assert_eq!(
        app.store().count_patients().await.unwrap(),
        4,
        "nothing created"
    );
    assert!(
        app.store()
            .audit_log(Some("patient_updated"), 5)
            .await
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}

#[tokio::test]
async fn search_matches_name_number_phone_email_and_birth_date_and_pages_are_linked() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    for n in 1..=30 {
        let res = admin
            .post(
                "/api/patients/",
                &json!({
                    "id": n,
                    "first_name": format!("Vorname{n:02}"),
                    "last_name": format!("Muster{n:02}"),
                    "birth_date": format!("1980-01-{n:02}"),
                    "phone": format!("+49 30 5550{n:02}"),
                    "email": format!("p{n:02}@example.test"),
                }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let user = app.create_user("empfang", Some(Role::Assistant)).await;
    let web = Session::of(&app, &user).await;

    let page = web.get("/patients/").await;
    assert!(page.body.contains("Muster01, Vorname01"));
    assert!(page.body.contains("Muster25, Vorname25"));
    assert!(!page.body.contains("Muster26, Vorname26"), "25 per page");
    assert!(
        page.body.contains("href=\"/patients/?page=2\""),
        "page links"
    );
    let (_, meta) = audit_meta(&app, "patient_list").await;
    assert_eq!(meta["page"], 1);
    assert_eq!(meta["patient_ids"].as_array().unwrap().len(), 25);

    let page = web.get("/patients/?page=2").await;
    assert!(page.body.contains("Muster26, Vorname26"));
    assert!(page.body.contains("Muster30, Vorname30"));
    assert!(!page.body.contains("Muster01, Vorname01"));
    let (_, meta) = audit_meta(&app, "patient_list").await;
    assert_eq!(meta["page"], 2);
    assert_eq!(meta["patient_ids"], json!([26, 27, 28, 29, 30]));
    // Beyond the last page: the last page; junk: the first.
    assert!(
        web.get("/patients/?page=99")
            .await
            .body
            .contains("Muster30, Vorname30")
    );
    assert!(
        web.get("/patients/?page=x")
            .await
            .body
            .contains("Muster01, Vorname01")
    );

    for (q, expected) in [
        ("muster07", vec![7]),
        ("Vorname1", (10..=19).collect::<Vec<i32>>()),
        ("12", vec![12]),
        ("+49 30 555013", vec![13]),
        ("p14@example", vec![14]),
        ("03.01.1980", vec![3]),
        ("1980-01-04", vec![4]),
        ("Muster05 Vorname05", vec![5]),
        ("nobody", vec![]),
    ] {
        let page = web.get(&format!("/patients/?q={}", urlencode(q))).await;
        assert_eq!(page.status, 200, "{q}");
        let (_, meta) = audit_meta(&app, "patient_search").await;
        assert_eq!(meta["patient_ids"], json!(expected), "q={q}");
        assert_eq!(meta["query_length"], q.chars().count(), "q={q}");
        if q.chars().any(char::is_alphabetic) {
            assert!(
                !meta.to_string().contains(q),
                "the query itself is never stored: {q}"
            );
        }
        for id in &expected {
            assert!(
                page.body.contains(&format!("id=\"patient-{id}\"")),
                "q={q}: row {id}"
            );
        }
        if expected.is_empty() {
            assert!(page.body.contains("id=\"patientsEmpty\""), "q={q}");
        }
    }
    // The search keeps its query in the page links.
    let page = web.get("/patients/?q=Muster").await;
    assert!(
        page.body
            .contains("href=\"/patients/?q=Muster&#38;page=2\""),
        "{}",
        page.body
    );
    app.stop().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn registration_and_edits_use_the_api_rules_and_show_errors_next_to_the_fields() {
    let app = TestApp::spawn().await;
    Practice::new(&app).await;
    let user = app.create_user("arzt", Some(Role::Doctor)).await;
    let web = Session::of(&app, &user).await;
    let future = (Utc::now().date_naive() + chrono::Duration::days(400)).to_string();

    // Invalid: future birth date, bad e-mail, a gender beyond 20 characters, a bad number.
    let long = "x".repeat(21);
    let page = web
        .post(
            "/patients/",
            &[
                ("id", "-4"),
                ("last_name", "Neu"),
                ("first_name", "Nina"),
                ("birth_date", &future),
                ("gender", &long),
                ("email", "nope"),
            ],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("id=\"create-id-errors\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Die Patientennummer muss eine positive ganze Zahl sein.")
    );
    assert_eq!(
        app.store().count_patients().await.unwrap(),
        4,
        "nothing saved"
    );
    // The number error comes from reading the body, like the API; then the profile rules.
    let page = web
        .post(
            "/patients/",
            &[
                ("last_name", "Neu"),
                ("birth_date", &future),
                ("gender", &long),
                ("email", "nope"),
            ],
        )
        .await;
    assert_eq!(page.status, 400);
    for field in ["birth_date", "gender", "email"] {
        assert!(
            page.body.contains(&format!("id=\"create-{field}-errors\"")),
            "{field}"
        );
    }
    assert!(
        page.body
            .contains("Das Geburtsdatum darf nicht in der Zukunft liegen.")
    );
    assert!(
        page.body
            .contains("Bitte eine gültige E-Mail-Adresse angeben.")
    );
    assert!(
        page.body.contains("value=\"nope\""),
        "the typed value is kept"
    );
    assert!(
        page.body
            .contains("<details class=\"panel people-create\" id=\"createPatient\" open>")
    );
    // A taken number.
    let page = web
        .post("/patients/", &[("id", "2"), ("last_name", "Doppelt")])
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.body.contains("Dieser Wert ist bereits vergeben."),
        "{}",
        page.body
    );
    // Valid, with a German date typed by hand; the number is allocated.
    let page = web
        .post(
            "/patients/",
            &[
                ("id", ""),
                ("last_name", " Neumann "),
                ("first_name", "Nina"),
                ("birth_date", "03.02.1980"),
                ("gender", "w"),
                ("phone", ""),
                ("email", "nina@example.test"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location, "/patients/5/?ok=created");
    let stored = app.store().patient(5).await.unwrap().unwrap();
    assert_eq!(stored.fields.last_name, "Neumann", "trimmed like the API");
    assert_eq!(
        stored.fields.birth_date,
        NaiveDate::from_ymd_opt(1980, 2, 3)
    );
    assert_eq!(stored.fields.phone, None);
    let (patient, _) = audit_meta(&app, "patient_created").await;
    assert_eq!(patient, Some(5));
    let page = web.get(&page.location).await;
    assert!(page.body.contains("Der Patient wurde angelegt."));

    // Edit: errors inline, nothing stored; then a valid change.
    let page = web
        .post(
            "/patients/5/",
            &[
                ("last_name", "Neumann"),
                ("first_name", "Nina"),
                ("email", "kaputt"),
            ],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("id=\"edit-email-errors\""));
    assert!(page.body.contains("<details id=\"editPatient\" open>"));
    assert_eq!(app.store().patient(5).await.unwrap().unwrap(), stored);
    let page = web
        .post(
            "/patients/5/",
            &[
                ("last_name", "Neumann"),
                ("first_name", "Nina"),
                ("birth_date", "1980-02-04"),
                ("gender", ""),
                ("phone", "+49 30 1234"),
                ("email", ""),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location, "/patients/5/?ok=saved");
    let changed = app.store().patient(5).await.unwrap().unwrap();
    assert_eq!(
        changed.fields.birth_date,
        NaiveDate::from_ymd_opt(1980, 2, 4)
    );
    assert_eq!(changed.fields.gender, None);
    assert_eq!(changed.fields.email, None);
    assert_eq!(changed.fields.phone.as_deref(), Some("+49 30 1234"));
    let (patient, _) = audit_meta(&app, "patient_updated").await;
    assert_eq!(patient, Some(5));

    // Without the session's CSRF token nothing happens.
    let page = web
        .post_raw(
            "/patients/5/",
            &[("csrf_token", "forged"), ("last_name", "X")],
        )
        .await;
    assert_eq!(page.status, 403);
    let page = web.post_raw("/patients/", &[("last_name", "X")]).await;
    assert_eq!(page.status, 403);
    assert_eq!(app.store().patient(5).await.unwrap().unwrap(), changed);
    assert_eq!(app.store().count_patients().await.unwrap(), 5);
    app.stop().await;
}

#[tokio::test]
async fn the_detail_shows_stored_appointments_operations_flow_history_and_figures_and_is_audited() {
    let app = TestApp::spawn().await;
    let history = history(&app).await;
    let user = app.create_user("empfang", Some(Role::Assistant)).await;
    let web = Session::of(&app, &user).await;
    let page = web.get("/patients/1/").await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    for id in history.appointments_a.iter().chain(&history.appointments_b) {
        assert!(
            body.contains(&format!("id=\"appointment-{id}\"")),
            "appointment {id}"
        );
    }
    assert!(body.contains(&format!("id=\"operation-{}\"", history.operation)));
    assert!(body.contains("Knie-Arthroskopie"));
    // Figures from the eight stored rows (now = Wednesday 12:00): two upcoming, three
    // completed, one cancelled; of the five past ones not cancelled two are no-shows (one
    // flagged, one still scheduled) → 40 %, three completed → 60 %.
    assert!(
        body.contains("<div class=\"value\" id=\"figTotal\">8</div>"),
        "{body}"
    );
    assert!(body.contains("id=\"figUpcoming\">2<"));
    assert!(body.contains("id=\"figCompleted\">3<"));
    assert!(body.contains("id=\"completionRate\">60,0 %<"));
    assert!(body.contains("id=\"figCancelled\">1<"));
    assert!(body.contains("id=\"noShowRate\">40,0 %<"));
    assert!(body.contains("id=\"figNoShows\">2<"));
    assert!(body.contains("id=\"figLastVisit\">16.01.2030 08:00<"));
    assert!(body.contains("id=\"figNext\">17.01.2030 09:00<"));
    assert!(body.contains("Nicht erschienen"), "the flagged no-show");
    assert!(
        body.contains("Nicht abgeschlossen"),
        "the past, still scheduled one"
    );
    // The patient-flow history: creation and three changes, newest first, with who did it.
    let flow = body
        .split("id=\"flowHistory\"")
        .nth(1)
        .expect("history table");
    for text in [
        "Angemeldet",
        "Wartend",
        "Vorbereitung",
        "In Behandlung",
        "Termin 16.01.2030 08:00",
    ] {
        assert!(flow.contains(text), "{text}");
    }
    assert!(
        flow.find("In Behandlung").unwrap() < flow.find("(angelegt)").unwrap(),
        "newest first"
    );
    // Nothing invented: no risk score, vitals or labs, only the note that they are not stored.
    for invented in ["Risiko", "Blutdruck", "Laborwerte</h2>", "Allergien</h2>"] {
        assert!(!body.contains(invented), "{invented}");
    }
    assert!(body.contains("id=\"noClinicalData\""));
    // The view is audited with ids only.
    let (patient, meta) = audit_meta(&app, "patient_view").await;
    assert_eq!(patient, Some(1));
    assert_eq!(meta["appointment_ids"].as_array().unwrap().len(), 8);
    assert_eq!(meta["operation_ids"], json!([history.operation]));
    assert_eq!(meta["flow_ids"], json!([history.flow]));
    assert!(
        !meta.to_string().contains("Patient1"),
        "no names in the audit row"
    );
    // Every view, also the second one.
    let before = app
        .store()
        .audit_log(Some("patient_view"), 50)
        .await
        .unwrap()
        .len();
    web.get("/patients/1/").await;
    assert_eq!(
        app.store()
            .audit_log(Some("patient_view"), 50)
            .await
            .unwrap()
            .len(),
        before + 1
    );

    // English texts and dates.
    let english = Session::of(&app, &user).await.english();
    let page = english.get("/patients/1/").await;
    assert!(page.body.contains("No-show rate"));
    assert!(page.body.contains("id=\"noShowRate\">40.0 %<"));
    assert!(page.body.contains("id=\"figNext\">2030-01-17 09:00<"));
    app.stop().await;
}

#[tokio::test]
async fn doctors_see_only_their_own_appointments_operations_and_flows() {
    let app = TestApp::spawn().await;
    let history = history(&app).await;
    let web = Session::of(&app, &history.practice.doctor).await;
    let page = web.get("/patients/1/").await;
    assert_eq!(page.status, 200);
    for id in &history.appointments_a {
        assert!(
            page.body.contains(&format!("id=\"appointment-{id}\"")),
            "own {id}"
        );
    }
    for id in &history.appointments_b {
        assert!(
            !page.body.contains(&format!("id=\"appointment-{id}\"")),
            "other {id}"
        );
    }
    assert!(
        !page
            .body
            .contains(&format!("id=\"operation-{}\"", history.operation)),
        "not in the team"
    );
    assert!(page.body.contains("id=\"ownOnly\""));
    // Figures of the six own rows: four past not cancelled, two no-shows.
    assert!(page.body.contains("id=\"figTotal\">6<"));
    assert!(page.body.contains("id=\"noShowRate\">50,0 %<"));
    assert!(page.body.contains("In Behandlung"), "the own flow");
    let (_, meta) = audit_meta(&app, "patient_view").await;
    assert_eq!(meta["appointment_ids"].as_array().unwrap().len(), 6);
    assert_eq!(meta["operation_ids"], json!([]));

    // The list's next appointment is the doctor's own.
    let page = web.get("/patients/?q=Patient1").await;
    assert!(page.body.contains("17.01.2030 09:00"));
    let other = Session::of(&app, &history.practice.other_doctor).await;
    let page = other.get("/patients/?q=Patient1").await;
    assert!(page.body.contains("18.01.2030 10:00"));
    assert!(!page.body.contains("17.01.2030 09:00"));
    // Doctor B is in the operation's team and sees it, but not A's flow.
    let page = other.get("/patients/1/").await;
    assert!(
        page.body
            .contains(&format!("id=\"operation-{}\"", history.operation))
    );
    assert!(!page.body.contains("In Behandlung"));

    // Doctor pages: the own page with appointments, a colleague's with a note only.
    let own = web
        .get(&format!("/doctors/{}/", history.practice.doctor.id))
        .await;
    assert_eq!(own.status, 200);
    assert!(own.body.contains("id=\"doctorAppointmentsTable\""));
    assert!(own.body.contains("id=\"weekTable\""));
    assert!(own.body.contains("id=\"absenceTable\""));
    assert!(!own.body.contains("id=\"hiddenNote\""));
    let colleague = web
        .get(&format!("/doctors/{}/", history.practice.other_doctor.id))
        .await;
    assert_eq!(colleague.status, 200);
    assert!(colleague.body.contains("id=\"hiddenNote\""));
    for hidden in [
        "doctorAppointmentsTable",
        "doctorFigures",
        "weekTable",
        "doctorAbsences",
    ] {
        assert!(!colleague.body.contains(hidden), "{hidden}");
    }
    assert!(
        !colleague.body.contains("Patient1"),
        "no patient of the colleague"
    );
    let list = web.get("/doctors/").await;
    let other_row = list
        .body
        .split(&format!(
            "id=\"doctor-{}\"",
            history.practice.other_doctor.id
        ))
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap()
        .to_owned();
    assert!(other_row.contains("nicht sichtbar"), "{other_row}");
    app.stop().await;
}

#[tokio::test]
async fn doctor_pages_show_hours_absences_and_figures_of_the_chosen_period() {
    let app = TestApp::spawn().await;
    let history = history(&app).await;
    let user = app.create_user("chefin", Some(Role::Admin)).await;
    let web = Session::of(&app, &user).await;
    let a = history.practice.doctor.id;

    let page = web.get("/doctors/?days=7").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"periodSelect\""));
    assert!(page.body.contains("<option value=\"7\" selected>"));
    assert!(
        page.body.contains("10.01.2030 – 16.01.2030"),
        "the window ends today"
    );
    let row = page
        .body
        .split(&format!("id=\"doctor-{a}\""))
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap()
        .to_owned();
    // Mon–Fri 08:00–17:00 = 45 h; absence 21.–25.01.; today one appointment (a6), next a5;
    // five appointments in the window (a5 lies after today), four past not cancelled with
    // two no-shows and two completed.
    for text in [
        "45 Std. (Mo, Di, Mi, Do, Fr)",
        "21.01.2030 – 25.01.2030",
        "17.01.2030 09:00",
        ">5<",
        "50,0 %",
    ] {
        assert!(row.contains(text), "{text} in {row}");
    }
    assert!(page.body.contains("id=\"activeDoctors\">2<"));
    // The summary counts both doctors: 5 + 1 (b1) in the window.
    assert!(page.body.contains("id=\"sumAppointments\">6<"));
    // An unknown period falls back to 30 days.
    let page = web.get("/doctors/?days=12").await;
    assert!(page.body.contains("<option value=\"30\" selected>"));

    let page = web.get(&format!("/doctors/{a}/?days=90")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<option value=\"90\" selected>"));
    assert!(page.body.contains("id=\"figTotal\">5<"));
    assert!(page.body.contains("id=\"figNoShowRate\">50,0 %<"));
    assert!(page.body.contains("id=\"weekTotal\">45 Std.<"));
    assert!(page.body.contains("08:00–17:00"));
    assert!(page.body.contains("Urlaub"));
    // Today's and next appointments name the patient (with a link) and are audited.
    assert!(page.body.contains("href=\"/patients/1/\""));
    assert!(page.body.contains("16.01.2030 08:00–08:30"));
    let rows = app
        .store()
        .audit_log(Some("appointment_list"), 1)
        .await
        .unwrap();
    assert_eq!(rows[0].meta.as_ref().unwrap()["doctor_id"], a);
    // No "Dr." is forced onto names.
    assert!(!page.body.contains("Dr. "));
    // The original's URLs redirect.
    let moved = web.get("/praxi_backend/dashboard/doctors/").await;
    assert_eq!((moved.status, moved.location.as_str()), (308, "/doctors/"));
    let moved = web.get("/praxi_backend/dashboard/patients/1/").await;
    assert_eq!(
        (moved.status, moved.location.as_str()),
        (308, "/patients/1/")
    );
    app.stop().await;
}

#[tokio::test]
async fn names_are_escaped_on_every_page() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/patients/",
            &json!({"id": 66, "first_name": "<img src=x onerror=alert(2)>", "last_name": "<script>alert(1)</script>"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 66, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    app.state.clock.advance(utc(0, 7, 0) - app.state.now());
    let user = app.create_user("empfang", Some(Role::Assistant)).await;
    let web = Session::of(&app, &user).await;
    for path in [
        "/patients/",
        "/patients/66/",
        &format!("/doctors/{}/", practice.doctor.id),
    ] {
        let page = web.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains("<script>alert"), "{path}");
        assert!(!page.body.contains("<img src=x"), "{path}");
        // Shown as text (askama writes `<` and `>` as character references).
        assert!(
            page.body
                .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path}"
        );
    }
    app.stop().await;
}

// ---- Chromium -----------------------------------------------------------------------------

#[tokio::test]
async fn staff_search_a_patient_by_name_and_open_the_detail() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let history = history(&app).await;
    let admin = app.as_role(Role::Admin).await;
    for (id, first, last, born) in [
        (10, "Erika", "Mustermann", "1964-08-12"),
        (11, "Max", "Mustermann", "1962-03-30"),
        (12, "Aylin", "Yılmaz", "1991-11-02"),
        (13, "Jonas", "Becker", "2015-05-19"),
    ] {
        let res = admin
            .post(
                "/api/patients/",
                &json!({"id": id, "first_name": first, "last_name": last, "birth_date": born}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    app.create_user("empfang", Some(Role::Assistant)).await;
    browser.login(&app, "empfang").await;
    browser.goto(&app, "/patients/").await;
    browser.wait_for("#patientsTable tbody tr").await;
    browser.screenshot("patients").await;

    browser.fill("#patientSearchInput", "Patient1").await;
    browser.click("#patientSearchSubmit").await;
    browser.wait_for_text("#patientsTotal", "1").await;
    let table = browser.text("#patientsTable").await;
    assert!(table.contains("Patient1, P"), "{table}");
    assert!(
        table.contains("17.01.2030 09:00"),
        "next appointment: {table}"
    );
    assert!(!table.contains("Mustermann"), "{table}");
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.query(), Some("q=Patient1"));

    browser.click("#patient-1 a").await;
    browser.wait_for("#patientDetail").await;
    assert_eq!(browser.current_path().await, "/patients/1/");
    assert_eq!(browser.text("#patientName").await, "Patient1, P");
    assert_eq!(browser.text("#noShowRate").await, "40,0 %");
    assert!(browser.text("#flowHistory").await.contains("In Behandlung"));
    let (patient, _) = audit_meta(&app, "patient_view").await;
    assert_eq!(patient, Some(1));
    browser.screenshot("patient-detail").await;

    // The edit form opens without JavaScript (details/summary) and saves with a flash.
    browser.click("#editPatient summary").await;
    browser.fill("#edit-phone", "+49 30 777").await;
    browser.click("#editPatientSubmit").await;
    browser.wait_for_text("#flash", "gespeichert").await;
    assert_eq!(
        app.store()
            .patient(1)
            .await
            .unwrap()
            .unwrap()
            .fields
            .phone
            .as_deref(),
        Some("+49 30 777")
    );
    drop(history);
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_script_in_a_patient_name_is_shown_as_text_and_never_runs() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/patients/",
            &json!({"id": 7, "first_name": "<img src=x onerror=alert(2)>", "last_name": "<script>alert(1)</script>"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    app.create_user("empfang", Some(Role::Assistant)).await;
    browser.login(&app, "empfang").await;

    browser.goto(&app, "/patients/").await;
    let row = browser.text("#patient-7").await;
    assert!(
        row.contains("<script>alert(1)</script>, <img src=x onerror=alert(2)>"),
        "{row}"
    );
    assert!(
        browser.client.get_alert_text().await.is_err(),
        "no alert dialog on the list"
    );

    browser.goto(&app, "/patients/7/").await;
    assert_eq!(
        browser.text("#patientName").await,
        "<script>alert(1)</script>, <img src=x onerror=alert(2)>"
    );
    assert!(
        browser
            .text("main h1")
            .await
            .contains("<script>alert(1)</script>")
    );
    assert!(
        browser.client.get_alert_text().await.is_err(),
        "no alert dialog on the detail"
    );
    // The edit form shows the name as a value, not as markup.
    browser.click("#editPatient summary").await;
    let value = browser
        .wait_for("#edit-last_name")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some("<script>alert(1)</script>"));
    assert!(browser.client.get_alert_text().await.is_err());
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn billing_sees_no_edit_form_and_a_forged_post_with_its_token_is_refused() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    Practice::new(&app).await;
    app.create_user("abrechnung", Some(Role::Billing)).await;
    browser.login(&app, "abrechnung").await;
    browser.goto(&app, "/patients/2/").await;
    browser.wait_for("#patientDetail").await;
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#editPatientForm"))
            .await
            .is_err()
    );
    assert!(
        browser
            .text("#readOnlyNote")
            .await
            .contains("Nur lesender Zugriff")
    );
    let (patient, _) = audit_meta(&app, "patient_view").await;
    assert_eq!(patient, Some(2));

    // A forged form POST from the page with the session's own CSRF token.
    let status = browser
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const token = document.querySelector('meta[name="csrf-token"]').content;
               const body = new URLSearchParams({csrf_token: token, last_name: 'Gefälscht', first_name: 'X'});
               fetch('/patients/2/', {method: 'POST', body, credentials: 'same-origin', redirect: 'manual'})
                 .then(r => done(r.status)).catch(e => done(String(e)));"#,
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(status, json!(403));
    let stored = app.store().patient(2).await.unwrap().unwrap();
    assert_eq!(stored.fields.last_name, "Patient2", "unchanged");
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_doctors_page_changes_its_period_with_the_selector() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let history = history(&app).await;
    app.create_user("chefin", Some(Role::Admin)).await;
    browser.login(&app, "chefin").await;
    browser.goto(&app, "/doctors/").await;
    browser.wait_for("#doctorsTable").await;
    assert!(
        browser
            .text("#periodRange")
            .await
            .contains("18.12.2029 – 16.01.2030")
    );
    let select = browser.wait_for("#periodSelect").await;
    select.select_by_value("7").await.expect("select");
    browser
        .wait_for_text("#periodRange", "10.01.2030 – 16.01.2030")
        .await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.query(), Some("days=7"));
    let row = browser
        .text(&format!("#doctor-{}", history.practice.doctor.id))
        .await;
    assert!(row.contains("45 Std."), "{row}");
    browser.screenshot("doctors").await;

    browser
        .click(&format!("#doctor-{} a", history.practice.doctor.id))
        .await;
    browser.wait_for("#doctorDetail").await;
    assert_eq!(browser.text("#figTotal").await, "5");
    assert!(
        browser
            .text("#doctorAppointmentsTable")
            .await
            .contains("Patient1, P")
    );
    browser.close().await;
    app.stop().await;
}

/// The fixtures' times are Berlin wall-clock times.
#[test]
fn fixture_times_are_local() {
    let local = chrono_tz::Europe::Berlin
        .with_ymd_and_hms(2030, 1, 16, 12, 0, 0)
        .unwrap();
    assert_eq!(utc(2, 12, 0), local.with_timezone(&Utc));
}
