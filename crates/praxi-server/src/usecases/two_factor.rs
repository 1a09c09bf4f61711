//! Two-factor login (TOTP): what the password step leads to, the second step, enrolment and
//! disabling. Shared by `/api/auth/…` and the web login and enrolment pages. The crypto lives
//! in `crate::two_factor`; the state in `praxi_store::two_factor`.

use praxi_store::audit::AuditEntry;
use praxi_store::users::UserRecord;

use crate::state::AppState;
use crate::two_factor::{self as tf, EnrolmentView};
use crate::usecases::Failure;

/// Why a two-factor action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TwoFactorRefusal {
    /// Enrolment started while a confirmed one exists.
    AlreadyEnabled,
    /// Confirming without a started enrolment.
    NoPendingEnrolment,
    /// Disabling, or a second step, without an enrolment.
    NotEnabled,
    /// The code (or recovery code) is wrong, expired or was used already.
    InvalidCode,
}

impl TwoFactorRefusal {
    /// The English API message.
    pub(crate) fn message(self) -> &'static str {
        match self {
            TwoFactorRefusal::AlreadyEnabled => {
                "Two-factor login is already enabled; disable it first."
            }
            TwoFactorRefusal::NoPendingEnrolment => "Start the enrolment first.",
            TwoFactorRefusal::NotEnabled => "Two-factor login is not enabled.",
            TwoFactorRefusal::InvalidCode => "Invalid or expired code.",
        }
    }

    /// The i18n key of the web message.
    pub(crate) fn message_key(self) -> &'static str {
        match self {
            TwoFactorRefusal::AlreadyEnabled => "mfa.already_enabled",
            TwoFactorRefusal::NoPendingEnrolment => "mfa.no_pending",
            TwoFactorRefusal::NotEnabled => "mfa.not_enabled",
            TwoFactorRefusal::InvalidCode => "mfa.invalid_code",
        }
    }
}

/// What follows a correct password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordStep {
    /// No second factor: the login is complete (users without TOTP, as before).
    Complete,
    /// The user has TOTP: a code (or recovery code) is needed.
    SecondFactor,
    /// The user's role requires a second factor and the user has none yet: enrol first.
    Enrol,
}

/// The user's two-factor state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TwoFactorStatus {
    pub(crate) enabled: bool,
    pub(crate) pending: bool,
    pub(crate) required: bool,
    pub(crate) recovery_codes_left: u64,
}

/// Whether the user's role requires a second factor.
pub(crate) async fn required_for(
    state: &AppState,
    user: &UserRecord,
) -> Result<bool, praxi_store::StoreError> {
    match &user.role {
        Some(role) => state.store.mfa_required_for_role(role.id).await,
        None => Ok(false),
    }
}

/// The user's two-factor state.
pub(crate) async fn status(
    state: &AppState,
    user: &UserRecord,
) -> Result<TwoFactorStatus, praxi_store::StoreError> {
    let enrolment = state.store.totp_enrolment(user.id).await?;
    let enabled = enrolment.as_ref().is_some_and(|e| e.enabled);
    Ok(TwoFactorStatus {
        enabled,
        pending: enrolment.as_ref().is_some_and(|e| !e.enabled),
        required: required_for(state, user).await?,
        recovery_codes_left: if enabled {
            state.store.unused_recovery_codes(user.id).await?
        } else {
            0
        },
    })
}

/// What a correct password of `user` leads to.
pub(crate) async fn after_password(
    state: &AppState,
    user: &UserRecord,
) -> Result<PasswordStep, praxi_store::StoreError> {
    let enrolment = state.store.totp_enrolment(user.id).await?;
    if enrolment.is_some_and(|e| e.enabled) {
        return Ok(PasswordStep::SecondFactor);
    }
    if required_for(state, user).await? {
        return Ok(PasswordStep::Enrol);
    }
    Ok(PasswordStep::Complete)
}

/// A second factor as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecondFactor {
    Code(String),
    RecoveryCode(String),
}

