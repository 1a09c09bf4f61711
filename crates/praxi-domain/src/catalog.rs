//! Catalogue master data: appointment types, operation types and resources (rooms and
//! devices) (data-model.md §5.1, §5.6, §5.9; api.md §3.4, §3.8, §3.12).
//!
//! Each kind has a `…Fields` struct (a valid, normalised row) and a `…Changes` struct (what a
//! request sent; `None` = not sent). `apply` validates every sent field and merges it into the
//! current row; [`WriteMode::Full`] (POST, PUT) additionally requires the required fields.
//! Fixes over the original (data-model.md §15 items 4, 5): colours must be `#RRGGBB`,
//! operation-type durations may not be negative, names may not be blank.

use crate::scheduling::{Buffers, MAX_BUFFER_MINUTES};
use crate::validation::{FieldErrors, REQUIRED, ValidationError, check_colour, check_max_chars};

/// DRF's message for an empty string in a field that needs text.
pub const NOT_BLANK: &str = "This field may not be blank.";

/// The colour a new appointment type gets when none is sent.
pub const DEFAULT_APPOINTMENT_TYPE_COLOUR: &str = "#2E8B57";
/// The colour a new operation type gets when none is sent.
pub const DEFAULT_OPERATION_TYPE_COLOUR: &str = "#8A2BE2";
/// The colour a new resource gets when none is sent.
pub const DEFAULT_RESOURCE_COLOUR: &str = "#6A5ACD";

/// The longest appointment-type name (`varchar(100)`).
pub const APPOINTMENT_TYPE_NAME_MAX: usize = 100;
/// The longest operation-type or resource name (`varchar(255)`).
pub const NAME_MAX: usize = 255;

/// Whether a write must carry every required field (POST, PUT) or only changes some (PATCH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Required fields must be present; fields not sent keep their current (or default) value.
    Full,
    /// Only the sent fields change.
    Partial,
}

/// A valid appointment type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentTypeFields {
    pub name: String,
    /// `None` = no colour (the only nullable colour of the model).
    pub color: Option<String>,
    /// Default duration for suggestions; `> 0` when set.
    pub duration_minutes: Option<i32>,
    pub active: bool,
    /// Minutes before and after an appointment of this type that keep its doctor and
    /// resources busy (issue #14), each `0..=120`.
    pub buffers: Buffers,
}

/// A requested appointment-type write: `None` = the field was not sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppointmentTypeChanges {
    pub name: Option<String>,
    /// `Some(None)` = explicit null; a blank string also clears the colour.
    pub color: Option<Option<String>>,
    pub duration_minutes: Option<Option<i64>>,
    pub active: Option<bool>,
    /// Sent `buffer_before_minutes` (`Some(None)` = null, treated as 0).
    pub buffer_before_minutes: Option<Option<i64>>,
    /// Sent `buffer_after_minutes`.
    pub buffer_after_minutes: Option<Option<i64>>,
}

impl AppointmentTypeChanges {
    /// A new appointment type: `name` is required, the rest defaults like the original
    /// (colour `#2E8B57`, no duration, active).
    pub fn create(self) -> Result<AppointmentTypeFields, ValidationError> {
        let defaults = AppointmentTypeFields {
            name: String::new(),
            color: Some(DEFAULT_APPOINTMENT_TYPE_COLOUR.to_owned()),
            duration_minutes: None,
            active: true,
            buffers: Buffers::NONE,
        };
        self.apply(defaults, WriteMode::Full)
    }

    /// Validates the sent fields and merges them into `current`.
    pub fn apply(
        self,
        mut current: AppointmentTypeFields,
        mode: WriteMode,
    ) -> Result<AppointmentTypeFields, ValidationError> {
        let mut errors = FieldErrors::new();
        apply_name(
            &mut errors,
            self.name,
            &mut current.name,
            mode,
            APPOINTMENT_TYPE_NAME_MAX,
        );
        if let Some(color) = self.color {
            // A blank colour means "no colour": the column cannot hold "" (colour CHECK).
            let color = color
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty());
            if let Some(color) = &color {
                check_colour(&mut errors, "color", color);
            }
            current.color = color;
        }
        if let Some(duration) = self.duration_minutes {
            current.duration_minutes = match duration {
                Some(minutes) if minutes <= 0 => {
                    errors.add("duration_minutes", "duration_minutes muss > 0 sein.");
                    None
                }
                Some(minutes) => to_i32(&mut errors, "duration_minutes", minutes),
                None => None,
            };
        }
        if let Some(active) = self.active {
            current.active = active;
        }
        let mut buffer = |field: &str, sent: Option<Option<i64>>, minutes: &mut u16| {
            if let Some(sent) = sent {
                let value = sent.unwrap_or(0);
                match u16::try_from(value) {
                    Ok(value) if value <= MAX_BUFFER_MINUTES => *minutes = value,
                    _ => errors.add(
                        field,
                        format!("{field} muss zwischen 0 und {MAX_BUFFER_MINUTES} liegen."),
                    ),
                }
            }
        };
        buffer(
            "buffer_before_minutes",
            self.buffer_before_minutes,
            &mut current.buffers.before_minutes,
        );
        buffer(
            "buffer_after_minutes",
            self.buffer_after_minutes,
            &mut current.buffers.after_minutes,
        );
        errors.into_result().map(|()| current)
    }
}

