//! Two-factor login in the staff UI (docs/data-protection.md, "Two-factor login"):
//!
//! - `/login/mfa/`: the second login step after the password (a code or a recovery code), or,
//!   for a user whose role requires a second factor and who has none, the enrolment with the
//!   QR code; the recovery codes are shown once after it.
//! - `/account/two-factor/`: the signed-in user's own enrolment (QR code as inline SVG under
//!   the strict CSP), confirmation, recovery codes, disabling.
//! - `/admin/two-factor/`: the roles for which the practice requires two-factor login.
//!
//! Every action goes through `usecases::two_factor`, as the API does.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use praxi_domain::Role;
use praxi_domain::rbac::{Action, Area};
use serde::Deserialize;

use crate::auth::{self, ClientAddress, random_id};
use crate::state::AppState;
use crate::throttle::LoginAttempt;
use crate::two_factor::EnrolmentView;
use crate::usecases::Failure;
use crate::usecases::two_factor::{self, SecondFactor, TwoFactorRefusal};
use crate::web::i18n::{Lang, cookie};
use crate::web::session::{
    LOGIN_CSRF_COOKIE, WebUser, constant_time_eq, cookie_header, with_cookie,
};
use crate::web::{Chrome, error_page, render, render_status, safe_next};

/// The cookie that carries the second-step token between the password and the code.
pub const MFA_COOKIE: &str = "praxi_mfa";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/login/mfa/", get(second_step).post(second_step_submit))
        .route("/account/two-factor/", get(account))
        .route("/account/two-factor/start/", post(account_start))
        .route("/account/two-factor/confirm/", post(account_confirm))
        .route("/account/two-factor/disable/", post(account_disable))
        .route("/admin/two-factor/", get(policy).post(policy_submit))
}

pub(super) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "mfa.nav" => ("Zwei-Faktor-Anmeldung", "Two-factor login"),
        "mfa.title" => ("Zwei-Faktor-Anmeldung", "Two-factor login"),
        "mfa.step.title" => ("Bestätigungscode", "Verification code"),
        "mfa.step.intro" => (
            "Bitte den 6-stelligen Code aus der Authenticator-App eingeben.",
            "Please enter the 6-digit code from your authenticator app.",
        ),
        "mfa.code" => ("Code", "Code"),
        "mfa.recovery_code" => ("Wiederherstellungscode", "Recovery code"),
        "mfa.recovery_hint" => (
            "Kein Zugriff auf die App? Stattdessen einen Wiederherstellungscode eingeben.",
            "No access to the app? Enter a recovery code instead.",
        ),
        "mfa.submit" => ("Bestätigen", "Verify"),
        "mfa.enrol.intro" => (
            "Für Ihre Rolle ist die Zwei-Faktor-Anmeldung vorgeschrieben. Scannen Sie den QR-Code mit einer Authenticator-App (z. B. FreeOTP, Aegis, Google Authenticator) und geben Sie den angezeigten Code ein.",
            "Two-factor login is required for your role. Scan the QR code with an authenticator app (e.g. FreeOTP, Aegis, Google Authenticator) and enter the code it shows.",
        ),
        "mfa.scan" => (
            "QR-Code mit der Authenticator-App scannen oder den Schlüssel eintippen:",
            "Scan the QR code with your authenticator app or type in the key:",
        ),
        "mfa.secret" => ("Schlüssel", "Key"),
        "mfa.qr" => (
            "QR-Code für die Authenticator-App",
            "QR code for the authenticator app",
        ),
        "mfa.codes.title" => ("Wiederherstellungscodes", "Recovery codes"),
        "mfa.codes.intro" => (
            "Bewahren Sie diese Codes sicher auf (z. B. ausgedruckt). Jeder Code gilt einmal, wenn die App nicht verfügbar ist. Sie werden nur jetzt angezeigt.",
            "Keep these codes safe (e.g. printed). Each code works once when the app is not available. They are shown only now.",
        ),
        "mfa.continue" => ("Weiter", "Continue"),
        "mfa.enabled" => (
            "Die Zwei-Faktor-Anmeldung ist aktiv.",
            "Two-factor login is enabled.",
        ),
        "mfa.disabled" => (
            "Die Zwei-Faktor-Anmeldung ist nicht aktiv.",
            "Two-factor login is not enabled.",
        ),
        "mfa.required" => (
            "Für Ihre Rolle ist die Zwei-Faktor-Anmeldung vorgeschrieben.",
            "Two-factor login is required for your role.",
        ),
        "mfa.codes_left" => (
            "Verbleibende Wiederherstellungscodes",
            "Recovery codes left",
        ),
        "mfa.start" => ("Einrichten", "Set up"),
        "mfa.confirm" => ("Aktivieren", "Enable"),
        "mfa.disable" => ("Deaktivieren", "Disable"),
        "mfa.disable.intro" => (
            "Zum Deaktivieren Passwort und einen aktuellen Code eingeben.",
            "To disable, enter your password and a current code.",
        ),
        "mfa.already_enabled" => (
            "Die Zwei-Faktor-Anmeldung ist bereits aktiv.",
            "Two-factor login is already enabled.",
        ),
        "mfa.no_pending" => (
            "Bitte die Einrichtung zuerst starten.",
            "Please start the setup first.",
        ),
        "mfa.not_enabled" => (
            "Die Zwei-Faktor-Anmeldung ist nicht aktiv.",
            "Two-factor login is not enabled.",
        ),
        "mfa.invalid_code" => (
            "Der Code ist falsch, abgelaufen oder wurde schon verwendet.",
            "The code is wrong, expired or was used already.",
        ),
        "mfa.expired" => (
            "Die Anmeldung ist abgelaufen. Bitte erneut anmelden.",
            "The login has expired. Please log in again.",
        ),
        "mfa.wrong_password" => ("Das Passwort ist falsch.", "The password is wrong."),
        "mfa.policy.title" => (
            "Zwei-Faktor-Anmeldung: Pflicht je Rolle",
            "Two-factor login: required per role",
        ),
        "mfa.policy.intro" => (
            "Benutzer der gewählten Rollen müssen sich mit einem zweiten Faktor anmelden; wer noch keinen hat, richtet ihn bei der nächsten Anmeldung ein.",
            "Users of the chosen roles must log in with a second factor; users without one set it up at their next login.",
        ),
        "mfa.policy.saved" => ("Gespeichert.", "Saved."),
        "admin.two-factor.title" => ("Zwei-Faktor-Anmeldung", "Two-factor login"),
        "admin.two-factor.description" => (
            "Für welche Rollen ein zweiter Faktor (TOTP) Pflicht ist.",
            "Which roles must log in with a second factor (TOTP).",
        ),
        _ => return None,
    })
}

