//! Patient documents and notes (data-model §6.2/§6.3): what an upload may be and what a note
//! must hold. The kind of a file is decided by its first bytes, never by its name or the
//! type the browser sent.

/// The largest file a document may have (10 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// The longest title (the column's length).
pub const MAX_TITLE_CHARS: usize = 255;
/// The longest note text accepted (characters).
pub const MAX_NOTE_CHARS: usize = 20_000;

/// The file kinds a document may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Text,
}

impl FileKind {
    /// The file name extension of stored files.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Png => "png",
            FileKind::Jpeg => "jpg",
            FileKind::Text => "txt",
        }
    }

    /// The kind of a stored file name's extension.
    pub fn from_extension(extension: &str) -> Option<FileKind> {
        match extension {
            "pdf" => Some(FileKind::Pdf),
            "png" => Some(FileKind::Png),
            "jpg" => Some(FileKind::Jpeg),
            "txt" => Some(FileKind::Text),
            _ => None,
        }
    }

    /// The media type a download is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Text => "text/plain; charset=utf-8",
        }
    }

    /// The kind of a file by its content: PDF, PNG and JPEG by their signatures, text when it
    /// is UTF-8 without control characters other than tab, line feed, form feed and carriage
    /// return. Anything else (HTML is text too, but is only ever served as plain text) is
    /// refused.
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        if bytes.starts_with(b"%PDF-") {
            return Some(FileKind::Pdf);
        }
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(FileKind::Png);
        }
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(FileKind::Jpeg);
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let plain = text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}'));
        (plain && !text.trim().is_empty()).then_some(FileKind::Text)
    }
}

/// The two document kinds of the original (`doc_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocType {
    Document,
    Report,
}

impl DocType {
    pub fn as_str(self) -> &'static str {
        match self {
            DocType::Document => "document",
            DocType::Report => "report",
        }
    }

    /// An unknown value is a document, as in the original's dashboard service.
    pub fn parse_lenient(text: &str) -> DocType {
        match text.trim() {
            "report" => DocType::Report,
            _ => DocType::Document,
        }
    }
}

/// What is wrong with an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadProblem {
    TitleMissing,
    TitleTooLong,
    FileMissing,
    FileTooLarge,
    FileType,
}

/// Checks an upload's title and file; answers the file's kind.
pub fn check_upload(title: &str, file: &[u8]) -> Result<FileKind, UploadProblem> {
    let title = title.trim();
    if title.is_empty() {
        return Err(UploadProblem::TitleMissing);
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(UploadProblem::TitleTooLong);
    }
    if file.is_empty() {
        return Err(UploadProblem::FileMissing);
    }
    if file.len() > MAX_DOCUMENT_BYTES {
        return Err(UploadProblem::FileTooLarge);
    }
    FileKind::sniff(file).ok_or(UploadProblem::FileType)
}

/// What is wrong with a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteProblem {
    Empty,
    TooLong,
}

/// Checks a note's text (trimmed); answers the text to store.
pub fn check_note(content: &str) -> Result<&str, NoteProblem> {
    let content = content.trim();
    if content.is_empty() {
        return Err(NoteProblem::Empty);
    }
    if content.chars().count() > MAX_NOTE_CHARS {
        return Err(NoteProblem::TooLong);
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_kinds_are_decided_by_content_not_name() {
        let cases: [(&[u8], Option<FileKind>); 9] = [
            (b"%PDF-1.7\n...", Some(FileKind::Pdf)),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some(FileKind::Png)),
            (&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], Some(FileKind::Jpeg)),
            ("Befund: unauffällig\r\n".as_bytes(), Some(FileKind::Text)),
            (b"<html><script>alert(1)</script>", Some(FileKind::Text)),
            (b"MZ\x90\0\x03\0\0\0", None),
            (b"\x00\x01\x02", None),
            (b"   \n", None),
            (&[0xC3, 0x28], None),
        ];
        for (bytes, expected) in cases {
            assert_eq!(FileKind::sniff(bytes), expected, "{bytes:?}");
        }
        for kind in [FileKind::Pdf, FileKind::Png, FileKind::Jpeg, FileKind::Text] {
            assert_eq!(FileKind::from_extension(kind.extension()), Some(kind));
        }
    }

    #[test]
    fn uploads_need_a_title_and_an_allowed_file_within_the_limit() {
        assert_eq!(check_upload("Befund", b"%PDF-1.4"), Ok(FileKind::Pdf));
        assert_eq!(
            check_upload("  ", b"%PDF-1.4"),
            Err(UploadProblem::TitleMissing)
        );
        assert_eq!(
            check_upload(&"x".repeat(256), b"%PDF-1.4"),
            Err(UploadProblem::TitleTooLong)
        );
        assert_eq!(check_upload("Befund", b""), Err(UploadProblem::FileMissing));
        assert_eq!(
            check_upload("Befund", b"MZ\x90\0"),
            Err(UploadProblem::FileType)
        );
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_DOCUMENT_BYTES + 1, b'a');
        assert_eq!(
            check_upload("Befund", &big),
            Err(UploadProblem::FileTooLarge)
        );
    }

    #[test]
    fn notes_are_trimmed_and_must_not_be_empty() {
        assert_eq!(check_note("  Rückruf  "), Ok("Rückruf"));
        assert_eq!(check_note(" \n "), Err(NoteProblem::Empty));
        assert_eq!(
            check_note(&"x".repeat(MAX_NOTE_CHARS + 1)),
            Err(NoteProblem::TooLong)
        );
        assert_eq!(DocType::parse_lenient("report"), DocType::Report);
        assert_eq!(DocType::parse_lenient("bogus"), DocType::Document);
    }
}
