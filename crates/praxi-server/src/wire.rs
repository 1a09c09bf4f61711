//! Wire formats shared by every endpoint: datetimes as DRF renders them and the pagination
//! envelope of api.md §1.5.

use axum::http::{HeaderMap, Uri, header};
use chrono::{DateTime, Offset, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::error::ApiError;

/// Renders an instant in the practice zone: `Z` for a zero offset, else `+HH:MM`; fractions
/// only when non-zero.
pub fn datetime(instant: DateTime<Utc>, tz: Tz) -> String {
    let local = instant.with_timezone(&tz);
    let seconds_format = if instant.timestamp_subsec_micros() == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Micros
    };
    // An offset with seconds (local mean time before ~1900) has no RFC 3339 form: use UTC.
    let offset_seconds = local.offset().fix().local_minus_utc();
    if offset_seconds == 0 || offset_seconds % 60 != 0 {
        instant.to_rfc3339_opts(seconds_format, true)
    } else {
        local.to_rfc3339_opts(seconds_format, false)
    }
}

/// An optional instant as JSON (`null` when absent).
pub fn opt_datetime(instant: Option<DateTime<Utc>>, tz: Tz) -> Value {
    instant.map_or(Value::Null, |instant| Value::String(datetime(instant, tz)))
}

/// The default and maximum page sizes.
pub const PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;

/// A requested page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based; `None` = `last`.
    pub page: Option<u64>,
    pub page_size: u64,
}

impl PageRequest {
    /// Reads `page` (number or `last`) and `page_size` (1..=500, else the default).
    pub fn from_query(page: Option<&str>, page_size: Option<&str>) -> Result<Self, ApiError> {
        let page = match page.map(str::trim) {
            None | Some("") => Some(1),
            Some("last") => None,
            Some(text) => Some(
                text.parse::<u64>()
                    .ok()
                    .filter(|page| *page >= 1)
                    .ok_or_else(invalid_page)?,
            ),
        };
        let page_size = page_size
            .and_then(|text| text.trim().parse::<u64>().ok())
            .filter(|size| (1..=MAX_PAGE_SIZE).contains(size))
            .unwrap_or(PAGE_SIZE);
        Ok(PageRequest { page, page_size })
    }

    /// Resolves `last` and checks the range against `count`; returns (page, offset).
    pub fn resolve(&self, count: u64) -> Result<(u64, u64), ApiError> {
        let n_pages = count.div_ceil(self.page_size).max(1);
        let page = self.page.unwrap_or(n_pages);
        if page > n_pages {
            return Err(invalid_page());
        }
        Ok((page, (page - 1) * self.page_size))
    }
}

fn invalid_page() -> ApiError {
    ApiError::NotFoundDetail("Invalid page.")
}

/// Builds the `{count, next, previous, results}` envelope with absolute URLs that keep the
/// other query parameters.
pub fn page_envelope(
    headers: &HeaderMap,
    uri: &Uri,
    count: u64,
    page: u64,
    page_size: u64,
    results: Vec<Value>,
) -> Value {
    let n_pages = count.div_ceil(page_size).max(1);
    let link = |target: u64| -> String {
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("localhost");
        let scheme = headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .filter(|proto| *proto == "https")
            .unwrap_or("http");
        let mut pairs: Vec<(String, String)> = uri
            .query()
            .map(|query| {
                url_pairs(query)
                    .into_iter()
                    .filter(|(key, _)| key != "page")
                    .collect()
            })
            .unwrap_or_default();
        if target > 1 {
            pairs.insert(0, ("page".to_owned(), target.to_string()));
        }
        let query = pairs
            .iter()
            .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let path = uri.path();
        if query.is_empty() {
            format!("{scheme}://{host}{path}")
        } else {
            format!("{scheme}://{host}{path}?{query}")
        }
    };
    json!({
        "count": count,
        "next": if page < n_pages { Value::String(link(page + 1)) } else { Value::Null },
        "previous": if page > 1 { Value::String(link(page - 1)) } else { Value::Null },
        "results": results,
    })
}

/// Splits a query string into decoded pairs.
pub fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        match bytes[idx] {
            b'+' => out.push(b' '),
            // Two hex digits exactly (`from_str_radix` alone would also take a sign: "%+0").
            b'%' if idx + 2 < bytes.len()
                && bytes[idx + 1].is_ascii_hexdigit()
                && bytes[idx + 2].is_ascii_hexdigit() =>
            {
                let hex = std::str::from_utf8(&bytes[idx + 1..idx + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        idx += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        idx += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// `{"detail": "Scheduling conflicts detected", "conflicts": [...]}`: the engine's booking
/// conflicts as the original renders them (every booking write answers them this way).
pub(crate) fn scheduling_conflicts_json(conflicts: &[praxi_domain::scheduling::Conflict]) -> Value {
    use praxi_domain::scheduling::{BookingRef, Conflict};
    let items: Vec<Value> = conflicts
        .iter()
        .filter_map(|conflict| match conflict {
            Conflict::Booking(b) => {
                let mut item = json!({
                    "type": b.kind.as_str(),
                    "model": b.booking.model(),
                    "id": b.booking.id(),
                    "message": b.message(),
                });
                if let Some(resource) = b.resource {
                    item["resource_id"] = json!(resource.0);
                }
                if let (Some(person), BookingRef::Operation(_)) = (b.person, b.booking) {
                    item["meta"] = json!({"doctor_id": person.0});
                }
                Some(item)
            }
            _ => None,
        })
        .collect();
    json!({"detail": "Scheduling conflicts detected", "conflicts": items, "code": "scheduling_conflict"})
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn datetimes_render_like_drf() {
        let instant = Utc.with_ymd_and_hms(2025, 1, 6, 9, 0, 0).unwrap();
        assert_eq!(datetime(instant, chrono_tz::UTC), "2025-01-06T09:00:00Z");
        assert_eq!(
            datetime(instant, chrono_tz::Europe::Berlin),
            "2025-01-06T10:00:00+01:00"
        );
        let summer = Utc.with_ymd_and_hms(2025, 7, 6, 9, 0, 0).unwrap();
        assert_eq!(
            datetime(summer, chrono_tz::Europe::Berlin),
            "2025-07-06T11:00:00+02:00"
        );
        let fraction = instant + chrono::Duration::microseconds(999_999);
        assert_eq!(
            datetime(fraction, chrono_tz::UTC),
            "2025-01-06T09:00:00.999999Z"
        );
    }

    #[test]
    fn page_requests() {
        let request = PageRequest::from_query(Some("last"), Some("5")).unwrap();
        assert_eq!(request.resolve(12).unwrap(), (3, 10));
        assert!(PageRequest::from_query(Some("abc"), None).is_err());
        let request = PageRequest::from_query(Some("4"), None).unwrap();
        assert!(request.resolve(120).is_err());
        let request = PageRequest::from_query(None, Some("100000")).unwrap();
        assert_eq!(request.page_size, PAGE_SIZE);
    }

    #[test]
    fn query_strings_round_trip() {
        assert_eq!(
            url_pairs("q=M%C3%BCller&x=a+b"),
            vec![
                ("q".to_owned(), "Müller".to_owned()),
                ("x".to_owned(), "a b".to_owned())
            ]
        );
        assert_eq!(encode("a b&"), "a%20b%26");
    }
}