/// A valid operation type. Durations are minutes, each `>= 0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationTypeFields {
    pub name: String,
    pub prep_duration: i32,
    pub op_duration: i32,
    pub post_duration: i32,
    pub color: String,
    pub active: bool,
}

impl OperationTypeFields {
    /// Total minutes an operation of this type occupies its room.
    pub fn total_minutes(&self) -> i64 {
        i64::from(self.prep_duration) + i64::from(self.op_duration) + i64::from(self.post_duration)
    }
}

/// A requested operation-type write: `None` = the field was not sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OperationTypeChanges {
    pub name: Option<String>,
    pub prep_duration: Option<i64>,
    pub op_duration: Option<i64>,
    pub post_duration: Option<i64>,
    pub color: Option<String>,
    pub active: Option<bool>,
}

impl OperationTypeChanges {
    /// A new operation type: `name` is required; durations default to 0, the colour to
    /// `#8A2BE2`, `active` to true.
    pub fn create(self) -> Result<OperationTypeFields, ValidationError> {
        let defaults = OperationTypeFields {
            name: String::new(),
            prep_duration: 0,
            op_duration: 0,
            post_duration: 0,
            color: DEFAULT_OPERATION_TYPE_COLOUR.to_owned(),
            active: true,
        };
        self.apply(defaults, WriteMode::Full)
    }

    /// Validates the sent fields and merges them into `current`.
    pub fn apply(
        self,
        mut current: OperationTypeFields,
        mode: WriteMode,
    ) -> Result<OperationTypeFields, ValidationError> {
        let mut errors = FieldErrors::new();
        apply_name(&mut errors, self.name, &mut current.name, mode, NAME_MAX);
        for (field, value, target) in [
            (
                "prep_duration",
                self.prep_duration,
                &mut current.prep_duration,
            ),
            ("op_duration", self.op_duration, &mut current.op_duration),
            (
                "post_duration",
                self.post_duration,
                &mut current.post_duration,
            ),
        ] {
            let Some(minutes) = value else { continue };
            if minutes < 0 {
                errors.add(field, "Ensure this value is greater than or equal to 0.");
            } else if let Some(minutes) = to_i32(&mut errors, field, minutes) {
                *target = minutes;
            }
        }
        if let Some(color) = self.color {
            current.color = required_colour(&mut errors, color);
        }
        if let Some(active) = self.active {
            current.active = active;
        }
        errors.into_result().map(|()| current)
    }
}

/// What a resource is. Operations need a room as OP room and devices as OP devices;
/// appointments may book either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    Room,
    Device,
}

impl ResourceKind {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Room => "room",
            ResourceKind::Device => "device",
        }
    }

    /// Parses the exact wire name (`room`, `device`).
    pub fn parse(text: &str) -> Option<ResourceKind> {
        match text {
            "room" => Some(ResourceKind::Room),
            "device" => Some(ResourceKind::Device),
            _ => None,
        }
    }
}

/// A valid resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceFields {
    pub name: String,
    pub kind: ResourceKind,
    pub color: String,
    pub active: bool,
}

/// A requested resource write: `None` = the field was not sent. `kind` is the raw `type`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceChanges {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub color: Option<String>,
    pub active: Option<bool>,
}

impl ResourceChanges {
    /// A new resource: `name` and `type` are required; the colour defaults to `#6A5ACD`,
    /// `active` to true.
    pub fn create(self) -> Result<ResourceFields, ValidationError> {
        let defaults = ResourceFields {
            name: String::new(),
            // Placeholder only: `WriteMode::Full` requires `type`.
            kind: ResourceKind::Room,
            color: DEFAULT_RESOURCE_COLOUR.to_owned(),
            active: true,
        };
        self.apply(defaults, WriteMode::Full)
    }

