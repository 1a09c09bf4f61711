//! Users and roles.

use chrono::{DateTime, Utc};
use praxi_domain::Role;
use praxi_domain::rbac::Actor;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::db::{Store, is_unique_violation};
use crate::error::StoreError;
use crate::migration::idens::{CoreRole, CoreUser};

/// A role row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRecord {
    pub id: i64,
    pub name: String,
    pub label: String,
}

/// A user with their role.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub calendar_color: String,
    pub role: Option<RoleRecord>,
    pub password_hash: String,
    pub token_version: i32,
    pub date_joined: DateTime<Utc>,
    pub last_login: Option<DateTime<Utc>>,
}

impl UserRecord {
    /// The actor the RBAC policy sees.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            role: self
                .role
                .as_ref()
                .and_then(|role| Role::from_name(&role.name)),
            is_superuser: self.is_superuser,
        }
    }

    /// The API role, if any.
    pub fn api_role(&self) -> Option<Role> {
        self.actor().effective_role()
    }

    /// "First Last", falling back to the username.
    pub fn display_name(&self) -> String {
        let full = format!("{} {}", self.first_name.trim(), self.last_name.trim());
        let full = full.trim();
        if full.is_empty() {
            self.username.clone()
        } else {
            full.to_owned()
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct UserRow {
    id: i64,
    username: String,
    email: Option<String>,
    first_name: String,
    last_name: String,
    is_active: bool,
    is_staff: bool,
    is_superuser: bool,
    calendar_color: String,
    password: String,
    token_version: i32,
    date_joined: DateTime<Utc>,
    last_login: Option<DateTime<Utc>>,
    role_id: Option<i64>,
    role_name: Option<String>,
    role_label: Option<String>,
}

impl From<UserRow> for UserRecord {
    fn from(row: UserRow) -> Self {
        let role = match (row.role_id, row.role_name, row.role_label) {
            (Some(id), Some(name), Some(label)) => Some(RoleRecord { id, name, label }),
            _ => None,
        };
        UserRecord {
            id: row.id,
            username: row.username,
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            is_active: row.is_active,
            is_staff: row.is_staff,
            is_superuser: row.is_superuser,
            calendar_color: row.calendar_color,
            role,
            password_hash: row.password,
            token_version: row.token_version,
            date_joined: row.date_joined,
            last_login: row.last_login,
        }
    }
}

/// The select for users joined with their role.
pub(crate) fn user_select() -> SelectStatement {
    Query::select()
        .columns([
            (CoreUser::Table, CoreUser::Id),
            (CoreUser::Table, CoreUser::Username),
            (CoreUser::Table, CoreUser::Email),
            (CoreUser::Table, CoreUser::FirstName),
            (CoreUser::Table, CoreUser::LastName),
            (CoreUser::Table, CoreUser::IsActive),
            (CoreUser::Table, CoreUser::IsStaff),
            (CoreUser::Table, CoreUser::IsSuperuser),
            (CoreUser::Table, CoreUser::CalendarColor),
            (CoreUser::Table, CoreUser::Password),
            (CoreUser::Table, CoreUser::TokenVersion),
            (CoreUser::Table, CoreUser::DateJoined),
            (CoreUser::Table, CoreUser::LastLogin),
            (CoreUser::Table, CoreUser::RoleId),
        ])
        .expr_as(
            Expr::col((CoreRole::Table, CoreRole::Name)),
            Alias::new("role_name"),
        )
        .expr_as(
            Expr::col((CoreRole::Table, CoreRole::Label)),
            Alias::new("role_label"),
        )
        .from(CoreUser::Table)
        .left_join(
            CoreRole::Table,
            Expr::col((CoreRole::Table, CoreRole::Id)).equals((CoreUser::Table, CoreUser::RoleId)),
        )
        .to_owned()
}

/// Input for a new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: Option<Role>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub calendar_color: Option<String>,
    pub is_staff: bool,
    pub is_superuser: bool,
}

async fn fetch_users<C: ConnectionTrait>(
    conn: &C,
    select: &SelectStatement,
) -> Result<Vec<UserRecord>, StoreError> {
    let rows = conn.query_all(select).await?;
    rows.iter()
        .map(|row| {
            UserRow::from_query_result(row, "")
                .map(UserRecord::from)
                .map_err(StoreError::from)
        })
        .collect()
}

/// Creates a role row if missing and returns its id.
pub(crate) async fn ensure_role<C: ConnectionTrait>(
    conn: &C,
    role: Role,
) -> Result<i64, StoreError> {
    let find = Query::select()
        .column(CoreRole::Id)
        .from(CoreRole::Table)
        .and_where(Expr::col(CoreRole::Name).eq(role.name()))
        .to_owned();
    if let Some(row) = conn.query_one(&find).await? {
        return Ok(row.try_get("", "id")?);
    }
    let insert = Query::insert()
        .into_table(CoreRole::Table)
        .columns([CoreRole::Name, CoreRole::Label])
        .values_panic([role.name().into(), role.label().into()])
        .to_owned();
    conn.execute(&insert).await?;
    let row = conn
        .query_one(&find)
        .await?
        .ok_or(StoreError::NotFound("Role"))?;
    Ok(row.try_get("", "id")?)
}

impl Store {
    /// Creates the four API roles if they are missing.
    pub async fn ensure_roles(&self) -> Result<(), StoreError> {
        let tx = self.write().await?;
        for role in Role::ALL {
            ensure_role(&*tx, role).await?;
        }
        tx.commit().await
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        let select = user_select()
            .and_where(Expr::col((CoreUser::Table, CoreUser::Id)).eq(id))
            .to_owned();
        Ok(fetch_users(self.conn(), &select).await?.into_iter().next())
    }

    /// Finds a user by username, or (case-insensitively) by e-mail.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>, StoreError> {
        let select = user_select()
            .and_where(Expr::col((CoreUser::Table, CoreUser::Username)).eq(login))
            .to_owned();
        if let Some(user) = fetch_users(self.conn(), &select).await?.into_iter().next() {
            return Ok(Some(user));
        }
        if !login.contains('@') {
            return Ok(None);
        }
        let select = user_select()
            .and_where(
                Expr::expr(Func::lower(Expr::col((CoreUser::Table, CoreUser::Email))))
                    .eq(login.to_lowercase()),
            )
            .to_owned();
        let users = fetch_users(self.conn(), &select).await?;
        // An e-mail shared by several accounts identifies none of them.
        Ok(if users.len() == 1 {
            users.into_iter().next()
        } else {
            None
        })
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let select = user_select()
            .and_where(Expr::col((CoreUser::Table, CoreUser::Username)).eq(username))
            .to_owned();
        Ok(fetch_users(self.conn(), &select).await?.into_iter().next())
    }

    /// How many users exist (any role, active or not).
    pub async fn count_users(&self) -> Result<u64, StoreError> {
        let select = Query::select()
            .expr(Expr::col(CoreUser::Id).count())
            .from(CoreUser::Table)
            .to_owned();
        let count: i64 = match self.conn().query_one(&select).await? {
            Some(row) => row.try_get_by_index(0)?,
            None => 0,
        };
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// All users, ordered by username.
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let select = user_select()
            .order_by((CoreUser::Table, CoreUser::Username), sea_orm::Order::Asc)
            .to_owned();
        fetch_users(self.conn(), &select).await
    }

    /// Active users with the doctor role, ordered by last name, first name, id.
    pub async fn list_doctors(&self) -> Result<Vec<UserRecord>, StoreError> {
        let select = user_select()
            .and_where(Expr::col((CoreRole::Table, CoreRole::Name)).eq(Role::Doctor.name()))
            .and_where(Expr::col((CoreUser::Table, CoreUser::IsActive)).eq(true))
            .order_by((CoreUser::Table, CoreUser::LastName), sea_orm::Order::Asc)
            .order_by((CoreUser::Table, CoreUser::FirstName), sea_orm::Order::Asc)
            .order_by((CoreUser::Table, CoreUser::Id), sea_orm::Order::Asc)
            .to_owned();
        fetch_users(self.conn(), &select).await
    }

    /// Creates a user; a taken username or e-mail is a field error.
    pub async fn create_user(
        &self,
        user: NewUser,
        now: DateTime<Utc>,
    ) -> Result<UserRecord, StoreError> {
        let tx = self.write().await?;
        if let Some(email) = &user.email {
            let taken = Query::select()
                .column(CoreUser::Id)
                .from(CoreUser::Table)
                .and_where(
                    Expr::expr(Func::lower(Expr::col(CoreUser::Email))).eq(email.to_lowercase()),
                )
                .to_owned();
            if tx.query_one(&taken).await?.is_some() {
                return Err(StoreError::field(
                    "email",
                    "A user with that email already exists.",
                ));
            }
        }
        let role_id = match user.role {
            Some(role) => Some(ensure_role(&*tx, role).await?),
            None => None,
        };
        let insert = Query::insert()
            .into_table(CoreUser::Table)
            .columns([
                CoreUser::Password,
                CoreUser::IsSuperuser,
                CoreUser::Username,
                CoreUser::FirstName,
                CoreUser::LastName,
                CoreUser::IsStaff,
                CoreUser::IsActive,
                CoreUser::DateJoined,
                CoreUser::Email,
                CoreUser::RoleId,
                CoreUser::CalendarColor,
                CoreUser::VacationDaysPerYear,
                CoreUser::TokenVersion,
            ])
            .values_panic([
                user.password_hash.into(),
                user.is_superuser.into(),
                user.username.clone().into(),
                user.first_name.into(),
                user.last_name.into(),
                user.is_staff.into(),
                true.into(),
                now.into(),
                user.email.into(),
                role_id.into(),
                user.calendar_color
                    .unwrap_or_else(|| "#1E90FF".to_owned())
                    .into(),
                30.into(),
                0.into(),
            ])
            .to_owned();
        if let Err(error) = tx.execute(&insert).await {
            if is_unique_violation(&error) {
                return Err(StoreError::field(
                    "username",
                    "A user with that username already exists.",
                ));
            }
            return Err(error.into());
        }
        let select = user_select()
            .and_where(Expr::col((CoreUser::Table, CoreUser::Username)).eq(user.username))
            .to_owned();
        let created = fetch_users(&*tx, &select)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound("User"))?;
        tx.commit().await?;
        Ok(created)
    }

    /// Activates or deactivates a user; deactivation revokes every token at once.
    pub async fn set_user_active(&self, user_id: i64, active: bool) -> Result<(), StoreError> {
        let tx = self.write().await?;
        let update = Query::update()
            .table(CoreUser::Table)
            .value(CoreUser::IsActive, active)
            .and_where(Expr::col(CoreUser::Id).eq(user_id))
            .to_owned();
        if tx.execute(&update).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound("User"));
        }
        if !active {
            crate::tokens::revoke_user_tokens_in(&*tx, user_id).await?;
        }
        tx.commit().await
    }

    /// Changes a user's role and revokes their tokens (whose role claim would be stale).
    pub async fn set_user_role(&self, user_id: i64, role: Option<Role>) -> Result<(), StoreError> {
        let tx = self.write().await?;
        let role_id = match role {
            Some(role) => Some(ensure_role(&*tx, role).await?),
            None => None,
        };
        let update = Query::update()
            .table(CoreUser::Table)
            .value(CoreUser::RoleId, role_id)
            .and_where(Expr::col(CoreUser::Id).eq(user_id))
            .to_owned();
        if tx.execute(&update).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound("User"));
        }
        crate::tokens::revoke_user_tokens_in(&*tx, user_id).await?;
        tx.commit().await
    }

    /// Sets a new password hash and revokes every token of the user.
    pub async fn set_user_password(
        &self,
        user_id: i64,
        password_hash: String,
    ) -> Result<(), StoreError> {
        let tx = self.write().await?;
        let update = Query::update()
            .table(CoreUser::Table)
            .value(CoreUser::Password, password_hash)
            .and_where(Expr::col(CoreUser::Id).eq(user_id))
            .to_owned();
        if tx.execute(&update).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound("User"));
        }
        crate::tokens::revoke_user_tokens_in(&*tx, user_id).await?;
        tx.commit().await
    }

    /// Records a successful login: `last_login` and the new refresh token.
    pub async fn login_succeeded(
        &self,
        user_id: i64,
        jti: &str,
        family: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.write().await?;
        let update = Query::update()
            .table(CoreUser::Table)
            .value(CoreUser::LastLogin, now)
            .and_where(Expr::col(CoreUser::Id).eq(user_id))
            .to_owned();
        tx.execute(&update).await?;
        crate::tokens::insert_refresh(&*tx, user_id, jti, family, expires_at, now).await?;
        tx.commit().await
    }
}
