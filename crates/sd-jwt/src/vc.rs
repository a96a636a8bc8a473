//! SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): the `vct` type identifier and the registered claims.

use std::fmt;

use schooltas_did::jws::Header;
use schooltas_did::{Did, DidUrl, Resolver, VerificationRelationship, VerifyingKey};
use serde_json::Value;

use crate::{Error, Result};

/// The key of an issuer identified by a DID: the `kid` header (a DID URL, or a `#fragment`
/// relative to `iss`) must name an `assertionMethod` key of the DID in `iss`, for the header's
/// algorithm. Pass it to [`super::UnverifiedSdJwt::verify_with`]:
///
/// ```no_run
/// # use schooltas_sd_jwt::{issuer_key_via_did, UnverifiedSdJwt, VerifyOptions};
/// # use schooltas_did::Resolver;
/// # fn f(presentation: &str, options: &VerifyOptions) -> schooltas_sd_jwt::Result<()> {
/// let resolver = Resolver::offline();
/// let verified = UnverifiedSdJwt::parse(presentation)?
///     .verify_with(|header, iss| issuer_key_via_did(&resolver, header, iss), options, 1_800_000_000)?;
/// # Ok(()) }
/// ```
///
/// Whether that issuer may issue this type is the trust list's question, not answered here.
pub fn issuer_key_via_did(resolver: &Resolver, header: &Header, iss: Option<&str>) -> Result<VerifyingKey> {
    let iss = iss.ok_or(Error::IssuerKey { reason: "the credential has no iss" })?;
    let did = Did::parse(iss).map_err(|_| Error::IssuerKey { reason: "iss is not a DID" })?;
    let kid = header.kid().ok_or(Error::IssuerKey { reason: "the credential header has no kid" })?;
    let url = if kid.starts_with('#') { DidUrl::parse(&format!("{iss}{kid}")) } else { DidUrl::parse(kid) }
        .map_err(|_| Error::IssuerKey { reason: "kid is not a DID URL" })?;
    if url.did() != &did {
        return Err(Error::IssuerKey { reason: "kid names a key of another DID than iss" });
    }
    let alg = header.alg().ok_or(Error::IssuerKey { reason: "the credential header has no supported alg" })?;
    Ok(resolver.verifying_key(&url, VerificationRelationship::AssertionMethod, alg)?)
}

/// Registered claims that an SD-JWT VC must never make selectively disclosable
/// (SD-JWT VC §3.2.2.2): a verifier needs them to decide whether to trust the credential at all.
pub const NEVER_DISCLOSABLE: [&str; 7] = ["iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"];

/// A verifiable credential type (`vct`, SD-JWT VC §3.2.2.1.1): a case-sensitive string,
/// usually a URI such as `https://schooltas.example/credentials/enrolment`.
///
/// ```
/// use schooltas_sd_jwt::Vct;
/// let vct = Vct::new("https://schooltas.example/credentials/enrolment")?;
/// assert_eq!(vct.as_str(), "https://schooltas.example/credentials/enrolment");
/// assert!(Vct::new("").is_err());
/// assert!(Vct::new("has space").is_err());
/// # Ok::<(), schooltas_sd_jwt::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vct(String);

impl Vct {
    /// The longest `vct` accepted.
    pub const MAX_LEN: usize = 2048;

    /// Validates a `vct`: non-empty, at most 2048 bytes, no whitespace or control characters.
    pub fn new(value: impl Into<String>) -> Result<Self> {
        let value = value.into();
        let invalid = |reason| Error::InvalidPayload { reason: format!("invalid vct: {reason}") };
        if value.is_empty() {
            return Err(invalid("empty"));
        }
        if value.len() > Self::MAX_LEN {
            return Err(invalid("longer than 2048 bytes"));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("contains whitespace or control characters"));
        }
        Ok(Vct(value))
    }

    /// The type identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Vct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Vct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vct({})", self.0)
    }
}

/// Where an `https` issuer's JWT VC Issuer Metadata is (SD-JWT VC §5): `/.well-known/jwt-vc-issuer`
/// inserted between the host and the path of `iss`, a trailing `/` of the path removed.
/// Refused: an `iss` that is not an `https` URL with a host, or has a query or fragment.
///
/// ```
/// use schooltas_sd_jwt::jwt_vc_issuer_metadata_url;
/// assert_eq!(jwt_vc_issuer_metadata_url("https://example.com")?, "https://example.com/.well-known/jwt-vc-issuer");
/// assert_eq!(
///     jwt_vc_issuer_metadata_url("https://example.com/tenant/1234")?,
///     "https://example.com/.well-known/jwt-vc-issuer/tenant/1234"
/// );
/// assert!(jwt_vc_issuer_metadata_url("did:web:example.com").is_err());
/// # Ok::<(), schooltas_sd_jwt::Error>(())
/// ```
pub fn jwt_vc_issuer_metadata_url(iss: &str) -> Result<String> {
    let refuse = |reason| Error::IssuerKey { reason };
    let rest = iss.strip_prefix("https://").ok_or(refuse("iss is not an https URL"))?;
    if rest.contains(['?', '#']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse("an https iss has no query, fragment or whitespace"));
    }
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(host, path)| (host, path));
    if host.is_empty() || host.contains('@') {
        return Err(refuse("an https iss names a host (and no user information)"));
    }
    let path = path.trim_end_matches('/');
    Ok(if path.is_empty() {
        format!("https://{host}/.well-known/jwt-vc-issuer")
    } else {
        format!("https://{host}/.well-known/jwt-vc-issuer/{path}")
    })
}

