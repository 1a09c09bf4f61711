//! Browser tests: the real server on a real port, driven through headless Chromium with
//! ChromeDriver (Debian's `chromium` and `chromium-driver`, installed by `.ci/run`).
//! Without ChromeDriver the tests are skipped with a message, unless `PRAXI_REQUIRE_BROWSER`
//! is set (CI sets it), in which case they fail.

#[path = "../api/fixtures.rs"]
#[allow(dead_code, reason = "shared with the API tests")]
mod fixtures;
#[path = "../api/helpers.rs"]
mod helpers;

mod admin;
mod admin_pages;
mod appointment_list;
mod boards;
mod calendar;
mod calendar_feeds;
mod dashboard;
mod errors;
mod german_texts;
mod harness;
mod login;
mod op_forms;
mod patient_files;
mod patients;
mod two_factor;
