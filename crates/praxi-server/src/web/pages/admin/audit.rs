//! `/admin/audit-log/`: the audit journal, read-only and for admins only. It shows what the
//! journal stores (ids, actions, who and when; never patient data), newest first, filterable
//! by action, user, patient number and local date. Opening it is itself audited
//! (`audit_log_view`, meta: page).

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use praxi_domain::rbac::{Action, Area};
use praxi_store::admin_lists::AuditFilter;
use serde_json::json;

use super::view::{Cell, Column, Filter, ListPage, Pager, Row};
use super::{ListQuery, PAGE_SIZE, allow, failure, t};
use crate::state::AppState;
use crate::web::i18n::Lang;
use crate::web::session::WebUser;
use crate::web::{Chrome, render};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/admin/audit-log/", get(list))
}

/// The start of a local date as an instant (the earlier one around a DST change).
fn local_midnight(date: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    date.and_hms_opt(0, 0, 0)?
        .and_local_timezone(tz)
        .earliest()
        .map(|local| local.with_timezone(&Utc))
}

/// A readable label for an action code: `<what> <verb>` from known parts, else `None`.
pub(crate) fn action_label(lang: Lang, action: &str) -> Option<String> {
    const VERBS: [&str; 14] = [
        "set_password",
        "deactivate",
        "activate",
        "created",
        "updated",
        "create",
        "update",
        "delete",
        "search",
        "suggest",
        "list",
        "view",
        "login",
        "logout",
    ];
    let (subject, verb) = VERBS.iter().find_map(|verb| {
        action
            .strip_suffix(verb)
            .and_then(|rest| rest.strip_suffix('_'))
            .map(|subject| (subject, *verb))
    })?;
    let verb = match verb {
        "created" => "create",
        "updated" => "update",
        other => other,
    };
    let subject_key = format!("admin.audit.subject.{subject}");
    let verb_key = format!("admin.audit.verb.{verb}");
    let (subject_text, verb_text) = (lang.t(&subject_key), lang.t(&verb_key));
    (subject_text != subject_key && verb_text != verb_key)
        .then(|| format!("{subject_text}: {verb_text}"))
}

