//! German and English texts of the administration. Field messages are the API's (the domain's
//! words); labels, headings, help and flashes are translated here.

/// The text for `key`: (German, English).
pub(crate) fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "admin.title" => ("Verwaltung", "Administration"),
        "admin.intro" => (
            "Stammdaten, Zeiten, Patienten und Benutzer der Praxis. Jede Änderung wird protokolliert.",
            "The practice's master data, hours, patients and users. Every change is audited.",
        ),
        "admin.breadcrumb" => ("Brotkrümelnavigation", "Breadcrumb"),
        "admin.section.catalog" => ("Stammdaten", "Master data"),
        "admin.section.hours" => ("Zeiten & Abwesenheiten", "Hours & absences"),
        "admin.section.patients" => ("Patienten", "Patients"),
        "admin.section.users" => ("Benutzer & Protokoll", "Users & audit"),
        "admin.tile.new" => ("Neu anlegen", "Add new"),
        "admin.tile.count" => ("Einträge", "Entries"),
        "admin.total" => ("Einträge", "Entries"),
        "admin.actions" => ("Aktionen", "Actions"),
        "admin.more" => (
            "Details und weitere Aktionen",
            "Details and further actions",
        ),
        "admin.read_only" => (
            "Nur Lesezugriff: Ihre Rolle darf diese Daten nicht ändern.",
            "Read only: your role may not change these data.",
        ),
        "admin.choose" => ("Bitte wählen …", "Please choose …"),
        "admin.never" => ("nie", "never"),
        "admin.no_role" => ("keine Rolle", "no role"),
        "admin.minutes" => ("Min.", "min"),
        "admin.practice_wide" => ("Praxisweit", "Practice-wide"),
        "admin.pages" => ("Seiten", "Pages"),
        "admin.prev" => ("Zurück", "Previous"),
        "admin.next" => ("Weiter", "Next"),
        "admin.form_has_errors" => (
            "Das Formular enthält Fehler. Bitte prüfen Sie die markierten Felder.",
            "The form has errors. Please check the marked fields.",
        ),
        "admin.error.internal" => (
            "Ein interner Fehler ist aufgetreten. Bitte später erneut versuchen.",
            "An internal error occurred. Please try again later.",
        ),
        // Row and page actions.
        "admin.deactivate" => ("Deaktivieren", "Deactivate"),
        "admin.activate" => ("Aktivieren", "Activate"),
        "admin.deactivate_help" => (
            "Deaktivierte Einträge bleiben erhalten (auch in bestehenden Buchungen), werden aber nicht mehr angeboten.",
            "Deactivated entries are kept (also in existing bookings) but no longer offered.",
        ),
        "admin.activate_help" => (
            "Der Eintrag ist deaktiviert. Aktivieren bietet ihn wieder an.",
            "This entry is deactivated. Activating offers it again.",
        ),
        "admin.delete_help" => (
            "Löschen ist endgültig und nur möglich, solange nichts auf den Eintrag verweist.",
            "Deleting is final and only possible while nothing refers to the entry.",
        ),
        "admin.confirm_delete" => (
            "Diesen Eintrag endgültig löschen?",
            "Delete this entry for good?",
        ),
        "admin.still_referenced" => (
            "Der Eintrag wird noch verwendet und kann nicht gelöscht werden. Bitte deaktivieren Sie ihn stattdessen.",
            "The entry is still in use and cannot be deleted. Please deactivate it instead.",
        ),
        // Flashes after a redirect.
        "admin.flash.created" => ("Eintrag angelegt.", "Entry created."),
        "admin.flash.saved" => ("Änderungen gespeichert.", "Changes saved."),
        "admin.flash.deleted" => ("Eintrag gelöscht.", "Entry deleted."),
        "admin.flash.deactivated" => ("Eintrag deaktiviert.", "Entry deactivated."),
        "admin.flash.activated" => ("Eintrag aktiviert.", "Entry activated."),
        "admin.flash.password" => (
            "Passwort gesetzt. Alle Sitzungen des Benutzers wurden beendet.",
            "Password set. All of the user's sessions have been ended.",
        ),
        "admin.flash.unchanged" => ("Keine Änderungen.", "No changes."),
        // Filters.
        "admin.filter.title" => ("Filter", "Filters"),
        "admin.filter.all" => ("Alle", "All"),
        "admin.filter.apply" => ("Filtern", "Apply"),
        "admin.filter.reset" => ("Zurücksetzen", "Reset"),
        "admin.filter.from" => ("Ab", "From"),
        "admin.filter.to" => ("Bis", "To"),
        "admin.filter.until_after" => ("Endet ab", "Ending on or after"),
        "admin.status.active" => ("Aktiv", "Active"),
        "admin.status.inactive" => ("Inaktiv", "Inactive"),
        "admin.status.superuser" => ("Superuser", "Superuser"),
        "admin.kind.room" => ("Raum", "Room"),
        "admin.kind.device" => ("Gerät", "Device"),
        // Entities: list title, create heading, edit heading, index description.
        "admin.users.title" => ("Benutzer", "Users"),
        "admin.users.new" => ("Benutzer anlegen", "Add user"),
        "admin.users.edit" => ("Benutzer bearbeiten", "Edit user"),
        "admin.users.description" => (
            "Konten, Rollen, Passwörter; Deaktivieren beendet alle Sitzungen.",
            "Accounts, roles, passwords; deactivating ends all sessions.",
        ),
        "admin.users.deactivate_help" => (
            "Sperrt das Konto: alle Sitzungen und Tokens des Benutzers enden sofort. Konten werden nie gelöscht.",
            "Locks the account: all of the user's sessions and tokens end at once. Accounts are never deleted.",
        ),
        "admin.users.activate_help" => (
            "Das Konto ist gesperrt. Aktivieren erlaubt wieder die Anmeldung.",
            "The account is locked. Activating allows logging in again.",
        ),
        "admin.appointment-types.title" => ("Terminarten", "Appointment types"),
        "admin.appointment-types.new" => ("Terminart anlegen", "Add appointment type"),
        "admin.appointment-types.edit" => ("Terminart bearbeiten", "Edit appointment type"),
        "admin.appointment-types.description" => (
            "Name, Standarddauer und Farbe im Kalender.",
            "Name, default duration and calendar colour.",
        ),
        "admin.operation-types.title" => ("OP-Arten", "Operation types"),
        "admin.operation-types.new" => ("OP-Art anlegen", "Add operation type"),
        "admin.operation-types.edit" => ("OP-Art bearbeiten", "Edit operation type"),
        "admin.operation-types.description" => (
            "Vorbereitung, OP-Dauer und Nachbereitung.",
            "Preparation, surgery and post-processing times.",
        ),
        "admin.resources.title" => ("Ressourcen & Räume", "Resources & rooms"),
        "admin.resources.new" => ("Ressource anlegen", "Add resource"),
        "admin.resources.edit" => ("Ressource bearbeiten", "Edit resource"),
        "admin.resources.description" => (
            "Behandlungsräume, OP-Säle und Geräte.",
            "Treatment rooms, operating rooms and devices.",
        ),
        "admin.practice-hours.title" => ("Öffnungszeiten", "Opening hours"),
        "admin.practice-hours.new" => ("Öffnungszeit anlegen", "Add opening hours"),
        "admin.practice-hours.edit" => ("Öffnungszeit bearbeiten", "Edit opening hours"),
        "admin.practice-hours.description" => (
            "Wöchentliche Öffnungszeiten der Praxis.",
            "The practice's weekly opening hours.",
        ),
        "admin.doctor-hours.title" => ("Sprechzeiten", "Doctor hours"),
        "admin.doctor-hours.new" => ("Sprechzeit anlegen", "Add doctor hours"),
        "admin.doctor-hours.edit" => ("Sprechzeit bearbeiten", "Edit doctor hours"),
        "admin.doctor-hours.description" => (
            "Wöchentliche Arbeitszeiten je Arzt/Ärztin.",
            "Weekly working hours per doctor.",
        ),
        "admin.breaks.title" => ("Pausen & Sperrzeiten", "Breaks"),
        "admin.breaks.new" => ("Pause anlegen", "Add break"),
        "admin.breaks.edit" => ("Pause bearbeiten", "Edit break"),
        "admin.breaks.description" => (
            "Gesperrte Zeiten an einem Tag, je Arzt oder praxisweit.",
            "Blocked time on one day, per doctor or practice-wide.",
        ),
        "admin.absences.title" => ("Abwesenheiten", "Absences"),
        "admin.absences.new" => ("Abwesenheit anlegen", "Add absence"),
        "admin.absences.edit" => ("Abwesenheit bearbeiten", "Edit absence"),
        "admin.absences.description" => (
            "Urlaub, Krankheit, Fortbildung der Ärztinnen und Ärzte.",
            "Doctors' vacation, sickness and training.",
        ),
        "admin.patients.title" => ("Patienten", "Patients"),
        "admin.patients.new" => ("Patient anlegen", "Add patient"),
        "admin.patients.edit" => ("Patient bearbeiten", "Edit patient"),
        "admin.patients.description" => (
            "Stammdaten suchen und korrigieren (jeder Zugriff wird protokolliert).",
            "Search and correct master data (every access is audited).",
        ),
        "admin.patients.search" => (
            "Name, Telefon, E-Mail, Nummer oder Geburtsdatum",
            "Name, phone, e-mail, number or birth date",
        ),
        "admin.audit-log.title" => ("Audit-Protokoll", "Audit log"),
        "admin.audit-log.description" => (
            "Wer hat wann was mit welchem Datensatz getan (nur Kennungen).",
            "Who did what to which record, and when (ids only).",
        ),
        "admin.audit-log.note" => (
            "Nur lesbar. Das Protokoll speichert Kennungen und Aktionen, keine Patientendaten.",
            "Read only. The log stores ids and actions, never patient data.",
        ),
        "admin.audit-log.csv" => ("Als CSV herunterladen", "Download as CSV"),
        "admin.calendar-feeds.title" => ("Kalender-Abos (iCal)", "Calendar feeds (iCal)"),
        "admin.calendar-feeds.description" => (
            "Geheime iCal-Adressen je Arzt oder Raum anlegen und widerrufen (nur Belegt-Zeiten).",
            "Create and revoke secret iCal addresses per doctor or room (busy times only).",
        ),
        "admin.calendar-feeds.intro" => (
            "Ein Abo zeigt die Belegt-Zeiten eines Arztes oder Raums, nie Patientennamen. Wer die Adresse kennt, kann es lesen: Widerrufen Sie ein Abo, sobald es nicht mehr gebraucht wird.",
            "A feed shows the busy times of a doctor or room, never patient names. Anyone who knows the address can read it: revoke a feed as soon as it is no longer needed.",
        ),
        "admin.calendar-feeds.new" => ("Neues Abo", "New feed"),
        "admin.calendar-feeds.target" => ("Arzt oder Raum", "Doctor or room"),
        "admin.calendar-feeds.kind" => ("Art", "Kind"),
        "admin.calendar-feeds.kind.doctor" => ("Arzt", "Doctor"),
        "admin.calendar-feeds.kind.room" => ("Raum", "Room"),
        "admin.calendar-feeds.include_type" => ("Terminart anzeigen", "Show appointment type"),
        "admin.calendar-feeds.include_type_help" => (
            "Statt „Belegt“ steht die Termin- bzw. OP-Art im Kalender.",
            "The calendar shows the appointment or operation type instead of \"Busy\".",
        ),
        "admin.calendar-feeds.create" => ("Abo anlegen", "Create feed"),
        "admin.calendar-feeds.created" => ("Abo angelegt", "Feed created"),
        "admin.calendar-feeds.secret_once" => (
            "Kopieren Sie die Adresse jetzt: Sie wird nur dieses eine Mal angezeigt (gespeichert wird nur ein Hash).",
            "Copy the address now: it is shown only this once (only a hash is stored).",
        ),
        "admin.calendar-feeds.url" => ("Abo-Adresse", "Feed address"),
        "admin.calendar-feeds.copy" => ("Kopieren", "Copy"),
        "admin.calendar-feeds.copied" => ("Kopiert", "Copied"),
        "admin.calendar-feeds.shows_type" => ("Terminart", "Type shown"),
        "admin.calendar-feeds.created_at" => ("Angelegt", "Created"),
        "admin.calendar-feeds.status" => ("Status", "Status"),
        "admin.calendar-feeds.active" => ("Aktiv", "Active"),
        "admin.calendar-feeds.revoked_at" => ("Widerrufen am", "Revoked on"),
        "admin.calendar-feeds.yes" => ("ja", "yes"),
        "admin.calendar-feeds.no" => ("nein", "no"),
        "admin.calendar-feeds.revoke" => ("Widerrufen", "Revoke"),
        "admin.calendar-feeds.revoke_confirm" => (
            "Abo widerrufen? Die Adresse funktioniert danach nicht mehr.",
            "Revoke this feed? Its address stops working.",
        ),
        "admin.calendar-feeds.empty" => ("Noch keine Abos.", "No feeds yet."),
        "admin.calendar-feeds.error.target" => (
            "Bitte wählen Sie einen aktiven Arzt oder einen Raum.",
            "Please choose an active doctor or a room.",
        ),
        "admin.calendar-feeds.flash.created" => ("Abo angelegt.", "Feed created."),
        "admin.calendar-feeds.flash.revoked" => ("Abo widerrufen.", "Feed revoked."),
        "admin.audit.subject.calendar_feed" => ("Kalender-Abo", "Calendar feed"),
        // Field labels.
        "admin.field.name" => ("Name", "Name"),
        "admin.field.color" => ("Farbe", "Colour"),
        "admin.field.calendar_color" => ("Kalenderfarbe", "Calendar colour"),
        "admin.field.duration_minutes" => ("Dauer (Minuten)", "Duration (minutes)"),
        "admin.field.active" => ("Aktiv", "Active"),
        "admin.field.status" => ("Status", "Status"),
        "admin.field.type" => ("Typ", "Type"),
        "admin.field.created_at" => ("Angelegt", "Created"),
        "admin.field.updated_at" => ("Geändert", "Changed"),
        "admin.field.prep_duration" => ("Vorbereitung (Minuten)", "Preparation (minutes)"),
        "admin.field.op_duration" => ("OP-Dauer (Minuten)", "Surgery (minutes)"),
        "admin.field.post_duration" => ("Nachbereitung (Minuten)", "Post-processing (minutes)"),
        "admin.field.phases" => ("Vorb. / OP / Nachb. (Min.)", "Prep / surgery / post (min)"),
        "admin.field.total" => ("Gesamt", "Total"),
        "admin.field.weekday" => ("Wochentag", "Weekday"),
        "admin.field.start_time" => ("Beginn", "Start"),
        "admin.field.end_time" => ("Ende", "End"),
        "admin.field.opening" => ("Öffnungszeit", "Opening hours"),
        "admin.field.working_time" => ("Arbeitszeit", "Working time"),
        "admin.field.time" => ("Zeit", "Time"),
        "admin.field.doctor" => ("Arzt/Ärztin", "Doctor"),
        "admin.field.date" => ("Datum", "Date"),
        "admin.field.reason" => ("Grund", "Reason"),
        "admin.field.start_date" => ("Erster Tag", "First day"),
        "admin.field.end_date" => ("Letzter Tag", "Last day"),
        "admin.field.period" => ("Zeitraum", "Period"),
        "admin.field.workdays" => ("Arbeitstage", "Workdays"),
        "admin.field.return_date" => ("Zurück am", "Back on"),
        "admin.field.remaining_days" => ("Resturlaub", "Vacation days left"),
        "admin.field.username" => ("Benutzername", "Username"),
        "admin.field.password" => ("Passwort", "Password"),
        "admin.field.new_password" => ("Neues Passwort", "New password"),
        "admin.field.role" => ("Rolle", "Role"),
        "admin.field.first_name" => ("Vorname", "First name"),
        "admin.field.last_name" => ("Nachname", "Last name"),
        "admin.field.email" => ("E-Mail", "E-mail"),
        "admin.field.last_login" => ("Letzte Anmeldung", "Last login"),
        "admin.field.date_joined" => ("Angelegt", "Joined"),
        "admin.field.birth_date" => ("Geburtsdatum", "Birth date"),
        "admin.field.birth_date_age" => ("Geburtsdatum (Alter)", "Birth date (age)"),
        "admin.field.gender" => ("Geschlecht", "Gender"),
        "admin.field.phone" => ("Telefon", "Phone"),
        "admin.field.patient_id" => ("Patienten-Nr.", "Patient no."),
        "admin.field.subjects" => ("Angezeigte Patienten-Nr.", "Patients shown (no.)"),
        "admin.field.id" => ("Nr.", "No."),
        "admin.field.timestamp" => ("Zeitpunkt", "Time"),
        "admin.field.action" => ("Aktion", "Action"),
        "admin.field.details" => ("Kennungen", "Ids"),
        // Help texts.
        "admin.help.color" => (
            "Format #RRGGBB, z. B. #1E90FF.",
            "Format #RRGGBB, e.g. #1E90FF.",
        ),
        "admin.help.color_optional" => (
            "Format #RRGGBB; leer lassen für keine Farbe.",
            "Format #RRGGBB; leave blank for no colour.",
        ),
        "admin.help.duration" => (
            "Standarddauer für Terminvorschläge; leer lassen für keine.",
            "Default duration for suggestions; leave blank for none.",
        ),
        "admin.help.minutes" => ("In Minuten, 0 oder mehr.", "In minutes, 0 or more."),
        "admin.help.resource_type" => (
            "Der Typ kann nicht mehr geändert werden, sobald Buchungen die Ressource verwenden.",
            "The type cannot change once bookings use the resource.",
        ),
        "admin.help.break_doctor" => (
            "Ohne Auswahl gilt die Pause für die ganze Praxis.",
            "Without a doctor the break applies to the whole practice.",
        ),
        "admin.help.end_date" => ("Der letzte Tag zählt mit.", "The last day is included."),
        "admin.help.username" => (
            "Buchstaben, Ziffern und @ . + - _; kann später nicht geändert werden.",
            "Letters, digits and @ . + - _; cannot be changed later.",
        ),
        "admin.help.password" => (
            "Mindestens 10 Zeichen, nicht nur Ziffern, nicht ähnlich zum Namen.",
            "At least 10 characters, not only digits, not similar to the name.",
        ),
        "admin.help.role" => (
            "Die Rolle bestimmt alle Berechtigungen; eine Änderung beendet die Sitzungen des Benutzers.",
            "The role decides every permission; changing it ends the user's sessions.",
        ),
        "admin.password.title" => ("Passwort zurücksetzen", "Reset password"),
        "admin.password.submit" => ("Passwort setzen", "Set password"),
        "admin.password.help" => (
            "Setzt ein neues Passwort und beendet alle Sitzungen des Benutzers.",
            "Sets a new password and ends all of the user's sessions.",
        ),
        // Weekdays (0 = Monday) and absence reasons (the stored values stay German).
        "admin.weekday.0" => ("Montag", "Monday"),
        "admin.weekday.1" => ("Dienstag", "Tuesday"),
        "admin.weekday.2" => ("Mittwoch", "Wednesday"),
        "admin.weekday.3" => ("Donnerstag", "Thursday"),
        "admin.weekday.4" => ("Freitag", "Friday"),
        "admin.weekday.5" => ("Samstag", "Saturday"),
        "admin.weekday.6" => ("Sonntag", "Sunday"),
        "admin.reason.0" => ("Urlaub", "Vacation"),
        "admin.reason.1" => ("Krank", "Sick"),
        "admin.reason.2" => ("Kind krank", "Child sick"),
        "admin.reason.3" => ("Unbezahlter Urlaub", "Unpaid leave"),
        "admin.reason.4" => ("Fortbildung", "Training"),
        "admin.reason.5" => ("Dienstreise", "Business trip"),
        "admin.reason.6" => ("Sonstiges", "Other"),
        // Audit actions: "<subject>: <verb>".
        "admin.audit.subject.appointment" => ("Termin", "Appointment"),
        "admin.audit.subject.appointment_type" => ("Terminart", "Appointment type"),
        "admin.audit.subject.operation" => ("Operation", "Operation"),
        "admin.audit.subject.operation_type" => ("OP-Art", "Operation type"),
        "admin.audit.subject.resource" => ("Ressource", "Resource"),
        "admin.audit.subject.practice_hours" => ("Öffnungszeit", "Opening hours"),
        "admin.audit.subject.doctor_hours" => ("Sprechzeit", "Doctor hours"),
        "admin.audit.subject.doctor_break" => ("Pause", "Break"),
        "admin.audit.subject.doctor_absence" => ("Abwesenheit", "Absence"),
        "admin.audit.subject.patient" => ("Patient", "Patient"),
        "admin.audit.subject.patient_flow" => ("Patientenfluss", "Patient flow"),
        "admin.audit.subject.user" => ("Benutzer", "User"),
        "admin.audit.subject.web" => ("Oberfläche", "Web UI"),
        "admin.audit.subject.audit_log" => ("Audit-Protokoll", "Audit log"),
        "admin.audit.verb.list" => ("Liste angezeigt", "list shown"),
        "admin.audit.verb.view" => ("angezeigt", "viewed"),
        "admin.audit.verb.search" => ("gesucht", "searched"),
        "admin.audit.verb.suggest" => ("Vorschläge", "suggestions"),
        "admin.audit.verb.create" => ("angelegt", "created"),
        "admin.audit.verb.update" => ("geändert", "changed"),
        "admin.audit.verb.delete" => ("gelöscht", "deleted"),
        "admin.audit.verb.activate" => ("aktiviert", "activated"),
        "admin.audit.verb.deactivate" => ("deaktiviert", "deactivated"),
        "admin.audit.verb.set_password" => ("Passwort gesetzt", "password set"),
        "admin.audit.verb.login" => ("Anmeldung", "login"),
        "admin.audit.verb.logout" => ("Abmeldung", "logout"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLUGS: [&str; 11] = [
        "users",
        "appointment-types",
        "operation-types",
        "resources",
        "practice-hours",
        "doctor-hours",
        "breaks",
        "absences",
        "patients",
        "audit-log",
        "calendar-feeds",
    ];

    #[test]
    fn every_entity_has_its_headings_in_both_languages() {
        for slug in SLUGS {
            for part in ["title", "description"] {
                let key = format!("admin.{slug}.{part}");
                let (de, en) = lookup(&key).unwrap_or_else(|| panic!("{key} missing"));
                assert!(!de.is_empty() && !en.is_empty(), "{key}");
            }
            if slug != "audit-log" && slug != "calendar-feeds" {
                for part in ["new", "edit"] {
                    assert!(
                        lookup(&format!("admin.{slug}.{part}")).is_some(),
                        "{slug}.{part}"
                    );
                }
            }
        }
        for field in [
            "prep_duration",
            "op_duration",
            "post_duration",
            "first_name",
            "last_name",
            "gender",
            "phone",
            "email",
        ] {
            assert!(lookup(&format!("admin.field.{field}")).is_some(), "{field}");
        }
        for day in 0..7 {
            assert!(lookup(&format!("admin.weekday.{day}")).is_some());
            assert!(lookup(&format!("admin.reason.{day}")).is_some());
        }
        for flash in [
            "created",
            "saved",
            "deleted",
            "deactivated",
            "activated",
            "password",
            "unchanged",
        ] {
            assert!(lookup(&format!("admin.flash.{flash}")).is_some(), "{flash}");
        }
    }
}
