//! Infrastructure: the connection pool and write transactions (`db`), typed database errors
//! (`error`), booking locks (`locks`), cross-process notifications (`notify`), operational
//! helpers (`ops`: pool figures, backup), the schema (`migration`) and the SeaORM entities
//! (`entity`). Backend-specific SQL lives here and in migrations only.

pub mod auth_cache;
pub mod db;
pub mod entity;
pub mod error;
pub mod locks;
pub mod migration;
pub mod notify;
pub mod ops;
