//! Two-factor login state (docs/data-protection.md, "Two-factor login"): each user's TOTP
//! enrolment (sealed secret, confirmed flag, last accepted time step), their one-time recovery
//! codes (keyed hashes only) and the roles for which the practice requires a second factor.
//!
//! The store never sees a clear-text secret or recovery code: sealing and hashing happen in
//! `praxi-server` (which holds the server key). Accepting a code is one conditional `UPDATE`,
//! so the same time step or recovery code is accepted once even by concurrent requests.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::audit::{AuditEntry, write_audit};
use crate::db::Store;
use crate::error::StoreError;
use crate::migration::idens::CoreRole;
use crate::migration::m0013_patient_rights_mfa::{MfaRequiredRole, UserRecoveryCode, UserTotp};

/// A user's TOTP enrolment.
#[derive(Clone, PartialEq, Eq, FromQueryResult)]
pub struct TotpEnrolment {
    pub user_id: i64,
    /// The secret as sealed by the server (opaque to the store).
    pub sealed_secret: String,
    /// `true` once a code confirmed the enrolment: from then on logins need a second factor.
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub enabled_at: Option<DateTime<Utc>>,
    /// The last accepted RFC 6238 time step.
    pub last_step: Option<i64>,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrolment")
            .field("user_id", &self.user_id)
            .field("sealed_secret", &"<redacted>")
            .field("enabled", &self.enabled)
            .field("enabled_at", &self.enabled_at)
            .finish()
    }
}

/// Removes a user's enrolment and recovery codes inside a transaction.
async fn delete_enrolment<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<(), StoreError> {
    conn.execute(
        &Query::delete()
            .from_table(UserRecoveryCode::Table)
            .and_where(Expr::col(UserRecoveryCode::UserId).eq(user_id))
            .to_owned(),
    )
    .await?;
    conn.execute(
        &Query::delete()
            .from_table(UserTotp::Table)
            .and_where(Expr::col(UserTotp::UserId).eq(user_id))
            .to_owned(),
    )
    .await?;
    Ok(())
}

impl Store {
    /// The user's TOTP enrolment (confirmed or pending), if any.
    pub async fn totp_enrolment(&self, user_id: i64) -> Result<Option<TotpEnrolment>, StoreError> {
        let select = Query::select()
            .columns([
                UserTotp::UserId,
                UserTotp::SealedSecret,
                UserTotp::Enabled,
                UserTotp::CreatedAt,
                UserTotp::EnabledAt,
                UserTotp::LastStep,
            ])
            .from(UserTotp::Table)
            .and_where(Expr::col(UserTotp::UserId).eq(user_id))
            .to_owned();
        match self.conn().query_one(&select).await? {
            Some(row) => Ok(Some(TotpEnrolment::from_query_result(&row, "")?)),
            None => Ok(None),
        }
    }

