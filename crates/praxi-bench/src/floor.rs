//! The floor of the benchmark (issue #12): a minimal axum server in the benchmark process that
//! authenticates nothing, audits nothing and answers each read with **one** indexed statement
//! on the same database (the store's connection pool), its rows serialised as JSON.
//!
//! Each real read of the matrix is compared against the floor that returns the same rows (or,
//! for the suggestions, the rows the engine has to read); the report names the floor per row.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::{DatabaseConnection, DbBackend, FromQueryResult, JsonValue, Statement, Value};
use serde_json::json;

/// One floor statement: SQL with `?` placeholders (rewritten to `$n` on PostgreSQL) and values.
#[derive(Debug, Clone)]
pub(crate) struct FloorQuery {
    sql: String,
    values: Vec<Value>,
}

impl FloorQuery {
    pub(crate) fn new(backend: DbBackend, sql: &str, values: Vec<Value>) -> FloorQuery {
        let sql = if backend == DbBackend::Postgres {
            let mut out = String::with_capacity(sql.len() + 8);
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(ch);
                }
            }
            out
        } else {
            sql.to_owned()
        };
        FloorQuery { sql, values }
    }
}

struct Floor {
    conn: DatabaseConnection,
    backend: DbBackend,
    queries: HashMap<&'static str, FloorQuery>,
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn rows(State(floor): State<Arc<Floor>>, Path(name): Path<String>) -> Response {
    let Some(query) = floor.queries.get(name.as_str()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let statement =
        Statement::from_sql_and_values(floor.backend, query.sql.clone(), query.values.clone());
    match JsonValue::find_by_statement(statement)
        .all(&floor.conn)
        .await
    {
        Ok(rows) => Json(rows).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// A running floor server; stops when dropped.
pub(crate) struct FloorServer {
    pub(crate) base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FloorServer {
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Serves `GET /health` (no database) and `GET /rows/{name}` (one statement each) on
/// `127.0.0.1:0`.
pub(crate) async fn start(
    conn: DatabaseConnection,
    backend: DbBackend,
    queries: HashMap<&'static str, FloorQuery>,
) -> anyhow::Result<FloorServer> {
    let floor = Arc::new(Floor {
        conn,
        backend,
        queries,
    });
    let router = Router::new()
        .route("/health", get(health))
        .route("/rows/{name}", get(rows))
        .with_state(floor);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the floor server")?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(FloorServer {
        base: format!("http://{addr}"),
        stop: Some(stop),
        task: Some(task),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_on_postgres_only() {
        let q = FloorQuery::new(DbBackend::Postgres, "a = ? AND b < ?", vec![]);
        assert_eq!(q.sql, "a = $1 AND b < $2");
        let q = FloorQuery::new(DbBackend::Sqlite, "a = ? AND b < ?", vec![]);
        assert_eq!(q.sql, "a = ? AND b < ?");
    }
}
