//! The Authorization Request (OpenID4VP 1.0 §5) as a signed request object (JAR, RFC 9101),
//! and the `openid4vp://` URIs that carry it by value or by reference.

use schooltas_did::jws::{self, CompactJws, Header};
use schooltas_did::{Did, DidUrl, Resolver, Signer, VerificationRelationship, VerifyingKey, base64url};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Oid4vpError;
use super::dcql::{DcqlQuery, truncate};
use super::form;
use super::transaction_data::TransactionData;
use crate::Result;

/// The `typ` of a request object (RFC 9101 §10.8; OpenID4VP 1.0 §5 requires it exactly).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";

/// The `aud` of a request object under static discovery (OpenID4VP 1.0 §5.8).
pub const SELF_ISSUED_AUDIENCE: &str = "https://self-issued.me/v2";

/// The Client Identifier Prefix for verifiers identified by a DID (OpenID4VP 1.0 §5.9.3).
pub const DID_CLIENT_ID_PREFIX: &str = "decentralized_identifier:";
/// The client identifier prefix of a verifier named by a DNS name in its certificate (§5.9.3).
pub const X509_SAN_DNS_PREFIX: &str = "x509_san_dns:";
/// The client identifier prefix of a verifier named by the hash of its certificate (§5.9.3;
/// the one HAIP 1.0 §5 requires).
pub const X509_HASH_PREFIX: &str = "x509_hash:";

/// A verifier's client identifier (§5.9), by the prefixes this library supports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientId {
    /// `decentralized_identifier:<did>`: the request is signed by a key of the DID (`kid`).
    Did(Did),
    /// `x509_san_dns:<dns name>`: signed by the leaf key of the `x5c` chain, whose SAN has the
    /// DNS name; the `response_uri` is on that host.
    X509SanDns(String),
    /// `x509_hash:<base64url SHA-256 of the leaf certificate>`: signed by that leaf's key.
    X509Hash(String),
}

impl ClientId {
    /// Parses a `client_id`; another prefix, or none, is refused.
    pub fn parse(client_id: &str) -> Result<Self, Oid4vpError> {
        if let Some(did) = client_id.strip_prefix(DID_CLIENT_ID_PREFIX) {
            return Did::parse(did)
                .map(ClientId::Did)
                .map_err(|_| Oid4vpError::InvalidClientId { reason: "the client_id is not a valid DID" });
        }
        if let Some(dns) = client_id.strip_prefix(X509_SAN_DNS_PREFIX) {
            let label_ok = |label: &str| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            };
            if dns.len() > 253 || !dns.contains('.') || !dns.split('.').all(label_ok) {
                return Err(Oid4vpError::InvalidClientId { reason: "the x509_san_dns client_id is not a DNS name" });
            }
            return Ok(ClientId::X509SanDns(dns.to_ascii_lowercase()));
        }
        if let Some(hash) = client_id.strip_prefix(X509_HASH_PREFIX) {
            if base64url::decode(hash).is_none_or(|digest| digest.len() != 32) || hash.contains('=') {
                return Err(Oid4vpError::InvalidClientId {
                    reason: "the x509_hash client_id is not base64url of a SHA-256 digest",
                });
            }
            return Ok(ClientId::X509Hash(hash.to_owned()));
        }
        Err(Oid4vpError::InvalidClientId {
            reason: "the client_id prefix is not decentralized_identifier, x509_san_dns or x509_hash",
        })
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientId::Did(did) => write!(f, "{DID_CLIENT_ID_PREFIX}{did}"),
            ClientId::X509SanDns(dns) => write!(f, "{X509_SAN_DNS_PREFIX}{dns}"),
            ClientId::X509Hash(hash) => write!(f, "{X509_HASH_PREFIX}{hash}"),
        }
    }
}

/// `x509_hash` of a DER certificate: base64url (no padding) of its SHA-256 (§5.9.3).
pub fn x509_hash(certificate_der: &[u8]) -> String {
    use sha2::Digest as _;
    base64url::encode(sha2::Sha256::digest(certificate_der))
}

/// The leaf certificate (DER) of an `x5c` header: standard base64 with padding (RFC 7515 §4.1.6).
fn x5c_leaf(header: &Header) -> Result<Vec<u8>, Oid4vpError> {
    use base64::Engine as _;
    let leaf =
        header.get("x5c").and_then(Value::as_array).and_then(|chain| chain.first()).and_then(Value::as_str).ok_or(
            Oid4vpError::InvalidClientId { reason: "an x509 client_id needs an x5c header with the certificate" },
        )?;
    base64::engine::general_purpose::STANDARD
        .decode(leaf)
        .map_err(|_| Oid4vpError::InvalidClientId { reason: "the x5c leaf is not standard base64" })
}

/// `response_type` for a VP Token in the Authorization Response (§5.6).
pub const RESPONSE_TYPE_VP_TOKEN: &str = "vp_token";

