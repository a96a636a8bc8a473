//! OpenID4VP over the W3C Digital Credentials API (OpenID4VP 1.0 Appendix A; HAIP 1.0 §5.1).
//!
//! A verifier's page calls `navigator.credentials.get({digital: {requests: [{protocol, data}]}})`
//! with a [`DcApiRequest`]; the platform hands `data` to the wallet together with the page's
//! [`Origin`], and the wallet's answer comes back to the page as the `data` of the resulting
//! credential: `{"response": <JWE>}` for `dc_api.jwt` ([`decrypt_dc_api_response`]).
//!
//! Three request kinds (Appendix A.1):
//!
//! - `openid4vp-v1-unsigned`: `data` is the request parameters themselves. The wallet ignores
//!   any `client_id` (and `expected_origins`); the verifier is the origin, and the request is
//!   read with `client_id` = `origin:<origin>` ([`ORIGIN_CLIENT_ID_PREFIX`]);
//! - `openid4vp-v1-signed`: `data` is `{"request": <JWS compact>}`, a request object signed as
//!   for `request_uri`, with `client_id` and `expected_origins` required; the wallet refuses a
//!   calling origin not in `expected_origins` ([`Oid4vpError::OriginNotExpected`]);
//! - `openid4vp-v1-multisigned`: `data` is `{"request": <JWS JSON general serialization>}`,
//!   each signature's protected header naming its own `client_id`; the wallet accepts the
//!   request when one signature verifies for a client it trusts.
//!
//! In every kind, `response_mode` is `dc_api` or `dc_api.jwt`, `response_uri`, `redirect_uri`
//! and `request_uri` are refused, and `nonce` is required. Appendix A.4: the key-binding
//! audience of the response is `origin:<origin>` ([`Origin::audience`]) — for signed requests
//! too — never the `client_id`.

use schooltas_did::jws::{self, CompactJws, Header};
use schooltas_did::{Signer, VerifyingKey, base64url};
use schooltas_jwe::{ContentEncryption, EncryptionKey};
use serde_json::{Map, Value};

use super::Oid4vpError;
use super::dcql::truncate;
use super::request::{
    AuthorizationRequest, ClientId, ClientIdIn, MAX_REQUEST_OBJECT_LEN, REQUEST_OBJECT_TYP, SELF_ISSUED_AUDIENCE,
    verify_request_jws,
};
use super::response::{AuthorizationResponse, MAX_RESPONSE_LEN};
use crate::Result;

/// Appendix A.1: an unsigned request.
pub const PROTOCOL_UNSIGNED: &str = "openid4vp-v1-unsigned";
/// Appendix A.1: a signed request (JWS compact serialization).
pub const PROTOCOL_SIGNED: &str = "openid4vp-v1-signed";
/// Appendix A.1: a request signed for several client identifiers (JWS JSON serialization).
pub const PROTOCOL_MULTISIGNED: &str = "openid4vp-v1-multisigned";

/// Appendix A.2: the response goes back through the API, unencrypted.
pub const RESPONSE_MODE_DC_API: &str = "dc_api";
/// Appendix A.2, §8.3: the response goes back through the API as `{"response": <JWE>}`.
pub const RESPONSE_MODE_DC_API_JWT: &str = "dc_api.jwt";

/// The client identifier prefix of a verifier known only by its web origin (§5.9.3:
/// reserved; used over the DC API for unsigned requests and as the response's audience).
pub const ORIGIN_CLIENT_ID_PREFIX: &str = "origin:";

/// The request parameter listing the origins a signed request may be used from (Appendix A.2).
pub const EXPECTED_ORIGINS: &str = "expected_origins";

/// The largest DC API request (`{protocol, data}` as JSON) accepted: room for a request object.
pub const MAX_DC_API_REQUEST_LEN: usize = MAX_REQUEST_OBJECT_LEN + 1024;

/// The longest origin accepted.
const MAX_ORIGIN_LEN: usize = 2048;

/// The most signatures a multi-signed request may carry (one per trust framework).
const MAX_SIGNATURES: usize = 8;

/// The `protocol` of a DC API request (Appendix A.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DcApiProtocol {
    /// `openid4vp-v1-unsigned`.
    Unsigned,
    /// `openid4vp-v1-signed`.
    Signed,
    /// `openid4vp-v1-multisigned`.
    MultiSigned,
}

