//! The one error type of this crate.
//!
//! Every variant names the rule that failed and carries what a person needs to act on it. No
//! variant ever carries secret key material or the content of a signed payload.

use crate::Algorithm;

/// Everything that can go wrong while handling keys, JWS and DIDs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- algorithms -------------------------------------------------------------------------
    /// The JWS header says `alg: none`: an unsigned token is never accepted (RFC 8725 §3.1).
    #[error("alg \"none\" is refused: an unsigned JWS is never accepted")]
    AlgNone,
    /// An HMAC algorithm (`HS256` …) was named. A shared-secret MAC cannot prove who issued
    /// a token, and accepting it opens the "public key as HMAC secret" attack (RFC 8725 §2.1).
    #[error("HMAC algorithm {alg:?} is refused: only asymmetric signatures (EdDSA, ES256) are accepted")]
    HmacAlgorithm {
        /// The algorithm named in the header.
        alg: String,
    },
    /// An algorithm this library does not implement.
    #[error("unsupported JWS algorithm {alg:?}: supported are EdDSA and ES256")]
    UnsupportedAlgorithm {
        /// The algorithm named in the header or requested by the caller.
        alg: String,
    },
    /// The algorithm in the JWS header is not the one the verification key is for.
    #[error("algorithm mismatch: the token says {header_alg} but the key is for {key_alg}")]
    AlgorithmMismatch {
        /// What the JWS header says.
        header_alg: String,
        /// What the key is for.
        key_alg: Algorithm,
    },

    // ---- keys and JWK -----------------------------------------------------------------------
    /// A JWK could not be used: a member is missing, has the wrong type, or has the wrong length.
    #[error("invalid JWK: {reason}")]
    InvalidJwk {
        /// Which rule the JWK broke.
        reason: &'static str,
    },
    /// A JWK names a key type or curve this library does not support.
    #[error("unsupported key type: kty {kty:?}, crv {crv:?} (supported: OKP/Ed25519, OKP/X25519, EC/P-256)")]
    UnsupportedKeyType {
        /// The `kty` member.
        kty: String,
        /// The `crv` member, if any.
        crv: Option<String>,
    },
    /// The bytes do not encode a valid public key (for example a point not on the curve).
    #[error("invalid {key_type} public key: {reason}")]
    InvalidPublicKey {
        /// Which kind of key was expected.
        key_type: &'static str,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The private key is malformed or does not match the public key given with it.
    #[error("invalid private key: {reason}")]
    InvalidPrivateKey {
        /// Why it was refused.
        reason: &'static str,
    },
    /// A private JWK (with `d`) was given where only a public key is allowed.
    #[error("a private key (JWK member \"d\") was given where only a public key is allowed")]
    UnexpectedPrivateKey,
    /// A key that cannot sign (X25519) was used where a signing key was needed.
    #[error("{key_type} keys are for key agreement and cannot verify signatures")]
    NotASignatureKey {
        /// The kind of key.
        key_type: &'static str,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    RandomnessUnavailable,
    /// An external signer (HSM, secure enclave) failed to produce a signature.
    #[error("the signer failed: {0}")]
    Signer(#[source] Box<dyn std::error::Error + Send + Sync>),

    // ---- JWS ----------------------------------------------------------------------------------
    /// The compact JWS does not have three dot-separated base64url parts.
    #[error("malformed JWS: {reason}")]
    MalformedJws {
        /// What is wrong with its structure.
        reason: &'static str,
    },
    /// A part of the JWS is not valid base64url (without padding).
    #[error("the JWS {part} is not valid base64url")]
    InvalidBase64 {
        /// Which part: "header", "payload" or "signature".
        part: &'static str,
    },
    /// The JWS header is not a JSON object or a member has the wrong type.
    #[error("invalid JWS header: {reason}")]
    InvalidHeader {
        /// What is wrong.
        reason: String,
    },
    /// The JWS lists a critical header parameter this library does not understand
    /// (RFC 7515 §4.1.11: such a JWS must be rejected).
    #[error("unknown critical header parameter {name:?}: the JWS must be rejected (RFC 7515 §4.1.11)")]
    UnknownCriticalHeader {
        /// The parameter named in `crit`.
        name: String,
    },
    /// `b64: false` (RFC 7797 unencoded payload) is not supported: it changes what is signed.
    #[error("unencoded payloads (\"b64\": false, RFC 7797) are refused")]
    UnencodedPayload,
    /// The signature does not verify with the given key.
    #[error("the signature does not verify with the given key")]
    InvalidSignature,
    /// The input is larger than this library accepts.
    #[error("{what} is {len} bytes, more than the limit of {limit}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// JSON from outside was refused by the strict parser ([`crate::strict_json`]): a member
    /// name twice in one object, an integer beyond 64 bits, or nesting too deep.
    #[error(transparent)]
    Json(#[from] crate::strict_json::Error),
    /// The JWS payload is not the JSON the caller expected.
    #[error("the JWS payload is not valid JSON: {0}")]
    InvalidPayload(#[source] serde_json::Error),

    // ---- DIDs ---------------------------------------------------------------------------------
    /// The string is not a DID or DID URL (W3C DID Core §3.1).
    #[error("invalid DID {did:?}: {reason}")]
    InvalidDid {
        /// The offending input (a DID is a public identifier, never a secret).
        did: String,
        /// Which syntax rule it broke.
        reason: &'static str,
    },
    /// The DID method is not one this library resolves.
    #[error("unsupported DID method {method:?}: supported are key, jwk and web")]
    UnsupportedDidMethod {
        /// The method name.
        method: String,
    },
    /// A did:key names a multicodec key type this library does not support.
    #[error("unsupported did:key key type {codec} (supported: ed25519-pub, p256-pub, x25519-pub)")]
    UnsupportedMulticodec {
        /// The multicodec name or number.
        codec: String,
    },
    /// The DID document could not be obtained.
    #[error("could not fetch the DID document from {url}: {reason}")]
    Fetch {
        /// Where it was fetched from.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The host of a URL to fetch resolves to an internal address (loopback, private,
    /// link-local, …), so nothing was sent ([`crate::net`]). The address is not given back.
    #[error("could not fetch {url}: the host resolves to a {class} address, which is never fetched")]
    ForbiddenAddress {
        /// The URL (as named by the DID or credential, user information removed).
        url: String,
        /// Which kind of address.
        class: crate::net::AddressClass,
    },
    /// A URL was to be fetched, but this build has no HTTP client: `schooltas-did` was
    /// compiled without its cargo feature `https`. Nothing was resolved or sent.
    #[error(
        "could not fetch {url}: this build has no HTTPS client (schooltas-did was compiled without its cargo \
         feature \"https\"; enable it to resolve did:web)"
    )]
    HttpsNotBuilt {
        /// The URL that would have been fetched (user information removed).
        url: String,
    },
    /// The DID document is malformed or does not belong to the DID.
    #[error("invalid DID document for {did}: {reason}")]
    InvalidDidDocument {
        /// The DID that was resolved.
        did: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No verification method of the DID matches the DID URL, relationship and algorithm.
    #[error("no usable verification method for {did_url}: {reason}")]
    VerificationMethodNotFound {
        /// The DID URL that was dereferenced.
        did_url: String,
        /// Why no key was found.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
