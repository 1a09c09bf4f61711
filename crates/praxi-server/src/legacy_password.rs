//! Passwords carried over from PraxiApp: Django's `pbkdf2_sha256$<iterations>$<salt>$<b64>`.
//!
//! Users of an adopted or imported PraxiApp database log in with their old password; on the
//! first successful login the hash is replaced by Praxi's argon2id (see `auth::verify_login`).
//! Other Django formats (`argon2$…`, `bcrypt_sha256$…`, unsalted hashes, …) are refused with a
//! log line naming the format, never a 500.

use pbkdf2::pbkdf2_hmac;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// What a stored hash string is.
#[derive(Debug, PartialEq, Eq)]
pub enum StoredHash<'a> {
    /// A PHC string (`$argon2id$…`): Praxi's own format.
    Phc,
    /// Django's PBKDF2-SHA256.
    DjangoPbkdf2 {
        iterations: u32,
        salt: &'a str,
        hash_b64: &'a str,
    },
    /// Something else; the payload names the algorithm prefix for the log (no secret part).
    Unsupported(String),
}

/// Upper bound on iterations taken from a stored hash, so a tampered row cannot make a login
/// spin for minutes (Django 5.2 uses 1,000,000; this allows ten times that).
const MAX_ITERATIONS: u32 = 10_000_000;

/// Classifies a stored hash without verifying anything.
pub fn classify(stored: &str) -> StoredHash<'_> {
    if stored.starts_with('$') {
        return StoredHash::Phc;
    }
    let mut parts = stored.splitn(4, '$');
    let algorithm = parts.next().unwrap_or_default();
    if algorithm == "pbkdf2_sha256" {
        if let (Some(iterations), Some(salt), Some(hash_b64)) =
            (parts.next(), parts.next(), parts.next())
            && let Ok(iterations) = iterations.parse::<u32>()
            && (1..=MAX_ITERATIONS).contains(&iterations)
            && !salt.is_empty()
            && !hash_b64.is_empty()
        {
            return StoredHash::DjangoPbkdf2 {
                iterations,
                salt,
                hash_b64,
            };
        }
        return StoredHash::Unsupported("pbkdf2_sha256 (malformed)".to_owned());
    }
    if algorithm.is_empty() || stored.starts_with('!') {
        // Django's unusable password (`!…`) or an empty column.
        return StoredHash::Unsupported("unusable password".to_owned());
    }
    // Only the algorithm name is logged, never the rest.
    let name: String = algorithm
        .chars()
        .take(32)
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    StoredHash::Unsupported(name)
}

/// Verifies `password` against Django's PBKDF2-SHA256 parts (blocking: run it on a blocking
/// thread). The comparison is constant-time.
pub fn verify_django_pbkdf2(password: &str, iterations: u32, salt: &str, hash_b64: &str) -> bool {
    let Some(expected) = decode_base64(hash_b64) else {
        return false;
    };
    if expected.is_empty() || expected.len() > 64 {
        return false;
    }
    let mut derived = vec![0u8; expected.len()];
    pbkdf2_hmac::<Sha256>(
        password.as_bytes(),
        salt.as_bytes(),
        iterations,
        &mut derived,
    );
    derived.ct_eq(&expected).into()
}

/// Standard base64 (with or without padding), as Django writes it.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let trimmed = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for c in trimmed.bytes() {
        buffer = (buffer << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Django 5.2: `make_password("Fixture-pass-1!", salt="WfsxjJnJ…")` is too slow for a unit
    /// test at 1,000,000 iterations; this vector uses 1,000 iterations (computed with Python's
    /// `hashlib.pbkdf2_hmac("sha256", b"secret", b"salt", 1000)`).
    const DJANGO_1000: &str =
        "pbkdf2_sha256$1000$salt$qN+JnzxPIE2WfgrWPAkph8EAVeuwF7PZ0ordIY1Peq0=";

    #[test]
    fn classifies_formats() {
        assert_eq!(
            classify(DJANGO_1000),
            StoredHash::DjangoPbkdf2 {
                iterations: 1000,
                salt: "salt",
                hash_b64: "qN+JnzxPIE2WfgrWPAkph8EAVeuwF7PZ0ordIY1Peq0=",
            }
        );
        assert_eq!(classify("$argon2id$v=19$m=1,t=1,p=1$x$y"), StoredHash::Phc);
        assert_eq!(
            classify("bcrypt_sha256$$2b$12$abc"),
            StoredHash::Unsupported("bcrypt_sha256".to_owned())
        );
        assert_eq!(
            classify("pbkdf2_sha256$many$salt$hash"),
            StoredHash::Unsupported("pbkdf2_sha256 (malformed)".to_owned())
        );
        assert_eq!(
            classify("!unusable"),
            StoredHash::Unsupported("unusable password".to_owned())
        );
        assert_eq!(
            classify(""),
            StoredHash::Unsupported("unusable password".to_owned())
        );
    }

    #[test]
    fn verifies_django_pbkdf2_with_the_iterations_from_the_hash() {
        let StoredHash::DjangoPbkdf2 {
            iterations,
            salt,
            hash_b64,
        } = classify(DJANGO_1000)
        else {
            panic!("not recognised");
        };
        assert!(verify_django_pbkdf2("secret", iterations, salt, hash_b64));
        assert!(!verify_django_pbkdf2("Secret", iterations, salt, hash_b64));
        assert!(!verify_django_pbkdf2(
            "secret",
            iterations + 1,
            salt,
            hash_b64
        ));
        assert!(!verify_django_pbkdf2(
            "secret", iterations, "salt2", hash_b64
        ));
        assert!(!verify_django_pbkdf2(
            "secret",
            iterations,
            salt,
            "not base64!"
        ));
    }

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(decode_base64("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(decode_base64("aGk").as_deref(), Some(&b"hi"[..]));
        assert_eq!(decode_base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64("*"), None);
    }
}
