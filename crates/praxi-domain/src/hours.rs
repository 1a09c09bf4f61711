//! Opening hours, doctor hours and breaks (data-model.md §5.2, §5.3, §5.5; api.md §3.14,
//! §3.15, §3.17): the per-row rules of the calendar configuration.
//!
//! Fixes over the original (data-model.md §15 items 4, 10, 11; api.md §5 items 5 and 21):
//! a partial update is validated as the merged row (practice hours included), the referenced
//! user must be an active doctor, and active doctor-hours windows of one doctor may not overlap
//! on a weekday (touching windows are fine).

use chrono::{NaiveDate, NaiveTime};

use crate::validation::{FieldErrors, REQUIRED, ValidationError, check_max_chars};

/// The original's message for a weekday outside 0..=6.
pub const WEEKDAY_MESSAGE: &str = "Wochentag muss zwischen 0 (Montag) und 6 (Sonntag) liegen.";
/// The original's message for `end_time <= start_time`.
pub const TIME_ORDER_MESSAGE: &str = "Endzeit muss nach der Startzeit liegen.";
/// The constant colour the API shows for breaks (not stored).
pub const BREAK_COLOR: &str = "#FFD700";
/// Maximum characters of a break or absence reason (`varchar(255)`).
pub const REASON_MAX_CHARS: usize = 255;

/// A validated weekly window: weekday 0 (Monday) ..= 6 (Sunday), `start_time < end_time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoursWindow {
    pub weekday: i32,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub active: bool,
}

impl HoursWindow {
    /// Half-open overlap on the same weekday; touching windows do not overlap.
    pub fn overlaps(&self, other: &HoursWindow) -> bool {
        self.weekday == other.weekday
            && self.start_time < other.end_time
            && other.start_time < self.end_time
    }
}

/// Requested values for a weekly window: `None` = not sent (kept on update).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HoursChanges {
    pub weekday: Option<i64>,
    pub start_time: Option<NaiveTime>,
    pub end_time: Option<NaiveTime>,
    pub active: Option<bool>,
}

impl HoursChanges {
    /// Field-level rules (reported together with the body's type errors).
    pub fn check_fields(&self, errors: &mut FieldErrors) {
        if let Some(weekday) = self.weekday
            && !(0..=6).contains(&weekday)
        {
            errors.add("weekday", WEEKDAY_MESSAGE);
        }
    }

    /// A new window: weekday, start and end are required; `active` defaults to true.
    pub fn create(self) -> Result<HoursWindow, ValidationError> {
        let mut errors = FieldErrors::new();
        require(&mut errors, "weekday", self.weekday.is_some());
        require(&mut errors, "start_time", self.start_time.is_some());
        require(&mut errors, "end_time", self.end_time.is_some());
        errors.into_result()?;
        self.apply(HoursWindow {
            weekday: 0,
            start_time: NaiveTime::MIN,
            end_time: NaiveTime::MIN,
            active: true,
        })
    }

    /// The stored window with these changes, validated as a whole: a PATCH of one bound is
    /// compared with the stored other bound.
    pub fn apply(self, current: HoursWindow) -> Result<HoursWindow, ValidationError> {
        let mut errors = FieldErrors::new();
        self.check_fields(&mut errors);
        errors.into_result()?;
        let window = HoursWindow {
            weekday: match self.weekday {
                // In range: checked above.
                Some(weekday) => i32::try_from(weekday).unwrap_or(current.weekday),
                None => current.weekday,
            },
            start_time: self.start_time.unwrap_or(current.start_time),
            end_time: self.end_time.unwrap_or(current.end_time),
            active: self.active.unwrap_or(current.active),
        };
        check_time_order(window.start_time, window.end_time)?;
        Ok(window)
    }
}

fn require(errors: &mut FieldErrors, field: &str, present: bool) {
    if !present {
        errors.add(field, REQUIRED);
    }
}

/// `start < end`, reported on `end_time` like the original.
pub fn check_time_order(start: NaiveTime, end: NaiveTime) -> Result<(), ValidationError> {
    if start < end {
        Ok(())
    } else {
        Err(ValidationError::field("end_time", TIME_ORDER_MESSAGE))
    }
}

