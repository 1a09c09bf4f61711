//! Users and roles: lookups for authentication, and the admin-only user administration
//! (create, profile changes, role changes, (de)activation, password resets). Every
//! administrative change writes its audit row in the same transaction, and every change that
//! affects what a user may do (role, deactivation, password) revokes the user's tokens in it too.

use chrono::{DateTime, Utc};
use praxi_domain::Role;
use praxi_domain::rbac::Actor;
use praxi_domain::user::UserProfile;
use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, Func, LikeExpr, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Order, Statement};

use crate::audit::{AuditEntry, write_audit};
use crate::db::{Store, is_unique_violation};
use crate::error::StoreError;
use crate::migration::idens::{CoreRole, CoreUser};

/// A role row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRecord {
    pub id: i64,
    /// The machine name (`admin`, `doctor`, … or a role without API permissions).
    pub name: String,
    /// The display label (e.g. `Arzt`).
    pub label: String,
}

/// A user with their role. `Debug` redacts the password hash.
#[derive(Clone)]
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

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("email", &self.email)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("is_active", &self.is_active)
            .field("is_staff", &self.is_staff)
            .field("is_superuser", &self.is_superuser)
            .field("calendar_color", &self.calendar_color)
            .field("role", &self.role)
            .field("password_hash", &"<redacted>")
            .field("token_version", &self.token_version)
            .field("date_joined", &self.date_joined)
            .field("last_login", &self.last_login)
            .finish()
    }
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

    /// The editable profile fields.
    pub fn profile(&self) -> UserProfile {
        UserProfile {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
            calendar_color: self.calendar_color.clone(),
            is_staff: self.is_staff,
        }
    }
}

// No `Debug`: the row carries the password hash.
#[derive(FromQueryResult)]
pub(crate) struct UserRow {
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

/// Input for a new user. `Debug` redacts the password hash.
#[derive(Clone)]
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

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("role", &self.role)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("email", &self.email)
            .field("calendar_color", &self.calendar_color)
            .field("is_staff", &self.is_staff)
            .field("is_superuser", &self.is_superuser)
            .finish()
    }
}

/// Filters of the user list; `None` = no filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Case-insensitive substring of username, first name, last name or e-mail (wildcards are
    /// literal); blank = no filter.
    pub q: Option<String>,
}

impl UserFilter {
    fn apply(&self, select: &mut SelectStatement) {
        if let Some(role) = self.role {
            select.and_where(Expr::col((CoreRole::Table, CoreRole::Name)).eq(role.name()));
        }
        if let Some(active) = self.active {
            select.and_where(Expr::col((CoreUser::Table, CoreUser::IsActive)).eq(active));
        }
        let q = self.q.as_deref().map(str::trim).unwrap_or("");
        if !q.is_empty() {
            let pattern = format!(
                "%{}%",
                q.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            let like = |column: CoreUser| {
                Expr::expr(Func::lower(Expr::col((CoreUser::Table, column))))
                    .like(LikeExpr::new(pattern.clone()).escape('\\'))
            };
            select.cond_where(
                Cond::any()
                    .add(like(CoreUser::Username))
                    .add(like(CoreUser::FirstName))
                    .add(like(CoreUser::LastName))
                    .add(like(CoreUser::Email)),
            );
        }
    }
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

/// One user by id inside a connection or transaction.
async fn user_in<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<UserRecord, StoreError> {
    let select = user_select()
        .and_where(Expr::col((CoreUser::Table, CoreUser::Id)).eq(user_id))
        .to_owned();
    fetch_users(conn, &select)
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound("User"))
}

/// The advisory-lock key that serialises e-mail uniqueness checks on PostgreSQL (the bytes of
/// `"usrEmail"`; booking locks use small kinds in the top byte, so the keys cannot meet).
const EMAIL_LOCK_KEY: i64 = i64::from_be_bytes(*b"usrEmail");

/// Checks that no other user has `email` (case-insensitively). The schema's unique constraint
/// is case-sensitive, so concurrent checks are serialised: on PostgreSQL by an advisory lock
/// held until the transaction ends, on SQLite by the store's single writer.
async fn check_email_free<C: ConnectionTrait>(
    conn: &C,
    email: &str,
    except_user_id: Option<i64>,
) -> Result<(), StoreError> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [EMAIL_LOCK_KEY.into()],
        ))
        .await?;
    }
    let mut taken = Query::select()
        .column(CoreUser::Id)
        .from(CoreUser::Table)
        .and_where(Expr::expr(Func::lower(Expr::col(CoreUser::Email))).eq(email.to_lowercase()))
        .to_owned();
    if let Some(user_id) = except_user_id {
        taken.and_where(Expr::col(CoreUser::Id).ne(user_id));
    }
    if conn.query_one(&taken).await?.is_some() {
        return Err(StoreError::field(
            "email",
            "A user with that email already exists.",
        ));
    }
    Ok(())
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