/// `response_mode` for an HTTPS POST of the response to `response_uri` (§8.2).
pub const RESPONSE_MODE_DIRECT_POST: &str = "direct_post";

/// The largest request object accepted (256 KiB).
pub const MAX_REQUEST_OBJECT_LEN: usize = 256 << 10;

/// The largest authorization request URI accepted (256 KiB, room for a request by value).
pub const MAX_REQUEST_URI_LEN: usize = 256 << 10;

/// The shortest nonce accepted; see [`AuthorizationRequest::validate`].
pub const MIN_NONCE_LEN: usize = 16;

/// The longest nonce or state accepted.
pub const MAX_NONCE_LEN: usize = 512;

/// An OpenID4VP Authorization Request for a VP Token via `direct_post`, with a DCQL query.
///
/// Build one with [`AuthorizationRequest::new`] (it sets the fixed members), sign it with
/// [`AuthorizationRequest::sign`]; a wallet gets one only from
/// [`UnverifiedRequestObject::verify_with`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// `decentralized_identifier:<did>` (§5.9.3).
    pub client_id: String,
    /// Always `vp_token`.
    pub response_type: String,
    /// `direct_post`, or `direct_post.jwt` for an encrypted response (§8.3; set by
    /// [`AuthorizationRequest::with_encrypted_response`]).
    pub response_mode: String,
    /// Where the wallet posts the response; https only. Empty (and not sent) for a request
    /// over the Digital Credentials API (`dc_api`, `dc_api.jwt`: Appendix A), whose response
    /// goes back through the browser.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub response_uri: String,
    /// Binds the presentations to this request (§5.2); see [`AuthorizationRequest::validate`].
    pub nonce: String,
    /// Maps the response to the verifier's session (§5.2, §8.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// What is asked for.
    pub dcql_query: DcqlQuery,
    /// Verifier metadata (§5.1), kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<Value>,
    /// Base64url-encoded transaction data objects (§5.1); see [`TransactionData`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transaction_data: Vec<String>,
    /// Members a profile adds to the request (§5), kept as JSON; see [`Extensions`].
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// The JWT claims a request object carries beside the request (RFC 7519 §4.1): read for the
/// signature's checks, never kept as [`Extensions`].
const REGISTERED_JWT_CLAIMS: [&str; 7] = ["iss", "aud", "iat", "exp", "nbf", "jti", "sub"];

/// The members [`AuthorizationRequest`] models itself or refuses: not usable as extensions.
const RESERVED_MEMBERS: [&str; 11] = [
    "client_id",
    "response_type",
    "response_mode",
    "response_uri",
    "nonce",
    "state",
    "dcql_query",
    "client_metadata",
    "transaction_data",
    // §8.2 and §5.1: refused by this library.
    "redirect_uri",
    "scope",
];

/// The additional top-level members of an Authorization Request: OpenID4VP 1.0 §5 lets a
/// profile add parameters, and tells wallets to ignore the ones they do not know.
///
/// Received requests keep every member the request does not model (registered JWT claims of
/// the request object aside), as JSON values; their meaning is the profile's, which reads them
/// with [`AuthorizationRequest::extension`] and refuses what it cannot use before it uses the
/// request. The map is bounded by the request object's size ([`MAX_REQUEST_OBJECT_LEN`]); member
/// names are unique because the request object's JSON is parsed strictly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Extensions(BTreeMap<String, Value>);

impl Extensions {
    /// No extensions.
    pub fn new() -> Self {
        Extensions::default()
    }

    /// The member `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// Sets the member `name`. Names the request models itself (`client_id`, `nonce`, …),
    /// refuses (`redirect_uri`, `scope`) or that are registered JWT claims
    /// (`iss`, `aud`, `iat`, `exp`, …) are refused with [`Oid4vpError::ReservedExtension`].
    pub fn insert(&mut self, name: impl Into<String>, value: Value) -> Result<(), Oid4vpError> {
        let name = name.into();
        if is_reserved(&name) {
            return Err(Oid4vpError::ReservedExtension { name: truncate(&name) });
        }
        self.0.insert(name, value);
        Ok(())
    }

    /// Removes the member `name` and returns it.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name)
    }

    /// The members, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value))
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn is_reserved(name: &str) -> bool {
    RESERVED_MEMBERS.contains(&name) || REGISTERED_JWT_CLAIMS.contains(&name)
}

/// 128 random bits as base64url (22 characters), from a CSPRNG: a nonce or state value that
/// meets [`AuthorizationRequest::validate`].
pub fn random_nonce() -> String {
    use rand::Rng as _;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64url::encode(bytes)
}

