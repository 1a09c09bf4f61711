//! Two-factor login with TOTP (RFC 6238, the `totp-rs` crate): secrets, codes, recovery codes,
//! the QR code and the short-lived second-step token (docs/data-protection.md, "Two-factor
//! login"; docs/api.md).
//!
//! - The shared secret (20 random bytes, SHA-1, 6 digits, 30 s steps: what every authenticator
//!   app understands) is stored sealed: XOR with a BLAKE2b keystream derived from the server's
//!   secret key, the user id and a random nonce, plus a BLAKE2b tag over all of it. A copy of
//!   the database alone reveals no secret; a changed server key makes enrolments unreadable
//!   (the users enrol again).
//! - Codes are checked with one step of clock skew either way; the accepted step is stored and
//!   a step is accepted once (`Store::accept_totp_step`).
//! - Recovery codes: 10 random codes of 12 base-32 characters (60 bits), shown once, stored as
//!   keyed BLAKE2b hashes, each usable once.
//! - After the password step, a user with a second factor gets a signed `mfa` token (5 minutes)
//!   instead of the session tokens; the second step presents it with a code.

use blake2::{Blake2b512, Digest};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use totp_rs::{Builder, Secret, Totp};

use crate::error::ApiError;
use crate::state::AppState;

/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "Praxi";
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// How long the second-step token lives.
pub const MFA_TOKEN_MINUTES: i64 = 5;
/// The token type of the second-step token.
const MFA_TOKEN_TYPE: &str = "mfa";