impl DcApiProtocol {
    /// The protocol identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            DcApiProtocol::Unsigned => PROTOCOL_UNSIGNED,
            DcApiProtocol::Signed => PROTOCOL_SIGNED,
            DcApiProtocol::MultiSigned => PROTOCOL_MULTISIGNED,
        }
    }

    /// Parses a protocol identifier; any other is [`Oid4vpError::UnsupportedDcApiProtocol`].
    pub fn parse(protocol: &str) -> Result<Self, Oid4vpError> {
        match protocol {
            PROTOCOL_UNSIGNED => Ok(DcApiProtocol::Unsigned),
            PROTOCOL_SIGNED => Ok(DcApiProtocol::Signed),
            PROTOCOL_MULTISIGNED => Ok(DcApiProtocol::MultiSigned),
            other => Err(Oid4vpError::UnsupportedDcApiProtocol { found: truncate(other) }),
        }
    }
}

/// A web origin as the platform reports it and as `expected_origins` lists it:
/// `https://host[:port]`, nothing after the authority.
///
/// Appendix A.2 compares origins as strings, without normalisation, so none is done here
/// either: `https://Desk.example` and `https://desk.example` are different origins. Only
/// `https` is accepted (Appendix A.2 allows `http` only for local development).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(String);

impl Origin {
    /// Parses an origin; see the type's documentation for the rules.
    pub fn parse(origin: &str) -> Result<Self, Oid4vpError> {
        let refuse = |reason| Oid4vpError::InvalidOrigin { origin: truncate(origin), reason };
        if origin.len() > MAX_ORIGIN_LEN {
            return Err(refuse("longer than 2048 bytes"));
        }
        let authority = origin.strip_prefix("https://").ok_or_else(|| refuse("the scheme is not https"))?;
        if authority.is_empty() || authority.starts_with(':') || authority.ends_with(':') {
            return Err(refuse("there is no host"));
        }
        if authority.bytes().any(|b| matches!(b, b'/' | b'?' | b'#' | b'@') || b <= b' ' || b >= 0x7f) {
            return Err(refuse("an origin is scheme, host and port only (no path, query, user or fragment)"));
        }
        // Host and port as a browser serializes an origin: a lowercase DNS name or IPv4
        // address, or a bracketed IPv6 address; a port only when it is not 443.
        let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
            let (address, after) = rest.split_once(']').ok_or_else(|| refuse("an IPv6 host lacks its closing ]"))?;
            if address.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(refuse("the bracketed host is not an IPv6 address"));
            }
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(|| refuse("only a port may follow the host"))?),
            };
            (None, port)
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (Some(host), Some(port)),
                None => (Some(authority), None),
            }
        };
        if let Some(host) = host {
            let label_ok = |label: &str| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            };
            if !host.split('.').all(label_ok) {
                return Err(refuse("the host is not a lowercase DNS name or address, as a browser writes it"));
            }
        }
        if let Some(port) = port {
            match port.parse::<u16>() {
                Ok(443) => return Err(refuse("a browser leaves the default port 443 out of an origin")),
                Ok(0) | Err(_) => return Err(refuse("the port is not a number from 1 to 65535")),
                Ok(_) if port.starts_with('0') => return Err(refuse("the port has a leading zero")),
                Ok(_) => {}
            }
        }
        Ok(Origin(origin.to_owned()))
    }

    /// The origin of a client identifier `origin:<origin>`.
    pub fn from_client_id(client_id: &str) -> Result<Self, Oid4vpError> {
        let origin = client_id
            .strip_prefix(ORIGIN_CLIENT_ID_PREFIX)
            .ok_or(Oid4vpError::InvalidClientId { reason: "the client_id prefix is not origin" })?;
        Origin::parse(origin)
    }

    /// The origin as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `origin:<origin>`: the audience of the response's key binding (Appendix A.4), and the
    /// client identifier an unsigned request is read with.
    pub fn audience(&self) -> String {
        format!("{ORIGIN_CLIENT_ID_PREFIX}{}", self.0)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks `expected_origins` when present: a non-empty array of [`Origin`]s (Appendix A.2).
pub(crate) fn check_expected_origins(value: Option<&Value>) -> Result<(), Oid4vpError> {
    if let Some(value) = value {
        expected_origins_of(value)?;
    }
    Ok(())
}

fn expected_origins_of(value: &Value) -> Result<Vec<Origin>, Oid4vpError> {
    let list = value
        .as_array()
        .filter(|list| !list.is_empty())
        .ok_or(Oid4vpError::InvalidExpectedOrigins { reason: "not a non-empty array" })?;
    list.iter()
        .map(|entry| {
            let text =
                entry.as_str().ok_or(Oid4vpError::InvalidExpectedOrigins { reason: "an entry is not a string" })?;
            Origin::parse(text)
        })
        .collect()
}

impl AuthorizationRequest {
    /// Whether the request is one over the Digital Credentials API (`response_mode` `dc_api`
    /// or `dc_api.jwt`).
    pub fn is_dc_api(&self) -> bool {
        self.response_mode == RESPONSE_MODE_DC_API || self.response_mode == RESPONSE_MODE_DC_API_JWT
    }

    /// Makes the request one for the Digital Credentials API (Appendix A.2): `dc_api`, or
    /// `dc_api.jwt` when it already asks for an encrypted response
    /// ([`AuthorizationRequest::with_encrypted_response`]); no `response_uri`, no `state` (not
    /// defined over the API); `expected_origins` set to `expected` (required for signed
    /// requests, not sent in unsigned ones).
    pub fn for_dc_api(mut self, expected: &[Origin]) -> Self {
        self.response_mode =
            if self.wants_encrypted_response() { RESPONSE_MODE_DC_API_JWT } else { RESPONSE_MODE_DC_API }.to_owned();
        self.response_uri.clear();
        self.state = None;
        if expected.is_empty() {
            self.extensions.remove(EXPECTED_ORIGINS);
        } else {
            let list = expected.iter().map(|o| Value::String(o.0.clone())).collect();
            // `expected_origins` is not a reserved name: inserting it cannot fail.
            let _ = self.extensions.insert(EXPECTED_ORIGINS, Value::Array(list));
        }
        self
    }

    /// The request's `expected_origins` (empty when it has none).
    pub fn expected_origins(&self) -> Result<Vec<Origin>, Oid4vpError> {
        match self.extension(EXPECTED_ORIGINS) {
            None => Ok(Vec::new()),
            Some(value) => expected_origins_of(value),
        }
    }

    /// The claims of a signed DC API request object, `client_id` left out when
    /// `without_client_id` (multi-signed: it is in each protected header).
    fn dc_api_claims(&self, now: i64, lifetime: i64, without_client_id: bool) -> Result<Map<String, Value>> {
        self.check_signed_dc_api()?;
        if lifetime <= 0 {
            return Err(Oid4vpError::InvalidLifetime.into());
        }
        let Value::Object(mut claims) =
            serde_json::to_value(self).map_err(|e| Oid4vpError::malformed_json("authorization request", &e))?
        else {
            // A struct always serializes to an object; this branch only satisfies the type.
            return Err(Oid4vpError::MalformedJson { what: "authorization request", line: 0, column: 0 }.into());
        };
        if without_client_id {
            claims.remove("client_id");
        }
        claims.insert("aud".into(), Value::String(SELF_ISSUED_AUDIENCE.into()));
        claims.insert("iat".into(), Value::from(now));
        claims.insert("exp".into(), Value::from(now.saturating_add(lifetime)));
        Ok(claims)
    }

    /// The rules of a signed DC API request: a DC API response mode, a real `client_id`, and
    /// `expected_origins`.
    fn check_signed_dc_api(&self) -> Result<(), Oid4vpError> {
        if !self.is_dc_api() {
            return Err(Oid4vpError::NotDcApiResponseMode { found: truncate(&self.response_mode) });
        }
        self.validate()?;
        self.client()?;
        if self.expected_origins()?.is_empty() {
            return Err(Oid4vpError::MissingParameter { name: EXPECTED_ORIGINS });
        }
        Ok(())
    }
}

/// One signer of a multi-signed request: the client identifier it signs for, its key, and the
/// protected header members that identify the key (`kid` for a DID client, `x5c` for an X.509
/// one). `typ` and `client_id` are added.
pub struct DcApiSignature<'s> {
    /// The client identifier this signature authenticates.
    pub client: ClientId,
    /// The key.
    pub signer: &'s dyn Signer,
    /// The header (with `kid` or `x5c`).
    pub header: Header,
}

