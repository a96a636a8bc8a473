//! The one error type of this crate.
//!
//! Every variant names the rule that failed. No variant carries a claim value: a child's data
//! must never reach a log or telemetry through an error message. Digests, claim *names*, paths,
//! numbers and URIs are fine.

/// Everything that can go wrong while issuing, presenting or verifying an SD-JWT.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key, JWS or DID problem from `schooltas-did` (bad signature, refused algorithm, …).
    #[error(transparent)]
    Did(#[from] schooltas_did::Error),

    /// The credential's `status` claim is not a usable Token Status List reference
    /// ([`VerifiedSdJwt::status_reference`](crate::VerifiedSdJwt::status_reference)).
    #[error(transparent)]
    StatusList(schooltas_status_list::Error),

    /// The presentation is not `<issuer-jwt>~<disclosure>~…~[<kb-jwt>]` (RFC 9901 §4).
    #[error("malformed SD-JWT: {reason}")]
    MalformedSdJwt {
        /// What is wrong with its structure.
        reason: &'static str,
    },
    /// The input exceeds a hard limit (size, number of disclosures, nesting depth).
    #[error("SD-JWT limit exceeded: {what} is {actual}, the limit is {limit}")]
    LimitExceeded {
        /// Which limit.
        what: &'static str,
        /// The value found.
        actual: usize,
        /// The limit.
        limit: usize,
    },
    /// The issuer-signed JWT's `typ` is not the one expected (RFC 9901 §9.11, SD-JWT VC §3.2.1).
    #[error("wrong typ {}: expected {expected}", found.as_deref().map_or_else(|| "(none)".to_owned(), |t| format!("{t:?}")))]
    WrongTyp {
        /// What the header says (None when absent).
        found: Option<String>,
        /// What was expected.
        expected: String,
    },
    /// The issuer-signed JWT payload is not a JSON object or a registered claim has the wrong type.
    #[error("invalid SD-JWT payload: {reason}")]
    InvalidPayload {
        /// What is wrong.
        reason: String,
    },
    /// `_sd_alg` names a hash algorithm this library does not support (RFC 9901 §4.1.1).
    #[error("unsupported _sd_alg {alg:?}: only sha-256 is supported")]
    UnsupportedHashAlgorithm {
        /// The named algorithm.
        alg: String,
    },
    /// A disclosure is not base64url of a JSON array `[salt, name, value]` or `[salt, value]`.
    #[error("malformed disclosure {digest}: {reason}")]
    MalformedDisclosure {
        /// The disclosure's digest (names it without revealing its content).
        digest: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A disclosure claims a reserved name (`_sd` or `...`) (RFC 9901 §7.1 step 3.c.ii.2).
    #[error("disclosure {digest} uses the reserved claim name {name:?}")]
    ReservedClaimName {
        /// The disclosure's digest.
        digest: String,
        /// The reserved name.
        name: String,
    },
    /// The same disclosure was presented twice (RFC 9901 §7.1 step 5).
    #[error("disclosure {digest} is presented more than once")]
    DuplicateDisclosure {
        /// Its digest.
        digest: String,
    },
    /// A digest appears more than once in the issuer-signed payload or in disclosures
    /// (RFC 9901 §7.1 step 4).
    #[error("digest {digest} appears more than once in the SD-JWT")]
    DuplicateDigest {
        /// The digest.
        digest: String,
    },
    /// A presented disclosure is referenced by no digest (RFC 9901 §7.1 step 5).
    #[error("disclosure {digest} is not referenced by any digest in the SD-JWT")]
    UnreferencedDisclosure {
        /// Its digest.
        digest: String,
    },
    /// A disclosed claim name already exists at that place (RFC 9901 §7.1 step 3.c.ii.3).
    #[error("disclosure {digest} would overwrite the existing claim {name:?}")]
    ClaimCollision {
        /// The disclosure's digest.
        digest: String,
        /// The claim name.
        name: String,
    },
    /// An object-property disclosure sits where an array element belongs, or the reverse.
    #[error("disclosure {digest} has the wrong shape for where it is referenced: {reason}")]
    DisclosureKindMismatch {
        /// The disclosure's digest.
        digest: String,
        /// Which shape was expected.
        reason: &'static str,
    },
    /// The credential is expired (`exp` + skew ≤ now).
    #[error("expired: exp {exp} is before now {now}")]
    Expired {
        /// The `exp` claim.
        exp: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// The credential is not valid yet (`nbf` − skew > now).
    #[error("not yet valid: nbf {nbf} is after now {now}")]
    NotYetValid {
        /// The `nbf` claim.
        nbf: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// The credential was issued in the future (`iat` − skew > now).
    #[error("issued in the future: iat {iat} is after now {now}")]
    IssuedInFuture {
        /// The `iat` claim.
        iat: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// Key binding was required but the presentation has no KB-JWT.
    #[error("key binding required but the presentation has no key-binding JWT")]
    MissingKeyBinding,

    /// The issuer's key could not be found from the credential's `iss` DID and `kid`.
    #[error("cannot find the issuer's key: {reason}")]
    IssuerKey {
        /// Why.
        reason: &'static str,
    },
    /// A KB-JWT was present but the credential has no `cnf` key to check it with.
    #[error("the credential has no holder key (cnf) to check key binding against")]
    MissingHolderKey,
    /// The `cnf` claim is not a usable holder key.
    #[error("invalid cnf claim: {reason}")]
    InvalidHolderKey {
        /// What is wrong.
        reason: String,
    },
    /// The KB-JWT's signature does not verify with the credential's holder key (`cnf`), or its
    /// algorithm is refused or does not fit that key (RFC 9901 §7.3 step 5). Kept apart from
    /// [`Error::Did`], which a bad *issuer* signature gives, so a verifier can tell a
    /// presentation not made by the holder from a credential not made by the issuer.
    #[error("the key-binding JWT's signature does not verify with the credential's holder key (cnf): {source}")]
    KeyBindingSignature {
        /// Why the signature was refused (bad signature, refused or mismatched algorithm).
        source: schooltas_did::Error,
    },
    /// The KB-JWT is malformed or misses a claim (RFC 9901 §4.3).
    #[error("invalid key-binding JWT: {reason}")]
    InvalidKeyBinding {
        /// What is wrong.
        reason: &'static str,
    },
    /// `sd_hash` does not match the presented SD-JWT (RFC 9901 §7.3 step 6).
    #[error("key-binding JWT sd_hash does not match the presented SD-JWT")]
    SdHashMismatch,
    /// The KB-JWT `nonce` is not the one the verifier issued.
    #[error("key-binding JWT nonce does not match the expected nonce")]
    NonceMismatch,
    /// The KB-JWT `aud` is not this verifier.
    #[error("key-binding JWT aud {found:?} is not the expected audience {expected:?}")]
    AudienceMismatch {
        /// The audience in the KB-JWT.
        found: String,
        /// The expected audience.
        expected: String,
    },
    /// The KB-JWT `iat` is outside the accepted window.
    #[error("key-binding JWT iat {iat} is outside the accepted window [{earliest}, {latest}]")]
    KeyBindingStale {
        /// The KB-JWT `iat`.
        iat: i64,
        /// The earliest accepted.
        earliest: i64,
        /// The latest accepted.
        latest: i64,
    },
    /// A claim path cannot be used (empty, wrong element type, or not present).
    #[error("invalid claim path {path}: {reason}")]
    InvalidClaimPath {
        /// The path, as JSON.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A status-list error; its key and JWS problems are kept as [`Error::Did`].
impl From<schooltas_status_list::Error> for Error {
    fn from(error: schooltas_status_list::Error) -> Self {
        match error {
            schooltas_status_list::Error::Did(did) => Error::Did(did),
            other => Error::StatusList(other),
        }
    }
}

/// A strict-JSON refusal (duplicate member name, integer beyond 64 bits, nesting too deep)
/// is a `schooltas-did` error, so that it has one place whichever layer parsed the JSON:
/// match it as `Error::Did(schooltas_did::Error::Json(..))`.
impl From<schooltas_did::strict_json::Error> for Error {
    fn from(error: schooltas_did::strict_json::Error) -> Self {
        Error::Did(schooltas_did::Error::Json(error))
    }
}
