//! The seven master-data declarations: per table only what really differs — how its input is
//! read, whom a row belongs to, its audit names and event, and which store writes (with their
//! table-specific rules: reference checks, overlap checks, absence snapshots) it uses.

use praxi_domain::absence::AbsenceChanges;
use praxi_domain::catalog::{
    AppointmentTypeChanges, OperationTypeChanges, ResourceChanges, WriteMode,
};
use praxi_domain::hours::{BreakChanges, DoctorHoursChanges, HoursChanges};
use praxi_domain::rbac::Area;
use praxi_store::StoreError;
use praxi_store::audit::AuditEntry;
use praxi_store::master_data::{self as table, BreakOwner};

use super::{Filter, MasterData, Owner, Record};
use crate::body::{Fields, Mode};
use crate::state::AppState;

/// Fields of the break and absence shapes that clients may echo back.
const READ_ONLY_AND_COLOUR: &[&str] = &["id", "created_at", "updated_at", "color"];

/// PUT replaces (required fields must be present), PATCH changes only what is sent.
fn write_mode(mode: Mode) -> WriteMode {
    match mode {
        Mode::Create | Mode::Replace => WriteMode::Full,
        Mode::Patch => WriteMode::Partial,
    }
}

/// What every declaration shares in shape, generated from the table's repository functions:
/// the record's `id`, `activation` (for changes with an `active` field), and `insert`,
/// `update`, `delete`. `catalog` tables validate a create with `changes.create()` and apply
/// an update to the stored fields in the request's write mode; `calendar` tables hand the
/// partial change to the store, which validates the merged row under its locks.
macro_rules! store_writes {
    ($kind:ident, $changes:ident, $create:ident, $update:ident, $delete:ident) => {
        fn activation(active: bool) -> $changes {
            $changes {
                active: Some(active),
                ..Default::default()
            }
        }

        store_writes!($kind, $create, $update, $delete);
    };
    ($kind:ident, $create:ident, $update:ident, $delete:ident) => {
        fn id(record: &Record<Self>) -> i64 {
            record.id
        }

        async fn insert(
            state: &AppState,
            changes: Self::Changes,
            audit: impl FnOnce(i64) -> AuditEntry + Send,
        ) -> Result<Record<Self>, StoreError> {
            let fields = changes.create()?;
            state.store.$create(fields, state.now(), audit).await
        }

        async fn update(
            state: &AppState,
            id: i64,
            changes: Self::Changes,
            mode: Mode,
            audit: &AuditEntry,
        ) -> Result<Record<Self>, StoreError> {
            let change = store_writes!(@change $kind, changes, mode);
            state.store.$update(id, change, state.now(), audit).await
        }

        async fn delete(state: &AppState, id: i64, audit: &AuditEntry) -> Result<(), StoreError> {
            state.store.$delete(id, audit).await
        }
    };
    (@change catalog, $changes:ident, $mode:ident) => {
        |current| $changes.apply(current, write_mode($mode))
    };
    (@change calendar, $changes:ident, $mode:ident) => {{
        let _ = $mode;
        $changes
    }};
}

// ---- catalogue --------------------------------------------------------------------------------

/// `/api/appointment-types/`, `/admin/appointment-types/`.
pub(crate) struct AppointmentTypes;

impl MasterData for AppointmentTypes {
    type Table = table::AppointmentTypes;
    type Changes = AppointmentTypeChanges;
    const RESOURCE: Area = Area::AppointmentTypes;
    const AUDIT: &'static str = "appointment_type";
    const AUDIT_ID: &'static str = "appointment_type_id";

    fn read(fields: &mut Fields, _mode: Mode) -> AppointmentTypeChanges {
        AppointmentTypeChanges {
            name: fields.string("name"),
            color: fields.opt_string("color"),
            duration_minutes: fields.opt_int("duration_minutes"),
            active: fields.non_null_bool("active"),
            buffer_before_minutes: fields.opt_int("buffer_before_minutes"),
            buffer_after_minutes: fields.opt_int("buffer_after_minutes"),
        }
    }

