//! Refresh tokens: every issued token is recorded; rotation blacklists the used one, and reuse
//! of a blacklisted token revokes its whole family.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query};

use crate::db::Store;
use crate::error::StoreError;
use crate::migration::idens::{BlacklistedToken, CoreUser, OutstandingToken};

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
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let insert = Query::insert()
        .into_table(OutstandingToken::Table)
        .columns([
            OutstandingToken::UserId,
            OutstandingToken::Jti,
            OutstandingToken::Family,
            OutstandingToken::CreatedAt,
            OutstandingToken::ExpiresAt,
        ])
        .values_panic([
            user_id.into(),
            jti.into(),
            family.into(),
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

impl Store {
    /// Uses a refresh token: rotates it, or detects reuse and revokes the family.
    pub async fn rotate_refresh_token(
        &self,
        jti: &str,
        new_jti: &str,
        family: &str,
        user_id: i64,
        expires_at: DateTime<Utc>,
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
            tx.commit().await?;
            return Ok(RefreshUse::Reused);
        }
        let insert = Query::insert()
            .into_table(BlacklistedToken::Table)
            .columns([BlacklistedToken::TokenId, BlacklistedToken::BlacklistedAt])
            .values_panic([token_id.into(), now.into()])
            .to_owned();
        tx.execute(&insert).await?;
        insert_refresh(&*tx, user_id, new_jti, family, expires_at, now).await?;
        tx.commit().await?;
        Ok(RefreshUse::Rotated)
    }

    /// Revokes every refresh token of a family (logout).
    pub async fn revoke_token_family(&self, family: &str) -> Result<(), StoreError> {
        let tx = self.write().await?;
        blacklist_family(&*tx, family, Utc::now()).await?;
        tx.commit().await
    }

    /// Revokes every token of a user at once: refresh tokens are blacklisted and the token
    /// version is bumped so outstanding access tokens stop working.
    pub async fn revoke_user_tokens(&self, user_id: i64) -> Result<(), StoreError> {
        let tx = self.write().await?;
        revoke_user_tokens_in(&*tx, user_id).await?;
        tx.commit().await
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
