#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]
//! FHIR R4 under `/fhir/` (docs/fhir.md). Every response body — resources, Bundles and
//! OperationOutcomes — is validated against the official FHIR R4 JSON schema
//! (`fhir_schema/fhir.schema.json.gz`, draft-06; origin in `fhir_schema/README.md`).

use std::io::Read;
use std::sync::OnceLock;

use praxi_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{Practice, day, practice_break, time};
use crate::helpers::{Client, TestApp, TestResponse};

// ---- schema validation ------------------------------------------------------------------------

const SCHEMA_ID: &str = "http://hl7.org/fhir/json-schema/4.0";

struct FhirSchema {
    schemas: boon::Schemas,
    root: boon::SchemaIndex,
}

fn schema() -> &'static FhirSchema {
    static SCHEMA: OnceLock<FhirSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let gz = include_bytes!("fhir_schema/fhir.schema.json.gz");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .expect("gunzip the FHIR schema");
        let document: Value = serde_json::from_str(&text).expect("schema JSON");
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource(SCHEMA_ID, document)
            .expect("add the FHIR schema");
        let mut schemas = boon::Schemas::new();
        let root = compiler
            .compile(SCHEMA_ID, &mut schemas)
            .expect("compile the FHIR schema");
        FhirSchema { schemas, root }
    })
}

/// Asserts a FHIR answer: the FHIR media type and a body valid against the R4 schema.
fn assert_fhir(res: &TestResponse) {
    let content_type = res.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/fhir+json"),
        "content type {content_type:?} ({}): {}",
        res.status,
        res.text
    );
    let schema = schema();
    if let Err(error) = schema.schemas.validate(&res.body, schema.root) {
        panic!(
            "response ({}) violates the FHIR R4 schema: {error:#}\n{}",
            res.status, res.text
        );
    }
}

#[test]
fn the_schema_refuses_invalid_resources() {
    let schema = schema();
    let invalid = [
        json!({"resourceType": "Patient", "gender": "mostly"}),
        json!({"resourceType": "Patient", "birthDate": "14.01.2030"}),
        json!({"resourceType": "Slot", "schedule": {"reference": "Schedule/1"}, "status": "free", "start": "2030-01-14T08:00"}),
        json!({"resourceType": "Appointment", "status": "booked"}),
        json!({"resourceType": "Appointment", "status": "confirmed", "participant": [{"status": "accepted"}]}),
        json!({"resourceType": "OperationOutcome", "issue": [{"severity": "catastrophic", "code": "invalid"}]}),
        json!({"resourceType": "Nonsense"}),
        json!({"resourceType": "Bundle", "type": "searchset", "unknownElement": 1}),
    ];
    for resource in invalid {
        assert!(
            schema.schemas.validate(&resource, schema.root).is_err(),
            "{resource}"
        );
    }
    let valid = json!({"resourceType": "Slot", "schedule": {"reference": "Schedule/1"}, "status": "free", "start": "2030-01-14T08:00:00+01:00", "end": "2030-01-14T08:15:00+01:00"});
    assert!(schema.schemas.validate(&valid, schema.root).is_ok());
}

// ---- request helpers --------------------------------------------------------------------------

async fn get(client: &Client<'_>, path: &str) -> TestResponse {
    let res = client.get(path).await;
    assert_fhir(&res);
    res
}

async fn send(
    client: &Client<'_>,
    method: Method,
    path: &str,
    content_type: &str,
    body: &Value,
) -> TestResponse {
    let res = client
        .raw(method, path, content_type, body.to_string().into_bytes())
        .await;
    assert_fhir(&res);
    res
}

async fn post(client: &Client<'_>, path: &str, body: &Value) -> TestResponse {
    send(client, Method::POST, path, "application/fhir+json", body).await
}

async fn put(client: &Client<'_>, path: &str, body: &Value) -> TestResponse {
    send(client, Method::PUT, path, "application/fhir+json", body).await
}

async fn patch(client: &Client<'_>, path: &str, body: &Value) -> TestResponse {
    send(
        client,
        Method::PATCH,
        path,
        "application/json-patch+json",
        body,
    )
    .await
}

/// The resources of a searchset Bundle.
fn entries(res: &TestResponse) -> Vec<Value> {
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["resourceType"], "Bundle");
    assert_eq!(res.body["type"], "searchset");
    res.body["entry"]
        .as_array()
        .map(|list| list.iter().map(|entry| entry["resource"].clone()).collect())
        .unwrap_or_default()
}

