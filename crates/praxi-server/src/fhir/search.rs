//! Search parameters and the searchset `Bundle`.
//!
//! Unknown parameters are refused (400 naming the parameter, like `Prefer: handling=strict`)
//! rather than silently ignored, so a client never mistakes an unfiltered answer for a filtered
//! one. Dates take the prefixes `eq`, `lt`, `le`, `gt`, `ge` (repeatable: `start=ge…&start=lt…`)
//! at the precision sent (a day or a second).

use axum::http::Uri;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};

use super::{FhirError, FhirResult};
use crate::body::{parse_date_str, parse_datetime_str};
use crate::state::AppState;
use crate::usecases::local_days;
use crate::wire;

/// Parameters every search takes.
const COMMON: [&str; 2] = ["_count", "_format"];

/// The query of a search interaction.
#[derive(Debug, Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses the query and refuses parameters not in `known` (nor `_count`, `_format`).
    pub(crate) fn parse(uri: &Uri, known: &[&str]) -> FhirResult<Params> {
        let pairs = wire::url_pairs(uri.query().unwrap_or_default());
        for (name, value) in &pairs {
            let base = name.split(':').next().unwrap_or_default();
            if !known.contains(&name.as_str()) && !COMMON.contains(&base) {
                return Err(FhirError::unsupported_param(name));
            }
            if base == "_format"
                && !matches!(
                    value.as_str(),
                    "json" | "application/json" | "application/fhir+json"
                )
            {
                return Err(FhirError::invalid(
                    "_format",
                    "only JSON (application/fhir+json) is supported",
                ));
            }
        }
        Ok(Params { pairs })
    }

    /// Every value of a parameter, in order (comma-separated values count as one each).
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The one value of a parameter; a repeated one is refused.
    pub(crate) fn one(&self, name: &str) -> FhirResult<Option<&str>> {
        match self.all(name).as_slice() {
            [] => Ok(None),
            [value] if value.trim().is_empty() => Err(FhirError::invalid(
                name,
                format!("search parameter '{name}' is empty"),
            )),
            [value] => Ok(Some(value.trim())),
            _ => Err(FhirError::invalid(
                name,
                format!("search parameter '{name}' may be given once"),
            )),
        }
    }

    /// `_count`: at most `max`, `default` when absent.
    pub(crate) fn count(&self, default: usize, max: usize) -> FhirResult<usize> {
        match self.one("_count")? {
            None => Ok(default),
            Some(text) => match text.parse::<usize>() {
                Ok(count) => Ok(count.min(max)),
                Err(_) => Err(FhirError::invalid(
                    "_count",
                    "_count must be a non-negative integer",
                )),
            },
        }
    }

    /// A reference parameter (`Patient/3` or `3`) as the id of `resource_type`.
    pub(crate) fn reference(&self, name: &str, resource_type: &str) -> FhirResult<Option<i64>> {
        let Some(text) = self.one(name)? else {
            return Ok(None);
        };
        reference_id(text, resource_type).map(Some).ok_or_else(|| {
            FhirError::invalid(
                name,
                format!("'{text}' is not a reference to a {resource_type} ({resource_type}/<id>)"),
            )
        })
    }
}

/// `Type/123` or `123` (an absolute URL ending in `Type/123` too) as `123`.
pub(crate) fn reference_id(text: &str, resource_type: &str) -> Option<i64> {
    let text = text.trim();
    let id = match text.rsplit_once('/') {
        Some((head, id))
            if head == resource_type || head.ends_with(&format!("/{resource_type}")) =>
        {
            id
        }
        Some(_) => return None,
        None => text,
    };
    if id.is_empty() || !id.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    id.parse().ok().filter(|id| *id > 0)
}

/// A half-open range `[from, until)` a search narrows values to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range<T> {
    pub(crate) from: Option<T>,
    pub(crate) until: Option<T>,
}

impl<T: Ord + Copy> Range<T> {
    fn all() -> Self {
        Range {
            from: None,
            until: None,
        }
    }

    pub(crate) fn contains(&self, value: T) -> bool {
        self.from.is_none_or(|from| value >= from) && self.until.is_none_or(|until| value < until)
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!((self.from, self.until), (Some(from), Some(until)) if from >= until)
    }

    /// Narrows by one value `[lo, hi)` with its prefix.
    fn narrow(&mut self, prefix: &str, lo: T, hi: T) -> bool {
        let raise = |current: Option<T>, to: T| Some(current.map_or(to, |c| c.max(to)));
        let lower = |current: Option<T>, to: T| Some(current.map_or(to, |c| c.min(to)));
        match prefix {
            "eq" => {
                self.from = raise(self.from, lo);
                self.until = lower(self.until, hi);
            }
            "ge" => self.from = raise(self.from, lo),
            "gt" => self.from = raise(self.from, hi),
            "lt" => self.until = lower(self.until, lo),
            "le" => self.until = lower(self.until, hi),
            _ => return false,
        }
        true
    }
}

