//! Request-level safety nets, applied once in [`crate::app`]:
//!
//! - [`detach`]: a request's work runs in its own task, so a client that disconnects cannot
//!   cancel database work halfway (a dropped future between `BEGIN` and `COMMIT`).
//! - [`retry_contention`]: a request that failed only because concurrent transactions
//!   collided (deadlock, serialization failure, lock timeout) and committed nothing is run
//!   once more; if it fails again the client gets 503 with `Retry-After`.
//! - [`sanitize_request_id`]: only a short printable `X-Request-Id` is kept; anything else is
//!   replaced by a generated one, so a header can never fail a request.
//! - [`reject_invalid_query`]: a query parameter with NUL or invalid percent-encoded UTF-8 is
//!   a 400 naming the parameter (PostgreSQL cannot store NUL in text), on every route.
//! - [`cors`]: the `--cors-origins` allow-list.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use praxi_domain::FieldErrors;
use praxi_store::UnitOfWork;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

use crate::body::MAX_BODY_BYTES;
use crate::error::ApiError;

/// Runs the rest of the stack in a spawned task and waits for it. When the client goes away
/// hyper drops this future, but the task runs to completion, so transactions always end with
/// a commit or a rollback. A panicking handler becomes a 500 instead of a dropped connection.
pub(crate) async fn detach(request: Request, next: Next) -> Response {
    let work = next.run(request).instrument(tracing::Span::current());
    match tokio::spawn(work).await {
        Ok(response) => response,
        Err(error) => ApiError::internal(format!("request task failed: {error}")).into_response(),
    }
}

/// Runs the request; when it failed with a server error because of database contention and
/// committed nothing, runs it once more with the same method, URI, headers and body.
///
/// Bodies are buffered for the replay only when they are small enough to be accepted anyway
/// (`Content-Length` up to [`MAX_BODY_BYTES`], or no body); other requests run once.
pub(crate) async fn retry_contention(request: Request, next: Next) -> Response {
    let Some(length) = replayable_length(&request) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let bytes = if length == 0 {
        Bytes::new()
    } else {
        match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(bytes) => bytes,
            Err(error) => {
                return ApiError::Detail(format!("could not read body: {error}")).into_response();
            }
        }
    };
    let (response, report) = UnitOfWork::run(next.clone().run(copy(&parts, bytes.clone()))).await;
    if !(report.may_rerun() && response.status().is_server_error()) {
        return response;
    }
    tracing::info!("database contention and nothing committed; running the request again");
    // A short random pause lets the transaction that won finish first.
    let pause = 5 + rand::random::<u64>() % 20;
    tokio::time::sleep(Duration::from_millis(pause)).await;
    next.run(copy(&parts, bytes)).await
}

/// The body length when the request can be buffered for a replay.
fn replayable_length(request: &Request) -> Option<usize> {
    let headers = request.headers();
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return None;
    }
    match headers.get(header::CONTENT_LENGTH) {
        None => Some(0),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|text| text.parse::<usize>().ok())
            .filter(|length| *length <= MAX_BODY_BYTES),
    }
}

fn copy(parts: &axum::http::request::Parts, body: Bytes) -> Request {
    let mut request = Request::new(Body::from(body));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers.clone();
    *request.extensions_mut() = parts.extensions.clone();
    request
}

/// The request id header.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest accepted client request id (the audit column is 64 characters wide).
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// `true` for 1–64 characters of `[A-Za-z0-9._:-]`.
pub fn is_valid_request_id(value: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b':' | b'-'))
}

