//! The OpenAPI 3.1 description of `/api/`, built from code with utoipa: the JSON shapes are
//! `ToSchema` types (`schemas.rs`), the operations one table (`paths.rs`: method, path,
//! parameters, body, every status an operation answers). Served at `GET /api/schema/`
//! (public: it describes the API, it holds no data), with a vendored Swagger UI at
//! `/api/docs/` that runs under the web UI's strict CSP (its start script is a file, not
//! inline).
//!
//! `tests/api/openapi.rs` keeps the table honest: every route of the router is documented,
//! every documented operation is routed; `.ci/schemathesis.sh` checks the answers.

mod paths;
mod schemas;

use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApiVersion, Ref, RefOr, ResponseBuilder,
};

use crate::state::AppState;
use crate::web::csp;

/// The schema and the viewer.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/schema/", get(schema))
        .route("/api/docs/", get(viewer))
        .route("/api/docs/{file}", get(viewer_asset))
}

#[derive(OpenApi)]
#[openapi(components(schemas(
    schemas::Detail,
    schemas::Conflict,
    schemas::SchedulingConflict,
    schemas::DoctorUnavailable,
    schemas::PageEnvelope,
    schemas::Health,
    schemas::LoginRequest,
    schemas::RefreshRequest,
    schemas::RoleRef,
    schemas::LoginUser,
    schemas::LoginResponse,
    schemas::RefreshResponse,
    schemas::Me,
    schemas::User,
    schemas::UserWrite,
    schemas::SetPassword,
    schemas::Patient,
    schemas::PatientWrite,
    schemas::AppointmentType,
    schemas::AppointmentTypeWrite,
    schemas::OperationType,
    schemas::OperationTypeWrite,
    schemas::Resource,
    schemas::ResourceWrite,
    schemas::PracticeHours,
    schemas::DoctorHours,
    schemas::HoursWrite,
    schemas::DoctorBreak,
    schemas::DoctorBreakWrite,
    schemas::DoctorAbsence,
    schemas::DoctorAbsenceWrite,
    schemas::AbsencePreview,
    schemas::Doctor,
    schemas::Appointment,
    schemas::AppointmentWrite,
    schemas::Operation,
    schemas::OperationWrite,
    schemas::StatusChange,
    schemas::PatientFlow,
    schemas::PatientFlowWrite,
    schemas::CalendarFeed,
    schemas::CalendarFeedCreate,
    schemas::AuditAccess,
    schemas::MfaChallenge,
    schemas::MfaLoginRequest,
    schemas::MfaLoginResponse,
    schemas::MfaEnrolRequest,
    schemas::TotpEnrolment,
    schemas::TotpStatus,
    schemas::TotpConfirm,
    schemas::TotpConfirmed,
    schemas::TotpDisable,
    schemas::MfaPolicy,
    schemas::PatientErasureRequest,
    schemas::PatientErasure,
    schemas::HolidayDay,
    schemas::HolidayCalendar,
    schemas::HolidayRegionUpdate,
    schemas::HolidayOverride,
    schemas::SlotHoldCreate,
    schemas::SlotHold,
    schemas::Reminder,
    schemas::ReminderSettings,
)))]
struct Components;

/// The error answers every operation refers to: (status, component name, description).
pub(crate) const ERROR_RESPONSES: [(u16, &str, &str); 11] = [
    (
        400,
        "BadRequest",
        "Invalid input: field errors `{\"field\": [\"msg\"]}` (object-level ones under \
         `non_field_errors`), `{\"detail\": ...}`, or a refused booking \
         (`SchedulingConflict`, `DoctorUnavailable`)",
    ),
    (
        401,
        "Unauthorized",
        "No, an invalid or a revoked token (`code`: `token_not_valid`, `user_inactive`, …)",
    ),
    (403, "Forbidden", "The caller's role may not do this"),
    (
        404,
        "NotFound",
        "Unknown or hidden id, or a page number out of range",
    ),
    (
        405,
        "MethodNotAllowed",
        "The role's policy answers this method with 405",
    ),
    (
        409,
        "Conflict",
        "Still referenced by other rows (`code`: `still_referenced`)",
    ),
    (
        412,
        "PreconditionFailed",
        "`If-Match` names an older version",
    ),
    (413, "PayloadTooLarge", "The body is larger than 1 MiB"),
    (
        415,
        "UnsupportedMediaType",
        "The body is not `application/json`",
    ),
    (
        429,
        "Throttled",
        "Too many failed logins; `Retry-After` says when to try again",
    ),
    (
        503,
        "Unavailable",
        "Concurrent changes collided (nothing was changed) or the database is unavailable; retry",
    ),
];