// ---- the second login step -------------------------------------------------------------

#[derive(Template)]
#[template(path = "account/login_mfa.html")]
struct SecondStepPage {
    lang: Lang,
    csrf: String,
    next: String,
    error: Option<String>,
    enrol: Option<EnrolmentView>,
    recovery_codes: Option<Vec<String>>,
    nonce: String,
}

impl SecondStepPage {
    fn t(&self, key: &str) -> String {
        self.lang.t(key).to_owned()
    }
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The second-step token's user (`None`: no cookie, expired, or the user changed).
async fn mfa_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Option<(praxi_store::users::UserRecord, bool)> {
    let token = cookie(headers, MFA_COOKIE)?;
    let claims = crate::two_factor::decode_mfa_token(state, &token)?;
    let user_id: i64 = claims.user_id.parse().ok()?;
    let user = state.store.user_by_id(user_id).await.ok()??;
    (user.is_active && user.token_version == claims.ver).then_some((user, claims.enrol))
}

fn login_again(lang: Lang) -> Response {
    let _ = lang;
    Redirect::to("/login/").into_response()
}

/// The login CSRF token (double submit), made when missing.
fn login_csrf(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, LOGIN_CSRF_COOKIE).filter(|value| !value.is_empty()) {
        Some(value) => (value, false),
        None => (random_id(), true),
    }
}

