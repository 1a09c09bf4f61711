//! Fuzzing the request parsers with proptest: JSON bodies (`body.rs`), query strings (the
//! query check and `wire::url_pairs`), and the date/time/datetime parsers. Nothing may panic,
//! every refusal is a 4xx naming a field, and what parses round-trips.
//!
//! The number of cases is `PRAXI_FUZZ_CASES` (default 3,000 per target, a few seconds); the
//! long run recorded in `docs/reliability.md` used `PRAXI_FUZZ_CASES=1000000`.

use axum::response::IntoResponse;
use chrono::{NaiveTime, Timelike};
use praxi_server::body::{self, Fields, JsonBody};
use praxi_server::error::ApiError;
use praxi_server::resilience::check_query;
use praxi_server::wire::{self, PageRequest};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{Map, Value};

fn config(default: u32) -> Config {
    Config {
        cases: std::env::var("PRAXI_FUZZ_CASES")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(default),
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

const TZS: [chrono_tz::Tz; 3] = [
    chrono_tz::Europe::Berlin,
    chrono_tz::UTC,
    chrono_tz::Australia::Lord_Howe,
];

/// JSON-like text: mostly well-formed objects with hostile values, sometimes broken.
fn json_text() -> impl Strategy<Value = Vec<u8>> {
    let scalar = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        Just("1e400".to_owned()),
        Just("-0".to_owned()),
        Just("123456789012345678901234567890".to_owned()),
        "\\PC{0,12}".prop_map(|text| serde_json::to_string(&text).unwrap_or_default()),
        Just("\"\\u0000\"".to_owned()),
        Just("\"\\ud800\"".to_owned()),
        Just("\"2026-03-29T02:30:00\"".to_owned()),
        Just("\"2026-10-25T02:30:00+01:00\"".to_owned()),
        Just("\"9999-12-31T23:59:59.999999-23:59\"".to_owned()),
        Just("[1, \"2\", 3.0, null, 1e20]".to_owned()),
        Just("{\"a\": {\"b\": []}}".to_owned()),
    ];
    let key = prop_oneof![
        Just("id"),
        Just("first_name"),
        Just("birth_date"),
        Just("start_time"),
        Just("date"),
        Just("active"),
        Just("resource_ids"),
        Just("x\u{0}y"),
        Just(""),
    ];
    let object = prop::collection::vec((key, scalar), 0..8).prop_map(|pairs| {
        let fields: Vec<String> = pairs
            .into_iter()
            .map(|(key, value)| {
                format!(
                    "{}: {value}",
                    serde_json::to_string(key).unwrap_or_default()
                )
            })
            .collect();
        format!("{{{}}}", fields.join(", ")).into_bytes()
    });
    prop_oneof![
        6 => object,
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => (prop::collection::vec(any::<u8>(), 0..48), 0usize..48).prop_map(|(mut bytes, cut)| {
            let mut text = b"{\"id\": 1, \"name\": \"".to_vec();
            text.append(&mut bytes);
            text.truncate(cut.max(1));
            text
        }),
        1 => (1usize..200).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()),
    ]
}

fn status_of(error: ApiError) -> u16 {
    error.into_response().status().as_u16()
}

/// Reads every field with a reader chosen by the key, as handlers do.
fn read_all(map: Map<String, Value>) -> Result<(), ApiError> {
    let keys: Vec<String> = map.keys().cloned().collect();
    let mut fields = Fields::new(JsonBody(map), chrono_tz::Europe::Berlin);
    for (idx, key) in keys.iter().enumerate() {
        match idx % 9 {
            0 => {
                let _ = fields.opt_string(key);
            }
            1 => {
                let _ = fields.required_int(key);
            }
            2 => {
                let _ = fields.opt_bool(key);
            }
            3 => {
                let _ = fields.opt_date(key);
            }
            4 => {
                let _ = fields.required_time(key);
            }
            5 => {
                let _ = fields.opt_datetime(key);
            }
            6 => {
                let _ = fields.opt_id_list(key);
            }
            7 => {
                let _ = fields.required_string(key);
            }
            _ => {}
        }
    }
    let _ = fields.required_datetime("start_time");
    fields.finish()
}

