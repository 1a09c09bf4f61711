//! `/api/doctor-breaks/` (api.md §3.17): blocked time on one date, for one doctor or
//! practice-wide (`doctor: null`). Audits `doctor_break_list|create|view|update|delete`.
//! Routes and work: `api::master_data`, `usecases::master_data`.
//!
//! Doctors see their own and the practice-wide breaks (scheduling.md W25: practice-wide
//! breaks block them too), edit and delete only their own (others: 404), and may not hand a
//! break to someone else (api.md §5 item 5). A doctor-specific break needs an active doctor.
//! Writes announce `break.*` on the resource calendar's board.

use axum::Router;
use praxi_domain::hours::BREAK_COLOR;
use serde_json::{Value, json};

use crate::api::master_data::{self, ApiTable};
use crate::api::practice_hours::time_json;
use crate::state::AppState;
use crate::usecases::master_data::{Breaks, Record};
use crate::wire;

pub(crate) fn router() -> Router<AppState> {
    master_data::router::<Breaks>()
}

impl ApiTable for Breaks {
    const PATH: &'static str = "/api/doctor-breaks/";

    fn json(record: &Record<Self>, state: &AppState) -> Value {
        let tz = state.tz();
        let fields = &record.fields;
        json!({
            "id": record.id,
            "doctor": fields.doctor_id,
            "date": fields.date,
            "start_time": time_json(fields.start_time),
            "end_time": time_json(fields.end_time),
            "reason": fields.reason,
            "color": BREAK_COLOR,
            "active": fields.active,
            "created_at": wire::datetime(record.created_at, tz),
            "updated_at": wire::datetime(record.updated_at, tz),
        })
    }
}
