//! The one error type that crosses the boundary: a category per variant, each with a message a
//! person can act on (the wallet's own wording, which never carries claim values, keys, PINs or
//! tokens).

use schooltas_wallet::Error as WalletLibError;

/// Why a wallet call failed. Kotlin and Swift see a sealed class / enum, Python an exception
/// class per variant (`WalletError.WrongPassphrase`), each with its `message`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// The passphrase or platform key does not open the wallet.
    #[error("{message}")]
    WrongPassphrase {
        /// What to tell the person.
        message: String,
    },
    /// The wallet file is damaged, tampered with, rolled back, busy or not a wallet.
    #[error("{message}")]
    Storage {
        /// What to tell the person.
        message: String,
    },
    /// The issuer refused (a wrong PIN is `invalid_grant` here).
    #[error("{message}")]
    IssuerRefused {
        /// The OpenID4VCI error code (`invalid_grant`, `invalid_proof`, …).
        code: String,
        /// What to tell the person.
        message: String,
    },
    /// The verifier's response endpoint refused the answer (a replay, a failed check).
    #[error("{message}")]
    VerifierRefused {
        /// The OpenID4VP error code.
        code: String,
        /// What to tell the person.
        message: String,
    },
    /// The verifier is not registered in the trust list, or its certificate is not trusted.
    #[error("{message}")]
    UntrustedVerifier {
        /// What to tell the person.
        message: String,
    },
    /// The request cannot be answered as asked (unknown or answered request, a selection that
    /// does not answer it, a purpose or legal basis that does not hold).
    #[error("{message}")]
    Request {
        /// What to tell the person.
        message: String,
    },
    /// A parent's approval cannot be given or used (not this child's guardian, …).
    #[error("{message}")]
    Guardian {
        /// What to tell the person.
        message: String,
    },
    /// A consent cannot be found, withdrawn or confirmed here.
    #[error("{message}")]
    Consent {
        /// What to tell the person.
        message: String,
    },
    /// The hand-over between the child's and the parent's phone failed (bad link, unreadable
    /// box, the relay refused).
    #[error("{message}")]
    HandOver {
        /// What to tell the person.
        message: String,
    },
    /// The holder key store failed or has no usable key (the secure element refused, the user
    /// cancelled, no algorithm in common with the issuer).
    #[error("{message}")]
    Signer {
        /// What happened (the key store's own message for a failure it reported).
        message: String,
    },
    /// A network fetch failed (unreachable, TLS, too large, an unexpected answer).
    #[error("{message}")]
    Network {
        /// What to tell the person.
        message: String,
    },
    /// A credential, request object or message did not verify.
    #[error("{message}")]
    Credential {
        /// What to tell the person.
        message: String,
    },
    /// A value given to the call is malformed.
    #[error("{message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
    },
    /// A foreign callback failed in a way it did not declare (a bug in the app's key store).
    #[error("{message}")]
    Internal {
        /// What happened.
        message: String,
    },
}

impl WalletError {
    /// An invalid-input error with `message`.
    pub(crate) fn input(message: impl Into<String>) -> Self {
        WalletError::InvalidInput { message: message.into() }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for WalletError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        WalletError::Internal { message: format!("the app's key store failed unexpectedly: {}", error.reason) }
    }
}

/// Whether `error` or one it wraps is a signer failure (`schooltas_did::Error::Signer`), which
/// arrives through several layers (a key proof through OpenID4VCI, a KB-JWT through SD-JWT).
fn signer_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if matches!(e.downcast_ref::<schooltas_did::Error>(), Some(schooltas_did::Error::Signer(_))) {
            return true;
        }
        current = e.source();
    }
    false
}

/// Whether `error` or one it wraps is a failed network fetch.
fn network_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if matches!(e.downcast_ref::<schooltas_did::Error>(), Some(schooltas_did::Error::Fetch { .. })) {
            return true;
        }
        current = e.source();
    }
    false
}

impl From<WalletLibError> for WalletError {
    fn from(error: WalletLibError) -> Self {
        use WalletLibError as E;
        let message = error.to_string();
        match &error {
            E::WrongPassphrase => WalletError::WrongPassphrase { message },
            E::Corrupted { .. }
            | E::Storage { .. }
            | E::Tampered { .. }
            | E::RolledBack { .. }
            | E::Busy
            | E::KdfOutOfBounds { .. }
            | E::Anchor { .. }
            | E::NotAWallet { .. }
            | E::InvalidExport { .. } => WalletError::Storage { message },
            E::IssuerRefused { error: code, .. } => WalletError::IssuerRefused { code: code.clone(), message },
            E::VerifierRefused { error: code, .. } => WalletError::VerifierRefused { code: code.clone(), message },
            E::VerifierNotRegistered { .. }
            | E::UntrustedVerifierCertificate(_)
            | E::VerifierCertificateNameMismatch => WalletError::UntrustedVerifier { message },
            E::MissingPurpose
            | E::UnknownRequest { .. }
            | E::RequestAlreadyAnswered { .. }
            | E::SelectionIncomplete { .. }
            | E::LegalBasisMismatch { .. }
            | E::TransferWithoutEnrolment { .. } => WalletError::Request { message },
            E::NotGuardian { .. }
            | E::ParentViewEnded { .. }
            | E::GivenByParent
            | E::ChildLinkMissing { .. }
            | E::NotOneChild { .. }
            | E::WrongChild { .. } => WalletError::Guardian { message },
            E::UnknownConsent { .. } | E::AlreadyWithdrawn { .. } | E::NotReconfirmable { .. } => {
                WalletError::Consent { message }
            }
            E::BadHandOverLink { .. } | E::HandOverUnreadable { .. } | E::RelayRefused { .. } => {
                WalletError::HandOver { message }
            }
            E::NoHolderKeyAlgorithm { .. } | E::HolderKeyUnavailable { .. } => WalletError::Signer { message },
            E::InvalidInput { .. } | E::ClientIdMismatch => WalletError::InvalidInput { message },
            _ if signer_failure(&error) => WalletError::Signer { message },
            _ if network_failure(&error) => WalletError::Network { message },
            _ => WalletError::Credential { message },
        }
    }
}

impl From<schooltas_did::Error> for WalletError {
    fn from(error: schooltas_did::Error) -> Self {
        WalletLibError::Did(error).into()
    }
}

impl From<schooltas_school::Error> for WalletError {
    fn from(error: schooltas_school::Error) -> Self {
        WalletLibError::Credential(error).into()
    }
}