/// Inserts a user; a taken username or e-mail is a field error.
async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    user: NewUser,
    now: DateTime<Utc>,
) -> Result<UserRecord, StoreError> {
    if let Some(email) = &user.email {
        check_email_free(conn, email, None).await?;
    }
    let role_id = match user.role {
        Some(role) => Some(ensure_role(conn, role).await?),
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
                .unwrap_or_else(|| praxi_domain::user::DEFAULT_CALENDAR_COLOR.to_owned())
                .into(),
            30.into(),
            0.into(),
        ])
        .to_owned();
    if let Err(error) = conn.execute(&insert).await {
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
    fetch_users(conn, &select)
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound("User"))
}

/// Sets `is_active`; deactivation revokes every token of the user.
async fn update_active<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    active: bool,
) -> Result<(), StoreError> {
    let update = Query::update()
        .table(CoreUser::Table)
        .value(CoreUser::IsActive, active)
        .and_where(Expr::col(CoreUser::Id).eq(user_id))
        .to_owned();
    if conn.execute(&update).await?.rows_affected() == 0 {
        return Err(StoreError::NotFound("User"));
    }
    if !active {
        crate::tokens::revoke_user_tokens_in(conn, user_id).await?;
    }
    Ok(())
}

/// Sets the role (`None` = no role) and revokes every token of the user.
async fn update_role<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    role: Option<Role>,
) -> Result<(), StoreError> {
    let role_id = match role {
        Some(role) => Some(ensure_role(conn, role).await?),
        None => None,
    };
    let update = Query::update()
        .table(CoreUser::Table)
        .value(CoreUser::RoleId, role_id)
        .and_where(Expr::col(CoreUser::Id).eq(user_id))
        .to_owned();
    if conn.execute(&update).await?.rows_affected() == 0 {
        return Err(StoreError::NotFound("User"));
    }
    crate::tokens::revoke_user_tokens_in(conn, user_id).await
}

