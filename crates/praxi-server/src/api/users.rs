//! `/api/users/`: the admin-only user administration (beyond the original, which routed no user
//! API). List with filters, detail, create, profile/role changes, activation, deactivation and
//! password resets. Role changes, deactivation and password resets revoke the user's tokens at
//! once; every change is audited (`user_*` actions, meta `{"user_id": n}`). Users are never
//! deleted (DELETE is 405) and password hashes are never returned.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use praxi_domain::FieldErrors;
use praxi_domain::Role;
use praxi_domain::rbac::{Action, Area};
use praxi_domain::user::{self, AccountDraft, PasswordContext, ProfileChanges, UserChanges};
use praxi_domain::validation::REQUIRED;
use praxi_store::users::{NewUser, UserFilter, UserRecord};
use serde_json::{Value, json};

use crate::api::{PathId, method_fallback};
use crate::auth::{self, AuthUser};
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::{self, PageRequest};

const MODEL: &str = "User";
const RESOURCE: Area = Area::Users;

/// Read-only fields of the read shape that clients may echo back; ignored on writes.
const READ_ONLY: [&str; 3] = ["id", "date_joined", "last_login"];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/users/",
            get(list).post(create).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/users/{id}/",
            get(detail)
                .patch(update)
                .fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/users/{id}/deactivate/",
            post(deactivate).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/users/{id}/activate/",
            post(activate).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/users/{id}/set-password/",
            post(set_password).fallback(method_fallback(RESOURCE)),
        )
}

/// The read shape; never contains the password hash.
fn user_json(user: &UserRecord, state: &AppState) -> Value {
    let tz = state.tz();
    json!({
        "id": user.id,
        "username": user.username,
        "email": user.email.clone().unwrap_or_default(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "calendar_color": user.calendar_color,
        "role": user.role.as_ref().map_or(
            Value::Null,
            |role| json!({"id": role.id, "name": role.name, "label": role.label}),
        ),
        "date_joined": wire::datetime(user.date_joined, tz),
        "last_login": wire::opt_datetime(user.last_login, tz),
    })
}

/// The audit meta of every user action: the target's id, nothing else.
fn meta(user_id: i64) -> Option<Value> {
    Some(json!({ "user_id": user_id }))
}

/// Reads the list filters from the raw query string (the last value of a repeated parameter
/// wins; a malformed query string never becomes a non-JSON error).
fn read_list_query(uri: &Uri) -> ApiResult<(PageRequest, UserFilter)> {
    let (mut page, mut page_size, mut role, mut active, mut q) = (None, None, None, None, None);
    for (key, value) in uri.query().map(wire::url_pairs).unwrap_or_default() {
        match key.as_str() {
            "page" => page = Some(value),
            "page_size" => page_size = Some(value),
            "role" => role = Some(value),
            "active" => active = Some(value),
            "q" => q = Some(value),
            _ => {}
        }
    }
    let request = PageRequest::from_query(page.as_deref(), page_size.as_deref())?;
    let mut errors = FieldErrors::new();
    let role = match role.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) => {
            let role = Role::from_name(name);
            if role.is_none() {
                errors.add(
                    "role",
                    format!("Select a valid choice. {name} is not one of the available choices."),
                );
            }
            role
        }
    };
    let active = match active
        .as_deref()
        .map(|text| text.trim().to_ascii_lowercase())
    {
        None => None,
        Some(text) if text.is_empty() => None,
        Some(text) if text == "true" || text == "1" => Some(true),
        Some(text) if text == "false" || text == "0" => Some(false),
        Some(_) => {
            errors.add("active", "Must be a valid boolean.");
            None
        }
    };
    errors.into_result()?;
    Ok((request, UserFilter { role, active, q }))
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::List, MODEL)?;
    let (request, filter) = read_list_query(&uri)?;
    let count = state.store.count_users_matching(&filter).await?;
    let (page, offset) = request.resolve(count)?;
    let users = state
        .store
        .list_users_matching(&filter, offset, request.page_size)
        .await?;
    let results = users.iter().map(|user| user_json(user, &state)).collect();
    Ok(Json(wire::page_envelope(
        &headers,
        &uri,
        count,
        page,
        request.page_size,
        results,
    )))
}

async fn detail(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::Read, MODEL)?;
    let user = find(&state, id).await?;
    Ok(Json(user_json(&user, &state)))
}

async fn find(state: &AppState, id: i64) -> ApiResult<UserRecord> {
    state
        .store
        .user_by_id(id)
        .await?
        .ok_or(ApiError::NotFound(MODEL))
}

/// Accepts the read shape's role object (`{"id", "name", "label"}`) as its name, so a client
/// may send back what it read.
fn flatten_role(body: &mut JsonBody) {
    if let Some(name) = body
        .0
        .get("role")
        .and_then(|role| role.get("name"))
        .filter(|name| name.is_string())
        .cloned()
    {
        body.0.insert("role".to_owned(), name);
    }
}

/// A required string with exactly one message per problem (absent, null, or not a valid string).
fn required_string(fields: &mut Fields, name: &str) -> Option<String> {
    let present = fields.has(name);
    match fields.opt_string(name) {
        Some(Some(value)) => Some(value),
        Some(None) => {
            fields.errors_mut().add(name, "This field may not be null.");
            None
        }
        // Present but unreadable: the reader has named the problem.
        None if present => None,
        None => {
            fields.errors_mut().add(name, REQUIRED);
            None
        }
    }
}

