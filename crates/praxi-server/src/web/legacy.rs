//! The original PraxiApp's page addresses (`/praxi_backend/...`), permanently redirected to
//! the page that replaced each of them, so bookmarks and links in old e-mails keep working.
//!
//! One table ([`target`]) answers every old address; it is pure and unit-tested. Addresses
//! of the original's JSON helpers (`.../api/`) have no page and are not redirected (404).

use axum::Router;
use axum::extract::RawQuery;
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::state::AppState;
use crate::wire;

/// The redirect routes: `/praxi_backend/` and everything below it.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/praxi_backend", get(redirect))
        .route("/praxi_backend/", get(redirect))
        .route("/praxi_backend/{*rest}", get(redirect))
}

async fn redirect(uri: Uri, RawQuery(query): RawQuery) -> Response {
    match target(uri.path(), query.as_deref().unwrap_or("")) {
        Some(location) => Redirect::permanent(&location).into_response(),
        None => crate::api::not_found_response(),
    }
}

/// The page that replaced an old address, with the query parameters the new page
/// understands carried over; `None` when the address had no page.
pub fn target(path: &str, query: &str) -> Option<String> {
    let rest = path.strip_prefix("/praxi_backend")?;
    let segments: Vec<&str> = rest.split('/').filter(|part| !part.is_empty()).collect();
    let pairs = wire::url_pairs(query);
    let keep = |names: &[&str]| -> String {
        let kept: Vec<String> = names
            .iter()
            .filter_map(|name| {
                pairs
                    .iter()
                    .rev()
                    .find(|(key, value)| key == name && !value.is_empty())
                    .map(|(_, value)| format!("{name}={}", crate::web::url_encode(value)))
            })
            .collect();
        kept.join("&")
    };
    let id_param = |name: &str| -> Option<i64> {
        pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| positive_id(value))
    };
    let with_query = |base: &str, query: String| -> String {
        if query.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{query}")
        }
    };
    let page = match segments.as_slice() {
        // The original's root sent staff to its admin site ("Dashboards"); the dashboard is
        // the page every role can open.
        [] => "/dashboard/".to_owned(),
        ["Dashboardadministration", admin @ ..] => admin_target(admin),
        ["core", "user", ..] => "/admin/users/".to_owned(),
        ["appointments", "operation", ..] => "/operations/".to_owned(),
        ["appointments"] => "/calendar/".to_owned(),
        ["patients"] => "/patients/".to_owned(),
        ["operations"] => "/dashboard/operations/".to_owned(),
        ["scheduling"] => "/dashboard/scheduling/".to_owned(),
        ["dashboard", page @ ..] => return dashboard_target(page, &keep, &id_param, &with_query),
        _ => return None,
    };
    Some(page)
}

/// `/praxi_backend/dashboard/...`.
fn dashboard_target(
    page: &[&str],
    keep: &dyn Fn(&[&str]) -> String,
    id_param: &dyn Fn(&str) -> Option<i64>,
    with_query: &dyn Fn(&str, String) -> String,
) -> Option<String> {
    Some(match page {
        [] => "/dashboard/".to_owned(),
        ["scheduling"] => "/dashboard/scheduling/".to_owned(),
        // Only a period the page offers is carried over (an unknown one is dropped).
        ["operations"] => with_query("/dashboard/operations/", operations_days(keep(&["days"]))),
        ["appointments"] | ["appointments", "fullcalendar"] => {
            with_query("/calendar/", keep(&["date", "doctor_id"]))
        }
        ["appointments", "legacy", view @ ("day" | "week" | "month")] => {
            let rest = keep(&["date", "doctor_id"]);
            let query = if rest.is_empty() {
                format!("view={view}")
            } else {
                format!("view={view}&{rest}")
            };
            with_query("/calendar/", query)
        }
        ["patients"] | ["patients", "overview"] => match id_param("patient_id") {
            Some(id) => format!("/patients/{id}/"),
            None => "/patients/".to_owned(),
        },
        // Documents, notes and prescriptions are shown on the patient's page.
        ["patients", id, ..] if *id != "api" => match positive_id(id) {
            Some(id) => format!("/patients/{id}/"),
            None => "/patients/".to_owned(),
        },
        ["doctors"] => match id_param("doctor_id") {
            Some(id) => format!("/doctors/{id}/"),
            None => "/doctors/".to_owned(),
        },
        ["doctors", id] if *id != "api" => match positive_id(id) {
            Some(id) => format!("/doctors/{id}/"),
            None => "/doctors/".to_owned(),
        },
        ["resources"] => "/resources/".to_owned(),
        _ => return None,
    })
}

