//! Staff accounts: username, password and profile rules, and the lock-out guards of the admin-only
//! user administration (beyond the original, which had no user API).
//!
//! The username and password rules are Django's (`UnicodeUsernameValidator`, the
//! minimum-length, numeric and user-attribute-similarity password validators) with a minimum
//! length of 10; the messages are Django's so clients see familiar texts.

use crate::rbac::Actor;
use crate::role::Role;
use crate::validation::{
    FieldErrors, ValidationError, check_colour, check_max_chars, is_valid_email,
};

/// The longest username Django accepts.
pub const USERNAME_MAX_CHARS: usize = 150;

/// The shortest password accepted.
pub const PASSWORD_MIN_CHARS: usize = 10;

/// The colour a new account gets when none is given (the original's column default).
pub const DEFAULT_CALENDAR_COLOR: &str = "#1E90FF";

/// The similarity (Python's `SequenceMatcher.quick_ratio`) from which a password counts as too
/// similar to a user attribute (Django's default).
const MAX_SIMILARITY: f64 = 0.7;

const USERNAME_MESSAGE: &str = "Enter a valid username. This value may contain only letters, \
                                numbers, and @/./+/-/_ characters.";
const BLANK: &str = "This field may not be blank.";

/// `true` for the characters of Django's username rule (`^[\w.@+-]+\Z`): Unicode letters and
/// digits, `_`, `@`, `.`, `+` and `-`.
fn is_username_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '@' | '.' | '+' | '-')
}

/// Trims a username and checks it: not blank, at most 150 characters, only letters, digits and
/// `@.+-_`. Returns the trimmed name.
pub fn check_username(errors: &mut FieldErrors, field: &str, value: &str) -> String {
    let username = value.trim().to_owned();
    if username.is_empty() {
        errors.add(field, BLANK);
        return username;
    }
    check_max_chars(errors, field, &username, USERNAME_MAX_CHARS);
    if !username.chars().all(is_username_char) {
        errors.add(field, USERNAME_MESSAGE);
    }
    username
}

/// The account attributes a password may not resemble.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordContext<'a> {
    pub username: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: Option<&'a str>,
}

/// Every reason `password` is unacceptable for the account, in Django's words; empty when it is
/// fine. Passwords are taken as typed (never trimmed).
pub fn password_problems(password: &str, context: PasswordContext<'_>) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(attribute) = similar_attribute(password, context) {
        problems.push(format!("The password is too similar to the {attribute}."));
    }
    if password.chars().count() < PASSWORD_MIN_CHARS {
        problems.push(format!(
            "This password is too short. It must contain at least {PASSWORD_MIN_CHARS} characters."
        ));
    }
    if !password.is_empty() && password.chars().all(char::is_numeric) {
        problems.push("This password is entirely numeric.".to_owned());
    }
    problems
}

/// Adds every password problem to `field`.
pub fn check_password(
    errors: &mut FieldErrors,
    field: &str,
    password: &str,
    context: PasswordContext<'_>,
) {
    for problem in password_problems(password, context) {
        errors.add(field, problem);
    }
}

/// Checks a new password for an existing account (the `password` field).
pub fn validate_password(
    password: &str,
    context: PasswordContext<'_>,
) -> Result<(), ValidationError> {
    let mut errors = FieldErrors::new();
    check_password(&mut errors, "password", password, context);
    errors.into_result()
}

/// Django's `UserAttributeSimilarityValidator`: the verbose name of the first attribute (or
/// part of it, split at non-word characters) the password resembles.
fn similar_attribute(password: &str, context: PasswordContext<'_>) -> Option<&'static str> {
    let password: Vec<char> = password.to_lowercase().chars().collect();
    let attributes = [
        (context.username, "username"),
        (context.first_name, "first name"),
        (context.last_name, "last name"),
        (context.email.unwrap_or(""), "email address"),
    ];
    attributes.into_iter().find_map(|(value, verbose_name)| {
        if value.is_empty() {
            return None;
        }
        let value = value.to_lowercase();
        let parts = value
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .chain(std::iter::once(value.as_str()));
        for part in parts {
            let part: Vec<char> = part.chars().collect();
            if exceeds_length_ratio(password.len(), part.len()) {
                continue;
            }
            if quick_ratio(&password, &part) >= MAX_SIMILARITY {
                return Some(verbose_name);
            }
        }
        None
    })
}

/// A part much shorter than the password is not compared (Django's
/// `exceeds_maximum_length_ratio`).
fn exceeds_length_ratio(password_len: usize, part_len: usize) -> bool {
    let bound = MAX_SIMILARITY / 2.0 * password_len as f64;
    password_len >= 10 * part_len && (part_len as f64) < bound
}

/// Python's `SequenceMatcher(a, b).quick_ratio()`: twice the number of characters the two share
/// (as multisets) over their total length.
fn quick_ratio(a: &[char], b: &[char]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let mut available: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    for c in b {
        *available.entry(*c).or_default() += 1;
    }
    let mut matches = 0usize;
    for c in a {
        if let Some(count) = available.get_mut(c).filter(|count| **count > 0) {
            *count -= 1;
            matches += 1;
        }
    }
    2.0 * matches as f64 / (a.len() + b.len()) as f64
}

/// Parses a role name; only the four API roles can be assigned.
pub fn parse_role(errors: &mut FieldErrors, field: &str, name: &str) -> Option<Role> {
    let role = Role::from_name(name.trim());
    if role.is_none() {
        errors.add(field, format!("\"{name}\" is not a valid choice."));
    }
    role
}

/// Whether a new account may use the staff web UI when the request does not say: everyone but
/// billing staff (the same rule as `praxi user create`).
pub fn default_is_staff(role: Role) -> bool {
    role != Role::Billing
}

/// The account fields an admin edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    pub first_name: String,
    pub last_name: String,
    /// `None` = no e-mail (stored as NULL, so several accounts may lack one).
    pub email: Option<String>,
    pub calendar_color: String,
    pub is_staff: bool,
}