proptest! {
    #![proptest_config(config(3_000))]

    #[test]
    fn json_bodies_never_panic_and_refusals_are_4xx_naming_a_field(bytes in json_text()) {
        match body::parse_object(&bytes) {
            Err(error) => prop_assert_eq!(status_of(error), 400),
            Ok(map) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                if let Err(error) = read_all(map) {
                    let ApiError::Validation(errors) = error else {
                        return Err(TestCaseError::fail(format!("unexpected {error:?}")));
                    };
                    for field in errors.fields().keys() {
                        prop_assert!(keys.contains(field) || field == "start_time", "{field}");
                    }
                    prop_assert_eq!(status_of(ApiError::Validation(errors)), 400);
                }
            }
        }
    }

    #[test]
    fn query_strings_never_panic_and_accepted_ones_decode_to_clean_text(
        parts in prop::collection::vec(
            prop_oneof![
                "[a-z_]{1,8}".prop_map(|s| s),
                Just("=".to_owned()), Just("&".to_owned()), Just("+".to_owned()),
                Just("%".to_owned()), Just("%00".to_owned()), Just("%C3%BC".to_owned()),
                Just("%C3".to_owned()), Just("%FF".to_owned()), Just("%E2%82".to_owned()),
                Just("%2".to_owned()), Just("%zz".to_owned()), Just("%26".to_owned()),
                (0u8..=255).prop_map(|byte| format!("%{byte:02X}")),
                "\\PC{1,4}".prop_map(|s| s),
            ],
            0..24,
        )
    ) {
        let query = parts.concat();
        let pairs = wire::url_pairs(&query);
        match check_query(&query) {
            Ok(()) => {
                for (name, value) in &pairs {
                    prop_assert!(!name.contains('\0') && !value.contains('\0'));
                }
                // Every pair decodes to valid text: no replacement character appears that the
                // raw query did not already contain.
                if !query.contains('\u{FFFD}') {
                    for (name, value) in &pairs {
                        prop_assert!(!name.contains('\u{FFFD}') && !value.contains('\u{FFFD}'), "{query}");
                    }
                }
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                prop_assert_eq!(status_of(ApiError::Validation(errors)), 400);
            }
        }
        let page = pairs.iter().find(|(name, _)| name == "page").map(|(_, v)| v.as_str());
        let size = pairs.iter().find(|(name, _)| name == "page_size").map(|(_, v)| v.as_str());
        if let Ok(request) = PageRequest::from_query(page, size) {
            let _ = request.resolve(u64::MAX / 2);
        }
    }

    #[test]
    fn datetime_parsers_never_panic_and_round_trip(
        text in prop_oneof![
            (0i32..10_000, 0u32..14, 0u32..33, 0u32..26, 0u32..62, 0u32..62, 0u32..1_000_000,
             prop_oneof![Just(String::new()), Just("Z".to_owned()), Just("+01:00".to_owned()),
                         Just("-23:59".to_owned()), Just("+24:00".to_owned()), Just("+05:45".to_owned())],
             prop_oneof![Just('T'), Just(' '), Just('t')])
                .prop_map(|(y, mo, d, h, mi, s, us, offset, sep)| {
                    format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}.{us:06}{offset}")
                }),
            "[0-9T:+\\-. Z]{0,32}",
            "\\PC{0,24}",
        ],
        tz_idx in 0usize..3,
    ) {
        let tz = TZS[tz_idx];
        if let Some(instant) = body::parse_datetime_str(&text, tz) {
            let rendered = wire::datetime(instant, tz);
            prop_assert_eq!(body::parse_datetime_str(&rendered, tz), Some(instant), "{} -> {}", text, rendered);
        }
        if let Some(date) = body::parse_date_str(&text) {
            prop_assert_eq!(body::parse_date_str(&date.format("%Y-%m-%d").to_string()), Some(date));
        }
        if let Some(time) = body::parse_time_str(&text) {
            let rendered = time.format("%H:%M:%S%.f").to_string();
            let back = body::parse_time_str(&rendered);
            prop_assert_eq!(back.map(|t| (t.hour(), t.minute(), t.second())),
                            Some((time.hour(), time.minute(), time.second())));
            prop_assert!(back.is_some_and(|t: NaiveTime| t.nanosecond() == time.nanosecond()));
        }
    }
}
