//! `/api/schema/` (OpenAPI 3.1) and `/api/docs/`: the document is valid and public, every
//! route of the API router is documented and every documented operation is routed, and what
//! the router answers to probes is among the statuses the document promises.

use std::collections::{BTreeMap, BTreeSet};

use praxi_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn schema(app: &TestApp) -> Value {
    let response = app.anonymous().get("/api/schema/").await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert!(
        response
            .header("content-type")
            .is_some_and(|value| value.starts_with("application/json")),
        "content type {:?}",
        response.header("content-type")
    );
    response.body
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "$ref" {
                    if let Some(target) = inner.as_str() {
                        out.push(target);
                    }
                } else {
                    refs(inner, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}

#[tokio::test]
async fn schema_is_public_openapi_3_1_with_resolvable_refs() {
    let app = TestApp::spawn().await;
    let doc = schema(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Praxi API");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "The `access` token of `POST /api/auth/login/` (HS256 JWT)"})
    );
    assert_eq!(doc["security"], json!([{"bearer": []}]));
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 50, "only {} paths", paths.len());
    // Found by schemathesis: every `{name}` of a path is a documented path parameter.
    for (path, item) in paths {
        let names: Vec<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split('}').next())
            .collect();
        for (method, operation) in item.as_object().expect("path item") {
            let declared: Vec<&str> = operation["parameters"]
                .as_array()
                .map(|parameters| {
                    parameters
                        .iter()
                        .filter(|p| p["in"] == "path")
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            for name in &names {
                assert!(
                    declared.contains(name),
                    "{method} {path}: path parameter {name} is not documented"
                );
            }
        }
    }
    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        assert!(path.starts_with('/') && path.ends_with('/') || path.contains("{file}"));
        for (method, operation) in item.as_object().expect("path item") {
            assert!(METHODS.contains(&method.as_str()), "{method} {path}");
            assert!(operation["summary"].is_string(), "{method} {path}: summary");
            let id = operation["operationId"].as_str().expect("operationId");
            assert!(operation_ids.insert(id.to_owned()), "duplicate {id}");
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{method} {path}: no success answer"
            );
            let public = operation.get("security") == Some(&json!([]));
            assert_eq!(
                responses.contains_key("401"),
                !public,
                "{method} {path}: 401 documented iff authenticated"
            );
            for placeholder in ["{id}", "{board}", "{file}"] {
                if path.contains(placeholder) {
                    let name = placeholder.trim_matches(['{', '}']);
                    assert!(
                        operation["parameters"]
                            .as_array()
                            .is_some_and(|parameters| parameters
                                .iter()
                                .any(|p| p["name"] == name && p["in"] == "path")),
                        "{method} {path}: path parameter {name}"
                    );
                }
            }
        }
    }
    // Every reference resolves inside the document.
    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let pointer = target.strip_prefix('#').expect("local ref");
        assert!(doc.pointer(pointer).is_some(), "unresolved {target}");
    }
    // The DRF error shapes are documented.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Detail"]["required"], json!(["detail"]));
    assert!(schemas["FieldErrors"]["additionalProperties"]["type"] == "array");
    assert!(schemas["SchedulingConflict"]["properties"]["conflicts"].is_object());
    assert!(schemas["BadRequestBody"]["anyOf"].is_array());
    let page = &doc["paths"]["/api/patients/"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert_eq!(
        page["properties"]["results"]["items"]["$ref"],
        "#/components/schemas/Patient"
    );
    app.stop().await;
}

/// The paths the router source declares: `.route("...")` literals in `src/api/` and the
/// master-data tables' `PATH` (collection and `{id}/`).
fn routed_paths() -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/api"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src/api") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("read source");
            let mut rest = source.as_str();
            while let Some(at) = rest.find(".route(") {
                rest = &rest[at + ".route(".len()..];
                let trimmed = rest.trim_start();
                if let Some(literal) = trimmed.strip_prefix('"') {
                    let end = literal.find('"').expect("closing quote");
                    paths.insert(literal[..end].to_owned());
                }
            }
            for line in source.lines() {
                if let Some(value) = line
                    .trim()
                    .strip_prefix("const PATH: &'static str = \"")
                    .and_then(|value| value.strip_suffix("\";"))
                {
                    paths.insert(value.to_owned());
                    paths.insert(format!("{value}{{id}}/"));
                }
            }
        }
    }
    paths
}

#[tokio::test]
async fn every_routed_path_is_documented_and_every_documented_path_is_routed() {
    let app = TestApp::spawn().await;
    let doc = schema(&app).await;
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    let routed = routed_paths();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes without documentation: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
    app.stop().await;
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "999999")
        .replace("{board}", "patient-flow")
        .replace("{file}", "api-docs.js")
}

