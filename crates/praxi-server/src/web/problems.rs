//! German and English texts for the validation problems the domain, the store and the body
//! reader report. Those keep the API's (DRF's) English wording, which the JSON API must answer
//! unchanged; a staff page never shows that wording but maps each problem to a catalogue key
//! here. Messages that are no known problem (the domain's few German texts, a page's own
//! catalogue texts) pass through unchanged.

use crate::web::i18n::Lang;

/// Problems reported with a fixed English text, and their catalogue keys.
const EXACT: &[(&str, &str)] = &[
    ("This field is required.", "problem.required"),
    ("This field may not be blank.", "problem.blank"),
    ("This field may not be null.", "problem.required"),
    ("Enter a colour in the form #RRGGBB.", "problem.colour"),
    ("Enter a valid email address.", "problem.email"),
    ("Invalid email address.", "problem.email"),
    ("A valid integer is required.", "problem.integer"),
    ("Must be a valid boolean.", "problem.boolean"),
    ("Not a valid string.", "problem.string"),
    (
        "Null characters are not allowed.",
        "problem.null_characters",
    ),
    ("Expected a list of items.", "problem.list"),
    ("Invalid data. Expected a dictionary.", "problem.form"),
    ("Unknown field.", "problem.unknown_field"),
    ("Invalid status transition.", "problem.transition"),
    ("Doctor unavailable.", "problem.doctor_unavailable"),
    (
        "You do not have permission to perform this action.",
        "problem.permission",
    ),
    (
        "You cannot deactivate your own account.",
        "problem.own_account",
    ),
    (
        "You cannot remove your own admin role.",
        "problem.own_admin",
    ),
    (
        "This password is entirely numeric.",
        "problem.password_numeric",
    ),
    (
        "A user with that email already exists.",
        "problem.email_taken",
    ),
    (
        "A user with that username already exists.",
        "problem.username_taken",
    ),
    (
        "Concurrent changes collided; nothing was changed. Please retry.",
        "problem.concurrent",
    ),
    ("Dates must be in format YYYY-MM-DD.", "problem.date"),
    (
        "birth_date darf nicht in der Zukunft liegen.",
        "problem.birth_date_future",
    ),
    ("id must be a positive integer.", "problem.patient_id"),
    (
        "op_room muss eine Ressource mit type=\"room\" sein.",
        "problem.op_room",
    ),
];

/// The page text for one reported problem.
pub fn problem_text(lang: Lang, message: &str) -> String {
    if let Some((_, key)) = EXACT.iter().find(|(english, _)| *english == message) {
        return lang.t(key).to_owned();
    }
    let between = |prefix: &str, suffix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
    };
    if let Some(n) = between("Ensure this field has no more than ", " characters.") {
        return lang.t("problem.max_chars").replace("{n}", n);
    }
    if let Some(n) = between("Ensure this value is less than or equal to ", ".") {
        return lang.t("problem.max_value").replace("{n}", n);
    }
    if let Some(n) = between("Ensure this value is greater than or equal to ", ".") {
        return lang.t("problem.min_value").replace("{n}", n);
    }
    if let Some(value) = between("\"", "\" is not a valid choice.") {
        return lang.t("problem.choice").replace("{value}", value);
    }
    if let Some(n) = between(
        "This password is too short. It must contain at least ",
        " characters.",
    ) {
        return lang.t("problem.password_short").replace("{n}", n);
    }
    if between("The password is too similar to the ", ".").is_some() {
        return lang.t("problem.password_similar").to_owned();
    }
    if between("Invalid pk \"", "\" - object does not exist.").is_some() {
        return lang.t("problem.missing_object").to_owned();
    }
    if between("No ", " matches the given query.").is_some() {
        return lang.t("problem.missing_object").to_owned();
    }
    if between("Key (", ") already exists.").is_some() {
        return lang.t("problem.duplicate").to_owned();
    }
    if message.starts_with("Enter a valid username.") {
        return lang.t("problem.username").to_owned();
    }
    if message.starts_with("Date has wrong format.") {
        return lang.t("problem.date").to_owned();
    }
    if message.starts_with("Time has wrong format.") {
        return lang.t("problem.time").to_owned();
    }
    if message.starts_with("Datetime has wrong format.") {
        return lang.t("problem.datetime").to_owned();
    }
    message.to_owned()
}

/// Why a delete was refused: the store names the model that is still referenced.
pub fn still_referenced_text(lang: Lang, model: &str) -> String {
    let key = match model {
        "AppointmentType" => "problem.referenced.appointment_type",
        "OperationType" => "problem.referenced.operation_type",
        "Resource" => "problem.referenced.resource",
        _ => "problem.referenced",
    };
    lang.t(key).to_owned()
}