impl AuthorizationRequest {
    /// A request from the verifier `client` for `dcql_query`, answered by `direct_post` to
    /// `response_uri`.
    pub fn new(client: &Did, response_uri: impl Into<String>, nonce: impl Into<String>, dcql_query: DcqlQuery) -> Self {
        AuthorizationRequest {
            client_id: format!("{DID_CLIENT_ID_PREFIX}{client}"),
            response_type: RESPONSE_TYPE_VP_TOKEN.to_owned(),
            response_mode: RESPONSE_MODE_DIRECT_POST.to_owned(),
            response_uri: response_uri.into(),
            nonce: nonce.into(),
            state: None,
            dcql_query,
            client_metadata: None,
            transaction_data: Vec::new(),
            extensions: Extensions::new(),
        }
    }

    /// Sets `state`.
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Sets the extension member `name` (see [`Extensions::insert`] for the names refused).
    pub fn with_extension(mut self, name: impl Into<String>, value: Value) -> Result<Self, Oid4vpError> {
        self.extensions.insert(name, value)?;
        Ok(self)
    }

    /// The extension member `name`, if the request has it.
    pub fn extension(&self, name: &str) -> Option<&Value> {
        self.extensions.get(name)
    }

    /// Adds a transaction data object (encoded as it will be sent).
    pub fn with_transaction_data(mut self, data: &TransactionData) -> Result<Self, Oid4vpError> {
        self.transaction_data.push(data.encode()?);
        Ok(self)
    }

    /// The verifier's DID, from `client_id`.
    pub fn client_did(&self) -> Result<Did, Oid4vpError> {
        client_did(&self.client_id)
    }

    /// The verifier's client identifier, parsed.
    pub fn client(&self) -> Result<ClientId, Oid4vpError> {
        ClientId::parse(&self.client_id)
    }

    /// Names the verifier by `client_id` (an `x509_san_dns` or `x509_hash` one, for a
    /// verifier that signs with an X.509 certificate's key; see [`Self::sign_x509`]).
    pub fn with_client_id(mut self, client_id: &ClientId) -> Self {
        self.client_id = client_id.to_string();
        self
    }

    /// Signs the request as a request object with the key of the leaf of `x5c` (standard
    /// base64 DER, leaf first, without the trust anchor — HAIP 1.0 §5), for a `client_id` with
    /// an x509 prefix: `x509_hash` must be the leaf's hash, and an `x509_san_dns` verifier's
    /// `response_uri` must be on the client's host. Claims as [`Self::sign`], `iss` the
    /// `client_id`; `wallet_nonce` as [`Self::sign_with_wallet_nonce`].
    pub fn sign_x509(
        &self,
        signer: &(impl Signer + ?Sized),
        x5c: &[Vec<u8>],
        now: i64,
        lifetime: i64,
        wallet_nonce: Option<&str>,
    ) -> Result<String> {
        use base64::Engine as _;
        let chain = Value::Array(
            x5c.iter().map(|der| Value::String(base64::engine::general_purpose::STANDARD.encode(der))).collect(),
        );
        let header = Header::new().with_typ(REQUEST_OBJECT_TYP).with_member("x5c", chain);
        match self.client()? {
            ClientId::Did(_) => {
                return Err(Oid4vpError::InvalidClientId { reason: "a DID client_id signs with sign(), by kid" }.into());
            }
            ClientId::X509Hash(hash) => {
                if x5c.first().map(|leaf| x509_hash(leaf)) != Some(hash) {
                    return Err(
                        Oid4vpError::InvalidClientId { reason: "x509_hash is not the hash of the x5c leaf" }.into()
                    );
                }
            }
            // Over the DC API there is no response_uri to put on the host (Appendix A).
            ClientId::X509SanDns(_) if self.is_dc_api() => {}
            ClientId::X509SanDns(dns) => check_response_uri_host(&self.response_uri, &dns)?,
        }
        self.sign_claims(signer, header, &self.client_id, now, lifetime, wallet_nonce)
    }

    /// The transaction data objects, decoded.
    pub fn decoded_transaction_data(&self) -> Result<Vec<TransactionData>, Oid4vpError> {
        self.transaction_data.iter().map(|t| TransactionData::decode(t)).collect()
    }

