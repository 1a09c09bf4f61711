//! Staff web UI sessions. The cookie holds a random key; the table stores only its BLAKE2b
//! hash, so a leaked table grants no session. Sessions expire after an idle period and at an
//! absolute limit; deactivating a user or changing their role or password ends their sessions.

use blake2::{Blake2b512, Digest};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::db::Store;
use crate::error::StoreError;
use crate::migration::idens::{CoreUser, PraxiSession};

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct SessionRecord {
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expire_date: DateTime<Utc>,
}

/// The hash under which a cookie key is stored.
pub fn hash_key(key: &str) -> String {
    let digest = Blake2b512::digest(key.as_bytes());
    digest
        .iter()
        .take(32)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

pub(crate) async fn delete_user_sessions<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
) -> Result<(), StoreError> {
    let delete = Query::delete()
        .from_table(PraxiSession::Table)
        .and_where(Expr::col(PraxiSession::UserId).eq(user_id))
        .to_owned();
    conn.execute(&delete).await?;
    Ok(())
}

impl Store {
    /// Stores a new session for a cookie key (the caller generates key and CSRF token).
    pub async fn create_session(
        &self,
        key: &str,
        user_id: i64,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.write().await?;
        // Housekeeping: expired sessions go when new ones are made.
        let purge = Query::delete()
            .from_table(PraxiSession::Table)
            .and_where(Expr::col(PraxiSession::ExpireDate).lt(now))
            .to_owned();
        tx.execute(&purge).await?;
        // A new session is a login to the staff UI: it is the user's last login, as for the API.
        let last_login = Query::update()
            .table(CoreUser::Table)
            .value(CoreUser::LastLogin, now)
            .and_where(Expr::col(CoreUser::Id).eq(user_id))
            .to_owned();
        tx.execute(&last_login).await?;
        let insert = Query::insert()
            .into_table(PraxiSession::Table)
            .columns([
                PraxiSession::SessionKey,
                PraxiSession::UserId,
                PraxiSession::CsrfToken,
                PraxiSession::CreatedAt,
                PraxiSession::ExpireDate,
                PraxiSession::Data,
            ])
            .values_panic([
                hash_key(key).into(),
                user_id.into(),
                csrf_token.into(),
                now.into(),
                expires.into(),
                "{}".into(),
            ])
            .to_owned();
        tx.execute(&insert).await?;
        tx.commit().await
    }

    /// The live session for a cookie key, if any.
    pub async fn session(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let select = Query::select()
            .columns([
                PraxiSession::UserId,
                PraxiSession::CsrfToken,
                PraxiSession::CreatedAt,
                PraxiSession::ExpireDate,
            ])
            .from(PraxiSession::Table)
            .and_where(Expr::col(PraxiSession::SessionKey).eq(hash_key(key)))
            .and_where(Expr::col(PraxiSession::ExpireDate).gt(now))
            .to_owned();
        match self.conn().query_one(&select).await? {
            Some(row) => Ok(Some(SessionRecord::from_query_result(&row, "")?)),
            None => Ok(None),
        }
    }

    /// Moves a session's expiry (sliding idle timeout).
    pub async fn extend_session(
        &self,
        key: &str,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.write().await?;
        let update = Query::update()
            .table(PraxiSession::Table)
            .value(PraxiSession::ExpireDate, expires)
            .and_where(Expr::col(PraxiSession::SessionKey).eq(hash_key(key)))
            .to_owned();
        tx.execute(&update).await?;
        tx.commit().await
    }

    /// Ends a session (logout).
    pub async fn delete_session(&self, key: &str) -> Result<(), StoreError> {
        let tx = self.write().await?;
        let delete = Query::delete()
            .from_table(PraxiSession::Table)
            .and_where(Expr::col(PraxiSession::SessionKey).eq(hash_key(key)))
            .to_owned();
        tx.execute(&delete).await?;
        tx.commit().await
    }
}
