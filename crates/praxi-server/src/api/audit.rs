//! `GET /api/audit/accesses/`: the audit log's access report (admin only, beyond the
//! original). `?patient_id=X` answers "who accessed patient X" (every row that showed or
//! touched the patient: lists, calendars, boards, searches and single-patient actions),
//! `?user_id=U` "what did user U access"; `from`/`to` (a local date, `to` inclusive, or an
//! ISO datetime, `to` exclusive) bound the period. DRF pagination (`page`, `page_size`);
//! `?format=csv` answers every matching row as CSV instead. The query is itself audited
//! (`usecases::audit_log`).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use praxi_domain::rbac::{Action, Area};
use praxi_store::audit::{AccessQuery, AccessRecord};
use serde_json::{Value, json};

use crate::api::calendar::query_param;
use crate::api::method_fallback;
use crate::auth::AuthUser;
use crate::body::{parse_date_str, parse_datetime_str};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::audit_log::{self, CSV_MAX_ROWS, Format};
use crate::wire::{self, PageRequest};

const MODEL: &str = "AuditLog";

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/api/audit/accesses/",
        get(accesses).fallback(method_fallback(Area::AuditLog)),
    )
}

/// One end of the period: a local date (its midnight; the day after for `to`) or an ISO
/// datetime.
fn bound(text: &str, tz: Tz, end: bool) -> Option<DateTime<Utc>> {
    if let Some(date) = parse_date_str(text) {
        let date = if end {
            date.checked_add_signed(Duration::days(1))?
        } else {
            date
        };
        return date
            .and_hms_opt(0, 0, 0)?
            .and_local_timezone(tz)
            .earliest()
            .map(|local| local.with_timezone(&Utc));
    }
    parse_datetime_str(text, tz)
}

/// The filters of the query string; each malformed one is a field error naming it.
fn parse_query(pairs: &[(String, String)], tz: Tz) -> ApiResult<(AccessQuery, Format)> {
    let mut errors = praxi_domain::FieldErrors::default();
    let mut query = AccessQuery::default();
    let text = |name: &str| query_param(pairs, name).filter(|value| !value.trim().is_empty());
    if let Some(value) = text("patient_id") {
        match value.trim().parse::<i32>() {
            Ok(id) => query.patient_id = Some(id),
            Err(_) => errors.add("patient_id", "A valid integer is required."),
        }
    }
    if let Some(value) = text("user_id") {
        match value.trim().parse::<i64>() {
            Ok(id) => query.user_id = Some(id),
            Err(_) => errors.add("user_id", "A valid integer is required."),
        }
    }
    for (name, end) in [("from", false), ("to", true)] {
        if let Some(value) = text(name) {
            match bound(value.trim(), tz, end) {
                Some(at) if end => query.until = Some(at),
                Some(at) => query.since = Some(at),
                None => errors.add(
                    name,
                    "Use a date (YYYY-MM-DD) or a datetime (YYYY-MM-DDThh:mm[:ss][+HH:MM]).",
                ),
            }
        }
    }
    let format = match text("format").as_deref().map(str::trim) {
        None | Some("json") => Format::Page,
        Some("csv") => Format::Csv,
        Some(_) => {
            errors.add("format", "Use json or csv.");
            Format::Page
        }
    };
    if errors.is_empty() && query.patient_id.is_none() && query.user_id.is_none() {
        errors.add("patient_id", "Give patient_id or user_id.");
    }
    if errors.is_empty() {
        Ok((query, format))
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn row_json(row: &AccessRecord, tz: Tz) -> Value {
    let record = &row.record;
    json!({
        "id": record.id,
        "timestamp": wire::datetime(record.timestamp, tz),
        "user_id": record.user_id,
        "username": record.username,
        "role": record.role_name,
        "action": record.action,
        "patient_id": record.patient_id,
        "subjects": row.subjects,
        "request_id": record.request_id,
        "meta": record.meta,
    })
}

async fn accesses(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    auth.require(Area::AuditLog, Action::List, MODEL)?;
    let tz = state.tz();
    let pairs = wire::url_pairs(raw.as_deref().unwrap_or_default());
    let (query, format) = parse_query(&pairs, tz)?;
    let caller = Caller::from(&auth);
    if format == Format::Csv {
        let (_, rows) = audit_log::accesses::<ApiError>(&state, &caller, &query, format, |_| {
            Ok((0, CSV_MAX_ROWS))
        })
        .await?;
        let mut response = audit_log::csv(&rows, tz).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"praxi-audit-accesses.csv\""),
        );
        return Ok(response);
    }
    let request = PageRequest::from_query(
        query_param(&pairs, "page").as_deref(),
        query_param(&pairs, "page_size").as_deref(),
    )?;
    let mut page_number = 1;
    let (count, rows) = audit_log::accesses::<ApiError>(&state, &caller, &query, format, |total| {
        let (page, offset) = request.resolve(total)?;
        page_number = page;
        Ok((offset, request.page_size))
    })
    .await?;
    let results = rows.iter().map(|row| row_json(row, tz)).collect();
    Ok(Json(wire::page_envelope(
        &headers,
        &uri,
        count,
        page_number,
        request.page_size,
        results,
    ))
    .into_response())
}
