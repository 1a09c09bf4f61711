//! The RBAC policy: one declarative table of area × action × role → decision that every
//! API handler and every dashboard page goes through.
//!
//! It reproduces the matrix of api.md §2.2 with the fixes of its §5 that change the matrix:
//! a user without one of the four API roles is denied everywhere except `auth/me` (§5 items 2
//! and 3); availability needs a clinical role (§5.1); doctors create patient flows only for
//! their own appointments and operations (§5.4); superusers count as admins, `is_staff` grants
//! nothing.

use crate::role::Role;

/// What is being accessed: an API area or a web area such as the administration (not a table,
/// and not a room or device: those are "resources" in the scheduling sense).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    Me,
    Appointments,
    AppointmentSuggest,
    Doctors,
    AppointmentTypes,
    Calendar,
    Availability,
    Operations,
    OperationSuggest,
    OperationTypes,
    OpDashboard,
    OpTimeline,
    OpStatsOverview,
    OpStatsSurgeons,
    /// `op-stats/rooms|devices|types`.
    OpStatsOther,
    Resources,
    ResourceCalendar,
    PracticeHours,
    DoctorHours,
    DoctorAbsences,
    DoctorBreaks,
    AbsencePreview,
    PatientFlow,
    Patients,
    /// The admin-only user administration (beyond the original).
    Users,
    /// Reading the audit log and its access report (`/admin/audit-log/`,
    /// `GET /api/audit/accesses/`): admin only; the log is append-only for everyone.
    AuditLog,
    /// iCal feed administration (admin only; the feeds themselves are read by secret URL).
    CalendarFeeds,
    /// Patient rights (DSGVO): `Read` = the export of everything stored about a patient (admin
    /// and assistant: the desk answers patients' requests), `Delete` = erasure (admin only).
    PatientRights,
    /// Appointment reminders by e-mail (issue #14): the outbox as staff see it (admin and
    /// assistant read and queue a failed reminder again; doctors and billing do not).
    Reminders,
    /// A patient's notes and uploaded documents (the original's dashboard showed them to any
    /// staff user): clinical roles read and add them; nobody edits or deletes them.
    PatientFiles,
    /// The staff web UI's administration area (beyond the original): everyone but doctors,
    /// whose own hours and absences are shown elsewhere. Each admin page still checks its
    /// own resource.
    Administration,
    /// The practice's holiday calendar: region and per-date overrides (issue #14). Everyone
    /// reads it; admins and assistants change it, like practice hours.
    Holidays,
    /// Slot holds (issue #14): whoever may book may hold a slot (doctors only their own).
    SlotHolds,
    /// Booking outside hours, into a break, an absence or a closed day with a reason
    /// (issue #14): admins and assistants (`Create`); never a double booking.
    ScheduleOverride,
}

/// The kind of access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A collection read (list, search, board, statistics).
    List,
    /// A single-object read.
    Read,
    Create,
    /// Any change of an existing object, including status changes and "mark no-show".
    Update,
    Delete,
}

/// How a denial is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// 403: the object is visible but the action is not allowed.
    Forbidden,
    /// 404: the object is hidden from this role (queryset filtering in the original).
    NotFound,
    /// 405: the method does not exist for anyone who may use the endpoint.
    MethodNotAllowed,
}

/// The outcome of a policy check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Lists: allowed, but only the actor's own rows are returned.
    Filtered,
    /// Single objects: allowed only on own records; others are denied like this.
    OwnOnly(Denial),
    Deny(Denial),
}

/// The acting user as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub role: Option<Role>,
    pub is_superuser: bool,
}

impl Actor {
    /// Superusers act as admins; otherwise the stored role decides.
    pub fn effective_role(&self) -> Option<Role> {
        if self.is_superuser {
            Some(Role::Admin)
        } else {
            self.role
        }
    }

    /// The policy decision for this actor.
    pub fn decide(&self, resource: Area, action: Action) -> Decision {
        decide(resource, action, self.effective_role())
    }

    /// `true` when the actor is restricted to own records (a doctor on a filtered resource).
    pub fn is_doctor(&self) -> bool {
        self.effective_role() == Some(Role::Doctor)
    }
}

use Decision::{Allow, Deny, Filtered, OwnOnly};
use Denial::{Forbidden, MethodNotAllowed, NotFound};

const DENY: Decision = Deny(Forbidden);

/// Decisions for (admin, assistant, doctor, billing).
type Row = [Decision; 4];