impl std::fmt::Debug for DcApiSignature<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DcApiSignature").field("client", &self.client).finish_non_exhaustive()
    }
}

/// What a verifier's page passes to `navigator.credentials.get` as one entry of
/// `digital.requests`: `{"protocol": …, "data": {…}}` (Appendix A.1, A.3).
#[derive(Clone, Debug, PartialEq)]
pub struct DcApiRequest {
    protocol: DcApiProtocol,
    data: Map<String, Value>,
}

impl DcApiRequest {
    /// An unsigned request (`openid4vp-v1-unsigned`): the parameters of `request` (made with
    /// [`AuthorizationRequest::for_dc_api`]) without `client_id` and `expected_origins`, which
    /// Appendix A.2 leaves out of unsigned requests.
    pub fn unsigned(request: &AuthorizationRequest) -> Result<Self> {
        if !request.is_dc_api() {
            return Err(Oid4vpError::NotDcApiResponseMode { found: truncate(&request.response_mode) }.into());
        }
        request.validate()?;
        let Value::Object(mut data) =
            serde_json::to_value(request).map_err(|e| Oid4vpError::malformed_json("authorization request", &e))?
        else {
            return Err(Oid4vpError::MalformedJson { what: "authorization request", line: 0, column: 0 }.into());
        };
        data.remove("client_id");
        data.remove(EXPECTED_ORIGINS);
        Ok(DcApiRequest { protocol: DcApiProtocol::Unsigned, data })
    }

