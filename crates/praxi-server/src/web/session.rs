//! Web sessions: the `praxi_session` cookie, the `WebUser` extractor for pages, CSRF checks.
//!
//! Cookie: HttpOnly, SameSite=Lax, Path=/, `Secure` when Praxi runs behind TLS. Sessions
//! expire after 30 idle minutes and at the latest 10 hours after login; logging in issues a
//! fresh key (no fixation).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use praxi_domain::rbac::{Action, Actor, Area, Decision, Denial};
use praxi_store::audit::AuditEntry;
use praxi_store::users::UserRecord;
use serde_json::Value;

use crate::auth::random_id;
use crate::state::AppState;
use crate::web::i18n::{Lang, cookie};

pub const SESSION_COOKIE: &str = "praxi_session";
/// Pre-login CSRF cookie for the login form (double submit).
pub const LOGIN_CSRF_COOKIE: &str = "praxi_login_csrf";
pub const IDLE_MINUTES: i64 = 30;
pub const ABSOLUTE_HOURS: i64 = 10;

/// A signed-in staff user on a page request.
#[derive(Debug, Clone)]
pub struct WebUser {
    pub user: UserRecord,
    pub actor: Actor,
    pub csrf_token: String,
    pub lang: Lang,
    pub path: String,
    pub request_id: Option<String>,
}

/// Why a page request was refused.
#[derive(Debug)]
pub enum WebReject {
    /// Not signed in: go to the login page and come back.
    Login(String),
    /// Signed in, but without a staff role.
    NoRole(Lang),
    Internal,
}

impl IntoResponse for WebReject {
    fn into_response(self) -> Response {
        match self {
            WebReject::Login(next) => {
                let target = format!("/login/?next={}", crate::web::url_encode(&next));
                Redirect::to(&target).into_response()
            }
            WebReject::NoRole(lang) => {
                crate::web::error_page(lang, StatusCode::FORBIDDEN, "auth.no_role")
            }
            WebReject::Internal => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// Resolves the session cookie to an active user (sliding expiry included).
pub async fn session_user(state: &AppState, headers: &HeaderMap) -> Option<(UserRecord, String)> {
    let key = cookie(headers, SESSION_COOKIE)?;
    if key.len() < 32 {
        return None;
    }
    let now = state.now();
    let session = state.store.session(&key, now).await.ok()??;
    let user = state
        .store
        .session_user_by_id(session.user_id)
        .await
        .ok()??;
    if !user.is_active {
        return None;
    }
    let absolute = session.created_at + Duration::hours(ABSOLUTE_HOURS);
    let wanted = (now + Duration::minutes(IDLE_MINUTES)).min(absolute);
    // Extend only when half of the idle window is used up: not a write per request.
    if wanted - session.expire_date > Duration::minutes(IDLE_MINUTES / 2) {
        let _ = state.store.extend_session(&key, wanted).await;
    }
    Some((user, session.csrf_token))
}

impl<S> FromRequestParts<S> for WebUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebReject;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let lang = Lang::from_headers(&parts.headers);
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
        let Some((user, csrf_token)) = session_user(&state, &parts.headers).await else {
            return Err(WebReject::Login(path));
        };
        let actor = user.actor();
        if actor.effective_role().is_none() {
            return Err(WebReject::NoRole(lang));
        }
        Ok(WebUser {
            user,
            actor,
            csrf_token,
            lang,
            path,
            request_id: crate::auth::request_id(parts),
        })
    }
}

impl WebUser {
    /// The policy decision, or the error page for a denial.
    #[expect(
        clippy::result_large_err,
        reason = "the error is the finished error page"
    )]
    pub fn require(&self, resource: Area, action: Action) -> Result<Decision, Response> {
        match self.actor.decide(resource, action) {
            Decision::Deny(Denial::NotFound) => Err(crate::web::error_page(
                self.lang,
                StatusCode::NOT_FOUND,
                "error.not_found",
            )),
            Decision::Deny(_) => Err(crate::web::error_page(
                self.lang,
                StatusCode::FORBIDDEN,
                "error.forbidden",
            )),
            decision => Ok(decision),
        }
    }

    /// `true` when the actor may do `action` on `resource` at all (for showing buttons).
    pub fn can(&self, resource: Area, action: Action) -> bool {
        !matches!(self.actor.decide(resource, action), Decision::Deny(_))
    }

    /// Checks the CSRF token of a submitted form.
    #[expect(
        clippy::result_large_err,
        reason = "the error is the finished error page"
    )]
    pub fn check_csrf(&self, submitted: &str) -> Result<(), Response> {
        if constant_time_eq(submitted.as_bytes(), self.csrf_token.as_bytes()) {
            Ok(())
        } else {
            Err(crate::web::error_page(
                self.lang,
                StatusCode::FORBIDDEN,
                "error.csrf",
            ))
        }
    }

    /// An audit entry for this user.
    pub fn audit(&self, action: &str, patient_id: Option<i32>, meta: Option<Value>) -> AuditEntry {
        AuditEntry {
            user_id: Some(self.user.id),
            username: self.user.username.clone(),
            role_name: self
                .user
                .role
                .as_ref()
                .map(|role| role.name.clone())
                .unwrap_or_default(),
            action: action.to_owned(),
            patient_id,
            meta,
            request_id: self.request_id.clone(),
            subjects: Vec::new(),
        }
    }
}

/// Compares secrets without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A `Set-Cookie` value with Praxi's attributes.
pub fn cookie_header(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if state.config.secure_cookies {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Creates a session for a user and returns (cookie key, CSRF token).
pub async fn start_session(
    state: &AppState,
    user_id: i64,
) -> Result<(String, String), praxi_store::StoreError> {
    let key = format!("{}{}", random_id(), random_id());
    let csrf = random_id();
    let now = state.now();
    state
        .store
        .create_session(
            &key,
            user_id,
            &csrf,
            now,
            now + Duration::minutes(IDLE_MINUTES),
        )
        .await?;
    Ok((key, csrf))
}

/// Adds `Set-Cookie` to a response.
pub fn with_cookie(mut response: Response, value: HeaderValue) -> Response {
    response.headers_mut().append(header::SET_COOKIE, value);
    response
}
