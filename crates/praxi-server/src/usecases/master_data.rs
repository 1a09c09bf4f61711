//! Master data: the reads and writes of the seven configuration tables (appointment types,
//! operation types, resources, practice hours, doctor hours, breaks, absences), in one place
//! for the API (`api/master_data.rs`) and the administration (`web/pages/admin/`).
//!
//! Each table is one [`MasterData`] declaration (`master_data/tables.rs`): its store table,
//! RBAC resource, audit actions, how a body or form is read, who owns a row, its board event,
//! and its store writes. Everything else — the policy decision applied to a row, the audit
//! rows, the board events, the refusals — is written once here.
//!
//! A use case takes the caller, the policy decision (never a role predicate) and typed input,
//! and answers a record or a [`Refused`]; the API renders a refusal as the DRF body, the
//! administration as a translated message.

mod tables;

use std::future::Future;

use praxi_domain::rbac::{Area, Decision, Denial};
use praxi_domain::{FieldErrors, ValidationError};
use praxi_store::StoreError;
use praxi_store::admin_lists::Window;
use praxi_store::audit::AuditEntry;
use praxi_store::master_data::MasterTable;
use serde_json::{Value, json};

use crate::body::{Fields, Mode};
use crate::events::Board;
use crate::state::AppState;
use crate::usecases::Caller;

pub(crate) use tables::{
    Absences, AppointmentTypes, Breaks, DoctorHours, OperationTypes, PracticeHours, Resources,
};

/// The stored row of a master-data table.
pub(crate) type Record<T> = <<T as MasterData>::Table as MasterTable>::Record;
/// The list filter of a master-data table.
pub(crate) type Filter<T> = <<T as MasterData>::Table as MasterTable>::Filter;
/// The list orders of a master-data table.
pub(crate) type Sort<T> = <<T as MasterData>::Table as MasterTable>::Sort;

/// Fields a client may echo back from a read; ignored on writes (DRF ignores read-only
/// fields).
pub(crate) const READ_ONLY: &[&str] = &["id", "created_at", "updated_at"];

/// Whom a row belongs to, for own-only decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// Practice configuration: nobody's own.
    Practice,
    /// A doctor's row.
    Doctor(i64),
    /// A practice-wide row that every doctor sees (a break blocks them too) but none owns.
    Everyone,
}

/// Whether a row is looked at or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

impl Owner {
    fn is_own(self, user_id: i64, access: Access) -> bool {
        match (self, access) {
            (Owner::Doctor(doctor_id), _) => doctor_id == user_id,
            (Owner::Everyone, Access::Read) => true,
            (Owner::Everyone, Access::Write) | (Owner::Practice, _) => false,
        }
    }
}