fn ids(res: &TestResponse) -> Vec<String> {
    entries(res)
        .iter()
        .map(|resource| resource["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The first issue of an OperationOutcome.
fn issue(res: &TestResponse) -> &Value {
    assert_eq!(res.body["resourceType"], "OperationOutcome", "{}", res.text);
    &res.body["issue"][0]
}

fn slot_search(doctor: i64, day_offset: u32) -> String {
    format!(
        "/fhir/Slot?schedule=Schedule/{doctor}&start=ge{}&start=lt{}",
        day(day_offset),
        day(day_offset + 1)
    )
}

fn slot_booking(slot_id: &str, patient: i32) -> Value {
    json!({
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": format!("Slot/{slot_id}")}],
        "participant": [
            {"actor": {"reference": format!("Patient/{patient}")}, "status": "accepted"},
        ],
    })
}

/// The first free slot of a doctor on a day, as a Slot search returns it.
async fn first_free_slot(client: &Client<'_>, doctor: i64, day_offset: u32) -> Value {
    let res = get(
        client,
        &format!("{}&status=free", slot_search(doctor, day_offset)),
    )
    .await;
    entries(&res).into_iter().next().expect("a free slot")
}

// ---- metadata ---------------------------------------------------------------------------------

#[tokio::test]
async fn metadata_lists_exactly_what_is_routed() {
    let app = TestApp::spawn().await;
    let anonymous = app.anonymous();
    let res = get(&anonymous, "/fhir/metadata").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["resourceType"], "CapabilityStatement");
    assert_eq!(res.body["fhirVersion"], "4.0.1");
    let resources = res.body["rest"][0]["resource"].as_array().unwrap().clone();
    let types: Vec<&str> = resources
        .iter()
        .map(|resource| resource["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Patient",
            "Practitioner",
            "Location",
            "Device",
            "Schedule",
            "Slot",
            "Appointment"
        ]
    );
    let admin = app.as_role(Role::Admin).await;
    for resource in &resources {
        let kind = resource["type"].as_str().unwrap();
        // Every declared search parameter is accepted (never "not supported").
        for param in resource["searchParam"].as_array().unwrap() {
            let name = param["name"].as_str().unwrap();
            let value = match (kind, name) {
                (_, "_count") => "5".to_owned(),
                ("Slot", "start") => format!("ge{}", day(0)),
                (_, "birthdate" | "date") => day(0).to_string(),
                (_, "status") if kind == "Slot" => "free".to_owned(),
                (_, "status") if kind == "Appointment" => "booked".to_owned(),
                (_, "status") => "active".to_owned(),
                (_, "practitioner" | "actor") => "Practitioner/1".to_owned(),
                (_, "patient") => "Patient/1".to_owned(),
                (_, "schedule") => "Schedule/1".to_owned(),
                _ => "1".to_owned(),
            };
            let mut path = format!("/fhir/{kind}?{name}={value}");
            if kind == "Slot" && name != "schedule" {
                path.push_str("&schedule=Schedule/1");
            }
            if kind == "Slot" && name != "start" {
                path.push_str(&format!("&start=ge{}", day(0)));
            }
            if kind == "Appointment" && !["date", "practitioner", "patient", "_id"].contains(&name)
            {
                path.push_str("&patient=Patient/1");
            }
            let res = get(&admin, &path).await;
            assert_eq!(res.status, 200, "{path}: {}", res.text);
        }
        let interactions: Vec<&str> = resource["interaction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|interaction| interaction["code"].as_str().unwrap())
            .collect();
        if !interactions.contains(&"create") {
            let res = post(
                &admin,
                &format!("/fhir/{kind}"),
                &json!({"resourceType": kind}),
            )
            .await;
            assert_eq!(res.status, 405, "{kind}: {}", res.text);
        }
    }
    // Resource types that are not listed are not there.
    for path in ["/fhir/Observation", "/fhir/Encounter/1", "/fhir/"] {
        let res = get(&admin, path).await;
        assert_eq!(res.status, 404, "{path}");
        assert_eq!(issue(&res)["code"], "not-found");
    }
    app.stop().await;
}

// ---- authentication and errors ----------------------------------------------------------------

#[tokio::test]
async fn refusals_are_operation_outcomes_with_the_api_statuses() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let res = get(&app.anonymous(), "/fhir/Patient/1").await;
    assert_eq!(res.status, 401);
    assert_eq!(issue(&res)["code"], "login");
    assert!(res.header("www-authenticate").is_some());
    let mut bad_token = app.anonymous();
    bad_token.token = Some("not-a-jwt".to_owned());
    let res = get(&bad_token, "/fhir/Appointment?patient=Patient/1").await;
    assert_eq!(res.status, 401);

    let nobody = app.as_no_role().await;
    let res = get(&nobody, "/fhir/Patient?name=P").await;
    assert_eq!(res.status, 403);
    assert_eq!(issue(&res)["code"], "forbidden");

    let admin = app.as_role(Role::Admin).await;
    for path in [
        "/fhir/Patient/999",
        "/fhir/Patient/abc",
        "/fhir/Practitioner/999",
        &format!("/fhir/Practitioner/{}", admin.user_id()),
        &format!("/fhir/Location/{}", practice.device),
        &format!("/fhir/Device/{}", practice.room),
        "/fhir/Appointment/999",
        "/fhir/Slot/999-203001140700-203001140715",
        "/fhir/Schedule/999",
    ] {
        let res = get(&admin, path).await;
        assert_eq!(res.status, 404, "{path}: {}", res.text);
        assert_eq!(issue(&res)["code"], "not-found");
    }
    for (path, param) in [
        ("/fhir/Patient?color=blue", "color"),
        ("/fhir/Patient?birthdate=14.01.2030", "birthdate"),
        ("/fhir/Patient?birthdate=sa2030-01-14", "birthdate"),
        ("/fhir/Appointment", "date"),
        ("/fhir/Appointment?date=tomorrow", "date"),
        ("/fhir/Appointment?patient=Practitioner/1", "patient"),
        (
            "/fhir/Appointment?patient=Patient/1&status=sleeping",
            "status",
        ),
        ("/fhir/Slot?start=ge2030-01-14", "schedule"),
        ("/fhir/Slot?schedule=Schedule/1", "start"),
        (
            "/fhir/Slot?schedule=Schedule/1&start=ge2030-01-01&start=lt2030-06-01",
            "start",
        ),
        ("/fhir/Patient?_count=-1", "_count"),
        ("/fhir/Patient?_format=xml", "_format"),
        ("/fhir/Patient?name=%FF", "name"),
    ] {
        let res = get(&admin, path).await;
        assert_eq!(res.status, 400, "{path}: {}", res.text);
        assert_eq!(issue(&res)["expression"], json!([param]), "{path}");
    }
    // Extreme but well-formed values are answered, never a 500.
    for path in [
        "/fhir/Slot?schedule=Schedule/1&start=ge9999-12-30",
        "/fhir/Slot?schedule=Schedule/1&start=ge0001-01-01&start=lt0001-01-05",
        "/fhir/Appointment?date=ge9999-12-31",
        "/fhir/Appointment?date=lt0001-01-02",
        "/fhir/Appointment?date=ge2030-01-15&date=lt2030-01-14",
        "/fhir/Patient?birthdate=9999-12-31",
        "/fhir/Patient?identifier=99999999999999999999",
        "/fhir/Appointment?patient=Patient/99999999999",
        "/fhir/Patient?_count=0",
        "/fhir/Slot/1-999912311000-999912311015",
        "/fhir/Slot/1-000101011000-000101011015",
    ] {
        let res = get(&admin, path).await;
        assert!(res.status < 500, "{path}: {}", res.text);
    }
    let huge = vec![b' '; 2 * 1024 * 1024];
    let res = admin
        .raw(
            Method::POST,
            "/fhir/Appointment",
            "application/fhir+json",
            huge,
        )
        .await;
    assert_fhir(&res);
    assert_eq!(res.status, 413);
    let res = app
        .anonymous()
        .raw(
            Method::DELETE,
            "/fhir/Patient/1",
            "application/fhir+json",
            Vec::new(),
        )
        .await;
    assert_fhir(&res);
    assert_eq!(res.status, 401);
    let res = admin
        .raw(
            Method::DELETE,
            "/fhir/Appointment/1",
            "application/fhir+json",
            Vec::new(),
        )
        .await;
    assert_fhir(&res);
    assert_eq!(res.status, 405);
    app.stop().await;
}

// ---- Patient, Practitioner, Location, Device --------------------------------------------------

#[tokio::test]
async fn people_and_resources_read_and_search_with_audited_patient_reads() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/patients/",
            &json!({"id": 40, "first_name": "Greta", "last_name": "Zimmermann",
                    "birth_date": "1980-05-17", "gender": "female",
                    "phone": "+49 30 1234", "email": "greta@example.test"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);

    let billing = app.as_role(Role::Billing).await;
    let res = get(&billing, "/fhir/Patient/40").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["id"], "40");
    assert_eq!(res.body["name"][0]["family"], "Zimmermann");
    assert_eq!(res.body["name"][0]["given"], json!(["Greta"]));
    assert_eq!(res.body["birthDate"], "1980-05-17");
    assert_eq!(res.body["gender"], "female");
    assert_eq!(res.body["identifier"][0]["value"], "40");
    let audit = app
        .store()
        .audit_log(Some("patient_view"), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].patient_id, Some(40));
    assert_eq!(audit[0].username, billing.user.as_ref().unwrap().username);

    for (query, expected) in [
        ("name=zimm", vec!["40"]),
        ("name=Greta", vec!["40"]),
        ("name=reta", vec![]),
        ("family=Patient", vec!["1", "2", "3", "4"]),
        ("given=greta&family=z", vec!["40"]),
        ("birthdate=1980-05-17", vec!["40"]),
        ("birthdate=ge1980-05-18", vec![]),
        ("birthdate=lt1980-05-18&birthdate=gt1980-05-16", vec!["40"]),
        ("identifier=40", vec!["40"]),
        ("identifier=urn:praxi:patient-number|2", vec!["2"]),
        ("identifier=urn:other|2", vec![]),
        ("_id=3", vec!["3"]),
        ("family=Patient&_count=2", vec!["1", "2"]),
    ] {
        let res = get(&billing, &format!("/fhir/Patient?{query}")).await;
        assert_eq!(ids(&res), expected, "{query}");
    }
    let res = get(&billing, "/fhir/Patient?family=Patient&_count=2").await;
    assert!(res.body.get("total").is_none(), "a cut result has no total");
    let res = get(&billing, "/fhir/Patient?name=zimm").await;
    assert_eq!(res.body["total"], 1);
    assert!(
        res.body["entry"][0]["fullUrl"]
            .as_str()
            .unwrap()
            .ends_with("/fhir/Patient/40")
    );
    // The search is audited with ids only: no name, no search text.
    let audit = app
        .store()
        .audit_log(Some("patient_search"), 1)
        .await
        .unwrap();
    let meta = audit[0].meta.clone().unwrap();
    assert_eq!(meta["patient_ids"], json!([40]));
    let stored = meta.to_string();
    assert!(
        !stored.contains("Zimmermann") && !stored.contains("zimm") && !stored.contains("Greta")
    );

    let doctor = &practice.doctor;
    let res = get(&billing, &format!("/fhir/Practitioner/{}", doctor.id)).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["name"][0]["family"], doctor.last_name);
    assert_eq!(res.body["active"], true);
    let res = get(&billing, "/fhir/Practitioner?name=last dr.b").await;
    assert_eq!(ids(&res), [practice.other_doctor.id.to_string()]);
    let res = get(&billing, "/fhir/Practitioner").await;
    assert_eq!(entries(&res).len(), 2);

    let res = get(&billing, &format!("/fhir/Location/{}", practice.room)).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["name"], "Behandlungsraum 1");
    assert_eq!(res.body["status"], "active");
    let res = get(&billing, &format!("/fhir/Device/{}", practice.device)).await;
    assert_eq!(res.body["deviceName"][0]["name"], "EKG");
    let res = get(&billing, "/fhir/Location").await;
    assert_eq!(
        ids(&res),
        [practice.room.to_string(), practice.other_room.to_string()]
    );
    let res = get(&billing, "/fhir/Location?name=op").await;
    assert_eq!(ids(&res), [practice.other_room.to_string()]);
    let res = get(&billing, "/fhir/Device?status=active").await;
    assert_eq!(ids(&res), [practice.device.to_string()]);

    let res = get(&billing, "/fhir/Schedule").await;
    assert_eq!(entries(&res).len(), 2);
    let res = get(
        &billing,
        &format!("/fhir/Schedule?actor=Practitioner/{}", doctor.id),
    )
    .await;
    let schedules = entries(&res);
    assert_eq!(schedules.len(), 1);
    assert_eq!(
        schedules[0]["actor"][0]["reference"],
        format!("Practitioner/{}", doctor.id)
    );
    let res = get(&billing, &format!("/fhir/Schedule/{}", doctor.id)).await;
    assert_eq!(res.status, 200);
    app.stop().await;
}