/// The complete document.
pub(crate) fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(build)
}

fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn build() -> utoipa::openapi::OpenApi {
    let mut openapi = Components::openapi();
    openapi.openapi = OpenApiVersion::Version31;
    openapi.info = InfoBuilder::new()
        .title("Praxi API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The REST API of Praxi, wire-compatible with PraxiApp (DRF shapes). \
             Conventions: docs/api.md. Authenticate with `POST /api/auth/login/` and send \
             `Authorization: Bearer <access>`.",
        ))
        .build();
    let mut components = openapi.components.take().unwrap_or_default();
    let field_errors: Schema = ObjectBuilder::new()
        .description(Some(
            "DRF field errors: one key per field, each a list of messages",
        ))
        .additional_properties(Some(
            ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)),
        ))
        .into();
    components
        .schemas
        .insert("FieldErrors".to_owned(), field_errors.into());
    let bad_request: Schema = OneOfBuilder::new()
        .item(schema_ref("Detail"))
        .item(schema_ref("FieldErrors"))
        .item(schema_ref("SchedulingConflict"))
        .item(schema_ref("DoctorUnavailable"))
        .into();
    // `oneOf` would refuse the conflict body (it is also a `Detail`): document it as `anyOf`.
    let bad_request = match bad_request {
        Schema::OneOf(one_of) => {
            let mut any_of = utoipa::openapi::schema::AnyOf::new();
            any_of.items = one_of.items;
            Schema::AnyOf(any_of)
        }
        other => other,
    };
    components
        .schemas
        .insert("BadRequestBody".to_owned(), bad_request.into());
    let mut builder = ComponentsBuilder::from(components);
    for (status, name, description) in ERROR_RESPONSES {
        let body = if status == 400 {
            "BadRequestBody"
        } else {
            "Detail"
        };
        let mut response = ResponseBuilder::new().description(description).content(
            "application/json",
            ContentBuilder::new().schema(Some(schema_ref(body))).build(),
        );
        if status == 429 {
            response = response.header(
                "Retry-After",
                utoipa::openapi::header::HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some("Seconds until the next attempt is accepted"))
                    .build(),
            );
        }
        builder = builder.response(name, response.build());
    }
    builder = builder.security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "The `access` token of `POST /api/auth/login/` (HS256 JWT)",
                ))
                .build(),
        ),
    );
    openapi.components = Some(builder.build());
    openapi.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    openapi.paths = paths::paths();
    openapi
}

async fn schema() -> Response {
    match document().to_json() {
        Ok(json) => {
            let mut response = json.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "rendering the OpenAPI document failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The viewer page: Swagger UI's bundle and CSS plus our start script, all files (no inline
/// script, so the strict CSP of the web UI applies unchanged).
const VIEWER_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Praxi API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec-url="/api/schema/"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/api-docs.js"></script>
</body>
</html>
"#;

async fn viewer() -> Response {
    let mut response = axum::response::Html(VIEWER_HTML).into_response();
    let headers = response.headers_mut();
    // No nonce'd style: Swagger UI styles through its stylesheet and the CSSOM.
    if let Ok(value) = HeaderValue::from_str(&csp(&crate::auth::random_id())) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Swagger UI (swagger-ui-dist, Apache-2.0; `assets/api-docs/LICENSE`), compiled in.
async fn viewer_asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, content_type): (&'static [u8], &'static str) = match file.as_str() {
        "swagger-ui-bundle.js" => (
            include_bytes!("../../../assets/api-docs/swagger-ui-bundle.js"),
            "text/javascript; charset=utf-8",
        ),
        "swagger-ui.css" => (
            include_bytes!("../../../assets/api-docs/swagger-ui.css"),
            "text/css; charset=utf-8",
        ),
        "api-docs.js" => (
            include_bytes!("../../../assets/api-docs/api-docs.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(serde_json::json!({"detail": "Not found."})),
            )
                .into_response();
        }
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
