//! Patient master data rules (data-model.md §6.1, api.md §3.19).

use chrono::NaiveDate;

use crate::validation::{FieldErrors, ValidationError, check_max_chars, is_valid_email};

/// A patient number: the legacy practice number, a positive 32-bit integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PatientId(i32);

impl PatientId {
    /// Accepts positive numbers only.
    pub fn new(value: i64) -> Result<Self, ValidationError> {
        i32::try_from(value)
            .ok()
            .filter(|id| *id > 0)
            .map(PatientId)
            .ok_or_else(|| ValidationError::field("id", "id must be a positive integer."))
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// Normalised patient fields, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatientFields {
    pub first_name: String,
    pub last_name: String,
    pub birth_date: Option<NaiveDate>,
    pub gender: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A requested change: `None` = the field was not sent and stays as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatientChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub birth_date: Option<Option<NaiveDate>>,
    pub gender: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
}

impl PatientChanges {
    /// Applies the changes to `current`, validating every sent field. `today` is the practice's
    /// local date (birth dates may not lie after it).
    pub fn apply(
        self,
        mut current: PatientFields,
        today: NaiveDate,
    ) -> Result<PatientFields, ValidationError> {
        let mut errors = FieldErrors::new();
        if let Some(first_name) = self.first_name {
            current.first_name = first_name.trim().to_owned();
            check_max_chars(&mut errors, "first_name", &current.first_name, 100);
        }
        if let Some(last_name) = self.last_name {
            current.last_name = last_name.trim().to_owned();
            check_max_chars(&mut errors, "last_name", &current.last_name, 100);
        }
        if let Some(birth_date) = self.birth_date {
            if birth_date.is_some_and(|date| date > today) {
                errors.add("birth_date", "birth_date darf nicht in der Zukunft liegen.");
            }
            current.birth_date = birth_date;
        }
        if let Some(gender) = self.gender {
            current.gender = blank_to_none(gender);
            check_optional_max(&mut errors, "gender", current.gender.as_deref(), 20);
        }
        if let Some(phone) = self.phone {
            current.phone = blank_to_none(phone);
            check_optional_max(&mut errors, "phone", current.phone.as_deref(), 50);
        }
        if let Some(email) = self.email {
            current.email = blank_to_none(email);
            if let Some(email) = current.email.as_deref() {
                if !is_valid_email(email) {
                    errors.add("email", "Invalid email address.");
                }
                check_max_chars(&mut errors, "email", email, 255);
            }
        }
        errors.into_result().map(|()| current)
    }
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

fn check_optional_max(errors: &mut FieldErrors, field: &str, value: Option<&str>, max: usize) {
    if let Some(value) = value {
        check_max_chars(errors, field, value, max);
    }
}

/// The display name embedded in appointment and operation payloads:
/// `"<last>, <first> (DD.MM.YYYY)"`, or `"Patient #<id>"` without names.
pub fn display_name(
    id: i32,
    first_name: &str,
    last_name: &str,
    birth_date: Option<NaiveDate>,
) -> String {
    let first = first_name.trim();
    let last = last_name.trim();
    let name = match (last.is_empty(), first.is_empty()) {
        (true, true) => return format!("Patient #{id}"),
        (false, false) => format!("{last}, {first}"),
        (false, true) => last.to_owned(),
        (true, false) => first.to_owned(),
    };
    match birth_date {
        Some(date) => format!("{name} ({})", date.format("%d.%m.%Y")),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    #[test]
    fn patient_ids_must_be_positive_i32() {
        assert!(PatientId::new(1).is_ok());
        assert!(PatientId::new(0).is_err());
        assert!(PatientId::new(-5).is_err());
        assert!(PatientId::new(i64::from(i32::MAX) + 1).is_err());
    }

    #[test]
    fn strings_are_trimmed_and_blank_optionals_become_null() {
        let changes = PatientChanges {
            first_name: Some("  Erika ".into()),
            last_name: Some(" ".into()),
            gender: Some(Some("  ".into())),
            phone: Some(Some(" +49 30 123 ".into())),
            email: Some(None),
            ..Default::default()
        };
        let fields = changes.apply(PatientFields::default(), today()).unwrap();
        assert_eq!(fields.first_name, "Erika");
        assert_eq!(fields.last_name, "");
        assert_eq!(fields.gender, None);
        assert_eq!(fields.phone.as_deref(), Some("+49 30 123"));
    }

    #[test]
    fn partial_changes_keep_unsent_fields() {
        let current = PatientFields {
            first_name: "Erika".into(),
            last_name: "Muster".into(),
            email: Some("erika@example.test".into()),
            ..Default::default()
        };
        let changes = PatientChanges {
            phone: Some(Some("+49 30 999".into())),
            ..Default::default()
        };
        let fields = changes.apply(current, today()).unwrap();
        assert_eq!(fields.first_name, "Erika");
        assert_eq!(fields.email.as_deref(), Some("erika@example.test"));
        assert_eq!(fields.phone.as_deref(), Some("+49 30 999"));
    }

    #[test]
    fn invalid_fields_are_all_named() {
        let changes = PatientChanges {
            birth_date: Some(NaiveDate::from_ymd_opt(2026, 11, 28)),
            email: Some(Some("nope".into())),
            gender: Some(Some("x".repeat(21))),
            ..Default::default()
        };
        let errors = changes
            .apply(PatientFields::default(), today())
            .unwrap_err()
            .0;
        assert!(errors.contains("birth_date"));
        assert!(errors.contains("email"));
        assert!(errors.contains("gender"));
    }

    #[test]
    fn display_names() {
        let born = NaiveDate::from_ymd_opt(1980, 2, 3);
        assert_eq!(
            display_name(7, "Erika", "Muster", born),
            "Muster, Erika (03.02.1980)"
        );
        assert_eq!(display_name(7, "", "Muster", None), "Muster");
        assert_eq!(display_name(7, " ", "", born), "Patient #7");
    }
}
