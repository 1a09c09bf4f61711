//! `/operations/`: the OP board — the day's operations per OP room as a timeline row plus a
//! list with time, type, team, status and progress, and status buttons for admins and
//! assistants.
//!
//! * `GET /operations/?date=` — the operations overlapping the local day
//!   (`Store::op_board(BoardView::DashboardDay)`, as `GET /api/op-dashboard/?date=`; doctors
//!   see only operations in whose team they are), every active OP room even when empty; audited
//!   as `op_dashboard_view` `{date}`. Like the API item it shows no patient data.
//! * `POST /operations/{id}/status/` — the `usecases::operations::change_status` use case,
//!   exactly like `PATCH /api/op-dashboard/{id}/status/`; every attempt after the lookup is
//!   audited as
//!   `op_status_update` `{from, to, ok, detail?}` and a refusal is shown as a flash with its
//!   reason.

use askama::Template;
use axum::Form;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use praxi_domain::operation::{OperationStatus, check_transition};
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_store::op_board::{
    BoardView, RoomOperations, group_by_room, progress, read_active_rooms,
};
use praxi_store::operations::OperationRecord;
use serde::Deserialize;
use serde_json::json;

use super::timeline::{self, Day, Item, Timeline};
use super::{Flash, fmt_day, fmt_time, internal, param, parse_date, safe_colour, shift};
use crate::state::AppState;
use crate::usecases::operations::{self, StatusRefusal, StatusRequest};
use crate::usecases::{Caller, Failure};
use crate::web::i18n::Lang;
use crate::web::session::WebUser;
use crate::web::{Chrome, render};
use crate::wire;

/// The text key of an operation status.
pub(crate) fn status_key(status: OperationStatus) -> &'static str {
    match status {
        OperationStatus::Planned => "status.operation.planned",
        OperationStatus::Confirmed => "status.operation.confirmed",
        OperationStatus::Running => "status.operation.running",
        OperationStatus::Done => "status.operation.done",
        OperationStatus::Cancelled => "status.operation.cancelled",
    }
}

/// The text key of the button that sets `to`.
fn action_key(to: OperationStatus) -> &'static str {
    match to {
        OperationStatus::Planned => "status.operation.planned",
        OperationStatus::Confirmed => "ops.action.confirm",
        OperationStatus::Running => "ops.action.start",
        OperationStatus::Done => "ops.action.finish",
        OperationStatus::Cancelled => "ops.action.cancel",
    }
}

/// The statuses the transition table allows from `from` (the start-time rule of `running` is
/// left to the write, which explains a refusal).
pub(crate) fn next_statuses(
    from: OperationStatus,
    start_time: DateTime<Utc>,
) -> Vec<OperationStatus> {
    OperationStatus::ALL
        .into_iter()
        .filter(|to| check_transition(Some(from), *to, start_time, start_time).is_ok())
        .collect()
}

/// The share shown on the progress bar: the store's progress while running, full when done,
/// empty before the start; none for a cancelled operation.
pub(crate) fn shown_progress(status: OperationStatus, running_progress: f64) -> Option<f64> {
    match status {
        OperationStatus::Running => Some(running_progress),
        OperationStatus::Done => Some(1.0),
        OperationStatus::Planned | OperationStatus::Confirmed => Some(0.0),
        OperationStatus::Cancelled => None,
    }
}

// ---- flash --------------------------------------------------------------------------------

/// A quoted text: „…“ in German, "…" in English.
fn quote(lang: Lang, text: &str) -> String {
    match lang {
        Lang::De => format!("„{text}“"),
        Lang::En => format!("\"{text}\""),
    }
}

/// The flash of a board address: `ok=status&to=…`, or `error=<code>[&from=…&to=…]`.
pub(crate) fn flash_of(pairs: &[(String, String)], lang: Lang) -> Option<Flash> {
    let status = |name: &str| param(pairs, name).and_then(|text| OperationStatus::parse(&text));
    if let Some(code) = param(pairs, "error") {
        let text = match StatusRefusal::parse(&code)? {
            StatusRefusal::InvalidTransition => match (status("from"), status("to")) {
                (Some(from), Some(to)) => format!(
                    "{}: {} → {}.",
                    lang.t("ops.error.invalid_transition"),
                    quote(lang, lang.t(status_key(from))),
                    quote(lang, lang.t(status_key(to)))
                ),
                _ => format!("{}.", lang.t("ops.error.invalid_transition")),
            },
            StatusRefusal::RunningBeforeStart => {
                lang.t("ops.error.running_before_start").to_owned()
            }
            StatusRefusal::Stale => lang.t("ops.error.stale").to_owned(),
            StatusRefusal::NotFound => lang.t("ops.error.not_found").to_owned(),
            StatusRefusal::StatusRequired | StatusRefusal::InvalidBody => {
                lang.t("ops.error.status_required").to_owned()
            }
        };
        return Some(Flash { ok: false, text });
    }
    if param(pairs, "ok")?.as_str() != "status" {
        return None;
    }
    let to = status("to")?;
    Some(Flash {
        ok: true,
        text: format!(
            "{} {}.",
            lang.t("ops.ok.status"),
            quote(lang, lang.t(status_key(to)))
        ),
    })
}

