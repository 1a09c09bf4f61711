//! Field-level validation errors in the shape DRF clients parse: `{"field": ["message", …]}`.

use std::collections::BTreeMap;

/// Messages per field name; `non_field_errors` holds object-level messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

/// The DRF message for a missing required field.
pub const REQUIRED: &str = "This field is required.";

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// A single error on one field.
    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    pub fn fields(&self) -> &BTreeMap<String, Vec<String>> {
        &self.0
    }

    /// `Ok(())` when nothing was collected, else the collected errors.
    pub fn into_result(self) -> Result<(), ValidationError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ValidationError(self))
        }
    }
}

/// A rejected input, with the fields that are wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.fields().keys().cloned().collect::<Vec<_>>().join(", "))]
pub struct ValidationError(pub FieldErrors);

impl ValidationError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self(FieldErrors::single(field, message))
    }
}

/// `true` for `#RRGGBB` (hex digits, any case).
pub fn is_hex_colour(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 7 && bytes[0] == b'#' && bytes[1..].iter().all(u8::is_ascii_hexdigit)
}

/// The colour rule shared by every colour field.
pub fn check_colour(errors: &mut FieldErrors, field: &str, value: &str) {
    if !is_hex_colour(value) {
        errors.add(field, "Enter a colour in the form #RRGGBB.");
    }
}

/// The DRF length rule, counting characters as Django does.
pub fn check_max_chars(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        errors.add(
            field,
            format!("Ensure this field has no more than {max} characters."),
        );
    }
}

/// A pragmatic e-mail syntax check: one `@`, a non-empty local part, a dotted domain, no
/// whitespace.
pub fn is_valid_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !value.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_must_be_seven_char_hex() {
        for (value, ok) in [
            ("#1E90FF", true),
            ("#abcdef", true),
            ("red", false),
            ("", false),
            ("#12", false),
            ("#GGGGGG", false),
            ("#1E90FF0", false),
        ] {
            assert_eq!(is_hex_colour(value), ok, "{value}");
        }
    }

    #[test]
    fn email_syntax() {
        for (value, ok) in [
            ("erika@example.test", true),
            ("a.b+c@sub.example.de", true),
            ("no-at-sign", false),
            ("@example.test", false),
            ("a@b", false),
            ("a@@b.de", false),
            ("a b@c.de", false),
            ("a@.de", false),
        ] {
            assert_eq!(is_valid_email(value), ok, "{value}");
        }
    }

    #[test]
    fn max_chars_counts_characters_not_bytes() {
        let mut errors = FieldErrors::new();
        check_max_chars(&mut errors, "name", "ääää", 4);
        assert!(errors.is_empty());
        check_max_chars(&mut errors, "name", "ääääa", 4);
        assert!(errors.contains("name"));
    }
}