/// Reads the editable profile fields present in the body.
fn read_profile(fields: &mut Fields) -> ProfileChanges {
    let is_staff = match fields.opt_bool("is_staff") {
        Some(Some(flag)) => Some(flag),
        Some(None) => {
            if !fields.errors_mut().contains("is_staff") {
                fields
                    .errors_mut()
                    .add("is_staff", "This field may not be null.");
            }
            None
        }
        None => None,
    };
    ProfileChanges {
        first_name: fields.string("first_name"),
        last_name: fields.string("last_name"),
        email: fields.opt_string("email"),
        calendar_color: fields.string("calendar_color"),
        is_staff,
    }
}

/// `is_active` may be echoed back unchanged; changing it needs the activate/deactivate
/// endpoints (which revoke tokens and are audited as such).
fn read_is_active(fields: &mut Fields, current: bool) {
    if !fields.has("is_active") {
        return;
    }
    let errors_before = fields
        .errors_mut()
        .fields()
        .get("is_active")
        .map_or(0, Vec::len);
    let value = fields.opt_bool("is_active");
    let failed = fields
        .errors_mut()
        .fields()
        .get("is_active")
        .map_or(0, Vec::len)
        > errors_before;
    if !failed && value != Some(Some(current)) {
        fields.errors_mut().add(
            "is_active",
            "Use POST /api/users/{id}/activate/ or /deactivate/ to change this field.",
        );
    }
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    mut body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require(RESOURCE, Action::Create, MODEL)?;
    flatten_role(&mut body);
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    read_is_active(&mut fields, true);
    let username = required_string(&mut fields, "username");
    let password = required_string(&mut fields, "password");
    let role = required_string(&mut fields, "role");
    let profile = read_profile(&mut fields);
    fields.finish()?;
    let (Some(username), Some(password), Some(role)) = (username, password, role) else {
        return Err(ApiError::field("non_field_errors", "Invalid data."));
    };
    let account = AccountDraft {
        username,
        password,
        role,
        profile,
    }
    .validate()?;
    let password_hash = auth::hash_password(account.password.clone()).await?;
    let user = state
        .store
        .create_user_audited(
            NewUser {
                username: account.username,
                password_hash,
                role: Some(account.role),
                first_name: account.profile.first_name,
                last_name: account.profile.last_name,
                email: account.profile.email,
                calendar_color: Some(account.profile.calendar_color),
                is_staff: account.profile.is_staff,
                is_superuser: false,
            },
            state.now(),
            |id| auth.audit("user_create", None, meta(id)),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user_json(&user, &state))))
}

async fn update(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    mut body: JsonBody,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::Update, MODEL)?;
    let existing = find(&state, id).await?;
    flatten_role(&mut body);
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    read_is_active(&mut fields, existing.is_active);
    // The username is the login name: it may be echoed back but not changed.
    match fields.opt_string("username") {
        Some(Some(username)) if username.trim() == existing.username => {}
        None => {}
        Some(_) => fields
            .errors_mut()
            .add("username", "Usernames cannot be changed."),
    }
    if fields.has("password") {
        fields.ignore(&["password"]);
        fields.errors_mut().add(
            "password",
            "Use POST /api/users/{id}/set-password/ to change the password.",
        );
    }
    let role = fields.string("role");
    let profile = read_profile(&mut fields);
    fields.finish()?;
    let change = UserChanges { profile, role }.apply(
        existing.profile(),
        existing.role.as_ref().map(|role| role.name.as_str()),
    )?;
    if let Some(role) = change.new_role {
        user::check_role_change(&auth.actor, existing.id, role)?;
    }
    let user = state
        .store
        .update_user_profile(
            existing.id,
            &change.profile,
            change.new_role,
            &auth.audit("user_update", None, meta(existing.id)),
        )
        .await?;
    Ok(Json(user_json(&user, &state)))
}

async fn deactivate(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::Update, MODEL)?;
    let existing = find(&state, id).await?;
    user::check_deactivation(&auth.actor, existing.id)?;
    let user = state
        .store
        .set_user_active_audited(
            existing.id,
            false,
            &auth.audit("user_deactivate", None, meta(existing.id)),
        )
        .await?;
    Ok(Json(user_json(&user, &state)))
}

async fn activate(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::Update, MODEL)?;
    let existing = find(&state, id).await?;
    let user = state
        .store
        .set_user_active_audited(
            existing.id,
            true,
            &auth.audit("user_activate", None, meta(existing.id)),
        )
        .await?;
    Ok(Json(user_json(&user, &state)))
}

async fn set_password(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::Update, MODEL)?;
    let existing = find(&state, id).await?;
    let mut fields = Fields::new(body, state.tz());
    let password = required_string(&mut fields, "password");
    fields.finish()?;
    let Some(password) = password else {
        return Err(ApiError::field("password", "This field is required."));
    };
    user::validate_password(
        &password,
        PasswordContext {
            username: &existing.username,
            first_name: &existing.first_name,
            last_name: &existing.last_name,
            email: existing.email.as_deref(),
        },
    )?;
    let password_hash = auth::hash_password(password).await?;
    let user = state
        .store
        .set_user_password_audited(
            existing.id,
            password_hash,
            &auth.audit("user_set_password", None, meta(existing.id)),
        )
        .await?;
    Ok(Json(user_json(&user, &state)))
}
