//! Every operation of `/api/`: method, path, tag, summary, parameters, body and the statuses it
//! answers. One row per operation, in the order of `api::router()`; the shapes are the
//! components of `schemas.rs`.

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, Paths, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{
    ContentBuilder, KnownFormat, PathItem, Ref, RefOr, Required, ResponseBuilder, ResponsesBuilder,
};

use super::ERROR_RESPONSES;

/// What a successful answer carries.
enum Answer {
    /// A JSON body of this component schema.
    Json(&'static str),
    /// A JSON array of this component schema.
    List(&'static str),
    /// The pagination envelope around this component schema.
    Page(&'static str),
    /// A JSON object or array the schema does not detail (screen-shaped reads).
    Object(&'static str),
    Array(&'static str),
    /// No body (204).
    Empty,
    /// Other media types (HTML page, event stream, script, stylesheet).
    Media(&'static [&'static str]),
}

/// One documented operation.
struct Op {
    method: HttpMethod,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    public: bool,
    params: Vec<(&'static str, Type, Option<KnownFormat>, &'static str)>,
    body: Option<&'static str>,
    success: u16,
    answer: Answer,
    errors: Vec<u16>,
}

impl Op {
    fn new(method: HttpMethod, path: &'static str, tag: &'static str, summary: &'static str) -> Op {
        let writes = !matches!(method, HttpMethod::Get);
        let delete = matches!(method, HttpMethod::Delete);
        let mut errors = vec![400, 401, 403, 503];
        if path.contains("{id}") {
            errors.push(404);
        }
        if writes {
            errors.extend([405, 413, 415]);
        }
        Op {
            method,
            path,
            tag,
            summary,
            public: false,
            params: Vec::new(),
            body: None,
            success: if delete { 204 } else { 200 },
            answer: if delete {
                Answer::Empty
            } else {
                Answer::Object("")
            },
            errors,
        }
    }

    /// No authentication (login, refresh, logout, health, the schema itself).
    fn public(mut self) -> Op {
        self.public = true;
        self.errors
            .retain(|status| !matches!(status, 401 | 403 | 405));
        self
    }

    fn answer(mut self, success: u16, answer: Answer) -> Op {
        self.success = success;
        self.answer = answer;
        self
    }

    fn body(mut self, schema: &'static str) -> Op {
        self.body = Some(schema);
        self
    }

    fn query(mut self, name: &'static str, kind: Type, description: &'static str) -> Op {
        self.params.push((name, kind, None, description));
        self
    }

    fn date(mut self, name: &'static str, description: &'static str) -> Op {
        self.params
            .push((name, Type::String, Some(KnownFormat::Date), description));
        self
    }

    fn paginated(self) -> Op {
        self.query("page", Type::String, "1-based page number or `last`")
            .query("page_size", Type::Integer, "1..500, default 50")
            .also(&[404])
    }

    fn also(mut self, statuses: &[u16]) -> Op {
        for status in statuses {
            if !self.errors.contains(status) {
                self.errors.push(*status);
            }
        }
        self
    }

    /// The method as an HTTP method name.
    fn method_name(&self) -> &'static str {
        match self.method {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Trace => "TRACE",
        }
    }
}

fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn page_of(item: &str) -> RefOr<Schema> {
    let nullable_url = ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .build();
    ObjectBuilder::new()
        .description(Some("DRF pagination envelope (`PageEnvelope`)"))
        .property("count", ObjectBuilder::new().schema_type(Type::Integer))
        .property("next", nullable_url.clone())
        .property("previous", nullable_url)
        .property("results", ArrayBuilder::new().items(schema_ref(item)))
        .required("count")
        .required("next")
        .required("previous")
        .required("results")
        .into()
}

fn answer_content(answer: &Answer) -> Option<(&'static [&'static str], RefOr<Schema>, String)> {
    let json: &'static [&'static str] = &["application/json"];
    match answer {
        Answer::Json(name) => Some((json, schema_ref(name), format!("`{name}`"))),
        Answer::List(name) => Some((
            json,
            ArrayBuilder::new().items(schema_ref(name)).into(),
            format!("A list of `{name}`"),
        )),
        Answer::Page(name) => Some((json, page_of(name), format!("A page of `{name}`"))),
        Answer::Object(description) => Some((
            json,
            ObjectBuilder::new().schema_type(Type::Object).into(),
            if description.is_empty() {
                "A JSON object".to_owned()
            } else {
                (*description).to_owned()
            },
        )),
        Answer::Array(description) => {
            Some((json, ArrayBuilder::new().into(), (*description).to_owned()))
        }
        Answer::Media(media) => Some((
            media,
            ObjectBuilder::new().schema_type(Type::String).into(),
            format!("`{}`", media.join("`, `")),
        )),
        Answer::Empty => None,
    }
}

/// The `Paths` object of the document.
pub(super) fn paths() -> Paths {
    let mut builder = PathsBuilder::new();
    for op in documented_operations() {
        let mut operation = OperationBuilder::new()
            .tag(op.tag)
            .summary(Some(op.summary))
            .operation_id(Some(format!(
                "{}_{}",
                op.method_name().to_ascii_lowercase(),
                op.path
                    .trim_matches('/')
                    .replace(['/', '-'], "_")
                    .replace(['{', '}'], "")
            )));
        if op.path.contains("{id}") {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(1)),
                    )),
            );
        }
        if op.path.contains("{board}") {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name("board")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(["op-board", "patient-flow", "resource-calendar"])),
                    )),
            );
        }
        if op.path.contains("{date}") {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name("date")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some("a local date, YYYY-MM-DD"))
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
                    )),
            );
        }
        if op.path.contains("{file}") {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name("file")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some([
                                "swagger-ui-bundle.js",
                                "swagger-ui.css",
                                "api-docs.js",
                            ])),
                    )),
            );
        }
        for (name, kind, format, description) in &op.params {
            let mut schema = ObjectBuilder::new().schema_type(kind.clone());
            if let Some(format) = format {
                schema = schema.format(Some(SchemaFormat::KnownFormat(format.clone())));
            }
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(*description))
                    .schema(Some(schema)),
            );
        }
        if let Some(body) = op.body {
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema_ref(body))).build(),
                    )
                    .build(),
            ));
        }
        let mut responses = ResponsesBuilder::new();
        let mut success = ResponseBuilder::new();
        match answer_content(&op.answer) {
            Some((media, schema, description)) => {
                success = success.description(description);
                for media in media {
                    success = success.content(
                        *media,
                        ContentBuilder::new().schema(Some(schema.clone())).build(),
                    );
                }
            }
            None => success = success.description("No content"),
        }
        responses = responses.response(op.success.to_string(), success.build());
        let mut errors = op.errors.clone();
        errors.sort_unstable();
        for status in errors {
            if let Some((_, name, _)) = ERROR_RESPONSES.iter().find(|(code, ..)| *code == status) {
                responses = responses.response(
                    status.to_string(),
                    RefOr::Ref(Ref::from_response_name(*name)),
                );
            }
        }
        operation = operation.responses(responses.build());
        if op.public {
            operation = operation.securities(Some(Vec::new()));
        }
        builder = builder.path(op.path, PathItem::new(op.method.clone(), operation.build()));
    }
    builder.build()
}