/// A doctor-hours row: the doctor and their weekly window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoctorHoursFields {
    pub doctor_id: i64,
    pub window: HoursWindow,
}

/// Requested values for a doctor-hours row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DoctorHoursChanges {
    pub doctor_id: Option<i64>,
    pub window: HoursChanges,
}

impl DoctorHoursChanges {
    /// Field-level rules.
    pub fn check_fields(&self, errors: &mut FieldErrors) {
        self.window.check_fields(errors);
    }

    /// A new row: doctor, weekday, start and end are required.
    pub fn create(self) -> Result<DoctorHoursFields, ValidationError> {
        let Some(doctor_id) = self.doctor_id else {
            let mut errors = FieldErrors::single("doctor", REQUIRED);
            if let Err(more) = self.window.create() {
                merge(&mut errors, more.0);
            }
            return Err(ValidationError(errors));
        };
        Ok(DoctorHoursFields {
            doctor_id,
            window: self.window.create()?,
        })
    }

    /// The stored row with these changes, validated as a whole.
    pub fn apply(self, current: DoctorHoursFields) -> Result<DoctorHoursFields, ValidationError> {
        Ok(DoctorHoursFields {
            doctor_id: self.doctor_id.unwrap_or(current.doctor_id),
            window: self.window.apply(current.window)?,
        })
    }
}

fn merge(errors: &mut FieldErrors, more: FieldErrors) {
    for (field, messages) in more.fields() {
        for message in messages {
            errors.add(field, message.clone());
        }
    }
}

/// Rejects a window that overlaps another **active** window of the same doctor on the same
/// weekday (exact duplicates included; touching windows are fine). An inactive candidate
/// never conflicts. `others` are the doctor's other rows (the edited row excluded).
pub fn check_no_overlap(
    candidate: &HoursWindow,
    others: &[HoursWindow],
) -> Result<(), ValidationError> {
    if !candidate.active {
        return Ok(());
    }
    match others
        .iter()
        .filter(|other| other.active)
        .find(|other| other.overlaps(candidate))
    {
        Some(other) => Err(ValidationError::field(
            "start_time",
            overlap_message(other.start_time, other.end_time),
        )),
        None => Ok(()),
    }
}

/// The message for an overlap with the stored window `start..end`.
pub fn overlap_message(start: NaiveTime, end: NaiveTime) -> String {
    format!(
        "Das Zeitfenster überschneidet sich mit einer bestehenden Sprechzeit des Arztes \
         an diesem Wochentag ({}–{}).",
        start.format("%H:%M"),
        end.format("%H:%M")
    )
}

/// The message for an exact duplicate of an inactive row (the database's unique slot index).
pub const DUPLICATE_SLOT_MESSAGE: &str =
    "Ein identisches Zeitfenster dieses Arztes existiert bereits.";

/// What the store found for a user id referenced as `doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoctorCandidate {
    /// No user with that id.
    Unknown,
    /// A user; only an active one with role `doctor` may be referenced.
    User { is_active: bool, is_doctor: bool },
}

/// The referenced user must exist, be active and have the role `doctor` (api.md §5 item 5).
pub fn check_doctor(id: i64, candidate: DoctorCandidate) -> Result<(), ValidationError> {
    let message = match candidate {
        DoctorCandidate::Unknown => format!("Invalid pk \"{id}\" - object does not exist."),
        DoctorCandidate::User {
            is_doctor: false, ..
        } => format!("Benutzer {id} hat nicht die Rolle Arzt."),
        DoctorCandidate::User {
            is_active: false, ..
        } => format!("Benutzer {id} ist nicht aktiv."),
        DoctorCandidate::User { .. } => return Ok(()),
    };
    Err(ValidationError::field("doctor", message))
}

/// The message when a doctor tries to hand their own row to someone else.
pub const DOCTOR_REASSIGN_MESSAGE: &str =
    "Ärzte dürfen den Arzt eines eigenen Eintrags nicht ändern.";