    /// Checks the request's rules:
    ///
    /// - `response_type` is `vp_token`, `response_mode` is `direct_post` or `direct_post.jwt`
    ///   (the only ones supported; the latter with a usable key and content encryption, see
    ///   [`AuthorizationRequest::response_encryption`]), `response_uri` is an `https` URL
    ///   without fragment;
    /// - `client_id` is `decentralized_identifier:` followed by a valid DID, `x509_san_dns:`
    ///   followed by a DNS name (and then `response_uri` is on that host), or `x509_hash:`
    ///   followed by base64url of a SHA-256 digest;
    /// - `nonce` (§5.2): only ASCII URL-safe characters (`A–Z a–z 0–9 - . _ ~`), at least
    ///   [`MIN_NONCE_LEN`] and at most [`MAX_NONCE_LEN`] characters, and at least 8 distinct
    ///   characters. §5.2 asks for at least 128 bits of entropy, which no check can prove; this
    ///   rule catches counters, timestamps, words and repeated characters. [`random_nonce`]
    ///   meets it;
    /// - `state`, when present: URL-safe characters, 1 to [`MAX_NONCE_LEN`] long (§5.2);
    /// - the DCQL query is valid;
    /// - each transaction data object decodes, names only Credential Queries of the DCQL
    ///   query, and those require holder binding (Appendix B.3.3).
    ///
    /// What an extension member means, and so whether it is valid, is for its profile to check.
    pub fn validate(&self) -> Result<(), Oid4vpError> {
        if self.response_type != RESPONSE_TYPE_VP_TOKEN {
            return Err(Oid4vpError::UnsupportedResponseType { found: truncate(&self.response_type) });
        }
        let dc_api = self.is_dc_api();
        if !dc_api
            && self.response_mode != RESPONSE_MODE_DIRECT_POST
            && self.response_mode != super::encryption::RESPONSE_MODE_DIRECT_POST_JWT
        {
            return Err(Oid4vpError::UnsupportedResponseMode { found: truncate(&self.response_mode) });
        }
        // §8.3: a direct_post.jwt (or dc_api.jwt) request must name a key and an encryption we
        // can use.
        self.response_encryption()?;
        if dc_api {
            // Appendix A.2: the response goes back through the API, never to a URI.
            if !self.response_uri.is_empty() {
                return Err(Oid4vpError::DcApiParameterNotAllowed { name: "response_uri" });
            }
            // An unsigned request names the verifier by the origin the platform reports.
            if self.client_id.strip_prefix(super::dc_api::ORIGIN_CLIENT_ID_PREFIX).is_some() {
                super::dc_api::Origin::from_client_id(&self.client_id)?;
            } else {
                self.client()?;
            }
            super::dc_api::check_expected_origins(self.extension(super::dc_api::EXPECTED_ORIGINS))?;
        } else {
            let client = self.client()?;
            if self.response_uri.is_empty() {
                return Err(Oid4vpError::MissingParameter { name: "response_uri" });
            }
            check_https("response_uri", &self.response_uri)?;
            if let ClientId::X509SanDns(dns) = &client {
                // §5.9.3: the response goes to the host the certificate names.
                check_response_uri_host(&self.response_uri, dns)?;
            }
        }
        check_nonce(&self.nonce)?;
        if let Some(state) = &self.state
            && (state.is_empty() || state.len() > MAX_NONCE_LEN || !state.bytes().all(is_url_safe))
        {
            return Err(Oid4vpError::InvalidState);
        }
        self.dcql_query.validate()?;
        for data in self.decoded_transaction_data()? {
            for id in &data.credential_ids {
                let query =
                    self.dcql_query.credential(id).ok_or(Oid4vpError::UnknownCredentialId { id: id.clone() })?;
                if !query.require_cryptographic_holder_binding {
                    return Err(Oid4vpError::TransactionDataWithoutHolderBinding { credential_id: id.clone() });
                }
            }
        }
        Ok(())
    }

    /// Signs the request as a request object (JAR): header `typ: oauth-authz-req+jwt` and
    /// `kid`; claims are the request plus `iss` (the verifier's DID), `aud`
    /// ([`SELF_ISSUED_AUDIENCE`]), `iat` (`now`) and `exp` (`now + lifetime`, seconds).
    ///
    /// The request is validated first, and `kid` must be a key of the DID in `client_id`.
    pub fn sign(&self, signer: &(impl Signer + ?Sized), kid: &DidUrl, now: i64, lifetime: i64) -> Result<String> {
        self.sign_with_wallet_nonce(signer, kid, now, lifetime, None)
    }

    /// [`AuthorizationRequest::sign`] for a wallet that fetched the request object with
    /// `request_uri_method=post` (§5.10.1): the `wallet_nonce` it sent is a claim of the object,
    /// so the wallet knows the object is fresh. A nonce that is empty, longer than 512 bytes or
    /// not printable ASCII is refused ([`Oid4vpError::InvalidWalletNonce`]).
    pub fn sign_with_wallet_nonce(
        &self,
        signer: &(impl Signer + ?Sized),
        kid: &DidUrl,
        now: i64,
        lifetime: i64,
        wallet_nonce: Option<&str>,
    ) -> Result<String> {
        if let Some(nonce) = wallet_nonce
            && (nonce.is_empty() || nonce.len() > 512 || !nonce.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(Oid4vpError::InvalidWalletNonce.into());
        }
        self.validate()?;
        let did = self.client_did()?;
        if kid.did() != &did {
            return Err(Oid4vpError::ClientIdKidMismatch {
                client_id_did: did.to_string(),
                kid_did: kid.did().to_string(),
            }
            .into());
        }
        let header = Header::new().with_typ(REQUEST_OBJECT_TYP).with_kid(kid.as_str());
        self.sign_claims(signer, header, did.as_str(), now, lifetime, wallet_nonce)
    }

