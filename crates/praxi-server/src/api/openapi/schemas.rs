//! The documented JSON shapes. The handlers render with `json!` (their key order is the
//! original's), so these types exist for the schema only; `tests/api/openapi.rs` and the
//! schemathesis run in `.ci/schemathesis.sh` check the real answers against them.
//!
//! Field types follow the renderers in `api/<resource>.rs`: `Option<T>` where the renderer can
//! emit `null`. Datetimes are ISO 8601 in the practice zone with its offset (`wire::datetime`).

#![expect(
    dead_code,
    reason = "documentation types: only their ToSchema implementations are used"
)]

use serde_json::Value;
use utoipa::ToSchema;

/// `{"detail": "..."}`: every refusal that is not about single fields (401, 403, 404, 405,
/// 409, 412, 413, 415, 429, 503 and some 400s). Some add a stable `code`.
#[derive(ToSchema)]
pub(crate) struct Detail {
    pub detail: String,
    /// A stable machine-readable code (`token_not_valid`, `still_referenced`, …) where given.
    pub code: Option<String>,
}

/// One conflict of a refused booking.
#[derive(ToSchema)]
pub(crate) struct Conflict {
    /// `appointment`, `operation`, `doctor_absence`, `doctor_break`, …
    pub r#type: String,
    pub model: Option<String>,
    pub id: Option<i64>,
    pub resource_id: Option<i64>,
    pub meta: Option<Value>,
}

/// A booking refused by the scheduling engine (400, like the original):
/// `{"detail": "Scheduling conflicts detected", "conflicts": [...], "code": "scheduling_conflict"}`.
#[derive(ToSchema)]
pub(crate) struct SchedulingConflict {
    pub detail: String,
    pub conflicts: Vec<Value>,
    pub code: String,
}

/// A booking refused because the doctor is absent, on a break or outside their hours (400,
/// the original's body): `detail` is a list here, `alternatives` names other doctors and their
/// next free time, `reason` says why (`absence`, `break`, `no_practice_hours`, …).
#[derive(ToSchema)]
pub(crate) struct DoctorUnavailable {
    pub detail: Vec<String>,
    pub alternatives: Vec<Value>,
    pub code: String,
    pub reason: Option<String>,
}

/// The DRF pagination envelope; `results` holds the resource's items.
#[derive(ToSchema)]
pub(crate) struct PageEnvelope {
    pub count: i64,
    /// Absolute URL of the next page, `null` on the last.
    pub next: Option<String>,
    /// Absolute URL of the previous page, `null` on the first.
    pub previous: Option<String>,
    pub results: Vec<Value>,
}

/// `GET /api/health/`.
#[derive(ToSchema)]
pub(crate) struct Health {
    /// `ok`, or `error` with 503 when the database does not answer.
    pub status: String,
    pub detail: Option<String>,
}

// ---- auth ---------------------------------------------------------------------------------

#[derive(ToSchema)]
pub(crate) struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(ToSchema)]
pub(crate) struct RefreshRequest {
    pub refresh: String,
}

#[derive(ToSchema)]
pub(crate) struct RoleRef {
    pub id: i64,
    /// `admin`, `assistant`, `doctor`, `billing`.
    pub name: String,
    pub label: String,
}

#[derive(ToSchema)]
pub(crate) struct LoginUser {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Option<RoleRef>,
}

#[derive(ToSchema)]
pub(crate) struct LoginResponse {
    pub user: LoginUser,
    pub access: String,
    pub refresh: String,
}

/// `access`, plus a rotated `refresh` when rotation is on.
#[derive(ToSchema)]
pub(crate) struct RefreshResponse {
    pub access: String,
    pub refresh: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct Me {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub calendar_color: Option<String>,
    pub role: Option<RoleRef>,
}

// ---- users ----------------------------------------------------------------------------------

#[derive(ToSchema)]
pub(crate) struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub calendar_color: Option<String>,
    pub role: Option<RoleRef>,
    #[schema(format = DateTime)]
    pub date_joined: String,
    #[schema(format = DateTime)]
    pub last_login: Option<String>,
}

