//! `/api/practice-hours/` (api.md §3.14): the practice's weekly opening windows. Paginated
//! list, detail, create, update (PUT/PATCH) and delete; every call is audited with the
//! original's `practice_hours_*` actions. Routes and work: `api::master_data`,
//! `usecases::master_data`.
//!
//! Also home of the small helpers the other calendar-configuration modules share (time
//! rendering, query parameters).

use axum::Router;
use axum::http::Uri;
use chrono::{NaiveTime, Timelike};
use serde_json::{Value, json};

use crate::api::master_data::{self, ApiTable};
use crate::state::AppState;
use crate::usecases::master_data::{PracticeHours, Record};
use crate::wire;

pub(crate) fn router() -> Router<AppState> {
    master_data::router::<PracticeHours>()
}

impl ApiTable for PracticeHours {
    const PATH: &'static str = "/api/practice-hours/";

    fn json(record: &Record<Self>, state: &AppState) -> Value {
        let tz = state.tz();
        json!({
            "id": record.id,
            "weekday": record.window.weekday,
            "start_time": time_json(record.window.start_time),
            "end_time": time_json(record.window.end_time),
            "active": record.window.active,
            "created_at": wire::datetime(record.created_at, tz),
            "updated_at": wire::datetime(record.updated_at, tz),
        })
    }
}

// ---- helpers shared by the calendar-configuration modules ----------------------------------

/// Renders a time of day like DRF: `HH:MM:SS`, microseconds only when non-zero.
pub(crate) fn time_json(time: NaiveTime) -> String {
    if time.nanosecond() == 0 {
        time.format("%H:%M:%S").to_string()
    } else {
        time.format("%H:%M:%S%.6f").to_string()
    }
}

/// The last value of a query parameter.
pub(crate) fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query().and_then(|query| {
        wire::url_pairs(query)
            .into_iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value)
            .next_back()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render_like_drf() {
        let time = NaiveTime::from_hms_opt(8, 5, 0).unwrap();
        assert_eq!(time_json(time), "08:05:00");
        let time = NaiveTime::from_hms_micro_opt(8, 5, 0, 500).unwrap();
        assert_eq!(time_json(time), "08:05:00.000500");
    }

    #[test]
    fn query_params_take_the_last_value() {
        let uri: Uri = "/api/x/?page=2&q=a&page=3&q=M%C3%BC".parse().unwrap();
        assert_eq!(query_param(&uri, "page").as_deref(), Some("3"));
        assert_eq!(query_param(&uri, "q").as_deref(), Some("Mü"));
        assert_eq!(query_param(&uri, "missing"), None);
    }
}