impl UserProfile {
    /// The profile of a new account with this role before any field is applied.
    pub fn defaults(role: Role) -> Self {
        UserProfile {
            first_name: String::new(),
            last_name: String::new(),
            email: None,
            calendar_color: DEFAULT_CALENDAR_COLOR.to_owned(),
            is_staff: default_is_staff(role),
        }
    }
}

/// Requested profile changes: `None` = not sent, keep the current value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `Some(None)` (or a blank string) removes the e-mail.
    pub email: Option<Option<String>>,
    pub calendar_color: Option<String>,
    pub is_staff: Option<bool>,
}

impl ProfileChanges {
    /// Applies the sent fields to `current`, collecting every error in `errors`.
    fn apply_into(self, mut current: UserProfile, errors: &mut FieldErrors) -> UserProfile {
        if let Some(first_name) = self.first_name {
            current.first_name = first_name.trim().to_owned();
            check_max_chars(errors, "first_name", &current.first_name, 150);
        }
        if let Some(last_name) = self.last_name {
            current.last_name = last_name.trim().to_owned();
            check_max_chars(errors, "last_name", &current.last_name, 150);
        }
        if let Some(email) = self.email {
            current.email = email.and_then(|email| normalize_email(&email));
            if let Some(email) = current.email.as_deref() {
                if !is_valid_email(email) {
                    errors.add("email", "Enter a valid email address.");
                }
                check_max_chars(errors, "email", email, 254);
            }
        }
        if let Some(colour) = self.calendar_color {
            current.calendar_color = colour.trim().to_owned();
            check_colour(errors, "calendar_color", &current.calendar_color);
        }
        if let Some(is_staff) = self.is_staff {
            current.is_staff = is_staff;
        }
        current
    }

    /// Applies the sent fields to `current`, validating each.
    pub fn apply(self, current: UserProfile) -> Result<UserProfile, ValidationError> {
        let mut errors = FieldErrors::new();
        let profile = self.apply_into(current, &mut errors);
        errors.into_result().map(|()| profile)
    }
}

/// Trims an e-mail address and lower-cases its domain (as Django's `normalize_email`); blank
/// means none.
pub fn normalize_email(value: &str) -> Option<String> {
    let email = value.trim();
    if email.is_empty() {
        return None;
    }
    Some(match email.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => email.to_owned(),
    })
}

/// A new account as requested (raw values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDraft {
    pub username: String,
    pub password: String,
    pub role: String,
    pub profile: ProfileChanges,
}

/// A validated new account.
#[derive(Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub username: String,
    /// The plain password, to be hashed by the caller.
    pub password: String,
    pub role: Role,
    pub profile: UserProfile,
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("role", &self.role)
            .field("profile", &self.profile)
            .finish()
    }
}

impl AccountDraft {
    /// Validates every field; the password is checked against the account's own attributes.
    pub fn validate(self) -> Result<NewAccount, ValidationError> {
        let mut errors = FieldErrors::new();
        let username = check_username(&mut errors, "username", &self.username);
        let role = parse_role(&mut errors, "role", &self.role);
        let profile = self.profile.apply_into(
            UserProfile::defaults(role.unwrap_or(Role::Assistant)),
            &mut errors,
        );
        check_password(
            &mut errors,
            "password",
            &self.password,
            PasswordContext {
                username: &username,
                first_name: &profile.first_name,
                last_name: &profile.last_name,
                email: profile.email.as_deref(),
            },
        );
        errors.into_result()?;
        let role = role.ok_or_else(|| ValidationError::field("role", "This field is required."))?;
        Ok(NewAccount {
            username,
            password: self.password,
            role,
            profile,
        })
    }
}

