//! Use cases: one home for each action that the API and the web UI share (see
//! `/work/shared/style.md`, "Use cases").

pub(crate) mod master_data;
