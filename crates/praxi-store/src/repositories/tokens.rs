//! Refresh tokens: every issued token is recorded; rotation blacklists the used one, and reuse
//! of a blacklisted token revokes its whole family.
//!
//! Access tokens: each refresh token row remembers the access token issued with it, so
//! revoking a family (logout, reuse) also puts the family's access tokens on a deny-list
//! (`praxi_revoked_access_token`) until they would have expired anyway. Every authenticated
//! request reads its user and the deny-list entry of its token in one statement.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::db::Store;
use crate::error::StoreError;
use crate::migration::idens::{BlacklistedToken, CoreUser, OutstandingToken};
use crate::migration::m0010_login_throttle::RevokedAccessToken;
use crate::users::UserRecord;

/// The outcome of presenting a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshUse {
    /// It was valid: it is now blacklisted and its successor recorded.
    Rotated,
    /// It had been used before: the whole family is now revoked.
    Reused,
    /// No such token was ever issued.
    Unknown,
}

pub(crate) async fn insert_refresh<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    jti: &str,
    family: &str,
    access_jti: Option<&str>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let insert = Query::insert()
        .into_table(OutstandingToken::Table)
        .columns([
            OutstandingToken::UserId,
            OutstandingToken::Jti,
            OutstandingToken::Family,
            OutstandingToken::AccessJti,
            OutstandingToken::CreatedAt,
            OutstandingToken::ExpiresAt,
        ])
        .values_panic([
            user_id.into(),
            jti.into(),
            family.into(),
            access_jti.map(str::to_owned).into(),
            now.into(),
            expires_at.into(),
        ])
        .to_owned();
    conn.execute(&insert).await?;
    Ok(())
}

/// Blacklists every not-yet-blacklisted token of the family.
async fn blacklist_family<C: ConnectionTrait>(
    conn: &C,
    family: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let pending = Query::select()
        .column((OutstandingToken::Table, OutstandingToken::Id))
        .expr(Expr::val(now))
        .from(OutstandingToken::Table)
        .and_where(Expr::col((OutstandingToken::Table, OutstandingToken::Family)).eq(family))
        .and_where(
            Expr::col((OutstandingToken::Table, OutstandingToken::Id)).not_in_subquery(
                Query::select()
                    .column(BlacklistedToken::TokenId)
                    .from(BlacklistedToken::Table)
                    .to_owned(),
            ),
        )
        .to_owned();
    let insert = Query::insert()
        .into_table(BlacklistedToken::Table)
        .columns([BlacklistedToken::TokenId, BlacklistedToken::BlacklistedAt])
        .select_from(pending)
        .map_err(|error| StoreError::Db(error.to_string()))?
        .to_owned();
    conn.execute(&insert).await?;
    Ok(())
}

