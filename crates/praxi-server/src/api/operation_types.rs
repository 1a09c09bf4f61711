//! `/api/operation-types/` (api.md §3.8): list (paginated, `active` filter), detail, create,
//! PUT, PATCH, DELETE. Reads for every API role, writes for admins. Durations may not be
//! negative, colours must be `#RRGGBB`, and a type that operations use cannot be deleted (409;
//! the original deleted the operations with it). Routes and work: `api::master_data`,
//! `usecases::master_data`.

use axum::Router;
use praxi_store::master_data::{CatalogFilter, CatalogSort};
use serde_json::{Value, json};

use crate::api::master_data::{self, ApiTable, ListParams};
use crate::state::AppState;
use crate::usecases::master_data::{Filter, OperationTypes, Record, Sort};
use crate::wire;

pub(crate) fn router() -> Router<AppState> {
    master_data::router::<OperationTypes>()
}

impl ApiTable for OperationTypes {
    const PATH: &'static str = "/api/operation-types/";

    fn json(record: &Record<Self>, state: &AppState) -> Value {
        let tz = state.tz();
        json!({
            "id": record.id,
            "name": record.fields.name,
            "prep_duration": record.fields.prep_duration,
            "op_duration": record.fields.op_duration,
            "post_duration": record.fields.post_duration,
            "color": record.fields.color,
            "active": record.fields.active,
            "created_at": wire::datetime(record.created_at, tz),
            "updated_at": wire::datetime(record.updated_at, tz),
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