/// Where JWT VC Issuer Metadata says the issuer's keys are (SD-JWT VC §5.2).
#[derive(Clone, Debug, PartialEq)]
pub enum IssuerMetadataKeys {
    /// `jwks`: the JWK set itself.
    Inline(Value),
    /// `jwks_uri`: an `https` URL of the JWK set, to fetch (with the same guards).
    ByReference(String),
}

/// Reads JWT VC Issuer Metadata as fetched for `iss` (SD-JWT VC §5.2–5.3): a strict JSON
/// object whose `issuer` is exactly `iss` (otherwise its content must not be used), with
/// exactly one of `jwks` and `jwks_uri` (an `https` URL).
pub fn issuer_metadata_keys(metadata: &[u8], iss: &str) -> Result<IssuerMetadataKeys> {
    let refuse = |reason| Error::IssuerKey { reason };
    let value = schooltas_did::strict_json::to_value(metadata)
        .map_err(|_| refuse("the JWT VC Issuer Metadata is not strict JSON"))?;
    let object = value.as_object().ok_or(refuse("the JWT VC Issuer Metadata is not a JSON object"))?;
    if object.get("issuer").and_then(Value::as_str) != Some(iss) {
        return Err(refuse("the JWT VC Issuer Metadata names another issuer than the credential's iss"));
    }
    match (object.get("jwks"), object.get("jwks_uri")) {
        (Some(jwks @ Value::Object(_)), None) => Ok(IssuerMetadataKeys::Inline(jwks.clone())),
        (None, Some(Value::String(uri))) if uri.starts_with("https://") => {
            Ok(IssuerMetadataKeys::ByReference(uri.clone()))
        }
        (Some(_), Some(_)) => Err(refuse("the JWT VC Issuer Metadata has both jwks and jwks_uri")),
        (None, None) => Err(refuse("the JWT VC Issuer Metadata has neither jwks nor jwks_uri")),
        _ => Err(refuse("the JWT VC Issuer Metadata's jwks is not an object, or jwks_uri not an https URL")),
    }
}

/// The key in a JWK set (RFC 7517 §5) that verifies a JWT with `header`: the one whose `kid`
/// is the header's (or, when the header has no `kid`, the only key of the header's algorithm),
/// of the header's algorithm, its `alg` (when given) the header's, and its `use` (when given)
/// `sig`. Private members refuse the key.
pub fn key_from_jwk_set(jwks: &Value, header: &Header) -> Result<VerifyingKey> {
    let refuse = |reason| Error::IssuerKey { reason };
    let alg = header.alg().ok_or(refuse("the header has no supported alg"))?;
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or(refuse("the JWK set has no keys array"))?;
    let usable = |jwk: &Value| -> Option<VerifyingKey> {
        let jwk = jwk.as_object()?;
        if ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|member| jwk.contains_key(*member)) {
            return None;
        }
        if jwk.get("use").is_some_and(|u| u != "sig") || jwk.get("alg").is_some_and(|a| a != alg.as_str()) {
            return None;
        }
        let key = VerifyingKey::from_jwk(jwk).ok()?;
        (key.algorithm() == alg).then_some(key)
    };
    match header.kid() {
        Some(kid) => {
            let named: Vec<&Value> =
                keys.iter().filter(|jwk| jwk.get("kid").and_then(Value::as_str) == Some(kid)).collect();
            match named.as_slice() {
                [one] => {
                    usable(one).ok_or(refuse("the key the kid names is not a public signing key for the header's alg"))
                }
                [] => Err(refuse("no key in the issuer's JWK set has the header's kid")),
                _ => Err(refuse("several keys in the issuer's JWK set have the header's kid")),
            }
        }
        None => {
            let candidates: Vec<VerifyingKey> = keys.iter().filter_map(usable).collect();
            match candidates.as_slice() {
                [one] => Ok(one.clone()),
                [] => Err(refuse("no key in the issuer's JWK set fits the header's alg")),
                _ => Err(refuse("the header has no kid and the issuer's JWK set has several keys for its alg")),
            }
        }
    }
}
