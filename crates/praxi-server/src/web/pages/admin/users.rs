//! Staff accounts in the administration (admin only, like `/api/users/`): create with role and
//! password, change profile and role, deactivate/activate, reset the password. The domain's
//! username, password and lock-out rules apply, and role changes, deactivation and password
//! resets end the user's sessions and tokens at once (in the store's transaction). Accounts are
//! never deleted. Audit actions as in the API: `user_*`, meta `{"user_id": n}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use praxi_domain::rbac::{Action, Area};
use praxi_domain::user::{
    self, AccountDraft, PasswordContext, ProfileChanges, USERNAME_MAX_CHARS, UserChanges,
};
use praxi_domain::validation::REQUIRED;
use praxi_domain::{FieldErrors, Role};
use praxi_store::StoreError;
use praxi_store::audit::AuditEntry;
use praxi_store::users::{NewUser, UserFilter, UserRecord};
use serde_json::json;

use super::catalog::{active_filter, shown};
use super::view::{self, Cell, Choice, Column, ExtraForm, Field, Filter, Kind, Row};
use super::{
    AdminEntity, FormInput, In, ListData, ListQuery, allow, failure, finish, render_edit, t,
};
use crate::auth;
use crate::state::AppState;
use crate::web::session::WebUser;

/// The password-reset route (the other user routes come from [`AdminEntity`]).
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/admin/users/{id}/password/", post(set_password))
}

/// Staff accounts.
pub(crate) struct Users;

fn audit(user: &WebUser, action: &str, id: i64) -> AuditEntry {
    user.audit(action, None, Some(json!({ "user_id": id })))
}

fn role_label(user: &WebUser, record: &UserRecord) -> Option<String> {
    let role = record.role.as_ref()?;
    Some(match Role::from_name(&role.name) {
        Some(api_role) => t(user, &format!("role.{}", api_role.name())),
        None => role.label.clone(),
    })
}

fn status(user: &WebUser, record: &UserRecord) -> Cell {
    if !record.is_active {
        Cell::badge(t(user, "admin.status.inactive"), "off")
    } else if record.is_superuser {
        Cell::badge(t(user, "admin.status.superuser"), "info")
    } else {
        Cell::badge(t(user, "admin.status.active"), "ok")
    }
}

fn role_choices(user: &WebUser, current: &str, stored: Option<&str>, blank: bool) -> Vec<Choice> {
    let mut choices = Vec::new();
    if blank {
        choices.push(Choice::new("", t(user, "admin.choose"), current));
    }
    // A stored role without API permissions stays selectable ("keep").
    if let Some(name) = stored.filter(|name| Role::from_name(name).is_none()) {
        choices.push(Choice::new(name, name, current));
    }
    choices.extend(Role::ALL.iter().map(|role| {
        Choice::new(
            role.name(),
            t(user, &format!("role.{}", role.name())),
            current,
        )
    }));
    choices
}

const PROFILE_FORM: [(&str, In); 5] = [
    ("role", In::Text),
    ("first_name", In::Text),
    ("last_name", In::Text),
    ("email", In::Nullable),
    ("calendar_color", In::Text),
];

fn read_profile(fields: &mut crate::body::Fields) -> ProfileChanges {
    ProfileChanges {
        first_name: fields.string("first_name"),
        last_name: fields.string("last_name"),
        email: fields.opt_string("email"),
        calendar_color: fields.string("calendar_color"),
        is_staff: None,
    }
}

/// The account's attributes the password may not resemble.
fn context(record: &UserRecord) -> PasswordContext<'_> {
    PasswordContext {
        username: &record.username,
        first_name: &record.first_name,
        last_name: &record.last_name,
        email: record.email.as_deref(),
    }
}

async fn hash(password: String) -> Result<String, StoreError> {
    auth::hash_password(password)
        .await
        .map_err(|error| StoreError::Db(error.to_string()))
}

impl AdminEntity for Users {
    const SLUG: &'static str = "users";
    const RESOURCE: Area = Area::Users;
    const DELETE: bool = false;
    type Record = UserRecord;

    fn id(record: &Self::Record) -> i64 {
        record.id
    }

    fn is_active(record: &Self::Record) -> bool {
        record.is_active
    }

    fn label(record: &Self::Record, _user: &WebUser) -> String {
        record.username.clone()
    }