async fn list(
    State(state): State<AppState>,
    user: WebUser,
    uri: Uri,
) -> Result<Response, Response> {
    allow(&user, Area::AuditLog, Action::List)?;
    let query = ListQuery::from_uri(&uri);
    let tz = state.tz();
    let filter = AuditFilter {
        action: query.get("action").map(str::to_owned),
        username: query.get("user").map(str::to_owned),
        patient_id: query.get("patient").and_then(|id| id.parse().ok()),
        since: query.date("from").and_then(|date| local_midnight(date, tz)),
        until: query
            .date("to")
            .and_then(|date| date.checked_add_signed(Duration::days(1)))
            .and_then(|date| local_midnight(date, tz)),
    };
    let page = state
        .store
        .admin_audit_log(&filter, query.window())
        .await
        .map_err(|error| failure(&user, error))?;
    state
        .store
        .record_audit(&user.audit("audit_log_view", None, Some(json!({"page": query.page()}))))
        .await
        .map_err(|error| failure(&user, error))?;
    let rows: Vec<Row> = page
        .rows
        .iter()
        .map(|record| {
            let who = match record.user_id {
                Some(id) => Cell::Link {
                    text: record.username.clone(),
                    href: format!("/admin/users/{id}/"),
                },
                None => Cell::text(&record.username),
            };
            let what = match action_label(user.lang, &record.action) {
                Some(label) => Cell::text(format!("{label} ({})", record.action)),
                None => Cell::text(&record.action),
            };
            let patient = match record.patient_id {
                Some(id) => Cell::Link {
                    text: id.to_string(),
                    href: format!("/admin/patients/{id}/"),
                },
                None => Cell::muted("–"),
            };
            let role = if record.role_name.is_empty() {
                Cell::muted("–")
            } else {
                let key = format!("role.{}", record.role_name);
                let label = user.lang.t(&key);
                Cell::text(if label == key {
                    record.role_name.clone()
                } else {
                    label.to_owned()
                })
            };
            Row::new(
                record.id,
                true,
                vec![
                    Cell::text(record.id.to_string()),
                    Cell::text(super::view::datetime(user.lang, record.timestamp, tz)),
                    who,
                    role,
                    what,
                    patient,
                    Cell::muted(
                        record
                            .meta
                            .as_ref()
                            .map(|meta| meta.to_string())
                            .unwrap_or_default(),
                    ),
                ],
            )
        })
        .collect();
    let base = "/admin/audit-log/".to_owned();
    let pager = Pager::new(query.page(), page.total, PAGE_SIZE, |n| {
        format!("{base}{}", query.with("page", Some(&n.to_string())))
    });
    let chrome = Chrome::new(&user, "nav.admin", "admin.audit-log.title");
    let list_page = ListPage {
        caption: format!("{} ({})", chrome.title, page.total),
        chrome,
        slug: "audit-log",
        base: base.clone(),
        flash: None,
        filters: vec![
            Filter::Text {
                name: "action",
                label: t(&user, "admin.field.action"),
                value: query.value("action"),
            },
            Filter::Text {
                name: "user",
                label: t(&user, "admin.field.username"),
                value: query.value("user"),
            },
            Filter::Text {
                name: "patient",
                label: t(&user, "admin.field.patient_id"),
                value: query.value("patient"),
            },
            Filter::Date {
                name: "from",
                label: t(&user, "admin.filter.from"),
                value: query
                    .date("from")
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            },
            Filter::Date {
                name: "to",
                label: t(&user, "admin.filter.to"),
                value: query.date("to").map(|d| d.to_string()).unwrap_or_default(),
            },
        ],
        keep: Vec::new(),
        columns: [
            "admin.field.id",
            "admin.field.timestamp",
            "admin.field.username",
            "admin.field.role",
            "admin.field.action",
            "admin.field.patient_id",
            "admin.field.details",
        ]
        .iter()
        .map(|key| Column::new(t(&user, key)))
        .collect(),
        rows,
        has_actions: false,
        pager,
        total: page.total,
        create: None,
        read_only_note: Some(t(&user, "admin.audit-log.note")),
    };
    Ok(render(&list_page, &list_page.chrome.nonce))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_codes_get_readable_labels_when_their_parts_are_known() {
        for (action, de, en) in [
            (
                "patient_view",
                Some("Patient: angezeigt"),
                Some("Patient: viewed"),
            ),
            (
                "patient_updated",
                Some("Patient: geändert"),
                Some("Patient: changed"),
            ),
            (
                "user_deactivate",
                Some("Benutzer: deaktiviert"),
                Some("User: deactivated"),
            ),
            (
                "user_activate",
                Some("Benutzer: aktiviert"),
                Some("User: activated"),
            ),
            (
                "user_set_password",
                Some("Benutzer: Passwort gesetzt"),
                Some("User: password set"),
            ),
            (
                "appointment_type_list",
                Some("Terminart: Liste angezeigt"),
                Some("Appointment type: list shown"),
            ),
            (
                "web_logout",
                Some("Oberfläche: Abmeldung"),
                Some("Web UI: logout"),
            ),
            ("mystery_thing", None, None),
            ("view", None, None),
        ] {
            assert_eq!(action_label(Lang::De, action).as_deref(), de, "{action}");
            assert_eq!(action_label(Lang::En, action).as_deref(), en, "{action}");
        }
    }

    #[test]
    fn local_dates_start_at_local_midnight() {
        let tz = chrono_tz::Europe::Berlin;
        let winter = local_midnight(NaiveDate::from_ymd_opt(2030, 1, 14).unwrap(), tz).unwrap();
        assert_eq!(winter.to_rfc3339(), "2030-01-13T23:00:00+00:00");
        let summer = local_midnight(NaiveDate::from_ymd_opt(2030, 7, 1).unwrap(), tz).unwrap();
        assert_eq!(summer.to_rfc3339(), "2030-06-30T22:00:00+00:00");
    }
}