    /// Validates the sent fields and merges them into `current`. Whether a changed `type` is
    /// allowed depends on the bookings: see [`check_kind_change`].
    pub fn apply(
        self,
        mut current: ResourceFields,
        mode: WriteMode,
    ) -> Result<ResourceFields, ValidationError> {
        let mut errors = FieldErrors::new();
        apply_name(&mut errors, self.name, &mut current.name, mode, NAME_MAX);
        match self.kind {
            Some(kind) => match ResourceKind::parse(&kind) {
                Some(kind) => current.kind = kind,
                None => errors.add("type", format!("\"{kind}\" is not a valid choice.")),
            },
            None if mode == WriteMode::Full => errors.add("type", REQUIRED),
            None => {}
        }
        if let Some(color) = self.color {
            current.color = required_colour(&mut errors, color);
        }
        if let Some(active) = self.active {
            current.active = active;
        }
        errors.into_result().map(|()| current)
    }
}

/// A resource's `type` may change only while no booking (appointment, operation room,
/// operation device) uses it: rooms and devices play different parts in existing bookings.
/// Deactivating is always allowed and is the way to retire a resource.
pub fn check_kind_change(
    current: ResourceKind,
    requested: ResourceKind,
    n_bookings: u64,
) -> Result<(), ValidationError> {
    if current != requested && n_bookings > 0 {
        return Err(ValidationError::field(
            "type",
            "The type cannot be changed while bookings use this resource; deactivate it and \
             create a new one instead.",
        ));
    }
    Ok(())
}

/// The name rule shared by all three kinds: trimmed, not blank, at most `max` characters,
/// required on full writes.
fn apply_name(
    errors: &mut FieldErrors,
    name: Option<String>,
    current: &mut String,
    mode: WriteMode,
    max: usize,
) {
    match name {
        Some(name) => {
            let name = name.trim();
            if name.is_empty() {
                errors.add("name", NOT_BLANK);
            }
            check_max_chars(errors, "name", name, max);
            *current = name.to_owned();
        }
        None if mode == WriteMode::Full => errors.add("name", REQUIRED),
        None => {}
    }
}

/// A non-nullable colour: trimmed, not blank, `#RRGGBB`.
fn required_colour(errors: &mut FieldErrors, color: String) -> String {
    let color = color.trim().to_owned();
    if color.is_empty() {
        errors.add("color", NOT_BLANK);
    } else {
        check_colour(errors, "color", &color);
    }
    color
}