    store_writes!(
        catalog,
        AppointmentTypeChanges,
        create_appointment_type,
        update_appointment_type,
        delete_appointment_type
    );
}

/// `/api/operation-types/`, `/admin/operation-types/`.
pub(crate) struct OperationTypes;

impl MasterData for OperationTypes {
    type Table = table::OperationTypes;
    type Changes = OperationTypeChanges;
    const RESOURCE: Area = Area::OperationTypes;
    const AUDIT: &'static str = "operation_type";
    const AUDIT_ID: &'static str = "operation_type_id";

    fn read(fields: &mut Fields, _mode: Mode) -> OperationTypeChanges {
        OperationTypeChanges {
            name: fields.string("name"),
            prep_duration: fields.non_null_int("prep_duration", Mode::Patch),
            op_duration: fields.non_null_int("op_duration", Mode::Patch),
            post_duration: fields.non_null_int("post_duration", Mode::Patch),
            color: fields.string("color"),
            active: fields.non_null_bool("active"),
        }
    }

    store_writes!(
        catalog,
        OperationTypeChanges,
        create_operation_type,
        update_operation_type,
        delete_operation_type
    );
}

/// `/api/resources/`, `/admin/resources/`: rooms and devices. Showing one is not audited,
/// like the original (configuration, not patient data).
pub(crate) struct Resources;

impl MasterData for Resources {
    type Table = table::Resources;
    type Changes = ResourceChanges;
    const RESOURCE: Area = Area::Resources;
    const AUDIT: &'static str = "resource";
    const AUDIT_ID: &'static str = "resource_id";

    fn read(fields: &mut Fields, _mode: Mode) -> ResourceChanges {
        ResourceChanges {
            name: fields.string("name"),
            kind: fields.string("type"),
            color: fields.string("color"),
            active: fields.non_null_bool("active"),
        }
    }

    store_writes!(
        catalog,
        ResourceChanges,
        create_resource,
        update_resource,
        delete_resource
    );
}

// ---- calendar configuration -------------------------------------------------------------------

fn read_window(fields: &mut Fields, mode: Mode) -> HoursChanges {
    HoursChanges {
        weekday: fields.non_null_int("weekday", mode),
        start_time: fields.non_null_time("start_time", mode),
        end_time: fields.non_null_time("end_time", mode),
        active: fields.non_null_bool("active"),
    }
}

/// `/api/practice-hours/`, `/admin/practice-hours/`: the practice's weekly opening windows.
pub(crate) struct PracticeHours;

impl MasterData for PracticeHours {
    type Table = table::PracticeHours;
    type Changes = HoursChanges;
    const RESOURCE: Area = Area::PracticeHours;
    const AUDIT: &'static str = "practice_hours";

    fn read(fields: &mut Fields, mode: Mode) -> HoursChanges {
        let changes = read_window(fields, mode);
        changes.check_fields(fields.errors_mut());
        changes
    }

    store_writes!(
        calendar,
        HoursChanges,
        create_practice_hours,
        update_practice_hours,
        delete_practice_hours
    );
}

/// `/api/doctor-hours/`, `/admin/doctor-hours/`: each doctor's weekly availability. The
/// overlap rule lives in the domain, checked by the store under the doctor's lock.
pub(crate) struct DoctorHours;

impl MasterData for DoctorHours {
    type Table = table::DoctorHours;
    type Changes = DoctorHoursChanges;
    const RESOURCE: Area = Area::DoctorHours;
    const AUDIT: &'static str = "doctor_hours";

    fn owner(record: &Record<Self>) -> Owner {
        Owner::Doctor(record.fields.doctor_id)
    }

    fn restrict(filter: &mut Filter<Self>, doctor_id: i64) {
        filter.doctor_id = Some(doctor_id);
    }