    /// A signed request (`openid4vp-v1-signed`): `request_object` is the compact JWS of a
    /// request made with [`AuthorizationRequest::for_dc_api`] and signed as a request object
    /// ([`AuthorizationRequest::sign`] or [`AuthorizationRequest::sign_x509`]); it must name
    /// `expected_origins`.
    pub fn signed(request_object: impl Into<String>) -> Self {
        let mut data = Map::new();
        data.insert("request".into(), Value::String(request_object.into()));
        DcApiRequest { protocol: DcApiProtocol::Signed, data }
    }

    /// A multi-signed request (`openid4vp-v1-multisigned`, Appendix A.3.2): `request` signed
    /// once per entry of `signatures` in one JWS JSON general serialization, each protected
    /// header carrying its `client_id` (the payload carries none). The request's own
    /// `client_id` is not sent.
    pub fn multisigned(
        request: &AuthorizationRequest,
        signatures: &[DcApiSignature<'_>],
        now: i64,
        lifetime: i64,
    ) -> Result<Self> {
        if signatures.is_empty() || signatures.len() > MAX_SIGNATURES {
            return Err(
                Oid4vpError::InvalidDcApiRequest { reason: "a multi-signed request has 1 to 8 signatures" }.into()
            );
        }
        let claims = request.dc_api_claims(now, lifetime, true)?;
        let payload = serde_json::to_vec(&claims).map_err(|e| Oid4vpError::malformed_json("request object", &e))?;
        let mut list = Vec::new();
        let mut payload_b64 = String::new();
        for entry in signatures {
            let header = entry
                .header
                .clone()
                .with_typ(REQUEST_OBJECT_TYP)
                .with_member("client_id", Value::String(entry.client.to_string()));
            let compact = jws::sign_compact(&header, &payload, entry.signer)?;
            let mut parts = compact.split('.');
            let (Some(protected), Some(body), Some(signature)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(Oid4vpError::InvalidDcApiRequest { reason: "a signature is not a compact JWS" }.into());
            };
            payload_b64 = body.to_owned();
            let mut object = Map::new();
            object.insert("protected".into(), Value::String(protected.to_owned()));
            object.insert("signature".into(), Value::String(signature.to_owned()));
            list.push(Value::Object(object));
        }
        let mut general = Map::new();
        general.insert("payload".into(), Value::String(payload_b64));
        general.insert("signatures".into(), Value::Array(list));
        let mut data = Map::new();
        data.insert("request".into(), Value::Object(general));
        Ok(DcApiRequest { protocol: DcApiProtocol::MultiSigned, data })
    }

    /// The protocol.
    pub fn protocol(&self) -> DcApiProtocol {
        self.protocol
    }

    /// The `data` member.
    pub fn data(&self) -> &Map<String, Value> {
        &self.data
    }

    /// The `{"protocol": …, "data": …}` object for `navigator.credentials.get`.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("protocol".into(), Value::String(self.protocol.as_str().into()));
        object.insert("data".into(), Value::Object(self.data.clone()));
        Value::Object(object)
    }