/// Requested changes to an existing account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserChanges {
    pub profile: ProfileChanges,
    /// A role name; the current role's name (even one without API permissions) means "keep".
    pub role: Option<String>,
}

/// A validated change: the new profile, and the new role when it differs from the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserUpdate {
    pub profile: UserProfile,
    pub new_role: Option<Role>,
}

impl UserChanges {
    /// Applies the changes to an account whose stored role is `current_role`.
    pub fn apply(
        self,
        current: UserProfile,
        current_role: Option<&str>,
    ) -> Result<UserUpdate, ValidationError> {
        let mut errors = FieldErrors::new();
        let new_role = match self.role {
            Some(name) if Some(name.trim()) == current_role => None,
            Some(name) => parse_role(&mut errors, "role", &name),
            None => None,
        };
        let profile = self.profile.apply_into(current, &mut errors);
        errors
            .into_result()
            .map(|()| UserUpdate { profile, new_role })
    }
}

/// Lock-out protection: an admin may not deactivate their own account.
pub fn check_deactivation(actor: &Actor, target_user_id: i64) -> Result<(), ValidationError> {
    if actor.user_id == target_user_id {
        return Err(ValidationError::field(
            "non_field_errors",
            "You cannot deactivate your own account.",
        ));
    }
    Ok(())
}