    fn read(fields: &mut Fields, mode: Mode) -> DoctorHoursChanges {
        let changes = DoctorHoursChanges {
            doctor_id: fields.non_null_int("doctor", mode),
            window: read_window(fields, mode),
        };
        changes.check_fields(fields.errors_mut());
        changes
    }

    fn new_owner(changes: &DoctorHoursChanges) -> Option<Option<i64>> {
        changes.doctor_id.map(Some)
    }

    fn activation(active: bool) -> DoctorHoursChanges {
        DoctorHoursChanges {
            doctor_id: None,
            window: HoursChanges {
                active: Some(active),
                ..Default::default()
            },
        }
    }

    store_writes!(
        calendar,
        create_doctor_hours,
        update_doctor_hours,
        delete_doctor_hours
    );
}

/// `/api/doctor-breaks/`, `/admin/breaks/`: blocked time on one date, of one doctor or
/// practice-wide (`doctor: null`; every doctor sees those, none owns them). Painted on the
/// resource calendar.
pub(crate) struct Breaks;

impl MasterData for Breaks {
    type Table = table::Breaks;
    type Changes = BreakChanges;
    const RESOURCE: Area = Area::DoctorBreaks;
    const AUDIT: &'static str = "doctor_break";
    const IGNORED: &'static [&'static str] = READ_ONLY_AND_COLOUR;
    const EVENT: Option<&'static str> = Some("break");

    fn owner(record: &Record<Self>) -> Owner {
        match record.fields.doctor_id {
            Some(doctor_id) => Owner::Doctor(doctor_id),
            None => Owner::Everyone,
        }
    }

    fn restrict(filter: &mut Filter<Self>, doctor_id: i64) {
        filter.owner = BreakOwner::DoctorOrPractice(doctor_id);
    }

    fn read(fields: &mut Fields, mode: Mode) -> BreakChanges {
        let changes = BreakChanges {
            doctor_id: fields.opt_int("doctor"),
            date: fields.non_null_date("date", mode),
            start_time: fields.non_null_time("start_time", mode),
            end_time: fields.non_null_time("end_time", mode),
            reason: fields.opt_string("reason"),
            active: fields.non_null_bool("active"),
        };
        changes.check_fields(fields.errors_mut());
        changes
    }

    fn new_owner(changes: &BreakChanges) -> Option<Option<i64>> {
        changes.doctor_id
    }

    store_writes!(
        calendar,
        BreakChanges,
        create_break,
        update_break,
        delete_break
    );
}

/// `/api/doctor-absences/`, `/admin/absences/`: whole-day absences. The vacation snapshots
/// and the lock order live in the store, the rules in the domain. Painted on the resource
/// calendar.
pub(crate) struct Absences;

impl MasterData for Absences {
    type Table = table::Absences;
    type Changes = AbsenceChanges;
    const RESOURCE: Area = Area::DoctorAbsences;
    const AUDIT: &'static str = "doctor_absence";
    const IGNORED: &'static [&'static str] = READ_ONLY_AND_COLOUR;
    const EVENT: Option<&'static str> = Some("absence");

    fn owner(record: &Record<Self>) -> Owner {
        Owner::Doctor(record.fields.doctor_id)
    }

    fn restrict(filter: &mut Filter<Self>, doctor_id: i64) {
        filter.doctor_id = Some(doctor_id);
    }

    fn read(fields: &mut Fields, mode: Mode) -> AbsenceChanges {
        let changes = AbsenceChanges {
            doctor_id: fields.non_null_int("doctor", mode),
            start_date: fields.non_null_date("start_date", mode),
            end_date: fields.non_null_date("end_date", mode),
            reason: fields.opt_string("reason"),
            active: fields.non_null_bool("active"),
        };
        changes.check_fields(fields.errors_mut());
        changes
    }

    fn new_owner(changes: &AbsenceChanges) -> Option<Option<i64>> {
        changes.doctor_id.map(Some)
    }

    store_writes!(
        calendar,
        AbsenceChanges,
        create_absence,
        update_absence,
        delete_absence
    );
}