/// Narrows a non-negative integer to the `integer` column, with DRF's `max_value` message.
fn to_i32(errors: &mut FieldErrors, field: &str, value: i64) -> Option<i32> {
    match i32::try_from(value) {
        Ok(value) => Some(value),
        Err(_) => {
            errors.add(
                field,
                format!("Ensure this value is less than or equal to {}.", i32::MAX),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(error: &ValidationError, field: &str) -> Vec<String> {
        error.0.fields().get(field).cloned().unwrap_or_default()
    }

    fn check_up() -> AppointmentTypeFields {
        AppointmentTypeChanges {
            name: Some("Check-up".into()),
            ..Default::default()
        }
        .create()
        .unwrap()
    }

    #[test]
    fn appointment_type_create_applies_the_original_defaults() {
        assert_eq!(
            check_up(),
            AppointmentTypeFields {
                name: "Check-up".into(),
                color: Some("#2E8B57".into()),
                duration_minutes: None,
                active: true,
                buffers: Buffers::NONE,
            }
        );
    }

    #[test]
    fn appointment_type_rules() {
        let too_long = "x".repeat(101);
        /// Changes, mode, and the expected error (field, message) or `None` for success.
        type Case = (
            AppointmentTypeChanges,
            WriteMode,
            Option<(&'static str, String)>,
        );
        let cases: Vec<Case> = vec![
            (
                AppointmentTypeChanges::default(),
                WriteMode::Full,
                Some(("name", REQUIRED.into())),
            ),
            (AppointmentTypeChanges::default(), WriteMode::Partial, None),
            (
                AppointmentTypeChanges {
                    name: Some("  ".into()),
                    ..Default::default()
                },
                WriteMode::Partial,
                Some(("name", NOT_BLANK.into())),
            ),
            (
                AppointmentTypeChanges {
                    name: Some(too_long),
                    ..Default::default()
                },
                WriteMode::Partial,
                Some((
                    "name",
                    "Ensure this field has no more than 100 characters.".into(),
                )),
            ),
            (
                AppointmentTypeChanges {
                    color: Some(Some("red".into())),
                    ..Default::default()
                },
                WriteMode::Partial,
                Some(("color", "Enter a colour in the form #RRGGBB.".into())),
            ),
            (
                AppointmentTypeChanges {
                    duration_minutes: Some(Some(0)),
                    ..Default::default()
                },
                WriteMode::Partial,
                Some(("duration_minutes", "duration_minutes muss > 0 sein.".into())),
            ),
            (
                AppointmentTypeChanges {
                    duration_minutes: Some(Some(-5)),
                    ..Default::default()
                },
                WriteMode::Partial,
                Some(("duration_minutes", "duration_minutes muss > 0 sein.".into())),
            ),
            (
                AppointmentTypeChanges {
                    duration_minutes: Some(Some(i64::from(i32::MAX) + 1)),
                    ..Default::default()
                },
                WriteMode::Partial,
                Some((
                    "duration_minutes",
                    "Ensure this value is less than or equal to 2147483647.".into(),
                )),
            ),
            (
                AppointmentTypeChanges {
                    duration_minutes: Some(Some(1)),
                    color: Some(Some("#abcdef".into())),
                    ..Default::default()
                },
                WriteMode::Partial,
                None,
            ),
        ];
        for (changes, mode, expected) in cases {
            let label = format!("{changes:?} {mode:?}");
            let result = changes.apply(check_up(), mode);
            match expected {
                None => assert!(result.is_ok(), "{label}: {result:?}"),
                Some((field, message)) => {
                    let error = result.unwrap_err();
                    assert_eq!(messages(&error, field), [message], "{label}");
                }
            }
        }
    }

    #[test]
    fn appointment_type_blank_or_null_colour_means_no_colour() {
        for color in [None, Some("".to_owned()), Some("  ".to_owned())] {
            let fields = AppointmentTypeChanges {
                color: Some(color),
                ..Default::default()
            }
            .apply(check_up(), WriteMode::Partial)
            .unwrap();
            assert_eq!(fields.color, None);
        }
    }

    #[test]
    fn partial_changes_keep_unsent_fields_and_trim_strings() {
        let mut current = check_up();
        current.duration_minutes = Some(20);
        let fields = AppointmentTypeChanges {
            name: Some("  Vorsorge ".into()),
            active: Some(false),
            ..Default::default()
        }
        .apply(current, WriteMode::Partial)
        .unwrap();
        assert_eq!(fields.name, "Vorsorge");
        assert_eq!(fields.duration_minutes, Some(20));
        assert_eq!(fields.color.as_deref(), Some("#2E8B57"));
        assert!(!fields.active);
    }

    #[test]
    fn operation_type_defaults_and_rules() {
        let created = OperationTypeChanges {
            name: Some("Kleiner Eingriff".into()),
            op_duration: Some(30),
            ..Default::default()
        }
        .create()
        .unwrap();
        assert_eq!(
            (
                created.prep_duration,
                created.op_duration,
                created.post_duration
            ),
            (0, 30, 0)
        );
        assert_eq!(created.color, "#8A2BE2");
        assert_eq!(created.total_minutes(), 30);

        let cases: Vec<(OperationTypeChanges, &str, &str)> = vec![
            (OperationTypeChanges::default(), "name", REQUIRED),
            (
                OperationTypeChanges {
                    name: Some("X".into()),
                    prep_duration: Some(-1),
                    ..Default::default()
                },
                "prep_duration",
                "Ensure this value is greater than or equal to 0.",
            ),
            (
                OperationTypeChanges {
                    name: Some("X".into()),
                    op_duration: Some(-30),
                    ..Default::default()
                },
                "op_duration",
                "Ensure this value is greater than or equal to 0.",
            ),
            (
                OperationTypeChanges {
                    name: Some("X".into()),
                    post_duration: Some(i64::from(i32::MAX) + 1),
                    ..Default::default()
                },
                "post_duration",
                "Ensure this value is less than or equal to 2147483647.",
            ),
            (
                OperationTypeChanges {
                    name: Some("X".into()),
                    color: Some("red".into()),
                    ..Default::default()
                },
                "color",
                "Enter a colour in the form #RRGGBB.",
            ),
            (
                OperationTypeChanges {
                    name: Some("X".into()),
                    color: Some(" ".into()),
                    ..Default::default()
                },
                "color",
                NOT_BLANK,
            ),
            (
                OperationTypeChanges {
                    name: Some("".into()),
                    ..Default::default()
                },
                "name",
                NOT_BLANK,
            ),
        ];
        for (changes, field, message) in cases {
            let label = format!("{changes:?}");
            let error = changes.create().unwrap_err();
            assert_eq!(messages(&error, field), [message], "{label}");
        }
    }

    #[test]
    fn every_invalid_field_is_named_at_once() {
        let error = OperationTypeChanges {
            name: Some("x".repeat(256)),
            prep_duration: Some(-1),
            op_duration: Some(-1),
            post_duration: Some(-1),
            color: Some("#12".into()),
            active: None,
        }
        .create()
        .unwrap_err();
        for field in [
            "name",
            "prep_duration",
            "op_duration",
            "post_duration",
            "color",
        ] {
            assert!(error.0.contains(field), "{field}");
        }
    }

    #[test]
    fn resource_rules() {
        let room = ResourceChanges {
            name: Some(" OP 1 ".into()),
            kind: Some("room".into()),
            ..Default::default()
        }
        .create()
        .unwrap();
        assert_eq!(room.name, "OP 1");
        assert_eq!(room.kind, ResourceKind::Room);
        assert_eq!(room.color, "#6A5ACD");
        assert!(room.active);

        let error = ResourceChanges::default().create().unwrap_err();
        assert_eq!(messages(&error, "name"), [REQUIRED]);
        assert_eq!(messages(&error, "type"), [REQUIRED]);

        for (kind, message) in [
            ("bed", "\"bed\" is not a valid choice."),
            ("", "\"\" is not a valid choice."),
            ("Room", "\"Room\" is not a valid choice."),
        ] {
            let error = ResourceChanges {
                kind: Some(kind.into()),
                ..Default::default()
            }
            .apply(room.clone(), WriteMode::Partial)
            .unwrap_err();
            assert_eq!(messages(&error, "type"), [message], "{kind}");
        }

        let device = ResourceChanges {
            kind: Some("device".into()),
            color: Some("#ABCDEF".into()),
            active: Some(false),
            ..Default::default()
        }
        .apply(room.clone(), WriteMode::Partial)
        .unwrap();
        assert_eq!(device.kind, ResourceKind::Device);
        assert_eq!(device.name, "OP 1");
        assert!(!device.active);

        let error = ResourceChanges {
            name: Some("OP 2".into()),
            ..Default::default()
        }
        .apply(room, WriteMode::Full)
        .unwrap_err();
        assert_eq!(messages(&error, "type"), [REQUIRED], "PUT requires type");
    }

    #[test]
    fn kind_changes_need_an_unused_resource() {
        use ResourceKind::{Device, Room};
        for (current, requested, n_bookings, ok) in [
            (Room, Room, 5, true),
            (Room, Device, 0, true),
            (Room, Device, 1, false),
            (Device, Room, 3, false),
        ] {
            let result = check_kind_change(current, requested, n_bookings);
            assert_eq!(
                result.is_ok(),
                ok,
                "{current:?} -> {requested:?} ({n_bookings})"
            );
            if let Err(error) = result {
                assert!(error.0.contains("type"));
            }
        }
    }

    #[test]
    fn resource_kinds_round_trip() {
        for kind in [ResourceKind::Room, ResourceKind::Device] {
            assert_eq!(ResourceKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ResourceKind::parse("staff"), None);
    }

    #[test]
    fn appointment_type_buffers_are_minutes_between_0_and_120() {
        let with = |before: Option<Option<i64>>, after: Option<Option<i64>>| {
            AppointmentTypeChanges {
                name: Some("Check-up".into()),
                buffer_before_minutes: before,
                buffer_after_minutes: after,
                ..Default::default()
            }
            .create()
        };
        let fields = with(Some(Some(10)), Some(Some(120))).unwrap();
        assert_eq!(fields.buffers.before_minutes, 10);
        assert_eq!(fields.buffers.after_minutes, 120);
        assert_eq!(with(Some(None), None).unwrap().buffers, Buffers::NONE);
        let error = with(Some(Some(-1)), Some(Some(121))).unwrap_err();
        assert!(!messages(&error, "buffer_before_minutes").is_empty());
        assert!(!messages(&error, "buffer_after_minutes").is_empty());
    }
}
