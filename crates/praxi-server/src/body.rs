//! Request bodies. JSON is parsed into a map and read field by field so every error names its
//! field in the DRF shape; unknown fields are rejected, read-only fields that clients echo back
//! (ids, timestamps) are ignored.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use praxi_domain::FieldErrors;
use praxi_domain::validation::REQUIRED;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

use crate::error::ApiError;

/// The maximum accepted request body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON object body.
#[derive(Debug)]
pub struct JsonBody(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !(essence == "application/json" || essence.ends_with("+json")) {
            return Err(ApiError::UnsupportedMediaType(content_type));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::Detail(format!("could not read body: {rejection}"))
            }
        })?;
        parse_object(&bytes).map(JsonBody)
    }
}

/// Parses bytes into a JSON object, with DRF's error texts.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::Detail(format!("JSON parse error - {error}")))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::field(
            "non_field_errors",
            "Invalid data. Expected a dictionary.",
        )),
    }
}

/// Reads typed fields out of a JSON object and collects per-field errors.
pub struct Fields {
    map: Map<String, Value>,
    seen: BTreeSet<String>,
    errors: FieldErrors,
    tz: Tz,
}

impl Fields {
    pub fn new(body: JsonBody, tz: Tz) -> Self {
        Fields {
            map: body.0,
            seen: BTreeSet::new(),
            errors: FieldErrors::new(),
            tz,
        }
    }

    pub fn errors_mut(&mut self) -> &mut FieldErrors {
        &mut self.errors
    }

    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    fn take(&mut self, name: &str) -> Option<Value> {
        self.seen.insert(name.to_owned());
        self.map.get(name).cloned()
    }

    /// Marks fields as known but ignored (read-only fields clients send back).
    pub fn ignore(&mut self, names: &[&str]) {
        for name in names {
            self.seen.insert((*name).to_owned());
        }
    }

    fn require<T>(&mut self, name: &str, value: Option<Option<T>>) -> Option<T> {
        match value {
            Some(Some(value)) => Some(value),
            Some(None) => {
                // A value that failed to parse already has its message.
                if !self.errors.contains(name) {
                    self.errors.add(name, "This field may not be null.");
                }
                None
            }
            None => {
                self.errors.add(name, REQUIRED);
                None
            }
        }
    }

    /// Generic reader: `None` = absent, `Some(None)` = explicit null or invalid (error
    /// recorded), `Some(Some(v))` = a value.
    fn read<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<Option<T>> {
        let value = self.take(name)?;
        if value.is_null() {
            return Some(None);
        }
        match parse(&value) {
            Ok(parsed) => Some(Some(parsed)),
            Err(message) => {
                self.errors.add(name, message);
                Some(None)
            }
        }
    }

    /// An optional, nullable string (`None` absent, `Some(None)` null).
    pub fn opt_string(&mut self, name: &str) -> Option<Option<String>> {
        let errors_before = self.errors.fields().get(name).map_or(0, Vec::len);
        let value = self.read(name, parse_string);
        let failed = self.errors.fields().get(name).map_or(0, Vec::len) > errors_before;
        if failed { None } else { value }
    }

    /// An optional string that may not be null (blank allowed).
    pub fn string(&mut self, name: &str) -> Option<String> {
        match self.opt_string(name) {
            Some(Some(value)) => Some(value),
            Some(None) => {
                self.errors.add(name, "This field may not be null.");
                None
            }
            None => None,
        }
    }

    pub fn required_string(&mut self, name: &str) -> Option<String> {
        let value = self.read(name, parse_string);
        self.require(name, value)
    }

    pub fn opt_int(&mut self, name: &str) -> Option<Option<i64>> {
        self.read(name, parse_int)
    }

    pub fn required_int(&mut self, name: &str) -> Option<i64> {
        let value = self.read(name, parse_int);
        self.require(name, value)
    }

    pub fn opt_bool(&mut self, name: &str) -> Option<Option<bool>> {
        self.read(name, parse_bool)
    }

    pub fn opt_date(&mut self, name: &str) -> Option<Option<NaiveDate>> {
        self.read(name, parse_date)
    }