/// Every documented method is routed (an admin never gets a 405 where the document promises
/// the method), every other method is refused with 405 (or 403 where the policy gives no write
/// rights), and each probe's status, anonymous or as admin, is one the operation documents.
#[tokio::test]
async fn documented_methods_are_routed_and_answer_documented_statuses() {
    let app = TestApp::spawn().await;
    let doc = schema(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let anonymous = app.anonymous();
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let operations = item.as_object().expect("item");
        let url = concrete(path);
        for method in METHODS {
            let http_method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("m");
            let body = (method != "get" && method != "delete").then(|| json!({}));
            if path.starts_with("/api/events/") {
                // An event stream never ends: only its status line is read.
                let mut request = app.http.request(http_method.clone(), app.url(&url));
                if let Some(token) = &admin.token {
                    request = request.bearer_auth(token);
                }
                let status = request.send().await.expect("events").status().as_u16();
                let expected = if method == "get" { 200 } else { 405 };
                if status != expected {
                    problems.push(format!("{method} {path}: {status}"));
                }
                continue;
            }
            let as_admin = admin.send(http_method.clone(), &url, body.as_ref()).await;
            match operations.get(method) {
                Some(operation) => {
                    let documented: BTreeMap<&String, &Value> = operation["responses"]
                        .as_object()
                        .expect("responses")
                        .iter()
                        .collect();
                    if as_admin.status == 405 {
                        problems.push(format!("{method} {path}: routed? 405 for admin"));
                    }
                    let as_anonymous = anonymous.send(http_method, &url, body.as_ref()).await;
                    for (who, status) in [
                        ("admin", as_admin.status),
                        ("anonymous", as_anonymous.status),
                    ] {
                        if !documented.contains_key(&status.to_string()) {
                            problems
                                .push(format!("{method} {path}: undocumented {status} for {who}"));
                        }
                    }
                }
                None => {
                    let public = path.starts_with("/api/auth/")
                        || path.contains("/docs/")
                        || path.ends_with("/schema/")
                        || path.ends_with("/health/");
                    let allowed: &[u16] = if public { &[405] } else { &[403, 405] };
                    if !allowed.contains(&as_admin.status) {
                        problems.push(format!(
                            "{method} {path}: undocumented method answers {}",
                            as_admin.status
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    app.stop().await;
}

#[tokio::test]
async fn api_docs_viewer_is_served_under_the_strict_csp() {
    let app = TestApp::spawn().await;
    let page = app.anonymous().get("/api/docs/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .is_some_and(|value| value.starts_with("text/html"))
    );
    let csp = page.header("content-security-policy").expect("csp");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    // No inline script: every <script> has a src, and each referenced file is served.
    let html = &page.text;
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=").count()
    );
    for (asset, kind) in [
        ("/api/docs/swagger-ui-bundle.js", "text/javascript"),
        ("/api/docs/api-docs.js", "text/javascript"),
        ("/api/docs/swagger-ui.css", "text/css"),
    ] {
        assert!(html.contains(asset), "page does not load {asset}");
        let response = app.anonymous().get(asset).await;
        assert_eq!(response.status, 200, "{asset}");
        assert!(
            response
                .header("content-type")
                .is_some_and(|value| value.starts_with(kind)),
            "{asset}"
        );
        assert!(response.text.len() > 300, "{asset} is empty");
    }
    assert!(html.contains("data-spec-url=\"/api/schema/\""));
    let missing = app.anonymous().get("/api/docs/other.js").await;
    assert_eq!(missing.status, 404);
    app.stop().await;
}

/// Found by schemathesis: a repeated query parameter was axum's plain-text 400 on the lists
/// with typed query strings. Now the last value wins (Django's `QueryDict.get`), and the
/// answer is JSON either way.
#[tokio::test]
async fn repeated_query_parameters_take_the_last_value_and_answer_json() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    for path in [
        "/api/patients/?page_size=5&page_size=7",
        "/api/appointments/?start_date=2026-01-01&start_date=2026-01-02&end_date=2026-01-03",
        "/api/appointments/suggest/?type_id=1&type_id=2",
        "/api/operations/?date=2026-01-01&date=2026-01-02",
        "/api/operations/suggest/?start_date=2026-01-01&start_date=2026-01-02",
        "/api/patient-flow/live/?date=2026-01-01&date=2026-01-02",
        "/api/patients/search/?q=ab&q=cd",
        "/api/reminders/?patient_id=1&patient_id=2",
        "/api/audit/accesses/?patient_id=1&patient_id=2",
    ] {
        let response = admin.get(path).await;
        assert!(
            response
                .header("content-type")
                .is_some_and(|value| value.starts_with("application/json")),
            "{path}: {} {}",
            response.status,
            response.text
        );
        assert!(
            matches!(response.status, 200 | 400),
            "{path}: {}",
            response.status
        );
        assert!(!response.body.is_null(), "{path}: {}", response.text);
    }
    let page = admin.get("/api/patients/?page_size=5&page_size=7").await;
    assert_eq!(page.status, 200);
    app.stop().await;
}