/// The texts of this module (key → German, English).
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "problem.required" => ("Bitte ausfüllen.", "This field is required."),
        "problem.blank" => ("Darf nicht leer sein.", "This field may not be blank."),
        "problem.colour" => (
            "Bitte eine Farbe im Format #RRGGBB angeben, z. B. #1E90FF.",
            "Enter a colour in the form #RRGGBB, e.g. #1E90FF.",
        ),
        "problem.email" => (
            "Bitte eine gültige E-Mail-Adresse angeben.",
            "Enter a valid email address.",
        ),
        "problem.integer" => ("Bitte eine ganze Zahl angeben.", "Enter a whole number."),
        "problem.boolean" => ("Bitte Ja oder Nein wählen.", "Choose yes or no."),
        "problem.string" => ("Bitte einen Text angeben.", "Enter a text."),
        "problem.null_characters" => (
            "Der Text enthält unzulässige Steuerzeichen.",
            "The text contains control characters that are not allowed.",
        ),
        "problem.list" => ("Bitte eine Auswahl treffen.", "Choose from the list."),
        "problem.form" => (
            "Das Formular konnte nicht gelesen werden.",
            "The form could not be read.",
        ),
        "problem.unknown_field" => (
            "Dieses Feld ist hier nicht vorgesehen.",
            "This field is not expected here.",
        ),
        "problem.transition" => (
            "Dieser Statuswechsel ist nicht möglich.",
            "This status change is not possible.",
        ),
        "problem.doctor_unavailable" => (
            "Die Ärztin / der Arzt ist zu dieser Zeit nicht verfügbar.",
            "The doctor is not available at this time.",
        ),
        "problem.permission" => (
            "Dafür fehlt Ihnen die Berechtigung.",
            "You may not do this.",
        ),
        "problem.own_account" => (
            "Das eigene Konto kann nicht deaktiviert werden.",
            "You cannot deactivate your own account.",
        ),
        "problem.own_admin" => (
            "Die eigene Administrationsrolle kann nicht entzogen werden.",
            "You cannot remove your own admin role.",
        ),
        "problem.password_numeric" => (
            "Das Passwort darf nicht nur aus Ziffern bestehen.",
            "The password must not consist of digits only.",
        ),
        "problem.password_short" => (
            "Das Passwort ist zu kurz; es braucht mindestens {n} Zeichen.",
            "The password is too short; it needs at least {n} characters.",
        ),
        "problem.password_similar" => (
            "Das Passwort ähnelt zu sehr dem Namen, Benutzernamen oder der E-Mail-Adresse.",
            "The password is too similar to the name, username or email address.",
        ),
        "problem.username" => (
            "Bitte einen gültigen Benutzernamen angeben: nur Buchstaben, Ziffern und @ . + - _.",
            "Enter a valid username: only letters, digits and @ . + - _.",
        ),
        "problem.birth_date_future" => (
            "Das Geburtsdatum darf nicht in der Zukunft liegen.",
            "The date of birth must not be in the future.",
        ),
        "problem.patient_id" => (
            "Die Patientennummer muss eine positive ganze Zahl sein.",
            "The patient number must be a positive whole number.",
        ),
        "problem.op_room" => (
            "Bitte einen Raum wählen (kein Gerät).",
            "Choose a room (not a device).",
        ),
        "problem.email_taken" => (
            "Diese E-Mail-Adresse ist bereits vergeben.",
            "This email address is already taken.",
        ),
        "problem.username_taken" => (
            "Dieser Benutzername ist bereits vergeben.",
            "This username is already taken.",
        ),
        "problem.concurrent" => (
            "Gleichzeitige Änderungen sind kollidiert; nichts wurde geändert. Bitte erneut versuchen.",
            "Concurrent changes collided; nothing was changed. Please try again.",
        ),
        "problem.date" => (
            "Bitte ein Datum im Format JJJJ-MM-TT angeben.",
            "Enter a date in the form YYYY-MM-DD.",
        ),
        "problem.time" => (
            "Bitte eine Uhrzeit im Format hh:mm angeben.",
            "Enter a time in the form hh:mm.",
        ),
        "problem.datetime" => ("Bitte Datum und Uhrzeit angeben.", "Enter a date and time."),
        "problem.max_chars" => ("Höchstens {n} Zeichen.", "At most {n} characters."),
        "problem.max_value" => ("Höchstens {n}.", "At most {n}."),
        "problem.min_value" => ("Mindestens {n}.", "At least {n}."),
        "problem.choice" => (
            "„{value}“ ist keine gültige Auswahl.",
            "“{value}” is not a valid choice.",
        ),
        "problem.missing_object" => (
            "Der gewählte Eintrag existiert nicht (mehr).",
            "The chosen entry does not exist (any more).",
        ),
        "problem.duplicate" => (
            "Dieser Wert ist bereits vergeben.",
            "This value is already taken.",
        ),
        "problem.referenced" => (
            "Der Eintrag wird noch verwendet.",
            "The entry is still in use.",
        ),
        "problem.referenced.appointment_type" => (
            "Die Terminart wird noch von Terminen verwendet.",
            "The appointment type is still used by appointments.",
        ),
        "problem.referenced.operation_type" => (
            "Die OP-Art wird noch von Operationen verwendet.",
            "The operation type is still used by operations.",
        ),
        "problem.referenced.resource" => (
            "Die Ressource wird noch von Terminen oder Operationen verwendet.",
            "The resource is still used by appointments or operations.",
        ),
        // The gender of a patient as shown on the patient page.
        "gender.female" => ("weiblich", "female"),
        "gender.male" => ("männlich", "male"),
        "gender.diverse" => ("divers", "diverse"),
        "gender.unknown" => ("unbekannt", "unknown"),
        _ => return None,
    })
}