    pub fn required_date(&mut self, name: &str) -> Option<NaiveDate> {
        let value = self.read(name, parse_date);
        self.require(name, value)
    }

    pub fn opt_time(&mut self, name: &str) -> Option<Option<NaiveTime>> {
        self.read(name, parse_time)
    }

    pub fn required_time(&mut self, name: &str) -> Option<NaiveTime> {
        let value = self.read(name, parse_time);
        self.require(name, value)
    }

    pub fn opt_datetime(&mut self, name: &str) -> Option<Option<DateTime<Utc>>> {
        let tz = self.tz;
        self.read(name, |value| parse_datetime(value, tz))
    }

    pub fn required_datetime(&mut self, name: &str) -> Option<DateTime<Utc>> {
        let value = self.opt_datetime(name);
        self.require(name, value)
    }

    /// A list of integer ids (de-duplicated, order kept).
    pub fn opt_id_list(&mut self, name: &str) -> Option<Vec<i64>> {
        match self.read(name, parse_id_list)? {
            Some(ids) => Some(ids),
            None => {
                if !self.errors.contains(name) {
                    self.errors.add(name, "This field may not be null.");
                }
                None
            }
        }
    }

    /// Ends reading: unknown fields become errors; returns all collected errors.
    pub fn finish(mut self) -> Result<(), ApiError> {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|key| !self.seen.contains(*key))
            .cloned()
            .collect();
        for key in unknown {
            self.errors.add(&key, "Unknown field.");
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

/// How a write body is read: POST and PUT require every required field, PATCH none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Replace,
    Patch,
}

impl Mode {
    pub fn requires_all(self) -> bool {
        matches!(self, Mode::Create | Mode::Replace)
    }
}

/// Readers of non-null values, shared by the API bodies and the administration forms.
impl Fields {
    /// A non-null integer, required unless `mode` is a patch.
    pub fn non_null_int(&mut self, name: &str, mode: Mode) -> Option<i64> {
        let value = self.opt_int(name);
        self.resolve(name, value, mode)
    }

    /// A non-null time of day, required unless `mode` is a patch.
    pub fn non_null_time(&mut self, name: &str, mode: Mode) -> Option<NaiveTime> {
        let value = self.opt_time(name);
        self.resolve(name, value, mode)
    }

    /// A non-null date, required unless `mode` is a patch.
    pub fn non_null_date(&mut self, name: &str, mode: Mode) -> Option<NaiveDate> {
        let value = self.opt_date(name);
        self.resolve(name, value, mode)
    }

    /// An optional, non-null boolean (`active`: the model default applies when omitted).
    pub fn non_null_bool(&mut self, name: &str) -> Option<bool> {
        let value = self.opt_bool(name);
        self.resolve(name, value, Mode::Patch)
    }

    /// Resolves a reader's result: absent → "required" when the mode requires the field;
    /// null → DRF's null message; an invalid value keeps only its own message.
    /// (`required_*` would add the null message to an invalid value as well.)
    fn resolve<T>(&mut self, name: &str, value: Option<Option<T>>, mode: Mode) -> Option<T> {
        match value {
            Some(Some(value)) => Some(value),
            Some(None) => {
                // `None` inside also stands for "invalid", whose error is already recorded.
                if !self.errors.contains(name) {
                    self.errors.add(name, "This field may not be null.");
                }
                None
            }
            None => {
                if mode.requires_all() {
                    self.errors.add(name, REQUIRED);
                }
                None
            }
        }
    }
}

fn parse_string(value: &Value) -> Result<String, String> {
    match value {
        // PostgreSQL cannot store NUL in text; DRF rejects it with this message.
        Value::String(text) if text.contains('\0') => {
            Err("Null characters are not allowed.".to_owned())
        }
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err("Not a valid string.".to_owned()),
    }
}

fn parse_int(value: &Value) -> Result<i64, String> {
    const MESSAGE: &str = "A valid integer is required.";
    match value {
        Value::Number(number) => number
            .as_i64()
            .or_else(|| {
                number
                    .as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| MESSAGE.to_owned()),
        Value::String(text) => text.trim().parse::<i64>().map_err(|_| MESSAGE.to_owned()),
        _ => Err(MESSAGE.to_owned()),
    }
}

fn parse_bool(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::String(text) => match text.to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err("Must be a valid boolean.".to_owned()),
        },
        Value::Number(number) if number.as_i64() == Some(1) => Ok(true),
        Value::Number(number) if number.as_i64() == Some(0) => Ok(false),
        _ => Err("Must be a valid boolean.".to_owned()),
    }
}

