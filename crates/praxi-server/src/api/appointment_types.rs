//! `/api/appointment-types/` (api.md §3.4): list (paginated, `active` filter), detail, create,
//! PUT, PATCH, DELETE. Reads for every API role, writes for admins. A type that appointments
//! use cannot be deleted (409). Routes and work: `api::master_data`, `usecases::master_data`.

use axum::Router;
use praxi_store::master_data::{CatalogFilter, CatalogSort};
use serde_json::{Value, json};

use crate::api::master_data::{self, ApiTable, ListParams};
use crate::state::AppState;
use crate::usecases::master_data::{AppointmentTypes, Filter, Record, Sort};
use crate::wire;

pub(crate) fn router() -> Router<AppState> {
    master_data::router::<AppointmentTypes>()
}

impl ApiTable for AppointmentTypes {
    const PATH: &'static str = "/api/appointment-types/";

    fn json(record: &Record<Self>, state: &AppState) -> Value {
        let tz = state.tz();
        json!({
            "id": record.id,
            "name": record.fields.name,
            "color": record.fields.color,
            "duration_minutes": record.fields.duration_minutes,
            "active": record.fields.active,
            "created_at": wire::datetime(record.created_at, tz),
            "updated_at": wire::datetime(record.updated_at, tz),
            "buffer_before_minutes": record.fields.buffers.before_minutes,
            "buffer_after_minutes": record.fields.buffers.after_minutes,
        })
    }

    fn list_filter(query: &ListParams) -> Filter<Self> {
        CatalogFilter {
            active: query.active(),
            ..CatalogFilter::default()
        }
    }

    /// Name, id.
    fn list_sort() -> Sort<Self> {
        (CatalogSort::Name, false)
    }
}