// ---- view ---------------------------------------------------------------------------------

/// A status button.
pub(crate) struct OpButton {
    pub(crate) id: String,
    pub(crate) status: &'static str,
    pub(crate) label: String,
    pub(crate) aria: String,
    pub(crate) danger: bool,
    pub(crate) confirm: Option<String>,
}

/// A team member with their role.
pub(crate) struct Member {
    pub(crate) role: String,
    pub(crate) name: String,
}

/// One operation in a room's list.
pub(crate) struct OpRow {
    pub(crate) dom_id: String,
    pub(crate) id: i64,
    pub(crate) time: String,
    pub(crate) type_name: String,
    pub(crate) fill: String,
    pub(crate) team: Vec<Member>,
    pub(crate) devices: String,
    pub(crate) status: &'static str,
    pub(crate) status_label: String,
    /// Percent (0–100) and the bar width in the 100-unit SVG.
    pub(crate) progress: Option<(u32, String)>,
    pub(crate) buttons: Vec<OpButton>,
}

/// One OP room: its timeline and its operations.
pub(crate) struct RoomRow {
    pub(crate) dom_id: String,
    pub(crate) name: String,
    pub(crate) timeline: Timeline,
    pub(crate) timeline_label: String,
    pub(crate) operations: Vec<OpRow>,
}

#[derive(Template)]
#[template(path = "boards/operations.html")]
struct OpBoardPage {
    chrome: Chrome,
    flash: Option<Flash>,
    notice: Option<String>,
    heading: String,
    date_value: String,
    prev_href: String,
    today_href: String,
    next_href: String,
    updated: String,
    can_write: bool,
    /// Operations may be planned and edited (`Operations × Create/Update`).
    can_plan: bool,
    rooms: Vec<RoomRow>,
    count: usize,
}

fn board_href(date: NaiveDate) -> String {
    format!("/operations/?date={}", date.format("%Y-%m-%d"))
}