const DATE_MESSAGE: &str = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.";

/// Parses `YYYY-MM-DD`.
pub fn parse_date_str(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

fn parse_date(value: &Value) -> Result<NaiveDate, String> {
    value
        .as_str()
        .and_then(parse_date_str)
        .ok_or_else(|| DATE_MESSAGE.to_owned())
}

/// Parses `HH:MM[:SS[.ffffff]]`.
pub fn parse_time_str(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    NaiveTime::parse_from_str(text, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M"))
        .ok()
}

fn parse_time(value: &Value) -> Result<NaiveTime, String> {
    value.as_str().and_then(parse_time_str).ok_or_else(|| {
        "Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]].".to_owned()
    })
}

/// Parses an ISO 8601 datetime; naive values are practice wall-clock time. Non-existent local
/// times (DST gap) are rejected; ambiguous ones take the earlier instant.
pub fn parse_datetime_str(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(aware) = DateTime::parse_from_rfc3339(text) {
        return Some(aware.with_timezone(&Utc)).filter(|instant| in_supported_years(*instant, tz));
    }
    if let Ok(aware) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M%:z") {
        return Some(aware.with_timezone(&Utc)).filter(|instant| in_supported_years(*instant, tz));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .ok()?;
    naive
        .and_local_timezone(tz)
        .earliest()
        .map(|local| local.with_timezone(&Utc))
        .filter(|instant| in_supported_years(*instant, tz))
}

/// Years 1–9999 in UTC and in the practice zone and no leap second, as the original
/// (Python's `datetime`) accepts; outside them a value could not be rendered back.
fn in_supported_years(instant: DateTime<Utc>, tz: Tz) -> bool {
    use chrono::{Datelike, Timelike};
    let years = 1..=9999;
    years.contains(&instant.year())
        && years.contains(&instant.with_timezone(&tz).year())
        && instant.nanosecond() < 1_000_000_000
}

fn parse_datetime(value: &Value, tz: Tz) -> Result<DateTime<Utc>, String> {
    value
        .as_str()
        .and_then(|text| parse_datetime_str(text, tz))
        .ok_or_else(|| {
            "Datetime has wrong format. Use one of these formats instead: \
             YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                .to_owned()
        })
}

fn parse_id_list(value: &Value) -> Result<Vec<i64>, String> {
    let items = value
        .as_array()
        .ok_or_else(|| "Expected a list of items.".to_owned())?;
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let id = parse_int(item)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Fields {
        let Value::Object(map) = value else {
            panic!("object expected")
        };
        Fields::new(JsonBody(map), chrono_tz::Europe::Berlin)
    }

    #[test]
    fn wrong_types_name_their_field() {
        let mut body = fields(json!({"id": "abc", "birth_date": "1980-13-01", "extra": 1}));
        assert_eq!(body.required_int("id"), None);
        assert_eq!(body.opt_date("birth_date"), Some(None));
        let Err(ApiError::Validation(errors)) = body.finish() else {
            panic!("expected validation error")
        };
        assert!(errors.contains("id"));
        assert!(errors.contains("birth_date"));
        assert!(errors.contains("extra"));
    }

    #[test]
    fn naive_datetimes_are_practice_wall_clock() {
        let tz = chrono_tz::Europe::Berlin;
        let utc = parse_datetime_str("2026-07-01T09:00:00", tz).unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-07-01T07:00:00+00:00");
        let utc = parse_datetime_str("2026-01-05T09:00:00Z", tz).unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-01-05T09:00:00+00:00");
        assert_eq!(parse_datetime_str("2026-03-29T02:30:00", tz), None);
    }
}