/// Sets the password hash and revokes every token of the user.
async fn update_password<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    password_hash: String,
) -> Result<(), StoreError> {
    let update = Query::update()
        .table(CoreUser::Table)
        .value(CoreUser::Password, password_hash)
        .and_where(Expr::col(CoreUser::Id).eq(user_id))
        .to_owned();
    if conn.execute(&update).await?.rows_affected() == 0 {
        return Err(StoreError::NotFound("User"));
    }
    crate::tokens::revoke_user_tokens_in(conn, user_id).await
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

    /// A user by id, with their role.
    /// The user behind a staff-UI session, from the authentication cache when it is current
    /// (see `infra::auth_cache`); `user_by_id` otherwise.
    pub async fn session_user_by_id(&self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        if let Some((user, _)) = self.auth.get(id, "") {
            return Ok(Some(user));
        }
        let epoch = self.auth.epoch();
        let user = self.user_by_id(id).await?;
        if let Some(user) = &user {
            self.auth.put(epoch, id, "", user.clone(), false);
        }
        Ok(user)
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

    /// A user by exact username.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let select = user_select()
            .and_where(Expr::col((CoreUser::Table, CoreUser::Username)).eq(username))
            .to_owned();
        Ok(fetch_users(self.conn(), &select).await?.into_iter().next())
    }

    /// How many users exist (any role, active or not).
    pub async fn count_users(&self) -> Result<u64, StoreError> {
        self.count_users_matching(&UserFilter::default()).await
    }

    /// How many users match `filter`.
    pub async fn count_users_matching(&self, filter: &UserFilter) -> Result<u64, StoreError> {
        let mut select = Query::select()
            .expr(Expr::col((CoreUser::Table, CoreUser::Id)).count())
            .from(CoreUser::Table)
            .left_join(
                CoreRole::Table,
                Expr::col((CoreRole::Table, CoreRole::Id))
                    .equals((CoreUser::Table, CoreUser::RoleId)),
            )
            .to_owned();
        filter.apply(&mut select);
        let count: i64 = match self.conn().query_one(&select).await? {
            Some(row) => row.try_get_by_index(0)?,
            None => 0,
        };
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// One page of the users matching `filter`, ordered by username.
    pub async fn list_users_matching(
        &self,
        filter: &UserFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let mut select = user_select();
        filter.apply(&mut select);
        select
            .order_by((CoreUser::Table, CoreUser::Username), Order::Asc)
            .order_by((CoreUser::Table, CoreUser::Id), Order::Asc)
            .offset(offset)
            .limit(limit);
        fetch_users(self.conn(), &select).await
    }

    /// All users, ordered by username.
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let select = user_select()
            .order_by((CoreUser::Table, CoreUser::Username), Order::Asc)
            .to_owned();
        fetch_users(self.conn(), &select).await
    }

    /// Active users with the doctor role, ordered by last name, first name, id.
    pub async fn list_doctors(&self) -> Result<Vec<UserRecord>, StoreError> {
        let select = user_select()
            .and_where(Expr::col((CoreRole::Table, CoreRole::Name)).eq(Role::Doctor.name()))
            .and_where(Expr::col((CoreUser::Table, CoreUser::IsActive)).eq(true))
            .order_by((CoreUser::Table, CoreUser::LastName), Order::Asc)
            .order_by((CoreUser::Table, CoreUser::FirstName), Order::Asc)
            .order_by((CoreUser::Table, CoreUser::Id), Order::Asc)
            .to_owned();
        fetch_users(self.conn(), &select).await
    }

    /// Creates a user; a taken username or e-mail (case-insensitively) is a field error.
    pub async fn create_user(
        &self,
        user: NewUser,
        now: DateTime<Utc>,
    ) -> Result<UserRecord, StoreError> {
        let tx = self.write().await?;
        let created = insert_user(&*tx, user, now).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Creates a user and writes the audit row `audit(new id)` in the same transaction.
    pub async fn create_user_audited(
        &self,
        user: NewUser,
        now: DateTime<Utc>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<UserRecord, StoreError> {
        let tx = self.write().await?;
        let created = insert_user(&*tx, user, now).await?;
        write_audit(&*tx, &audit(created.id)).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Stores a user's new profile and, when `new_role` is given, their new role (revoking
    /// their tokens, whose role claim would be stale); audited in the same transaction.
    pub async fn update_user_profile(
        &self,
        user_id: i64,
        profile: &UserProfile,
        new_role: Option<Role>,
        audit: &AuditEntry,
    ) -> Result<UserRecord, StoreError> {
        let tx = self.write().await?;
        if let Some(email) = &profile.email {
            check_email_free(&*tx, email, Some(user_id)).await?;
        }
        let update = Query::update()
            .table(CoreUser::Table)
            .values([
                (CoreUser::FirstName, profile.first_name.clone().into()),
                (CoreUser::LastName, profile.last_name.clone().into()),
                (CoreUser::Email, profile.email.clone().into()),
                (
                    CoreUser::CalendarColor,
                    profile.calendar_color.clone().into(),
                ),
                (CoreUser::IsStaff, profile.is_staff.into()),
            ])
            .and_where(Expr::col(CoreUser::Id).eq(user_id))
            .to_owned();
        if let Err(error) = tx.execute(&update).await {
            if is_unique_violation(&error) {
                return Err(StoreError::field(
                    "email",
                    "A user with that email already exists.",
                ));
            }
            return Err(error.into());
        }
        if let Some(role) = new_role {
            update_role(&*tx, user_id, Some(role)).await?;
        }
        write_audit(&*tx, audit).await?;
        let user = user_in(&*tx, user_id).await?;
        tx.commit_auth_change().await?;
        Ok(user)
    }

    /// Activates or deactivates a user; deactivation revokes every token at once.
    pub async fn set_user_active(&self, user_id: i64, active: bool) -> Result<(), StoreError> {
        let tx = self.write().await?;
        update_active(&*tx, user_id, active).await?;
        tx.commit_auth_change().await
    }

    /// [`Store::set_user_active`] with its audit row in the same transaction.
    pub async fn set_user_active_audited(
        &self,
        user_id: i64,
        active: bool,
        audit: &AuditEntry,
    ) -> Result<UserRecord, StoreError> {
        let tx = self.write().await?;
        update_active(&*tx, user_id, active).await?;
        write_audit(&*tx, audit).await?;
        let user = user_in(&*tx, user_id).await?;
        tx.commit_auth_change().await?;
        Ok(user)
    }

    /// Changes a user's role and revokes their tokens (whose role claim would be stale).
    pub async fn set_user_role(&self, user_id: i64, role: Option<Role>) -> Result<(), StoreError> {
        let tx = self.write().await?;
        update_role(&*tx, user_id, role).await?;
        tx.commit_auth_change().await
    }

    /// [`Store::set_user_role`] with its audit row in the same transaction.
    pub async fn set_user_role_audited(
        &self,
        user_id: i64,
        role: Option<Role>,
        audit: &AuditEntry,
    ) -> Result<UserRecord, StoreError> {
        let tx = self.write().await?;
        update_role(&*tx, user_id, role).await?;
        write_audit(&*tx, audit).await?;
        let user = user_in(&*tx, user_id).await?;
        tx.commit_auth_change().await?;
        Ok(user)
    }

    /// Sets a new password hash and revokes every token of the user.
    pub async fn set_user_password(
        &self,
        user_id: i64,
        password_hash: String,
    ) -> Result<(), StoreError> {
        let tx = self.write().await?;
        update_password(&*tx, user_id, password_hash).await?;
        tx.commit_auth_change().await
    }

    /// [`Store::set_user_password`] with its audit row in the same transaction.
    pub async fn set_user_password_audited(
        &self,
        user_id: i64,
        password_hash: String,
        audit: &AuditEntry,
    ) -> Result<UserRecord, StoreError> {
        let tx = self.write().await?;
        update_password(&*tx, user_id, password_hash).await?;
        write_audit(&*tx, audit).await?;
        let user = user_in(&*tx, user_id).await?;
        tx.commit_auth_change().await?;
        Ok(user)
    }

    /// Records a successful login: `last_login` and the new refresh token.
    pub async fn login_succeeded(
        &self,
        user_id: i64,
        jti: &str,
        family: &str,
        access_jti: &str,
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
        crate::tokens::insert_refresh(
            &*tx,
            user_id,
            jti,
            family,
            Some(access_jti),
            expires_at,
            now,
        )
        .await?;
        tx.commit().await
    }
}