    /// Reads `{"protocol": …, "data": …}` strictly (at most [`MAX_DC_API_REQUEST_LEN`]
    /// bytes, no member twice, no other member), with `data` of the protocol's shape: an
    /// object for unsigned; `{"request": <compact JWS>}` for signed; `{"request": {"payload",
    /// "signatures"}}` for multi-signed.
    pub fn from_json(text: &str) -> Result<Self, Oid4vpError> {
        if text.len() > MAX_DC_API_REQUEST_LEN {
            return Err(Oid4vpError::TooLarge {
                what: "DC API request",
                len: text.len(),
                limit: MAX_DC_API_REQUEST_LEN,
            });
        }
        let value: Value =
            schooltas_did::strict_json::from_str_or(text, |e| Oid4vpError::malformed_json("DC API request", &e))?;
        let Value::Object(mut object) = value else {
            return Err(Oid4vpError::InvalidDcApiRequest { reason: "not a JSON object" });
        };
        let protocol = match object.remove("protocol") {
            Some(Value::String(protocol)) => DcApiProtocol::parse(&protocol)?,
            _ => return Err(Oid4vpError::InvalidDcApiRequest { reason: "protocol is missing or not a string" }),
        };
        let Some(Value::Object(data)) = object.remove("data") else {
            return Err(Oid4vpError::InvalidDcApiRequest { reason: "data is missing or not an object" });
        };
        if !object.is_empty() {
            return Err(Oid4vpError::InvalidDcApiRequest { reason: "members other than protocol and data" });
        }
        let request = DcApiRequest { protocol, data };
        request.check_shape()?;
        Ok(request)
    }

    fn check_shape(&self) -> Result<(), Oid4vpError> {
        match self.protocol {
            DcApiProtocol::Unsigned => {
                // Appendix A.2: `request` (and by-reference parameters) are for signed requests.
                for name in ["request", "request_uri"] {
                    if self.data.contains_key(name) {
                        return Err(Oid4vpError::InvalidDcApiRequest {
                            reason: "an unsigned request carries its parameters, not request or request_uri",
                        });
                    }
                }
                Ok(())
            }
            DcApiProtocol::Signed => match (self.data.get("request"), self.data.len()) {
                (Some(Value::String(jws)), 1) if jws.split('.').count() == 3 => Ok(()),
                _ => Err(Oid4vpError::InvalidDcApiRequest {
                    reason: "a signed request's data is exactly {\"request\": <compact JWS>}",
                }),
            },
            DcApiProtocol::MultiSigned => match (self.data.get("request"), self.data.len()) {
                (Some(Value::Object(_)), 1) => self.general_signatures().map(|_| ()),
                _ => Err(Oid4vpError::InvalidDcApiRequest {
                    reason: "a multi-signed request's data is exactly {\"request\": <JWS JSON serialization>}",
                }),
            },
        }
    }

    /// The signatures of a multi-signed request, each as a compact JWS
    /// (`protected.payload.signature`).
    fn general_signatures(&self) -> Result<Vec<String>, Oid4vpError> {
        let bad = |reason| Oid4vpError::InvalidDcApiRequest { reason };
        let Some(Value::Object(general)) = self.data.get("request") else {
            return Err(bad("the request is not a JWS JSON serialization"));
        };
        let (Some(Value::String(payload)), Some(Value::Array(signatures)), 2) =
            (general.get("payload"), general.get("signatures"), general.len())
        else {
            return Err(bad("a JWS JSON general serialization has exactly payload and signatures"));
        };
        if signatures.is_empty() || signatures.len() > MAX_SIGNATURES {
            return Err(bad("a multi-signed request has 1 to 8 signatures"));
        }
        if !base64url::is_alphabet(payload) {
            return Err(bad("the payload is not base64url"));
        }
        signatures
            .iter()
            .map(|entry| {
                // Appendix A.3.2: every parameter is in the protected header; an unprotected
                // `header` could carry a client_id nobody signed.
                match (entry.get("protected"), entry.get("signature"), entry.as_object().map(Map::len)) {
                    (Some(Value::String(protected)), Some(Value::String(signature)), Some(2)) => {
                        Ok(format!("{protected}.{payload}.{signature}"))
                    }
                    _ => Err(bad("each signature has exactly protected and signature")),
                }
            })
            .collect()
    }