/// `/praxi_backend/Dashboardadministration/<app>/<model>/...`: the Django admin's model
/// lists map to Praxi's admin pages.
fn admin_target(admin: &[&str]) -> String {
    let page = match admin {
        ["core", "user", ..] => "users/",
        ["patients", "patient", ..] => "patients/",
        ["appointments", "appointmenttype", ..] => "appointment-types/",
        ["appointments", "operationtype", ..] => "operation-types/",
        ["appointments", "resource", ..] => "resources/",
        ["appointments", "practicehours", ..] => "practice-hours/",
        ["appointments", "doctorhours", ..] => "doctor-hours/",
        ["appointments", "doctorbreak", ..] => "breaks/",
        ["appointments", "doctorabsence", ..] => "absences/",
        ["core", "auditlog", ..] => "audit-log/",
        ["appointments", "operation", ..] => return "/operations/".to_owned(),
        ["appointments", "appointment", ..] => return "/calendar/".to_owned(),
        _ => "",
    };
    format!("/admin/{page}")
}

fn operations_days(kept: String) -> String {
    let pairs = wire::url_pairs(&kept);
    match crate::web::pages::dashboard::operations_days_param(&pairs) {
        Ok(Some(days)) => format!("days={days}"),
        _ => String::new(),
    }
}

fn positive_id(text: &str) -> Option<i64> {
    text.trim().parse::<i64>().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::target;

    fn to(path: &str) -> Option<String> {
        match path.split_once('?') {
            Some((path, query)) => target(path, query),
            None => target(path, ""),
        }
    }

    #[test]
    fn every_page_of_the_original_has_a_new_home() {
        let cases = [
            ("/praxi_backend", "/dashboard/"),
            ("/praxi_backend/", "/dashboard/"),
            ("/praxi_backend/Dashboardadministration/", "/admin/"),
            (
                "/praxi_backend/Dashboardadministration/core/user/7/change/",
                "/admin/users/",
            ),
            (
                "/praxi_backend/Dashboardadministration/appointments/doctorbreak/",
                "/admin/breaks/",
            ),
            ("/praxi_backend/core/user/", "/admin/users/"),
            ("/praxi_backend/appointments/operation/", "/operations/"),
            ("/praxi_backend/appointments/", "/calendar/"),
            ("/praxi_backend/patients/", "/patients/"),
            ("/praxi_backend/operations/", "/dashboard/operations/"),
            ("/praxi_backend/scheduling/", "/dashboard/scheduling/"),
            ("/praxi_backend/dashboard/", "/dashboard/"),
            (
                "/praxi_backend/dashboard/scheduling/",
                "/dashboard/scheduling/",
            ),
            ("/praxi_backend/dashboard/appointments/", "/calendar/"),
            (
                "/praxi_backend/dashboard/appointments/fullcalendar/",
                "/calendar/",
            ),
            (
                "/praxi_backend/dashboard/appointments/legacy/week/?date=2026-03-02&doctor_id=4",
                "/calendar/?view=week&date=2026-03-02&doctor_id=4",
            ),
            (
                "/praxi_backend/dashboard/appointments/legacy/day/",
                "/calendar/?view=day",
            ),
            ("/praxi_backend/dashboard/patients/", "/patients/"),
            ("/praxi_backend/dashboard/patients/overview/", "/patients/"),
            (
                "/praxi_backend/dashboard/patients/?patient_id=12",
                "/patients/12/",
            ),
            ("/praxi_backend/dashboard/patients/12/", "/patients/12/"),
            (
                "/praxi_backend/dashboard/patients/12/documents/3/",
                "/patients/12/",
            ),
            (
                "/praxi_backend/dashboard/patients/12/prescriptions/9/",
                "/patients/12/",
            ),
            ("/praxi_backend/dashboard/doctors/", "/doctors/"),
            ("/praxi_backend/dashboard/doctors/5/", "/doctors/5/"),
            (
                "/praxi_backend/dashboard/doctors/?doctor_id=5",
                "/doctors/5/",
            ),
            ("/praxi_backend/dashboard/doctors/x/", "/doctors/"),
            (
                "/praxi_backend/dashboard/operations/?days=7&mode=realtime",
                "/dashboard/operations/?days=7",
            ),
            (
                "/praxi_backend/dashboard/operations/?days=oops",
                "/dashboard/operations/",
            ),
            ("/praxi_backend/dashboard/resources/", "/resources/"),
        ];
        for (old, new) in cases {
            assert_eq!(to(old).as_deref(), Some(new), "{old}");
        }
    }

    #[test]
    fn json_helpers_and_unknown_addresses_have_no_page() {
        for old in [
            "/praxi_backend/dashboard/api/",
            "/praxi_backend/dashboard/patients/api/",
            "/praxi_backend/dashboard/patients/api/3/",
            "/praxi_backend/dashboard/doctors/api/",
            "/praxi_backend/dashboard/nonsense/",
            "/praxi_backend/whatever/",
            "/elsewhere/",
        ] {
            assert_eq!(to(old), None, "{old}");
        }
    }

    #[test]
    fn carried_query_values_are_encoded() {
        assert_eq!(
            to("/praxi_backend/dashboard/appointments/?date=2026-03-02%26x%3D1").as_deref(),
            Some("/calendar/?date=2026-03-02%26x%3D1")
        );
    }
}
