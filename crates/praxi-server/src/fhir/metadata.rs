//! `GET /fhir/metadata`: the `CapabilityStatement`, listing exactly the interactions and search
//! parameters routed under `/fhir/` (public, like every FHIR server's, so a client can learn
//! how to authenticate).

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::slots::SLOT_MINUTES;
use super::{FHIR_VERSION, base_url, instant, resource_response};
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/metadata", get(capability_statement))
}

/// One search parameter of the statement.
fn param(name: &str, kind: &str, documentation: &str) -> Value {
    json!({"name": name, "type": kind, "documentation": documentation})
}

fn count() -> Value {
    param("_count", "number", "at most this many entries")
}

fn read_search(kind: &str, profile_doc: &str, params: Vec<Value>) -> Value {
    json!({
        "type": kind,
        "documentation": profile_doc,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": params,
    })
}

/// The statement: what `fhir::router` implements, nothing more.
pub(crate) fn statement(base: &str, state: &AppState) -> Value {
    let id = param("_id", "token", "the logical id");
    let name_params = |what: &str| {
        vec![
            id.clone(),
            param(
                "name",
                "string",
                &format!("prefix of the {what}'s first or last name"),
            ),
            param("family", "string", "prefix of the last name"),
            param("given", "string", "prefix of the first name"),
            count(),
        ]
    };
    let resource_params = vec![
        id.clone(),
        param("name", "string", "prefix of the name"),
        param("status", "token", "active | inactive"),
        count(),
    ];
    let mut patient_params = name_params("patient");
    patient_params.insert(
        1,
        param("identifier", "token", "urn:praxi:patient-number|<number>"),
    );
    patient_params.push(param(
        "birthdate",
        "date",
        "birth date (prefixes eq, lt, le, gt, ge)",
    ));
    let appointment = json!({
        "type": "Appointment",
        "documentation": "Bookings. create books through the scheduling engine (201, or 409 \
            with an OperationOutcome naming the conflict); update/patch only cancel \
            (status=cancelled).",
        "interaction": [
            {"code": "read"},
            {"code": "search-type"},
            {"code": "create"},
            {"code": "update", "documentation": "status=cancelled cancels; nothing else changes"},
            {"code": "patch", "documentation": "JSON Patch replacing /status with cancelled"},
        ],
        "versioning": "versioned",
        "conditionalCreate": false,
        "conditionalUpdate": false,
        "conditionalDelete": "not-supported",
        "searchParam": [
            id.clone(),
            param("date", "date", "Appointment.start (prefixes eq, lt, le, gt, ge)"),
            param("practitioner", "reference", "Practitioner/<id>"),
            param("patient", "reference", "Patient/<id>"),
            param("status", "token", "booked | fulfilled | cancelled | noshow (comma = or)"),
            count(),
        ],
    });
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(state.now(), state),
        "publisher": "Praxi",
        "kind": "instance",
        "software": {"name": "Praxi", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "Praxi FHIR R4 endpoint", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {
                "cors": false,
                "description": "OAuth-style bearer tokens: the JWT access token of \
                    POST /api/auth/login/ (Authorization: Bearer <token>). Permissions follow \
                    the practice's roles (billing reads only; doctors see and book only their \
                    own appointments).",
            },
            "resource": [
                read_search("Patient", "Patients (reads are audited)", patient_params),
                read_search("Practitioner", "Doctors", name_params("doctor")),
                read_search("Location", "Rooms", resource_params.clone()),
                read_search("Device", "Devices", resource_params),
                read_search("Schedule", "One per doctor (id = the Practitioner's id)", vec![
                    id.clone(),
                    param("actor", "reference", "Practitioner/<id>"),
                    count(),
                ]),
                read_search("Slot", &format!("Computed {SLOT_MINUTES}-minute slots, never stored; book one (or several in a row) by naming it in Appointment.slot"), vec![
                    param("schedule", "reference", "Schedule/<id> (required)"),
                    param("start", "date", "Slot.start (a lower bound is required; at most 31 days)"),
                    param("status", "token", "free | busy | busy-unavailable"),
                    count(),
                ]),
                appointment,
            ],
        }],
    })
}

async fn capability_statement(State(state): State<AppState>, headers: HeaderMap) -> Response {
    resource_response(&statement(&base_url(&headers), &state))
}