const ALL: Row = [Allow, Allow, Allow, Allow];
const ADMIN_ONLY: Row = [Allow, DENY, DENY, DENY];
const STAFF_WRITE: Row = [Allow, Allow, DENY, DENY];
const CLINICAL: Row = [Allow, Allow, Allow, DENY];
const DOCTOR_FILTERED: Row = [Allow, Allow, Filtered, Allow];
const DOCTOR_OWN_403: Row = [Allow, Allow, OwnOnly(Forbidden), Allow];
const DOCTOR_OWN_404: Row = [Allow, Allow, OwnOnly(NotFound), Allow];
const DOCTOR_WRITES_OWN_403: Row = [Allow, Allow, OwnOnly(Forbidden), DENY];
const DOCTOR_WRITES_OWN_404: Row = [Allow, Allow, OwnOnly(NotFound), DENY];
const NO_DOCTOR: Row = [Allow, Allow, DENY, Allow];

fn row(resource: Area, action: Action) -> Row {
    use Action::*;
    use Area::*;
    match (resource, action) {
        (Me, _) => ALL,

        (Appointments, List) => DOCTOR_FILTERED,
        (Appointments, Read) => DOCTOR_OWN_403,
        (Appointments, Create | Update | Delete) => DOCTOR_WRITES_OWN_403,
        (AppointmentSuggest | OperationSuggest, List | Read) => DOCTOR_OWN_403,
        (AppointmentSuggest | OperationSuggest, _) => [DENY; 4],

        (Doctors, List | Read) => ALL,
        (Doctors, _) => [DENY; 4],

        (AppointmentTypes | OperationTypes, List | Read) => ALL,
        (AppointmentTypes | OperationTypes, _) => ADMIN_ONLY,

        (
            Calendar | OpTimeline | ResourceCalendar | OpStatsOverview | OpStatsSurgeons,
            List | Read,
        ) => DOCTOR_FILTERED,
        (OpStatsOther, List | Read) => NO_DOCTOR,
        (
            Calendar | OpTimeline | ResourceCalendar | OpStatsOverview | OpStatsSurgeons
            | OpStatsOther,
            _,
        ) => [DENY; 4],

        (Availability, List | Read) => CLINICAL,
        (Availability, _) => [DENY; 4],

        (Operations, List) => DOCTOR_FILTERED,
        (Operations, Read) => DOCTOR_OWN_403,
        (Operations, Create | Update | Delete) => STAFF_WRITE,

        (OpDashboard, List | Read) => DOCTOR_FILTERED,
        (OpDashboard, _) => STAFF_WRITE,

        (Resources | PracticeHours, List | Read) => ALL,
        (Resources | PracticeHours, _) => STAFF_WRITE,

        (DoctorHours | DoctorAbsences | DoctorBreaks, List) => DOCTOR_FILTERED,
        (DoctorHours | DoctorAbsences | DoctorBreaks, Read) => DOCTOR_OWN_404,
        (DoctorHours | DoctorAbsences | DoctorBreaks, Create) => STAFF_WRITE,
        (DoctorHours, Update | Delete) => STAFF_WRITE,
        (DoctorAbsences | DoctorBreaks, Update | Delete) => DOCTOR_WRITES_OWN_404,

        (AbsencePreview, List | Read) => ALL,
        (AbsencePreview, _) => [DENY; 4],

        (PatientFlow, List) => DOCTOR_FILTERED,
        (PatientFlow, Read) => DOCTOR_OWN_404,
        (PatientFlow, Create) => DOCTOR_WRITES_OWN_403,
        (PatientFlow, Update | Delete) => DOCTOR_WRITES_OWN_404,

        (Patients, List | Read) => ALL,
        (Patients, Create | Update) => CLINICAL,
        (Patients, Delete) => [
            Deny(MethodNotAllowed),
            Deny(MethodNotAllowed),
            Deny(MethodNotAllowed),
            DENY,
        ],

        (PatientFiles, List | Read | Create) => CLINICAL,
        (PatientFiles, Update | Delete) => [DENY; 4],

        (Users | AuditLog | CalendarFeeds, _) => ADMIN_ONLY,

        (PatientRights, List | Read) => STAFF_WRITE,
        (PatientRights, Delete) => ADMIN_ONLY,
        (PatientRights, Create | Update) => [DENY; 4],
        (Reminders, List | Read | Update) => STAFF_WRITE,
        (Reminders, Create | Delete) => [DENY; 4],

        (Administration, List | Read) => NO_DOCTOR,
        (Administration, _) => [DENY; 4],

        (Holidays, List | Read) => ALL,
        (Holidays, _) => STAFF_WRITE,

        (SlotHolds, List | Read) => DOCTOR_OWN_403,
        (SlotHolds, Create | Delete) => DOCTOR_WRITES_OWN_403,
        (SlotHolds, Update) => [DENY; 4],

        (ScheduleOverride, Create) => STAFF_WRITE,
        (ScheduleOverride, _) => [DENY; 4],
    }
}