/// Checks a second factor of a user with an enabled enrolment; a good code is spent.
pub(crate) async fn verify(
    state: &AppState,
    user: &UserRecord,
    factor: &SecondFactor,
) -> Result<(), Failure<TwoFactorRefusal>> {
    let enrolment = state
        .store
        .totp_enrolment(user.id)
        .await?
        .filter(|e| e.enabled)
        .ok_or(Failure::Refused(TwoFactorRefusal::NotEnabled))?;
    let ok = match factor {
        SecondFactor::Code(code) => {
            let secret = tf::unseal(&state.config.secret_key, user.id, &enrolment.sealed_secret);
            match secret.and_then(|secret| tf::check_code(&secret, code, state.now())) {
                Some(step) => state.store.accept_totp_step(user.id, step).await?,
                None => false,
            }
        }
        SecondFactor::RecoveryCode(code) => {
            let hash = tf::recovery_hash(&state.config.secret_key, user.id, code);
            state
                .store
                .use_recovery_code(user.id, &hash, state.now())
                .await?
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Failure::Refused(TwoFactorRefusal::InvalidCode))
    }
}

/// Starts (or restarts) an enrolment: a new secret, shown once as text, URI and QR code.
pub(crate) async fn start(
    state: &AppState,
    user: &UserRecord,
) -> Result<EnrolmentView, Failure<TwoFactorRefusal>> {
    let secret = tf::new_secret();
    let view = tf::enrolment_view(&secret, &user.username)
        .map_err(|error| Failure::Store(praxi_store::StoreError::Db(error.to_string())))?;
    let sealed = tf::seal(&state.config.secret_key, user.id, &secret);
    if !state
        .store
        .start_totp_enrolment(user.id, &sealed, state.now())
        .await?
    {
        return Err(Failure::Refused(TwoFactorRefusal::AlreadyEnabled));
    }
    Ok(view)
}

/// The pending enrolment's view again (the web page after a wrong code shows the same QR).
pub(crate) async fn pending_view(
    state: &AppState,
    user: &UserRecord,
) -> Result<Option<EnrolmentView>, praxi_store::StoreError> {
    let Some(enrolment) = state
        .store
        .totp_enrolment(user.id)
        .await?
        .filter(|e| !e.enabled)
    else {
        return Ok(None);
    };
    Ok(
        tf::unseal(&state.config.secret_key, user.id, &enrolment.sealed_secret)
            .and_then(|secret| tf::enrolment_view(&secret, &user.username).ok()),
    )
}

/// Confirms the pending enrolment with a code; answers the recovery codes (shown once).
pub(crate) async fn confirm(
    state: &AppState,
    user: &UserRecord,
    code: &str,
    audit: AuditEntry,
) -> Result<Vec<String>, Failure<TwoFactorRefusal>> {
    let enrolment = state
        .store
        .totp_enrolment(user.id)
        .await?
        .filter(|e| !e.enabled)
        .ok_or(Failure::Refused(TwoFactorRefusal::NoPendingEnrolment))?;
    let step = tf::unseal(&state.config.secret_key, user.id, &enrolment.sealed_secret)
        .and_then(|secret| tf::check_code(&secret, code, state.now()))
        .ok_or(Failure::Refused(TwoFactorRefusal::InvalidCode))?;
    let codes = tf::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|code| tf::recovery_hash(&state.config.secret_key, user.id, code))
        .collect();
    if !state
        .store
        .confirm_totp_enrolment(user.id, step, &hashes, state.now(), &audit)
        .await?
    {
        return Err(Failure::Refused(TwoFactorRefusal::NoPendingEnrolment));
    }
    Ok(codes)
}

/// Disables two-factor login after a fresh code (or recovery code).
pub(crate) async fn disable(
    state: &AppState,
    user: &UserRecord,
    factor: &SecondFactor,
    audit: AuditEntry,
) -> Result<(), Failure<TwoFactorRefusal>> {
    verify(state, user, factor).await?;
    state.store.disable_totp(user.id, &audit).await?;
    Ok(())
}
