//! The one error type of the WebAssembly binding, and its stable code: the one place where a
//! Rust refusal becomes what JavaScript sees.
//!
//! A JS caller gets an `Error` whose `code` is the name of the Rust variant that refused
//! (`"NonceMismatch"`, `"UnreferencedDisclosure"`, …). A refusal that the core crates wrap is
//! named through its wrapper, so that the code says which layer refused: a bad issuer signature
//! is `"Did.InvalidSignature"` (`schooltas_sd_jwt::Error::Did(schooltas_did::Error::InvalidSignature)`),
//! a revoked credential `"StatusList.Revoked"`. The message is the Rust error's `Display`, which
//! the core crates keep free of claim values, keys and tokens.

/// Everything the WebAssembly binding refuses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An SD-JWT refusal (RFC 9901, SD-JWT VC): the presentation or the held credential.
    #[error(transparent)]
    SdJwt(#[from] schooltas_sd_jwt::Error),
    /// A Token Status List refusal: the token, or the credential's entry in it.
    #[error(transparent)]
    StatusList(#[from] schooltas_status_list::Error),
    /// A key, JWK or JWS refusal outside an SD-JWT (the holder's key, a caller's issuer key).
    #[error(transparent)]
    Did(#[from] schooltas_did::Error),
    /// An option is missing or has the wrong type. Names the option, never its value.
    #[error("option {name}: {reason}")]
    InvalidOption {
        /// The option's name as JavaScript spells it (`audience`, `holderKey`, …).
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The stable code JavaScript sees in `error.code`: the Rust variant's name, through the
    /// wrappers that say which layer refused (`Did.`, `StatusList.`).
    ///
    /// ```
    /// use schooltas_wasm::Error;
    /// let refusal = Error::SdJwt(schooltas_sd_jwt::Error::NonceMismatch);
    /// assert_eq!(refusal.code(), "NonceMismatch");
    /// let bad_signature = Error::SdJwt(schooltas_sd_jwt::Error::Did(schooltas_did::Error::InvalidSignature));
    /// assert_eq!(bad_signature.code(), "Did.InvalidSignature");
    /// ```
    pub fn code(&self) -> String {
        match self {
            Error::SdJwt(error) => sd_jwt_code(error),
            Error::StatusList(error) => format!("StatusList.{}", status_list_code(error)),
            Error::Did(error) => format!("Did.{}", variant_name(error)),
            Error::InvalidOption { .. } => "InvalidOption".to_owned(),
        }
    }
}

/// The code of an SD-JWT refusal, as [`Error::code`] names it.
pub fn sd_jwt_code(error: &schooltas_sd_jwt::Error) -> String {
    match error {
        schooltas_sd_jwt::Error::Did(did) => format!("Did.{}", variant_name(did)),
        schooltas_sd_jwt::Error::StatusList(status) => format!("StatusList.{}", status_list_code(status)),
        other => variant_name(other),
    }
}

/// A status-list refusal's name: its key and JWS problems are `Did.…` below it, as the SD-JWT
/// crate's conversion files them.
fn status_list_code(error: &schooltas_status_list::Error) -> String {
    match error {
        schooltas_status_list::Error::Did(did) => format!("Did.{}", variant_name(did)),
        other => variant_name(other),
    }
}

/// The variant's name: the identifier its derived `Debug` starts with. Only that identifier is
/// kept — the fields after it never leave this function — so every variant, present and future,
/// has a code without a second list of variants to keep in step with the enums.
fn variant_name(error: &impl std::fmt::Debug) -> String {
    let mut debug = format!("{error:?}");
    let end = debug.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(debug.len());
    debug.truncate(end);
    debug
}
