//! SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): the `vct` type identifier and the registered claims.

use std::fmt;

use schooltas_did::jws::Header;
use schooltas_did::{Did, DidUrl, Resolver, VerificationRelationship, VerifyingKey};

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
