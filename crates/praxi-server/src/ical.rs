//! iCal feeds (RFC 5545) at secret URLs: `GET /ical/<secret>.ics` publishes the busy times of
//! one doctor or one room, 30 days back and 180 days ahead, for calendar apps that poll.
//!
//! The secret is the only credential (admins create and revoke feeds under
//! `/api/calendar-feeds/`). An event carries its times, a stable UID and either "Busy" or, when
//! the feed includes it, the appointment or operation type; never a patient. Every read is
//! audited as `calendar_feed_read` with the feed id. The body is stable while the bookings are
//! (DTSTAMP is the booking's last change), so `ETag`/`If-None-Match` answers 304.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, Utc};
use praxi_store::audit::AuditEntry;
use praxi_store::feeds::{CalendarFeed, FeedEvent, FeedEventKind, hash_feed_token};
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Days before today a feed reaches back.
pub const DAYS_BACK: i64 = 30;
/// Days after today a feed reaches ahead.
pub const DAYS_AHEAD: i64 = 180;

/// The public feed route.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/ical/{file}", get(feed))
}

/// The path of a feed with this secret.
pub fn feed_path(token: &str) -> String {
    format!("/ical/{token}.ics")
}

/// The path as logs may show it: a feed's secret is replaced.
pub fn loggable_path(path: &str) -> &str {
    if path.starts_with("/ical/") {
        "/ical/<secret>"
    } else {
        path
    }
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            other => out.push(other),
        }
    }
    out
}

/// Appends one content line, folded at 75 octets (never inside a UTF-8 character) and ended
/// with CRLF (RFC 5545 §3.1).
fn push_line(out: &mut String, line: &str) {
    let mut octets = 0;
    for ch in line.chars() {
        let len = ch.len_utf8();
        if octets + len > 75 {
            out.push_str("\r\n ");
            // The leading space of a continuation line counts toward its 75 octets.
            octets = 1;
        }
        out.push(ch);
        octets += len;
    }
    out.push_str("\r\n");
}

/// `YYYYMMDDTHHMMSSZ`.
fn utc_stamp(instant: DateTime<Utc>) -> String {
    instant.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The calendar text of a feed's events.
pub fn render(feed: &CalendarFeed, events: &[FeedEvent]) -> String {
    let mut out = String::new();
    push_line(&mut out, "BEGIN:VCALENDAR");
    push_line(&mut out, "VERSION:2.0");
    push_line(&mut out, "PRODID:-//Praxi//Calendar feed//EN");
    push_line(&mut out, "CALSCALE:GREGORIAN");
    push_line(
        &mut out,
        &format!(
            "X-WR-CALNAME:{}",
            escape_text(&format!(
                "Praxi {} {} (busy times)",
                feed.kind.as_str(),
                feed.target_id
            ))
        ),
    );
    for event in events {
        let (uid_kind, fallback) = match event.kind {
            FeedEventKind::Appointment => ("appointment", "Busy"),
            FeedEventKind::Operation => ("operation", "Busy (operation)"),
        };
        let summary = event.type_name.as_deref().unwrap_or(fallback);
        push_line(&mut out, "BEGIN:VEVENT");
        push_line(&mut out, &format!("UID:{uid_kind}-{}@praxi", event.id));
        push_line(
            &mut out,
            &format!("DTSTAMP:{}", utc_stamp(event.updated_at)),
        );
        push_line(&mut out, &format!("DTSTART:{}", utc_stamp(event.start)));
        push_line(&mut out, &format!("DTEND:{}", utc_stamp(event.end)));
        push_line(&mut out, &format!("SUMMARY:{}", escape_text(summary)));
        push_line(&mut out, "TRANSP:OPAQUE");
        push_line(&mut out, "CLASS:PRIVATE");
        push_line(&mut out, "END:VEVENT");
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

/// A strong entity tag of the body.
fn entity_tag(body: &str) -> String {
    let digest = hash_feed_token(body);
    let mut tag = String::from("\"");
    let _ = write!(tag, "{}", &digest[..32]);
    tag.push('"');
    tag
}

/// `true` when `If-None-Match` lists this tag (or `*`); weak tags compare by their opaque part.
fn matches_if_none_match(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| candidate.trim())
        .any(|candidate| {
            candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == tag
        })
}

/// The secret of `<secret>.ics`, if the name has the shape of one.
fn token_of(file: &str) -> Option<&str> {
    let token = file.strip_suffix(".ics")?;
    (16..=128)
        .contains(&token.len())
        .then_some(token)
        .filter(|token| token.bytes().all(|byte| byte.is_ascii_alphanumeric()))
}

async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let token = token_of(&file).ok_or(ApiError::NotFoundPlain)?;
    let feed = state
        .store
        .active_calendar_feed(&hash_feed_token(token))
        .await?
        .ok_or(ApiError::NotFoundPlain)?;
    let now = state.now();
    let events = state
        .store
        .calendar_feed_events(
            &feed,
            now - Duration::days(DAYS_BACK),
            now + Duration::days(DAYS_AHEAD),
        )
        .await?;
    state
        .store
        .record_audit(&AuditEntry {
            user_id: None,
            username: "(feed)".to_owned(),
            role_name: String::new(),
            action: "calendar_feed_read".to_owned(),
            patient_id: None,
            meta: Some(json!({ "feed_id": feed.id })),
            request_id: crate::auth::request_id_from_headers(&headers),
            subjects: Vec::new(),
        })
        .await?;
    let body = render(&feed, &events);
    let tag = entity_tag(&body);
    let mut response = if matches_if_none_match(&headers, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/calendar; charset=utf-8"),
        );
        response
    };
    let response_headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response_headers.insert(header::ETAG, value);
    }
    // Calendar apps revalidate; shared caches must not keep a secret URL's content.
    response_headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let line = format!("SUMMARY:{}", "ä".repeat(60));
        push_line(&mut out, &line);
        let physical: Vec<&str> = out.split("\r\n").filter(|part| !part.is_empty()).collect();
        assert!(physical.len() > 1);
        for part in &physical {
            assert!(part.len() <= 75, "{} octets: {part:?}", part.len());
        }
        for part in &physical[1..] {
            assert!(part.starts_with(' '));
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("{line}\r\n"));
    }

    #[test]
    fn feed_secrets_stay_out_of_logged_paths() {
        assert_eq!(
            loggable_path("/ical/abcdefghijklmnop1234.ics"),
            "/ical/<secret>"
        );
        assert_eq!(loggable_path("/api/patients/"), "/api/patients/");
    }

    #[test]
    fn text_values_escape_separators_and_newlines() {
        assert_eq!(escape_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn only_well_formed_secrets_are_looked_up() {
        assert_eq!(
            token_of("abcdefghijklmnop1234.ics"),
            Some("abcdefghijklmnop1234")
        );
        assert_eq!(token_of("abcdefghijklmnop1234"), None);
        assert_eq!(token_of("short.ics"), None);
        assert_eq!(token_of("abcdefghijklmnop12/4.ics"), None);
    }
}