/// Drops a client `X-Request-Id` that is not one short printable token (or that is sent more
/// than once); the request-id layer then generates one.
pub(crate) async fn sanitize_request_id(mut request: Request) -> Request {
    let values = request.headers().get_all(&REQUEST_ID);
    let mut values = values.iter();
    let keep = match (values.next(), values.next()) {
        (Some(value), None) => is_valid_request_id(value.as_bytes()),
        (None, None) => true,
        _ => false,
    };
    if !keep {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// Refuses a request whose query string has a parameter that is not valid text: 400
/// `{"<param>": ["..."]}` under `/api/`, an `OperationOutcome` under `/fhir/`, a plain 400 for
/// the web pages.
pub(crate) async fn reject_invalid_query(request: Request, next: Next) -> Response {
    if let Some(query) = request.uri().query()
        && let Err(errors) = check_query(query)
    {
        if request.uri().path().starts_with("/api/") {
            return ApiError::Validation(errors).into_response();
        }
        if request.uri().path().starts_with("/fhir/") {
            return crate::fhir::FhirError::from(ApiError::Validation(errors)).into_response();
        }
        let names: Vec<&str> = errors.fields().keys().map(String::as_str).collect();
        return (
            axum::http::StatusCode::BAD_REQUEST,
            format!("Bad request: invalid query parameter {}", names.join(", ")),
        )
            .into_response();
    }
    next.run(request).await
}

/// Message for a NUL character (DRF's text for the same refusal in bodies).
pub const NUL_MESSAGE: &str = "Null characters are not allowed.";
/// Message for percent-encoded bytes that are not UTF-8.
pub const INVALID_UTF8_MESSAGE: &str = "Invalid percent-encoded UTF-8.";

/// Checks every name and value of a query string (decoded as a form: `+` is a space, `%XX` a
/// byte) for invalid UTF-8 and NUL characters; the errors name the parameters.
pub fn check_query(query: &str) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name_bytes = percent_decode(raw_name);
        let name = String::from_utf8_lossy(&name_bytes).replace('\0', "\u{FFFD}");
        let message = match (
            String::from_utf8(name_bytes),
            String::from_utf8(percent_decode(raw_value)),
        ) {
            (Err(_), _) | (_, Err(_)) => Some(INVALID_UTF8_MESSAGE),
            (Ok(name), Ok(value)) if name.contains('\0') || value.contains('\0') => {
                Some(NUL_MESSAGE)
            }
            _ => None,
        };
        if let Some(message) = message
            && !errors.contains(&name)
        {
            errors.add(&name, message);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Form decoding as the query extractors do it: `+` is a space, `%XX` a byte, and a `%` not
/// followed by two hex digits stays as it is.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        match bytes[idx] {
            b'+' => out.push(b' '),
            b'%' if idx + 2 < bytes.len() => match (hex(bytes[idx + 1]), hex(bytes[idx + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    idx += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        idx += 1;
    }
    out
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// The CORS layer for the configured origins (exact matches), or `None` when there are none:
/// then no `Access-Control-*` header is ever sent, as on the original's production instance.
///
/// Listed origins may send credentials (the original allows them); a wildcard is never used,
/// so credentials are only ever granted to an origin the operator named.
pub(crate) fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .map(|origin| origin.trim().trim_end_matches('/'))
        .filter(|origin| {
            let usable = !origin.is_empty() && *origin != "*";
            if !usable && !origin.is_empty() {
                tracing::warn!(origin, "ignoring wildcard CORS origin; list exact origins");
            }
            usable
        })
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::ACCEPT,
                header::ACCEPT_LANGUAGE,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                REQUEST_ID,
                HeaderName::from_static("x-csrftoken"),
            ])
            .expose_headers([
                REQUEST_ID,
                header::ETAG,
                header::LOCATION,
                header::RETRY_AFTER,
            ])
            .allow_credentials(true)
            .max_age(Duration::from_secs(600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_short_printable_tokens() {
        assert!(is_valid_request_id(b"3f0c2a9e-1b7d-4c55-9d1e-2f7a8b9c0d1e"));
        assert!(is_valid_request_id(b"trace:abc.DEF_1-2"));
        assert!(is_valid_request_id("x".repeat(64).as_bytes()));
        assert!(!is_valid_request_id("x".repeat(65).as_bytes()));
        assert!(!is_valid_request_id(b""));
        assert!(!is_valid_request_id(b"with space"));
        assert!(!is_valid_request_id(b"tab\there"));
        assert!(!is_valid_request_id("m\u{fc}ller".as_bytes()));
    }

    #[test]
    fn queries_with_nul_or_bad_utf8_name_the_parameter() {
        assert_eq!(check_query("q=M%C3%BCller&page=2&x=a+b&y=%zz&z=%"), Ok(()));
        let errors = check_query("type=%00").unwrap_err();
        assert_eq!(errors.fields()["type"], vec![NUL_MESSAGE.to_owned()]);
        let errors = check_query("ok=1&q=%C3%28").unwrap_err();
        assert_eq!(errors.fields()["q"], vec![INVALID_UTF8_MESSAGE.to_owned()]);
        assert!(!errors.contains("ok"));
        let errors = check_query("a%00b=1").unwrap_err();
        assert!(errors.contains("a\u{FFFD}b"));
        let errors = check_query("%FF=1").unwrap_err();
        assert!(errors.contains("\u{FFFD}"));
        // Percent decoding keeps a trailing or broken escape literally.
        assert_eq!(percent_decode("%4"), b"%4".to_vec());
        assert_eq!(percent_decode("%41%"), b"A%".to_vec());
        assert_eq!(percent_decode("a+%2B"), b"a +".to_vec());
    }
}