    /// The wallet's reading of an unsigned request passed by `origin` (the origin the
    /// platform reports): the request with `client_id` = `origin:<origin>` (any `client_id`
    /// and `expected_origins` in it are ignored, Appendix A.2), after the DC API rules and
    /// the request's own ([`AuthorizationRequest::validate`]). Refused for a signed request.
    ///
    /// Whether the origin is a verifier the wallet trusts is the wallet's decision.
    pub fn read_unsigned(&self, origin: &Origin) -> Result<AuthorizationRequest, Oid4vpError> {
        if self.protocol != DcApiProtocol::Unsigned {
            return Err(Oid4vpError::InvalidDcApiRequest { reason: "a signed request must be verified" });
        }
        let mut claims = self.data.clone();
        claims.insert("client_id".into(), Value::String(origin.audience()));
        claims.remove(EXPECTED_ORIGINS);
        // `state` is not defined over the DC API (Appendix A.2): ignored.
        claims.remove("state");
        check_dc_api_claims(&claims)?;
        AuthorizationRequest::from_claims(claims)
    }

    /// The wallet's reading of a signed or multi-signed request passed by `origin`.
    ///
    /// `key_for` is called as for [`super::UnverifiedRequestObject::verify_with_client`]: it
    /// gets the protected header and the parsed client identifier and returns the key (after
    /// checking that the client is one the wallet trusts). For a multi-signed request it is
    /// called for each signature in turn until one verifies; the request is that signature's,
    /// with its `client_id`. Then: the DC API rules (a `dc_api` response mode, no
    /// `response_uri`/`redirect_uri`), `expected_origins` present and containing `origin`
    /// exactly ([`Oid4vpError::OriginNotExpected`]).
    pub fn verify_signed(
        &self,
        origin: &Origin,
        mut key_for: impl FnMut(&Header, &ClientId) -> Result<VerifyingKey>,
        now: i64,
        skew: i64,
    ) -> Result<AuthorizationRequest> {
        let request = match self.protocol {
            DcApiProtocol::Unsigned => {
                return Err(Oid4vpError::InvalidDcApiRequest { reason: "an unsigned request has no signature" }.into());
            }
            DcApiProtocol::Signed => {
                let Some(Value::String(compact)) = self.data.get("request") else {
                    return Err(Oid4vpError::InvalidDcApiRequest { reason: "the signed request is missing" }.into());
                };
                let jws = CompactJws::parse_with_limit(compact, MAX_REQUEST_OBJECT_LEN)?;
                check_dc_api_claims(&unverified_claims(&jws)?)?;
                verify_request_jws(&jws, ClientIdIn::Payload, &mut key_for, now, skew)?
            }
            DcApiProtocol::MultiSigned => {
                let mut last: Option<crate::Error> = None;
                let mut found = None;
                for compact in self.general_signatures()? {
                    let attempt = CompactJws::parse_with_limit(&compact, MAX_REQUEST_OBJECT_LEN)
                        .map_err(crate::Error::from)
                        .and_then(|jws| {
                            check_dc_api_claims(&unverified_claims(&jws)?)?;
                            verify_request_jws(&jws, ClientIdIn::Header, &mut key_for, now, skew)
                        });
                    match attempt {
                        Ok(request) => {
                            found = Some(request);
                            break;
                        }
                        Err(error) => last = Some(error),
                    }
                }
                match found {
                    Some(request) => request,
                    None => {
                        let last = last.map(|e| e.to_string()).unwrap_or_default();
                        return Err(Oid4vpError::NoTrustedSignature { last: truncate(&last) }.into());
                    }
                }
            }
        };
        if !request.is_dc_api() {
            return Err(Oid4vpError::NotDcApiResponseMode { found: truncate(&request.response_mode) }.into());
        }
        let expected = request.expected_origins()?;
        if expected.is_empty() {
            return Err(Oid4vpError::MissingParameter { name: EXPECTED_ORIGINS }.into());
        }
        // Appendix A.2: simple string comparison, no normalisation of either side.
        if !expected.iter().any(|o| o.as_str() == origin.as_str()) {
            return Err(Oid4vpError::OriginNotExpected { origin: truncate(origin.as_str()) }.into());
        }
        Ok(request)
    }
}

