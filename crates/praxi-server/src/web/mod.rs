//! The staff web UI: server-rendered pages (askama), a cookie session with CSRF protection,
//! German/English texts, vendored static assets and a strict Content-Security-Policy (no
//! inline scripts, no inline event handlers; page-specific CSS only in a nonce'd `<style>`).
//!
//! Pages use the same RBAC policy, domain rules and store calls as the API; reading patient
//! data is audited exactly like the API does.

pub mod catalogue;
pub mod charts;
pub mod i18n;
pub mod legacy;
pub mod multipart;
pub mod pages;
pub mod problems;
pub mod session;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use praxi_domain::rbac::{Action, Area};
use serde::Deserialize;

use crate::auth::{self, ClientAddress, random_id};
use crate::state::AppState;
use crate::throttle::LoginAttempt;
use i18n::{Lang, cookie};
use session::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, WebUser, constant_time_eq, cookie_header, with_cookie,
};

/// All web routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard/") }))
        .route("/login/", get(login_form).post(login))
        .route("/logout/", axum::routing::post(logout))
        .route("/lang/{code}/", get(switch_language))
        .route("/static/{file}", get(asset))
        .route("/favicon.ico", get(favicon))
        .merge(legacy::router())
        .merge(pages::router())
}

/// One navigation entry.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub key: &'static str,
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

/// The shared page frame: language, user, navigation, CSRF token, CSP nonce and page CSS.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub title: String,
    pub user_name: String,
    pub role_label: String,
    pub csrf: String,
    pub nonce: String,
    pub nav: Vec<NavItem>,
    pub path: String,
    /// Page CSS (e.g. doctor colour classes) emitted in a nonce'd `<style>`.
    pub css: String,
    /// SSE board this page follows (`data-live` on `<main>`), if any.
    pub live: Option<&'static str>,
}

impl Chrome {
    /// The frame for a page; `active` is the navigation key of the page.
    pub fn new(user: &WebUser, active: &str, title_key: &str) -> Chrome {
        let lang = user.lang;
        let entries: [(&'static str, &'static str, Area); 9] = [
            ("nav.dashboard", "/dashboard/", Area::OpStatsOverview),
            ("nav.calendar", "/calendar/", Area::Appointments),
            ("nav.appointments", "/appointments/", Area::Appointments),
            ("nav.patients", "/patients/", Area::Patients),
            ("nav.doctors", "/doctors/", Area::Doctors),
            ("nav.operations", "/operations/", Area::OpDashboard),
            ("nav.flow", "/flow/", Area::PatientFlow),
            ("nav.resources", "/resources/", Area::ResourceCalendar),
            ("nav.admin", "/admin/", Area::Administration),
        ];
        let nav = entries
            .into_iter()
            .filter(|(_, _, resource)| user.can(*resource, Action::List))
            .map(|(key, href, _)| NavItem {
                key,
                href,
                label: lang.t(key).to_owned(),
                active: key == active,
            })
            .collect();
        let role_label = user
            .actor
            .effective_role()
            .map(|role| lang.t(&format!("role.{}", role.name())).to_owned())
            .unwrap_or_default();
        Chrome {
            lang,
            title: lang.t(title_key).to_owned(),
            user_name: user.user.display_name(),
            role_label,
            csrf: user.csrf_token.clone(),
            nonce: random_id(),
            nav,
            path: user.path.clone(),
            css: String::new(),
            live: None,
        }
    }

    /// A text in the page language.
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key).to_owned()
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::De => "en",
            Lang::En => "de",
        }
    }
}

/// The Content-Security-Policy for a page with this style nonce.
pub fn csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Renders a template with the security headers of the web UI.
pub fn render<T: Template>(template: &T, nonce: &str) -> Response {
    render_status(template, nonce, StatusCode::OK)
}

pub fn render_status<T: Template>(template: &T, nonce: &str, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, axum::response::Html(html)).into_response();
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&csp(nonce)) {
                headers.insert(header::CONTENT_SECURITY_POLICY, value);
            }
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "template rendering failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    lang: &'static str,
    code: u16,
    title: String,
    message: String,
    home: String,
}