fn op_row(
    record: &OperationRecord,
    lang: Lang,
    tz: Tz,
    now: DateTime<Utc>,
    can_write: bool,
) -> OpRow {
    let status = record.status();
    let time = format!(
        "{}–{}",
        fmt_time(tz, record.start_time),
        fmt_time(tz, record.end_time)
    );
    let mut team = vec![Member {
        role: lang.t("ops.team.surgeon").to_owned(),
        name: record.primary_surgeon.display_name(),
    }];
    if let Some(member) = &record.assistant {
        team.push(Member {
            role: lang.t("ops.team.assistant").to_owned(),
            name: member.display_name(),
        });
    }
    if let Some(member) = &record.anesthesist {
        team.push(Member {
            role: lang.t("ops.team.anesthesist").to_owned(),
            name: member.display_name(),
        });
    }
    let shown = shown_progress(
        status,
        progress(status, record.start_time, record.end_time, now),
    );
    let buttons = if can_write {
        next_statuses(status, record.start_time)
            .into_iter()
            .map(|to| {
                let label = lang.t(action_key(to)).to_owned();
                OpButton {
                    id: format!("op-{}-{}", record.id, to.as_str()),
                    status: to.as_str(),
                    aria: format!(
                        "{} {time} {}: {label}",
                        record.op_type.name, record.room.name
                    ),
                    label,
                    danger: to == OperationStatus::Cancelled,
                    confirm: (to == OperationStatus::Cancelled)
                        .then(|| lang.t("ops.confirm_cancel").to_owned()),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    OpRow {
        dom_id: format!("op-{}", record.id),
        id: record.id,
        type_name: record.op_type.name.clone(),
        fill: safe_colour(Some(&record.op_type.color)),
        team,
        devices: record
            .devices
            .iter()
            .map(|device| device.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        status: status.as_str(),
        status_label: lang.t(status_key(status)).to_owned(),
        progress: shown.map(|share| {
            let percent = (share * 100.0).round().clamp(0.0, 100.0);
            (percent as u32, format!("{percent:.0}"))
        }),
        buttons,
        time,
    }
}

fn room_row(
    group: RoomOperations,
    day: &Day,
    lang: Lang,
    tz: Tz,
    now: DateTime<Utc>,
    can_write: bool,
) -> RoomRow {
    let items: Vec<Item> = group
        .operations
        .iter()
        .filter_map(|record| {
            let span = day.span(record.start_time, record.end_time)?;
            let status = record.status();
            Some(Item {
                span,
                fill: safe_colour(Some(&record.op_type.color)),
                class: status.as_str().to_owned(),
                title: format!(
                    "{}–{} {} ({})",
                    fmt_time(tz, record.start_time),
                    fmt_time(tz, record.end_time),
                    record.op_type.name,
                    lang.t(status_key(status))
                ),
            })
        })
        .collect();
    let spans: Vec<_> = items.iter().map(|item| item.span).collect();
    let window = timeline::window(&spans, 7, 19, day);
    RoomRow {
        dom_id: format!("room-{}", group.room.id),
        timeline_label: format!("{}: {}", lang.t("boards.timeline"), group.room.name),
        name: group.room.name.clone(),
        timeline: timeline::layout(items, window, day, tz, now),
        operations: group
            .operations
            .iter()
            .map(|record| op_row(record, lang, tz, now, can_write))
            .collect(),
    }
}

/// Every active room (also empty ones) and every room holding operations, by name and id.
fn with_empty_rooms(
    mut groups: Vec<RoomOperations>,
    active: Vec<praxi_store::appointments::ResourceInfo>,
) -> Vec<RoomOperations> {
    for room in active {
        if !groups.iter().any(|group| group.room.id == room.id) {
            groups.push(RoomOperations {
                room,
                operations: Vec::new(),
            });
        }
    }
    groups
        .sort_by(|a, b| (a.room.name.as_str(), a.room.id).cmp(&(b.room.name.as_str(), b.room.id)));
    groups
}

/// `GET /operations/?date=`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = user.lang;
    let decision = match user.require(Area::OpDashboard, Action::List) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    let (tz, now, today) = (state.tz(), state.now(), state.today());
    let pairs = wire::url_pairs(query.as_deref().unwrap_or_default());
    let requested = param(&pairs, "date");
    let parsed = requested.as_deref().and_then(parse_date);
    let notice =
        (requested.is_some() && parsed.is_none()).then(|| lang.t("boards.bad_date").to_owned());
    let date = parsed.unwrap_or(today);
    let Some(day) = Day::new(tz, date) else {
        return internal(lang, "date outside the calendar");
    };
    let Some(period) = praxi_domain::scheduling::local_day(tz, date) else {
        return internal(lang, "date outside the calendar");
    };
    let team = (decision == Decision::Filtered).then_some(user.user.id);
    let records = match state
        .store
        .op_board(BoardView::DashboardDay(period), team)
        .await
    {
        Ok(records) => records,
        Err(error) => return internal(lang, error),
    };
    let active = match read_active_rooms(state.store.conn()).await {
        Ok(rooms) => rooms,
        Err(error) => return internal(lang, error),
    };
    let audit = user
        .audit(
            "op_dashboard_view",
            None,
            Some(json!({"date": date.format("%Y-%m-%d").to_string()})),
        )
        .with_subjects(records.iter().map(|record| record.patient_id));
    if let Err(error) = state.store.record_audit(&audit).await {
        return internal(lang, error);
    }
    let count = records.len();
    let can_write = user.can(Area::OpDashboard, Action::Update);
    let rooms = with_empty_rooms(group_by_room(records), active)
        .into_iter()
        .map(|group| room_row(group, &day, lang, tz, now, can_write))
        .collect();
    let mut chrome = Chrome::new(&user, "nav.operations", "ops.title");
    chrome.live = Some("op-board");
    let flash = flash_of(&pairs, lang).or_else(|| {
        super::op_form::flash_key(&pairs).map(|key| Flash {
            ok: true,
            text: lang.t(key).to_owned(),
        })
    });
    let page = OpBoardPage {
        flash,
        can_plan: user.can(Area::Operations, Action::Create)
            && user.can(Area::Operations, Action::Update),
        notice,
        heading: fmt_day(lang, date),
        date_value: date.format("%Y-%m-%d").to_string(),
        prev_href: board_href(shift(date, -1)),
        today_href: board_href(today),
        next_href: board_href(shift(date, 1)),
        updated: now.with_timezone(&tz).format("%H:%M:%S").to_string(),
        can_write,
        rooms,
        count,
        chrome,
    };
    render(&page, &page.chrome.nonce)
}

// ---- status -------------------------------------------------------------------------------

/// The form of a status button.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct StatusForm {
    csrf_token: String,
    status: String,
    /// The status the row showed.
    from: String,
}

fn back(date: NaiveDate, outcome: &str) -> Response {
    Redirect::to(&format!("{}&{outcome}", board_href(date))).into_response()
}

/// `POST /operations/{id}/status/`: the `usecases::operations::change_status` use case (like
/// `PATCH /api/op-dashboard/{id}/status/`), answered with a redirect and a flash.
pub(super) async fn change_status(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Response {
    let lang = user.lang;
    if let Err(response) = user.check_csrf(&form.csrf_token) {
        return response;
    }
    let decision = match user.require(Area::OpDashboard, Action::Update) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    let tz = state.tz();
    let gone = || {
        back(
            state.today(),
            &format!("error={}", StatusRefusal::NotFound.code()),
        )
    };
    let Ok(id) = id.parse::<i64>() else {
        return gone();
    };
    let request = StatusRequest {
        requested: Ok(Some(form.status.trim().to_owned())),
        seen: Some(form.from.clone()),
    };
    match operations::change_status(&state, &Caller::from(&user), decision, id, request).await {
        Ok(updated) => {
            let date = updated.start_time.with_timezone(&tz).date_naive();
            back(date, &format!("ok=status&to={}", updated.status.as_str()))
        }
        Err(Failure::Refused(refused)) => {
            let Some(record) = refused.record else {
                return gone();
            };
            let date = record.start_time.with_timezone(&tz).date_naive();
            let mut outcome = format!(
                "error={}&from={}",
                refused.refusal.code(),
                record.status().as_str()
            );
            if let Some(to) = refused.to.as_deref().and_then(OperationStatus::parse) {
                outcome.push_str(&format!("&to={}", to.as_str()));
            }
            back(date, &outcome)
        }
        Err(Failure::Store(error)) => internal(lang, error),
    }
}

/// Texts of the OP board.
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "ops.title" => ("OP-Übersicht", "Operations board"),
        "ops.no_rooms" => (
            "Keine aktiven OP-Räume und keine Operationen an diesem Tag.",
            "No active operating rooms and no operations on this day.",
        ),
        "ops.room_empty" => ("Keine Operationen.", "No operations."),
        "ops.count" => ("Operationen an diesem Tag", "Operations on this day"),
        "ops.time" => ("Zeit", "Time"),
        "ops.type" => ("Eingriff", "Procedure"),
        "ops.team" => ("Team", "Team"),
        "ops.devices" => ("Geräte", "Devices"),
        "ops.status" => ("Status", "Status"),
        "ops.progress" => ("Fortschritt", "Progress"),
        "ops.actions" => ("Aktionen", "Actions"),
        "ops.team.surgeon" => ("Operateur/in", "Surgeon"),
        "ops.team.assistant" => ("Assistenz", "Assistant"),
        "ops.team.anesthesist" => ("Anästhesie", "Anaesthesia"),
        "ops.action.confirm" => ("Bestätigen", "Confirm"),
        "ops.action.start" => ("Starten", "Start"),
        "ops.action.finish" => ("Abschließen", "Finish"),
        "ops.action.cancel" => ("Absagen", "Cancel"),
        "ops.confirm_cancel" => (
            "Diese Operation wirklich absagen?",
            "Really cancel this operation?",
        ),
        "ops.ok.status" => ("Status geändert:", "Status changed:"),
        "ops.error.invalid_transition" => (
            "Dieser Statuswechsel ist nicht erlaubt",
            "This status change is not allowed",
        ),
        "ops.error.running_before_start" => (
            "Eine Operation kann erst ab ihrer geplanten Startzeit laufen.",
            "An operation can only run from its planned start time.",
        ),
        "ops.error.stale" => (
            "Der Status wurde inzwischen geändert. Bitte die aktuelle Anzeige prüfen.",
            "The status was changed in the meantime. Please check the current board.",
        ),
        "ops.error.not_found" => (
            "Diese Operation gibt es nicht mehr.",
            "This operation no longer exists.",
        ),
        "ops.error.status_required" => ("Bitte einen Status wählen.", "Please choose a status."),
        "ops.error.incomplete" => (
            "Die Operation ist unvollständig.",
            "The operation is incomplete.",
        ),
        "ops.error.unknown_reference" => (
            "Patient, OP-Typ, Saal oder ein Teammitglied existiert nicht.",
            "The patient, operation type, room or a team member does not exist.",
        ),
        "ops.error.rule" => (
            "OP-Typ, Saal, Geräte oder Team passen nicht zusammen.",
            "The operation type, room, devices or team are not valid together.",
        ),
        "ops.error.conflict" => (
            "Zu dieser Zeit ist das Team, der Saal, ein Gerät oder der Patient nicht frei.",
            "The team, the room, a device or the patient is not free at that time.",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use praxi_domain::operation::OperationStatus::*;

    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        wire::url_pairs(query)
    }

    #[test]
    fn every_operation_refusal_has_a_text_in_both_languages() {
        use crate::usecases::operations::OperationRefusal;
        use crate::web::i18n::Lang;
        use praxi_domain::operation::TransitionError;
        let refusals = [
            OperationRefusal::NotFound,
            OperationRefusal::Incomplete,
            OperationRefusal::UnknownReferences(vec![("op_room", 7)]),
            OperationRefusal::Rule {
                field: "op_room",
                message: String::new(),
            },
            OperationRefusal::Transition {
                from: None,
                error: TransitionError::RunningBeforeStart,
            },
            OperationRefusal::Conflict {
                reason: "room_conflict",
                conflict: None,
            },
            OperationRefusal::PatientBusy(Vec::new()),
            OperationRefusal::Stale,
            OperationRefusal::Contended,
        ];
        for refusal in refusals {
            let key = refusal.message_key();
            for lang in [Lang::De, Lang::En] {
                assert_ne!(lang.t(key), key, "{refusal:?} has no {lang:?} text");
            }
        }
    }

    #[test]
    fn buttons_follow_the_transition_table() {
        let start = Utc.with_ymd_and_hms(2030, 1, 14, 9, 0, 0).unwrap();
        let cases = [
            (Planned, vec![Confirmed, Cancelled]),
            // `running` is offered before the start too; the write explains the refusal.
            (Confirmed, vec![Running, Cancelled]),
            (Running, vec![Done, Cancelled]),
            (Done, vec![]),
            (Cancelled, vec![]),
        ];
        for (from, expected) in cases {
            assert_eq!(next_statuses(from, start), expected, "{from:?}");
        }
    }

    #[test]
    fn progress_is_full_when_done_and_absent_when_cancelled() {
        let cases = [
            (Running, 0.25, Some(0.25)),
            (Done, 0.0, Some(1.0)),
            (Planned, 0.0, Some(0.0)),
            (Confirmed, 0.0, Some(0.0)),
            (Cancelled, 0.0, None),
        ];
        for (status, running, expected) in cases {
            assert_eq!(shown_progress(status, running), expected, "{status:?}");
        }
    }

    #[test]
    fn flashes_explain_refusals_in_the_page_language() {
        let cases = [
            (
                "ok=status&to=confirmed",
                Lang::De,
                Some((true, "Status geändert: „Bestätigt“.")),
            ),
            (
                "ok=status&to=confirmed",
                Lang::En,
                Some((true, "Status changed: \"Confirmed\".")),
            ),
            ("ok=status&to=bogus", Lang::De, None),
            (
                "error=invalid_transition&from=planned&to=running",
                Lang::De,
                Some((
                    false,
                    "Dieser Statuswechsel ist nicht erlaubt: „Geplant“ → „Läuft“.",
                )),
            ),
            (
                "error=invalid_transition",
                Lang::En,
                Some((false, "This status change is not allowed.")),
            ),
            (
                "error=running_before_start&from=confirmed&to=running",
                Lang::En,
                Some((
                    false,
                    "An operation can only run from its planned start time.",
                )),
            ),
            (
                "error=stale_status",
                Lang::De,
                Some((
                    false,
                    "Der Status wurde inzwischen geändert. Bitte die aktuelle Anzeige prüfen.",
                )),
            ),
            ("error=<script>", Lang::De, None),
            ("", Lang::De, None),
        ];
        for (query, lang, expected) in cases {
            let expected = expected.map(|(ok, text)| Flash {
                ok,
                text: text.to_owned(),
            });
            assert_eq!(flash_of(&pairs(query), lang), expected, "{query}");
        }
    }

    #[test]
    fn every_status_and_action_has_texts_in_both_languages() {
        for status in OperationStatus::ALL {
            for key in [status_key(status), action_key(status)] {
                assert_ne!(Lang::De.t(key), key);
                assert_ne!(Lang::En.t(key), key);
            }
        }
    }
}