    fn sign_claims(
        &self,
        signer: &(impl Signer + ?Sized),
        header: Header,
        iss: &str,
        now: i64,
        lifetime: i64,
        wallet_nonce: Option<&str>,
    ) -> Result<String> {
        if let Some(nonce) = wallet_nonce
            && (nonce.is_empty() || nonce.len() > 512 || !nonce.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(Oid4vpError::InvalidWalletNonce.into());
        }
        self.validate()?;
        if lifetime <= 0 {
            return Err(Oid4vpError::InvalidLifetime.into());
        }
        let Value::Object(mut claims) =
            serde_json::to_value(self).map_err(|e| Oid4vpError::malformed_json("authorization request", &e))?
        else {
            // A struct always serializes to an object; this branch only satisfies the type.
            return Err(Oid4vpError::MalformedJson { what: "authorization request", line: 0, column: 0 }.into());
        };
        claims.insert("iss".into(), Value::String(iss.to_owned()));
        claims.insert("aud".into(), Value::String(SELF_ISSUED_AUDIENCE.into()));
        claims.insert("iat".into(), Value::from(now));
        claims.insert("exp".into(), Value::from(now.saturating_add(lifetime)));
        if let Some(nonce) = wallet_nonce {
            claims.insert("wallet_nonce".into(), Value::String(nonce.to_owned()));
        }
        Ok(jws::sign_compact_json(&header, &claims, signer)?)
    }

    /// Reads a request from request object claims and validates it. Registered JWT claims are
    /// dropped; unknown parameters are kept as [`Extensions`], for the profile that knows them
    /// (§5: a wallet ignores those it does not know).
    pub(crate) fn from_claims(mut claims: Map<String, Value>) -> Result<Self, Oid4vpError> {
        // §8.2: with direct_post, redirect_uri must not be present.
        if claims.contains_key("redirect_uri") {
            return Err(Oid4vpError::RedirectUriNotAllowed);
        }
        // §5.1: dcql_query or scope, not both; this library supports only dcql_query.
        if claims.contains_key("scope") {
            return Err(Oid4vpError::ScopeNotSupported);
        }
        for name in REGISTERED_JWT_CLAIMS {
            claims.remove(name);
        }
        // §5.10.1: the wallet's own nonce, echoed for the fetch that sent it; not a request
        // parameter.
        claims.remove("wallet_nonce");
        let dcql = claims.remove("dcql_query").ok_or(Oid4vpError::MissingParameter { name: "dcql_query" })?;
        let dcql_query = DcqlQuery::from_json(&dcql)?;
        claims.insert("dcql_query".into(), dcql_query.to_json());
        let request: AuthorizationRequest = serde::Deserialize::deserialize(Value::Object(claims))
            .map_err(|e: serde_json::Error| Oid4vpError::malformed_json("authorization request", &e))?;
        request.validate()?;
        Ok(request)
    }
}

/// A request object whose signature has not been checked: only its header is readable.
#[derive(Debug)]
pub struct UnverifiedRequestObject<'a> {
    jws: CompactJws<'a>,
}

impl<'a> UnverifiedRequestObject<'a> {
    /// Parses a compact JWS of at most [`MAX_REQUEST_OBJECT_LEN`] bytes.
    pub fn parse(jwt: &'a str) -> Result<Self> {
        Ok(UnverifiedRequestObject { jws: CompactJws::parse_with_limit(jwt, MAX_REQUEST_OBJECT_LEN)? })
    }

    /// The protected header.
    pub fn header(&self) -> &Header {
        self.jws.header()
    }

    /// Verifies the request object and returns the request it carries.
    ///
    /// `key_for` gets the header and the (not yet verified) DID from `client_id`, and returns
    /// the key named by `kid` — typically by resolving it (see
    /// [`UnverifiedRequestObject::verify_with_resolver`]). In order:
    ///
    /// 1. `typ` is exactly `oauth-authz-req+jwt` (§5);
    /// 2. `kid` is a DID URL whose DID is the one in `client_id`, which must use the
    ///    `decentralized_identifier:` prefix (§5.9.3);
    /// 3. the signature verifies with the key, its algorithm pinned to the key;
    /// 4. `exp`, when present, is after `now − skew`; `iat`, when present, is not after
    ///    `now + skew` (neither is required by RFC 9101 or OpenID4VP 1.0; one that is not a
    ///    number is refused);
    /// 5. `aud`, when present, is or contains [`SELF_ISSUED_AUDIENCE`] (§5.8: static
    ///    discovery); `iss`, if present, is ignored (§5);
    /// 6. the request's own rules ([`AuthorizationRequest::validate`]), no `redirect_uri`
    ///    (§8.2), no `scope`, and not a request for the Digital Credentials API (`dc_api`,
    ///    `dc_api.jwt`: read those with [`super::DcApiRequest::verify_signed`]).
    pub fn verify_with(
        &self,
        key_for: impl FnOnce(&Header, Option<&str>) -> Result<VerifyingKey>,
        now: i64,
        skew: i64,
    ) -> Result<AuthorizationRequest> {
        self.verify_with_client(
            |header, client| match client {
                ClientId::Did(did) => key_for(header, Some(did.as_str())),
                _ => Err(Oid4vpError::InvalidClientId {
                    reason: "an x509 client_id needs a wallet that validates certificate chains (verify_with_client)",
                }
                .into()),
            },
            now,
            skew,
        )
    }

