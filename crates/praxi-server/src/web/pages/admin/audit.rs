//! `/admin/audit-log/`: the audit journal, read-only and for admins only. It shows what the
//! journal stores (ids, actions, who and when, the patients each row showed; never patient
//! data), newest first, filterable by action, user, patient number and local date. The
//! patient filter finds every row that showed or touched the patient (its subjects), so the
//! page answers "who accessed patient X"; `/admin/audit-log/csv/` downloads the same rows as
//! CSV (`usecases::audit_log`). Opening either is itself audited (`audit_log_view`, meta: page
//! and filters; `audit_access_query` for the CSV), with the queried patient as subject.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use praxi_domain::rbac::{Action, Area};
use praxi_store::admin_lists::AuditFilter;
use praxi_store::audit::AccessQuery;
use serde_json::json;

use super::view::{Cell, Column, Filter, ListPage, Pager, Row};
use super::{ListQuery, PAGE_SIZE, allow, failure, t};
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::audit_log::{self, CSV_MAX_ROWS, Format};
use crate::web::i18n::Lang;
use crate::web::session::WebUser;
use crate::web::{Chrome, render};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/audit-log/", get(list))
        .route("/admin/audit-log/csv/", get(csv))
}

/// The page's filters (`action`, `user`, `patient`, `from`, `to`: local dates, `to`
/// inclusive).
fn audit_filter(query: &ListQuery, tz: Tz) -> AuditFilter {
    AuditFilter {
        action: query.get("action").map(str::to_owned),
        username: query.get("user").map(str::to_owned),
        patient_id: query.get("patient").and_then(|id| id.parse().ok()),
        since: query.date("from").and_then(|date| local_midnight(date, tz)),
        until: query
            .date("to")
            .and_then(|date| date.checked_add_signed(Duration::days(1)))
            .and_then(|date| local_midnight(date, tz)),
    }
}

/// `/admin/audit-log/csv/?<the page's filters>`: every matching row (newest first, at most
/// `CSV_MAX_ROWS`) with its subjects, as a CSV download.
async fn csv(State(state): State<AppState>, user: WebUser, uri: Uri) -> Result<Response, Response> {
    allow(&user, Area::AuditLog, Action::List)?;
    let filter = audit_filter(&ListQuery::from_uri(&uri), state.tz());
    let query = AccessQuery {
        patient_id: filter.patient_id,
        user_id: None,
        since: filter.since,
        until: filter.until,
        action: filter.action,
        username: filter.username,
    };
    let caller = Caller::from(&user);
    let (_, rows) = audit_log::accesses(&state, &caller, &query, Format::Csv, |_| {
        Ok::<_, praxi_store::StoreError>((0, CSV_MAX_ROWS))
    })
    .await
    .map_err(|error| failure(&user, error))?;
    let mut response = audit_log::csv(&rows, state.tz()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"praxi-audit-log.csv\""),
    );
    Ok(response)
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
    let filter = audit_filter(&query, tz);
    let page = state
        .store
        .admin_audit_log(&filter, query.window())
        .await
        .map_err(|error| failure(&user, error))?;
    let mut subjects = state
        .store
        .audit_subjects(page.rows.iter().map(|record| record.id))
        .await
        .map_err(|error| failure(&user, error))?;
    let meta = json!({
        "page": query.page(),
        "action": filter.action,
        "user": filter.username.is_some(),
        "from": filter.since.map(|at| at.to_rfc3339()),
        "to": filter.until.map(|at| at.to_rfc3339()),
    });
    state
        .store
        .record_audit(
            &user
                .audit("audit_log_view", None, Some(meta))
                .with_subjects(filter.patient_id),
        )
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
            let shown = subjects.remove(&record.id).unwrap_or_default();
            let subjects = if shown.is_empty() {
                Cell::muted("–")
            } else {
                Cell::text(subject_list(&shown))
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
                    subjects,
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
            "admin.field.subjects",
            "admin.field.details",
        ]
        .iter()
        .map(|key| Column::new(t(&user, key)))
        .collect(),
        rows,
        has_actions: false,
        pager,
        total: page.total,
        create: Some((
            format!("/admin/audit-log/csv/{}", query.with("page", None)),
            t(&user, "admin.audit-log.csv"),
        )),
        read_only_note: Some(t(&user, "admin.audit-log.note")),
    };
    Ok(render(&list_page, &list_page.chrome.nonce))
}

/// The subject ids of a row, the first few of a long list (the CSV has them all).
fn subject_list(ids: &[i32]) -> String {
    const SHOWN: usize = 12;
    let mut text = ids
        .iter()
        .take(SHOWN)
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        text.push_str(&format!(" … (+{})", ids.len() - SHOWN));
    }
    text
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
