//! A small reader for `multipart/form-data` bodies (RFC 7578) held in memory, for the
//! document upload form. The body's size is bounded by the route's body limit before it gets
//! here; a malformed body is an error, never a panic.

/// One part of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    /// The client's file name (only used to tell a file field from a text field; never
    /// stored or used as a path).
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

impl Part {
    /// The part as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultipartError {
    NotMultipart,
    Malformed,
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let mut pieces = content_type.split(';');
    let media = pieces.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("multipart/form-data") {
        return Err(MultipartError::NotMultipart);
    }
    pieces
        .filter_map(|piece| piece.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|value| !value.is_empty() && value.len() <= 70)
        .ok_or(MultipartError::NotMultipart)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| at + from)
}

/// A parameter (`name="…"`) of a `Content-Disposition` header value.
fn disposition_param(value: &str, wanted: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|piece| {
        let (key, raw) = piece.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case(wanted) {
            return None;
        }
        let raw = raw.trim();
        Some(
            raw.strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or(raw)
                .to_owned(),
        )
    })
}

/// Every part of the body.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, MultipartError> {
    let boundary = boundary(content_type)?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut at = find(body, &delimiter, 0).ok_or(MultipartError::Malformed)? + delimiter.len();
    loop {
        // After a delimiter: `--` ends the body, else CRLF and a part follow.
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err(MultipartError::Malformed);
        }
        at += 2;
        let headers_end = find(body, b"\r\n\r\n", at).ok_or(MultipartError::Malformed)?;
        let headers = String::from_utf8_lossy(&body[at..headers_end]).into_owned();
        let mut name = None;
        let mut filename = None;
        for line in headers.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if key.trim().eq_ignore_ascii_case("content-disposition") {
                name = disposition_param(value, "name");
                filename = disposition_param(value, "filename");
            }
        }
        let data_start = headers_end + 4;
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(&delimiter);
        let data_end = find(body, &closing, data_start).ok_or(MultipartError::Malformed)?;
        parts.push(Part {
            name: name.ok_or(MultipartError::Malformed)?,
            filename,
            data: body[data_start..data_end].to_vec(),
        });
        at = data_end + closing.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=----x1";

    #[test]
    fn text_and_file_parts_are_read() {
        let body = b"------x1\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nBefund\r\n------x1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n\r\nend\r\n------x1--\r\n";
        let parts = parse(TYPE, body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "title");
        assert_eq!(parts[0].text(), "Befund");
        assert_eq!(parts[0].filename, None);
        assert_eq!(parts[1].filename.as_deref(), Some("../../etc/a.pdf"));
        assert_eq!(parts[1].data, b"%PDF-1.4\r\n\r\nend");
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert_eq!(
            parse("application/x-www-form-urlencoded", b"a=b"),
            Err(MultipartError::NotMultipart)
        );
        assert_eq!(parse(TYPE, b"nothing"), Err(MultipartError::Malformed));
        assert_eq!(
            parse(
                TYPE,
                b"------x1\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated"
            ),
            Err(MultipartError::Malformed)
        );
        assert_eq!(parse(TYPE, b"------x1--"), Ok(Vec::new()));
        assert_eq!(
            boundary("multipart/form-data; boundary=\"q\"").as_deref(),
            Ok("q")
        );
    }
}
