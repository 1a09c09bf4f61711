//! Page-specific UI texts (key → German, English). Each page module keeps its own `texts`
//! function; this chains them so the frame's catalogue in `i18n.rs` can fall back to it.

/// Looks up a page text.
pub(crate) fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    crate::web::pages::texts(key)
        .or_else(|| crate::web::problems::texts(key))
        .or_else(|| crate::reminders::texts(key))
}
