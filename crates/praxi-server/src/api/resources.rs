//! `/api/resources/` (api.md §3.12): list (paginated, active resources only, `type` filter),
//! detail (inactive ones too, not audited like the original), create, PUT, PATCH, DELETE.
//! Reads for every API role, writes for admins and assistants. A resource that bookings use
//! cannot be deleted (409; the original deleted the operations in a deleted room) and cannot
//! change its `type` (400); deactivating it is always possible. Routes and work:
//! `api::master_data`, `usecases::master_data`.

use axum::Router;
use praxi_store::master_data::{CatalogFilter, CatalogSort};
use serde_json::{Value, json};

use crate::api::master_data::{self, ApiTable, ListParams};
use crate::state::AppState;
use crate::usecases::master_data::{Filter, Record, Resources, Sort};
use crate::wire;

pub(crate) fn router() -> Router<AppState> {
    master_data::router::<Resources>()
}

impl ApiTable for Resources {
    const PATH: &'static str = "/api/resources/";

    fn json(record: &Record<Self>, state: &AppState) -> Value {
        let tz = state.tz();
        json!({
            "id": record.id,
            "name": record.fields.name,
            "type": record.fields.kind.as_str(),
            "color": record.fields.color,
            "active": record.fields.active,
            "created_at": wire::datetime(record.created_at, tz),
            "updated_at": wire::datetime(record.updated_at, tz),
        })
    }

    /// Active resources only; `?type=` filters on the exact value, an empty one filters
    /// nothing.
    fn list_filter(query: &ListParams) -> Filter<Self> {
        CatalogFilter {
            active: Some(true),
            kind: query
                .get("type")
                .filter(|kind| !kind.is_empty())
                .map(str::to_owned),
            ..CatalogFilter::default()
        }
    }

    /// Type, name, id.
    fn list_sort() -> Sort<Self> {
        (CatalogSort::Kind, false)
    }
}
