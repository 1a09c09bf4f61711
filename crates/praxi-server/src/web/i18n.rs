//! German and English UI texts. German is the default; the browser's language or the `lang`
//! cookie (set by the switch in the header) chooses English.

use axum::http::HeaderMap;
use axum::http::header;

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The `lang` cookie, else the first supported language of `Accept-Language`, else German.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        if let Some(lang) = cookie(headers, "lang").and_then(|value| Lang::parse(&value)) {
            return lang;
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        for part in accept.split(',') {
            let code = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if code.starts_with("de") {
                return Lang::De;
            }
            if code.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::De
    }

    /// The text for `key` in this language (the key itself when unknown, so a missing text
    /// is visible rather than blank).
    pub fn t(self, key: &str) -> &str {
        match lookup(key) {
            Some((de, en)) => match self {
                Lang::De => de,
                Lang::En => en,
            },
            None => key,
        }
    }
}

/// Reads one cookie value.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The message catalogue: key → (German, English). Page modules add their keys here.
fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "app.name" => ("Praxi", "Praxi"),
        "nav.dashboard" => ("Übersicht", "Dashboard"),
        "nav.calendar" => ("Kalender", "Calendar"),
        "nav.appointments" => ("Terminliste", "Appointments"),
        "nav.patients" => ("Patienten", "Patients"),
        "nav.doctors" => ("Ärzte", "Doctors"),
        "nav.operations" => ("Operationen", "Operations"),
        "nav.flow" => ("Wartezimmer", "Patient flow"),
        "nav.resources" => ("Ressourcen", "Resources"),
        "nav.admin" => ("Verwaltung", "Admin"),
        "nav.skip" => ("Zum Inhalt springen", "Skip to content"),
        "nav.main" => ("Hauptnavigation", "Main navigation"),
        "auth.login" => ("Anmelden", "Log in"),
        "auth.logout" => ("Abmelden", "Log out"),
        "auth.username" => ("Benutzername", "Username"),
        "auth.password" => ("Passwort", "Password"),
        "auth.invalid" => (
            "Benutzername oder Passwort ist falsch.",
            "Invalid username or password.",
        ),
        "auth.throttled" => (
            "Zu viele Fehlversuche. Bitte später erneut versuchen.",
            "Too many failed attempts. Please try again later.",
        ),
        "auth.no_role" => (
            "Ihr Konto hat keine Rolle für die Praxisoberfläche.",
            "Your account has no role for the staff interface.",
        ),
        "auth.signed_in_as" => ("Angemeldet als", "Signed in as"),
        "lang.switch" => ("English", "Deutsch"),
        "lang.other" => ("en", "de"),
        "role.admin" => ("Administration", "Admin"),
        "role.assistant" => ("MFA", "Assistant"),
        "role.doctor" => ("Arzt/Ärztin", "Doctor"),
        "role.billing" => ("Abrechnung", "Billing"),
        "error.forbidden" => (
            "Keine Berechtigung für diese Seite.",
            "You may not open this page.",
        ),
        "error.not_found" => ("Nicht gefunden.", "Not found."),
        "error.csrf" => (
            "Das Formular ist abgelaufen. Bitte erneut senden.",
            "The form has expired. Please submit it again.",
        ),
        // One name per status on every page.
        "status.appointment.scheduled" => ("Geplant", "Scheduled"),
        "status.appointment.confirmed" => ("Bestätigt", "Confirmed"),
        "status.appointment.cancelled" => ("Abgesagt", "Cancelled"),
        "status.appointment.completed" => ("Erledigt", "Completed"),
        "status.appointment.no_show" => ("Nicht erschienen", "No-show"),
        "status.operation.planned" => ("Geplant", "Planned"),
        "status.operation.confirmed" => ("Bestätigt", "Confirmed"),
        "status.operation.running" => ("Läuft", "Running"),
        "status.operation.done" => ("Erledigt", "Done"),
        "status.operation.cancelled" => ("Abgesagt", "Cancelled"),
        "error.title" => ("Fehler", "Error"),
        "error.title.403" => ("Kein Zugriff", "Access denied"),
        "error.title.404" => ("Seite nicht gefunden", "Page not found"),
        "error.title.405" => ("Aktion nicht möglich", "Action not possible"),
        "error.title.413" => ("Zu große Anfrage", "Request too large"),
        "error.title.500" => ("Interner Fehler", "Internal error"),
        "error.title.503" => ("Vorübergehend nicht verfügbar", "Temporarily unavailable"),
        "error.home" => ("Zur Übersicht", "Go to the dashboard"),
        "error.page_missing" => (
            "Diese Seite gibt es nicht (mehr). Über die Navigation geht es weiter.",
            "This page does not exist (any more). The navigation leads on.",
        ),
        "error.method" => (
            "Diese Adresse kann so nicht aufgerufen werden. Bitte die Schaltflächen der Seite verwenden.",
            "This address cannot be opened this way. Please use the buttons on the page.",
        ),
        "error.too_large" => (
            "Die gesendeten Daten sind zu groß.",
            "The data sent is too large.",
        ),
        "error.internal" => (
            "Etwas ist schiefgegangen. Der Fehler wurde protokolliert; bitte später erneut versuchen.",
            "Something went wrong. The error has been logged; please try again later.",
        ),
        "error.unavailable" => (
            "Praxi ist gerade ausgelastet. Bitte in einigen Sekunden erneut versuchen.",
            "Praxi is busy right now. Please try again in a few seconds.",
        ),
        "error.bad_request" => (
            "Die Anfrage konnte nicht verarbeitet werden.",
            "The request could not be processed.",
        ),
        "common.save" => ("Speichern", "Save"),
        "common.cancel" => ("Abbrechen", "Cancel"),
        "common.delete" => ("Löschen", "Delete"),
        "common.edit" => ("Bearbeiten", "Edit"),
        "common.create" => ("Anlegen", "Create"),
        "common.search" => ("Suchen", "Search"),
        "common.back" => ("Zurück", "Back"),
        "common.print" => ("Drucken", "Print"),
        "common.none" => ("Keine Einträge.", "No entries."),
        "common.live" => ("Live aktualisiert", "Updates live"),
        "common.updated" => ("Zuletzt aktualisiert", "Last updated"),
        "dashboard.title" => ("Praxis-Übersicht", "Practice overview"),
        _ => return crate::web::catalogue::lookup(key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn language_comes_from_cookie_then_browser_then_german() {
        let mut headers = HeaderMap::new();
        assert_eq!(Lang::from_headers(&headers), Lang::De);
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-GB,en;q=0.9,de;q=0.8"),
        );
        assert_eq!(Lang::from_headers(&headers), Lang::En);
        headers.insert(header::COOKIE, HeaderValue::from_static("x=1; lang=de"));
        assert_eq!(Lang::from_headers(&headers), Lang::De);
    }

    #[test]
    fn texts_exist_in_both_languages() {
        assert_eq!(Lang::De.t("auth.logout"), "Abmelden");
        assert_eq!(Lang::En.t("auth.logout"), "Log out");
        assert_eq!(Lang::En.t("no.such.key"), "no.such.key");
    }
}