/// A small error page (403, 404, expired form, 500 …) in the user's language.
pub fn error_page(lang: Lang, status: StatusCode, message_key: &str) -> Response {
    let title_key = match status.as_u16() {
        403 => "error.title.403",
        404 => "error.title.404",
        405 => "error.title.405",
        413 => "error.title.413",
        503 => "error.title.503",
        code if code >= 500 => "error.title.500",
        _ => "error.title",
    };
    let page = ErrorPage {
        lang: lang.code(),
        code: status.as_u16(),
        title: lang.t(title_key).to_owned(),
        message: lang.t(message_key).to_owned(),
        home: lang.t("error.home").to_owned(),
    };
    render_status(&page, &random_id(), status)
}

/// Browsers get a styled page for every error answer of a page address (unknown paths,
/// wrong methods, oversized forms, internal errors, contention), API clients keep the JSON.
///
/// Applies to requests that accept `text/html` outside the machine interfaces (`/api/`,
/// `/fhir/`, `/ical/`, `/metrics`) whose error answer is not already a page; the status and
/// headers such as `Allow` and `Retry-After` are kept.
pub async fn html_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // The language is read only for requests that may get a page.
    let lang = wants_html(&request).then(|| Lang::from_headers(request.headers()));
    let response = next.run(request).await;
    let status = response.status();
    let Some(lang) = lang else {
        return response;
    };
    if status.as_u16() < 400 || is_html(response.headers()) {
        return response;
    }
    let message_key = match status.as_u16() {
        403 => "error.forbidden",
        404 => "error.page_missing",
        405 => "error.method",
        413 => "error.too_large",
        503 => "error.unavailable",
        code if code >= 500 => "error.internal",
        _ => "error.bad_request",
    };
    let (mut parts, _) = response.into_parts();
    let (page_parts, body) = error_page(lang, status, message_key).into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &page_parts.headers {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, body)
}

fn wants_html(request: &axum::extract::Request) -> bool {
    let path = request.uri().path();
    let machine = ["/api/", "/fhir", "/ical/", "/metrics"]
        .iter()
        .any(|prefix| path.starts_with(prefix));
    let accepts_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    !machine && accepts_html
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"))
}

/// Percent-encodes a query value.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Only same-site relative paths are accepted as a post-login target.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/dashboard/".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    lang: Lang,
    csrf: String,
    next: String,
    error: Option<String>,
    username: String,
    nonce: String,
}

