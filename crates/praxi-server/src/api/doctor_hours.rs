//! `/api/doctor-hours/` (api.md §3.15): recurring weekly availability of each doctor.
//! Doctors see only their own rows (others: 404) and cannot write; admins and assistants
//! manage all. Audits `doctor_hours_list|create|view|update|delete`. Routes and work:
//! `api::master_data`, `usecases::master_data`.
//!
//! Fixes: the `doctor` must be an active user with role doctor (api.md §5 item 5), and active
//! windows of one doctor may not overlap on a weekday (data-model.md §15 item 10).

use axum::Router;
use serde_json::{Value, json};

use crate::api::master_data::{self, ApiTable};
use crate::api::practice_hours::time_json;
use crate::state::AppState;
use crate::usecases::master_data::{DoctorHours, Record};
use crate::wire;

pub(crate) fn router() -> Router<AppState> {
    master_data::router::<DoctorHours>()
}

impl ApiTable for DoctorHours {
    const PATH: &'static str = "/api/doctor-hours/";

    fn json(record: &Record<Self>, state: &AppState) -> Value {
        let tz = state.tz();
        let window = &record.fields.window;
        json!({
            "id": record.id,
            "doctor": record.fields.doctor_id,
            "weekday": window.weekday,
            "start_time": time_json(window.start_time),
            "end_time": time_json(window.end_time),
            "active": window.active,
            "created_at": wire::datetime(record.created_at, tz),
            "updated_at": wire::datetime(record.updated_at, tz),
        })
    }
}