    async fn list(
        state: &AppState,
        user: &WebUser,
        query: &ListQuery,
    ) -> Result<ListData, StoreError> {
        let filter = UserFilter {
            role: query.get("role").and_then(Role::from_name),
            active: query.active(),
            q: query.get("q").map(str::to_owned),
        };
        let window = query.window();
        let total = state.store.count_users_matching(&filter).await?;
        let users = state
            .store
            .list_users_matching(&filter, window.offset, window.limit)
            .await?;
        let rows = users
            .iter()
            .map(|record| {
                Row::new(
                    record.id,
                    record.is_active,
                    vec![
                        Cell::text(&record.username),
                        Cell::text(
                            format!("{} {}", record.first_name, record.last_name)
                                .trim()
                                .to_owned(),
                        ),
                        Cell::text(record.email.clone().unwrap_or_default()),
                        match role_label(user, record) {
                            Some(label) => Cell::badge(label, "role"),
                            None => Cell::muted(t(user, "admin.no_role")),
                        },
                        status(user, record),
                        match record.last_login {
                            Some(at) => Cell::muted(view::datetime(user.lang, at, state.tz())),
                            None => Cell::muted(t(user, "admin.never")),
                        },
                    ],
                )
            })
            .collect();
        let current_role = query.value("role");
        let mut roles = vec![Choice::new("", t(user, "admin.filter.all"), &current_role)];
        roles.extend(role_choices(user, &current_role, None, false));
        Ok(ListData {
            total,
            columns: vec![
                Column::new(t(user, "admin.field.username")),
                Column::new(t(user, "admin.field.name")),
                Column::new(t(user, "admin.field.email")),
                Column::new(t(user, "admin.field.role")),
                Column::new(t(user, "admin.field.status")),
                Column::new(t(user, "admin.field.last_login")),
            ],
            rows,
            filters: vec![
                Filter::Text {
                    name: "q",
                    label: t(user, "common.search"),
                    value: query.value("q"),
                },
                Filter::Select {
                    name: "role",
                    label: t(user, "admin.field.role"),
                    options: roles,
                },
                active_filter(user, query),
            ],
        })
    }

    async fn find(state: &AppState, id: i64) -> Result<Option<Self::Record>, StoreError> {
        state.store.user_by_id(id).await
    }

    async fn fields(
        _state: &AppState,
        user: &WebUser,
        record: Option<&Self::Record>,
        input: Option<&FormInput>,
    ) -> Result<Vec<Field>, StoreError> {
        let stored_role = record
            .and_then(|record| record.role.as_ref())
            .map(|role| role.name.clone());
        let role = shown(input, "role", || stored_role.clone().unwrap_or_default());
        let mut fields = Vec::new();
        if record.is_none() {
            fields.push(
                Field::new("username", t(user, "admin.field.username"), Kind::Text)
                    .value(shown(input, "username", String::new))
                    .required()
                    .maxlength(USERNAME_MAX_CHARS)
                    .help(t(user, "admin.help.username")),
            );
            fields.push(
                Field::new("password", t(user, "admin.field.password"), Kind::Password)
                    .required()
                    .autocomplete("new-password")
                    .help(t(user, "admin.help.password")),
            );
        }
        fields.push(
            Field::new(
                "role",
                t(user, "admin.field.role"),
                Kind::Select(role_choices(
                    user,
                    &role,
                    stored_role.as_deref(),
                    record.is_none(),
                )),
            )
            .value(role)
            .required()
            .help(t(user, "admin.help.role")),
        );
        fields.push(
            Field::new("first_name", t(user, "admin.field.first_name"), Kind::Text)
                .value(shown(input, "first_name", || {
                    record.map(|r| r.first_name.clone()).unwrap_or_default()
                }))
                .maxlength(150),
        );
        fields.push(
            Field::new("last_name", t(user, "admin.field.last_name"), Kind::Text)
                .value(shown(input, "last_name", || {
                    record.map(|r| r.last_name.clone()).unwrap_or_default()
                }))
                .maxlength(150),
        );
        fields.push(
            Field::new("email", t(user, "admin.field.email"), Kind::Email)
                .value(shown(input, "email", || {
                    record.and_then(|r| r.email.clone()).unwrap_or_default()
                }))
                .maxlength(254),
        );
        fields.push(
            Field::new(
                "calendar_color",
                t(user, "admin.field.calendar_color"),
                Kind::Colour,
            )
            .value(shown(input, "calendar_color", || {
                record
                    .map(|r| r.calendar_color.clone())
                    .unwrap_or_else(|| user::DEFAULT_CALENDAR_COLOR.to_owned())
            }))
            .required()
            .help(t(user, "admin.help.color")),
        );
        Ok(fields)
    }

    fn facts(state: &AppState, user: &WebUser, record: &Self::Record) -> Vec<(String, String)> {
        let tz = state.tz();
        vec![
            (t(user, "admin.field.username"), record.username.clone()),
            (
                t(user, "admin.field.status"),
                t(
                    user,
                    if record.is_active {
                        "admin.status.active"
                    } else {
                        "admin.status.inactive"
                    },
                ),
            ),
            (
                t(user, "admin.field.date_joined"),
                view::datetime(user.lang, record.date_joined, tz),
            ),
            (
                t(user, "admin.field.last_login"),
                record.last_login.map_or_else(
                    || t(user, "admin.never"),
                    |at| view::datetime(user.lang, at, tz),
                ),
            ),
        ]
    }

