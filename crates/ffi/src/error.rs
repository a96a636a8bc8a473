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

/// A failure of the app's key store, as it travels inside the wallet's errors (boxed in
/// [`schooltas_did::Error::Signer`]): the store's own error, or what the bindings found wrong
/// with its answer. Classified back into [`WalletError::Signer`] (or
/// [`WalletError::Internal`] for an undeclared failure of the app's code) at the boundary.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct StoreFailure(pub(crate) WalletError);

impl StoreFailure {
    /// `error` boxed as a signer failure.
    pub(crate) fn boxed(error: WalletError) -> schooltas_did::Error {
        schooltas_did::Error::Signer(Box::new(StoreFailure(error)))
    }
}

/// The `schooltas_did` error at the root of `error`, through the layers that wrap it
/// transparently (`thiserror`'s `transparent` hands `source()` past them, so walking the
/// source chain does not see it).
fn did_error(error: &WalletLibError) -> Option<&schooltas_did::Error> {
    use schooltas_school::Error as School;
    fn in_sd_jwt(error: &schooltas_sd_jwt::Error) -> Option<&schooltas_did::Error> {
        match error {
            schooltas_sd_jwt::Error::Did(did) => Some(did),
            _ => None,
        }
    }
    fn in_oid4vc(error: &schooltas_oid4vc::Error) -> Option<&schooltas_did::Error> {
        match error {
            schooltas_oid4vc::Error::Did(did) => Some(did),
            schooltas_oid4vc::Error::SdJwt(sd_jwt) => in_sd_jwt(sd_jwt),
            _ => None,
        }
    }
    match error {
        WalletLibError::Did(did) => Some(did),
        WalletLibError::Credential(School::Did(did)) => Some(did),
        WalletLibError::Credential(School::SdJwt(sd_jwt)) => in_sd_jwt(sd_jwt),
        WalletLibError::Credential(School::Oid4vc(oid4vc)) => in_oid4vc(oid4vc),
        _ => None,
    }
}

/// The key store's failure somewhere in `error`'s source chain.
fn store_failure<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a WalletError> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(StoreFailure(inner)) = e.downcast_ref::<StoreFailure>() {
            return Some(inner);
        }
        current = e.source();
    }
    None
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
            _ => match (store_failure(&error), did_error(&error)) {
                (Some(WalletError::Internal { .. }), _) => WalletError::Internal { message },
                (Some(_), _) | (_, Some(schooltas_did::Error::Signer(_))) => WalletError::Signer { message },
                (
                    _,
                    Some(
                        schooltas_did::Error::Fetch { .. }
                        | schooltas_did::Error::ForbiddenAddress { .. }
                        | schooltas_did::Error::HttpsNotBuilt { .. },
                    ),
                ) => WalletError::Network { message },
                _ => WalletError::Credential { message },
            },
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cancelled() -> schooltas_did::Error {
        StoreFailure::boxed(WalletError::Signer { message: "the user cancelled".into() })
    }

    #[test]
    fn the_wallets_own_categories_keep_their_code_and_message() {
        let wrong = WalletError::from(WalletLibError::WrongPassphrase);
        assert!(
            matches!(&wrong, WalletError::WrongPassphrase { message } if message == &WalletLibError::WrongPassphrase.to_string())
        );
        let refused = WalletError::from(WalletLibError::IssuerRefused {
            error: "invalid_grant".into(),
            description: Some("the PIN is wrong".into()),
        });
        assert!(
            matches!(&refused, WalletError::IssuerRefused { code, message } if code == "invalid_grant" && message.contains("the PIN is wrong")),
            "{refused:?}"
        );
        let consent = WalletError::from(WalletLibError::UnknownConsent { consent_id: "c-1".into() });
        assert!(matches!(consent, WalletError::Consent { .. }), "{consent:?}");
    }

    #[test]
    fn a_key_store_failure_is_a_signer_error_through_every_transparent_layer() {
        let wrapped = [
            WalletLibError::Did(cancelled()),
            WalletLibError::Credential(schooltas_school::Error::Did(cancelled())),
            WalletLibError::Credential(schooltas_school::Error::SdJwt(schooltas_sd_jwt::Error::Did(cancelled()))),
            WalletLibError::Credential(schooltas_school::Error::Oid4vc(schooltas_oid4vc::Error::SdJwt(
                schooltas_sd_jwt::Error::Did(cancelled()),
            ))),
        ];
        for error in wrapped {
            let crossed = WalletError::from(error);
            assert!(
                matches!(&crossed, WalletError::Signer { message } if message.contains("the user cancelled")),
                "{crossed:?}"
            );
        }
    }

    #[test]
    fn an_undeclared_failure_of_the_apps_store_is_internal() {
        let internal = StoreFailure::boxed(WalletError::Internal { message: "a Python exception".into() });
        let crossed = WalletError::from(WalletLibError::Did(internal));
        assert!(matches!(crossed, WalletError::Internal { .. }), "{crossed:?}");
    }

    #[test]
    fn the_wallets_own_signer_refusal_and_a_failed_fetch_are_classified() {
        let unverified = schooltas_did::Error::Signer("the key store's signature does not verify".into());
        assert!(matches!(WalletError::from(WalletLibError::Did(unverified)), WalletError::Signer { .. }));
        let fetch = schooltas_did::Error::Fetch { url: "https://localhost:1/x".into(), reason: "refused".into() };
        let crossed = WalletError::from(WalletLibError::Did(fetch));
        assert!(matches!(&crossed, WalletError::Network { message } if message.contains("refused")), "{crossed:?}");
        let other = WalletError::from(WalletLibError::Did(schooltas_did::Error::InvalidDidDocument {
            did: "did:web:x".into(),
            reason: "no key".into(),
        }));
        assert!(matches!(other, WalletError::Credential { .. }), "{other:?}");
    }
}
