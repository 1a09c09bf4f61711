//! Identifier newtypes, sized like the database columns (users, resources, operations, absences
//! and breaks are `bigint`; patients and appointments are `integer`).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident($inner:ty)) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A user (doctors and every operation team member are users).
    UserId(i64)
);
id_type!(
    /// A bookable resource (room or device).
    ResourceId(i64)
);
id_type!(
    /// An operation.
    OperationId(i64)
);
id_type!(
    /// A patient (plain integer reference, not a foreign key).
    PatientId(i32)
);
id_type!(
    /// An appointment.
    AppointmentId(i32)
);
id_type!(
    /// A doctor absence row.
    AbsenceId(i64)
);
id_type!(
    /// A doctor or practice-wide break row.
    BreakId(i64)
);
id_type!(
    /// A slot hold (issue #14).
    HoldId(i64)
);