impl LoginPage {
    fn t(&self, key: &str) -> String {
        self.lang.t(key).to_owned()
    }
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<NextQuery>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    if session::session_user(&state, &headers).await.is_some() {
        return Redirect::to(&safe_next(query.next.as_deref())).into_response();
    }
    let csrf = random_id();
    let page = LoginPage {
        lang,
        csrf: csrf.clone(),
        next: safe_next(query.next.as_deref()),
        error: None,
        username: String::new(),
        nonce: random_id(),
    };
    with_cookie(
        render(&page, &page.nonce),
        cookie_header(&state, LOGIN_CSRF_COOKIE, &csrf, Some(3600)),
    )
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf_token.as_bytes()) {
        return error_page(lang, StatusCode::FORBIDDEN, "error.csrf");
    }
    let again = |message_key: &str, status: StatusCode| {
        let page = LoginPage {
            lang,
            csrf: expected.clone(),
            next: safe_next(form.next.as_deref()),
            error: Some(lang.t(message_key).to_owned()),
            username: form.username.clone(),
            nonce: random_id(),
        };
        render_status(&page, &page.nonce, status)
    };
    // Throttle check → verify → record, as in the API (docs/security.md).
    let now = state.now();
    let login = form.username.trim();
    let Ok(user) = state.store.user_by_login(login).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let attempt = LoginAttempt::new(&state.config.secret_key, user.as_ref(), login, address);
    match state.throttle.check(&state.store, &attempt, now).await {
        Ok(None) => {}
        Ok(Some(retry_after_secs)) => {
            let mut response = again("auth.throttled", StatusCode::TOO_MANY_REQUESTS);
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
    let hash = user.as_ref().map(|user| user.password_hash.clone());
    let password_ok = auth::verify_password(form.password.clone(), hash).await;
    let user = match user {
        Some(user) if password_ok && user.is_active => user,
        _ => {
            if state
                .throttle
                .record_failure(&state.store, &attempt, state.now())
                .await
                .is_err()
            {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            return again("auth.invalid", StatusCode::OK);
        }
    };
    auth::upgrade_legacy_hash(&state, &user, form.password.clone()).await;
    // A second factor: the password step only leads to the second-step page (the throttle
    // pair is cleared after the second step, so wrong codes keep counting).
    if user.actor().effective_role().is_some() {
        let step = match crate::usecases::two_factor::after_password(&state, &user).await {
            Ok(step) => step,
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
        if step != crate::usecases::two_factor::PasswordStep::Complete {
            let enrol = step == crate::usecases::two_factor::PasswordStep::Enrol;
            let Ok(token) =
                crate::two_factor::issue_mfa_token(&state, user.id, user.token_version, enrol)
            else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let target = format!(
                "/login/mfa/?next={}",
                url_encode(&safe_next(form.next.as_deref()))
            );
            return with_cookie(
                Redirect::to(&target).into_response(),
                cookie_header(
                    &state,
                    pages::account::MFA_COOKIE,
                    &token,
                    Some(crate::two_factor::MFA_TOKEN_MINUTES * 60),
                ),
            );
        }
    }
    if state
        .throttle
        .record_success(&state.store, &attempt, now)
        .await
        .is_err()
    {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    if user.actor().effective_role().is_none() {
        return again("auth.no_role", StatusCode::FORBIDDEN);
    }
    finish_login(
        &state,
        &user,
        &headers,
        Redirect::to(&safe_next(form.next.as_deref())).into_response(),
    )
    .await
}

/// The end of a successful web login (after the password, or after the second step): a new
/// session, the `web_login` audit row, the session cookie on `response`, the login CSRF
/// cookie cleared.
pub(crate) async fn finish_login(
    state: &AppState,
    user: &praxi_store::users::UserRecord,
    headers: &HeaderMap,
    response: Response,
) -> Response {
    let Ok((key, _csrf)) = session::start_session(state, user.id).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let audit = praxi_store::audit::AuditEntry::by_user(
        user,
        "web_login",
        auth::request_id_from_headers(headers),
    );
    let _ = state.store.record_audit(&audit).await;
    let response = with_cookie(response, cookie_header(state, SESSION_COOKIE, &key, None));
    let response = with_cookie(
        response,
        cookie_header(state, pages::account::MFA_COOKIE, "", Some(0)),
    );
    with_cookie(
        response,
        cookie_header(state, LOGIN_CSRF_COOKIE, "", Some(0)),
    )
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf_token: String,
}

async fn logout(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(response) = user.check_csrf(&form.csrf_token) {
        return response;
    }
    if let Some(key) = cookie(&headers, SESSION_COOKIE) {
        let _ = state.store.delete_session(&key).await;
    }
    let _ = state
        .store
        .record_audit(&user.audit("web_logout", None, None))
        .await;
    with_cookie(
        Redirect::to("/login/").into_response(),
        cookie_header(&state, SESSION_COOKIE, "", Some(0)),
    )
}

#[derive(Debug, Deserialize)]
struct BackQuery {
    next: Option<String>,
}

async fn switch_language(
    State(state): State<AppState>,
    Path(code): Path<String>,
    axum::extract::Query(query): axum::extract::Query<BackQuery>,
) -> Response {
    let Some(lang) = Lang::parse(&code) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut value = format!(
        "lang={}; Path=/; SameSite=Lax; Max-Age=31536000",
        lang.code()
    );
    if state.config.secure_cookies {
        value.push_str("; Secure");
    }
    let response = Redirect::to(&safe_next(query.next.as_deref())).into_response();
    match HeaderValue::from_str(&value) {
        Ok(value) => with_cookie(response, value),
        Err(_) => response,
    }
}

/// Vendored static assets, compiled into the binary (no CDN, no files to deploy).
/// `/favicon.ico`, which browsers ask for on every page (pages also link the SVG).
async fn favicon() -> Response {
    let mut response = include_bytes!("../../assets/favicon.ico")
        .as_slice()
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/x-icon"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}

async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type): (&'static [u8], &'static str) = match file.as_str() {
        "app.css" => (
            include_bytes!("../../assets/app.css"),
            "text/css; charset=utf-8",
        ),
        "app.js" => (
            include_bytes!("../../assets/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "print.css" => (
            include_bytes!("../../assets/print.css"),
            "text/css; charset=utf-8",
        ),
        "favicon.svg" => (include_bytes!("../../assets/favicon.svg"), "image/svg+xml"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