async fn second_step(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<NextQuery>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let Some((user, enrol)) = mfa_user(&state, &headers).await else {
        return login_again(lang);
    };
    let enrol_view = if enrol {
        // The pending enrolment keeps its secret across reloads; else a new one starts.
        let pending = match two_factor::pending_view(&state, &user).await {
            Ok(pending) => pending,
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
        match pending {
            Some(view) => Some(view),
            None => match two_factor::start(&state, &user).await {
                Ok(view) => Some(view),
                Err(Failure::Refused(_)) => None,
                Err(Failure::Store(_)) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            },
        }
    } else {
        None
    };
    let (csrf, fresh) = login_csrf(&headers);
    let page = SecondStepPage {
        lang,
        csrf: csrf.clone(),
        next: safe_next(query.next.as_deref()),
        error: None,
        enrol: enrol_view,
        recovery_codes: None,
        nonce: random_id(),
    };
    let response = render(&page, &page.nonce);
    if fresh {
        with_cookie(
            response,
            cookie_header(&state, LOGIN_CSRF_COOKIE, &csrf, Some(3600)),
        )
    } else {
        response
    }
}

#[derive(Debug, Deserialize)]
struct SecondStepForm {
    csrf_token: String,
    next: Option<String>,
    #[serde(default)]
    code: String,
    #[serde(default)]
    recovery_code: String,
}

async fn second_step_submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SecondStepForm>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf_token.as_bytes()) {
        return error_page(lang, StatusCode::FORBIDDEN, "error.csrf");
    }
    let Some((user, enrol)) = mfa_user(&state, &headers).await else {
        return login_again(lang);
    };
    let next = safe_next(form.next.as_deref());
    let now = state.now();
    let attempt = LoginAttempt::new(
        &state.config.secret_key,
        Some(&user),
        &user.username,
        address,
    );
    let again = |message_key: &str, status: StatusCode, enrol_view: Option<EnrolmentView>| {
        let page = SecondStepPage {
            lang,
            csrf: expected.clone(),
            next: next.clone(),
            error: Some(lang.t(message_key).to_owned()),
            enrol: enrol_view,
            recovery_codes: None,
            nonce: random_id(),
        };
        render_status(&page, &page.nonce, status)
    };
    let pending = if enrol {
        two_factor::pending_view(&state, &user).await.ok().flatten()
    } else {
        None
    };
    match state.throttle.check(&state.store, &attempt, now).await {
        Ok(None) => {}
        Ok(Some(retry_after_secs)) => {
            let mut response = again("auth.throttled", StatusCode::TOO_MANY_REQUESTS, pending);
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
    let outcome = if enrol {
        let audit = user_audit(&user, "totp_enabled", &headers);
        two_factor::confirm(&state, &user, form.code.trim(), audit)
            .await
            .map(Some)
    } else {
        let factor = if form.code.trim().is_empty() {
            SecondFactor::RecoveryCode(form.recovery_code.clone())
        } else {
            SecondFactor::Code(form.code.clone())
        };
        two_factor::verify(&state, &user, &factor)
            .await
            .map(|()| None)
    };
    let recovery_codes = match outcome {
        Ok(codes) => codes,
        Err(Failure::Refused(refusal)) => {
            if refusal == TwoFactorRefusal::InvalidCode
                && state
                    .throttle
                    .record_failure(&state.store, &attempt, state.now())
                    .await
                    .is_err()
            {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            return again(refusal.message_key(), StatusCode::OK, pending);
        }
        Err(Failure::Store(_)) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    if state
        .throttle
        .record_success(&state.store, &attempt, now)
        .await
        .is_err()
    {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let response = match recovery_codes {
        // After an enrolment the codes are shown once; "continue" leads on.
        Some(codes) => {
            let page = SecondStepPage {
                lang,
                csrf: String::new(),
                next: next.clone(),
                error: None,
                enrol: None,
                recovery_codes: Some(codes),
                nonce: random_id(),
            };
            render(&page, &page.nonce)
        }
        None => Redirect::to(&next).into_response(),
    };
    crate::web::finish_login(&state, &user, &headers, response).await
}

fn user_audit(
    user: &praxi_store::users::UserRecord,
    action: &str,
    headers: &HeaderMap,
) -> praxi_store::audit::AuditEntry {
    praxi_store::audit::AuditEntry::by_user(user, action, auth::request_id_from_headers(headers))
}

// ---- the user's own enrolment -----------------------------------------------------------

#[derive(Template)]
#[template(path = "account/two_factor.html")]
struct AccountPage {
    chrome: Chrome,
    enabled: bool,
    required: bool,
    codes_left: u64,
    pending: Option<EnrolmentView>,
    recovery_codes: Option<Vec<String>>,
    error: Option<String>,
}

async fn account_page(
    state: &AppState,
    user: &WebUser,
    error: Option<&str>,
    recovery_codes: Option<Vec<String>>,
    status: StatusCode,
) -> Response {
    let Ok(current) = two_factor::status(state, &user.user).await else {
        return error_page(
            user.lang,
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
        );
    };
    let pending = if current.pending {
        two_factor::pending_view(state, &user.user)
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    let page = AccountPage {
        chrome: Chrome::new(user, "", "mfa.title"),
        enabled: current.enabled,
        required: current.required,
        codes_left: current.recovery_codes_left,
        pending,
        recovery_codes,
        error: error.map(|key| user.lang.t(key).to_owned()),
    };
    render_status(&page, &page.chrome.nonce, status)
}

async fn account(State(state): State<AppState>, user: WebUser) -> Response {
    account_page(&state, &user, None, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
struct CsrfOnly {
    csrf_token: String,
}

async fn account_start(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(response) = user.check_csrf(&form.csrf_token) {
        return response;
    }
    match two_factor::start(&state, &user.user).await {
        Ok(_) => Redirect::to("/account/two-factor/").into_response(),
        Err(Failure::Refused(refusal)) => {
            account_page(
                &state,
                &user,
                Some(refusal.message_key()),
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(Failure::Store(_)) => error_page(
            user.lang,
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
        ),
    }
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    csrf_token: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    recovery_code: String,
    #[serde(default)]
    password: String,
}

async fn account_confirm(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<CodeForm>,
) -> Response {
    if let Err(response) = user.check_csrf(&form.csrf_token) {
        return response;
    }
    let audit = user.audit("totp_enabled", None, None);
    match two_factor::confirm(&state, &user.user, form.code.trim(), audit).await {
        Ok(codes) => account_page(&state, &user, None, Some(codes), StatusCode::OK).await,
        Err(Failure::Refused(refusal)) => {
            account_page(
                &state,
                &user,
                Some(refusal.message_key()),
                None,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(Failure::Store(_)) => error_page(
            user.lang,
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
        ),
    }
}

async fn account_disable(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    user: WebUser,
    Form(form): Form<CodeForm>,
) -> Response {
    if let Err(response) = user.check_csrf(&form.csrf_token) {
        return response;
    }
    let attempt = LoginAttempt::new(
        &state.config.secret_key,
        Some(&user.user),
        &user.user.username,
        address,
    );
    match state
        .throttle
        .check(&state.store, &attempt, state.now())
        .await
    {
        Ok(None) => {}
        Ok(Some(_)) => {
            return account_page(
                &state,
                &user,
                Some("auth.throttled"),
                None,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
        }
        Err(_) => {
            return error_page(
                user.lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
            );
        }
    }
    let password_ok =
        auth::verify_password(form.password.clone(), Some(user.user.password_hash.clone())).await;
    let outcome = if password_ok {
        let factor = if form.code.trim().is_empty() {
            SecondFactor::RecoveryCode(form.recovery_code.clone())
        } else {
            SecondFactor::Code(form.code.clone())
        };
        two_factor::disable(
            &state,
            &user.user,
            &factor,
            user.audit("totp_disabled", None, None),
        )
        .await
    } else {
        Err(Failure::Refused(TwoFactorRefusal::InvalidCode))
    };
    match outcome {
        Ok(()) => Redirect::to("/account/two-factor/").into_response(),
        Err(Failure::Refused(refusal)) => {
            if refusal == TwoFactorRefusal::InvalidCode {
                let _ = state
                    .throttle
                    .record_failure(&state.store, &attempt, state.now())
                    .await;
            }
            let key = if password_ok {
                refusal.message_key()
            } else {
                "mfa.wrong_password"
            };
            account_page(&state, &user, Some(key), None, StatusCode::BAD_REQUEST).await
        }
        Err(Failure::Store(_)) => error_page(
            user.lang,
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
        ),
    }
}

// ---- the practice's policy ---------------------------------------------------------------

struct RoleChoice {
    name: &'static str,
    label: String,
    required: bool,
}

#[derive(Template)]
#[template(path = "account/policy.html")]
struct PolicyPage {
    chrome: Chrome,
    roles: Vec<RoleChoice>,
    saved: bool,
}

async fn policy_page(state: &AppState, user: &WebUser, saved: bool) -> Response {
    let Ok(required) = state.store.mfa_required_role_names().await else {
        return error_page(
            user.lang,
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
        );
    };
    let roles = Role::ALL
        .iter()
        .map(|role| RoleChoice {
            name: role.name(),
            label: user.lang.t(&format!("role.{}", role.name())).to_owned(),
            required: required.iter().any(|name| name == role.name()),
        })
        .collect();
    let page = PolicyPage {
        chrome: Chrome::new(user, "nav.admin", "mfa.policy.title"),
        roles,
        saved,
    };
    render(&page, &page.chrome.nonce)
}

async fn policy(
    State(state): State<AppState>,
    user: WebUser,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    if let Err(response) = user.require(Area::Users, Action::Read) {
        return response;
    }
    let saved = query.as_deref().is_some_and(|q| q.contains("ok=saved"));
    policy_page(&state, &user, saved).await
}

async fn policy_submit(
    State(state): State<AppState>,
    user: WebUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(response) = user.require(Area::Users, Action::Update) {
        return response;
    }
    let csrf = pairs
        .iter()
        .find(|(key, _)| key == "csrf_token")
        .map(|(_, value)| value.as_str())
        .unwrap_or("");
    if let Err(response) = user.check_csrf(csrf) {
        return response;
    }
    let roles: Vec<String> = pairs
        .iter()
        .filter(|(key, _)| key == "role")
        .filter_map(|(_, value)| Role::from_name(value))
        .map(|role| role.name().to_owned())
        .collect();
    let audit = user.audit(
        "mfa_policy_changed",
        None,
        Some(serde_json::json!({"required_roles": roles})),
    );
    match state.store.set_mfa_required_roles(&roles, &audit).await {
        Ok(()) => Redirect::to("/admin/two-factor/?ok=saved").into_response(),
        Err(_) => error_page(
            user.lang,
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
        ),
    }
}