    fn offers_deactivation(user: &WebUser, id: i64) -> bool {
        user.user.id != id
    }

    fn extra_forms(user: &WebUser, record: &Self::Record) -> Vec<ExtraForm> {
        vec![ExtraForm {
            id: "password-form".to_owned(),
            title: t(user, "admin.password.title"),
            action: format!("/admin/users/{}/password/", record.id),
            fields: vec![
                Field::new(
                    "password",
                    t(user, "admin.field.new_password"),
                    Kind::Password,
                )
                .required()
                .autocomplete("new-password"),
            ],
            submit: t(user, "admin.password.submit"),
            danger: false,
            confirm: None,
            help: Some(t(user, "admin.password.help")),
        }]
    }

    async fn create(
        state: &AppState,
        user: &WebUser,
        input: &FormInput,
    ) -> Result<i64, StoreError> {
        let mut fields = input.fields(
            state,
            &[
                ("username", In::Text),
                ("password", In::Text),
                ("role", In::Text),
                ("first_name", In::Text),
                ("last_name", In::Text),
                ("email", In::Nullable),
                ("calendar_color", In::Text),
            ],
        );
        let username = fields.string("username").unwrap_or_default();
        let password = fields.string("password").unwrap_or_default();
        let role = fields.string("role").unwrap_or_default();
        let profile = read_profile(&mut fields);
        finish(fields)?;
        let blank_role = role.trim().is_empty();
        let draft = AccountDraft {
            username,
            password,
            role,
            profile,
        };
        let account = match draft.validate() {
            Ok(account) if !blank_role => account,
            result => {
                // A blank role is "required", not "\"\" is not a valid choice.".
                let mut errors = FieldErrors::new();
                if let Err(invalid) = result {
                    for (field, messages) in invalid.0.fields() {
                        if field != "role" || !blank_role {
                            messages
                                .iter()
                                .for_each(|message| errors.add(field, message.clone()));
                        }
                    }
                }
                if blank_role {
                    errors.add("role", REQUIRED);
                }
                return Err(StoreError::Invalid(errors));
            }
        };
        let password_hash = hash(account.password.clone()).await?;
        let created = state
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
                |id| audit(user, "user_create", id),
            )
            .await?;
        Ok(created.id)
    }

    async fn update(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
        input: &FormInput,
    ) -> Result<(), StoreError> {
        let mut fields = input.fields(state, &PROFILE_FORM);
        let role = fields.string("role");
        let profile = read_profile(&mut fields);
        finish(fields)?;
        let change = UserChanges { profile, role }.apply(
            record.profile(),
            record.role.as_ref().map(|role| role.name.as_str()),
        )?;
        if let Some(role) = change.new_role {
            user::check_role_change(&user.actor, record.id, role)?;
        }
        state
            .store
            .update_user_profile(
                record.id,
                &change.profile,
                change.new_role,
                &audit(user, "user_update", record.id),
            )
            .await?;
        Ok(())
    }

    async fn set_active(
        state: &AppState,
        user: &WebUser,
        record: &Self::Record,
        active: bool,
    ) -> Result<(), StoreError> {
        let action = if active {
            "user_activate"
        } else {
            user::check_deactivation(&user.actor, record.id)?;
            "user_deactivate"
        };
        state
            .store
            .set_user_active_audited(record.id, active, &audit(user, action, record.id))
            .await?;
        Ok(())
    }
}

async fn set_password(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw_id): Path<String>,
    Form(input): Form<FormInput>,
) -> Result<Response, Response> {
    allow(&user, Area::Users, Action::Update)?;
    user.check_csrf(input.get("csrf_token").unwrap_or(""))?;
    let record = super::load::<Users>(&state, &user, &raw_id).await?;
    let password = input.get("password").unwrap_or("").to_owned();
    let result = async {
        user::validate_password(&password, context(&record))?;
        let password_hash = hash(password).await?;
        state
            .store
            .set_user_password_audited(
                record.id,
                password_hash,
                &audit(&user, "user_set_password", record.id),
            )
            .await
    }
    .await;
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/admin/users/{}/?ok=password", record.id)).into_response())
        }
        Err(StoreError::Invalid(errors)) => {
            render_edit::<Users>(
                &state,
                &user,
                &record,
                None,
                &errors,
                None,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(error) => Err(failure(&user, error)),
    }
}
