//! `/metrics`: Prometheus text format behind a bearer token. The registry is process-wide, so
//! tests running in parallel only ever make counters larger: checks are "increased by at
//! least".

use praxi_domain::Role;
use serde_json::json;
use std::collections::BTreeMap;

use crate::events::open_stream;
use crate::fixtures::Practice;
use crate::helpers::TestApp;

const TOKEN: &str = "metrics-token-0123456789-abcdefghijkl";

async fn spawn_with_token() -> TestApp {
    TestApp::spawn_with(|config| config.metrics_token = Some(TOKEN.to_owned())).await
}

/// GET /metrics with an optional bearer token: (status, content type, body).
async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut request = app.http.get(app.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("metrics request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.expect("body"))
}

/// Every sample line as `series -> value`; panics on a malformed line.
fn samples(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            assert!(
                line.is_empty() || line.starts_with("# HELP ") || line.starts_with("# TYPE "),
                "bad comment line {line:?}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value in {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line:?}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "unclosed labels in {line:?}");
        }
        samples.insert(series.to_owned(), value);
    }
    samples
}

fn value(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

/// Histogram invariants: buckets are cumulative, `+Inf` equals `_count`.
fn check_histograms(samples: &BTreeMap<String, f64>, name: &str) -> usize {
    let mut series_checked = 0;
    let bucket_prefix = format!("{name}_bucket{{");
    let mut groups: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for (series, count) in samples {
        let Some(labels) = series.strip_prefix(&bucket_prefix) else {
            continue;
        };
        let labels = labels.trim_end_matches('}');
        let (rest, le) = labels.rsplit_once("le=\"").expect("le label last");
        let le = le.trim_end_matches('"');
        let bound = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().expect("numeric le")
        };
        groups
            .entry(rest.trim_end_matches(',').to_owned())
            .or_default()
            .push((bound, *count));
    }
    for (labels, mut buckets) in groups {
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        for pair in buckets.windows(2) {
            assert!(pair[0].1 <= pair[1].1, "{name}{{{labels}}} not cumulative");
        }
        let (last_bound, inf_count) = buckets.last().copied().expect("buckets");
        assert!(last_bound.is_infinite(), "{name}{{{labels}}} has no +Inf");
        let count_series = if labels.is_empty() {
            format!("{name}_count")
        } else {
            format!("{name}_count{{{labels}}}")
        };
        assert_eq!(
            samples.get(&count_series).copied(),
            Some(inf_count),
            "{count_series}"
        );
        let sum_series = count_series.replacen("_count", "_sum", 1);
        assert!(samples.contains_key(&sum_series), "{sum_series} missing");
        series_checked += 1;
    }
    series_checked
}

#[tokio::test]
async fn metrics_are_a_404_when_no_token_is_configured() {
    let app = TestApp::spawn().await;
    let (status, _, _) = scrape(&app, None).await;
    assert_eq!(status, 404);
    let (status, _, _) = scrape(&app, Some(TOKEN)).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn metrics_need_the_bearer_token() {
    let app = spawn_with_token().await;
    let (status, _, body) = scrape(&app, None).await;
    assert_eq!(status, 401);
    assert!(!body.contains("praxi_http_requests_total"));
    let (status, _, _) = scrape(&app, Some("metrics-token-0123456789-abcdefghijkX")).await;
    assert_eq!(status, 401);
    // An API access token is not a metrics token, even an admin's.
    let admin = app.as_role(Role::Admin).await;
    let (status, _, _) = scrape(&app, admin.token.as_deref()).await;
    assert_eq!(status, 401);
    let (status, content_type, _) = scrape(&app, Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    app.stop().await;
}

#[tokio::test]
async fn request_counters_grow_by_route_template_and_histograms_are_well_formed() {
    let app = spawn_with_token().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/patients/",
            &json!({"id": 4242, "first_name": "Metric", "last_name": "Sample"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let patient = res.body["id"].as_i64().expect("id");
    let (_, _, before) = scrape(&app, Some(TOKEN)).await;
    let before = samples(&before);
    for _ in 0..3 {
        assert_eq!(
            admin.get(&format!("/api/patients/{patient}/")).await.status,
            200
        );
    }
    assert_eq!(admin.get("/api/patients/999999/").await.status, 404);
    let (_, _, after) = scrape(&app, Some(TOKEN)).await;
    let after = samples(&after);

    let ok = r#"praxi_http_requests_total{method="GET",route="/api/patients/{id}/",status="200"}"#;
    let missing =
        r#"praxi_http_requests_total{method="GET",route="/api/patients/{id}/",status="404"}"#;
    assert!(value(&after, ok) >= value(&before, ok) + 3.0, "{ok}");
    assert!(value(&after, missing) >= value(&before, missing) + 1.0);
    // Route templates, never raw paths with ids.
    assert!(
        !after
            .keys()
            .any(|series| series.contains(&format!("/api/patients/{patient}/")))
    );
    // Each patient read writes one audit row.
    assert!(
        value(&after, "praxi_audit_rows_written_total")
            >= value(&before, "praxi_audit_rows_written_total") + 3.0
    );
    assert!(after.contains_key(r#"praxi_db_pool_connections{state="idle"}"#));
    assert!(after.contains_key(r#"praxi_db_pool_connections{state="in_use"}"#));
    assert!(check_histograms(&after, "praxi_http_request_duration_seconds") >= 2);
    assert_eq!(check_histograms(&after, "praxi_audit_rows_per_write"), 1);
    app.stop().await;
}

#[tokio::test]
async fn refused_bookings_and_open_event_streams_are_counted() {
    let app = spawn_with_token().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let (_, _, before) = scrape(&app, Some(TOKEN)).await;
    let before = samples(&before);

    let mut first = practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 10, 0));
    first["resource_ids"] = json!([practice.room]);
    practice.book(&admin, &first).await;
    let mut second = practice.booking(practice.other_doctor.id, 2, (0, 9, 30), (0, 10, 30));
    second["resource_ids"] = json!([practice.room]);
    assert_eq!(admin.post("/api/appointments/", &second).await.status, 400);

    let stream = open_stream(&app, admin.token.as_deref().expect("token"), "op-board").await;
    let (_, _, during) = scrape(&app, Some(TOKEN)).await;
    let during = samples(&during);
    assert!(
        value(&during, "praxi_booking_conflicts_total")
            >= value(&before, "praxi_booking_conflicts_total") + 1.0
    );
    assert!(value(&during, "praxi_sse_clients") >= 1.0);
    drop(stream);
    app.stop().await;
}