    /// Starts (or restarts) an enrolment with a new sealed secret. Refused (`false`) when the
    /// user already has a confirmed enrolment: that must be disabled first.
    pub async fn start_totp_enrolment(
        &self,
        user_id: i64,
        sealed_secret: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let tx = self.write().await?;
        let enabled = Query::select()
            .column(UserTotp::UserId)
            .from(UserTotp::Table)
            .and_where(Expr::col(UserTotp::UserId).eq(user_id))
            .and_where(Expr::col(UserTotp::Enabled).eq(true))
            .to_owned();
        if tx.query_one(&enabled).await?.is_some() {
            return Ok(false);
        }
        delete_enrolment(&*tx, user_id).await?;
        let insert = Query::insert()
            .into_table(UserTotp::Table)
            .columns([
                UserTotp::UserId,
                UserTotp::SealedSecret,
                UserTotp::Enabled,
                UserTotp::CreatedAt,
            ])
            .values_panic([
                user_id.into(),
                sealed_secret.into(),
                false.into(),
                now.into(),
            ])
            .to_owned();
        tx.execute(&insert).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Confirms a pending enrolment: enables it, remembers the accepted `step` and replaces the
    /// recovery codes by `recovery_hashes`, with its audit row. `false` when there was no
    /// pending enrolment (none, or already enabled).
    pub async fn confirm_totp_enrolment(
        &self,
        user_id: i64,
        step: i64,
        recovery_hashes: &[String],
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let tx = self.write().await?;
        let enable = Query::update()
            .table(UserTotp::Table)
            .value(UserTotp::Enabled, true)
            .value(UserTotp::EnabledAt, now)
            .value(UserTotp::LastStep, step)
            .and_where(Expr::col(UserTotp::UserId).eq(user_id))
            .and_where(Expr::col(UserTotp::Enabled).eq(false))
            .to_owned();
        if tx.execute(&enable).await?.rows_affected() != 1 {
            return Ok(false);
        }
        replace_recovery_codes(&*tx, user_id, recovery_hashes).await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Accepts time step `step` for the user's enabled enrolment if it is newer than the last
    /// accepted one (a code is good once). One atomic `UPDATE`.
    pub async fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool, StoreError> {
        let tx = self.write().await?;
        let update = Query::update()
            .table(UserTotp::Table)
            .value(UserTotp::LastStep, step)
            .and_where(Expr::col(UserTotp::UserId).eq(user_id))
            .and_where(Expr::col(UserTotp::Enabled).eq(true))
            .and_where(
                Expr::col(UserTotp::LastStep)
                    .is_null()
                    .or(Expr::col(UserTotp::LastStep).lt(step)),
            )
            .to_owned();
        let accepted = tx.execute(&update).await?.rows_affected() == 1;
        tx.commit().await?;
        Ok(accepted)
    }

    /// Spends an unused recovery code of the user (by its keyed hash). One atomic `UPDATE`.
    pub async fn use_recovery_code(
        &self,
        user_id: i64,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let tx = self.write().await?;
        let update = Query::update()
            .table(UserRecoveryCode::Table)
            .value(UserRecoveryCode::UsedAt, now)
            .and_where(Expr::col(UserRecoveryCode::UserId).eq(user_id))
            .and_where(Expr::col(UserRecoveryCode::CodeHash).eq(code_hash))
            .and_where(Expr::col(UserRecoveryCode::UsedAt).is_null())
            .to_owned();
        let used = tx.execute(&update).await?.rows_affected() == 1;
        tx.commit().await?;
        Ok(used)
    }

    /// How many unused recovery codes the user has left.
    pub async fn unused_recovery_codes(&self, user_id: i64) -> Result<u64, StoreError> {
        let select = Query::select()
            .expr(Expr::col(UserRecoveryCode::Id).count())
            .from(UserRecoveryCode::Table)
            .and_where(Expr::col(UserRecoveryCode::UserId).eq(user_id))
            .and_where(Expr::col(UserRecoveryCode::UsedAt).is_null())
            .to_owned();
        let n: i64 = match self.conn().query_one(&select).await? {
            Some(row) => row.try_get_by_index(0)?,
            None => 0,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Removes the user's enrolment and recovery codes, with its audit row.
    pub async fn disable_totp(&self, user_id: i64, audit: &AuditEntry) -> Result<(), StoreError> {
        let tx = self.write().await?;
        delete_enrolment(&*tx, user_id).await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await
    }

    /// The names of the roles for which the practice requires two-factor login.
    pub async fn mfa_required_role_names(&self) -> Result<Vec<String>, StoreError> {
        let select = Query::select()
            .column((CoreRole::Table, CoreRole::Name))
            .from(MfaRequiredRole::Table)
            .inner_join(
                CoreRole::Table,
                Expr::col((CoreRole::Table, CoreRole::Id))
                    .equals((MfaRequiredRole::Table, MfaRequiredRole::RoleId)),
            )
            .order_by((CoreRole::Table, CoreRole::Name), sea_orm::Order::Asc)
            .to_owned();
        let rows = self.conn().query_all(&select).await?;
        rows.iter()
            .map(|row| row.try_get_by_index::<String>(0).map_err(StoreError::from))
            .collect()
    }

    /// Whether the role `role_id` requires two-factor login.
    pub async fn mfa_required_for_role(&self, role_id: i64) -> Result<bool, StoreError> {
        let select = Query::select()
            .column(MfaRequiredRole::RoleId)
            .from(MfaRequiredRole::Table)
            .and_where(Expr::col(MfaRequiredRole::RoleId).eq(role_id))
            .to_owned();
        Ok(self.conn().query_one(&select).await?.is_some())
    }

    /// Replaces the set of roles (by name) that require two-factor login, with its audit row.
    /// Unknown names are ignored.
    pub async fn set_mfa_required_roles(
        &self,
        role_names: &[String],
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let tx = self.write().await?;
        tx.execute(
            &Query::delete()
                .from_table(MfaRequiredRole::Table)
                .to_owned(),
        )
        .await?;
        if !role_names.is_empty() {
            let insert = Query::insert()
                .into_table(MfaRequiredRole::Table)
                .columns([MfaRequiredRole::RoleId])
                .select_from(
                    Query::select()
                        .column(CoreRole::Id)
                        .from(CoreRole::Table)
                        .and_where(
                            Expr::col(CoreRole::Name).is_in(role_names.iter().map(String::as_str)),
                        )
                        .to_owned(),
                )
                .map_err(|error| StoreError::Db(error.to_string()))?
                .to_owned();
            tx.execute(&insert).await?;
        }
        write_audit(&*tx, audit).await?;
        tx.commit().await
    }
}

/// Deletes the user's recovery codes and inserts the new hashes.
async fn replace_recovery_codes<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    hashes: &[String],
) -> Result<(), StoreError> {
    conn.execute(
        &Query::delete()
            .from_table(UserRecoveryCode::Table)
            .and_where(Expr::col(UserRecoveryCode::UserId).eq(user_id))
            .to_owned(),
    )
    .await?;
    if hashes.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert()
        .into_table(UserRecoveryCode::Table)
        .columns([UserRecoveryCode::UserId, UserRecoveryCode::CodeHash])
        .to_owned();
    for hash in hashes {
        insert.values_panic([user_id.into(), hash.as_str().into()]);
    }
    conn.execute(&insert).await?;
    Ok(())
}