fn unverified_claims(jws: &CompactJws<'_>) -> Result<Map<String, Value>, crate::Error> {
    Ok(schooltas_did::strict_json::from_slice_or(&jws.dangerous_unverified_payload()?, |e| {
        Oid4vpError::malformed_json("request object", &e)
    })?)
}

/// Appendix A.2 on the parameters, before anything else: a DC API response mode, no
/// `response_uri`, `redirect_uri` or `request_uri`, a nonce.
fn check_dc_api_claims(claims: &Map<String, Value>) -> Result<(), Oid4vpError> {
    match claims.get("response_mode").and_then(Value::as_str) {
        Some(RESPONSE_MODE_DC_API | RESPONSE_MODE_DC_API_JWT) => {}
        Some(other) => return Err(Oid4vpError::NotDcApiResponseMode { found: truncate(other) }),
        None => return Err(Oid4vpError::MissingParameter { name: "response_mode" }),
    }
    for name in ["response_uri", "redirect_uri", "request_uri"] {
        if claims.contains_key(name) {
            return Err(Oid4vpError::DcApiParameterNotAllowed {
                name: match name {
                    "response_uri" => "response_uri",
                    "redirect_uri" => "redirect_uri",
                    _ => "request_uri",
                },
            });
        }
    }
    if !claims.contains_key("nonce") {
        return Err(Oid4vpError::MissingParameter { name: "nonce" });
    }
    Ok(())
}

impl AuthorizationResponse {
    /// The `data` of a `dc_api.jwt` answer: `{"response": <JWE>}`, the response parameters
    /// ([`AuthorizationResponse::to_json`]) encrypted to `encryption`.
    pub fn to_dc_api_jwt(&self, encryption: &super::ResponseEncryption) -> Result<Value, Oid4vpError> {
        let Value::Object(parameters) = self.to_json() else {
            return Err(Oid4vpError::InvalidVpToken { reason: "the response is not a JSON object" });
        };
        let mut object = Map::new();
        object.insert("response".into(), Value::String(encryption.encrypt_to_jwe(&parameters)?));
        Ok(Value::Object(object))
    }
}

/// The JWE of a `dc_api.jwt` answer's `data` (`{"response": <JWE>}` as JSON text): a plaintext
/// error object (`{"error": …}`) is [`Oid4vpError::ErrorResponse`]; anything else without
/// `response`, or with members beside it, [`Oid4vpError::UnencryptedResponse`].
fn dc_api_jwe(text: &str) -> Result<String, Oid4vpError> {
    if text.len() > MAX_RESPONSE_LEN {
        return Err(Oid4vpError::TooLarge { what: "authorization response", len: text.len(), limit: MAX_RESPONSE_LEN });
    }
    let value: Value =
        schooltas_did::strict_json::from_str_or(text, |e| Oid4vpError::malformed_json("DC API response", &e))?;
    let Value::Object(object) = value else {
        return Err(Oid4vpError::UnencryptedResponse);
    };
    if let Some(error) = object.get("error").and_then(Value::as_str) {
        return Err(Oid4vpError::ErrorResponse { error: truncate(error) });
    }
    match (object.get("response"), object.len()) {
        (Some(Value::String(jwe)), 1) => Ok(jwe.clone()),
        _ => Err(Oid4vpError::UnencryptedResponse),
    }
}

/// Decrypts the `data` of a `dc_api.jwt` answer (`{"response": <JWE>}`) with `key`, accepting
/// only the content encryptions `offered`, to the JSON text of the response parameters.
pub fn decrypt_dc_api_response(
    text: &str,
    key: &EncryptionKey,
    offered: &[ContentEncryption],
) -> Result<String, Oid4vpError> {
    let jwe = dc_api_jwe(text)?;
    let plaintext = schooltas_jwe::decrypt(&jwe, key, offered)?;
    String::from_utf8(plaintext.to_vec())
        .map_err(|_| Oid4vpError::InvalidVpToken { reason: "the decrypted response is not UTF-8" })
}

/// The `kid` in the JWE header of a `dc_api.jwt` answer, so that a verifier with a key per
/// request finds the key; refused as [`decrypt_dc_api_response`] refuses.
pub fn dc_api_response_kid(text: &str) -> Result<Option<String>, Oid4vpError> {
    let jwe = dc_api_jwe(text)?;
    Ok(schooltas_jwe::ParsedJwe::parse(&jwe)?.header().kid.clone())
}