/// Create (`username`, `password`, `role` required) or change a user (PATCH: any subset).
#[derive(ToSchema)]
pub(crate) struct UserWrite {
    pub username: Option<String>,
    pub password: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `admin`, `assistant`, `doctor` or `billing`.
    pub role: Option<String>,
    pub calendar_color: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct SetPassword {
    pub password: String,
}

// ---- patients -------------------------------------------------------------------------------

#[derive(ToSchema)]
pub(crate) struct Patient {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    #[schema(format = Date)]
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
}

/// The write shape (POST/PUT/PATCH bodies and the PUT/PATCH answer).
#[derive(ToSchema)]
pub(crate) struct PatientWrite {
    pub id: Option<i64>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[schema(format = Date)]
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

// ---- master data ----------------------------------------------------------------------------

#[derive(ToSchema)]
pub(crate) struct AppointmentType {
    pub id: i64,
    pub name: String,
    pub color: Option<String>,
    pub duration_minutes: Option<i64>,
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Minutes before an appointment of this type that keep its doctor and resources busy.
    pub buffer_before_minutes: i64,
    /// Minutes after it (cleaning, documentation).
    pub buffer_after_minutes: i64,
}

#[derive(ToSchema)]
pub(crate) struct AppointmentTypeWrite {
    pub name: Option<String>,
    pub color: Option<String>,
    pub duration_minutes: Option<i64>,
    pub active: Option<bool>,
    /// 0..=120 minutes, default 0.
    pub buffer_before_minutes: Option<i64>,
    /// 0..=120 minutes, default 0.
    pub buffer_after_minutes: Option<i64>,
}

#[derive(ToSchema)]
pub(crate) struct OperationType {
    pub id: i64,
    pub name: String,
    pub prep_duration: i64,
    pub op_duration: i64,
    pub post_duration: i64,
    pub color: Option<String>,
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(ToSchema)]
pub(crate) struct OperationTypeWrite {
    pub name: Option<String>,
    pub prep_duration: Option<i64>,
    pub op_duration: Option<i64>,
    pub post_duration: Option<i64>,
    pub color: Option<String>,
    pub active: Option<bool>,
}

#[derive(ToSchema)]
pub(crate) struct Resource {
    pub id: i64,
    pub name: String,
    /// `room` or `device`.
    pub r#type: String,
    pub color: Option<String>,
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(ToSchema)]
pub(crate) struct ResourceWrite {
    pub name: Option<String>,
    /// `room` or `device`.
    pub r#type: Option<String>,
    pub color: Option<String>,
    pub active: Option<bool>,
}

#[derive(ToSchema)]
pub(crate) struct PracticeHours {
    pub id: i64,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: i64,
    /// `HH:MM:SS`.
    pub start_time: String,
    pub end_time: String,
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(ToSchema)]
pub(crate) struct DoctorHours {
    pub id: i64,
    /// The doctor's user id.
    pub doctor: i64,
    pub weekday: i64,
    pub start_time: String,
    pub end_time: String,
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// Hours (practice or doctor): `doctor` only for doctor hours.
#[derive(ToSchema)]
pub(crate) struct HoursWrite {
    pub doctor: Option<i64>,
    pub weekday: Option<i64>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub active: Option<bool>,
}

#[derive(ToSchema)]
pub(crate) struct DoctorBreak {
    pub id: i64,
    pub doctor: Option<i64>,
    #[schema(format = Date)]
    pub date: String,
    pub start_time: String,
    pub end_time: String,
    pub reason: Option<String>,
    pub color: String,
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(ToSchema)]
pub(crate) struct DoctorBreakWrite {
    pub doctor: Option<i64>,
    #[schema(format = Date)]
    pub date: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub reason: Option<String>,
    pub active: Option<bool>,
}

#[derive(ToSchema)]
pub(crate) struct DoctorAbsence {
    pub id: i64,
    pub doctor: i64,
    #[schema(format = Date)]
    pub start_date: String,
    #[schema(format = Date)]
    pub end_date: String,
    pub reason: Option<String>,
    pub color: String,
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(ToSchema)]
pub(crate) struct DoctorAbsenceWrite {
    pub doctor: Option<i64>,
    #[schema(format = Date)]
    pub start_date: Option<String>,
    #[schema(format = Date)]
    pub end_date: Option<String>,
    pub reason: Option<String>,
    pub active: Option<bool>,
}

/// `GET /api/doctor-absences/preview/`.
#[derive(ToSchema)]
pub(crate) struct AbsencePreview {
    pub duration_workdays: Option<i64>,
    #[schema(format = Date)]
    pub return_date: Option<String>,
    pub remaining_days: Option<i64>,
    /// The doctor's bookings in the range: `{model, id, start_time, end_time}`.
    pub affected_appointments: Vec<Value>,
}

#[derive(ToSchema)]
pub(crate) struct Doctor {
    pub id: i64,
    pub name: String,
    pub calendar_color: Option<String>,
}

// ---- bookings -------------------------------------------------------------------------------

/// The AppointmentRead shape.
#[derive(ToSchema)]
pub(crate) struct Appointment {
    pub id: i64,
    pub patient_id: i64,
    pub patient_name: String,
    /// `{id, name, color}` or `null`.
    pub r#type: Option<Value>,
    pub doctor: i64,
    pub doctor_name: String,
    pub resources: Vec<Value>,
    pub room_name: Option<String>,
    pub resource_names: Vec<String>,
    pub appointment_color: Option<String>,
    pub doctor_color: Option<String>,
    #[schema(format = DateTime)]
    pub start_time: String,
    #[schema(format = DateTime)]
    pub end_time: String,
    /// `scheduled`, `confirmed`, `cancelled`, `completed`.
    pub status: String,
    pub is_no_show: bool,
    pub notes: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// Book or change an appointment (PATCH: any subset).
#[derive(ToSchema)]
pub(crate) struct AppointmentWrite {
    pub patient_id: Option<i64>,
    pub doctor: Option<i64>,
    pub r#type: Option<i64>,
    #[schema(format = DateTime)]
    pub start_time: Option<String>,
    #[schema(format = DateTime)]
    pub end_time: Option<String>,
    pub status: Option<String>,
    pub notes: Option<String>,
    pub resource_ids: Option<Vec<i64>>,
    /// Book over a closed day, working hours, an absence or a break (admins and assistants;
    /// 1..500 characters). Never over another booking.
    pub override_reason: Option<String>,
    /// Convert this slot hold (create only; same doctor and times).
    pub hold_id: Option<i64>,
}

#[derive(ToSchema)]
pub(crate) struct SlotHoldCreate {
    pub doctor: i64,
    pub patient_id: Option<i64>,
    /// Appointment type (its buffers are held too).
    pub r#type: Option<i64>,
    pub resource_ids: Option<Vec<i64>>,
    #[schema(format = DateTime)]
    pub start_time: String,
    #[schema(format = DateTime)]
    pub end_time: String,
    /// 1..1800, default 300.
    pub ttl_seconds: Option<i64>,
}

#[derive(ToSchema)]
pub(crate) struct SlotHold {
    pub id: i64,
    pub doctor: i64,
    pub patient_id: Option<i64>,
    pub resource_ids: Vec<i64>,
    #[schema(format = DateTime)]
    pub start_time: String,
    #[schema(format = DateTime)]
    pub end_time: String,
    /// The hold stops counting at this instant.
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// The OperationRead shape.
#[derive(ToSchema)]
pub(crate) struct Operation {
    pub id: i64,
    pub patient_id: i64,
    pub patient_name: String,
    pub op_type: Value,
    pub op_room: Value,
    pub op_devices: Vec<Value>,
    /// `{primary_surgeon, assistant, anesthesist}`.
    pub team: Value,
    #[schema(format = DateTime)]
    pub start_time: String,
    #[schema(format = DateTime)]
    pub end_time: String,
    pub color: Option<String>,
    /// `planned`, `confirmed`, `running`, `done`, `cancelled`.
    pub status: String,
    pub notes: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// Book or change an operation (PATCH: any subset).
#[derive(ToSchema)]
pub(crate) struct OperationWrite {
    pub patient_id: Option<i64>,
    pub primary_surgeon: Option<i64>,
    pub assistant: Option<i64>,
    pub anesthesist: Option<i64>,
    pub op_room: Option<i64>,
    pub op_devices: Option<Vec<i64>>,
    pub op_type: Option<i64>,
    #[schema(format = DateTime)]
    pub start_time: Option<String>,
    pub status: Option<String>,
    pub notes: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct StatusChange {
    pub status: String,
}

/// The PatientFlowRead shape.
#[derive(ToSchema)]
pub(crate) struct PatientFlow {
    pub id: i64,
    pub appointment: Option<Value>,
    pub operation: Option<Value>,
    pub status: String,
    #[schema(format = DateTime)]
    pub arrival_time: Option<String>,
    #[schema(format = DateTime)]
    pub status_changed_at: String,
    pub notes: Option<String>,
    pub wait_time_minutes: Option<i64>,
    pub treatment_time_minutes: Option<i64>,
}

#[derive(ToSchema)]
pub(crate) struct PatientFlowWrite {
    pub appointment: Option<i64>,
    pub operation: Option<i64>,
    pub status: Option<String>,
    #[schema(format = DateTime)]
    pub arrival_time: Option<String>,
    pub notes: Option<String>,
}

// ---- calendar feeds -------------------------------------------------------------------------

#[derive(ToSchema)]
pub(crate) struct CalendarFeed {
    pub id: i64,
    /// `doctor` or `room`.
    pub kind: String,
    pub target_id: i64,
    pub include_type: bool,
    pub created_by: Option<i64>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
    pub active: bool,
    /// Only in the answer to the create: the secret feed URL (shown once).
    pub url: Option<String>,
    pub path: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct CalendarFeedCreate {
    /// `doctor` or `room`.
    pub kind: String,
    pub target_id: i64,
    /// Show the appointment type in the events (never patient names).
    pub include_type: Option<bool>,
}

// ---- audit -----------------------------------------------------------------------------------

/// One row of the access report: who did what, when, to which patients (ids only).
#[derive(ToSchema)]
pub(crate) struct AuditAccess {
    pub id: i64,
    #[schema(format = DateTime)]
    pub timestamp: String,
    pub user_id: Option<i64>,
    pub username: String,
    pub role: String,
    pub action: String,
    /// The one patient of a single-patient action.
    pub patient_id: Option<i32>,
    /// Every patient the action showed or touched (lists, calendars, boards), sorted.
    pub subjects: Vec<i32>,
    pub request_id: Option<String>,
    /// Ids and flags only.
    #[schema(value_type = Option<Object>)]
    pub meta: Option<serde_json::Value>,
}

/// The password step's answer for a user with a second factor (instead of `LoginResponse`):
/// present `mfa_token` with a code to `/api/auth/login/mfa/` within 5 minutes.
#[derive(ToSchema)]
pub(crate) struct MfaChallenge {
    /// Always `true`.
    pub mfa_required: bool,
    /// `true` when the role requires a second factor and the user has none yet: enrol with
    /// `/api/auth/login/mfa/enrol/` first.
    pub mfa_enrolment_required: bool,
    pub mfa_token: String,
    /// `totp`, `recovery_code`.
    pub methods: Vec<String>,
}

/// The second step: the token and either a 6-digit code or a recovery code.
#[derive(ToSchema)]
pub(crate) struct MfaLoginRequest {
    pub mfa_token: String,
    pub code: Option<String>,
    pub recovery_code: Option<String>,
}

/// The `LoginResponse`, plus `recovery_codes` (shown once) when the step finished an
/// enrolment.
#[derive(ToSchema)]
pub(crate) struct MfaLoginResponse {
    pub user: LoginUser,
    pub access: String,
    pub refresh: String,
    pub recovery_codes: Option<Vec<String>>,
}

#[derive(ToSchema)]
pub(crate) struct MfaEnrolRequest {
    pub mfa_token: String,
}

/// A started TOTP enrolment: the secret (base 32), the `otpauth://` URI and its QR code (SVG).
#[derive(ToSchema)]
pub(crate) struct TotpEnrolment {
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

#[derive(ToSchema)]
pub(crate) struct TotpStatus {
    pub enabled: bool,
    /// An enrolment was started and not confirmed yet.
    pub pending: bool,
    /// The user's role requires a second factor.
    pub required: bool,
    pub recovery_codes_left: u64,
}

#[derive(ToSchema)]
pub(crate) struct TotpConfirm {
    pub code: String,
}

/// `enabled: true` and the recovery codes (shown once).
#[derive(ToSchema)]
pub(crate) struct TotpConfirmed {
    pub enabled: bool,
    pub recovery_codes: Vec<String>,
}

#[derive(ToSchema)]
pub(crate) struct TotpDisable {
    pub password: String,
    pub code: Option<String>,
    pub recovery_code: Option<String>,
}

/// The roles whose users must log in with a second factor.
#[derive(ToSchema)]
pub(crate) struct MfaPolicy {
    pub required_roles: Vec<String>,
}

/// Erasure of a patient (DSGVO Art. 17). While the legal retention period runs, the erasure
/// needs `confirm_retention: true`.
#[derive(ToSchema)]
pub(crate) struct PatientErasureRequest {
    /// Why the patient is erased (required; kept in the erasure record, never in the audit
    /// log; do not write patient data into it).
    pub reason: String,
    pub confirm_retention: Option<bool>,
}

/// What the erasure did.
#[derive(ToSchema)]
pub(crate) struct PatientErasure {
    pub patient_id: i32,
    pub erased_at: String,
    /// The end of the retention period that applied (`null`: no medical records).
    pub retention_until: Option<String>,
    pub retention_overridden: bool,
    pub notes_deleted: u64,
    pub documents_deleted: u64,
    /// Storage paths of the deleted documents' files (Praxi does not hold the files).
    pub document_files: Vec<String>,
}

// ---- holidays (issue #14) -------------------------------------------------------------------

#[derive(ToSchema)]
pub(crate) struct HolidayDay {
    #[schema(format = Date)]
    pub date: String,
    /// The public holiday's German name, if the date is one.
    pub holiday: Option<String>,
    /// The override's label, if any.
    pub label: Option<String>,
    /// Whether bookings are refused on that date.
    pub closed: bool,
    /// Whether a per-date override decides.
    pub overridden: bool,
}

#[derive(ToSchema)]
pub(crate) struct HolidayCalendar {
    /// `DE`, a state code (`BE`, …) or null (no holiday calendar).
    pub region: Option<String>,
    pub days: Vec<HolidayDay>,
}

#[derive(ToSchema)]
pub(crate) struct HolidayRegionUpdate {
    /// `DE`, a state code (`BW`, `BY`, `BE`, `BB`, `HB`, `HH`, `HE`, `MV`, `NI`, `NW`, `RP`,
    /// `SL`, `SN`, `ST`, `SH`, `TH`) or null.
    pub region: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct HolidayOverride {
    /// Only in answers (the path names the date).
    #[schema(format = Date)]
    pub date: Option<String>,
    /// `true`: closed that day; `false`: open despite a holiday.
    pub closed: bool,
    /// At most 100 characters.
    pub label: Option<String>,
}

// ---- reminders (issue #14) ------------------------------------------------------------------

#[derive(ToSchema)]
pub(crate) struct Reminder {
    pub id: i64,
    /// `reminder`.
    pub kind: String,
    pub appointment_id: Option<i64>,
    pub patient_id: i64,
    /// `queued`, `sending`, `sent`, `failed` or `cancelled`.
    pub status: String,
    #[schema(format = DateTime)]
    pub due_at: String,
    #[schema(format = DateTime)]
    pub next_attempt_at: String,
    pub attempts: i64,
    /// Why it failed or was cancelled (never patient data).
    pub last_error: Option<String>,
    #[schema(format = DateTime)]
    pub sent_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(ToSchema)]
pub(crate) struct ReminderSettings {
    /// Only in answers.
    pub patient_id: Option<i64>,
    /// `true`: this patient gets no reminder e-mails.
    pub reminder_opt_out: bool,
}