/// One master-data table: the declaration the use cases, the API routes and the
/// administration pages are driven by.
pub(crate) trait MasterData: Send + Sync + 'static {
    /// The store's declaration (entity, record, filters, orders).
    type Table: MasterTable;
    /// The domain's partial input (`…Changes`): what a body or form says.
    type Changes: Send + Sync;

    /// The model name of errors (`No <Model> matches…`).
    const MODEL: &'static str = <Self::Table as MasterTable>::MODEL;
    const RESOURCE: Area;
    /// The audit action prefix: `<prefix>_list|view|create|update|delete`.
    const AUDIT: &'static str;
    /// The audit meta key naming the row (`{"<key>": id}`).
    const AUDIT_ID: &'static str = "id";
    /// Whether showing one row is audited. No master-data table holds patient data, so
    /// none is (issue #16: reads without patient data are not audited; writes still are).
    const AUDIT_VIEW: bool = false;
    /// Fields of a read a client may echo back on a write.
    const IGNORED: &'static [&'static str] = READ_ONLY;
    /// The board event prefix on the resource calendar (`break` → `break.created`), for
    /// tables painted there.
    const EVENT: Option<&'static str> = None;

    fn id(record: &Record<Self>) -> i64;

    /// Whom a row belongs to (own-only decisions).
    fn owner(_record: &Record<Self>) -> Owner {
        Owner::Practice
    }

    /// Narrows a list to what `doctor_id` may see (a filtered list decision).
    fn restrict(_filter: &mut Filter<Self>, _doctor_id: i64) {}

    /// Reads a body or form; type and field-level errors are collected in `fields`.
    fn read(fields: &mut Fields, mode: Mode) -> Self::Changes;

    /// The doctor a change hands the row to, if it names one (`Some(None)`: practice-wide).
    fn new_owner(_changes: &Self::Changes) -> Option<Option<i64>> {
        None
    }

    /// The change that switches a row on or off.
    fn activation(active: bool) -> Self::Changes;

    /// Validates `changes` as a new row and stores it with the audit row `audit(id)`.
    fn insert(
        state: &AppState,
        changes: Self::Changes,
        audit: impl FnOnce(i64) -> AuditEntry + Send,
    ) -> impl Future<Output = Result<Record<Self>, StoreError>> + Send;

    /// Applies `changes` to the stored row inside the write transaction, with `audit`.
    fn update(
        state: &AppState,
        id: i64,
        changes: Self::Changes,
        mode: Mode,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<Record<Self>, StoreError>> + Send;

    /// Deletes the row (refused while other rows reference it) with `audit`.
    fn delete(
        state: &AppState,
        id: i64,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Why a master-data use case did not do its work.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The policy said no (403, or 404 for a row hidden from the caller).
    Denied(Denial, &'static str),
    /// No row with that id (the model name).
    NotFound(&'static str),
    /// Invalid input, per field.
    Invalid(FieldErrors),
    /// A delete refused because other rows reference this one (the model name).
    StillReferenced(String),
    /// The store failed (contention: the client may retry; anything else: logged).
    Store(StoreError),
}

impl From<StoreError> for Refused {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(model) => Refused::NotFound(model),
            StoreError::Invalid(errors) => Refused::Invalid(errors),
            StoreError::StillReferenced(what) => Refused::StillReferenced(what),
            other => Refused::Store(other),
        }
    }
}

impl From<ValidationError> for Refused {
    fn from(error: ValidationError) -> Self {
        Refused::Invalid(error.0)
    }
}

fn audit_meta<T: MasterData>(id: i64) -> Option<Value> {
    Some(json!({ T::AUDIT_ID: id }))
}

fn entry<T: MasterData>(caller: &Caller, action: &str, id: Option<i64>) -> AuditEntry {
    caller.audit(
        &format!("{}_{action}", T::AUDIT),
        None,
        id.and_then(audit_meta::<T>),
    )
}

/// The audit row of showing one row, if the table audits views.
pub(crate) fn view_audit<T: MasterData>(caller: &Caller, id: i64) -> Option<AuditEntry> {
    T::AUDIT_VIEW.then(|| entry::<T>(caller, "view", Some(id)))
}

async fn publish<T: MasterData>(state: &AppState, what: &str, id: i64) {
    if let Some(event) = T::EVENT {
        state
            .events
            .notify(
                Board::ResourceCalendar,
                &format!("{event}.{what}"),
                id,
                None,
            )
            .await;
    }
}

/// Applies the policy decision to one row: allowed, a filtered list's row being read, or an
/// own-only decision on the caller's own row.
fn check_access<T: MasterData>(
    caller: &Caller,
    decision: Decision,
    owner: Owner,
    access: Access,
) -> Result<(), Refused> {
    let (allowed, denial) = match decision {
        Decision::Allow => (true, Denial::Forbidden),
        Decision::Filtered => (access == Access::Read, Denial::Forbidden),
        Decision::OwnOnly(denial) => (owner.is_own(caller.user_id(), access), denial),
        Decision::Deny(denial) => (false, denial),
    };
    if allowed {
        Ok(())
    } else {
        Err(Refused::Denied(denial, T::MODEL))
    }
}

/// One list window: the filter narrowed by the decision, the total, then the window that
/// `pick` chooses for the total (the API answers 404 for a page past the end), then the rows.
/// Not audited: master data holds no patient data (docs/data-protection.md).
pub(crate) async fn list<T, E>(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    mut filter: Filter<T>,
    sort: Sort<T>,
    pick: impl FnOnce(u64) -> Result<Window, E>,
) -> Result<(u64, Vec<Record<T>>), E>
where
    T: MasterData,
    E: From<Refused>,
{
    match decision {
        Decision::Allow => {}
        Decision::Filtered | Decision::OwnOnly(_) => T::restrict(&mut filter, caller.user_id()),
        Decision::Deny(denial) => return Err(Refused::Denied(denial, T::MODEL).into()),
    }
    let store = &state.store;
    let total = store
        .master_count::<T::Table>(&filter)
        .await
        .map_err(Refused::from)?;
    let window = pick(total)?;
    let rows = store
        .master_rows::<T::Table>(&filter, sort, window)
        .await
        .map_err(Refused::from)?;
    Ok((total, rows))
}

/// One row as the caller may see it (`access`: read, or about to be written), not audited.
pub(crate) async fn find<T>(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    id: i64,
    access: Access,
) -> Result<Record<T>, Refused>
where
    T: MasterData,
{
    let record = state
        .store
        .master_row::<T::Table>(id)
        .await?
        .ok_or(Refused::NotFound(T::MODEL))?;
    check_access::<T>(caller, decision, T::owner(&record), access)?;
    Ok(record)
}

/// Shows one row: found, visible to the caller, audited (audited only after a successful
/// lookup, api.md §5 item 14).
pub(crate) async fn view<T>(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    id: i64,
) -> Result<Record<T>, Refused>
where
    T: MasterData,
{
    let record = find::<T>(state, caller, decision, id, Access::Read).await?;
    if let Some(audit) = view_audit::<T>(caller, id) {
        state.store.record_audit(&audit).await?;
    }
    Ok(record)
}

/// Creates a row: validated by the domain, stored with its audit row, announced.
pub(crate) async fn create<T: MasterData>(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    changes: T::Changes,
) -> Result<Record<T>, Refused> {
    let owner = match T::new_owner(&changes) {
        Some(Some(doctor_id)) => Owner::Doctor(doctor_id),
        _ => Owner::Practice,
    };
    check_access::<T>(caller, decision, owner, Access::Write)?;
    let record = T::insert(state, changes, |id| entry::<T>(caller, "create", Some(id))).await?;
    publish::<T>(state, "created", T::id(&record)).await;
    Ok(record)
}

/// Updates a row the caller found with [`find`] (`Access::Write`): an own-only caller may
/// not hand the row to someone else; the domain validates the merged row inside the store's
/// transaction.
pub(crate) async fn update<T: MasterData>(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    record: &Record<T>,
    changes: T::Changes,
    mode: Mode,
) -> Result<Record<T>, Refused> {
    check_access::<T>(caller, decision, T::owner(record), Access::Write)?;
    if let Decision::OwnOnly(_) = decision {
        let mut errors = FieldErrors::new();
        praxi_domain::hours::check_doctor_unchanged(
            &mut errors,
            caller.user_id(),
            T::new_owner(&changes),
        );
        errors.into_result().map_err(Refused::from)?;
    }
    let id = T::id(record);
    let updated = T::update(
        state,
        id,
        changes,
        mode,
        &entry::<T>(caller, "update", Some(id)),
    )
    .await?;
    publish::<T>(state, "updated", id).await;
    Ok(updated)
}

/// Switches a row on or off (an update of `active` alone).
pub(crate) async fn set_active<T: MasterData>(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    record: &Record<T>,
    active: bool,
) -> Result<Record<T>, Refused> {
    update::<T>(
        state,
        caller,
        decision,
        record,
        T::activation(active),
        Mode::Patch,
    )
    .await
}

/// Deletes a row the caller found with [`find`] (`Access::Write`).
pub(crate) async fn delete<T: MasterData>(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    record: &Record<T>,
) -> Result<(), Refused> {
    check_access::<T>(caller, decision, T::owner(record), Access::Write)?;
    let id = T::id(record);
    T::delete(state, id, &entry::<T>(caller, "delete", Some(id))).await?;
    publish::<T>(state, "deleted", id).await;
    Ok(())
}