/// Splits `ge2030-01-14` into (`ge`, `2030-01-14`); no prefix is `eq`.
fn prefixed(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.get(..2) {
        Some(prefix) if prefix.bytes().all(|b| b.is_ascii_lowercase()) => (prefix, &text[2..]),
        _ => ("eq", text),
    }
}

fn prefix_error(name: &str, prefix: &str) -> FhirError {
    FhirError::invalid(
        name,
        format!("prefix '{prefix}' is not supported for '{name}' (eq, lt, le, gt, ge)"),
    )
}

/// A date(time) search parameter on an instant: `YYYY-MM-DD` is the practice's local day, a
/// date-time (with offset, or practice wall-clock time) is that second.
pub(crate) fn instant_range(
    params: &Params,
    name: &str,
    state: &AppState,
) -> FhirResult<Range<DateTime<Utc>>> {
    let mut range = Range::all();
    for value in params.all(name) {
        let (prefix, text) = prefixed(value);
        let (lo, hi) = if let Some(date) = parse_date_str(text) {
            let day = local_days(state, date, date).ok_or_else(|| bad_date(name, value))?;
            (day.start(), day.end())
        } else if let Some(at) = parse_datetime_str(text, state.tz()) {
            (at, at + TimeDelta::seconds(1))
        } else {
            return Err(bad_date(name, value));
        };
        if !range.narrow(prefix, lo, hi) {
            return Err(prefix_error(name, prefix));
        }
    }
    Ok(range)
}

/// A date search parameter on a date (`birthdate`): day precision only.
pub(crate) fn date_range(params: &Params, name: &str) -> FhirResult<Range<NaiveDate>> {
    let mut range = Range::all();
    for value in params.all(name) {
        let (prefix, text) = prefixed(value);
        let lo = parse_date_str(text).ok_or_else(|| bad_date(name, value))?;
        let hi = lo.succ_opt().ok_or_else(|| bad_date(name, value))?;
        if !range.narrow(prefix, lo, hi) {
            return Err(prefix_error(name, prefix));
        }
    }
    Ok(range)
}

fn bad_date(name: &str, value: &str) -> FhirError {
    FhirError::invalid(
        name,
        format!("'{value}' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ss+zz:zz)"),
    )
}

/// A searchset `Bundle` of `(Type/id, resource)` entries; `total` when the whole match set
/// was returned.
pub(crate) fn bundle(base: &str, uri: &Uri, entries: Vec<Value>, total: Option<usize>) -> Value {
    let self_url = match uri.query() {
        Some(query) => format!("{base}{}?{query}", uri.path().trim_start_matches("/fhir")),
        None => format!("{base}{}", uri.path().trim_start_matches("/fhir")),
    };
    let entry: Vec<Value> = entries
        .into_iter()
        .map(|resource| {
            let full_url = format!(
                "{base}/{}/{}",
                resource["resourceType"].as_str().unwrap_or_default(),
                resource["id"].as_str().unwrap_or_default()
            );
            json!({"fullUrl": full_url, "resource": resource, "search": {"mode": "match"}})
        })
        .collect();
    let mut bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "self", "url": self_url}],
    });
    if let Some(total) = total {
        bundle["total"] = json!(total);
    }
    if !entry.is_empty() {
        bundle["entry"] = Value::Array(entry);
    }
    bundle
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_accept_type_and_id_or_a_bare_id() {
        assert_eq!(reference_id("Patient/3", "Patient"), Some(3));
        assert_eq!(reference_id("3", "Patient"), Some(3));
        assert_eq!(
            reference_id("http://x.test/fhir/Patient/3", "Patient"),
            Some(3)
        );
        assert_eq!(reference_id("Practitioner/3", "Patient"), None);
        assert_eq!(reference_id("Patient/x", "Patient"), None);
        assert_eq!(reference_id("Patient/0", "Patient"), None);
        assert_eq!(reference_id("", "Patient"), None);
    }

    #[test]
    fn prefixes_narrow_a_half_open_range() {
        let day = |d| NaiveDate::from_ymd_opt(2030, 1, d).unwrap();
        let mut range = Range::all();
        assert!(range.narrow("ge", day(14), day(15)));
        assert!(range.narrow("lt", day(17), day(18)));
        assert_eq!((range.from, range.until), (Some(day(14)), Some(day(17))));
        assert!(range.contains(day(16)) && !range.contains(day(17)));
        let mut range = Range::all();
        assert!(range.narrow("gt", day(14), day(15)));
        assert!(range.narrow("le", day(16), day(17)));
        assert_eq!((range.from, range.until), (Some(day(15)), Some(day(17))));
        let mut range = Range::all();
        assert!(range.narrow("eq", day(14), day(15)));
        assert!(range.contains(day(14)) && !range.contains(day(15)));
        assert!(!range.narrow("sa", day(14), day(15)));
        assert_eq!(prefixed("2030-01-14"), ("eq", "2030-01-14"));
        assert_eq!(prefixed("ge2030-01-14"), ("ge", "2030-01-14"));
    }
}
