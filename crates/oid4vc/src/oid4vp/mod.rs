//! OpenID for Verifiable Presentations 1.0 (final, 2025) with DCQL, for SD-JWT VC
//! (`dc+sd-jwt`) — typed, validated and free of transport.
//!
//! - [`DcqlQuery`] (§6): the query, its validation rules, and a builder for verifiers;
//! - [`DcqlQuery::match_credentials`] (§6.4, §7): the wallet's choice of credentials and of the
//!   exact claims to disclose;
//! - [`DcqlQuery::check_response`]: the verifier's check that the answer fits the question,
//!   with extra disclosed claims reported apart from failures;
//! - [`AuthorizationRequest`] (§5) as a signed request object (JAR, RFC 9101) with the
//!   `decentralized_identifier:` client identifier prefix, [`UnverifiedRequestObject`] to
//!   verify one, and [`AuthorizationRequestUri`] for `openid4vp://` links;
//! - [`TransactionData`] (§8.4) and its `transaction_data_hashes`;
//! - [`AuthorizationResponse`] (§8.1) and its `direct_post` form body (§8.2);
//! - [`form`]: strict `application/x-www-form-urlencoded`;
//! - [`DcApiRequest`] (Appendix A): requests over the W3C Digital Credentials API (unsigned,
//!   signed, multi-signed), the calling [`Origin`], and `dc_api.jwt` responses.
//!
//! Only `response_type=vp_token` with `response_mode=direct_post` (or `dc_api` over the
//! Digital Credentials API) and signed requests (or unsigned ones over that API) are
//! supported. Members a profile adds to the request (OpenID4VP 1.0 §5 allows them) travel in
//! [`AuthorizationRequest::extensions`]; parameters it adds to the response in
//! [`AuthorizationResponse::parameters`]. This crate gives them no meaning.
//!
//! The whole exchange is walked through in the [crate documentation](crate).

mod check;
pub(crate) mod dc_api;
pub(crate) mod dcql;
mod encryption;
pub use crate::form;
mod matching;
mod request;
mod response;
mod transaction_data;

pub use check::{ExtraClaim, PresentedCredential, REGISTERED_CLAIMS, ResponseFailure, ResponseReport};
pub use dc_api::{
    DcApiProtocol, DcApiRequest, DcApiSignature, EXPECTED_ORIGINS, MAX_DC_API_REQUEST_LEN, ORIGIN_CLIENT_ID_PREFIX,
    Origin, PROTOCOL_MULTISIGNED, PROTOCOL_SIGNED, PROTOCOL_UNSIGNED, RESPONSE_MODE_DC_API, RESPONSE_MODE_DC_API_JWT,
    dc_api_response_kid, decrypt_dc_api_response,
};
pub use dcql::{
    ClaimValue, ClaimsQuery, CredentialMeta, CredentialQuery, CredentialSetQuery, DcqlQuery, DcqlQueryBuilder,
    MAX_DCQL_LEN, SD_JWT_VC_FORMAT, TRUSTED_AUTHORITY_AKI, TRUSTED_AUTHORITY_ETSI_TL,
    TRUSTED_AUTHORITY_OPENID_FEDERATION, TrustedAuthoritiesQuery, truncate,
};
pub use encryption::{
    DEFAULT_RESPONSE_ENC, ENC_VALUES_SUPPORTED, RESPONSE_MODE_DIRECT_POST_JWT, ResponseEncryption, decrypt_jwt_form,
    error_response_of, jwt_form_kid,
};
pub use matching::{CredentialMatch, DcqlMatch, QueryMatch, WalletCredential};
pub use request::{
    AuthorizationRequest, AuthorizationRequestUri, ClientId, DID_CLIENT_ID_PREFIX, Extensions, MAX_NONCE_LEN,
    MAX_REQUEST_OBJECT_LEN, MAX_REQUEST_URI_LEN, MIN_NONCE_LEN, REQUEST_OBJECT_TYP, RESPONSE_MODE_DIRECT_POST,
    RESPONSE_TYPE_VP_TOKEN, SELF_ISSUED_AUDIENCE, UnverifiedRequestObject, X509_HASH_PREFIX, X509_SAN_DNS_PREFIX,
    random_nonce, x509_hash,
};
pub use response::{AuthorizationResponse, MAX_RESPONSE_LEN};
pub use transaction_data::{
    DEFAULT_HASH_ALG, MAX_TRANSACTION_DATA_LEN, TransactionData, transaction_data_hash, transaction_data_hashes,
};