/// A doctor editing their own absence or break may not change its `doctor` (api.md §5 item
/// 5). `requested`: `None` = not sent, `Some(None)` = practice-wide (breaks).
pub fn check_doctor_unchanged(
    errors: &mut FieldErrors,
    own_id: i64,
    requested: Option<Option<i64>>,
) {
    if let Some(doctor) = requested
        && doctor != Some(own_id)
    {
        errors.add("doctor", DOCTOR_REASSIGN_MESSAGE);
    }
}

/// A validated break: one date, `start_time < end_time`, `doctor_id` `None` = practice-wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakFields {
    pub doctor_id: Option<i64>,
    pub date: NaiveDate,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub reason: Option<String>,
    pub active: bool,
}

/// Requested values for a break: `None` = not sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BreakChanges {
    pub doctor_id: Option<Option<i64>>,
    pub date: Option<NaiveDate>,
    pub start_time: Option<NaiveTime>,
    pub end_time: Option<NaiveTime>,
    pub reason: Option<Option<String>>,
    pub active: Option<bool>,
}

impl BreakChanges {
    /// Field-level rules: the reason's length (after trimming, as DRF does).
    pub fn check_fields(&self, errors: &mut FieldErrors) {
        if let Some(Some(reason)) = &self.reason {
            check_max_chars(errors, "reason", reason.trim(), REASON_MAX_CHARS);
        }
    }

    /// A new break: date, start and end are required; no doctor = practice-wide.
    pub fn create(self) -> Result<BreakFields, ValidationError> {
        let mut errors = FieldErrors::new();
        require(&mut errors, "date", self.date.is_some());
        require(&mut errors, "start_time", self.start_time.is_some());
        require(&mut errors, "end_time", self.end_time.is_some());
        errors.into_result()?;
        self.apply(BreakFields {
            doctor_id: None,
            date: NaiveDate::MIN,
            start_time: NaiveTime::MIN,
            end_time: NaiveTime::MIN,
            reason: None,
            active: true,
        })
    }

    /// The stored break with these changes, validated as a whole.
    pub fn apply(self, current: BreakFields) -> Result<BreakFields, ValidationError> {
        let mut errors = FieldErrors::new();
        self.check_fields(&mut errors);
        errors.into_result()?;
        let fields = BreakFields {
            doctor_id: self.doctor_id.unwrap_or(current.doctor_id),
            date: self.date.unwrap_or(current.date),
            start_time: self.start_time.unwrap_or(current.start_time),
            end_time: self.end_time.unwrap_or(current.end_time),
            reason: match self.reason {
                Some(reason) => reason.map(|text| text.trim().to_owned()),
                None => current.reason,
            },
            active: self.active.unwrap_or(current.active),
        };
        check_time_order(fields.start_time, fields.end_time)?;
        Ok(fields)
    }
}

/// A doctor's name as shown in the doctor lists: "First Last" trimmed, else the username.
pub fn doctor_display_name(first_name: &str, last_name: &str, username: &str) -> String {
    let full = format!("{} {}", first_name.trim(), last_name.trim());
    match full.trim() {
        "" => username.to_owned(),
        name => name.to_owned(),
    }
}