/// The policy decision for a role (`None` = no API role).
pub fn decide(resource: Area, action: Action, role: Option<Role>) -> Decision {
    let row = row(resource, action);
    match role {
        Some(Role::Admin) => row[0],
        Some(Role::Assistant) => row[1],
        Some(Role::Doctor) => row[2],
        Some(Role::Billing) => row[3],
        None if resource == Area::Me => Allow,
        None => DENY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLES: [Option<Role>; 5] = [
        Some(Role::Admin),
        Some(Role::Assistant),
        Some(Role::Doctor),
        Some(Role::Billing),
        None,
    ];

    fn decisions(resource: Area, action: Action) -> Vec<Decision> {
        ROLES
            .iter()
            .map(|role| decide(resource, action, *role))
            .collect()
    }

    #[test]
    fn patients_matrix_matches_the_spec() {
        use Action::*;
        assert_eq!(
            decisions(Area::Patients, List),
            [Allow, Allow, Allow, Allow, DENY]
        );
        assert_eq!(
            decisions(Area::Patients, Read),
            [Allow, Allow, Allow, Allow, DENY]
        );
        assert_eq!(
            decisions(Area::Patients, Create),
            [Allow, Allow, Allow, DENY, DENY]
        );
        assert_eq!(
            decisions(Area::Patients, Update),
            [Allow, Allow, Allow, DENY, DENY]
        );
        assert_eq!(
            decisions(Area::Patients, Delete),
            [
                Deny(MethodNotAllowed),
                Deny(MethodNotAllowed),
                Deny(MethodNotAllowed),
                DENY,
                DENY
            ]
        );
    }

    #[test]
    fn billing_never_writes() {
        let resources = [
            Area::Appointments,
            Area::AppointmentTypes,
            Area::Operations,
            Area::OperationTypes,
            Area::OpDashboard,
            Area::Resources,
            Area::PracticeHours,
            Area::DoctorHours,
            Area::DoctorAbsences,
            Area::DoctorBreaks,
            Area::PatientFlow,
            Area::Patients,
            Area::PatientFiles,
            Area::Users,
            Area::Holidays,
            Area::SlotHolds,
            Area::ScheduleOverride,
        ];
        for resource in resources {
            for action in [Action::Create, Action::Update, Action::Delete] {
                assert!(
                    matches!(decide(resource, action, Some(Role::Billing)), Deny(_)),
                    "{resource:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn users_without_an_api_role_only_see_themselves() {
        assert_eq!(decide(Area::Me, Action::Read, None), Allow);
        assert_eq!(decide(Area::Appointments, Action::List, None), DENY);
        assert_eq!(decide(Area::Resources, Action::List, None), DENY);
        assert_eq!(decide(Area::Doctors, Action::List, None), DENY);
    }

    #[test]
    fn superusers_act_as_admin_whatever_their_role() {
        let actor = Actor {
            user_id: 1,
            role: Some(Role::Billing),
            is_superuser: true,
        };
        assert_eq!(actor.decide(Area::OperationTypes, Action::Create), Allow);
    }

    #[test]
    fn doctor_own_rules_use_the_status_of_the_spec() {
        let doctor = Some(Role::Doctor);
        assert_eq!(
            decide(Area::Appointments, Action::Read, doctor),
            OwnOnly(Forbidden)
        );
        assert_eq!(
            decide(Area::DoctorHours, Action::Read, doctor),
            OwnOnly(NotFound)
        );
        assert_eq!(decide(Area::DoctorHours, Action::Update, doctor), DENY);
        assert_eq!(
            decide(Area::DoctorAbsences, Action::Update, doctor),
            OwnOnly(NotFound)
        );
        assert_eq!(decide(Area::OpStatsOther, Action::List, doctor), DENY);
        assert_eq!(
            decide(Area::Availability, Action::List, Some(Role::Billing)),
            DENY
        );
    }
}