/// A malformed or refused OpenID4VP message or DCQL query.
///
/// Each variant names the rule that failed. None carries a claim value or a presentation:
/// identifiers, claim paths, types, URIs and positions only. JSON syntax errors keep only their
/// position, as serde's message may quote the offending text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Oid4vpError {
    /// JSON refused by the strict parser: a member name twice in one object, an integer
    /// beyond 64 bits, or nesting too deep ([`schooltas_did::strict_json`]).
    #[error(transparent)]
    StrictJson(#[from] schooltas_did::strict_json::Error),
    /// Input that is not JSON, or JSON of the wrong shape.
    #[error("malformed {what}: not JSON of the expected shape (at line {line}, column {column})")]
    MalformedJson {
        /// What was being read.
        what: &'static str,
        /// serde's line (0 when reading from a value).
        line: usize,
        /// serde's column.
        column: usize,
    },
    /// The input exceeds a size limit.
    #[error("{what} is {len} long, the limit is {limit}")]
    TooLarge {
        /// Which input.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The limit.
        limit: usize,
    },

    // ---- DCQL (§6) ----------------------------------------------------------------------------
    /// §6: `credentials` must be a non-empty array.
    #[error("a DCQL query asks for at least one credential")]
    EmptyCredentials,
    /// §6.1: a Credential Query id is a non-empty string of alphanumerics, `_` and `-`.
    #[error("invalid Credential Query id {id:?}: only alphanumerics, '_' and '-'")]
    InvalidCredentialId {
        /// The id.
        id: String,
    },
    /// §6.1: the same Credential Query id appears twice.
    #[error("the Credential Query id {id:?} appears more than once")]
    DuplicateCredentialId {
        /// The id.
        id: String,
    },
    /// A format other than `dc+sd-jwt`.
    #[error("Credential Query {credential_id:?} asks for format {format:?}: only dc+sd-jwt is supported")]
    UnsupportedFormat {
        /// The Credential Query.
        credential_id: String,
        /// The format asked for.
        format: String,
    },
    /// Appendix B.3.5: `meta.vct_values` is required, non-empty, of valid type identifiers.
    #[error("Credential Query {credential_id:?}: meta.vct_values must be a non-empty array of credential types")]
    MissingVctValues {
        /// The Credential Query.
        credential_id: String,
    },
    /// §6.1: `trusted_authorities` is a non-empty array when present, each entry with a `type`
    /// and a non-empty array of non-empty `values` (§6.1.1).
    #[error("Credential Query {credential_id:?}: trusted_authorities is empty, or an entry has no type or no values")]
    EmptyTrustedAuthorities {
        /// The Credential Query.
        credential_id: String,
    },
    /// §6.1: `claims` is a non-empty array when present.
    #[error("Credential Query {credential_id:?}: claims is empty")]
    EmptyClaims {
        /// The Credential Query.
        credential_id: String,
    },
    /// §6.4.1: `claim_sets` must not be present without `claims`.
    #[error("Credential Query {credential_id:?} has claim_sets but no claims")]
    ClaimSetsWithoutClaims {
        /// The Credential Query.
        credential_id: String,
    },
    /// §6.3: a claim id is a non-empty string of alphanumerics, `_` and `-`.
    #[error("Credential Query {credential_id:?}: invalid claim id {claim_id:?}")]
    InvalidClaimId {
        /// The Credential Query.
        credential_id: String,
        /// The claim id.
        claim_id: String,
    },
    /// §6.3: the same claim id appears twice in one `claims` array.
    #[error("Credential Query {credential_id:?}: claim id {claim_id:?} appears more than once")]
    DuplicateClaimId {
        /// The Credential Query.
        credential_id: String,
        /// The claim id.
        claim_id: String,
    },
    /// §6.3: with `claim_sets`, every claim needs an `id`.
    #[error("Credential Query {credential_id:?} has claim_sets, but the claim at {path} has no id")]
    ClaimWithoutId {
        /// The Credential Query.
        credential_id: String,
        /// The claim's path.
        path: String,
    },
    /// §6.1: the verifier must not point to the same claim more than once.
    #[error("Credential Query {credential_id:?} asks for the claim at {path} more than once")]
    DuplicateClaimPath {
        /// The Credential Query.
        credential_id: String,
        /// The path.
        path: String,
    },
    /// §6.3 / §7: `path` is not a non-empty array of strings, nulls and non-negative integers.
    #[error("Credential Query {credential_id:?}: invalid claims path {path}: {reason}")]
    InvalidClaimPath {
        /// The Credential Query.
        credential_id: String,
        /// The path as given (bounded).
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// §6.3: `values` is a non-empty array when present.
    #[error("Credential Query {credential_id:?}: values for {path} is empty")]
    EmptyValues {
        /// The Credential Query.
        credential_id: String,
        /// The claim's path.
        path: String,
    },
    /// §6.3: `values` holds only strings, integers and booleans.
    #[error("Credential Query {credential_id:?}: values for {path} must be an array of strings, integers or booleans")]
    InvalidClaimValue {
        /// The Credential Query.
        credential_id: String,
        /// The claim's path.
        path: String,
    },
    /// §6.1: `claim_sets` and each option in it are non-empty.
    #[error("Credential Query {credential_id:?}: claim_sets or one of its options is empty")]
    EmptyClaimSet {
        /// The Credential Query.
        credential_id: String,
    },
    /// §6.1: a `claim_sets` option names a claim id that is not in `claims`.
    #[error("Credential Query {credential_id:?}: claim_sets names the unknown claim id {claim_id:?}")]
    UnknownClaimId {
        /// The Credential Query.
        credential_id: String,
        /// The unknown id.
        claim_id: String,
    },
    /// §6: `credential_sets` is a non-empty array when present.
    #[error("credential_sets is empty")]
    EmptyCredentialSets,
    /// §6.2: `options` and each option in it are non-empty.
    #[error("credential set {set_index}: options or one of its options is empty")]
    EmptyCredentialSetOption {
        /// The set's position.
        set_index: usize,
    },
    /// §6.2 / §5.1: a credential set or transaction data names an unknown Credential Query.
    #[error("unknown Credential Query id {id:?}")]
    UnknownCredentialId {
        /// The id.
        id: String,
    },

    // ---- Authorization Request (§5) -----------------------------------------------------------
    /// Only `response_type=vp_token` is supported (§5.6).
    #[error("unsupported response_type {found:?}: only vp_token is supported")]
    UnsupportedResponseType {
        /// The value given.
        found: String,
    },
    /// Only `response_mode` `direct_post` (§8.2) and `direct_post.jwt` (§8.3) are supported.
    #[error("unsupported response_mode {found:?}: only direct_post and direct_post.jwt are supported")]
    UnsupportedResponseMode {
        /// The value given.
        found: String,
    },
    /// `client_id` is not `decentralized_identifier:<did>` (§5.9.3).
    #[error("invalid client_id: {reason}")]
    InvalidClientId {
        /// What is wrong.
        reason: &'static str,
    },
    /// A URL that must be https (and have a host, no user information, no fragment) is not.
    #[error("{what} must be an https URL: {uri:?}")]
    NotHttps {
        /// Which parameter.
        what: &'static str,
        /// The value (bounded).
        uri: String,
    },
    /// The nonce breaks the rule of [`AuthorizationRequest::validate`] (§5.2).
    #[error("invalid nonce: {reason}")]
    InvalidNonce {
        /// The rule.
        reason: &'static str,
    },
    /// `state` is not a string of 1 to 512 URL-safe characters (§5.2).
    #[error("invalid state: 1 to 512 ASCII URL-safe characters")]
    InvalidState,
    /// §8.3: the request asks for `direct_post.jwt` but `client_metadata.jwks` has no key
    /// for ECDH-ES on P-256 (`kty` EC, `crv` P-256, `use` enc); the wallet does not fall back
    /// to a plaintext response.
    #[error(
        "the request asks for an encrypted response (direct_post.jwt) but client_metadata.jwks has no usable \
         ECDH-ES P-256 key"
    )]
    NoUsableEncryptionKey,
    /// §8.3: none of `encrypted_response_enc_values_supported` is A128GCM or A256GCM.
    #[error("the request offers no supported response content encryption (A128GCM or A256GCM)")]
    NoSupportedResponseEncryption,
    /// `client_metadata` has a member of the wrong shape.
    #[error("invalid client_metadata: {reason}")]
    InvalidClientMetadata {
        /// What is wrong.
        reason: &'static str,
    },
    /// §8.3: a plaintext response (no `response` parameter, or parameters beside it) to a
    /// request that asked for an encrypted one.
    #[error("the response is not encrypted, but the request asked for direct_post.jwt")]
    UnencryptedResponse,
    /// The encrypted response does not decrypt or its JWE is malformed.
    #[error("the encrypted response is refused: {0}")]
    Encryption(#[from] schooltas_jwe::JweError),
    /// §8.2: `redirect_uri` must not be present with `direct_post`.
    #[error("redirect_uri must not be present with response_mode direct_post")]
    RedirectUriNotAllowed,
    /// Requests by `scope` are not supported; use `dcql_query`.
    #[error("scope is not supported: the request must carry a dcql_query")]
    ScopeNotSupported,
    /// Appendix B.3.3: transaction data needs holder binding on every credential it names.
    #[error("transaction data names Credential Query {credential_id:?}, which does not require holder binding")]
    TransactionDataWithoutHolderBinding {
        /// The Credential Query.
        credential_id: String,
    },
    /// An extension member was given a name the request models itself, refuses, or that is a
    /// registered JWT claim ([`Extensions::insert`]).
    #[error("{name:?} cannot be an extension member of an authorization request: the name is reserved")]
    ReservedExtension {
        /// The name.
        name: String,
    },
    /// A required parameter is missing.
    #[error("the parameter {name} is missing")]
    MissingParameter {
        /// The parameter.
        name: &'static str,
    },

    // ---- Request object (JAR) -----------------------------------------------------------------
    /// §5: the request object's `typ` must be exactly `oauth-authz-req+jwt`.
    #[error("request object typ is {found:?}, expected oauth-authz-req+jwt")]
    WrongRequestObjectTyp {
        /// The `typ` found.
        found: Option<String>,
    },
    /// §5.9.3: the request object has no `kid`.
    #[error("the request object has no kid")]
    MissingKid,
    /// §5.9.3: the `kid` is not a DID URL.
    #[error("the request object's kid is not a DID URL")]
    InvalidKid,
    /// §5.9.3: the key is not one of the DID in `client_id`.
    #[error("the request is signed by a key of {kid_did} but client_id names {client_id_did}")]
    ClientIdKidMismatch {
        /// The DID in `client_id`.
        client_id_did: String,
        /// The DID of the `kid`.
        kid_did: String,
    },
    /// The request object has expired.
    #[error("the request object expired at {exp} (now {now})")]
    RequestObjectExpired {
        /// Its `exp`.
        exp: i64,
        /// The wallet's clock.
        now: i64,
    },
    /// The request object was issued in the future.
    #[error("the request object is issued at {iat}, after now ({now})")]
    RequestObjectIssuedInFuture {
        /// Its `iat`.
        iat: i64,
        /// The wallet's clock.
        now: i64,
    },
    /// A `wallet_nonce` (§5.10.1) that is empty, longer than 512 bytes or not printable ASCII.
    #[error("the wallet_nonce is empty, longer than 512 bytes or not printable ASCII")]
    InvalidWalletNonce,
    /// `exp` or `iat` is not an integer (a request object may leave both out).
    #[error("the request object's {claim} is not an integer")]
    MissingTimeClaim {
        /// Which claim.
        claim: &'static str,
    },
    /// §5.8: `aud` must be `https://self-issued.me/v2`.
    #[error("the request object's aud is {found:?}, expected https://self-issued.me/v2")]
    WrongAudience {
        /// The `aud` found (bounded JSON).
        found: Option<String>,
    },
    /// A request object's lifetime must be positive.
    #[error("a request object's lifetime must be positive")]
    InvalidLifetime,

    // ---- URIs and forms -----------------------------------------------------------------------
    /// An `openid4vp:` authorization request URI breaks a rule.
    #[error("invalid authorization request URI: {reason}")]
    InvalidAuthorizationUri {
        /// What is wrong.
        reason: &'static str,
    },
    /// RFC 9101: the URI's `client_id` differs from the request object's.
    #[error("client_id {in_uri:?} in the URI differs from {in_request:?} in the request object")]
    ClientIdMismatch {
        /// The URI's `client_id`.
        in_uri: String,
        /// The request object's `client_id`.
        in_request: String,
    },
    /// Form encoding that is not strict `application/x-www-form-urlencoded`.
    #[error("invalid form encoding: {reason}")]
    InvalidFormEncoding {
        /// What is wrong.
        reason: &'static str,
    },
    /// A form parameter given twice.
    #[error("the parameter {name:?} is given more than once")]
    DuplicateParameter {
        /// The parameter name.
        name: String,
    },

    // ---- Transaction data (§5.1, §8.4) --------------------------------------------------------
    /// A transaction data string breaks §5.1.
    #[error("invalid transaction data: {reason}")]
    InvalidTransactionData {
        /// What is wrong.
        reason: &'static str,
    },
    /// `transaction_data_hashes_alg` does not offer `sha-256`, the only one supported.
    #[error("transaction_data_hashes_alg does not offer sha-256, the only supported hash")]
    UnsupportedTransactionDataHashAlg,

    // ---- Response (§8) ------------------------------------------------------------------------
    /// The `vp_token` breaks §8.1.
    #[error("invalid vp_token: {reason}")]
    InvalidVpToken {
        /// What is wrong.
        reason: &'static str,
    },
    /// An additional response parameter the caller asked for is present but not a string.
    #[error("invalid vp_token: {name} is not a string")]
    ParameterNotAString {
        /// The parameter's name (one the caller named).
        name: String,
    },
    // ---- Digital Credentials API (Appendix A) -------------------------------------------------
    /// The `protocol` of a DC API request is not one of OpenID4VP 1.0's (Appendix A.1).
    #[error("unsupported DC API protocol {found:?}: openid4vp-v1-unsigned, -signed or -multisigned")]
    UnsupportedDcApiProtocol {
        /// The value given (bounded).
        found: String,
    },
    /// A DC API request object (`{protocol, data}`) or its `data` has the wrong shape.
    #[error("invalid DC API request: {reason}")]
    InvalidDcApiRequest {
        /// What is wrong.
        reason: &'static str,
    },
    /// A parameter Appendix A forbids in this kind of DC API request (`response_uri`,
    /// `redirect_uri`, `request_uri`; `client_id` outside the protected headers of a
    /// multi-signed request).
    #[error("the parameter {name} is not allowed in this OpenID4VP request over the Digital Credentials API")]
    DcApiParameterNotAllowed {
        /// The parameter.
        name: &'static str,
    },
    /// A request read over the DC API does not ask for `dc_api` or `dc_api.jwt` (Appendix A.2).
    #[error("over the Digital Credentials API the response_mode must be dc_api or dc_api.jwt, not {found:?}")]
    NotDcApiResponseMode {
        /// The value given (bounded).
        found: String,
    },
    /// An origin (the platform's, or one in `expected_origins`) is not an `https` web origin
    /// (`https://host[:port]`, nothing after).
    #[error("invalid origin {origin:?}: {reason}")]
    InvalidOrigin {
        /// The value (bounded).
        origin: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// `expected_origins` is not a non-empty array of https origins (Appendix A.2).
    #[error("invalid expected_origins: {reason}")]
    InvalidExpectedOrigins {
        /// What is wrong.
        reason: &'static str,
    },
    /// Appendix A.2: the origin the platform reports is not in the signed request's
    /// `expected_origins` (a request replayed by another site).
    #[error("the request was passed by {origin:?}, which is not one of its expected_origins")]
    OriginNotExpected {
        /// The calling origin (bounded).
        origin: String,
    },
    /// None of the signatures of a multi-signed request verified for a client the wallet
    /// trusts (the last refusal is named).
    #[error("no signature of the multi-signed request verifies for a trusted client: {last}")]
    NoTrustedSignature {
        /// Why the last signature was refused.
        last: String,
    },

    /// The wallet answered with an error response.
    #[error("the wallet returned the error {error:?}")]
    ErrorResponse {
        /// The OAuth error code (bounded).
        error: String,
    },
}

impl Oid4vpError {
    /// A JSON error without serde's message (which may quote personal data).
    pub(crate) fn malformed_json(what: &'static str, error: &serde_json::Error) -> Self {
        Oid4vpError::MalformedJson { what, line: error.line(), column: error.column() }
    }
}