    /// [`UnverifiedRequestObject::verify_with`] for every supported client identifier prefix
    /// (§5.9.3). `key_for` gets the header and the parsed [`ClientId`] — checked first:
    ///
    /// - `decentralized_identifier`: `kid` is a DID URL of the client's DID; `key_for` resolves it;
    /// - `x509_hash`: the `x5c` leaf's SHA-256 is the hash in `client_id`;
    /// - `x509_san_dns`: an `x5c` header is present (and [`AuthorizationRequest::validate`]
    ///   puts `response_uri` on the client's host);
    ///
    /// and for both x509 prefixes `key_for` must validate the `x5c` chain to the wallet's trust
    /// anchors (validity, usage, signatures; for `x509_san_dns` the leaf's SAN naming the DNS
    /// name) and return the leaf's key. The other steps are those of `verify_with`.
    pub fn verify_with_client(
        &self,
        key_for: impl FnOnce(&Header, &ClientId) -> Result<VerifyingKey>,
        now: i64,
        skew: i64,
    ) -> Result<AuthorizationRequest> {
        let request = verify_request_jws(&self.jws, ClientIdIn::Payload, key_for, now, skew)?;
        // A request object made for the Digital Credentials API is bound to its expected
        // origins, which only the platform can vouch for: it is not answered outside that API.
        if request.is_dc_api() {
            return Err(Oid4vpError::UnsupportedResponseMode { found: truncate(&request.response_mode) }.into());
        }
        Ok(request)
    }

    /// [`UnverifiedRequestObject::verify_with`], resolving `kid` with `resolver` as an
    /// `authentication` key of the verifier's DID (the request authenticates the verifier to
    /// the wallet) for the header's algorithm.
    pub fn verify_with_resolver(&self, resolver: &Resolver, now: i64, skew: i64) -> Result<AuthorizationRequest> {
        let kid = self.kid()?;
        let alg = self.jws.algorithm();
        self.verify_with(
            |_, _| Ok(resolver.verifying_key(&kid, VerificationRelationship::Authentication, alg)?),
            now,
            skew,
        )
    }

    fn kid(&self) -> Result<DidUrl, Oid4vpError> {
        kid_of(&self.jws)
    }
}

/// Where a signed request names its client: in the payload (JWS compact), or in the protected
/// header of each signature (JWS JSON serialization, OpenID4VP 1.0 Appendix A.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientIdIn {
    Payload,
    Header,
}