use HttpMethod::{Delete, Get, Patch, Post, Put};

/// The five operations of a master-data table (list, create, read, replace, change, delete).
fn master_data(
    ops: &mut Vec<Op>,
    collection: &'static str,
    item: &'static str,
    tag: &'static str,
    read: &'static str,
    write: &'static str,
) {
    ops.push(
        Op::new(Get, collection, tag, "List (paginated)")
            .paginated()
            .query(
                "active",
                Type::String,
                "`true`/`false` where the table has it",
            )
            .answer(200, Answer::Page(read)),
    );
    ops.push(
        Op::new(Post, collection, tag, "Create")
            .body(write)
            .answer(201, Answer::Json(read)),
    );
    ops.push(Op::new(Get, item, tag, "Read one").answer(200, Answer::Json(read)));
    ops.push(
        Op::new(Put, item, tag, "Replace")
            .body(write)
            .answer(200, Answer::Json(read)),
    );
    ops.push(
        Op::new(Patch, item, tag, "Change some fields")
            .body(write)
            .answer(200, Answer::Json(read)),
    );
    ops.push(Op::new(Delete, item, tag, "Delete").also(&[409]));
}

/// Every documented operation.
fn documented_operations() -> Vec<Op> {
    let mut ops = vec![
        // -- meta
        Op::new(Get, "/api/schema/", "meta", "This OpenAPI 3.1 document")
            .public()
            .answer(200, Answer::Object("The OpenAPI document")),
        Op::new(Get, "/api/docs/", "meta", "API viewer (Swagger UI)")
            .public()
            .answer(200, Answer::Media(&["text/html"])),
        Op::new(Get, "/api/docs/{file}", "meta", "The viewer's files")
            .public()
            .also(&[404])
            .answer(200, Answer::Media(&["text/javascript", "text/css"])),
        Op::new(Get, "/api/health/", "meta", "Liveness and database check")
            .public()
            .answer(200, Answer::Json("Health")),
        Op::new(Get, "/health/", "meta", "Liveness and database check")
            .public()
            .answer(200, Answer::Json("Health")),
        Op::new(
            Get,
            "/api/events/{board}/",
            "events",
            "Server-Sent Events of a live board",
        )
        .also(&[404])
        .answer(200, Answer::Media(&["text/event-stream"])),
        // -- auth
        Op::new(
            Post,
            "/api/auth/login/",
            "auth",
            "Log in: access and refresh token (or, with two-factor login, an `MfaChallenge`)",
        )
        .public()
        .body("LoginRequest")
        .also(&[429])
        .answer(200, Answer::Json("LoginResponse")),
        Op::new(
            Post,
            "/api/auth/login/mfa/",
            "auth",
            "Second login step: `mfa_token` with a TOTP code or a recovery code",
        )
        .public()
        .body("MfaLoginRequest")
        .also(&[429])
        .answer(200, Answer::Json("MfaLoginResponse")),
        Op::new(
            Post,
            "/api/auth/login/mfa/enrol/",
            "auth",
            "Start the enrolment a role requires, with the enrolment `mfa_token`",
        )
        .public()
        .body("MfaEnrolRequest")
        .also(&[409])
        .answer(200, Answer::Json("TotpEnrolment")),
        Op::new(Post, "/api/auth/refresh/", "auth", "New access token")
            .public()
            .body("RefreshRequest")
            .answer(200, Answer::Json("RefreshResponse")),
        Op::new(
            Post,
            "/api/auth/logout/",
            "auth",
            "Revoke the login's tokens",
        )
        .public()
        .body("RefreshRequest")
        .answer(204, Answer::Empty),
        Op::new(Get, "/api/auth/me/", "auth", "The caller").answer(200, Answer::Json("Me")),
        Op::new(
            Get,
            "/api/auth/totp/",
            "auth",
            "The caller's two-factor state",
        )
        .answer(200, Answer::Json("TotpStatus")),
        Op::new(
            Post,
            "/api/auth/totp/enrol/",
            "auth",
            "Start (or restart) a TOTP enrolment: secret, otpauth URI, QR code",
        )
        .also(&[409])
        .answer(200, Answer::Json("TotpEnrolment")),
        Op::new(
            Post,
            "/api/auth/totp/confirm/",
            "auth",
            "Confirm the enrolment with a code: enabled, recovery codes (shown once)",
        )
        .body("TotpConfirm")
        .answer(200, Answer::Json("TotpConfirmed")),
        Op::new(
            Post,
            "/api/auth/totp/disable/",
            "auth",
            "Disable two-factor login (password and a code)",
        )
        .body("TotpDisable")
        .also(&[429])
        .answer(200, Answer::Object("`{\"enabled\": false}`")),
        Op::new(
            Get,
            "/api/auth/mfa-policy/",
            "auth",
            "Roles that require two-factor login (admin)",
        )
        .answer(200, Answer::Json("MfaPolicy")),
        Op::new(
            Put,
            "/api/auth/mfa-policy/",
            "auth",
            "Set the roles that require two-factor login (admin)",
        )
        .body("MfaPolicy")
        .answer(200, Answer::Json("MfaPolicy")),
        // -- patients
        Op::new(
            Get,
            "/api/patients/",
            "patients",
            "List patients (paginated)",
        )
        .paginated()
        .answer(200, Answer::Page("Patient")),
        Op::new(Post, "/api/patients/", "patients", "Create a patient")
            .body("PatientWrite")
            .answer(201, Answer::Json("Patient")),
        Op::new(Get, "/api/patients/search/", "patients", "Search by name")
            .query("q", Type::String, "At least two characters")
            .answer(200, Answer::Array("Matching patients")),
        Op::new(Get, "/api/patients/{id}/", "patients", "Read a patient")
            .answer(200, Answer::Json("Patient")),
        Op::new(
            Get,
            "/api/patients/{id}/export/",
            "patients",
            "Everything Praxi holds about the patient (DSGVO Art. 15; admin, assistant)",
        )
        .answer(
            200,
            Answer::Object(
                "Master data, appointments, operations, flows, notes, documents, access log",
            ),
        ),
        Op::new(
            Post,
            "/api/patients/{id}/erase/",
            "patients",
            "Erase the patient's personal data (DSGVO Art. 17; admin)",
        )
        .body("PatientErasureRequest")
        .also(&[409])
        .answer(200, Answer::Json("PatientErasure")),
        Op::new(Put, "/api/patients/{id}/", "patients", "Replace a patient")
            .body("PatientWrite")
            .answer(200, Answer::Json("PatientWrite")),
        Op::new(Patch, "/api/patients/{id}/", "patients", "Change a patient")
            .body("PatientWrite")
            .answer(200, Answer::Json("PatientWrite")),
        // DELETE /api/patients/{id}/ is routed only to refuse (405, as the original): patients
        // are never deleted, so the operation is not documented.
        // -- patient flow
        Op::new(Get, "/api/patient-flow/", "patient-flow", "List flows")
            .query("status", Type::String, "Filter by status")
            .answer(200, Answer::List("PatientFlow")),
        Op::new(Post, "/api/patient-flow/", "patient-flow", "Start a flow")
            .body("PatientFlowWrite")
            .answer(201, Answer::Json("PatientFlow")),
        Op::new(
            Get,
            "/api/patient-flow/live/",
            "patient-flow",
            "Today's live flows",
        )
        .date("date", "Day (default today)")
        .answer(200, Answer::List("PatientFlow")),
        Op::new(
            Get,
            "/api/patient-flow/{id}/",
            "patient-flow",
            "Read a flow",
        )
        .answer(200, Answer::Json("PatientFlow")),
        Op::new(
            Put,
            "/api/patient-flow/{id}/",
            "patient-flow",
            "Replace a flow",
        )
        .body("PatientFlowWrite")
        .answer(
            200,
            Answer::Object("The write shape `{status, arrival_time, notes}`"),
        ),
        Op::new(
            Patch,
            "/api/patient-flow/{id}/",
            "patient-flow",
            "Change a flow",
        )
        .body("PatientFlowWrite")
        .answer(
            200,
            Answer::Object("The write shape `{status, arrival_time, notes}`"),
        ),
        Op::new(
            Delete,
            "/api/patient-flow/{id}/",
            "patient-flow",
            "Delete a flow",
        ),
        Op::new(
            Patch,
            "/api/patient-flow/{id}/status/",
            "patient-flow",
            "Move a flow one step",
        )
        .body("StatusChange")
        .answer(200, Answer::Json("PatientFlow")),
        // -- appointments
        Op::new(
            Get,
            "/api/appointments/",
            "appointments",
            "List appointments",
        )
        .date("date", "One day")
        .date("start_date", "Range start")
        .date("end_date", "Range end")
        .query("doctor_id", Type::Integer, "Filter by doctor")
        .query("patient_id", Type::Integer, "Filter by patient")
        .answer(200, Answer::List("Appointment")),
        Op::new(
            Post,
            "/api/appointments/",
            "appointments",
            "Book an appointment",
        )
        .body("AppointmentWrite")
        .answer(201, Answer::Object("The created appointment")),
        Op::new(
            Get,
            "/api/appointments/suggest/",
            "appointments",
            "Free slots for a doctor",
        )
        .query("doctor_id", Type::Integer, "The doctor (required)")
        .query("type_id", Type::Integer, "Appointment type (its duration)")
        .query("duration_minutes", Type::Integer, "Slot length")
        .date("start_date", "First day")
        .query("limit", Type::Integer, "How many slots")
        .query("resource_ids", Type::String, "Comma-separated resource ids")
        .answer(200, Answer::Object("Suggested slots")),
        Op::new(
            Get,
            "/api/appointments/{id}/",
            "appointments",
            "Read an appointment",
        )
        .answer(200, Answer::Json("Appointment")),
        Op::new(
            Put,
            "/api/appointments/{id}/",
            "appointments",
            "Replace an appointment (`If-Match` optional)",
        )
        .body("AppointmentWrite")
        .also(&[412])
        .answer(200, Answer::Object("The changed appointment")),
        Op::new(
            Patch,
            "/api/appointments/{id}/",
            "appointments",
            "Change an appointment (`If-Match` optional)",
        )
        .body("AppointmentWrite")
        .also(&[412])
        .answer(200, Answer::Object("The changed appointment")),
        Op::new(
            Delete,
            "/api/appointments/{id}/",
            "appointments",
            "Delete an appointment",
        ),
        Op::new(
            Post,
            "/api/appointments/{id}/mark-no-show/",
            "appointments",
            "Mark a past appointment as no-show",
        )
        .answer(200, Answer::Json("Appointment")),
    ];
    master_data(
        &mut ops,
        "/api/appointment-types/",
        "/api/appointment-types/{id}/",
        "appointment-types",
        "AppointmentType",
        "AppointmentTypeWrite",
    );
    ops.extend([
        // -- calendar
        Op::new(Get, "/api/calendar/day/", "calendar", "Day view")
            .date("date", "The day")
            .answer(200, Answer::Object("The day's appointments and operations")),
        Op::new(Get, "/api/calendar/week/", "calendar", "Week view")
            .date("date", "A day of the week")
            .answer(
                200,
                Answer::Object("The week's appointments and operations"),
            ),
        Op::new(Get, "/api/calendar/month/", "calendar", "Month view")
            .date("date", "A day of the month")
            .answer(
                200,
                Answer::Object("The month's appointments and operations"),
            ),
        Op::new(
            Get,
            "/api/availability/",
            "calendar",
            "Available doctors and rooms",
        )
        .answer(200, Answer::Object("Available doctors and rooms")),
    ]);
    master_data(
        &mut ops,
        "/api/operation-types/",
        "/api/operation-types/{id}/",
        "operation-types",
        "OperationType",
        "OperationTypeWrite",
    );
    ops.extend([
        // -- operations
        Op::new(Get, "/api/operations/", "operations", "List operations")
            .date("date", "One day")
            .date("start_date", "Range start")
            .date("end_date", "Range end")
            .answer(200, Answer::List("Operation")),
        Op::new(Post, "/api/operations/", "operations", "Book an operation")
            .body("OperationWrite")
            .answer(201, Answer::Object("The created operation")),
        Op::new(
            Get,
            "/api/operations/suggest/",
            "operations",
            "Free slots for an operation",
        )
        .query("primary_surgeon_id", Type::Integer, "Surgeon (required)")
        .query("op_type_id", Type::Integer, "Operation type (required)")
        .query("op_room_id", Type::Integer, "Room (required)")
        .date("start_date", "First day")
        .query("limit", Type::Integer, "How many slots")
        .answer(200, Answer::Object("Suggested slots")),
        Op::new(
            Get,
            "/api/operations/{id}/",
            "operations",
            "Read an operation",
        )
        .answer(200, Answer::Json("Operation")),
        Op::new(
            Put,
            "/api/operations/{id}/",
            "operations",
            "Replace an operation",
        )
        .body("OperationWrite")
        .also(&[412])
        .answer(200, Answer::Object("The changed operation")),
        Op::new(
            Patch,
            "/api/operations/{id}/",
            "operations",
            "Change an operation",
        )
        .body("OperationWrite")
        .also(&[412])
        .answer(200, Answer::Object("The changed operation")),
        Op::new(
            Delete,
            "/api/operations/{id}/",
            "operations",
            "Delete an operation",
        ),
        // -- OP boards and statistics
        Op::new(
            Get,
            "/api/op-dashboard/",
            "op-board",
            "The day's operations",
        )
        .date("date", "The day (default today)")
        .answer(200, Answer::Object("OP board")),
        Op::new(
            Get,
            "/api/op-dashboard/live/",
            "op-board",
            "Running and next operations",
        )
        .answer(200, Answer::Object("Live OP board")),
        Op::new(
            Patch,
            "/api/op-dashboard/{id}/status/",
            "op-board",
            "Change an operation's status",
        )
        .body("StatusChange")
        .answer(200, Answer::Object("The changed operation")),
        Op::new(Get, "/api/op-timeline/", "op-board", "Timeline per room")
            .date("date", "The day")
            .answer(200, Answer::Array("One entry per room")),
        Op::new(
            Get,
            "/api/op-timeline/rooms/",
            "op-board",
            "Operation rooms",
        )
        .answer(200, Answer::Array("Rooms")),
        Op::new(Get, "/api/op-timeline/live/", "op-board", "Live timeline")
            .answer(200, Answer::Array("One entry per room")),
        Op::new(
            Get,
            "/api/op-stats/overview/",
            "statistics",
            "Operation figures",
        )
        .date("from", "Range start")
        .date("to", "Range end")
        .answer(200, Answer::Object("Figures")),
        Op::new(Get, "/api/op-stats/surgeons/", "statistics", "Per surgeon")
            .date("from", "Range start")
            .date("to", "Range end")
            .answer(200, Answer::Object("Per surgeon, with the range")),
        Op::new(Get, "/api/op-stats/rooms/", "statistics", "Per room")
            .date("from", "Range start")
            .date("to", "Range end")
            .answer(200, Answer::Object("Per room, with the range")),
        Op::new(Get, "/api/op-stats/devices/", "statistics", "Per device")
            .date("from", "Range start")
            .date("to", "Range end")
            .answer(200, Answer::Object("Per device, with the range")),
        Op::new(
            Get,
            "/api/op-stats/types/",
            "statistics",
            "Per operation type",
        )
        .date("from", "Range start")
        .date("to", "Range end")
        .answer(200, Answer::Object("Per operation type, with the range")),
        Op::new(
            Get,
            "/api/kpis/scheduling/",
            "statistics",
            "Scheduling KPIs",
        )
        .date("from", "Range start")
        .date("to", "Range end")
        .answer(200, Answer::Object("KPIs")),
        Op::new(Get, "/api/kpis/operations/", "statistics", "Operation KPIs")
            .date("from", "Range start")
            .date("to", "Range end")
            .answer(200, Answer::Object("KPIs")),
    ]);
    master_data(
        &mut ops,
        "/api/resources/",
        "/api/resources/{id}/",
        "resources",
        "Resource",
        "ResourceWrite",
    );
    ops.extend([
        Op::new(
            Get,
            "/api/resource-calendar/",
            "resources",
            "Bookings per resource",
        )
        .date("date", "First day")
        .query("days", Type::Integer, "Number of days")
        .query("resource_ids", Type::String, "Comma-separated resource ids")
        .answer(
            200,
            Answer::Array("One column per resource: `{resource, bookings}`"),
        ),
        Op::new(
            Get,
            "/api/resource-calendar/resources/",
            "resources",
            "Resources of the resource calendar",
        )
        .answer(200, Answer::Array("Resources")),
    ]);
    master_data(
        &mut ops,
        "/api/practice-hours/",
        "/api/practice-hours/{id}/",
        "hours",
        "PracticeHours",
        "HoursWrite",
    );
    master_data(
        &mut ops,
        "/api/doctor-hours/",
        "/api/doctor-hours/{id}/",
        "hours",
        "DoctorHours",
        "HoursWrite",
    );
    master_data(
        &mut ops,
        "/api/doctor-breaks/",
        "/api/doctor-breaks/{id}/",
        "hours",
        "DoctorBreak",
        "DoctorBreakWrite",
    );
    master_data(
        &mut ops,
        "/api/doctor-absences/",
        "/api/doctor-absences/{id}/",
        "hours",
        "DoctorAbsence",
        "DoctorAbsenceWrite",
    );
    ops.extend([
        Op::new(
            Get,
            "/api/doctor-absences/preview/",
            "hours",
            "Workdays, return date and affected bookings of a planned absence",
        )
        .query("doctor_id", Type::Integer, "The doctor")
        .date("start_date", "First day")
        .date("end_date", "Last day")
        .query("exclude_id", Type::Integer, "The absence being edited")
        .answer(200, Answer::Json("AbsencePreview")),
        // -- people
        Op::new(Get, "/api/doctors/", "people", "Doctors")
            .query("q", Type::String, "Name filter")
            .answer(200, Answer::List("Doctor")),
        Op::new(
            Get,
            "/api/appointments/doctors/",
            "people",
            "Doctors (alias)",
        )
        .query("q", Type::String, "Name filter")
        .answer(200, Answer::List("Doctor")),
        Op::new(Get, "/api/users/", "users", "List users (admin, paginated)")
            .paginated()
            .query("q", Type::String, "Name filter")
            .query("role", Type::String, "Role filter")
            .query("is_active", Type::String, "`true`/`false`")
            .answer(200, Answer::Page("User")),
        Op::new(Post, "/api/users/", "users", "Create a user (admin)")
            .body("UserWrite")
            .answer(201, Answer::Json("User")),
        Op::new(Get, "/api/users/{id}/", "users", "Read a user (admin)")
            .answer(200, Answer::Json("User")),
        Op::new(Patch, "/api/users/{id}/", "users", "Change a user (admin)")
            .body("UserWrite")
            .answer(200, Answer::Json("User")),
        Op::new(
            Post,
            "/api/users/{id}/deactivate/",
            "users",
            "Deactivate a user",
        )
        .answer(200, Answer::Json("User")),
        Op::new(
            Post,
            "/api/users/{id}/activate/",
            "users",
            "Activate a user",
        )
        .answer(200, Answer::Json("User")),
        Op::new(
            Post,
            "/api/users/{id}/set-password/",
            "users",
            "Set a user's password",
        )
        .body("SetPassword")
        .answer(200, Answer::Object("Confirmation")),
        // -- calendar feeds
        Op::new(
            Get,
            "/api/calendar-feeds/",
            "calendar-feeds",
            "List iCal feeds (admin)",
        )
        .answer(200, Answer::List("CalendarFeed")),
        Op::new(
            Post,
            "/api/calendar-feeds/",
            "calendar-feeds",
            "Create an iCal feed; the answer holds its secret URL (shown once)",
        )
        .body("CalendarFeedCreate")
        .answer(201, Answer::Json("CalendarFeed")),
        Op::new(
            Delete,
            "/api/calendar-feeds/{id}/",
            "calendar-feeds",
            "Revoke an iCal feed",
        ),
        // -- audit
        Op::new(
            Get,
            "/api/audit/accesses/",
            "audit",
            "Who accessed a patient / what a user accessed (admin, paginated; audited)",
        )
        .paginated()
        .query(
            "patient_id",
            Type::Integer,
            "Rows that showed or touched this patient",
        )
        .query(
            "user_id",
            Type::Integer,
            "Rows of this user (patient_id or user_id is required)",
        )
        .query(
            "from",
            Type::String,
            "Start: a local date or an ISO datetime",
        )
        .query(
            "to",
            Type::String,
            "End: a local date (inclusive) or an ISO datetime (exclusive)",
        )
        .query(
            "format",
            Type::String,
            "`json` (default) or `csv` (every matching row as text/csv)",
        )
        .answer(200, Answer::Page("AuditAccess")),
        Op::new(
            Post,
            "/api/appointments/holds/",
            "appointments",
            "Hold a slot for a booking in progress (time-to-live, checked like a booking)",
        )
        .body("SlotHoldCreate")
        .answer(201, Answer::Json("SlotHold")),
        Op::new(
            Delete,
            "/api/appointments/holds/{id}/",
            "appointments",
            "Release a slot hold",
        ),
        Op::new(
            Get,
            "/api/holidays/",
            "holidays",
            "The practice's region and the holidays and overrides of a range (`year`, or `from`/`to`)",
        )
        .query("year", Type::Integer, "a calendar year (default: this year)")
        .date("from", "first date of the range")
        .date("to", "last date of the range (at most 366 days)")
        .answer(200, Answer::Json("HolidayCalendar")),
        Op::new(
            Put,
            "/api/holidays/region/",
            "holidays",
            "Choose the practice's holiday region (`DE`, a state code, or null)",
        )
        .body("HolidayRegionUpdate")
        .answer(200, Answer::Json("HolidayRegionUpdate")),
        Op::new(
            Put,
            "/api/holidays/overrides/{date}/",
            "holidays",
            "Open a holiday or close any other date (per-date override)",
        )
        .body("HolidayOverride")
        .answer(200, Answer::Json("HolidayOverride"))
        .also(&[404]),
        Op::new(
            Delete,
            "/api/holidays/overrides/{date}/",
            "holidays",
            "Remove a per-date override",
        )
        .also(&[404]),
        // -- reminders (issue #14)
        Op::new(
            Get,
            "/api/reminders/",
            "reminders",
            "List appointment reminders (outbox, newest first; admin and assistant)",
        )
        .query(
            "status",
            Type::String,
            "queued, sending, sent, failed or cancelled",
        )
        .query(
            "appointment_id",
            Type::Integer,
            "Reminders of one appointment",
        )
        .query("patient_id", Type::Integer, "Reminders of one patient")
        .answer(200, Answer::List("Reminder")),
        Op::new(
            Post,
            "/api/reminders/{id}/retry/",
            "reminders",
            "Queue a failed reminder again (due now, fresh attempts)",
        )
        .answer(200, Answer::Json("Reminder")),
        Op::new(
            Get,
            "/api/patients/{id}/reminders/",
            "reminders",
            "Read a patient's reminder opt-out",
        )
        .answer(200, Answer::Json("ReminderSettings")),
        Op::new(
            Put,
            "/api/patients/{id}/reminders/",
            "reminders",
            "Set a patient's reminder opt-out",
        )
        .body("ReminderSettings")
        .answer(200, Answer::Json("ReminderSettings")),
        Op::new(
            Patch,
            "/api/patients/{id}/reminders/",
            "reminders",
            "Set a patient's reminder opt-out",
        )
        .body("ReminderSettings")
        .answer(200, Answer::Json("ReminderSettings")),
    ]);
    ops
}
