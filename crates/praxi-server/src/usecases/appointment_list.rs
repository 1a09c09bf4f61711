//! Listing appointments with the staff UI's filters (date range, doctor, status, patient), for
//! the appointment list page and its CSV export (#15 item 6b).
//!
//! The policy decides as for `GET /api/appointments/`: `Appointments × List`, a doctor's
//! `Filtered` decision limits the list to the doctor's own appointments whatever doctor the
//! filter names. Every read is audited: `appointment_list` for the page, `appointment_export`
//! for the CSV file, with the number of rows and the filters (never patient data).

use chrono::NaiveDate;
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::rbac::Decision;
use praxi_store::StoreError;
use praxi_store::appointments::{AppointmentFilter, AppointmentRecord};
use serde_json::json;

use super::{Caller, local_days};
use crate::state::AppState;

/// The longest range one list or export covers (days).
pub(crate) const MAX_DAYS: i64 = 366;

/// What the caller asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListFilter {
    /// First and last local day (inclusive; at most [`MAX_DAYS`] apart).
    pub(crate) from: NaiveDate,
    pub(crate) to: NaiveDate,
    pub(crate) doctor_id: Option<i64>,
    pub(crate) status: Option<AppointmentStatus>,
    /// A patient number, or a part of the patient's name (case-insensitive).
    pub(crate) patient: Option<String>,
}

/// Why the list is read (the audit action).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Page,
    Export,
}

impl Purpose {
    fn action(self) -> &'static str {
        match self {
            Purpose::Page => "appointment_list",
            Purpose::Export => "appointment_export",
        }
    }
}

/// `true` when `record`'s patient matches the patient filter: its number, or a part of
/// "first last" / "last first" (case-insensitive).
pub(crate) fn patient_matches(record: &AppointmentRecord, wanted: &str) -> bool {
    let wanted = wanted.trim();
    if let Ok(id) = wanted.parse::<i32>() {
        return record.patient_id == id;
    }
    let needle = wanted.to_lowercase();
    let first = record.patient_first_name.trim().to_lowercase();
    let last = record.patient_last_name.trim().to_lowercase();
    format!("{first} {last}").contains(&needle) || format!("{last} {first}").contains(&needle)
}

/// The appointments overlapping the range that match the filter, in time order; audited.
pub(crate) async fn list(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    filter: &ListFilter,
    purpose: Purpose,
) -> Result<Vec<AppointmentRecord>, StoreError> {
    let to = filter
        .to
        .min(filter.from + chrono::Duration::days(MAX_DAYS - 1));
    let mut store_filter = AppointmentFilter {
        period: local_days(state, filter.from, to),
        doctor_id: filter.doctor_id,
        ..AppointmentFilter::default()
    };
    if decision == Decision::Filtered {
        store_filter.doctor_id = Some(caller.user_id());
    }
    let mut records = if filter.to < filter.from || store_filter.period.is_none() {
        Vec::new()
    } else {
        state.store.appointments(&store_filter).await?
    };
    records.retain(|record| {
        filter.status.is_none_or(|status| record.status == status)
            && filter
                .patient
                .as_deref()
                .is_none_or(|wanted| patient_matches(record, wanted))
    });
    records.sort_by_key(|record| (record.start_time, record.id));
    let meta = json!({
        "count": records.len(),
        "from": filter.from.to_string(),
        "to": to.to_string(),
        "doctor_id": store_filter.doctor_id,
        "status": filter.status.map(|status| status.as_str()),
        "patient_filter": filter.patient.is_some(),
    });
    state
        .store
        .record_audit(&caller.audit(purpose.action(), None, Some(meta)))
        .await?;
    Ok(records)
}