/// A fresh 160-bit secret (RFC 4226's recommended length).
pub fn new_secret() -> Vec<u8> {
    let mut secret = [0_u8; 20];
    rand::rng().fill(&mut secret);
    secret.to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| {
            text.get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

/// BLAKE2b over a label, the length-prefixed server key and the parts.
fn keyed(secret_key: &[u8], label: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut hasher = Blake2b512::new()
        .chain_update(label)
        .chain_update((secret_key.len() as u64).to_be_bytes())
        .chain_update(secret_key);
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().to_vec()
}

/// Seals a TOTP secret for storage: `v1.<nonce>.<ciphertext>.<tag>` (hex).
pub fn seal(secret_key: &[u8], user_id: i64, secret: &[u8]) -> String {
    let mut nonce = [0_u8; 16];
    rand::rng().fill(&mut nonce);
    let user = user_id.to_be_bytes();
    let stream = keyed(secret_key, b"praxi-totp-seal\0", &[&user, &nonce]);
    let sealed: Vec<u8> = secret
        .iter()
        .zip(stream.iter().cycle())
        .map(|(byte, key)| byte ^ key)
        .collect();
    let tag = keyed(secret_key, b"praxi-totp-tag\0", &[&user, &nonce, &sealed]);
    format!(
        "v1.{}.{}.{}",
        hex(&nonce),
        hex(&sealed),
        hex(tag.get(..16).unwrap_or(&tag))
    )
}

/// Opens a sealed secret; `None` when it was sealed with another key or for another user.
pub fn unseal(secret_key: &[u8], user_id: i64, sealed: &str) -> Option<Vec<u8>> {
    let mut parts = sealed.split('.');
    if parts.next() != Some("v1") {
        return None;
    }
    let nonce = unhex(parts.next()?)?;
    let ciphertext = unhex(parts.next()?)?;
    let tag = unhex(parts.next()?)?;
    if ciphertext.len() > 64 {
        return None;
    }
    let user = user_id.to_be_bytes();
    let expected = keyed(
        secret_key,
        b"praxi-totp-tag\0",
        &[&user, &nonce, &ciphertext],
    );
    if !crate::web::session::constant_time_eq(&tag, expected.get(..16)?) {
        return None;
    }
    let stream = keyed(secret_key, b"praxi-totp-seal\0", &[&user, &nonce]);
    Some(
        ciphertext
            .iter()
            .zip(stream.iter())
            .map(|(byte, key)| byte ^ key)
            .collect(),
    )
}

/// The TOTP generator of a secret for an account (`:` is not allowed in labels).
fn totp(secret: &[u8], account: &str) -> Result<Totp, ApiError> {
    Builder::new()
        .with_secret(secret.to_vec())
        .with_account_name(account.replace(':', "_"))
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|error| ApiError::internal(format!("totp: {error:?}")))
}

/// What an enrolment shows the user: the secret in base 32 (to type in), the `otpauth://` URI
/// and that URI as an SVG QR code.
#[derive(Debug, Clone)]
pub struct EnrolmentView {
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// Builds the enrolment view of a secret.
pub fn enrolment_view(secret: &[u8], account: &str) -> Result<EnrolmentView, ApiError> {
    let generator = totp(secret, account)?;
    let otpauth_uri = generator
        .to_url()
        .map_err(|error| ApiError::internal(format!("totp url: {error:?}")))?;
    Ok(EnrolmentView {
        secret_base32: Secret::from(secret.to_vec()).to_base32(),
        qr_svg: qr_svg(&otpauth_uri)?,
        otpauth_uri,
    })
}

/// An SVG QR code (no XML prolog, so it can be inlined into a page).
pub fn qr_svg(text: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(ApiError::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    Ok(match svg.find("<svg") {
        Some(start) => svg.get(start..).unwrap_or(&svg).to_owned(),
        None => svg,
    })
}

/// The time step a code is valid for at `now` (± one step), if any.
pub fn check_code(secret: &[u8], code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let generator = totp(secret, "x").ok()?;
    let time = u64::try_from(now.timestamp()).ok()?;
    generator
        .check(&code, time)
        .and_then(|step| i64::try_from(step).ok())
}

/// The code of a secret at `now`.
pub fn current_code(secret: &[u8], now: DateTime<Utc>) -> Option<String> {
    let generator = totp(secret, "x").ok()?;
    let time = u64::try_from(now.timestamp()).ok()?;
    Some(generator.generate(time).to_string())
}

/// The code of a base-32 secret (as the enrolment shows it) at `now`: what an authenticator
/// app would display. For tests and tools.
pub fn code_for_base32(secret_base32: &str, now: DateTime<Utc>) -> Option<String> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    current_code(secret.as_ref(), now)
}

/// The alphabet of recovery codes (Crockford-like base 32: no I, L, O, U).
const RECOVERY_ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// New recovery codes, formatted `xxxx-xxxx-xxxx`.
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: Vec<char> = (0..12)
                .map(|_| {
                    let idx = rng.random_range(0..RECOVERY_ALPHABET.len());
                    char::from(RECOVERY_ALPHABET.get(idx).copied().unwrap_or(b'0'))
                })
                .collect();
            chars
                .chunks(4)
                .map(|chunk| chunk.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// The stored form of a recovery code: a keyed hash of the normalised code (case, dashes and
/// spaces do not matter).
pub fn recovery_hash(secret_key: &[u8], user_id: i64, code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let digest = keyed(
        secret_key,
        b"praxi-recovery-code\0",
        &[&user_id.to_be_bytes(), normal.as_bytes()],
    );
    hex(digest.get(..32).unwrap_or(&digest))
}

/// Claims of the second-step token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MfaClaims {
    pub token_type: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub user_id: String,
    /// The user's token version: a password reset or deactivation voids the token.
    pub ver: i32,
    /// `true` when the user must enrol first (the role requires a second factor).
    #[serde(default)]
    pub enrol: bool,
}

/// Issues a second-step token for a user who passed the password step.
pub fn issue_mfa_token(
    state: &AppState,
    user_id: i64,
    token_version: i32,
    enrol: bool,
) -> Result<String, ApiError> {
    let now = state.now();
    let claims = MfaClaims {
        token_type: MFA_TOKEN_TYPE.to_owned(),
        exp: (now + chrono::Duration::minutes(MFA_TOKEN_MINUTES)).timestamp(),
        iat: now.timestamp(),
        jti: crate::auth::random_id(),
        user_id: user_id.to_string(),
        ver: token_version,
        enrol,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&state.config.secret_key),
    )
    .map_err(ApiError::internal)
}

/// Verifies a second-step token (signature, type, expiry); the user id and claims.
pub fn decode_mfa_token(state: &AppState, token: &str) -> Option<MfaClaims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<MfaClaims>(
        token,
        &DecodingKey::from_secret(&state.config.secret_key),
        &validation,
    )
    .ok()?
    .claims;
    (claims.token_type == MFA_TOKEN_TYPE && claims.exp > state.now().timestamp()).then_some(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_user() {
        let secret = new_secret();
        let sealed = seal(b"key", 7, &secret);
        assert!(!sealed.contains(&hex(&secret)));
        assert_eq!(unseal(b"key", 7, &sealed), Some(secret.clone()));
        assert_eq!(unseal(b"other", 7, &sealed), None);
        assert_eq!(unseal(b"key", 8, &sealed), None);
        assert_eq!(unseal(b"key", 7, "v1.zz"), None);
    }

    #[test]
    fn codes_are_valid_for_their_step_and_one_step_of_skew() {
        let secret = new_secret();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let code = current_code(&secret, now).unwrap_or_default();
        assert_eq!(check_code(&secret, &code, now), Some(60_000_000));
        assert!(check_code(&secret, &code, now + chrono::Duration::seconds(30)).is_some());
        assert_eq!(
            check_code(&secret, &code, now + chrono::Duration::seconds(90)),
            None
        );
        assert_eq!(check_code(&secret, "abc", now), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_regardless_of_format() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(codes.first().map(String::len), Some(14));
        let first = codes.first().cloned().unwrap_or_default();
        assert_eq!(
            recovery_hash(b"k", 1, &first),
            recovery_hash(b"k", 1, &first.to_uppercase().replace('-', " "))
        );
        assert_ne!(
            recovery_hash(b"k", 1, &first),
            recovery_hash(b"k", 2, &first)
        );
    }

    #[test]
    fn the_qr_code_is_inline_svg() {
        let svg = qr_svg("otpauth://totp/Praxi:x?secret=AAAA").unwrap_or_default();
        assert!(svg.starts_with("<svg"), "{svg}");
    }
}