/// Lock-out protection: an admin may not give themself a role that ends their admin rights
/// (a superuser stays an admin whatever their role, so they may).
pub fn check_role_change(
    actor: &Actor,
    target_user_id: i64,
    new_role: Role,
) -> Result<(), ValidationError> {
    let after = Actor {
        role: Some(new_role),
        ..*actor
    };
    if actor.user_id == target_user_id
        && actor.effective_role() == Some(Role::Admin)
        && after.effective_role() != Some(Role::Admin)
    {
        return Err(ValidationError::field(
            "role",
            "You cannot remove your own admin role.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(username: &str) -> PasswordContext<'_> {
        PasswordContext {
            username,
            ..Default::default()
        }
    }

    #[test]
    fn usernames_follow_django_rules() {
        for (value, ok) in [
            ("dr.example", true),
            ("anna_m+1@praxis-x", true),
            ("Müller", true),
            ("  padded  ", true),
            ("", false),
            ("   ", false),
            ("with space", false),
            ("semi;colon", false),
            ("slash/", false),
            (&"a".repeat(150), true),
            (&"a".repeat(151), false),
        ] {
            let mut errors = FieldErrors::new();
            check_username(&mut errors, "username", value);
            assert_eq!(errors.is_empty(), ok, "{value:?}: {errors:?}");
        }
        let mut errors = FieldErrors::new();
        assert_eq!(check_username(&mut errors, "username", " x "), "x");
    }

    #[test]
    fn password_rules() {
        for (password, username, expected) in [
            ("correct horse battery", "anna", vec![]),
            ("Kx8#pq2!zz", "anna", vec![]),
            (
                "short",
                "anna",
                vec!["This password is too short. It must contain at least 10 characters."],
            ),
            (
                "1234567890",
                "anna",
                vec!["This password is entirely numeric."],
            ),
            (
                "123",
                "anna",
                vec![
                    "This password is too short. It must contain at least 10 characters.",
                    "This password is entirely numeric.",
                ],
            ),
            (
                "dr.example",
                "dr.example",
                vec!["The password is too similar to the username."],
            ),
            (
                "Example.Dr1",
                "dr.example",
                vec!["The password is too similar to the username."],
            ),
            // Only the long password is compared with the short name part "dr"; it is too long
            // to resemble it.
            ("zzzzzzzzzzzzzzzzzzzzdr", "dr.qq", vec![]),
        ] {
            assert_eq!(
                password_problems(password, context(username)),
                expected,
                "{password:?} for {username:?}"
            );
        }
    }

    #[test]
    fn passwords_may_not_resemble_names_or_email() {
        let context = PasswordContext {
            username: "u1",
            first_name: "Annabella",
            last_name: "Sommerfeld",
            email: Some("sprechstunde@example.test"),
        };
        assert_eq!(
            password_problems("annabella1", context),
            ["The password is too similar to the first name."]
        );
        assert_eq!(
            password_problems("Sommerfeld!", context),
            ["The password is too similar to the last name."]
        );
        assert_eq!(
            password_problems("Sprechstunde2", context),
            ["The password is too similar to the email address."]
        );
        assert!(password_problems("völlig anderes Geheimnis", context).is_empty());
    }

    #[test]
    fn quick_ratio_matches_python() {
        let chars = |text: &str| text.chars().collect::<Vec<_>>();
        // SequenceMatcher(a="abcd", b="bcde").quick_ratio() == 0.75
        assert!((quick_ratio(&chars("abcd"), &chars("bcde")) - 0.75).abs() < 1e-9);
        assert!((quick_ratio(&chars(""), &chars("")) - 1.0).abs() < 1e-9);
        assert!((quick_ratio(&chars("aab"), &chars("abb")) - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn new_accounts_are_validated_and_defaulted() {
        let draft = AccountDraft {
            username: " dr.neu ".into(),
            password: "lange-geheime-phrase".into(),
            role: "doctor".into(),
            profile: ProfileChanges {
                email: Some(Some(" Neu@Praxis.Example.TEST ".into())),
                first_name: Some(" Nora ".into()),
                ..Default::default()
            },
        };
        let account = draft.validate().unwrap();
        assert_eq!(account.username, "dr.neu");
        assert_eq!(account.role, Role::Doctor);
        assert_eq!(account.profile.first_name, "Nora");
        assert_eq!(
            account.profile.email.as_deref(),
            Some("Neu@praxis.example.test")
        );
        assert_eq!(account.profile.calendar_color, DEFAULT_CALENDAR_COLOR);
        assert!(account.profile.is_staff);
        assert!(!format!("{account:?}").contains("geheime"));

        let billing = AccountDraft {
            username: "abrechnung".into(),
            password: "lange-geheime-phrase".into(),
            role: "billing".into(),
            profile: ProfileChanges::default(),
        };
        assert!(!billing.validate().unwrap().profile.is_staff);
    }

    #[test]
    fn invalid_new_accounts_name_every_field() {
        let draft = AccountDraft {
            username: "bad name".into(),
            password: "123".into(),
            role: "janitor".into(),
            profile: ProfileChanges {
                email: Some(Some("nope".into())),
                calendar_color: Some("red".into()),
                last_name: Some("x".repeat(151)),
                ..Default::default()
            },
        };
        let errors = draft.validate().unwrap_err().0;
        for field in [
            "username",
            "password",
            "role",
            "email",
            "calendar_color",
            "last_name",
        ] {
            assert!(errors.contains(field), "{field}: {errors:?}");
        }
        assert_eq!(
            errors.fields()["role"],
            ["\"janitor\" is not a valid choice."]
        );
    }

    fn profile() -> UserProfile {
        UserProfile {
            first_name: "Anna".into(),
            last_name: "Muster".into(),
            email: Some("anna@example.test".into()),
            calendar_color: "#32CD32".into(),
            is_staff: true,
        }
    }

    #[test]
    fn changes_keep_unsent_fields_and_detect_role_changes() {
        let changes = UserChanges {
            profile: ProfileChanges {
                last_name: Some("Neu".into()),
                email: Some(Some("  ".into())),
                ..Default::default()
            },
            role: Some("doctor".into()),
        };
        let update = changes.apply(profile(), Some("doctor")).unwrap();
        assert_eq!(update.new_role, None, "same role is no change");
        assert_eq!(update.profile.first_name, "Anna");
        assert_eq!(update.profile.last_name, "Neu");
        assert_eq!(update.profile.email, None);

        let changes = UserChanges {
            role: Some("admin".into()),
            ..Default::default()
        };
        let update = changes.apply(profile(), Some("nurse")).unwrap();
        assert_eq!(update.new_role, Some(Role::Admin));

        // A role without API permissions can be kept but not assigned.
        let keep = UserChanges {
            role: Some("nurse".into()),
            ..Default::default()
        };
        assert!(keep.clone().apply(profile(), Some("nurse")).is_ok());
        assert!(keep.apply(profile(), Some("doctor")).is_err());
    }

    #[test]
    fn admins_cannot_lock_themselves_out() {
        let admin = Actor {
            user_id: 1,
            role: Some(Role::Admin),
            is_superuser: false,
        };
        let superuser = Actor {
            user_id: 2,
            role: Some(Role::Doctor),
            is_superuser: true,
        };
        assert!(check_deactivation(&admin, 1).is_err());
        assert!(check_deactivation(&admin, 3).is_ok());
        assert!(check_deactivation(&superuser, 2).is_err());
        for (actor, target, role, ok) in [
            (admin, 1, Role::Doctor, false),
            (admin, 1, Role::Admin, true),
            (admin, 3, Role::Doctor, true),
            (superuser, 2, Role::Billing, true),
        ] {
            assert_eq!(
                check_role_change(&actor, target, role).is_ok(),
                ok,
                "{actor:?} → {target} {role}"
            );
        }
        let error = check_role_change(&admin, 1, Role::Billing).unwrap_err().0;
        assert_eq!(
            error.fields()["role"],
            ["You cannot remove your own admin role."]
        );
    }
}