/// Denies the access tokens issued with the family's refresh tokens until `until` (an upper
/// bound of their expiry).
async fn deny_family_access_tokens<C: ConnectionTrait>(
    conn: &C,
    family: &str,
    until: DateTime<Utc>,
) -> Result<(), StoreError> {
    let issued = Query::select()
        .column(OutstandingToken::AccessJti)
        .expr(Expr::val(until))
        .from(OutstandingToken::Table)
        .and_where(Expr::col(OutstandingToken::Family).eq(family))
        .and_where(Expr::col(OutstandingToken::AccessJti).is_not_null())
        .to_owned();
    let insert = Query::insert()
        .into_table(RevokedAccessToken::Table)
        .columns([RevokedAccessToken::Jti, RevokedAccessToken::ExpiresAt])
        .select_from(issued)
        .map_err(|error| StoreError::Db(error.to_string()))?
        .on_conflict(
            OnConflict::column(RevokedAccessToken::Jti)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    conn.execute(&insert).await?;
    Ok(())
}

/// Deletes deny-list entries of tokens that have expired by now.
async fn prune_revoked<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> Result<(), StoreError> {
    let delete = Query::delete()
        .from_table(RevokedAccessToken::Table)
        .and_where(Expr::col(RevokedAccessToken::ExpiresAt).lt(now))
        .to_owned();
    conn.execute(&delete).await?;
    Ok(())
}

impl Store {
    /// Uses a refresh token: rotates it (recording `new_jti` and the access token
    /// `new_access_jti` issued with it), or detects reuse and revokes the family, its access
    /// tokens included (denied until `access_expiry`, the latest expiry any of them can have).
    #[allow(
        clippy::too_many_arguments,
        reason = "each value is a distinct part of the token"
    )]
    pub async fn rotate_refresh_token(
        &self,
        jti: &str,
        new_jti: &str,
        new_access_jti: &str,
        family: &str,
        user_id: i64,
        expires_at: DateTime<Utc>,
        access_expiry: DateTime<Utc>,
    ) -> Result<RefreshUse, StoreError> {
        let now = Utc::now();
        let tx = self.write().await?;
        let find = Query::select()
            .column((OutstandingToken::Table, OutstandingToken::Id))
            .column((BlacklistedToken::Table, BlacklistedToken::TokenId))
            .from(OutstandingToken::Table)
            .left_join(
                BlacklistedToken::Table,
                Expr::col((BlacklistedToken::Table, BlacklistedToken::TokenId))
                    .equals((OutstandingToken::Table, OutstandingToken::Id)),
            )
            .and_where(Expr::col((OutstandingToken::Table, OutstandingToken::Jti)).eq(jti))
            .and_where(Expr::col((OutstandingToken::Table, OutstandingToken::Family)).eq(family))
            .and_where(Expr::col((OutstandingToken::Table, OutstandingToken::UserId)).eq(user_id))
            .to_owned();
        let Some(row) = tx.query_one(&find).await? else {
            return Ok(RefreshUse::Unknown);
        };
        let token_id: i64 = row.try_get("", "id")?;
        let blacklisted: Option<i64> = row.try_get("", "token_id")?;
        if blacklisted.is_some() {
            blacklist_family(&*tx, family, now).await?;
            deny_family_access_tokens(&*tx, family, access_expiry).await?;
            tx.commit().await?;
            return Ok(RefreshUse::Reused);
        }
        let insert = Query::insert()
            .into_table(BlacklistedToken::Table)
            .columns([BlacklistedToken::TokenId, BlacklistedToken::BlacklistedAt])
            .values_panic([token_id.into(), now.into()])
            .to_owned();
        tx.execute(&insert).await?;
        insert_refresh(
            &*tx,
            user_id,
            new_jti,
            family,
            Some(new_access_jti),
            expires_at,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(RefreshUse::Rotated)
    }

    /// Revokes every refresh token of a family and the access tokens issued with them
    /// (logout); the access tokens stay denied until `access_expiry`.
    pub async fn revoke_token_family(
        &self,
        family: &str,
        access_expiry: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.write().await?;
        blacklist_family(&*tx, family, Utc::now()).await?;
        deny_family_access_tokens(&*tx, family, access_expiry).await?;
        prune_revoked(&*tx, now).await?;
        tx.commit_auth_change().await
    }

    /// Denies single access tokens (by `jti`) until `until`.
    pub async fn revoke_access_tokens(
        &self,
        jtis: &[&str],
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if jtis.is_empty() {
            return Ok(());
        }
        let mut insert = Query::insert()
            .into_table(RevokedAccessToken::Table)
            .columns([RevokedAccessToken::Jti, RevokedAccessToken::ExpiresAt])
            .on_conflict(
                OnConflict::column(RevokedAccessToken::Jti)
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        for jti in jtis {
            insert.values_panic([(*jti).into(), until.into()]);
        }
        let tx = self.write().await?;
        tx.execute(&insert).await?;
        tx.commit_auth_change().await
    }

    /// The user of an access token and whether the token (`jti`) is on the deny-list, in one
    /// statement (the user row left-joined with the deny-list entry).
    pub async fn user_for_access_token(
        &self,
        user_id: i64,
        jti: &str,
    ) -> Result<Option<(UserRecord, bool)>, StoreError> {
        if let Some(hit) = self.auth.get(user_id, jti) {
            return Ok(Some(hit));
        }
        let epoch = self.auth.epoch();
        let found = self.read_user_for_access_token(user_id, jti).await?;
        if let Some((user, revoked)) = &found {
            self.auth.put(epoch, user_id, jti, user.clone(), *revoked);
        }
        Ok(found)
    }

    /// [`Store::user_for_access_token`] without the cache.
    async fn read_user_for_access_token(
        &self,
        user_id: i64,
        jti: &str,
    ) -> Result<Option<(UserRecord, bool)>, StoreError> {
        let select = crate::users::user_select()
            .expr_as(
                Expr::col((RevokedAccessToken::Table, RevokedAccessToken::Jti)),
                Alias::new("revoked_jti"),
            )
            .left_join(
                RevokedAccessToken::Table,
                Expr::col((RevokedAccessToken::Table, RevokedAccessToken::Jti)).eq(jti),
            )
            .and_where(Expr::col((CoreUser::Table, CoreUser::Id)).eq(user_id))
            .to_owned();
        let Some(row) = self.conn().query_one(&select).await? else {
            return Ok(None);
        };
        let revoked: Option<String> = row.try_get("", "revoked_jti")?;
        let user = crate::users::UserRow::from_query_result(&row, "")?;
        Ok(Some((UserRecord::from(user), revoked.is_some())))
    }

    /// Revokes every token of a user at once: refresh tokens are blacklisted and the token
    /// version is bumped so outstanding access tokens stop working.
    pub async fn revoke_user_tokens(&self, user_id: i64) -> Result<(), StoreError> {
        let tx = self.write().await?;
        revoke_user_tokens_in(&*tx, user_id).await?;
        tx.commit_auth_change().await
    }
}

pub(crate) async fn revoke_user_tokens_in<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let pending = Query::select()
        .column(OutstandingToken::Id)
        .expr(Expr::val(now))
        .from(OutstandingToken::Table)
        .and_where(Expr::col(OutstandingToken::UserId).eq(user_id))
        .and_where(
            Expr::col(OutstandingToken::Id).not_in_subquery(
                Query::select()
                    .column(BlacklistedToken::TokenId)
                    .from(BlacklistedToken::Table)
                    .to_owned(),
            ),
        )
        .to_owned();
    let insert = Query::insert()
        .into_table(BlacklistedToken::Table)
        .columns([BlacklistedToken::TokenId, BlacklistedToken::BlacklistedAt])
        .select_from(pending)
        .map_err(|error| StoreError::Db(error.to_string()))?
        .to_owned();
    conn.execute(&insert).await?;
    let bump = Query::update()
        .table(CoreUser::Table)
        .value(
            CoreUser::TokenVersion,
            Expr::col(CoreUser::TokenVersion).add(1),
        )
        .and_where(Expr::col(CoreUser::Id).eq(user_id))
        .to_owned();
    conn.execute(&bump).await?;
    // Web sessions end too.
    crate::sessions::delete_user_sessions(conn, user_id).await?;
    Ok(())
}