/// The doctor-list filter `q`: a case-insensitive substring of first name, last name,
/// username or e-mail (Unicode case folding, the same on every database). An empty `q`
/// matches everyone.
pub fn doctor_matches(
    q: &str,
    first_name: &str,
    last_name: &str,
    username: &str,
    email: &str,
) -> bool {
    let needle = q.trim().to_lowercase();
    needle.is_empty()
        || [first_name, last_name, username, email]
            .iter()
            .any(|value| value.to_lowercase().contains(&needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn window(weekday: i32, start: (u32, u32), end: (u32, u32)) -> HoursWindow {
        HoursWindow {
            weekday,
            start_time: t(start.0, start.1),
            end_time: t(end.0, end.1),
            active: true,
        }
    }

    fn fields_of(error: ValidationError) -> Vec<(String, Vec<String>)> {
        error
            .0
            .fields()
            .iter()
            .map(|(field, messages)| (field.clone(), messages.clone()))
            .collect()
    }

    #[test]
    fn create_validates_weekday_and_order() {
        let cases: [(HoursChanges, Option<(&str, &str)>); 6] = [
            (
                HoursChanges {
                    weekday: Some(0),
                    start_time: Some(t(8, 0)),
                    end_time: Some(t(18, 0)),
                    active: None,
                },
                None,
            ),
            (
                HoursChanges {
                    weekday: Some(6),
                    start_time: Some(t(8, 0)),
                    end_time: Some(t(8, 1)),
                    active: Some(false),
                },
                None,
            ),
            (
                HoursChanges {
                    weekday: Some(7),
                    start_time: Some(t(8, 0)),
                    end_time: Some(t(18, 0)),
                    active: None,
                },
                Some(("weekday", WEEKDAY_MESSAGE)),
            ),
            (
                HoursChanges {
                    weekday: Some(-1),
                    start_time: Some(t(8, 0)),
                    end_time: Some(t(18, 0)),
                    active: None,
                },
                Some(("weekday", WEEKDAY_MESSAGE)),
            ),
            (
                HoursChanges {
                    weekday: Some(1),
                    start_time: Some(t(8, 0)),
                    end_time: Some(t(8, 0)),
                    active: None,
                },
                Some(("end_time", TIME_ORDER_MESSAGE)),
            ),
            (
                HoursChanges {
                    weekday: Some(1),
                    start_time: Some(t(9, 0)),
                    end_time: None,
                    active: None,
                },
                Some(("end_time", REQUIRED)),
            ),
        ];
        for (changes, expected) in cases {
            let result = changes.create();
            match expected {
                None => {
                    let created = result.unwrap();
                    assert_eq!(created.active, changes.active.unwrap_or(true));
                }
                Some((field, message)) => assert_eq!(
                    fields_of(result.unwrap_err()),
                    [(field.to_owned(), vec![message.to_owned()])],
                    "{changes:?}"
                ),
            }
        }
    }

    #[test]
    fn partial_updates_are_checked_against_the_stored_row() {
        let stored = window(0, (6, 0), (6, 30));
        let cases = [
            (None, Some(t(5, 0)), false),
            (Some(t(6, 30)), None, false),
            (Some(t(5, 0)), None, true),
            (None, Some(t(7, 0)), true),
            (Some(t(5, 0)), Some(t(5, 30)), true),
            (Some(t(6, 29)), None, true),
        ];
        for (start, end, ok) in cases {
            let changes = HoursChanges {
                start_time: start,
                end_time: end,
                ..Default::default()
            };
            let result = changes.apply(stored);
            assert_eq!(result.is_ok(), ok, "{start:?} {end:?}");
            if let Err(error) = result {
                assert!(error.0.contains("end_time"));
            }
        }
        let kept = HoursChanges {
            active: Some(false),
            ..Default::default()
        }
        .apply(stored)
        .unwrap();
        assert_eq!(kept.start_time, t(6, 0));
        assert!(!kept.active);
    }

    #[test]
    fn doctor_hours_create_names_every_missing_field() {
        let error = DoctorHoursChanges::default().create().unwrap_err();
        for field in ["doctor", "weekday", "start_time", "end_time"] {
            assert!(error.0.contains(field), "{field}");
        }
    }

    #[test]
    fn active_windows_of_a_doctor_may_not_overlap() {
        let stored = [window(0, (8, 0), (12, 0)), window(1, (13, 0), (17, 0))];
        let inactive = HoursWindow {
            active: false,
            ..window(0, (9, 0), (10, 0))
        };
        let cases = [
            (window(0, (8, 0), (12, 0)), false),
            (window(0, (11, 0), (13, 0)), false),
            (window(0, (7, 0), (8, 1)), false),
            (window(0, (9, 0), (10, 0)), false),
            (window(0, (6, 0), (14, 0)), false),
            (window(0, (12, 0), (16, 0)), true),
            (window(0, (6, 0), (8, 0)), true),
            (window(2, (8, 0), (12, 0)), true),
            (inactive, true),
        ];
        for (candidate, ok) in cases {
            let result = check_no_overlap(&candidate, &stored);
            assert_eq!(result.is_ok(), ok, "{candidate:?}");
            if let Err(error) = result {
                assert!(error.0.contains("start_time"));
            }
        }
        let inactive_stored = [HoursWindow {
            active: false,
            ..window(0, (8, 0), (12, 0))
        }];
        assert!(check_no_overlap(&window(0, (8, 0), (12, 0)), &inactive_stored).is_ok());
    }

    #[test]
    fn referenced_doctors_must_be_active_doctors() {
        let cases = [
            (
                DoctorCandidate::Unknown,
                Some("Invalid pk \"9\" - object does not exist."),
            ),
            (
                DoctorCandidate::User {
                    is_active: true,
                    is_doctor: false,
                },
                Some("Benutzer 9 hat nicht die Rolle Arzt."),
            ),
            (
                DoctorCandidate::User {
                    is_active: false,
                    is_doctor: true,
                },
                Some("Benutzer 9 ist nicht aktiv."),
            ),
            (
                DoctorCandidate::User {
                    is_active: true,
                    is_doctor: true,
                },
                None,
            ),
        ];
        for (candidate, message) in cases {
            let result = check_doctor(9, candidate);
            match message {
                None => assert!(result.is_ok()),
                Some(message) => assert_eq!(
                    fields_of(result.unwrap_err()),
                    [("doctor".to_owned(), vec![message.to_owned()])]
                ),
            }
        }
    }

    #[test]
    fn doctors_keep_their_own_rows() {
        for (requested, ok) in [
            (None, true),
            (Some(Some(5)), true),
            (Some(Some(6)), false),
            (Some(None), false),
        ] {
            let mut errors = FieldErrors::new();
            check_doctor_unchanged(&mut errors, 5, requested);
            assert_eq!(errors.is_empty(), ok, "{requested:?}");
        }
    }

    #[test]
    fn breaks_trim_reasons_and_check_the_merged_times() {
        let created = BreakChanges {
            date: NaiveDate::from_ymd_opt(2045, 6, 8),
            start_time: Some(t(12, 0)),
            end_time: Some(t(12, 10)),
            reason: Some(Some("  Mittag ".into())),
            ..Default::default()
        }
        .create()
        .unwrap();
        assert_eq!(created.reason.as_deref(), Some("Mittag"));
        assert_eq!(created.doctor_id, None);
        assert!(created.active);

        let error = BreakChanges {
            end_time: Some(t(11, 0)),
            ..Default::default()
        }
        .apply(created.clone())
        .unwrap_err();
        assert!(error.0.contains("end_time"));

        let error = BreakChanges {
            reason: Some(Some("x".repeat(256))),
            ..Default::default()
        }
        .apply(created.clone())
        .unwrap_err();
        assert!(error.0.contains("reason"));

        let cleared = BreakChanges {
            reason: Some(None),
            doctor_id: Some(Some(3)),
            ..Default::default()
        }
        .apply(created)
        .unwrap();
        assert_eq!(cleared.reason, None);
        assert_eq!(cleared.doctor_id, Some(3));

        let error = BreakChanges::default().create().unwrap_err();
        for field in ["date", "start_time", "end_time"] {
            assert!(error.0.contains(field), "{field}");
        }
    }

    #[test]
    fn doctor_names_and_search() {
        assert_eq!(
            doctor_display_name(" Erika ", "Muster", "dr.e"),
            "Erika Muster"
        );
        assert_eq!(doctor_display_name("", " ", "dr.e"), "dr.e");
        assert_eq!(doctor_display_name("", "Muster", "dr.e"), "Muster");
        for (q, ok) in [
            ("", true),
            ("must", true),
            ("MUST", true),
            ("müller", true),
            ("MÜLLER", true),
            ("example.test", true),
            ("dr.e", true),
            ("nobody", false),
        ] {
            assert_eq!(
                doctor_matches(q, "Erika", "Muster-Müller", "dr.e", "erika@example.test"),
                ok,
                "{q}"
            );
        }
    }
}