// ---- Slot -------------------------------------------------------------------------------------

#[tokio::test]
async fn slots_are_computed_by_the_engine_from_hours_bookings_and_breaks() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = practice.doctor.id;
    practice
        .book(&admin, &practice.booking(doctor, 1, (0, 9, 0), (0, 9, 30)))
        .await;
    practice_break(&app, Some(doctor), day(0), time(12, 0), time(12, 30)).await;

    let res = get(&admin, &slot_search(doctor, 0)).await;
    let slots = entries(&res);
    // 08:00–17:00 in 15-minute slots.
    assert_eq!(slots.len(), 36);
    assert_eq!(res.body["total"], 36);
    let status_at = |hh_mm: &str| {
        slots
            .iter()
            .find(|slot| {
                slot["start"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("T{hh_mm}:00"))
            })
            .map(|slot| slot["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status_at("08:00").as_deref(), Some("free"));
    assert_eq!(status_at("08:45").as_deref(), Some("free"));
    assert_eq!(status_at("09:00").as_deref(), Some("busy"));
    assert_eq!(status_at("09:15").as_deref(), Some("busy"));
    assert_eq!(status_at("09:30").as_deref(), Some("free"));
    assert_eq!(status_at("12:00").as_deref(), Some("busy-unavailable"));
    assert_eq!(status_at("12:15").as_deref(), Some("busy-unavailable"));
    assert_eq!(status_at("16:45").as_deref(), Some("free"));
    assert_eq!(status_at("17:00"), None);
    assert_eq!(slots[0]["start"], "2030-01-14T08:00:00+01:00");
    assert_eq!(slots[0]["end"], "2030-01-14T08:15:00+01:00");
    assert_eq!(
        slots[0]["schedule"]["reference"],
        format!("Schedule/{doctor}")
    );
    // The id encodes schedule, start and end (UTC).
    assert_eq!(
        slots[0]["id"],
        format!("{doctor}-203001140700-203001140715")
    );
    let res = get(
        &admin,
        &format!("/fhir/Slot/{doctor}-203001140800-203001140815"),
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["status"], "busy");
    // A slot that is not on the grid does not exist.
    let res = get(
        &admin,
        &format!("/fhir/Slot/{doctor}-203001140805-203001140820"),
    )
    .await;
    assert_eq!(res.status, 404);

    // The other doctor is free all day; the weekend has no hours; a range narrows.
    let res = get(
        &admin,
        &format!("{}&status=busy", slot_search(practice.other_doctor.id, 0)),
    )
    .await;
    assert!(entries(&res).is_empty());
    let res = get(&admin, &slot_search(doctor, 5)).await;
    assert!(entries(&res).is_empty());
    let res = get(
        &admin,
        &format!("/fhir/Slot?schedule=Schedule/{doctor}&start=ge2030-01-14T10:00:00%2B01:00&start=lt2030-01-14T11:00:00%2B01:00"),
    )
    .await;
    assert_eq!(entries(&res).len(), 4);
    // Without an upper bound a week is searched: Mon–Fri of that week.
    let res = get(
        &admin,
        &format!("/fhir/Slot?schedule=Schedule/{doctor}&start=ge{}", day(0)),
    )
    .await;
    assert_eq!(entries(&res).len(), 5 * 36);
    // An absence makes the whole day unavailable.
    crate::fixtures::absence(&app, doctor, day(1), day(1)).await;
    let res = get(&admin, &format!("{}&status=free", slot_search(doctor, 1))).await;
    assert!(entries(&res).is_empty());
    let res = get(&admin, &slot_search(doctor, 1)).await;
    assert!(
        entries(&res)
            .iter()
            .all(|slot| slot["status"] == "busy-unavailable")
    );
    app.stop().await;
}

// ---- Appointment: create, conflicts, cancel ---------------------------------------------------

#[tokio::test]
async fn booking_a_searched_slot_succeeds_once_and_the_second_booking_is_a_409_outcome() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = practice.doctor.id;
    let slot = first_free_slot(&assistant, doctor, 0).await;
    let slot_id = slot["id"].as_str().unwrap().to_owned();

    let res = post(&assistant, "/fhir/Appointment", &slot_booking(&slot_id, 1)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_owned();
    let location = res.header("location").unwrap().to_owned();
    assert!(
        location.contains(&format!("/fhir/Appointment/{id}/_history/")),
        "{location}"
    );
    assert_eq!(res.body["status"], "booked");
    assert_eq!(res.body["start"], slot["start"]);
    assert_eq!(res.body["end"], slot["end"]);
    assert_eq!(res.body["minutesDuration"], 15);
    let actors: Vec<&str> = res.body["participant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["actor"]["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        actors,
        ["Patient/1".to_owned(), format!("Practitioner/{doctor}")]
    );
    // The same booking path as the API: the appointment is there, with its audit row.
    let api = assistant.get(&format!("/api/appointments/{id}/")).await;
    assert_eq!(api.status, 200);
    assert_eq!(api.body["doctor"], doctor);
    let audit = app
        .store()
        .audit_log(Some("appointment_create"), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].patient_id, Some(1));
    let res = get(&assistant, &format!("/fhir/Appointment/{id}")).await;
    assert_eq!(res.status, 200);
    assert!(res.header("etag").unwrap().starts_with("W/\""));
    // The slot is busy now.
    let res = get(&assistant, &format!("/fhir/Slot/{slot_id}")).await;
    assert_eq!(res.body["status"], "busy");

    // The same slot again, for another patient: refused by the engine, 409 with the reason.
    let res = post(&assistant, "/fhir/Appointment", &slot_booking(&slot_id, 2)).await;
    assert_eq!(res.status, 409, "{}", res.text);
    let conflict = issue(&res);
    assert_eq!(conflict["code"], "conflict");
    let diagnostics = conflict["diagnostics"].as_str().unwrap();
    assert!(
        diagnostics.contains(&format!("Doctor already has appointment #{id}")),
        "{diagnostics}"
    );
    let reasons: Vec<&str> = conflict["details"]["coding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|coding| coding["code"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["doctor_unavailable", "doctor_conflict"]);
    // The same patient with the other doctor at the same time: a patient conflict.
    let mut body = slot_booking(
        &slot_id.replacen(
            &doctor.to_string(),
            &practice.other_doctor.id.to_string(),
            1,
        ),
        1,
    );
    body["participant"][0]["actor"]["reference"] = json!("Patient/1");
    let res = post(&assistant, "/fhir/Appointment", &body).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(
        issue(&res)["details"]["coding"][0]["code"],
        "patient_conflict"
    );
    // Only one appointment was written.
    let res = get(
        &assistant,
        &format!("/fhir/Appointment?practitioner=Practitioner/{doctor}"),
    )
    .await;
    assert_eq!(ids(&res), std::slice::from_ref(&id));

    // A booking by start/end/practitioner, with a room, two slots long.
    let body = json!({
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2030-01-14T10:00:00+01:00",
        "end": "2030-01-14T10:30:00+01:00",
        "comment": "Kontrolle",
        "participant": [
            {"actor": {"reference": "Patient/3"}, "status": "accepted"},
            {"actor": {"reference": format!("Practitioner/{doctor}")}, "status": "accepted"},
            {"actor": {"reference": format!("Location/{}", practice.room)}, "status": "accepted"},
        ],
    });
    let res = post(&assistant, "/fhir/Appointment", &body).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(
        res.body["participant"][2]["actor"]["reference"],
        format!("Location/{}", practice.room)
    );
    assert_eq!(res.body["comment"], "Kontrolle");
    // The room is taken at 10:15 for another doctor: a resource conflict.
    let mut body = body.clone();
    body["start"] = json!("2030-01-14T10:15:00+01:00");
    body["end"] = json!("2030-01-14T10:45:00+01:00");
    body["participant"][0]["actor"]["reference"] = json!("Patient/4");
    body["participant"][1]["actor"]["reference"] =
        json!(format!("Practitioner/{}", practice.other_doctor.id));
    let res = post(&assistant, "/fhir/Appointment", &body).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(
        issue(&res)["details"]["coding"][0]["code"],
        "resource_conflict"
    );
    // Outside the doctor's hours: the hours reason.
    let early = json!({
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": format!("Slot/{doctor}-203001140600-203001140615")}],
        "participant": [{"actor": {"reference": "Patient/4"}, "status": "accepted"}],
    });
    let res = post(&assistant, "/fhir/Appointment", &early).await;
    assert_eq!(res.status, 409, "{}", res.text);
    let reasons = &issue(&res)["details"]["coding"];
    assert_eq!(reasons[0]["code"], "doctor_unavailable");
    assert_eq!(reasons[1]["code"], "outside_practice");

    // Bad input: 400 naming the element.
    let free = first_free_slot(&assistant, doctor, 2).await;
    let free_id = free["id"].as_str().unwrap();
    let cases = [
        (
            json!({"resourceType": "Patient"}),
            "Appointment.resourceType",
        ),
        (
            json!({"resourceType": "Appointment", "slot": [{"reference": format!("Slot/{free_id}")}]}),
            "Appointment.participant",
        ),
        (
            json!({"resourceType": "Appointment", "slot": [{"reference": "Slot/nonsense"}], "participant": [{"actor": {"reference": "Patient/1"}, "status": "accepted"}]}),
            "Appointment.slot[0]",
        ),
        (
            json!({"resourceType": "Appointment", "participant": [{"actor": {"reference": "Patient/1"}, "status": "accepted"}, {"actor": {"reference": format!("Practitioner/{doctor}")}, "status": "accepted"}], "start": "2030-01-16T10:00:00+01:00"}),
            "Appointment.end",
        ),
        (
            json!({"resourceType": "Appointment", "participant": [{"actor": {"reference": "Patient/1"}, "status": "accepted"}, {"actor": {"reference": format!("Practitioner/{doctor}")}, "status": "accepted"}], "start": "2030-01-16 10:00", "end": "2030-01-16T10:30:00+01:00"}),
            "Appointment.start",
        ),
        (
            json!({"resourceType": "Appointment", "participant": [{"actor": {"reference": "Patient/1"}, "status": "accepted"}, {"actor": {"reference": format!("Practitioner/{doctor}")}, "status": "accepted"}], "start": "2030-01-16T10:30:00+01:00", "end": "2030-01-16T10:00:00+01:00"}),
            "Appointment.end",
        ),
        (
            json!({"resourceType": "Appointment", "status": "cancelled", "slot": [{"reference": format!("Slot/{free_id}")}], "participant": [{"actor": {"reference": "Patient/1"}, "status": "accepted"}]}),
            "Appointment.status",
        ),
        (
            json!({"resourceType": "Appointment", "slot": [{"reference": format!("Slot/{free_id}")}], "participant": [{"actor": {"reference": "Patient/999"}, "status": "accepted"}]}),
            "Appointment.participant",
        ),
        (
            json!({"resourceType": "Appointment", "slot": [{"reference": format!("Slot/{free_id}")}], "participant": [{"actor": {"reference": "Group/1"}, "status": "accepted"}]}),
            "Appointment.participant[0].actor",
        ),
    ];
    for (body, element) in cases {
        let res = post(&assistant, "/fhir/Appointment", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(issue(&res)["expression"], json!([element]), "{body}");
    }
    let res = assistant
        .raw(
            Method::POST,
            "/fhir/Appointment",
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_fhir(&res);
    assert_eq!(res.status, 415);
    let res = assistant
        .raw(
            Method::POST,
            "/fhir/Appointment",
            "application/fhir+json",
            b"{not json".to_vec(),
        )
        .await;
    assert_fhir(&res);
    assert_eq!(res.status, 400);
    app.stop().await;
}

#[tokio::test]
async fn cancelling_through_the_status_frees_the_slot() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = practice.doctor.id;
    let slot = first_free_slot(&assistant, doctor, 0).await;
    let slot_id = slot["id"].as_str().unwrap().to_owned();
    let res = post(&assistant, "/fhir/Appointment", &slot_booking(&slot_id, 1)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let booked = res.body.clone();
    let id = booked["id"].as_str().unwrap().to_owned();
    let path = format!("/fhir/Appointment/{id}");

    // PUT that moves the booking is refused; only the status may change.
    let mut moved = booked.clone();
    moved["start"] = json!("2030-01-14T11:00:00+01:00");
    moved["end"] = json!("2030-01-14T11:15:00+01:00");
    let res = put(&assistant, &path, &moved).await;
    assert_eq!(res.status, 400, "{}", res.text);
    let mut other_status = booked.clone();
    other_status["status"] = json!("fulfilled");
    let res = put(&assistant, &path, &other_status).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(issue(&res)["expression"], json!(["Appointment.status"]));
    let mut wrong_id = booked.clone();
    wrong_id["id"] = json!("12345");
    let res = put(&assistant, &path, &wrong_id).await;
    assert_eq!(issue(&res)["expression"], json!(["Appointment.id"]));
    // A stale version is refused (412).
    let mut cancelled = booked.clone();
    cancelled["status"] = json!("cancelled");
    let res = assistant
        .send_with(
            Method::PUT,
            &path,
            Some(&cancelled),
            &[("if-match", "W/\"0123456789abcdef\"")],
        )
        .await;
    assert_fhir(&res);
    assert_eq!(res.status, 412, "{}", res.text);
    // With the current version: cancelled through the API's cancel use case.
    let etag = get(&assistant, &path)
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let res = assistant
        .send_with(
            Method::PUT,
            &path,
            Some(&cancelled),
            &[("if-match", etag.as_str())],
        )
        .await;
    assert_fhir(&res);
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "cancelled");
    assert_eq!(res.body["participant"][0]["status"], "declined");
    assert_ne!(res.header("etag"), Some(etag.as_str()));
    let api = assistant.get(&format!("/api/appointments/{id}/")).await;
    assert_eq!(api.body["status"], "cancelled");
    let audit = app
        .store()
        .audit_log(Some("appointment_update"), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].patient_id, Some(1));
    // Cancelling again changes nothing.
    let res = put(&assistant, &path, &cancelled).await;
    assert_eq!(res.status, 200);
    // The slot is free again and can be booked by someone else.
    let res = get(&assistant, &format!("/fhir/Slot/{slot_id}")).await;
    assert_eq!(res.body["status"], "free");
    let res = post(&assistant, "/fhir/Appointment", &slot_booking(&slot_id, 2)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let second = res.body["id"].as_str().unwrap().to_owned();
    let second_path = format!("/fhir/Appointment/{second}");

    // PATCH: only a JSON Patch replacing /status (or a partial resource with the status).
    let res = patch(
        &assistant,
        &second_path,
        &json!([{"op": "replace", "path": "/start", "value": "2030-01-14T11:00:00+01:00"}]),
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.text);
    let res = patch(
        &assistant,
        &second_path,
        &json!([{"op": "replace", "path": "/status", "value": "arrived"}]),
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.text);
    let res = patch(
        &assistant,
        &second_path,
        &json!([{"op": "replace", "path": "/status", "value": "cancelled"}]),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "cancelled");
    let third = post(&assistant, "/fhir/Appointment", &slot_booking(&slot_id, 3)).await;
    assert_eq!(third.status, 201, "{}", third.text);
    let third_path = format!("/fhir/Appointment/{}", third.body["id"].as_str().unwrap());
    let res = send(
        &assistant,
        Method::PATCH,
        &third_path,
        "application/fhir+json",
        &json!({"resourceType": "Appointment", "status": "cancelled"}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "cancelled");
    let res = get(
        &assistant,
        "/fhir/Appointment?patient=Patient/3&status=cancelled",
    )
    .await;
    assert_eq!(entries(&res).len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn appointment_search_by_date_practitioner_patient_and_status_is_audited_without_names() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    let a = practice
        .book(&admin, &practice.booking(anna, 1, (0, 9, 0), (0, 9, 30)))
        .await;
    let b = practice
        .book(&admin, &practice.booking(bert, 2, (0, 10, 0), (0, 10, 30)))
        .await;
    let c = practice
        .book(&admin, &practice.booking(anna, 2, (1, 9, 0), (1, 9, 30)))
        .await;
    let d = practice
        .book(&admin, &practice.booking(anna, 3, (2, 8, 0), (2, 8, 30)))
        .await;
    let res = admin
        .send(
            Method::PATCH,
            &format!("/api/appointments/{d}/"),
            Some(&json!({"status": "cancelled"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let s = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>();
    for (query, expected) in [
        (format!("date={}", day(0)), s(&[a, b])),
        (format!("date=ge{}", day(1)), s(&[c, d])),
        (
            format!("date=ge{}&date=lt{}", day(0), day(2)),
            s(&[a, b, c]),
        ),
        (
            "date=ge2030-01-14T09:30:00%2B01:00&date=lt2030-01-15".to_owned(),
            s(&[b]),
        ),
        (format!("practitioner=Practitioner/{anna}"), s(&[a, c, d])),
        (format!("practitioner={bert}"), s(&[b])),
        ("patient=Patient/2".to_owned(), s(&[b, c])),
        (
            format!("patient=Patient/2&practitioner=Practitioner/{anna}"),
            s(&[c]),
        ),
        (
            format!("practitioner=Practitioner/{anna}&status=cancelled"),
            s(&[d]),
        ),
        (
            format!("practitioner=Practitioner/{anna}&status=booked,fulfilled"),
            s(&[a, c]),
        ),
        (format!("_id={c}"), s(&[c])),
        (format!("date={}&_count=1", day(0)), s(&[a])),
    ] {
        let res = get(&admin, &format!("/fhir/Appointment?{query}")).await;
        assert_eq!(ids(&res), expected, "{query}");
    }
    let audit = app
        .store()
        .audit_log(Some("appointment_list"), 1)
        .await
        .unwrap();
    let meta = audit[0].meta.clone().unwrap();
    assert_eq!(meta["api"], "fhir");
    assert_eq!(meta["appointment_ids"], json!([a]));
    let stored = meta.to_string();
    assert!(
        !stored.contains("Patient1") && !stored.contains("Patient2"),
        "{stored}"
    );
    let res = get(&admin, &format!("/fhir/Appointment/{a}")).await;
    assert_eq!(res.body["participant"][0]["actor"]["display"], "P Patient1");
    let audit = app
        .store()
        .audit_log(Some("appointment_view"), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].patient_id, Some(1));
    assert!(
        !audit[0]
            .meta
            .clone()
            .unwrap()
            .to_string()
            .contains("Patient1")
    );
    app.stop().await;
}

#[tokio::test]
async fn billing_only_reads_and_doctors_only_see_and_book_their_own() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    let own = practice
        .book(&admin, &practice.booking(anna, 1, (0, 9, 0), (0, 9, 30)))
        .await;
    let other = practice
        .book(&admin, &practice.booking(bert, 2, (0, 9, 0), (0, 9, 30)))
        .await;

    // Billing reads everything, writes nothing.
    let billing = app.as_role(Role::Billing).await;
    let res = get(&billing, &format!("/fhir/Appointment?date={}", day(0))).await;
    assert_eq!(entries(&res).len(), 2);
    let res = get(&billing, &format!("/fhir/Appointment/{other}")).await;
    assert_eq!(res.status, 200);
    let res = get(&billing, &slot_search(anna, 0)).await;
    assert_eq!(res.status, 200);
    let slot = first_free_slot(&billing, anna, 1).await;
    let slot_id = slot["id"].as_str().unwrap().to_owned();
    let res = post(&billing, "/fhir/Appointment", &slot_booking(&slot_id, 3)).await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(issue(&res)["code"], "forbidden");
    let res = patch(
        &billing,
        &format!("/fhir/Appointment/{own}"),
        &json!([{"op": "replace", "path": "/status", "value": "cancelled"}]),
    )
    .await;
    assert_eq!(res.status, 403, "{}", res.text);

    // A doctor: own appointments only (the list is filtered, another's is 403), own slots only.
    let doctor = app.as_user(&practice.doctor);
    let res = get(&doctor, &format!("/fhir/Appointment?date={}", day(0))).await;
    assert_eq!(ids(&res), [own.to_string()]);
    let res = get(
        &doctor,
        &format!("/fhir/Appointment?practitioner=Practitioner/{bert}"),
    )
    .await;
    assert!(entries(&res).is_empty());
    let res = get(&doctor, &format!("/fhir/Appointment/{other}")).await;
    assert_eq!(res.status, 403, "{}", res.text);
    let res = get(&doctor, &format!("/fhir/Appointment/{own}")).await;
    assert_eq!(res.status, 200);
    let res = get(&doctor, &slot_search(bert, 1)).await;
    assert_eq!(res.status, 403, "{}", res.text);
    let bert_slot = format!("{bert}-203001150800-203001150815");
    let res = post(&doctor, "/fhir/Appointment", &slot_booking(&bert_slot, 3)).await;
    assert_eq!(res.status, 403, "{}", res.text);
    let res = patch(
        &doctor,
        &format!("/fhir/Appointment/{other}"),
        &json!([{"op": "replace", "path": "/status", "value": "cancelled"}]),
    )
    .await;
    assert_eq!(res.status, 403, "{}", res.text);
    let own_slot = first_free_slot(&doctor, anna, 1).await;
    let res = post(
        &doctor,
        "/fhir/Appointment",
        &slot_booking(own_slot["id"].as_str().unwrap(), 3),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let res = patch(
        &doctor,
        &format!("/fhir/Appointment/{own}"),
        &json!([{"op": "replace", "path": "/status", "value": "cancelled"}]),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    // Patients, practitioners, rooms and devices are readable for every role.
    for path in [
        "/fhir/Patient/1",
        "/fhir/Practitioner",
        "/fhir/Location",
        "/fhir/Device",
    ] {
        assert_eq!(get(&doctor, path).await.status, 200, "{path}");
        assert_eq!(get(&billing, path).await.status, 200, "{path}");
    }
    app.stop().await;
}