/// [`UnverifiedRequestObject::verify_with_client`] for one JWS (compact, or one signature of
/// a JWS JSON serialization put in compact form).
pub(crate) fn verify_request_jws(
    jws: &CompactJws<'_>,
    client_id_in: ClientIdIn,
    key_for: impl FnOnce(&Header, &ClientId) -> Result<VerifyingKey>,
    now: i64,
    skew: i64,
) -> Result<AuthorizationRequest> {
    let header = jws.header();
    if header.typ() != Some(REQUEST_OBJECT_TYP) {
        return Err(Oid4vpError::WrongRequestObjectTyp { found: header.typ().map(truncate) }.into());
    }
    // The payload is read before the signature check only to find the client.
    let unverified: Map<String, Value> =
        schooltas_did::strict_json::from_slice_or(&jws.dangerous_unverified_payload()?, |e| {
            Oid4vpError::malformed_json("request object", &e)
        })?;
    let client_id = match client_id_in {
        ClientIdIn::Payload => unverified.get("client_id"),
        ClientIdIn::Header => {
            // Appendix A.3.2: with several signatures, client_id is in each protected
            // header only.
            if unverified.contains_key("client_id") {
                return Err(Oid4vpError::DcApiParameterNotAllowed { name: "client_id" }.into());
            }
            header.get("client_id")
        }
    }
    .and_then(Value::as_str)
    .ok_or(Oid4vpError::MissingParameter { name: "client_id" })?
    .to_owned();
    let client_id = client_id.as_str();
    let client = ClientId::parse(client_id)?;
    match &client {
        ClientId::Did(did) => {
            let kid = kid_of(jws)?;
            if kid.did() != did {
                return Err(Oid4vpError::ClientIdKidMismatch {
                    client_id_did: did.to_string(),
                    kid_did: kid.did().to_string(),
                }
                .into());
            }
        }
        ClientId::X509Hash(hash) => {
            if x509_hash(&x5c_leaf(header)?) != *hash {
                return Err(Oid4vpError::InvalidClientId { reason: "x509_hash is not the hash of the x5c leaf" }.into());
            }
        }
        ClientId::X509SanDns(_) => {
            x5c_leaf(header)?;
        }
    }
    let key = key_for(header, &client)?;
    let verified = jws.verify(&key)?;
    let mut claims: Map<String, Value> = schooltas_did::strict_json::from_slice_or(verified.payload(), |e| {
        Oid4vpError::malformed_json("request object", &e)
    })?;
    if client_id_in == ClientIdIn::Header {
        claims.insert("client_id".into(), Value::String(client_id.to_owned()));
    }

    // RFC 9101 and OpenID4VP 1.0 §5 require none of `exp`, `iat` and `aud` (verifier
    // libraries leave them out by default); each is checked when present, and one that is
    // present but not a number is refused.
    let time = |name: &'static str| match claims.get(name) {
        None => Ok(None),
        Some(value) => value.as_i64().map(Some).ok_or(Oid4vpError::MissingTimeClaim { claim: name }),
    };
    if let Some(exp) = time("exp")?
        && exp <= now.saturating_sub(skew)
    {
        return Err(Oid4vpError::RequestObjectExpired { exp, now }.into());
    }
    if let Some(iat) = time("iat")?
        && iat > now.saturating_add(skew)
    {
        return Err(Oid4vpError::RequestObjectIssuedInFuture { iat, now }.into());
    }
    // §5.8: under static discovery (no wallet metadata was sent) an `aud` must be
    // "https://self-issued.me/v2"; RFC 9101 does not require one.
    let audience_ok = match claims.get("aud") {
        None => true,
        Some(Value::String(aud)) => aud == SELF_ISSUED_AUDIENCE,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(SELF_ISSUED_AUDIENCE)),
        _ => false,
    };
    if !audience_ok {
        let found = claims.get("aud").map(|a| truncate(&a.to_string()));
        return Err(Oid4vpError::WrongAudience { found }.into());
    }
    Ok(AuthorizationRequest::from_claims(claims)?)
}
fn kid_of(jws: &CompactJws<'_>) -> Result<DidUrl, Oid4vpError> {
    let kid = jws.header().kid().ok_or(Oid4vpError::MissingKid)?;
    DidUrl::parse(kid).map_err(|_| Oid4vpError::InvalidKid)
}

/// How a wallet is invoked with a request (RFC 9101 §5): the request object itself, or an
/// https URL to fetch it from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizationRequestUri {
    /// `openid4vp://?client_id=…&request=<jwt>`.
    ByValue {
        /// The `client_id` parameter.
        client_id: String,
        /// The request object.
        request_jwt: String,
    },
    /// `openid4vp://?client_id=…&request_uri=https://…`.
    ByReference {
        /// The `client_id` parameter.
        client_id: String,
        /// Where to GET the request object.
        request_uri: String,
    },
}

impl AuthorizationRequestUri {
    /// Parses an `openid4vp:` (or `https:` universal link) authorization request URI.
    ///
    /// Refused: other schemes, a fragment, a query that is not strict form encoding or repeats
    /// a parameter, a missing `client_id`, both or neither of `request` and `request_uri`
    /// (unsigned requests are not accepted), and a `request_uri` that is not https.
    pub fn parse(uri: &str) -> Result<Self, Oid4vpError> {
        if uri.len() > MAX_REQUEST_URI_LEN {
            return Err(Oid4vpError::TooLarge {
                what: "authorization request URI",
                len: uri.len(),
                limit: MAX_REQUEST_URI_LEN,
            });
        }
        let (scheme, rest) =
            uri.split_once(':').ok_or(Oid4vpError::InvalidAuthorizationUri { reason: "the URI has no scheme" })?;
        if !scheme.eq_ignore_ascii_case("openid4vp") && !scheme.eq_ignore_ascii_case("https") {
            return Err(Oid4vpError::InvalidAuthorizationUri { reason: "the scheme is neither openid4vp nor https" });
        }
        if rest.contains('#') {
            return Err(Oid4vpError::InvalidAuthorizationUri { reason: "the URI has a fragment" });
        }
        let (_, query) =
            rest.split_once('?').ok_or(Oid4vpError::InvalidAuthorizationUri { reason: "the URI has no query" })?;
        let pairs = form::decode(query)?;
        let client_id = form::get(&pairs, "client_id")
            .filter(|c| !c.is_empty())
            .ok_or(Oid4vpError::MissingParameter { name: "client_id" })?
            .to_owned();
        match (form::get(&pairs, "request"), form::get(&pairs, "request_uri")) {
            (Some(_), Some(_)) => {
                Err(Oid4vpError::InvalidAuthorizationUri { reason: "both request and request_uri are present" })
            }
            (None, None) => Err(Oid4vpError::InvalidAuthorizationUri {
                reason: "neither request nor request_uri is present (unsigned requests are not accepted)",
            }),
            (Some(jwt), None) => {
                if jwt.split('.').count() != 3 {
                    return Err(Oid4vpError::InvalidAuthorizationUri { reason: "request is not a compact JWS" });
                }
                Ok(AuthorizationRequestUri::ByValue { client_id, request_jwt: jwt.to_owned() })
            }
            (None, Some(request_uri)) => {
                check_https("request_uri", request_uri)?;
                Ok(AuthorizationRequestUri::ByReference { client_id, request_uri: request_uri.to_owned() })
            }
        }
    }