/// The shown gender: the usual codes and words (German and English, as PraxiApp stored them)
/// become the page language's word; anything else the practice typed is shown as typed.
pub fn gender_text(lang: Lang, stored: &str) -> String {
    let key = match stored.trim().to_lowercase().as_str() {
        "f" | "w" | "female" | "weiblich" | "frau" => "gender.female",
        "m" | "male" | "männlich" | "mann" => "gender.male",
        "d" | "x" | "diverse" | "divers" | "other" | "non-binary" => "gender.diverse",
        "u" | "unknown" | "unbekannt" => "gender.unknown",
        _ => return stored.to_owned(),
    };
    lang.t(key).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_problems_become_german_texts() {
        for (message, german) in [
            (
                "Enter a colour in the form #RRGGBB.",
                "Bitte eine Farbe im Format #RRGGBB angeben, z. B. #1E90FF.",
            ),
            ("This field is required.", "Bitte ausfüllen."),
            (
                "id must be a positive integer.",
                "Die Patientennummer muss eine positive ganze Zahl sein.",
            ),
            (
                "op_room muss eine Ressource mit type=\"room\" sein.",
                "Bitte einen Raum wählen (kein Gerät).",
            ),
            (
                "Ensure this field has no more than 100 characters.",
                "Höchstens 100 Zeichen.",
            ),
            (
                "Ensure this value is less than or equal to 2147483647.",
                "Höchstens 2147483647.",
            ),
            (
                "Ensure this value is greater than or equal to 0.",
                "Mindestens 0.",
            ),
            (
                "\"bed\" is not a valid choice.",
                "„bed“ ist keine gültige Auswahl.",
            ),
            (
                "Invalid pk \"9\" - object does not exist.",
                "Der gewählte Eintrag existiert nicht (mehr).",
            ),
            (
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
                "Bitte ein Datum im Format JJJJ-MM-TT angeben.",
            ),
        ] {
            assert_eq!(problem_text(Lang::De, message), german, "{message}");
        }
        assert_eq!(
            problem_text(Lang::En, "Enter a colour in the form #RRGGBB."),
            "Enter a colour in the form #RRGGBB, e.g. #1E90FF."
        );
    }

    #[test]
    fn every_known_problem_has_both_texts() {
        for (_, key) in EXACT {
            assert!(texts(key).is_some(), "{key}");
            assert_ne!(Lang::De.t(key), *key, "{key} not in the catalogue");
        }
    }

    #[test]
    fn german_domain_texts_and_page_texts_pass_through() {
        let german = "Endzeit muss nach der Startzeit liegen.";
        assert_eq!(problem_text(Lang::De, german), german);
    }

    #[test]
    fn referenced_rows_and_genders_are_translated() {
        assert_eq!(
            still_referenced_text(Lang::De, "AppointmentType"),
            "Die Terminart wird noch von Terminen verwendet."
        );
        assert_eq!(gender_text(Lang::De, "female"), "weiblich");
        assert_eq!(gender_text(Lang::De, "M"), "männlich");
        assert_eq!(gender_text(Lang::De, "d"), "divers");
        assert_eq!(gender_text(Lang::En, "w"), "female");
        assert_eq!(gender_text(Lang::De, "Trans-Frau"), "Trans-Frau");
    }
}