    /// The `openid4vp://?…` form.
    pub fn to_uri(&self) -> String {
        let pairs = match self {
            AuthorizationRequestUri::ByValue { client_id, request_jwt } => {
                [("client_id", client_id.as_str()), ("request", request_jwt.as_str())]
            }
            AuthorizationRequestUri::ByReference { client_id, request_uri } => {
                [("client_id", client_id.as_str()), ("request_uri", request_uri.as_str())]
            }
        };
        format!("openid4vp://?{}", form::encode(&pairs))
    }

    /// The `client_id` parameter.
    pub fn client_id(&self) -> &str {
        match self {
            AuthorizationRequestUri::ByValue { client_id, .. }
            | AuthorizationRequestUri::ByReference { client_id, .. } => client_id,
        }
    }

    /// RFC 9101: the `client_id` parameter and the request object's `client_id` must be
    /// identical. Call this once the request object is verified.
    pub fn check_client_id(&self, request: &AuthorizationRequest) -> Result<(), Oid4vpError> {
        if self.client_id() != request.client_id {
            return Err(Oid4vpError::ClientIdMismatch {
                in_uri: truncate(self.client_id()),
                in_request: truncate(&request.client_id),
            });
        }
        Ok(())
    }
}

fn client_did(client_id: &str) -> Result<Did, Oid4vpError> {
    let did = client_id
        .strip_prefix(DID_CLIENT_ID_PREFIX)
        .ok_or(Oid4vpError::InvalidClientId { reason: "the client_id prefix is not decentralized_identifier" })?;
    Did::parse(did).map_err(|_| Oid4vpError::InvalidClientId { reason: "the client_id is not a valid DID" })
}

/// §5.9.3: an `x509_san_dns` verifier's response goes to its own host.
fn check_response_uri_host(response_uri: &str, dns: &str) -> Result<(), Oid4vpError> {
    let host = response_uri
        .strip_prefix("https://")
        .and_then(|rest| rest.split(['/', '?', '#']).next())
        .map(|authority| authority.rsplit_once(':').map_or(authority, |(host, _port)| host))
        .unwrap_or_default();
    if !host.eq_ignore_ascii_case(dns) {
        return Err(Oid4vpError::InvalidClientId {
            reason: "an x509_san_dns verifier's response_uri must be on the host its client_id names",
        });
    }
    Ok(())
}

/// §5.2: ASCII URL-safe characters.
fn is_url_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn check_nonce(nonce: &str) -> Result<(), Oid4vpError> {
    if !nonce.bytes().all(is_url_safe) {
        return Err(Oid4vpError::InvalidNonce { reason: "a nonce holds only ASCII URL-safe characters" });
    }
    if nonce.len() < MIN_NONCE_LEN {
        return Err(Oid4vpError::InvalidNonce { reason: "a nonce is at least 16 characters long" });
    }
    if nonce.len() > MAX_NONCE_LEN {
        return Err(Oid4vpError::InvalidNonce { reason: "a nonce is at most 512 characters long" });
    }
    let mut seen = [false; 128];
    for b in nonce.bytes() {
        if let Some(slot) = seen.get_mut(usize::from(b)) {
            *slot = true;
        }
    }
    if seen.iter().filter(|s| **s).count() < 8 {
        return Err(Oid4vpError::InvalidNonce { reason: "a nonce has at least 8 distinct characters" });
    }
    Ok(())
}

/// An absolute `https` URL with a host and no fragment.
fn check_https(what: &'static str, uri: &str) -> Result<(), Oid4vpError> {
    let not_https = || Oid4vpError::NotHttps { what, uri: truncate(uri) };
    let rest = uri.strip_prefix("https://").ok_or_else(not_https)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // No user information (`user@host`): credentials do not belong in a response URI.
    if authority.is_empty()
        || authority.starts_with(':')
        || authority.contains('@')
        || uri.contains('#')
        || uri.bytes().any(|b| b <= b' ' || b == 0x7f)
    {
        return Err(not_https());
    }
    Ok(())
}
